//! The collector's configuration document: component sections and `service`.
//!
//! ```yaml
//! receivers:  { otlp: { protocols: { grpc: {} } } }
//! processors: { batch: {} }
//! exporters:  { debug: {} }
//! connectors: { forward: {} }
//! extensions: { health_check: {} }
//! service:
//!   extensions: [health_check]
//!   pipelines:
//!     traces: { receivers: [otlp], processors: [batch], exporters: [debug] }
//!   telemetry:
//!     metrics: { address: 127.0.0.1:8888, level: normal }
//!     logs: { level: info, encoding: console }
//! ```
//!
//! Component sections are kept raw here ([`Value`]); each component's section is decoded by
//! its factory when the graph is built, so errors name the factory's own keys.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use tributary_confmap::{Conf, Value};

use crate::component::{ComponentId, ConfigError, Kind, PipelineId};

/// Several configuration problems, each with its path. Displayed one per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl From<ConfigError> for ConfigErrors {
    fn from(error: ConfigError) -> Self {
        ConfigErrors(vec![error])
    }
}

/// One pipeline: `service::pipelines::<signal>[/<name>]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// Receivers feeding the pipeline (at least one).
    pub receivers: Vec<ComponentId>,
    /// Processors, in order.
    pub processors: Vec<ComponentId>,
    /// Exporters the pipeline fans out to (at least one).
    pub exporters: Vec<ComponentId>,
}

/// `service::telemetry::metrics`: the collector's own metrics endpoint.
///
/// The endpoint's address is `address` (the Go Collector's older form) or the first
/// Prometheus pull reader (its newer form):
///
/// ```yaml
/// metrics:
///   readers:
///     - pull: { exporter: { prometheus: { host: 127.0.0.1, port: 8888 } } }
/// ```
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsTelemetryConfig {
    /// `none`, `basic`, `normal` (default) or `detailed`; `none` serves no endpoint.
    pub level: MetricsLevel,
    /// Where the Prometheus endpoint listens (`127.0.0.1:8888`).
    pub address: String,
    /// Metric readers; only Prometheus pull readers are supported.
    pub readers: Vec<MetricReader>,
}

impl Default for MetricsTelemetryConfig {
    fn default() -> Self {
        MetricsTelemetryConfig {
            level: MetricsLevel::Normal,
            address: "127.0.0.1:8888".into(),
            readers: Vec::new(),
        }
    }
}

impl MetricsTelemetryConfig {
    /// Where the endpoint listens: the first pull reader's host and port, else `address`;
    /// `None` when the level is `none`.
    pub fn endpoint(&self) -> Option<String> {
        if self.level == MetricsLevel::None {
            return None;
        }
        let from_reader = self.readers.iter().find_map(|r| {
            let p = &r.pull.as_ref()?.exporter.prometheus;
            let host = p.host.as_deref().unwrap_or("127.0.0.1");
            // An IPv6 host may come bracketed (`"[::1]"`) or not (`"::1"`).
            let host = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            Some(if host.contains(':') {
                format!("[{host}]:{}", p.port)
            } else {
                format!("{host}:{}", p.port)
            })
        });
        Some(from_reader.unwrap_or_else(|| self.address.clone()))
    }
}

/// One entry of `service::telemetry::metrics::readers`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricReader {
    /// A pull reader (scraped).
    pub pull: Option<PullReader>,
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

/// `prometheus: { host, port }`, plus the Go Collector's naming switches, which this
/// collector always behaves as set to true (no type or unit suffixes, no scope info).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrometheusEndpoint {
    /// Host to bind (127.0.0.1 when absent).
    pub host: Option<String>,
    /// Port to bind.
    pub port: u16,
    /// Accepted for compatibility; names never carry a type suffix.
    pub without_type_suffix: Option<bool>,
    /// Accepted for compatibility; names never carry a unit suffix.
    pub without_units: Option<bool>,
    /// Accepted for compatibility; no scope info is added.
    pub without_scope_info: Option<bool>,
}

/// How much of the collector's own metrics is recorded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricsLevel {
    /// Nothing; no endpoint.
    None,
    /// The essentials.
    Basic,
    /// The default.
    #[default]
    Normal,
    /// Everything.
    Detailed,
}

/// `service::telemetry::logs`: the collector's own logs.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogsTelemetryConfig {
    /// Minimum level: `debug`, `info` (default), `warn`, `error`.
    pub level: LogLevel,
    /// `console` (human-readable text, default) or `json`.
    pub encoding: LogEncoding,
}

/// The minimum level of the collector's own logs. The Go Collector's `dpanic`, `panic`
/// and `fatal` mean `error` here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
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
    /// Human-readable text.
    #[default]
    Console,
    /// One JSON object per line.
    Json,
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
}

/// The `service` section: which extensions run and how components form pipelines.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceConfig {
    /// Extensions to start, in order.
    pub extensions: Vec<ComponentId>,
    /// The pipelines, by ID.
    pub pipelines: BTreeMap<PipelineId, PipelineConfig>,
    /// The collector's own logs and metrics.
    pub telemetry: TelemetryConfig,
}

