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
//!             exporter: { otlp: { protocol: grpc, endpoint: "http://monitor:4317" } }
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
//! | `exporter` | | one of `otlp` (`protocol`: `grpc`, `http/protobuf`, `http/json`), `otlp_http`, `otlp_grpc`, `console`; with `endpoint`, `headers` (map or `[{name, value}]`), `headers_list`, `compression` (`gzip`/`none`), `timeout` (10000), `insecure` |
//!
//! Refused with a reason: TLS (`https://` endpoints, `certificate`, `client_key`,
//! `client_certificate`: send in plain text to a local collector, which can forward over
//! TLS), `temporality_preference: delta` (the counters are cumulative), views, and
//! `with_resource_constant_labels`.
//!
//! Durations of the declarative schema (`interval`, `timeout`, `schedule_delay`,
//! `export_timeout`, the exporter's `timeout`) are integers of milliseconds, as in Go;
//! `logs::sampling::tick` is a duration string (`10s`), as zap's is.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

/// One problem in `service::telemetry`: its path below `service::telemetry` and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TelemetryConfigError {
    /// The key, relative to `service::telemetry` (`metrics::readers::0::periodic::interval`).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn error(path: impl Into<String>, message: impl Into<String>) -> TelemetryConfigError {
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

/// `service::telemetry::metrics`: the collector's own metrics.
///
/// With no `readers`, the Go Collector serves a Prometheus pull endpoint on
/// `localhost:8888` with `without_type_suffix`, `without_units` and
/// `without_scope_info` all true; this collector does the same on `127.0.0.1:8888`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsTelemetryConfig {
    /// `none`, `basic`, `normal` (default) or `detailed`; `none` records and serves nothing.
    pub level: MetricsLevel,
    /// Where the Prometheus endpoint listens when no pull reader is configured. The Go
    /// Collector ignores this key since v0.123.0 (silently, a known trap); this collector
    /// still honours it and logs that it is deprecated.
    pub address: Option<String>,
    /// Metric readers: `pull` (a Prometheus endpoint) and `periodic` (OTLP push).
    pub readers: Vec<MetricReader>,
    /// Accepted as Go does; views are not supported, so only an empty list is.
    pub views: Vec<serde_json::Value>,
}

impl Default for MetricsTelemetryConfig {
    fn default() -> Self {
        MetricsTelemetryConfig {
            level: MetricsLevel::Normal,
            address: None,
            readers: Vec::new(),
            views: Vec::new(),
        }
    }
}

/// The default Prometheus endpoint: the Go Collector's `localhost:8888`, on loopback.
pub const DEFAULT_METRICS_ADDRESS: &str = "127.0.0.1:8888";

impl MetricsTelemetryConfig {
    /// Where the Prometheus endpoint listens: the first pull reader's host and port, else
    /// `address`, else [`DEFAULT_METRICS_ADDRESS`] when no reader is configured at all;
    /// `None` when the level is `none` or only push readers are configured.
    pub fn endpoint(&self) -> Option<String> {
        if self.level == MetricsLevel::None {
            return None;
        }
        if let Some(p) = self.prometheus() {
            return Some(p.address());
        }
        if let Some(address) = &self.address {
            return Some(address.clone());
        }
        self.readers
            .is_empty()
            .then(|| DEFAULT_METRICS_ADDRESS.to_string())
    }

    /// The first Prometheus pull reader, if one is configured.
    pub fn prometheus(&self) -> Option<&PrometheusEndpoint> {
        self.readers
            .iter()
            .find_map(|r| Some(&r.pull.as_ref()?.exporter.prometheus))
    }

    /// The periodic (push) readers.
    pub fn periodic(&self) -> impl Iterator<Item = &PeriodicReader> {
        self.readers.iter().filter_map(|r| r.periodic.as_ref())
    }

    fn validate(&self, errors: &mut Vec<TelemetryConfigError>) {
        if !self.views.is_empty() {
            errors.push(error(
                "metrics::views",
                "views are not supported: this collector's own metrics have fixed names and aggregations",
            ));
        }
        let pulls = self.readers.iter().filter(|r| r.pull.is_some()).count();
        if pulls > 1 {
            errors.push(error(
                "metrics::readers",
                "at most one pull reader is supported: the collector serves one Prometheus endpoint",
            ));
        }
        for (i, reader) in self.readers.iter().enumerate() {
            let path = format!("metrics::readers::{i}");
            match (&reader.pull, &reader.periodic) {
                (Some(_), Some(_)) | (None, None) => errors.push(error(
                    &path,
                    "each reader must be exactly one of `pull` or `periodic`",
                )),
                (Some(pull), None) => pull.exporter.prometheus.validate(&path, errors),
                (None, Some(periodic)) => {
                    let path = format!("{path}::periodic");
                    if periodic.interval == 0 {
                        errors.push(error(format!("{path}::interval"), "must be > 0"));
                    }
                    if periodic.timeout == 0 {
                        errors.push(error(format!("{path}::timeout"), "must be > 0"));
                    }
                    periodic
                        .exporter
                        .validate(&format!("{path}::exporter"), errors);
                }
            }
        }
    }
}

