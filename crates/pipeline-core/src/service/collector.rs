//! `Collector`: one running collector — its configuration source, its graph, its own
//! telemetry — with transactional reload and bounded shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;
use tributary_confmap::{Conf, Resolver, redact_userinfo};

use super::gates::ServiceGates;
#[cfg(feature = "cli")]
use super::logging;
use super::self_telemetry::{Pushes, SelfDescription, SelfTelemetry};
use super::telemetry::{Exposition, MetricsServer};
use crate::component::{BuildInfo, CollectorFacilities, ConfigError, StatusRegistry};
use crate::config::{ConfigErrors, TelemetryConfig};
use crate::graph::{Factories, Graph, Plan, StartError};
use crate::health::ServiceHealth;
use crate::telemetry::{Counter, MetricsRegistry};

/// Why a collector could not run, or a reload was not applied.
#[derive(Debug, thiserror::Error)]
pub enum CollectorError {
    /// The builder's settings are inconsistent (an invalid factory, a bad provider setup).
    #[error("invalid collector setup: {0}")]
    Setup(String),
    /// The configuration could not be retrieved or expanded.
    #[error("cannot resolve the configuration: {0}")]
    Resolve(#[from] tributary_confmap::Error),
    /// The configuration is invalid; every problem has its path.
    #[error("invalid configuration:\n{0}")]
    Config(#[from] ConfigErrors),
    /// A component failed to start.
    #[error(transparent)]
    Start(#[from] StartError),
    /// The internal metrics endpoint could not listen.
    #[error("cannot serve internal metrics on {address}: {source}")]
    Telemetry {
        /// The configured address.
        address: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `run` was called on a collector that is running or has run.
    #[error("the collector is already running or has stopped")]
    AlreadyRun,
    /// `reload` was called while the collector is not running.
    #[error("the collector is not running")]
    NotRunning,
}

/// What is running: the graph, the endpoint serving internal metrics, and the pushes of
/// the collector's own telemetry.
#[derive(Default)]
struct Running {
    graph: Option<Graph>,
    telemetry: TelemetryConfig,
    metrics_server: Option<MetricsServer>,
    self_telemetry: Option<SelfTelemetry>,
}

/// What a reload starts before it switches over.
struct Successor {
    graph: Graph,
    telemetry: TelemetryConfig,
    /// A new metrics endpoint if its address changed (`Some(None)`: turned off).
    server: Option<Option<MetricsServer>>,
    /// The self-telemetry pushes, prepared, when the telemetry section changed.
    pushes: Option<Pushes>,
    /// The log outputs, opened.
    #[cfg(feature = "cli")]
    logs: Option<logging::LogSettings>,
}

pub(crate) struct Inner {
    pub(crate) build_info: BuildInfo,
    pub(crate) factories: Factories,
    pub(crate) facilities: CollectorFacilities,
    pub(crate) resolver: Resolver,
    pub(crate) health: ServiceHealth,
    /// Whether the collector installs its own logging (with the `cli` feature).
    pub(crate) install_logging: bool,
    pub(crate) shutdown_timeout: Duration,
    gates: ServiceGates,
    running: Mutex<Running>,
    started: AtomicBool,
    stop: CancellationToken,
    reloads: Counter,
    reload_failures: Counter,
    /// The `target_info` series of the current `service::telemetry::resource`.
    target_info: std::sync::Mutex<Option<crate::telemetry::Gauge>>,
    /// When the collector was made: the start of its cumulative counters.
    created: std::time::SystemTime,
}

/// A collector: built by [`Collector::builder`], then [`run`](Collector::run) until
/// [`shutdown`](Collector::shutdown). Cheap to clone; every clone controls the same
/// collector, so one task can `run` it while another reloads or stops it.
///
/// ```no_run
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// use tributary_pipeline_core::service::{Collector, ConfigSource};
///
/// let collector = Collector::builder("my-collector", "1.0.0")
///     // .receiver(...).processor(...).exporter(...)
///     .build(ConfigSource::uris(["file:collector.yaml"]))?;
/// let running = tokio::spawn({
///     let collector = collector.clone();
///     async move { collector.run().await }
/// });
/// // ... later:
/// collector.shutdown();
/// running.await??;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Collector {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector")
            .field("command", &self.inner.build_info.command)
            .finish_non_exhaustive()
    }
}

impl Collector {
    pub(crate) fn new(
        build_info: BuildInfo,
        factories: Factories,
        facilities: CollectorFacilities,
        resolver: Resolver,
        install_logging: bool,
        shutdown_timeout: Duration,
    ) -> Collector {
        let metrics = &facilities.metrics;
        let reloads = metrics.counter(
            "otelcol_config_reloads_total",
            "Number of configuration reloads applied.",
            &[],
        );
        let reload_failures = metrics.counter(
            "otelcol_config_reload_failures_total",
            "Number of configuration reloads refused because the new configuration could not be resolved, validated, built or started; the running pipelines were kept.",
            &[],
        );
        super::telemetry::register_process_metrics(metrics);
        let health = ServiceHealth::new(facilities.status.clone());
        let mut facilities = facilities;
        facilities.services.push(Arc::new(health.clone()));
        let gates = super::gates::register(facilities.feature_gates);
        Collector {
            inner: Arc::new(Inner {
                build_info,
                factories,
                facilities,
                resolver,
                health,
                install_logging,
                shutdown_timeout,
                gates,
                running: Mutex::new(Running::default()),
                started: AtomicBool::new(false),
                stop: CancellationToken::new(),
                reloads,
                reload_failures,
                target_info: std::sync::Mutex::new(None),
                created: std::time::SystemTime::now(),
            }),
        }
    }

    /// Shows the collector's resource as `target_info` on its metrics, replacing the
    /// series of the previous configuration.
    fn show_resource(&self, configured: &std::collections::BTreeMap<String, Option<String>>) {
        let resource = super::telemetry::resource(&self.inner.build_info, configured);
        let gauge = super::telemetry::target_info(&self.inner.facilities.metrics, &resource);
        let mut current = self
            .inner
            .target_info
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // The new series exists before the old one goes, so a scrape never sees neither.
        *current = Some(gauge);
    }

    /// The program this collector is part of.
    pub fn build_info(&self) -> &BuildInfo {
        &self.inner.build_info
    }

    /// The collector's own metrics (also served at `service::telemetry::metrics`).
    pub fn metrics(&self) -> &MetricsRegistry {
        &self.inner.facilities.metrics
    }

    /// Every component's latest status.
    pub fn status(&self) -> &StatusRegistry {
        &self.inner.facilities.status
    }

    /// The collector's health, as health checks see it.
    pub fn health(&self) -> &ServiceHealth {
        &self.inner.health
    }

    /// The registered factories.
    pub fn factories(&self) -> &Factories {
        &self.inner.factories
    }

    /// The address the internal metrics endpoint listens on, while it runs.
    pub async fn metrics_address(&self) -> Option<std::net::SocketAddr> {
        self.inner
            .running
            .lock()
            .await
            .metrics_server
            .as_ref()
            .map(MetricsServer::local_addr)
    }

    /// Resolves the configuration (merge, expansion, conversion), without checking it.
    pub async fn resolve(&self) -> Result<Conf, CollectorError> {
        Ok(self.inner.resolver.resolve().await?)
    }

    /// Resolves, decodes and validates the configuration and builds (but does not start)
    /// its pipelines: what `run` would do before starting anything. Reports every problem
    /// found, each with its configuration path.
    pub async fn validate(&self) -> Result<(), CollectorError> {
        let plan = self.plan().await?;
        // Creating the components catches what only a factory can tell; nothing starts.
        let graph = Graph::build(&plan, &self.inner.factories, &self.inner.facilities, None)?;
        drop(graph);
        Ok(())
    }

    async fn plan(&self) -> Result<Plan, CollectorError> {
        let conf = self.inner.resolver.resolve().await?;
        let plan = Plan::from_conf(&conf, &self.inner.factories)?;
        let problems = plan.config.service.telemetry.validate();
        if !problems.is_empty() {
            return Err(ConfigErrors(
                problems
                    .into_iter()
                    .map(|p| ConfigError::at(format!("service::telemetry::{}", p.path), p.message))
                    .collect(),
            )
            .into());
        }
        Ok(plan)
    }

    /// Prepares the pushes of the collector's own telemetry, reading their TLS files; an
    /// error names the key of each file that cannot be used.
    fn prepare_pushes(telemetry: &TelemetryConfig) -> Result<Pushes, CollectorError> {
        Pushes::prepare(telemetry).map_err(|problems| {
            ConfigErrors(
                problems
                    .into_iter()
                    .map(|(path, message)| {
                        ConfigError::at(format!("service::telemetry::{path}"), message)
                    })
                    .collect(),
            )
            .into()
        })
    }

    /// Starts pushing the collector's own telemetry as `telemetry` says.
    fn start_self_telemetry(&self, telemetry: &TelemetryConfig, pushes: Pushes) -> SelfTelemetry {
        if telemetry.metrics.address.is_some() {
            tracing::warn!(
                "service::telemetry::metrics::address is deprecated (the Go Collector ignores it since v0.123.0); configure service::telemetry::metrics::readers instead"
            );
        }
        let own_logging = cfg!(feature = "cli") && self.inner.install_logging;
        if !telemetry.logs.processors.is_empty() && !own_logging {
            tracing::warn!(
                "service::telemetry::logs::processors have no effect: this program logs through its own subscriber, not the collector's"
            );
        }
        let description = SelfDescription {
            resource: super::telemetry::resource(&self.inner.build_info, &telemetry.resource),
            version: self.inner.build_info.version.clone(),
            started: self.inner.created,
        };
        SelfTelemetry::start(
            telemetry,
            pushes,
            &self.inner.facilities.metrics,
            &description,
        )
    }

    /// Starts the pipelines and runs until [`shutdown`](Self::shutdown): watches the
    /// configuration sources and reloads on every change. Returns once everything has
    /// stopped, or at once with the reason the collector could not start.
    pub async fn run(&self) -> Result<(), CollectorError> {
        if self.inner.started.swap(true, Ordering::SeqCst) {
            return Err(CollectorError::AlreadyRun);
        }
        let outcome = self.run_until_stopped().await;
        if let Err(error) = self.inner.resolver.shutdown().await {
            tracing::warn!(%error, "stopping the configuration watches failed");
        }
        outcome
    }

    async fn run_until_stopped(&self) -> Result<(), CollectorError> {
        let plan = self.plan().await?;
        #[cfg(feature = "cli")]
        if self.inner.install_logging {
            logging::install(&plan.config.service.telemetry.logs).map_err(|message| {
                ConfigErrors::from(ConfigError::at("service::telemetry::logs", message))
            })?;
        }
        let pushes = Self::prepare_pushes(&plan.config.service.telemetry)?;
        let graph = Graph::build(&plan, &self.inner.factories, &self.inner.facilities, None)?;
        graph.start().await?;
        let telemetry = plan.config.service.telemetry.clone();
        self.show_resource(&telemetry.resource);
        let metrics_server = match self.start_metrics_server(&telemetry).await {
            Ok(server) => server,
            Err(error) => {
                graph.shutdown().await;
                return Err(error);
            }
        };
        let self_telemetry = self.start_self_telemetry(&telemetry, pushes);
        self.inner.health.set_pipelines(graph.pipeline_probes());
        self.inner.health.set_running(true);
        {
            let mut running = self.inner.running.lock().await;
            running.graph = Some(graph);
            running.telemetry = telemetry;
            running.metrics_server = metrics_server;
            running.self_telemetry = Some(self_telemetry);
        }
        tracing::info!(
            command = %self.inner.build_info.command,
            version = %self.inner.build_info.version,
            "everything is ready; begin running and processing data"
        );

        let mut changes = self.inner.resolver.watch();
        let mut watching = true;
        loop {
            tokio::select! {
                _ = self.inner.stop.cancelled() => break,
                change = changes.recv(), if watching => match change {
                    Some(event) => {
                        if event.has_errors() {
                            tracing::warn!(errors = ?event.errors(), "watching the configuration failed; reloading anyway");
                        }
                        let sources: Vec<_> =
                            event.uris().iter().map(|uri| redact_userinfo(uri)).collect();
                        tracing::info!(?sources, "configuration changed; reloading");
                        let _ = self.reload().await;
                    }
                    None => watching = false,
                },
            }
        }

        self.inner.health.set_running(false);
        tracing::info!("shutting down");
        let mut running = self.inner.running.lock().await;
        if let Some(graph) = running.graph.take() {
            let timeout = self.inner.shutdown_timeout;
            if tokio::time::timeout(timeout, graph.shutdown())
                .await
                .is_err()
            {
                tracing::error!("pipelines did not drain within {timeout:?}; stopping anyway");
            }
        }
        if let Some(server) = running.metrics_server.take() {
            server.stop().await;
        }
        // Last: the final push carries what the drain did.
        if let Some(pushes) = running.self_telemetry.take() {
            pushes.stop().await;
        }
        tracing::info!("shutdown complete");
        Ok(())
    }

    async fn start_metrics_server(
        &self,
        telemetry: &TelemetryConfig,
    ) -> Result<Option<MetricsServer>, CollectorError> {
        let Some(address) = telemetry.metrics.endpoint() else {
            return Ok(None);
        };
        let exposition = Exposition::of(&telemetry.metrics, &self.inner.build_info.version);
        MetricsServer::start(self.inner.facilities.metrics.clone(), &address, exposition)
            .await
            .map(Some)
            .map_err(|source| CollectorError::Telemetry { address, source })
    }

    /// Asks the collector to stop: receivers stop accepting, data in flight drains to the
    /// exporters (within the shutdown timeout), and [`run`](Self::run) returns.
    pub fn shutdown(&self) {
        self.inner.stop.cancel();
    }

    /// Applies the configuration as its sources say now, transactionally: the new
    /// configuration is resolved, validated, built and started *before* anything of the
    /// running pipelines stops. Unchanged components keep running (an exporter keeps its
    /// queue; a receiver keeps its sockets); changed and removed ones are drained and shut
    /// down. If anything fails, the running pipelines are left untouched, the error is
    /// logged with its configuration path and returned, `otelcol_config_reload_failures_total`
    /// counts it, and the health check reports it.
    pub async fn reload(&self) -> Result<(), CollectorError> {
        let mut running = self.inner.running.lock().await;
        let Some(old) = running.graph.take() else {
            return Err(CollectorError::NotRunning);
        };
        match self.build_successor(&old, &running).await {
            Ok(Successor {
                graph: new,
                telemetry,
                server,
                pushes,
                #[cfg(feature = "cli")]
                logs,
            }) => {
                new.switch_over();
                // The health check reads the pipelines that now take the data, not the
                // retiring ones draining below.
                self.inner.health.set_pipelines(new.pipeline_probes());
                old.retire(Some(&new)).await;
                running.graph = Some(new);
                if let Some(server) = server {
                    if let Some(previous) = running.metrics_server.take() {
                        previous.stop().await;
                    }
                    running.metrics_server = server;
                } else if let Some(current) = &running.metrics_server {
                    current.set_exposition(Exposition::of(
                        &telemetry.metrics,
                        &self.inner.build_info.version,
                    ));
                }
                // Go rebuilds its telemetry on every reload; here only a changed section
                // restarts the pushes (the new ones first, so no entry goes unexported).
                if let Some(pushes) = pushes {
                    let next = self.start_self_telemetry(&telemetry, pushes);
                    if let Some(previous) = running.self_telemetry.replace(next) {
                        previous.stop().await;
                    }
                }
                #[cfg(feature = "cli")]
                if let Some(settings) = logs {
                    logging::apply(&telemetry.logs, settings);
                }
                self.show_resource(&telemetry.resource);
                running.telemetry = telemetry;
                self.inner.reloads.inc();
                self.inner.health.record_reload(None);
                tracing::info!("configuration reloaded");
                Ok(())
            }
            Err(error) => {
                running.graph = Some(old);
                self.inner.reload_failures.inc();
                self.inner.health.record_reload(Some(error.to_string()));
                tracing::error!(%error, "configuration reload failed; the running pipelines are unchanged");
                Err(error)
            }
        }
    }

    /// Builds and starts the graph that replaces `old`, and a new metrics endpoint if its
    /// address changed (`Some(None)` when it is turned off). On failure, whatever was
    /// started for it is stopped again and `old` is untouched.
    async fn build_successor(
        &self,
        old: &Graph,
        running: &Running,
    ) -> Result<Successor, CollectorError> {
        let plan = self.plan().await?;
        // The log outputs open before anything starts: one that cannot be opened refuses
        // the reload like any other invalid setting.
        #[cfg(feature = "cli")]
        let logs = if self.inner.install_logging {
            Some(
                logging::LogSettings::open(&plan.config.service.telemetry.logs).map_err(
                    |message| {
                        ConfigErrors::from(ConfigError::at("service::telemetry::logs", message))
                    },
                )?,
            )
        } else {
            None
        };
        // The self-telemetry's TLS files are read before anything starts, like the logs.
        let pushes = if plan.config.service.telemetry != running.telemetry
            || running.self_telemetry.is_none()
        {
            Some(Self::prepare_pushes(&plan.config.service.telemetry)?)
        } else {
            None
        };
        let take_over = self
            .inner
            .gates
            .reload_keeps_unchanged
            .is_enabled()
            .then_some(old);
        let new = Graph::build(
            &plan,
            &self.inner.factories,
            &self.inner.facilities,
            take_over,
        )?;
        new.start().await?;
        let telemetry = plan.config.service.telemetry.clone();
        let wanted = telemetry.metrics.endpoint();
        // The same address, as configured or as bound (`:0` before, its port now), keeps
        // the running endpoint: binding a second one there would fail.
        let same = match (&wanted, running.metrics_server.as_ref()) {
            (None, None) => true,
            (Some(wanted), Some(current)) => {
                wanted == current.address()
                    || wanted.parse::<std::net::SocketAddr>().ok() == Some(current.local_addr())
            }
            _ => false,
        };
        let server = if same {
            None
        } else {
            match self.start_metrics_server(&telemetry).await {
                Ok(server) => Some(server),
                Err(error) => {
                    new.retire(Some(old)).await;
                    return Err(error);
                }
            }
        };
        Ok(Successor {
            graph: new,
            telemetry,
            server,
            pushes,
            #[cfg(feature = "cli")]
            logs,
        })
    }
}
