//! The collector's own telemetry: metrics with the Go Collector's names and labels, and
//! the configuration of `service::telemetry`.
//!
//! Components record through the handles here ([`ReceiverMetrics`], [`ExporterMetrics`], or
//! their own [`Counter`]s and [`Gauge`]s from the [`MetricsRegistry`] in their
//! [`CreateSettings`](crate::component::CreateSettings)); the service serves the registry in
//! the Prometheus text format and pushes it over OTLP. The same registry carries the
//! collector's [`Tracer`]: receivers and exporters record a span per operation, named and
//! attributed as the Go Collector's obsreport does.

pub mod config;
mod exporter_metrics;
mod metrics;
mod processor_metrics;
mod receiver_metrics;
mod spans;

pub use exporter_metrics::ExporterMetrics;
pub(crate) use metrics::scope_name;
pub use metrics::{
    Counter, Gauge, GaugeFn, MetricKind, MetricSnapshot, MetricsRegistry, PrometheusNaming,
};
pub use processor_metrics::ProcessorMetrics;
pub use receiver_metrics::ReceiverMetrics;
pub use spans::{FinishedSpan, SinkRegistration, SpanSink, SpanValue, Tracer};