/// One entry of `service::telemetry::metrics::readers`: exactly one of the two.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricReader {
    /// A pull reader (scraped).
    pub pull: Option<PullReader>,
    /// A periodic reader (pushed over OTLP).
    pub periodic: Option<PeriodicReader>,
}

/// `pull: { exporter: { prometheus: ... } }`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullReader {
    /// The exporter serving the pull endpoint.
    pub exporter: PullExporter,
}

/// `exporter: { prometheus: ... }`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullExporter {
    /// The Prometheus endpoint.
    pub prometheus: PrometheusEndpoint,
}

/// `prometheus: { host, port, ... }`: the Prometheus endpoint and its naming switches.
///
/// A configured pull reader names metrics as Go's OpenTelemetry Prometheus exporter does
/// when the switches are left false: counters end in `_total`, metrics with a unit carry
/// it (`otelcol_process_uptime_seconds_total`), and every series has `otel_scope_name`
/// and `otel_scope_version` labels.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrometheusEndpoint {
    /// Host to bind (`localhost` in Go; 127.0.0.1 here when absent).
    pub host: Option<String>,
    /// Port to bind.
    pub port: u16,
    /// No `_total` suffix on counters.
    #[serde(default)]
    pub without_type_suffix: bool,
    /// No unit suffix (`_seconds`, `_bytes`).
    #[serde(default)]
    pub without_units: bool,
    /// No `otel_scope_name`/`otel_scope_version` labels.
    #[serde(default)]
    pub without_scope_info: bool,
    /// Accepted as Go does; resource attributes as constant labels are not supported, so
    /// only an absent or empty setting is.
    pub with_resource_constant_labels: Option<serde_json::Value>,
}

impl PrometheusEndpoint {
    /// `host:port`, an IPv6 host bracketed whether or not it came so (`"[::1]"`, `"::1"`).
    pub fn address(&self) -> String {
        let host = self.host.as_deref().unwrap_or("127.0.0.1");
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if host.contains(':') {
            format!("[{host}]:{}", self.port)
        } else {
            format!("{host}:{}", self.port)
        }
    }

    fn validate(&self, path: &str, errors: &mut Vec<TelemetryConfigError>) {
        if let Some(labels) = &self.with_resource_constant_labels
            && !labels.is_null()
            && labels.as_object().is_none_or(|m| !m.is_empty())
        {
            errors.push(error(
                format!("{path}::pull::exporter::prometheus::with_resource_constant_labels"),
                "not supported: the resource is shown once, on `target_info`",
            ));
        }
    }
}

/// `periodic: { interval, timeout, exporter }`: pushes the collector's metrics.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodicReader {
    /// Milliseconds between exports (60000).
    #[serde(default = "default_interval")]
    pub interval: u64,
    /// Milliseconds an export may take (30000).
    #[serde(default = "default_timeout")]
    pub timeout: u64,
    /// Where to push.
    pub exporter: PushExporter,
    /// Accepted as Go does; only an empty list (no extra producers) is supported.
    #[serde(default)]
    pub producers: Vec<serde_json::Value>,
    /// Accepted as Go does: the collector's own series are few and bounded.
    pub cardinality_limits: Option<serde_json::Value>,
}

fn default_interval() -> u64 {
    60_000
}

fn default_timeout() -> u64 {
    30_000
}

impl PeriodicReader {
    /// Time between exports.
    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.interval)
    }

    /// Time an export may take.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout)
    }
}

/// The exporter of a periodic reader or a span/log processor: one of `otlp` (the Go
/// Collector's schema, with `protocol`), `otlp_http` or `otlp_grpc` (the newer schema's
/// names), or `console`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushExporter {
    /// OTLP with an explicit `protocol`.
    pub otlp: Option<OtlpExporterConfig>,
    /// OTLP over HTTP (`encoding: protobuf|json`).
    pub otlp_http: Option<OtlpExporterConfig>,
    /// OTLP over gRPC.
    pub otlp_grpc: Option<OtlpExporterConfig>,
    /// Writes to standard output as OTLP/JSON, one request per line.
    pub console: Option<serde_json::Value>,
}

