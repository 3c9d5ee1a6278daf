//! The collector's own telemetry: metrics with the Go Collector's names and labels, and
//! the configuration of `service::telemetry`.
//!
//! Components record through the handles here ([`ReceiverMetrics`], [`ExporterMetrics`], or
//! their own [`Counter`]s and [`Gauge`]s from the [`MetricsRegistry`] in their
//! [`CreateSettings`](crate::component::CreateSettings)); the service serves the registry in
//! the Prometheus text format and pushes it over OTLP. The same registry carries the
//! collector's [`Tracer`]: receivers and exporters record a span per operation, named and
//! attributed as the Go Collector's obsreport does.
//!
//! # Names, as dashboards see them
//!
//! Metrics are registered under the Go Collector's names (`otelcol_` prefix, no suffix).
//! How they are exposed depends on the reader, as in Go (checked against Go's
//! `otelconftelemetry` defaults and its Prometheus exporter; CHANGELOG #11611):
//!
//! | where | counter | gauge with a unit | scope labels |
//! |---|---|---|---|
//! | default endpoint (no `readers`; or the deprecated `address`) | `otelcol_receiver_accepted_spans` | `otelcol_process_memory_rss` | none |
//! | a configured `pull` reader (`without_*` left false) | `otelcol_receiver_accepted_spans_total` | `otelcol_process_memory_rss_bytes` | `otel_scope_name`, `otel_scope_version` |
//! | the same with `without_type_suffix` / `without_units` / `without_scope_info: true` | no `_total` | no unit | none |
//! | a `periodic` reader (OTLP) | `otelcol_receiver_accepted_spans`, a cumulative monotonic sum | `otelcol_process_memory_rss`, a gauge | the instrumentation scope |
//!
//! Units are added to the process metrics (`_seconds`, `_bytes`) as Go's exporter does;
//! the item counters' units (`{spans}`) add nothing. The scope names are Go's
//! (`go.opentelemetry.io/collector/receiver/receiverhelper`, `.../exporter/exporterhelper`,
//! `.../processor/processorhelper`, `.../processor/batchprocessor`,
//! `go.opentelemetry.io/collector/service`) so that queries filtering on them keep
//! working. `target_info` carries the resource and no scope labels.
//!
//! # Spans
//!
//! | span | when | attributes |
//! |---|---|---|
//! | `receiver/<id>/TraceDataReceived` (`MetricsReceived`, `LogsReceived`) | each request a receiver hands to its pipeline ([`deliver`](crate::receiverhelper::deliver)) | `transport`, `accepted_<items>`, `refused_<items>`; error status when refused |
//! | `exporter/<id>/<signal>` | each send of the exporter helper, retries included | `exporter`, `sent_<items>`, `send_failed_<items>`; error status when given up |
//!
//! Each span is the root of its own trace: the collector does not carry a context from
//! the receive to the export through its queues.

pub mod config;
mod connector_metrics;
mod exporter_metrics;
mod metrics;
mod processor_metrics;
mod receiver_metrics;
mod spans;

pub use connector_metrics::ConnectorMetrics;
pub use exporter_metrics::ExporterMetrics;
pub(crate) use metrics::scope_name;
pub use metrics::{
    Counter, Gauge, GaugeFn, MetricKind, MetricSnapshot, MetricsRegistry, PrometheusNaming,
};
pub use processor_metrics::ProcessorMetrics;
pub use receiver_metrics::ReceiverMetrics;
pub use spans::{FinishedSpan, SinkRegistration, SpanSink, SpanValue, Tracer};
