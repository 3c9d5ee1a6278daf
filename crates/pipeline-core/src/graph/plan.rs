//! `Plan`: a configuration checked against the factories, every component's section
//! decoded and validated, before anything is created.

use std::collections::{BTreeSet, HashMap};

use tributary_confmap::{Conf, Scrubber, SecretPaths};

use crate::component::{AnyConfig, ComponentId, ConfigError, Kind, PipelineId};
use crate::config::{CollectorConfig, ConfigErrors};

use super::Factories;
use super::connections::{Connections, connect, is_connector};

/// Checks `conf` against `factories` as a collector does before creating anything: the
/// document's structure, the `service` section and its pipelines, and every component's
/// decoding and validation, reporting every problem at once.
// Exposed for the fuzz targets.
#[doc(hidden)]
pub fn check_conf(conf: &Conf, factories: &Factories) -> Result<(), ConfigErrors> {
    Plan::from_conf(conf, factories).map(drop)
}

/// A configuration that passed every check: structure, references, signals, and each
/// component's own decoding and validation.
pub(crate) struct Plan {
    pub config: CollectorConfig,
    pub decoded: HashMap<(Kind, ComponentId), AnyConfig>,
    /// The connector instances and the order the graph is built in.
    pub connections: Connections,
}

impl Plan {
    /// Reads `conf` and checks it against `factories`, each problem with its configuration
    /// path, reporting every problem at once: a `service` section
    /// that does not decode does not hide the components' problems (unknown types, invalid
    /// settings), as it did when reading stopped at the first failing stage.
    pub(crate) fn from_conf(conf: &Conf, factories: &Factories) -> Result<Plan, ConfigErrors> {
        let read = CollectorConfig::read(conf);
        Plan::checked(read.config, factories, read.errors, read.service_read)
    }

    fn checked(
        config: CollectorConfig,
        factories: &Factories,
        read_errors: Vec<ConfigError>,
        check_pipelines: bool,
    ) -> Result<Plan, ConfigErrors> {
        let mut errors: Vec<ConfigError> = factories
            .problems()
            .iter()
            .map(|p| ConfigError::new(format!("component registration: {p}")))
            .collect();
        errors.extend(read_errors);
        let mut decoded = HashMap::new();

        for kind in Kind::ALL {
            for (id, raw) in config.components(kind) {
                let path = format!("{}::{id}", kind.section());
                let ty = id.component_type().as_str();
                let outcome = match kind {
                    Kind::Receiver => factories.receiver(ty).map(|f| f.decode_config(raw)),
                    Kind::Processor => factories.processor(ty).map(|f| f.decode_config(raw)),
                    Kind::Exporter => factories.exporter(ty).map(|f| f.decode_config(raw)),
                    Kind::Extension => factories.extension(ty).map(|f| f.decode_config(raw)),
                    Kind::Connector => factories.connector(ty).map(|f| f.decode_config(raw)),
                };
                match outcome {
                    None => errors.push(ConfigError::at(
                        path,
                        format!(
                            "unknown {kind} type {ty:?}; known {kind} types: {}",
                            none_if_empty(factories.known_types(kind))
                        ),
                    )),
                    Some(Err(e)) => errors.extend(
                        e.into_problems()
                            .into_iter()
                            .map(|problem| problem.within(&path)),
                    ),
                    Some(Ok(config)) => {
                        decoded.insert((kind, id.clone()), config);
                    }
                }
            }
        }

        let mut connections = Connections::default();
        if check_pipelines {
            check_service(&config, factories, &mut errors);
            connections = connect(&config, factories, &mut errors);
        }

        if errors.is_empty() {
            Ok(Plan {
                config,
                decoded,
                connections,
            })
        } else {
            Err(scrubbed(errors, &config, factories))
        }
    }

    /// Every (pipeline, settings) of the plan.
    pub fn pipelines(&self) -> impl Iterator<Item = (&PipelineId, &crate::config::PipelineConfig)> {
        self.config.service.pipelines.iter()
    }
}