/// What [`CollectorConfig::read`] found.
pub(crate) struct ReadConfig {
    pub config: CollectorConfig,
    pub errors: Vec<ConfigError>,
    /// Whether the `service` section decoded (otherwise `config.service` is the default,
    /// and checking pipelines against it would only add noise).
    pub service_read: bool,
}

/// A whole collector configuration: the raw section of every defined component, and the
/// decoded `service` section.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CollectorConfig {
    /// Every defined component, by kind, in document order, with its raw section.
    pub(crate) components: BTreeMap<Kind, Vec<(ComponentId, Arc<Value>)>>,
    /// The `service` section.
    pub service: ServiceConfig,
    /// The document it was read from (for printing and reload comparison).
    pub(crate) conf: Conf,
}

const TOP_LEVEL: [&str; 6] = [
    "receivers",
    "processors",
    "exporters",
    "extensions",
    "connectors",
    "service",
];

impl CollectorConfig {
    /// Reads the document's structure: section names, component IDs, and the `service`
    /// section. Components' own sections are checked later by their factories. Every
    /// problem found is reported, each with its path.
    pub fn from_conf(conf: &Conf) -> Result<Self, ConfigErrors> {
        let read = Self::read(conf);
        if read.errors.is_empty() {
            Ok(read.config)
        } else {
            Err(ConfigErrors(read.errors))
        }
    }

    /// Reads the document keeping what it can, so that one run reports every problem: the
    /// configuration (an undecodable `service` section read as the default) and every
    /// problem found.
    pub(crate) fn read(conf: &Conf) -> ReadConfig {
        let mut errors = Vec::new();
        if conf.keys().next().is_none() {
            errors.push(ConfigError::new("the configuration is empty"));
        }
        for key in conf.keys() {
            if !TOP_LEVEL.contains(&key) {
                errors.push(ConfigError::at(
                    key,
                    format!("unknown section; expected one of {}", TOP_LEVEL.join(", ")),
                ));
            }
        }
        let mut components = BTreeMap::new();
        for kind in Kind::ALL {
            let section = kind.section();
            let mut defined = Vec::new();
            match conf.get(section) {
                None | Some(Value::Null) => {}
                Some(value) => match value.as_map() {
                    Some(map) => {
                        for (key, raw) in map.iter() {
                            match key.parse::<ComponentId>() {
                                Ok(id) => defined.push((id, Arc::new(raw.clone()))),
                                Err(e) => errors.push(ConfigError::at(
                                    format!("{section}::{key}"),
                                    e.to_string(),
                                )),
                            }
                        }
                    }
                    None => errors.push(ConfigError::at(
                        section,
                        "must be a map of component IDs to their settings",
                    )),
                },
            }
            components.insert(kind, defined);
        }

        let (service, service_read) = match conf.get("service") {
            None | Some(Value::Null) => {
                // An empty document already says so.
                if conf.keys().next().is_some() {
                    errors.push(ConfigError::at(
                        "service",
                        "missing: it must list at least one pipeline",
                    ));
                }
                (ServiceConfig::default(), false)
            }
            Some(value) => match value.decode_at::<ServiceConfig>("service") {
                Ok(service) => (service, true),
                Err(e) => {
                    errors.extend(ConfigError::from(e).into_problems());
                    (ServiceConfig::default(), false)
                }
            },
        };

        ReadConfig {
            config: CollectorConfig {
                components,
                service,
                conf: conf.clone(),
            },
            errors,
            service_read,
        }
    }

    /// The raw section of a defined component.
    pub(crate) fn component(&self, kind: Kind, id: &ComponentId) -> Option<&Arc<Value>> {
        self.components
            .get(&kind)?
            .iter()
            .find(|(defined, _)| defined == id)
            .map(|(_, raw)| raw)
    }

    /// Every defined component of a kind.
    pub(crate) fn components(
        &self,
        kind: Kind,
    ) -> impl Iterator<Item = &(ComponentId, Arc<Value>)> {
        self.components.get(&kind).into_iter().flatten()
    }

    /// The document the configuration was read from.
    pub fn conf(&self) -> &Conf {
        &self.conf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(yaml: &str) -> MetricsTelemetryConfig {
        Conf::from_yaml(yaml).unwrap().as_value().decode().unwrap()
    }

    /// Issue 13: a bracketed IPv6 host passed validate and failed at start.
    #[test]
    fn a_pull_reader_host_may_be_bracketed_or_not() {
        for host in ["\"[::1]\"", "\"::1\""] {
            let config = metrics(&format!(
                "readers: [{{ pull: {{ exporter: {{ prometheus: {{ host: {host}, port: 8888 }} }} }} }}]"
            ));
            let endpoint = config.endpoint().unwrap();
            assert_eq!(endpoint, "[::1]:8888");
            assert!(endpoint.parse::<std::net::SocketAddr>().is_ok());
        }
        let config = metrics(
            "readers: [{ pull: { exporter: { prometheus: { host: 0.0.0.0, port: 9 } } } }]",
        );
        assert_eq!(config.endpoint().unwrap(), "0.0.0.0:9");
    }
}
