//! `CollectorBuilder`: which components and configuration sources a collector has.

use std::sync::Arc;
use std::time::Duration;

use tributary_confmap::{Converter, Provider, Resolver, ResolverSettings, default_providers};
use tributary_featuregate::Registry;

use super::collector::{Collector, CollectorError};
use super::embedded::{EMBEDDED_URI, EmbeddedProvider};
use crate::component::{
    BuildInfo, CollectorFacilities, ComponentConfig, ConnectorFactory, ExporterFactory,
    ExtensionFactory, ProcessorFactory, ReceiverFactory,
};
use crate::graph::Factories;

/// How long shutdown waits for data in flight to drain before giving up, by default.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// Where a collector's configuration comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigSource {
    /// Configuration URIs merged in order (`file:a.yaml`, `env:CONFIG`, `https://...`, or
    /// a bare path), then `--set`-style `key.path=value` overrides.
    Uris {
        /// The URIs, merged left to right.
        uris: Vec<String>,
        /// Overrides applied last.
        set: Vec<String>,
    },
    /// The builder's embedded default configuration, then overrides.
    Default {
        /// Overrides applied last.
        set: Vec<String>,
    },
    /// Configuration text (YAML).
    Yaml(String),
}

impl ConfigSource {
    /// Configuration from URIs, with no overrides.
    pub fn uris<I, S>(uris: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ConfigSource::Uris {
            uris: uris.into_iter().map(Into::into).collect(),
            set: Vec::new(),
        }
    }

    /// Configuration text.
    pub fn yaml(text: impl Into<String>) -> Self {
        ConfigSource::Yaml(text.into())
    }
}

/// Sets up a collector: its name and version, the factories of the components it can
/// build, its configuration providers and converters, and an embedded default
/// configuration. Finish with [`run_cli`](Self::run_cli) in a `main`, or with
/// [`build`](Self::build) to embed the collector in a program of your own.
///
/// ```no_run
/// use tributary_pipeline_core::service::Collector;
///
/// fn main() -> std::process::ExitCode {
///     Collector::builder("my-collector", env!("CARGO_PKG_VERSION"))
///         // .receiver(receivers::otlp::factory())
///         // .processor(processors::batch::factory())
///         // .exporter(exporters::otlp::factory())
///         .run_cli()
/// }
/// ```
#[must_use]
pub struct CollectorBuilder {
    pub(crate) build_info: BuildInfo,
    pub(crate) factories: Factories,
    pub(crate) providers: Vec<Arc<dyn Provider>>,
    pub(crate) converters: Vec<Arc<dyn Converter>>,
    pub(crate) default_config: Option<String>,
    pub(crate) feature_gates: &'static Registry,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) install_logging: bool,
}

impl Collector {
    /// Starts setting up a collector program called `command`, at `version`.
    pub fn builder(command: impl Into<String>, version: impl Into<String>) -> CollectorBuilder {
        let command = command.into();
        CollectorBuilder {
            build_info: BuildInfo {
                description: format!("{command}: a Tributary telemetry collector"),
                command,
                version: version.into(),
            },
            factories: Factories::new(),
            providers: default_providers(),
            converters: Vec::new(),
            default_config: None,
            feature_gates: Registry::global(),
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            install_logging: false,
        }
    }
}

impl CollectorBuilder {
    /// A one-line description for `--help`.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.build_info.description = description.into();
        self
    }

    /// Adds a receiver factory.
    pub fn receiver<C: ComponentConfig>(mut self, factory: ReceiverFactory<C>) -> Self {
        self.factories.add_receiver(factory);
        self
    }

    /// Adds a processor factory.
    pub fn processor<C: ComponentConfig>(mut self, factory: ProcessorFactory<C>) -> Self {
        self.factories.add_processor(factory);
        self
    }

    /// Adds an exporter factory.
    pub fn exporter<C: ComponentConfig>(mut self, factory: ExporterFactory<C>) -> Self {
        self.factories.add_exporter(factory);
        self
    }

    /// Adds an extension factory.
    pub fn extension<C: ComponentConfig>(mut self, factory: ExtensionFactory<C>) -> Self {
        self.factories.add_extension(factory);
        self
    }

    /// Adds a connector factory.
    pub fn connector<C: ComponentConfig>(mut self, factory: ConnectorFactory<C>) -> Self {
        self.factories.add_connector(factory);
        self
    }

    /// Adds a whole set of factories (`tributary::components()`).
    pub fn factories(mut self, factories: Factories) -> Self {
        self.factories.extend(factories);
        self
    }

    /// Adds a configuration provider, replacing a built-in one of the same scheme. The
    /// built-in providers are `file`, `env`, `yaml`, `http` and `https`.
    pub fn provider(mut self, provider: impl Provider) -> Self {
        self.providers.retain(|p| p.scheme() != provider.scheme());
        self.providers.push(Arc::new(provider));
        self
    }

    /// Adds a converter, run after merging and expansion, in the order added.
    pub fn converter(mut self, converter: impl Converter) -> Self {
        self.converters.push(Arc::new(converter));
        self
    }

    /// The configuration used when no `--config` is given (YAML text, usually
    /// `include_str!`d). It may use `${env:VAR:-default}` references.
    pub fn default_config(mut self, yaml: impl Into<String>) -> Self {
        self.default_config = Some(yaml.into());
        self
    }

    /// The feature-gate registry the collector reads and `--feature-gates` sets (default:
    /// the process-wide one).
    pub fn feature_gates(mut self, registry: &'static Registry) -> Self {
        self.feature_gates = registry;
        self
    }

    /// How long shutdown waits for data in flight to drain (default 30s).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Whether the collector installs its own `tracing` subscriber configured by
    /// `service::telemetry::logs` (default: no when embedded, yes under `run_cli`).
    /// Feature `cli`.
    #[cfg(feature = "cli")]
    pub fn install_logging(mut self, install: bool) -> Self {
        self.install_logging = install;
        self
    }

    /// The collector for `source`. Checks the setup (factories, providers, URIs); the
    /// configuration itself is read and checked by [`Collector::run`] or
    /// [`Collector::validate`].
    pub fn build(self, source: ConfigSource) -> Result<Collector, CollectorError> {
        if !self.factories.problems().is_empty() {
            return Err(CollectorError::Setup(self.factories.problems().join("; ")));
        }
        let mut providers = self.providers;
        let (uris, set) = match source {
            ConfigSource::Uris { uris, set } => (uris, set),
            ConfigSource::Default { set } => {
                let Some(text) = self.default_config else {
                    return Err(CollectorError::Setup(
                        "no configuration given (use --config) and no default configuration built in".into(),
                    ));
                };
                providers.push(Arc::new(EmbeddedProvider::new(text)));
                (vec![EMBEDDED_URI.to_string()], set)
            }
            ConfigSource::Yaml(text) => {
                providers.push(Arc::new(EmbeddedProvider::new(text)));
                (vec![EMBEDDED_URI.to_string()], Vec::new())
            }
        };
        let resolver = Resolver::new(ResolverSettings {
            uris,
            set,
            providers,
            converters: self.converters,
            default_scheme: "env".into(),
        })?;
        let facilities = CollectorFacilities::new(self.build_info.clone(), self.feature_gates);
        Ok(Collector::new(
            self.build_info,
            self.factories,
            facilities,
            resolver,
            self.install_logging,
            self.shutdown_timeout,
        ))
    }
}