/// The resolved form of a [`PushExporter`].
#[derive(Clone, Debug, PartialEq)]
pub enum PushTarget {
    /// An OTLP endpoint.
    Otlp(OtlpTarget),
    /// Standard output.
    Console,
}

impl PushExporter {
    /// The target this exporter names; `None` when it names none or several (see
    /// [`TelemetryConfig::validate`]).
    pub fn target(&self) -> Option<PushTarget> {
        let named = [
            self.otlp.is_some(),
            self.otlp_http.is_some(),
            self.otlp_grpc.is_some(),
            self.console.is_some(),
        ];
        if named.iter().filter(|n| **n).count() != 1 {
            return None;
        }
        if self.console.is_some() {
            return Some(PushTarget::Console);
        }
        let (config, implied) = if let Some(c) = &self.otlp {
            (c, None)
        } else if let Some(c) = &self.otlp_http {
            let implied = match c.encoding.as_deref() {
                Some("json") => OtlpProtocol::HttpJson,
                _ => OtlpProtocol::HttpProtobuf,
            };
            (c, Some(implied))
        } else {
            (self.otlp_grpc.as_ref()?, Some(OtlpProtocol::Grpc))
        };
        config.target(implied).ok().map(PushTarget::Otlp)
    }

    fn validate(&self, path: &str, errors: &mut Vec<TelemetryConfigError>) {
        let named: Vec<&str> = [
            ("otlp", self.otlp.as_ref()),
            ("otlp_http", self.otlp_http.as_ref()),
            ("otlp_grpc", self.otlp_grpc.as_ref()),
        ]
        .into_iter()
        .filter_map(|(name, c)| c.map(|_| name))
        .chain(self.console.as_ref().map(|_| "console"))
        .collect();
        if named.len() != 1 {
            errors.push(error(
                path,
                format!(
                    "name exactly one exporter (otlp, otlp_http, otlp_grpc or console); found {}",
                    if named.is_empty() {
                        "none".to_string()
                    } else {
                        named.join(", ")
                    }
                ),
            ));
            return;
        }
        let (name, config, implied) = match named[0] {
            "otlp" => ("otlp", self.otlp.as_ref(), None),
            "otlp_http" => (
                "otlp_http",
                self.otlp_http.as_ref(),
                Some(OtlpProtocol::HttpProtobuf),
            ),
            "otlp_grpc" => (
                "otlp_grpc",
                self.otlp_grpc.as_ref(),
                Some(OtlpProtocol::Grpc),
            ),
            _ => return,
        };
        if let Some(config) = config
            && let Err((key, message)) = config.target(implied)
        {
            errors.push(error(format!("{path}::{name}{key}"), message));
        }
    }
}

/// The OTLP exporter of the declarative configuration schema.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OtlpExporterConfig {
    /// `grpc`, `http/protobuf` or `http/json` (required under `otlp`).
    pub protocol: Option<String>,
    /// `http://host:port` (a path, if any, is used as is for HTTP; otherwise
    /// `/v1/<signal>` is added). `host:port` alone means plain HTTP/2 for gRPC.
    pub endpoint: Option<String>,
    /// Request headers, as a map or as a list of `{name, value}`.
    pub headers: Option<Headers>,
    /// Request headers as `k1=v1,k2=v2` (the `OTEL_EXPORTER_OTLP_HEADERS` format).
    pub headers_list: Option<String>,
    /// `gzip` or `none` (default).
    pub compression: Option<String>,
    /// Milliseconds one export may take (10000).
    pub timeout: Option<u64>,
    /// Whether a scheme-less gRPC endpoint is plain text; `https` is refused anyway.
    pub insecure: Option<bool>,
    /// `protobuf` (default) or `json`, under `otlp_http`.
    pub encoding: Option<String>,
    /// TLS: refused (see [`OtlpExporterConfig::target`]).
    pub certificate: Option<String>,
    /// TLS: refused.
    pub client_key: Option<String>,
    /// TLS: refused.
    pub client_certificate: Option<String>,
    /// Metrics only: `cumulative` (default), `delta` or `low_memory`. This collector's
    /// counters are cumulative; `cumulative` is the only one accepted.
    pub temporality_preference: Option<String>,
    /// Metrics only: the collector records no histograms, so this has no effect.
    pub default_histogram_aggregation: Option<String>,
}

