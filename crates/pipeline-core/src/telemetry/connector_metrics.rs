//! Connector metrics: `otelcol_connector_{consumed,produced}_items`.

use std::fmt::Display;

use super::{Counter, MetricsRegistry};
use crate::pdata::Signal;

/// Counts the items one connector instance was given and the items it handed to each
/// pipeline it feeds. The framework records them for every connector.
///
/// The Go Collector has no connector metrics in its classic set (a connector is neither
/// counted as a receiver nor as an exporter); its pipeline component telemetry names them
/// `otelcol.connector.consumed.items` and `otelcol.connector.produced.items` (the latter per
/// `otelcol.pipeline.id`). These are those names in this collector's label style:
/// `otelcol_connector_consumed_items{connector, otel_signal, otel_signal_output}` and
/// `otelcol_connector_produced_items{connector, otel_signal, otel_signal_output, pipeline}`.
#[derive(Clone)]
pub struct ConnectorMetrics {
    /// Items given to the connector.
    pub consumed: Counter,
    registry: MetricsRegistry,
    connector: String,
    from: Signal,
    to: Signal,
}

impl ConnectorMetrics {
    /// The counters of `connector` taking `from` and emitting `to`.
    pub fn new(
        registry: &MetricsRegistry,
        connector: &impl Display,
        from: Signal,
        to: Signal,
    ) -> Self {
        let connector = connector.to_string();
        let consumed = registry.counter(
            "otelcol_connector_consumed_items",
            "Number of items passed to the connector.",
            &[
                ("connector", connector.as_str()),
                ("otel_signal", from.as_str()),
                ("otel_signal_output", to.as_str()),
            ],
        );
        ConnectorMetrics {
            consumed,
            registry: registry.clone(),
            connector,
            from,
            to,
        }
    }

    /// The counter of items the connector handed to `pipeline`.
    pub fn produced(&self, pipeline: &impl Display) -> Counter {
        let pipeline = pipeline.to_string();
        self.registry.counter(
            "otelcol_connector_produced_items",
            "Number of items emitted from the connector.",
            &[
                ("connector", self.connector.as_str()),
                ("otel_signal", self.from.as_str()),
                ("otel_signal_output", self.to.as_str()),
                ("pipeline", pipeline.as_str()),
            ],
        )
    }
}
