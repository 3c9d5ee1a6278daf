//! The collector's own telemetry: metrics with the Go Collector's names and labels.
//!
//! Components record through the handles here ([`ReceiverMetrics`], [`ExporterMetrics`], or
//! their own [`Counter`]s and [`Gauge`]s from the [`MetricsRegistry`] in their
//! [`CreateSettings`](crate::component::CreateSettings)); the service serves the registry in
//! the Prometheus text format.

mod connector_metrics;
mod exporter_metrics;
mod metrics;
mod processor_metrics;
mod receiver_metrics;

pub use connector_metrics::ConnectorMetrics;
pub use exporter_metrics::ExporterMetrics;
pub use metrics::{Counter, Gauge, GaugeFn, MetricsRegistry};
pub use processor_metrics::ProcessorMetrics;
pub use receiver_metrics::ReceiverMetrics;
