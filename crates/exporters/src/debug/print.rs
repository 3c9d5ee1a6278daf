//! What the debug exporter prints of a batch of each signal.

use tributary_pipeline_core::pdata::{Logs, Metrics, SignalData, Traces};

use super::{detailed, normal};

/// A batch the debug exporter can print.
pub(crate) trait Printable: SignalData {
    /// The one-line summary with counts, as the Go exporter logs it:
    /// `Traces\t{"resource spans": 1, "spans": 2}`. Cheap: counts only.
    fn summary(&self) -> String;

    /// `verbosity: normal`: about one line per item.
    fn normal(&self, out: &mut String);

    /// `verbosity: detailed`: everything.
    fn detailed(&self, out: &mut String);
}

impl Printable for Traces {
    fn summary(&self) -> String {
        format!(
            "Traces\t{{\"resource spans\": {}, \"spans\": {}}}",
            self.request().resource_spans.len(),
            self.item_count()
        )
    }

    fn normal(&self, out: &mut String) {
        normal::traces(self.request(), out);
    }

    fn detailed(&self, out: &mut String) {
        detailed::traces(self.request(), out);
    }
}

impl Printable for Metrics {
    fn summary(&self) -> String {
        let request = self.request();
        let metrics: usize = request
            .resource_metrics
            .iter()
            .flat_map(|rm| &rm.scope_metrics)
            .map(|sm| sm.metrics.len())
            .sum();
        format!(
            "Metrics\t{{\"resource metrics\": {}, \"metrics\": {metrics}, \"data points\": {}}}",
            request.resource_metrics.len(),
            self.item_count()
        )
    }

    fn normal(&self, out: &mut String) {
        normal::metrics(self.request(), out);
    }

    fn detailed(&self, out: &mut String) {
        detailed::metrics(self.request(), out);
    }
}

impl Printable for Logs {
    fn summary(&self) -> String {
        format!(
            "Logs\t{{\"resource logs\": {}, \"log records\": {}}}",
            self.request().resource_logs.len(),
            self.item_count()
        )
    }

    fn normal(&self, out: &mut String) {
        normal::logs(self.request(), out);
    }

    fn detailed(&self, out: &mut String) {
        detailed::logs(self.request(), out);
    }
}
