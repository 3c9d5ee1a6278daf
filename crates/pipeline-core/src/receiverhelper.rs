//! What every receiver needs besides its protocol: tasks that shutdown waits for, servers
//! whose sockets survive reloads, the Go Collector's accepted/refused accounting, and a
//! lifecycle shared by the instances of several signals.
//!
//! - [`ReceiverTasks`]: a cancellation token and tracked spawning; `shutdown` cancels,
//!   waits for the work in flight up to a deadline, then drops what is left.
//!   [`serve_tcp`](ReceiverTasks::serve_tcp), [`serve_udp`](ReceiverTasks::serve_udp) and
//!   [`serve_http`](ReceiverTasks::serve_http) bind through
//!   [`CreateSettings::listen`] / [`listen_udp`](CreateSettings::listen_udp), so a reload
//!   that changes the receiver never refuses a client, and run their loops as tracked tasks.
//! - [`deliver`]: hands data to the pipeline and records
//!   `otelcol_receiver_{accepted,refused}_<items>` in one call.
//! - [`SharedLifecycle`]: state shared by a receiver's per-signal instances (one server for
//!   traces, metrics and logs) that starts with the first instance and stops with the last.
//!
//! Call `serve_*` in [`Component::start`](crate::component::Component::start), never when
//! creating the receiver: `validate` creates components, and must not bind ports.
//!
//! Receivers that get one item at a time (a line, a datagram) should batch on their side:
//! gather what one read or one datagram brings into one request before delivering, as the
//! example in [`ReceiverTasks::serve_tcp`] does; a pipeline call per item costs far more
//! than the item.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::component::{
    ComponentError, ConfigError, CreateSettings, check_endpoint, resolve_endpoint,
};
use crate::consumer::{ConsumeError, Next};
use crate::pdata::SignalData;
use crate::server::{RunningServer, ServerOptions};
use crate::telemetry::ReceiverMetrics;

/// The longest line [`ReceiverTasks::serve_tcp_lines`] accepts; a longer one closes the
/// connection.
pub const MAX_LINE: usize = 64 * 1024;

/// A TCP server's settings, to squash into a receiver's configuration
/// (`#[serde(rename = "server,squash")] server: TcpServerConfig`), so its keys sit at the
/// receiver's top level:
///
/// | key | default | meaning |
/// |---|---|---|
/// | `endpoint` | the receiver's | address to listen on (`host:port`) |
/// | `max_connections` | 4096 | connections served at once; more are closed at once |
///
/// ```
/// use tributary_pipeline_core::component::{ComponentConfig, ConfigError, load_config};
/// use tributary_pipeline_core::receiverhelper::TcpServerConfig;
///
/// #[derive(Debug, Default, serde::Deserialize)]
/// #[serde(default, deny_unknown_fields)]
/// struct Config {
///     #[serde(rename = "server,squash")]
///     server: TcpServerConfig,
/// }
/// impl ComponentConfig for Config {
///     fn validate(&self) -> Result<(), ConfigError> {
///         self.server.validate()
///     }
/// }
///
/// let config: Config = load_config("max_connections: 10").unwrap();
/// # tokio_test_block_on(async {
/// assert_eq!(config.server.addr("127.0.0.1:2003").await.unwrap().port(), 2003);
/// # });
/// assert!(load_config::<Config>("endpoint: nowhere").is_err());
/// // Host names are looked up at start, as in Go.
/// assert!(load_config::<Config>("endpoint: localhost:2003").is_ok());
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TcpServerConfig {
    /// Address to listen on; `None` for the receiver's default.
    pub endpoint: Option<String>,
    /// Connections served at once.
    pub max_connections: usize,
}