/// Request headers: `{name: value}` or `[{name, value}]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Headers {
    /// `{authorization: "Bearer x"}`.
    Map(BTreeMap<String, String>),
    /// `[{name: authorization, value: "Bearer x"}]`.
    List(Vec<NameValue>),
}

/// One header of the list form.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameValue {
    /// Header name.
    pub name: String,
    /// Header value.
    pub value: String,
}

/// The wire protocol of an OTLP push.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// OTLP/gRPC (unary `Export` calls over HTTP/2).
    Grpc,
    /// OTLP/HTTP with protobuf bodies.
    HttpProtobuf,
    /// OTLP/HTTP with JSON bodies.
    HttpJson,
}

/// A checked OTLP exporter: where and how to send.
#[derive(Clone, Debug, PartialEq)]
pub struct OtlpTarget {
    /// The protocol.
    pub protocol: OtlpProtocol,
    /// `http://host:port[/path]`.
    pub endpoint: String,
    /// Headers sent with every request.
    pub headers: Vec<(String, String)>,
    /// Whether bodies are gzip-compressed.
    pub gzip: bool,
    /// Time one export may take.
    pub timeout: Duration,
}

impl OtlpExporterConfig {
    /// Checks the settings and resolves them; an error names the key (relative, starting
    /// with `::`, or empty for the block) and why.
    pub fn target(&self, implied: Option<OtlpProtocol>) -> Result<OtlpTarget, (String, String)> {
        let fail = |key: &str, message: &str| Err((key.to_string(), message.to_string()));
        let protocol = match (implied, self.protocol.as_deref()) {
            (_, Some("grpc")) => OtlpProtocol::Grpc,
            (_, Some("http/protobuf")) => OtlpProtocol::HttpProtobuf,
            (_, Some("http/json")) => OtlpProtocol::HttpJson,
            (_, Some(other)) => {
                return fail(
                    "::protocol",
                    &format!(
                        "unknown protocol {other:?}; expected grpc, http/protobuf or http/json"
                    ),
                );
            }
            (Some(implied), None) => implied,
            (None, None) => return fail("::protocol", "missing: grpc, http/protobuf or http/json"),
        };
        if let Some(encoding) = self.encoding.as_deref()
            && !matches!(encoding, "protobuf" | "json")
        {
            return fail("::encoding", "expected protobuf or json");
        }
        for (key, set) in [
            ("::certificate", &self.certificate),
            ("::client_key", &self.client_key),
            ("::client_certificate", &self.client_certificate),
        ] {
            if set.is_some() {
                return fail(
                    key,
                    "TLS is not supported for the collector's own telemetry: send it in plain text to a local collector, which can forward it over TLS",
                );
            }
        }
        let Some(endpoint) = self.endpoint.as_deref().filter(|e| !e.is_empty()) else {
            return fail("::endpoint", "missing");
        };
        let endpoint = if endpoint.starts_with("https://") {
            return fail(
                "::endpoint",
                "https is not supported for the collector's own telemetry: send it over http to a local collector, which can forward it over TLS",
            );
        } else if endpoint.starts_with("http://") {
            endpoint.to_string()
        } else if endpoint.contains("://") {
            return fail("::endpoint", "the scheme must be http");
        } else if protocol == OtlpProtocol::Grpc && self.insecure != Some(false) {
            format!("http://{endpoint}")
        } else {
            return fail(
                "::endpoint",
                "must be a URL starting with http:// (e.g. http://localhost:4318)",
            );
        };
        if endpoint.parse::<http::Uri>().is_err() {
            return fail("::endpoint", "not a valid URL");
        }
        let gzip = match self.compression.as_deref() {
            None | Some("none") | Some("") => false,
            Some("gzip") => true,
            Some(_) => return fail("::compression", "expected gzip or none"),
        };
        match self.temporality_preference.as_deref() {
            None | Some("cumulative") => {}
            Some("delta") | Some("low_memory") => {
                return fail(
                    "::temporality_preference",
                    "only cumulative is supported: the collector's counters are cumulative",
                );
            }
            Some(_) => {
                return fail(
                    "::temporality_preference",
                    "expected cumulative, delta or low_memory",
                );
            }
        }
        let mut headers = Vec::new();
        match &self.headers {
            Some(Headers::Map(map)) => {
                headers.extend(map.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            Some(Headers::List(list)) => {
                headers.extend(list.iter().map(|h| (h.name.clone(), h.value.clone())));
            }
            None => {}
        }
        if let Some(list) = &self.headers_list {
            for pair in list.split(',').filter(|p| !p.trim().is_empty()) {
                let Some((name, value)) = pair.split_once('=') else {
                    return fail(
                        "::headers_list",
                        "expected name=value pairs separated by commas",
                    );
                };
                headers.push((name.trim().to_string(), value.trim().to_string()));
            }
        }
        for (name, value) in &headers {
            if http::HeaderName::from_bytes(name.as_bytes()).is_err()
                || http::HeaderValue::from_str(value).is_err()
            {
                return fail("::headers", &format!("invalid header {name:?}"));
            }
        }
        Ok(OtlpTarget {
            protocol,
            endpoint,
            headers,
            gzip,
            timeout: Duration::from_millis(self.timeout.unwrap_or(10_000)),
        })
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

/// `service::telemetry::logs`: the collector's own logs, zap's keys.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogsTelemetryConfig {
    /// Minimum level: `debug`, `info` (default), `warn`, `error`.
    pub level: LogLevel,
    /// zap's development mode: stack traces from `warn` up instead of from `error`.
    pub development: bool,
    /// `console` (tab-separated text, default) or `json`.
    pub encoding: LogEncoding,
    /// No `caller` (source file and line) on each entry.
    pub disable_caller: bool,
    /// No stack traces on errors (on warnings too in development mode).
    pub disable_stacktrace: bool,
    /// Where entries go: `stderr` (default), `stdout`, or file paths (appended to).
    pub output_paths: Vec<String>,
    /// Where the logger's own failures (an output that cannot be written) go.
    pub error_output_paths: Vec<String>,
    /// Fields added to every entry.
    pub initial_fields: BTreeMap<String, serde_json::Value>,
    /// zap's sampler (on by default, as in Go).
    pub sampling: Option<LogsSamplingConfig>,
    /// Processors exporting entries as OTLP log records.
    pub processors: Vec<ExportProcessor>,
}

impl Default for LogsTelemetryConfig {
    fn default() -> Self {
        LogsTelemetryConfig {
            level: LogLevel::Info,
            development: false,
            encoding: LogEncoding::Console,
            disable_caller: false,
            disable_stacktrace: false,
            output_paths: vec!["stderr".into()],
            error_output_paths: vec!["stderr".into()],
            initial_fields: BTreeMap::new(),
            sampling: Some(LogsSamplingConfig::default()),
            processors: Vec::new(),
        }
    }
}

impl LogsTelemetryConfig {
    fn validate(&self, errors: &mut Vec<TelemetryConfigError>) {
        if let Some(sampling) = &self.sampling
            && sampling.enabled
            && sampling.tick.is_zero()
        {
            errors.push(error("logs::sampling::tick", "must be > 0"));
        }
        for (key, paths) in [
            ("output_paths", &self.output_paths),
            ("error_output_paths", &self.error_output_paths),
        ] {
            for (i, path) in paths.iter().enumerate() {
                if path.is_empty() {
                    errors.push(error(format!("logs::{key}::{i}"), "empty path"));
                }
            }
        }
        validate_processors("logs::processors", &self.processors, errors);
    }
}

/// `sampling`: zap's sampler. Per `tick`, of the entries with the same level and message,
/// the first `initial` are written, then every `thereafter`-th.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogsSamplingConfig {
    /// Whether to sample (true).
    pub enabled: bool,
    /// The window (`10s`).
    #[serde(with = "tributary_confmap::duration")]
    pub tick: Duration,
    /// Entries written per message per window before sampling starts (10).
    pub initial: u64,
    /// Then every this-many-th is written (100); 0 writes none.
    pub thereafter: u64,
}

impl Default for LogsSamplingConfig {
    fn default() -> Self {
        LogsSamplingConfig {
            enabled: true,
            tick: Duration::from_secs(10),
            initial: 10,
            thereafter: 100,
        }
    }
}

/// The minimum level of the collector's own logs. The Go Collector's `dpanic`, `panic`
/// and `fatal` mean `error` here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Everything, including per-request detail.
    Debug,
    /// Normal operation.
    #[default]
    Info,
    /// Problems the collector works around.
    Warn,
    /// Failures.
    #[serde(alias = "dpanic", alias = "panic", alias = "fatal")]
    Error,
}

impl LogLevel {
    /// The `tracing` filter directive for this level.
    pub fn as_directive(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

/// The format of the collector's own logs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogEncoding {
    /// zap's console encoding: tab-separated time, level, caller, message, then the
    /// fields as JSON.
    #[default]
    Console,
    /// One JSON object per line.
    Json,
}

/// `service::telemetry::traces`: the collector's own spans.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TracesTelemetryConfig {
    /// `none` records no spans; any other level (default `basic`) records them.
    pub level: MetricsLevel,
    /// Context propagators (`tracecontext`, `baggage`, `b3`, `b3multi`, `jaeger`, ...).
    /// The collector starts no spans from incoming context, so these are accepted as Go
    /// does and have no effect.
    pub propagators: Vec<String>,
    /// Processors exporting the spans.
    pub processors: Vec<ExportProcessor>,
}

impl Default for TracesTelemetryConfig {
    fn default() -> Self {
        TracesTelemetryConfig {
            level: MetricsLevel::Basic,
            propagators: Vec::new(),
            processors: Vec::new(),
        }
    }
}

const PROPAGATORS: [&str; 7] = [
    "tracecontext",
    "baggage",
    "b3",
    "b3multi",
    "jaeger",
    "xray",
    "ottrace",
];

impl TracesTelemetryConfig {
    fn validate(&self, errors: &mut Vec<TelemetryConfigError>) {
        for (i, p) in self.propagators.iter().enumerate() {
            if !PROPAGATORS.contains(&p.as_str()) {
                errors.push(error(
                    format!("traces::propagators::{i}"),
                    format!(
                        "unknown propagator {p:?}; expected one of {}",
                        PROPAGATORS.join(", ")
                    ),
                ));
            }
        }
        validate_processors("traces::processors", &self.processors, errors);
    }
}

/// A span or log-record processor: exactly one of `batch` or `simple`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportProcessor {
    /// Batches records, exporting every `schedule_delay` or `max_export_batch_size`.
    pub batch: Option<BatchProcessorConfig>,
    /// Exports each record at once (in order, one export at a time).
    pub simple: Option<SimpleProcessorConfig>,
}

