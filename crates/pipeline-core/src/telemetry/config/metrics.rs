//! `service::telemetry::metrics`: the level, the pull (Prometheus) and periodic (OTLP)
//! readers.

use std::time::Duration;

use serde::Deserialize;

use super::{MetricsLevel, PushExporter, TelemetryConfigError, error};

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

    pub(super) fn validate(&self, errors: &mut Vec<TelemetryConfigError>) {
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

    pub(super) fn validate(&self, path: &str, errors: &mut Vec<TelemetryConfigError>) {
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