impl Default for TcpServerConfig {
    fn default() -> Self {
        TcpServerConfig {
            endpoint: None,
            max_connections: crate::server::DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl TcpServerConfig {
    /// Checks the endpoint (its form: a host name is looked up at start) and the
    /// connection limit; errors name their key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(endpoint) = &self.endpoint {
            check_endpoint(endpoint).map_err(|e| ConfigError::at("endpoint", e))?;
        }
        if self.max_connections == 0 {
            return Err(ConfigError::at("max_connections", "must be at least 1"));
        }
        Ok(())
    }

    /// The address to listen on: `endpoint`, or `default` when it is not set; a host name
    /// is looked up now, as the Go Collector does when it listens.
    pub async fn addr(&self, default: &str) -> Result<SocketAddr, ComponentError> {
        let endpoint = self.endpoint.as_deref().unwrap_or(default);
        resolve_endpoint(endpoint)
            .await
            .map_err(|e| ComponentError::new(format!("endpoint: {e}")))
    }
}

/// How long [`ReceiverTasks::shutdown`] waits for work in flight by default.
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

/// The largest UDP datagram, and the size of [`ReceiverTasks::serve_udp`]'s buffer.
pub const MAX_DATAGRAM: usize = 65_535;

/// A receiver's running work: tasks it spawned and servers it runs, stopped together by
/// [`shutdown`](ReceiverTasks::shutdown). Create it with the receiver (it does no I/O);
/// start serving in `start`.
///
/// A receiver of `name value` lines on TCP, delivering one gauge request per read:
///
/// ```
/// use std::sync::Arc;
/// use tokio::io::AsyncReadExt;
/// use tributary_pipeline_core::component::{Component, ComponentError, CreateSettings, Host};
/// use tributary_pipeline_core::consumer::Next;
/// use tributary_pipeline_core::pdata::Metrics;
/// use tributary_pipeline_core::receiverhelper::{self, ReceiverTasks};
/// use tributary_pipeline_core::telemetry::ReceiverMetrics;
///
/// struct Lines {
///     endpoint: std::net::SocketAddr,
///     next: Next<Metrics>,
///     metrics: ReceiverMetrics,
///     tasks: ReceiverTasks,
/// }
///
/// fn parse(text: &str) -> Metrics {
///     # let _ = text;
///     Metrics::default() // one request for everything this read brought
/// }
///
/// #[async_trait::async_trait]
/// impl Component for Lines {
///     async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
///         let (next, metrics) = (self.next.clone(), self.metrics.clone());
///         self.tasks.serve_tcp(self.endpoint, 1000, move |mut stream, _peer, stop| {
///             let (next, metrics) = (next.clone(), metrics.clone());
///             async move {
///                 let mut buffer = vec![0; 64 * 1024];
///                 loop {
///                     let read = tokio::select! {
///                         read = stream.read(&mut buffer) => read,
///                         _ = stop.cancelled() => return,
///                     };
///                     match read {
///                         Ok(0) | Err(_) => return,
///                         Ok(n) => {
///                             let text = String::from_utf8_lossy(&buffer[..n]);
///                             let _ = receiverhelper::deliver(&next, &metrics, parse(&text)).await;
///                         }
///                     }
///                 }
///             }
///         })?;
///         Ok(())
///     }
///
///     async fn shutdown(&self) -> Result<(), ComponentError> {
///         self.tasks.shutdown(receiverhelper::SHUTDOWN_DEADLINE).await
///     }
/// }
/// # fn build(settings: &CreateSettings, next: Next<Metrics>) -> Lines {
/// #     Lines {
/// #         endpoint: "127.0.0.1:0".parse().unwrap(),
/// #         metrics: ReceiverMetrics::new(settings.metrics(), settings.id(), "tcp",
/// #             tributary_pipeline_core::pdata::Signal::Metrics),
/// #         tasks: ReceiverTasks::new(settings),
/// #         next,
/// #     }
/// # }
/// ```
pub struct ReceiverTasks {
    settings: CreateSettings,
    /// Cancelled when shutdown begins: tasks should finish what they hold and return.
    stop: CancellationToken,
    spawner: TaskSpawner,
    servers: Mutex<Vec<RunningServer>>,
    shut_down: AtomicBool,
}

impl ReceiverTasks {
    /// No tasks yet, for the component `settings` describe (its span, its status).
    pub fn new(settings: &CreateSettings) -> Self {
        ReceiverTasks {
            settings: settings.clone(),
            stop: CancellationToken::new(),
            spawner: TaskSpawner {
                settings: settings.clone(),
                abort: CancellationToken::new(),
                tracker: TaskTracker::new(),
            },
            servers: Mutex::new(Vec::new()),
            shut_down: AtomicBool::new(false),
        }
    }

    /// Cancelled when shutdown begins: a task's signal to finish what it holds and return.
    pub fn stop_token(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Spawns `task` under the component's span. Shutdown waits for it; a panic in it is
    /// logged and reported as the component's status.
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.spawner.spawn(task);
    }

