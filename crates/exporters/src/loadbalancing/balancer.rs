//! The balancer: one OTLP client per backend, the ring, health, and re-routing.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tributary_pipeline_core::component::{ComponentError, CreateError, CreateSettings, Host};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::exporterhelper::Export;
use tributary_pipeline_core::telemetry::{Counter, Gauge};

use super::config::{Config, RoutingKey, endpoint_with_port};
use super::resolver::Resolver;
use super::ring::HashRing;
use super::routing::{Routable, Router};
use crate::otlp::{GrpcConnection, GrpcExporter};

/// How long a backend that failed is left out at first; doubled per failure in a row.
pub const FIRST_COOLDOWN: Duration = Duration::from_secs(1);
/// The longest a failed backend is left out before it is tried again.
pub const MAX_COOLDOWN: Duration = Duration::from_secs(30);

/// Whether a backend takes data: failed backends are left out of routing for a cooldown,
/// then get data again (the next export is the probe).
#[derive(Debug, Default)]
struct Health {
    /// Failures in a row, and until when the backend is left out.
    state: Mutex<(u32, Option<Instant>)>,
}

impl Health {
    fn is_up(&self, now: Instant) -> bool {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.1.is_none_or(|until| now >= until)
    }

    fn succeeded(&self) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = (0, None);
    }

    fn failed(&self, now: Instant) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let failures = state.0.saturating_add(1);
        let cooldown = FIRST_COOLDOWN
            .saturating_mul(1u32 << (failures - 1).min(16))
            .min(MAX_COOLDOWN);
        *state = (failures, Some(now + cooldown));
    }
}

/// Sends a batch to one backend.
#[async_trait]
pub(crate) trait Backend<T>: Send + Sync + 'static {
    /// Sends one batch.
    async fn send(&self, data: T) -> Result<(), ConsumeError>;
}

/// Makes the [`Backend`] of an endpoint, started with the host.
#[async_trait]
pub(crate) trait BackendFactory<T>: Send + Sync + 'static {
    /// The client of `endpoint` (`host:port`).
    async fn create(&self, endpoint: &str, host: &Host) -> Result<Arc<dyn Backend<T>>, String>;
}

/// A backend in the current membership.
struct Member<T> {
    /// As named on the ring.
    name: String,
    backend: Arc<dyn Backend<T>>,
    health: Arc<Health>,
    outcome_ok: Counter,
    outcome_failed: Counter,
}

/// The ring and its backends (indexes match [`HashRing::backends`]).
struct Membership<T> {
    ring: HashRing,
    members: Vec<Arc<Member<T>>>,
}

/// The `loadbalancing` exporter's [`Export`]: routes each batch over the ring, at send
/// time, to healthy backends.
pub(crate) struct Balancer<T> {
    shared: Arc<Shared<T>>,
}

/// The balancer's state, shared with the resolver's task.
struct Shared<T> {
    settings: CreateSettings,
    router: Router,
    resolver: Resolver,
    factory: Arc<dyn BackendFactory<T>>,
    /// Per attempt to one backend: `protocol::otlp::timeout`.
    attempt_timeout: Duration,
    membership: RwLock<Arc<Membership<T>>>,
    /// Serializes membership updates (the resolver's and start's).
    updating: tokio::sync::Mutex<()>,
    host: OnceLock<Host>,
    refresher: Mutex<Option<tokio::task::JoinHandle<()>>>,
    num_backends: Gauge,
    num_backend_updates: Counter,
    resolutions_ok: Counter,
    resolutions_failed: Counter,
}

impl<T: Routable> Balancer<T> {
    /// A balancer over backends made by `factory`; resolves nothing until started.
    pub(crate) fn new(
        settings: &CreateSettings,
        config: &Config,
        factory: Arc<dyn BackendFactory<T>>,
    ) -> Result<Self, CreateError> {
        let key = config
            .routing_key()
            .map_err(|e| CreateError::new(e.to_string()))?
            .unwrap_or(T::DEFAULT_KEY);
        if !T::supports(key) {
            return Err(CreateError::new(format!(
                "routing_key {:?} cannot route {}",
                config.routing_key,
                T::SIGNAL
            )));
        }
        let resolver = match (&config.resolver.static_, &config.resolver.dns) {
            (Some(s), _) => Resolver::Static(s.hostnames.clone()),
            (None, Some(d)) => Resolver::Dns(d.clone()),
            (None, None) => return Err(CreateError::new("no resolver specified")),
        };
        Self::with_resolver(settings, config, key, resolver, factory)
    }