/// `batch`: the declarative schema's batch processor.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchProcessorConfig {
    /// Milliseconds between exports (5000 for spans, 1000 for logs).
    pub schedule_delay: Option<u64>,
    /// Milliseconds an export may take (30000).
    pub export_timeout: Option<u64>,
    /// Records held at most; more are dropped and counted (2048).
    #[serde(default = "default_max_queue")]
    pub max_queue_size: usize,
    /// Records per export at most (512).
    #[serde(default = "default_max_batch")]
    pub max_export_batch_size: usize,
    /// Where to send.
    pub exporter: PushExporter,
}

fn default_max_queue() -> usize {
    2048
}

fn default_max_batch() -> usize {
    512
}

/// `simple`: exports each record as it comes.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimpleProcessorConfig {
    /// Where to send.
    pub exporter: PushExporter,
}

impl ExportProcessor {
    /// The exporter, and the batching settings (`None` for `simple`).
    pub fn parts(&self) -> Option<(&PushExporter, Option<&BatchProcessorConfig>)> {
        match (&self.batch, &self.simple) {
            (Some(batch), None) => Some((&batch.exporter, Some(batch))),
            (None, Some(simple)) => Some((&simple.exporter, None)),
            _ => None,
        }
    }
}

fn validate_processors(
    path: &str,
    processors: &[ExportProcessor],
    errors: &mut Vec<TelemetryConfigError>,
) {
    for (i, processor) in processors.iter().enumerate() {
        let path = format!("{path}::{i}");
        match processor.parts() {
            None => errors.push(error(
                &path,
                "each processor must be exactly one of `batch` or `simple`",
            )),
            Some((exporter, batch)) => {
                let kind = if batch.is_some() { "batch" } else { "simple" };
                if let Some(batch) = batch {
                    if batch.max_queue_size == 0 {
                        errors.push(error(
                            format!("{path}::batch::max_queue_size"),
                            "must be > 0",
                        ));
                    }
                    if batch.max_export_batch_size == 0
                        || batch.max_export_batch_size > batch.max_queue_size
                    {
                        errors.push(error(
                            format!("{path}::batch::max_export_batch_size"),
                            "must be > 0 and at most max_queue_size",
                        ));
                    }
                    if batch.schedule_delay == Some(0) {
                        errors.push(error(
                            format!("{path}::batch::schedule_delay"),
                            "must be > 0",
                        ));
                    }
                }
                exporter.validate(&format!("{path}::{kind}::exporter"), errors);
            }
        }
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