    /// Accepts TCP connections on `addr` (its socket shared across reloads), running
    /// `handle(stream, peer, stop)` for each as a task, at most `max_connections` at once;
    /// a connection over the limit is closed at once. `stop` is cancelled at shutdown.
    /// Returns the bound address (port 0 picks one); an address that cannot be bound is an
    /// error naming it.
    pub fn serve_tcp<H, F>(
        &self,
        addr: SocketAddr,
        max_connections: usize,
        handle: H,
    ) -> Result<SocketAddr, ComponentError>
    where
        H: Fn(TcpStream, SocketAddr, CancellationToken) -> F + Send + Sync + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        let listener = self.settings.listen(addr).map_err(cannot_listen(addr))?;
        let local_addr = listener.local_addr().map_err(cannot_listen(addr))?;
        let (listener, lease) = listener.into_parts();
        let slots = Arc::new(Semaphore::new(max_connections.max(1)));
        let stop = self.stop.clone();
        let tasks = self.spawner.clone();
        let span = self.settings.span().clone();
        self.spawn(async move {
            let _lease = lease;
            loop {
                let accepted = tokio::select! {
                    accepted = listener.accept() => accepted,
                    () = stop.cancelled() => return,
                };
                match accepted {
                    Ok((stream, peer)) => match Arc::clone(&slots).try_acquire_owned() {
                        Ok(slot) => {
                            let connection = handle(stream, peer, stop.clone());
                            tasks.spawn(async move {
                                connection.await;
                                drop(slot);
                            });
                        }
                        Err(_) => span.in_scope(|| {
                            tracing::debug!(%peer, max_connections, "refusing a connection over the limit");
                        }),
                    },
                    Err(error) => {
                        span.in_scope(|| tracing::warn!(%error, "accepting a connection failed"));
                        // Out of descriptors, usually: pause rather than spin.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
        Ok(local_addr)
    }

    /// Serves a newline-delimited protocol over TCP (Graphite plaintext, OpenTSDB telnet,
    /// `name value` lines): on each connection, the complete lines each read brings are
    /// given to `parse` at once (batching on the receiver's side), which returns the data
    /// they make and how many of them were malformed; the data goes to `next` through
    /// [`deliver`], the malformed count to `metrics`
    /// ([`record_failed`](ReceiverMetrics::record_failed)). Text that is not UTF-8 is read
    /// lossily; a line longer than [`MAX_LINE`] closes its connection. The client gets no
    /// answer, as these protocols have none. Otherwise as [`serve_tcp`](Self::serve_tcp).
    ///
    /// `server` gives the address (or `default_endpoint`) and the connection limit.
    pub async fn serve_tcp_lines<T, P>(
        &self,
        server: &TcpServerConfig,
        default_endpoint: &str,
        next: &Next<T>,
        metrics: &ReceiverMetrics,
        parse: P,
    ) -> Result<SocketAddr, ComponentError>
    where
        T: SignalData,
        P: Fn(&str) -> (T, usize) + Send + Sync + 'static,
    {
        let lines = Arc::new(LineIntake {
            next: Arc::clone(next),
            metrics: metrics.clone(),
            parse,
            span: self.settings.span().clone(),
        });
        let addr = server.addr(default_endpoint).await?;
        self.serve_tcp(addr, server.max_connections, move |stream, peer, stop| {
            Arc::clone(&lines).serve(stream, peer, stop)
        })
    }

    /// Receives datagrams on `addr` (its socket shared across reloads), calling
    /// `handle(datagram, peer)` for each in turn, until shutdown. Returns the bound
    /// address.
    pub fn serve_udp<H, F>(&self, addr: SocketAddr, handle: H) -> Result<SocketAddr, ComponentError>
    where
        H: Fn(Bytes, SocketAddr) -> F + Send + Sync + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        let socket = self
            .settings
            .listen_udp(addr)
            .map_err(cannot_listen(addr))?;
        let local_addr = socket.local_addr().map_err(cannot_listen(addr))?;
        let stop = self.stop.clone();
        let span = self.settings.span().clone();
        self.spawn(async move {
            let mut buffer = vec![0u8; MAX_DATAGRAM];
            loop {
                let received = tokio::select! {
                    received = socket.socket().recv_from(&mut buffer) => received,
                    () = stop.cancelled() => return,
                };
                match received {
                    Ok((len, peer)) => handle(Bytes::copy_from_slice(&buffer[..len]), peer).await,
                    Err(error) => {
                        span.in_scope(|| tracing::debug!(%error, "receiving a datagram failed"))
                    }
                }
            }
        });
        Ok(local_addr)
    }

    /// Serves HTTP/1 and HTTP/2 on `addr` with `router`, through the collector's shared
    /// server (connection limits, idle and header timeouts: see [`ServerOptions::http`]).
    /// Returns the bound address.
    pub fn serve_http(
        &self,
        addr: SocketAddr,
        router: axum::Router,
    ) -> Result<SocketAddr, ComponentError> {
        let listener = self.settings.listen(addr).map_err(cannot_listen(addr))?;
        let settings = self.settings.clone();
        let server = RunningServer::spawn(
            "HTTP server",
            listener.into(),
            ServerOptions::http(),
            hyper_util::service::TowerToHyperService::new(router),
            self.settings.span().clone(),
            |task| settings.spawn(task),
        )
        .map_err(cannot_listen(addr))?;
        let local_addr = server.local_addr();
        self.servers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(server);
        Ok(local_addr)
    }

    /// Stops everything: cancels the stop token, stops the HTTP servers (letting their
    /// calls finish), waits for the tasks up to `deadline`, then drops what is left. Safe
    /// to call twice, or without anything started.
    pub async fn shutdown(&self, deadline: Duration) -> Result<(), ComponentError> {
        if self.shut_down.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        self.stop.cancel();
        let servers = std::mem::take(&mut *self.servers.lock().unwrap_or_else(|e| e.into_inner()));
        for server in &servers {
            server.stop_accepting();
        }
        for server in servers {
            server.stop().await;
        }
        let TaskSpawner { tracker, abort, .. } = &self.spawner;
        tracker.close();
        if tokio::time::timeout(deadline, tracker.wait()).await.is_ok() {
            return Ok(());
        }
        let left = tracker.len();
        abort.cancel();
        tracker.wait().await;
        Err(ComponentError::new(format!(
            "{left} tasks were still running {deadline:?} after shutdown began; they were dropped"
        )))
    }
}

/// The error of a socket that could not be bound or served, naming the address.
fn cannot_listen(addr: SocketAddr) -> impl FnOnce(io::Error) -> ComponentError {
    move |error| ComponentError::with_source(format!("cannot listen on {addr}"), error)
}

/// Tracked spawning, for [`ReceiverTasks`] and the tasks it runs: a task is dropped at
/// its next await once `abort` is cancelled, and `tracker` counts it until it ends.
#[derive(Clone)]
struct TaskSpawner {
    settings: CreateSettings,
    /// Cancelled when the shutdown deadline passed.
    abort: CancellationToken,
    tracker: TaskTracker,
}

impl TaskSpawner {
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, task: F) {
        let abort = self.abort.clone();
        let task = self.tracker.track_future(async move {
            tokio::select! {
                () = task => {}
                () = abort.cancelled() => {}
            }
        });
        self.settings
            .spawn(task.instrument(self.settings.span().clone()));
    }
}

/// A whole receiver of a newline-delimited protocol over TCP: what
/// [`ReceiverTasks::serve_tcp_lines`] serves, started and stopped as a component. A
/// line-protocol receiver (Graphite plaintext, OpenTSDB telnet) is then its config, its
/// factory and its `parse` function; `transport` in its metrics is `tcp`.
///
/// ```
/// use std::sync::Arc;
/// use tributary_pipeline_core::prelude::*;
///
/// fn create(
///     settings: &CreateSettings,
///     server: &TcpServerConfig,
///     next: Next<Logs>,
/// ) -> Result<Arc<dyn Receiver>, CreateError> {
///     Ok(receiverhelper::tcp_lines_receiver(settings, server, "127.0.0.1:5140", next, |text| {
///         let mut logs = LogsBuilder::new();
///         for line in text.lines() {
///             logs.record(line);
///         }
///         (logs.build(), 0)
///     }))
/// }
/// ```
pub fn tcp_lines_receiver<T, P>(
    settings: &CreateSettings,
    server: &TcpServerConfig,
    default_endpoint: &'static str,
    next: Next<T>,
    parse: P,
) -> Arc<dyn crate::component::Receiver>
where
    T: SignalData,
    P: Fn(&str) -> (T, usize) + Send + Sync + 'static,
{
    Arc::new(TcpLinesReceiver {
        server: server.clone(),
        default_endpoint,
        metrics: ReceiverMetrics::new(settings.metrics(), settings.id(), "tcp", T::SIGNAL),
        tasks: ReceiverTasks::new(settings),
        parse: Arc::new(parse),
        next,
    })
}

/// See [`tcp_lines_receiver`].
struct TcpLinesReceiver<T, P> {
    server: TcpServerConfig,
    default_endpoint: &'static str,
    next: Next<T>,
    metrics: ReceiverMetrics,
    tasks: ReceiverTasks,
    parse: Arc<P>,
}

#[async_trait::async_trait]
impl<T, P> crate::component::Component for TcpLinesReceiver<T, P>
where
    T: SignalData,
    P: Fn(&str) -> (T, usize) + Send + Sync + 'static,
{
    async fn start(&self, _host: &crate::component::Host) -> Result<(), ComponentError> {
        let parse = Arc::clone(&self.parse);
        self.tasks
            .serve_tcp_lines(
                &self.server,
                self.default_endpoint,
                &self.next,
                &self.metrics,
                move |text| parse(text),
            )
            .await?;
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.tasks.shutdown(SHUTDOWN_DEADLINE).await
    }
}

/// One line-protocol receiver's connections: see [`ReceiverTasks::serve_tcp_lines`].
struct LineIntake<T, P> {
    next: Next<T>,
    metrics: ReceiverMetrics,
    parse: P,
    span: tracing::Span,
}

impl<T, P> LineIntake<T, P>
where
    T: SignalData,
    P: Fn(&str) -> (T, usize) + Send + Sync + 'static,
{
    async fn serve(
        self: Arc<Self>,
        mut stream: TcpStream,
        peer: SocketAddr,
        stop: CancellationToken,
    ) {
        use tokio::io::AsyncReadExt;
        let (mut buffer, mut filled) = (vec![0; MAX_LINE], 0);
        loop {
            let read = tokio::select! {
                read = stream.read(&mut buffer[filled..]) => read,
                () = stop.cancelled() => return,
            };
            let Ok(read @ 1..) = read else { return };
            filled += read;
            // Complete lines only: a partial last line waits for the next read.
            let Some(end) = buffer[..filled].iter().rposition(|b| *b == b'\n') else {
                if filled == MAX_LINE {
                    self.span.in_scope(|| {
                        tracing::debug!(%peer, "closing a connection whose line exceeds {MAX_LINE} bytes");
                    });
                    self.metrics.record_failed(1);
                    return;
                }
                continue;
            };
            let (data, malformed) = (self.parse)(&String::from_utf8_lossy(&buffer[..end]));
            buffer.copy_within(end + 1..filled, 0);
            filled -= end + 1;
            self.metrics.record_failed(malformed);
            // No answer to give: a refusal is counted by `deliver`.
            let _ = deliver(&self.next, &self.metrics, data).await;
        }
    }
}

/// Hands `data` to `next` and records the outcome in `metrics`
/// (`otelcol_receiver_accepted_<items>` or `..._refused_<items>`, and the receive span). Data without items
/// succeeds without reaching the pipeline.
pub async fn deliver<T: SignalData>(
    next: &Next<T>,
    metrics: &ReceiverMetrics,
    data: T,
) -> Result<(), ConsumeError> {
    let items = data.item_count();
    if items == 0 {
        return Ok(());
    }
    let started = std::time::SystemTime::now();
    let outcome = next.consume(data).await;
    metrics.record_operation(started, items, &outcome);
    outcome
}

/// State shared by the per-signal instances of one component (through
/// [`CreateSettings::shared`]) that runs while at least one instance is started: the first
/// [`start`](SharedLifecycleMember::start) starts it, the last
/// [`shutdown`](SharedLifecycleMember::shutdown) stops it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::sync::Arc;
/// use tributary_pipeline_core::receiverhelper::SharedLifecycle;
///
/// let server: Arc<SharedLifecycle<&str>> = Arc::new(SharedLifecycle::new());
/// let (traces, logs) = (server.member(), server.member());
/// traces.start(|| async { Ok("listening") }).await.unwrap();
/// logs.start(|| async { unreachable!("already running") }).await.unwrap();
/// traces.shutdown(|_| async { unreachable!("logs still runs") }).await.unwrap();
/// assert_eq!(server.running().await, Some("listening"));
/// logs.shutdown(|running| async move {
///     assert_eq!(running, "listening");
///     Ok(())
/// })
/// .await
/// .unwrap();
/// assert_eq!(server.running().await, None);
/// # }
/// ```
pub struct SharedLifecycle<R> {
    state: tokio::sync::Mutex<Shared<R>>,
}

struct Shared<R> {
    members: usize,
    running: Option<R>,
}

impl<R: Send> Default for SharedLifecycle<R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R: Send> SharedLifecycle<R> {
    /// Not running, with no member started.
    pub fn new() -> Self {
        SharedLifecycle {
            state: tokio::sync::Mutex::new(Shared {
                members: 0,
                running: None,
            }),
        }
    }

    /// A handle for one instance; each instance's start and shutdown count once, however
    /// often they are called.
    pub fn member(self: &Arc<Self>) -> SharedLifecycleMember<R> {
        SharedLifecycleMember {
            lifecycle: Arc::clone(self),
            started: AtomicBool::new(false),
        }
    }

    /// Runs `f` on what runs, if it runs.
    pub async fn with_running<T>(&self, f: impl FnOnce(Option<&R>) -> T) -> T {
        f(self.state.lock().await.running.as_ref())
    }

    /// A copy of what runs, if it runs.
    pub async fn running(&self) -> Option<R>
    where
        R: Clone,
    {
        self.state.lock().await.running.clone()
    }
}

/// One instance's share of a [`SharedLifecycle`].
pub struct SharedLifecycleMember<R> {
    lifecycle: Arc<SharedLifecycle<R>>,
    started: AtomicBool,
}

impl<R: Send> SharedLifecycleMember<R> {
    /// Starts the shared state with `start` unless another instance did; counts this
    /// instance as started. If `start` fails, nothing is counted.
    pub async fn start<F, Fut>(&self, start: F) -> Result<(), ComponentError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<R, ComponentError>>,
    {
        let mut state = self.lifecycle.state.lock().await;
        if self.started.load(Ordering::SeqCst) {
            return Ok(());
        }
        if state.members == 0 {
            state.running = Some(start().await?);
        }
        state.members += 1;
        self.started.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Counts this instance as stopped; the last one stops the shared state with `stop`
    /// and returns its outcome. Does nothing for an instance not started.
    pub async fn shutdown<F, Fut>(&self, stop: F) -> Result<(), ComponentError>
    where
        F: FnOnce(R) -> Fut,
        Fut: Future<Output = Result<(), ComponentError>>,
    {
        let mut state = self.lifecycle.state.lock().await;
        if !self.started.swap(false, Ordering::SeqCst) {
            return Ok(());
        }
        state.members -= 1;
        match state.running.take() {
            Some(running) if state.members == 0 => stop(running).await,
            other => {
                state.running = other;
                Ok(())
            }
        }
    }

    /// Runs `f` on what runs, if it runs.
    pub async fn with_running<T>(&self, f: impl FnOnce(Option<&R>) -> T) -> T {
        self.lifecycle.with_running(f).await
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use tokio::io::AsyncReadExt;

    use super::*;
    use crate::component::Kind;
    use crate::pdata::{Signal, Traces};
    use crate::testing::{Reply, Sink, settings};

    fn tasks() -> ReceiverTasks {
        ReceiverTasks::new(&settings::<Traces>(Kind::Receiver, "lines"))
    }

    fn localhost() -> SocketAddr {
        "127.0.0.1:0".parse().unwrap()
    }

    #[tokio::test]
    async fn tcp_connections_are_served_until_shutdown_which_releases_the_port() {
        let tasks = tasks();
        let (seen, mut seen_rx) = tokio::sync::mpsc::unbounded_channel();
        let addr = tasks
            .serve_tcp(localhost(), 10, move |mut stream, _, stop| {
                let seen = seen.clone();
                async move {
                    let mut text = String::new();
                    tokio::select! {
                        _ = stream.read_to_string(&mut text) => {}
                        () = stop.cancelled() => {}
                    }
                    seen.send(text).unwrap();
                }
            })
            .unwrap();
        let mut client = std::net::TcpStream::connect(addr).unwrap();
        client.write_all(b"temperature 21.5\n").unwrap();
        drop(client);
        assert_eq!(seen_rx.recv().await.unwrap(), "temperature 21.5\n");
        // A connection still open at shutdown is told to stop; shutdown waits for it.
        let _open = std::net::TcpStream::connect(addr).unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        tasks.shutdown(SHUTDOWN_DEADLINE).await.unwrap();
        assert_eq!(seen_rx.recv().await.unwrap(), "");
        std::net::TcpListener::bind(addr).expect("port released");
        tasks.shutdown(SHUTDOWN_DEADLINE).await.unwrap();
    }

    #[tokio::test]
    async fn connections_over_the_limit_are_closed() {
        let tasks = tasks();
        let addr = tasks
            .serve_tcp(localhost(), 1, |_stream, _, stop| async move {
                stop.cancelled().await;
            })
            .unwrap();
        let _first = std::net::TcpStream::connect(addr).unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut second = std::net::TcpStream::connect(addr).unwrap();
        second
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let read = tokio::task::spawn_blocking(move || second.read(&mut [0u8; 1]))
            .await
            .unwrap();
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
        tasks.shutdown(SHUTDOWN_DEADLINE).await.unwrap();
    }

    #[tokio::test]
    async fn datagrams_are_handed_over_one_by_one() {
        let tasks = tasks();
        let (seen, mut seen_rx) = tokio::sync::mpsc::unbounded_channel();
        let addr = tasks
            .serve_udp(localhost(), move |datagram, _| {
                let seen = seen.clone();
                async move { seen.send(datagram).unwrap() }
            })
            .unwrap();
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        sender.send_to(b"hits:1|c", addr).unwrap();
        sender.send_to(b"hits:2|c", addr).unwrap();
        assert_eq!(&seen_rx.recv().await.unwrap()[..], b"hits:1|c");
        assert_eq!(&seen_rx.recv().await.unwrap()[..], b"hits:2|c");
        tasks.shutdown(SHUTDOWN_DEADLINE).await.unwrap();
        std::net::UdpSocket::bind(addr).expect("port released");
    }

    #[tokio::test]
    async fn http_is_served_through_the_shared_server() {
        let tasks = tasks();
        let router = axum::Router::new().route("/ping", axum::routing::get(|| async { "pong" }));
        let addr = tasks.serve_http(localhost(), router).unwrap();
        let answer = tokio::task::spawn_blocking(move || {
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream
                .write_all(b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).unwrap();
            answer
        })
        .await
        .unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 200") && answer.ends_with("pong"),
            "{answer}"
        );
        tasks.shutdown(SHUTDOWN_DEADLINE).await.unwrap();
        std::net::TcpListener::bind(addr).expect("port released");
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_ignoring_the_stop_is_dropped_at_the_deadline() {
        let tasks = tasks();
        let dropped = Arc::new(AtomicBool::new(false));
        struct SetOnDrop(Arc<AtomicBool>);
        impl Drop for SetOnDrop {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let guard = SetOnDrop(Arc::clone(&dropped));
        tasks.spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
        let error = tasks.shutdown(Duration::from_secs(2)).await.unwrap_err();
        assert!(
            error.to_string().contains("1 tasks were still running"),
            "{error}"
        );
        assert!(dropped.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn deliver_counts_accepted_and_refused_items() {
        let settings = settings::<Traces>(Kind::Receiver, "lines");
        let metrics =
            ReceiverMetrics::new(settings.metrics(), settings.id(), "tcp", Signal::Traces);
        let sink = Sink::<Traces>::new();
        let next = sink.next();
        let spans = || {
            let mut traces = Traces::default();
            traces.make_mut().resource_spans = vec![Default::default()];
            traces.make_mut().resource_spans[0].scope_spans = vec![Default::default()];
            traces.make_mut().resource_spans[0].scope_spans[0].spans = vec![Default::default(); 3];
            traces
        };
        deliver(&next, &metrics, spans()).await.unwrap();
        sink.then(Reply::Refuse(ConsumeError::retryable("busy")));
        deliver(&next, &metrics, spans()).await.unwrap_err();
        deliver(&next, &metrics, Traces::default()).await.unwrap();
        let count = |name| {
            settings
                .metrics()
                .value(name, &[("receiver", "lines"), ("transport", "tcp")])
        };
        assert_eq!(count("otelcol_receiver_accepted_spans"), Some(3.0));
        assert_eq!(count("otelcol_receiver_refused_spans"), Some(3.0));
        assert_eq!(
            sink.calls(),
            2,
            "an empty request never reaches the pipeline"
        );
    }
}
