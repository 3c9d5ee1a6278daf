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

pub use crate::telemetry::config::{
    LogEncoding, LogLevel, LogsTelemetryConfig, MetricReader, MetricsLevel, MetricsTelemetryConfig,
    PrometheusEndpoint, PullExporter, PullReader, TelemetryConfig,
};

/// The `service` section: which extensions run and how components form pipelines.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceConfig {
    /// Extensions to start, in order.
    pub extensions: Vec<ComponentId>,
    /// The pipelines, by ID.
    pub pipelines: BTreeMap<PipelineId, PipelineConfig>,
    /// The collector's own logs, metrics and spans.
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
