//! The running health check: an HTTP server answering at one path with the collector's
//! health.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;
use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::assess::{Rules, assess};
use super::config::{Config, ResponseBody};
use super::failures::{ExporterFailures, SAMPLE_PERIOD};
use crate::component::{
    Component, ComponentError, ComponentId, CreateError, CreateSettings, Extension, Host,
    check_endpoint,
};
use crate::server::RunningServer;
use crate::service::ServiceHealth;
use crate::telemetry::MetricsRegistry;

/// The `health_check` extension: serves the collector's health over HTTP.
///
/// Other components (and tests) find it through the [`Host`] to learn where it listens:
///
/// ```
/// # use tributary_pipeline_core::component::{ComponentId, Host};
/// # use tributary_pipeline_core::extensions::health_check::HealthCheck;
/// # fn find(host: &Host) -> Option<std::net::SocketAddr> {
/// let id: ComponentId = "health_check".parse().ok()?;
/// host.extension_as::<HealthCheck>(&id)?.local_addr()
/// # }
/// ```
pub struct HealthCheck {
    config: Config,
    settings: CreateSettings,
    serving: Mutex<Option<Serving>>,
}

/// What runs between `start` and `shutdown`.
struct Serving {
    local: SocketAddr,
    stop: CancellationToken,
    server: RunningServer,
    sampler: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for HealthCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthCheck")
            .field("id", self.settings.id())
            .field("endpoint", &self.config.server.endpoint)
            .field("local_addr", &self.local_addr())
            .finish()
    }
}

impl HealthCheck {
    pub(crate) fn new(settings: &CreateSettings, config: &Config) -> Result<Self, CreateError> {
        check_endpoint(&config.server.endpoint)
            .map_err(|e| CreateError::new(format!("endpoint: {e}")))?;
        Ok(HealthCheck {
            config: config.clone(),
            settings: settings.clone(),
            serving: Mutex::new(None),
        })
    }

    /// The address the health check listens on while it is started (with the real port
    /// when the endpoint asked for port 0).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.serving().as_ref().map(|serving| serving.local)
    }

    fn serving(&self) -> std::sync::MutexGuard<'_, Option<Serving>> {
        self.serving.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl Component for HealthCheck {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        let Some(health) = host
            .service::<ServiceHealth>()
            .map(|health| (*health).clone())
        else {
            return Err(ComponentError::new(
                "the health check needs a collector to report on: its host offers no \
                 service health",
            ));
        };
        if self.serving().is_some() {
            return Err(ComponentError::new("the health check is already started"));
        }
        let failures = self
            .config
            .check_collector_pipeline
            .enabled
            .then(|| Arc::new(ExporterFailures::new(&self.config.check_collector_pipeline)));
        let responder = Arc::new(Responder {
            health: health.clone(),
            rules: Rules::new(&self.config),
            failures: failures.clone(),
            path: self.config.path.clone(),
            response_body: self.config.response_body.clone(),
            last_verdict: AtomicU8::new(UNKNOWN),
            span: self.settings.span().clone(),
        });
        let router = Router::new().fallback(move |uri: Uri| {
            let responder = Arc::clone(&responder);
            async move { responder.answer(&uri) }
        });
        let (server, local) = self
            .config
            .server
            .serve(&self.settings, host, "health check", router)
            .await?;
        // Sync from here on: the lock is held until the server is recorded.
        let lost_race = {
            let mut serving = self.serving();
            if serving.is_some() {
                Some(server)
            } else {
                let stop = CancellationToken::new();
                let span = self.settings.span().clone();
                let sampler = failures.map(|failures| {
                    let metrics = self.settings.metrics().clone();
                    let stop = stop.clone();
                    self.settings.spawn(
                        sample_failures(failures, health, metrics, stop).instrument(span.clone()),
                    )
                });
                span.in_scope(|| {
                    tracing::info!(
                        endpoint = %local,
                        path = %self.config.path,
                        "health check serving at http://{local}{}",
                        self.config.path
                    );
                });
                *serving = Some(Serving {
                    local,
                    stop,
                    server,
                    sampler,
                });
                None
            }
        };
        if let Some(server) = lost_race {
            // A concurrent start won: this server goes away again.
            server.stop().await;
            return Err(ComponentError::new("the health check is already started"));
        }
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        let Some(serving) = self.serving().take() else {
            return Ok(());
        };
        serving.stop.cancel();
        if let Some(sampler) = serving.sampler {
            let _ = sampler.await;
        }
        serving.server.stop().await;
        Ok(())
    }
}

impl Extension for HealthCheck {}

/// Samples the exporters' failure counters every [`SAMPLE_PERIOD`] until `stop`.
async fn sample_failures(
    failures: Arc<ExporterFailures>,
    health: ServiceHealth,
    metrics: MetricsRegistry,
    stop: CancellationToken,
) {
    let mut ticks = tokio::time::interval(SAMPLE_PERIOD);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticks.tick() => {
                let exporters: BTreeSet<ComponentId> = health
                    .pipelines()
                    .into_values()
                    .flat_map(|pipeline| pipeline.components.exporters)
                    .collect();
                failures.sample(&metrics, &exporters, Instant::now());
            }
        }
    }
}

const UNKNOWN: u8 = 0;
const HEALTHY: u8 = 1;
const UNHEALTHY: u8 = 2;

/// Answers requests: 200 with the report when healthy, 503 otherwise.
struct Responder {
    health: ServiceHealth,
    rules: Rules,
    failures: Option<Arc<ExporterFailures>>,
    path: String,
    response_body: Option<ResponseBody>,
    /// The verdict of the previous answer, to log changes.
    last_verdict: AtomicU8,
    span: tracing::Span,
}

impl Responder {
    fn answer(&self, uri: &Uri) -> Response {
        if uri.path() != self.path {
            return (StatusCode::NOT_FOUND, "not found\n").into_response();
        }
        let failures = self.failures.as_ref().map(|failures| failures.counts());
        let report = assess(&self.health, &self.rules, failures.as_ref());
        self.log_change(report.healthy, &report.problems);
        let code = if report.healthy {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        match &self.response_body {
            Some(bodies) => {
                let body = if report.healthy {
                    &bodies.healthy
                } else {
                    &bodies.unhealthy
                };
                (
                    code,
                    [
                        (CONTENT_TYPE, "text/plain; charset=utf-8"),
                        (CACHE_CONTROL, "no-store"),
                    ],
                    body.clone(),
                )
                    .into_response()
            }
            None => (
                code,
                [
                    (CONTENT_TYPE, "application/json"),
                    (CACHE_CONTROL, "no-store"),
                ],
                report.to_json(),
            )
                .into_response(),
        }
    }

    /// Logs when the verdict differs from the previous answer's.
    fn log_change(&self, healthy: bool, problems: &[String]) {
        let verdict = if healthy { HEALTHY } else { UNHEALTHY };
        if self.last_verdict.swap(verdict, Ordering::Relaxed) == verdict {
            return;
        }
        self.span.in_scope(|| {
            if healthy {
                tracing::info!("health check: healthy");
            } else {
                tracing::warn!(problems = ?problems, "health check: unhealthy");
            }
        });
    }
}