    /// A balancer over `resolver`'s backends.
    pub(crate) fn with_resolver(
        settings: &CreateSettings,
        config: &Config,
        key: RoutingKey,
        resolver: Resolver,
        factory: Arc<dyn BackendFactory<T>>,
    ) -> Result<Self, CreateError> {
        let metrics = settings.metrics();
        let id = settings.id().to_string();
        let resolver_name = match resolver {
            Resolver::Static(_) => "static",
            Resolver::Dns(_) => "dns",
            #[cfg(test)]
            Resolver::Manual(_) => "manual",
        };
        let labels = [("exporter", id.as_str()), ("resolver", resolver_name)];
        let outcome = |success: &str| {
            metrics.counter(
                "otelcol_loadbalancer_num_resolutions",
                "Resolutions performed by the resolver, by outcome.",
                &[labels[0], labels[1], ("success", success)],
            )
        };
        Ok(Balancer {
            shared: Arc::new(Shared {
                settings: settings.clone(),
                router: Router {
                    key,
                    attributes: config.routing_attributes.clone(),
                },
                resolver,
                factory,
                attempt_timeout: config.protocol.otlp.helper.timeout,
                membership: RwLock::new(Arc::new(Membership {
                    ring: HashRing::new(&[]),
                    members: Vec::new(),
                })),
                updating: tokio::sync::Mutex::new(()),
                host: OnceLock::new(),
                refresher: Mutex::new(None),
                num_backends: metrics.gauge(
                    "otelcol_loadbalancer_num_backends",
                    "Backends in use.",
                    &labels,
                ),
                num_backend_updates: metrics.counter(
                    "otelcol_loadbalancer_num_backend_updates",
                    "Resolutions that changed the list of backends.",
                    &labels,
                ),
                resolutions_ok: outcome("true"),
                resolutions_failed: outcome("false"),
            }),
        })
    }

    /// The backends on the ring now, as named there.
    #[cfg(test)]
    pub(crate) fn backends(&self) -> Vec<String> {
        self.shared.membership().ring.backends().to_vec()
    }
}

impl<T: Routable> Shared<T> {
    fn membership(&self) -> Arc<Membership<T>> {
        self.membership
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Resolves and, when the list changed, swaps in the new ring: backends that stay
    /// keep their client and health, new ones are created, gone ones are dropped. Data
    /// is routed when sent, so nothing queued was bound to a gone backend. Returns the
    /// first backend whose client could not be made (it is left off the ring).
    async fn refresh(&self) -> Result<(), String> {
        let resolved = match self.resolver.resolve().await {
            Ok(resolved) => {
                self.resolutions_ok.inc();
                resolved
            }
            Err(error) => {
                self.resolutions_failed.inc();
                let _entered = self.settings.span().enter();
                tracing::warn!(%error, "resolving the backends failed; keeping the current ones");
                return Ok(());
            }
        };
        let _updating = self.updating.lock().await;
        let current = self.membership();
        if current.ring.backends() == resolved.as_slice() {
            return Ok(());
        }
        let Some(host) = self.host.get() else {
            return Ok(());
        };
        let mut failed = Ok(());
        let ring = HashRing::new(&resolved);
        let mut members = Vec::with_capacity(ring.backends().len());
        for name in ring.backends() {
            if let Some(existing) = current.members.iter().find(|m| &m.name == name) {
                members.push(Arc::clone(existing));
                continue;
            }
            let endpoint = endpoint_with_port(name);
            let backend = match self.factory.create(&endpoint, host).await {
                Ok(backend) => backend,
                Err(error) => {
                    // Left off the ring: its share goes to the others.
                    let _entered = self.settings.span().enter();
                    tracing::error!(%endpoint, %error, "cannot create the exporter of a backend");
                    if failed.is_ok() {
                        failed = Err(format!("backend {endpoint}: {error}"));
                    }
                    continue;
                }
            };
            let id = self.settings.id().to_string();
            let counter = |success: &str| {
                self.settings.metrics().counter(
                    "otelcol_loadbalancer_backend_outcome",
                    "Exports to each backend, by outcome.",
                    &[
                        ("exporter", &id),
                        ("endpoint", &endpoint),
                        ("success", success),
                    ],
                )
            };
            members.push(Arc::new(Member {
                name: name.clone(),
                backend,
                health: Arc::new(Health::default()),
                outcome_ok: counter("true"),
                outcome_failed: counter("false"),
            }));
        }
        let names: Vec<String> = members.iter().map(|m| m.name.clone()).collect();
        let membership = Membership {
            ring: HashRing::new(&names),
            members,
        };
        self.num_backends.set(names.len() as i64);
        self.num_backend_updates.inc();
        {
            let _entered = self.settings.span().enter();
            tracing::info!(backends = ?names, "backends changed");
        }
        *self.membership.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(membership);
        failed
    }

    /// Sends `data` to `member` within the attempt timeout, recording the outcome.
    async fn send(&self, member: &Member<T>, data: T) -> Result<(), ConsumeError> {
        let sending = member.backend.send(data);
        let result = if self.attempt_timeout.is_zero() {
            sending.await
        } else {
            tokio::time::timeout(self.attempt_timeout, sending)
                .await
                .unwrap_or_else(|_| {
                    Err(ConsumeError::retryable(format!(
                        "no answer within {:?}",
                        self.attempt_timeout
                    )))
                })
        };
        match &result {
            Ok(()) => {
                member.outcome_ok.inc();
                member.health.succeeded();
            }
            Err(error) => {
                member.outcome_failed.inc();
                if !error.is_permanent() {
                    member.health.failed(Instant::now());
                    let _entered = self.settings.span().enter();
                    tracing::warn!(backend = %member.name, %error, "backend failed; its share goes to the next backends on the ring");
                }
            }
        }
        result
    }
}

#[async_trait]
impl<T: Routable> Export<T> for Balancer<T> {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        let shared = &self.shared;
        let _ = shared.host.set(host.clone());
        // A static backend whose client cannot be made (an unreadable TLS file) would
        // never be retried: refuse to start, naming it. The DNS resolver retries on its
        // interval.
        if let (Err(error), Resolver::Static(_)) = (shared.refresh().await, &shared.resolver) {
            return Err(ComponentError::new(error));
        }
        if let Some(interval) = shared.resolver.interval() {
            let this = Arc::clone(shared);
            let task = shared.settings.spawn(async move {
                loop {
                    tokio::time::sleep(interval).await;
                    let _ = this.refresh().await;
                }
            });
            *shared.refresher.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
        }
        Ok(())
    }

