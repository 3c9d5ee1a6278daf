//! The `groupbyattrs` processor's own metrics, with the Go Collector's names.

use tributary_pipeline_core::component::CreateSettings;
use tributary_pipeline_core::telemetry::Counter;

use super::group::Counts;

/// `otelcol_processor_groupbyattrs_num_grouped_<records>` and `..._num_non_grouped_...`,
/// and the `_sum` / `_count` series of Go's `..._<record>_groups` histogram (resources
/// per request), under `processor="<id>"`.
pub(crate) struct GroupingMetrics {
    grouped: Counter,
    not_grouped: Counter,
    groups_sum: Counter,
    groups_count: Counter,
}

impl GroupingMetrics {
    /// `records` is `spans`, `logs` or `metrics`, as in Go's names.
    pub fn new(settings: &CreateSettings, records: &str) -> Self {
        let id = settings.id().to_string();
        let labels = [("processor", id.as_str())];
        let registry = settings.metrics();
        let group = match records {
            "spans" => "span",
            "logs" => "log",
            _ => "metric",
        };
        GroupingMetrics {
            grouped: registry.counter(
                &format!("otelcol_processor_groupbyattrs_num_grouped_{records}"),
                &format!("Number of {records} that had attributes grouped"),
                &labels,
            ),
            not_grouped: registry.counter(
                &format!("otelcol_processor_groupbyattrs_num_non_grouped_{records}"),
                &format!("Number of {records} that did not have attributes grouped"),
                &labels,
            ),
            groups_sum: registry.counter(
                &format!("otelcol_processor_groupbyattrs_{group}_groups_sum"),
                &format!("Resources made of the {records} of each request (histogram sum)"),
                &labels,
            ),
            groups_count: registry.counter(
                &format!("otelcol_processor_groupbyattrs_{group}_groups_count"),
                "Requests regrouped (histogram count)",
                &labels,
            ),
        }
    }

    pub fn record(&self, counts: Counts, groups: usize) {
        self.grouped.add(counts.grouped);
        self.not_grouped.add(counts.not_grouped);
        self.groups_sum.add(groups as u64);
        self.groups_count.inc();
    }
}