/// `errors` without any secret of the document or value a `${...}` reference produced:
/// component sections scrub their own decode and `validate` errors, but the service checks
/// and the factories' create functions quote what they were given.
pub(crate) fn scrubbed(
    errors: Vec<ConfigError>,
    config: &CollectorConfig,
    factories: &Factories,
) -> ConfigErrors {
    let mut secrets = SecretPaths::new();
    for kind in Kind::ALL {
        for (id, raw) in config.components(kind) {
            let section = format!("{}::{id}", kind.section());
            let found = factories.secret_paths(kind, id.component_type().as_str(), raw);
            for (path, secret) in found.iter().flat_map(SecretPaths::iter) {
                let path = if path.is_empty() {
                    section.clone()
                } else {
                    format!("{section}::{path}")
                };
                secrets.insert(path, secret);
            }
        }
    }
    let scrubber = Scrubber::new(config.conf().as_value(), &secrets);
    ConfigErrors(
        errors
            .into_iter()
            .map(|error| error.scrubbed(&scrubber))
            .collect(),
    )
}

fn none_if_empty(types: Vec<&str>) -> String {
    if types.is_empty() {
        "(none registered)".into()
    } else {
        types.join(", ")
    }
}

/// Checks the `service` section: extensions and pipelines reference defined components
/// (connectors may stand among receivers and exporters), every pipeline has receivers and
/// exporters, and every component handles its pipeline's signal.
fn check_service(config: &CollectorConfig, factories: &Factories, errors: &mut Vec<ConfigError>) {
    let service = &config.service;
    let mut seen = BTreeSet::new();
    for id in &service.extensions {
        if config.component(Kind::Extension, id).is_none() {
            errors.push(ConfigError::at(
                "service::extensions",
                format!(
                    "references extension {:?} which is not configured",
                    id.to_string()
                ),
            ));
        }
        if !seen.insert(id) {
            errors.push(ConfigError::at(
                "service::extensions",
                format!("extension {:?} is listed twice", id.to_string()),
            ));
        }
    }

    if service.pipelines.is_empty() {
        errors.push(ConfigError::at(
            "service::pipelines",
            "at least one pipeline is required",
        ));
    }
    for (pipeline, settings) in &service.pipelines {
        let path = format!("service::pipelines::{pipeline}");
        let signal = pipeline.signal();
        if settings.receivers.is_empty() {
            errors.push(ConfigError::at(
                format!("{path}::receivers"),
                "must list at least one receiver",
            ));
        }
        if settings.exporters.is_empty() {
            errors.push(ConfigError::at(
                format!("{path}::exporters"),
                "must list at least one exporter",
            ));
        }
        let lists = [
            (Kind::Receiver, &settings.receivers),
            (Kind::Processor, &settings.processors),
            (Kind::Exporter, &settings.exporters),
        ];
        for (kind, ids) in lists {
            let list_path = format!("{path}::{}", kind.section());
            let mut listed = BTreeSet::new();
            for id in ids {
                if !listed.insert(id) {
                    errors.push(ConfigError::at(
                        &list_path,
                        format!("{kind} {:?} is listed twice", id.to_string()),
                    ));
                    continue;
                }
                // A connector's signals are checked with the pipelines it joins.
                if kind != Kind::Processor && is_connector(config, id) {
                    continue;
                }
                if config.component(kind, id).is_none() {
                    errors.push(ConfigError::at(
                        &list_path,
                        format!(
                            "references {kind} {:?} which is not configured",
                            id.to_string()
                        ),
                    ));
                    continue;
                }
                let supported = factories
                    .stability(kind, id.component_type().as_str(), signal)
                    .is_some_and(|s| s.is_supported());
                // An unknown type was already reported where the component is defined.
                let known = factories
                    .stability(kind, id.component_type().as_str(), signal)
                    .is_some();
                if known && !supported {
                    errors.push(ConfigError::at(
                        &list_path,
                        format!("{kind} {:?} does not support {signal}", id.to_string()),
                    ));
                }
            }
        }
    }
}