    async fn export(&self, data: T) -> Result<(), ConsumeError> {
        self.shared.export(data).await
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        if let Some(task) = self
            .shared
            .refresher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            task.abort();
        }
        Ok(())
    }
}

impl<T: Routable> Shared<T> {
    /// Routes each item to the first healthy backend clockwise from its key; parts whose
    /// backend fails are routed again without it, until every backend was tried. What
    /// still fails then is returned retryable, for the queue to keep and retry on the
    /// ring of that moment.
    async fn export(&self, data: T) -> Result<(), ConsumeError> {
        let membership = self.membership();
        if membership.ring.is_empty() {
            return Err(ConsumeError::retryable(
                "no backends (yet): nothing resolved",
            ));
        }
        let ring = &membership.ring;
        let mut pending = vec![data];
        let mut last_error = None;
        let mut permanent = None;
        for round in 0..=membership.members.len() {
            if pending.is_empty() {
                break;
            }
            let now = Instant::now();
            let up: Vec<bool> = membership
                .members
                .iter()
                .map(|m| m.health.is_up(now))
                .collect();
            let any_up = up.contains(&true);
            if !any_up && round > 0 {
                // Every backend failed in this export already: the queue retries later.
                break;
            }
            let mut parts: BTreeMap<usize, T> = BTreeMap::new();
            for piece in pending.drain(..) {
                // With every backend down, each key goes to its owner: the probe that
                // finds the first one back.
                let mut choose = |key: &[u8]| {
                    if any_up {
                        ring.owner_where(key, |b| up[b])
                    } else {
                        ring.owner(key)
                    }
                };
                for (backend, part) in piece.route(&self.router, &mut choose)? {
                    match parts.get_mut(&backend) {
                        Some(existing) => existing.merge(part),
                        None => {
                            parts.insert(backend, part);
                        }
                    }
                }
            }
            let sends = parts.into_iter().map(|(b, part)| {
                let member = Arc::clone(&membership.members[b]);
                async move {
                    let result = self.send(&member, part.clone()).await;
                    (part, result)
                }
            });
            for (part, result) in futures_util::future::join_all(sends).await {
                match result {
                    Ok(()) => {}
                    Err(error) if error.is_permanent() => permanent = Some(error),
                    Err(error) => {
                        last_error = Some(error);
                        pending.push(part);
                    }
                }
            }
            if !any_up {
                break;
            }
        }
        if !pending.is_empty() {
            let error =
                last_error.unwrap_or_else(|| ConsumeError::retryable("no backend took the data"));
            return Err(error.context("every backend tried failed"));
        }
        permanent.map_or(Ok(()), Err)
    }
}

/// The production backend: the `otlp` exporter's gRPC client, without queue or retry of
/// its own (the balancer's queue holds what waits, so it can be re-routed).
pub(crate) struct OtlpBackends {
    settings: CreateSettings,
    config: Config,
}

impl OtlpBackends {
    /// Backends built from `config`'s `protocol::otlp`.
    pub(crate) fn new(settings: &CreateSettings, config: &Config) -> Self {
        OtlpBackends {
            settings: settings.clone(),
            config: config.clone(),
        }
    }
}

struct OtlpBackend<T>(GrpcExporter<T>);

#[async_trait]
impl<T: Routable> Backend<T> for OtlpBackend<T> {
    async fn send(&self, data: T) -> Result<(), ConsumeError> {
        self.0.export(data).await
    }
}

#[async_trait]
impl<T: Routable> BackendFactory<T> for OtlpBackends {
    async fn create(&self, endpoint: &str, host: &Host) -> Result<Arc<dyn Backend<T>>, String> {
        let config = self.config.backend_config(endpoint);
        let connection = GrpcConnection::new(&self.settings, &config).map_err(|e| e.to_string())?;
        let exporter = GrpcExporter::<T>::new(&self.settings, &config, Arc::new(connection))
            .map_err(|e| e.to_string())?;
        exporter.start(host).await.map_err(|e| e.to_string())?;
        Ok(Arc::new(OtlpBackend(exporter)))
    }
}
