//! `service::telemetry`: how the collector reports on itself, with the Go Collector's keys
//! and defaults (`service/telemetry/otelconftelemetry` and the OpenTelemetry declarative
//! configuration schema it embeds for readers and processors).
//!
//! ```yaml
//! service:
//!   telemetry:
//!     resource: { deployment.environment: prod }
//!     logs:
//!       level: info
//!       encoding: json
//!       output_paths: [stderr, /var/log/collector.log]
//!       initial_fields: { region: eu-1 }
//!       sampling: { enabled: true, tick: 10s, initial: 10, thereafter: 100 }
//!       processors:
//!         - batch:
//!             exporter: { otlp: { protocol: http/protobuf, endpoint: "http://monitor:4318" } }
//!     metrics:
//!       level: normal
//!       readers:
//!         - pull: { exporter: { prometheus: { host: 127.0.0.1, port: 8888 } } }
//!         - periodic:
//!             interval: 10000
//!             exporter:
//!               otlp:
//!                 protocol: grpc
//!                 endpoint: "https://monitor:4317"
//!                 certificate: /etc/collector/ca.pem
//!                 client_certificate: /etc/collector/client.pem
//!                 client_key: /etc/collector/client.key
//!     traces:
//!       level: basic
//!       propagators: [tracecontext]
//!       processors:
//!         - batch:
//!             exporter: { otlp: { protocol: http/protobuf, endpoint: "http://monitor:4318" } }
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `resource` | `service.name`, `service.version`, `service.instance.id` | attributes of all own telemetry; `null` removes one |
//! | `logs::*` | see [`LogsTelemetryConfig`] | zap's keys: `level`, `development`, `encoding`, `disable_caller`, `disable_stacktrace`, `output_paths`, `error_output_paths`, `initial_fields`, `sampling`, `processors` |
//! | `metrics::level` | `normal` | `none` (nothing recorded or served), `basic`, `normal`, `detailed`; see [`MetricsLevel::shows`] |
//! | `metrics::readers` | a pull reader on `127.0.0.1:8888` | `pull` (Prometheus: `host`, `port`, `without_type_suffix`, `without_units`, `without_scope_info`) and `periodic` (`interval` 60000, `timeout` 30000, `exporter`) |
//! | `metrics::address` | none | deprecated; honoured (Go ignores it since v0.123.0) with a warning |
//! | `metrics::views` | none | refused unless empty |
//! | `traces::level` | `basic` | `none` records no spans |
//! | `traces::propagators` | none | accepted (`tracecontext`, `baggage`, `b3`, `b3multi`, `jaeger`, `xray`, `ottrace`); no effect, no incoming context is used |
//! | `traces::processors`, `logs::processors` | none | `batch` (`schedule_delay` 5000 for spans / 1000 for logs, `export_timeout` 30000, `max_queue_size` 2048, `max_export_batch_size` 512, `exporter`) or `simple` (`exporter`) |
//! | `exporter` | | one of `otlp` (`protocol`: `grpc`, `http/protobuf`, `http/json`), `otlp_http`, `otlp_grpc`, `console`; with `endpoint`, `headers` (map or `[{name, value}]`), `headers_list`, `compression` (`gzip`/`none`), `timeout` (10000), `insecure`, and the TLS keys below |
//! | `exporter::*::endpoint` | | `http://` is plain text, `https://` is TLS; without a scheme (gRPC only) TLS unless `insecure: true`, as in Go |
//! | `exporter::*::certificate` | system roots | PEM file of the CAs of the backend's certificate; also `certificate_file` (schema 0.4), `tls::certificate_file` or `tls::ca_file` (1.0) |
//! | `exporter::*::client_certificate`, `client_key` | none | PEM files of the client certificate and key (mutual TLS); also `client_certificate_file`/`client_key_file`, under `tls::`, or `tls::cert_file`/`tls::key_file` |
//! | `exporter::*::tls::insecure` | `false` | `insecure` as the 1.0 schema spells it |
//!
//! TLS files are read when the telemetry starts and at every reload that changes
//! `service::telemetry`: a missing or invalid file fails that start or reload, naming its
//! key, and a failed reload leaves the running telemetry as it was. TLS files with a
//! plain-text endpoint are refused (Go would silently not use them). ALPN offers `h2` for
//! gRPC and `http/1.1` for HTTP.
//!
//! Refused with a reason: `temporality_preference: delta` (the counters are cumulative),
//! views, and `with_resource_constant_labels`.
//!
//! Durations of the declarative schema (`interval`, `timeout`, `schedule_delay`,
//! `export_timeout`, the exporter's `timeout`) are integers of milliseconds, as in Go;
//! `logs::sampling::tick` is a duration string (`10s`), as zap's is.

mod export;
mod logs;
mod metrics;
mod traces;

use std::collections::BTreeMap;

use serde::Deserialize;

pub use export::{
    BatchProcessorConfig, ExportProcessor, Headers, NameValue, OtlpExporterConfig, OtlpProtocol,
    OtlpTarget, OtlpTls, OtlpTlsConfig, PushExporter, PushTarget, SimpleProcessorConfig, TlsFile,
};
pub use logs::{LogEncoding, LogLevel, LogsSamplingConfig, LogsTelemetryConfig};
pub use metrics::{
    DEFAULT_METRICS_ADDRESS, MetricReader, MetricsTelemetryConfig, PeriodicReader,
    PrometheusEndpoint, PullExporter, PullReader,
};
pub use traces::TracesTelemetryConfig;

/// One problem in `service::telemetry`: its path below `service::telemetry` and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TelemetryConfigError {
    /// The key, relative to `service::telemetry` (`metrics::readers::0::periodic::interval`).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

pub(crate) fn error(path: impl Into<String>, message: impl Into<String>) -> TelemetryConfigError {
    TelemetryConfigError {
        path: path.into(),
        message: message.into(),
    }
}

/// `service::telemetry`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Attributes of the collector's own telemetry, over the defaults `service.name`,
    /// `service.version` and `service.instance.id` (random per process); `null` removes
    /// one. The metrics endpoint shows them on `target_info`, as the Go Collector does.
    pub resource: BTreeMap<String, Option<String>>,
    /// The collector's own metrics.
    pub metrics: MetricsTelemetryConfig,
    /// The collector's own logs.
    pub logs: LogsTelemetryConfig,
    /// The collector's own spans.
    pub traces: TracesTelemetryConfig,
}

impl TelemetryConfig {
    /// Checks what the types alone cannot: every problem, each with its path.
    pub fn validate(&self) -> Vec<TelemetryConfigError> {
        let mut errors = Vec::new();
        self.logs.validate(&mut errors);
        self.metrics.validate(&mut errors);
        self.traces.validate(&mut errors);
        errors
    }
}

/// How much of the collector's own telemetry is recorded: the Go Collector's
/// `configtelemetry.Level`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricsLevel {
    /// Nothing.
    None,
    /// The essentials: receiver, processor and exporter item counts, queues, process.
    Basic,
    /// The default: also the batch processor's metrics.
    #[default]
    Normal,
    /// Everything, including the batch processor's byte sizes.
    Detailed,
}

impl MetricsLevel {
    /// Whether a metric family is recorded at this level. As in the Go Collector: `basic`
    /// has the receiver, processor and exporter counts, queues and process metrics;
    /// `normal` adds the batch processor's; `detailed` adds its byte sizes.
    pub fn shows(self, name: &str) -> bool {
        let level = if name.starts_with("otelcol_processor_batch_") {
            if name.ends_with("_bytes") {
                MetricsLevel::Detailed
            } else {
                MetricsLevel::Normal
            }
        } else {
            MetricsLevel::Basic
        };
        self != MetricsLevel::None && self >= level
    }
}

#[cfg(test)]
mod tests;
