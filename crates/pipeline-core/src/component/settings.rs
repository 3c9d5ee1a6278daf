//! What a factory is given when it creates a component.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use futures_util::FutureExt;
use tributary_confmap::Value;
use tributary_featuregate::Registry;

use super::{
    ComponentId, ComponentStatus, CreateError, Kind, PipelineId, ProgressTracker, StatusRegistry,
    StatusReporter,
};
use crate::pdata::Signal;
use crate::telemetry::MetricsRegistry;

/// The program a component runs in: its command name, description and version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildInfo {
    /// The command name (`tributary-gateway`).
    pub command: String,
    /// A one-line description.
    pub description: String,
    /// The program's version.
    pub version: String,
}

impl Default for BuildInfo {
    fn default() -> Self {
        BuildInfo {
            command: "tributary".into(),
            description: "Tributary telemetry collector".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// Everything a factory gets to create one component instance: its identity, the
/// collector's telemetry, and the collector-wide facilities components share (instances
/// shared between signals, listening sockets kept across reloads).
///
/// Component tests build one with [`CreateSettings::standalone`].
#[derive(Clone)]
pub struct CreateSettings {
    id: ComponentId,
    kind: Kind,
    signal: Option<Signal>,
    pipeline: Option<PipelineId>,
    build_info: Arc<BuildInfo>,
    metrics: MetricsRegistry,
    status: StatusReporter,
    span: tracing::Span,
    feature_gates: &'static Registry,
    shared: SharedInstances,
    listeners: ListenerRegistry,
    raw_config: Arc<Value>,
    generation: u64,
}

impl fmt::Debug for CreateSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateSettings")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("signal", &self.signal)
            .field("pipeline", &self.pipeline)
            .finish_non_exhaustive()
    }
}

/// The collector-wide parts of [`CreateSettings`], from which the framework makes the
/// settings of each instance.
#[derive(Clone)]
pub(crate) struct CollectorFacilities {
    pub build_info: Arc<BuildInfo>,
    pub metrics: MetricsRegistry,
    pub status: StatusRegistry,
    /// What the collector offers every component through the [`Host`](super::Host), by
    /// type: its health.
    pub services: Vec<Arc<dyn Any + Send + Sync>>,
    pub feature_gates: &'static Registry,
    pub shared: SharedInstances,
    pub listeners: ListenerRegistry,
    /// Which graph build the settings are for (see [`ListenerRegistry`]).
    pub generation: u64,
    generations: Arc<AtomicU64>,
}

impl CollectorFacilities {
    pub(crate) fn new(build_info: BuildInfo, feature_gates: &'static Registry) -> Self {
        let status = StatusRegistry::default();
        CollectorFacilities {
            build_info: Arc::new(build_info),
            metrics: MetricsRegistry::new(),
            services: Vec::new(),
            status,
            feature_gates,
            shared: SharedInstances::default(),
            listeners: ListenerRegistry::default(),
            generation: 0,
            generations: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The facilities for a new graph build: the same shared state, a new generation.
    pub(crate) fn next_generation(&self) -> Self {
        CollectorFacilities {
            generation: self.generations.fetch_add(1, Ordering::Relaxed) + 1,
            ..self.clone()
        }
    }

    /// The settings for one instance.
    pub(crate) fn settings(
        &self,
        kind: Kind,
        id: &ComponentId,
        signal: Option<Signal>,
        pipeline: Option<&PipelineId>,
        raw_config: Arc<Value>,
    ) -> CreateSettings {
        let span = match (signal, pipeline) {
            (_, Some(pipeline)) => {
                tracing::info_span!("component", otelcol.component.kind = kind.as_str(), otelcol.component.id = %id, otelcol.pipeline.id = %pipeline)
            }
            (Some(signal), None) => {
                tracing::info_span!("component", otelcol.component.kind = kind.as_str(), otelcol.component.id = %id, otelcol.signal = signal.as_str())
            }
            (None, None) => {
                tracing::info_span!("component", otelcol.component.kind = kind.as_str(), otelcol.component.id = %id)
            }
        };
        CreateSettings {
            id: id.clone(),
            kind,
            signal,
            pipeline: pipeline.cloned(),
            build_info: Arc::clone(&self.build_info),
            metrics: self.metrics.clone(),
            status: self.status.reporter(kind, id),
            span,
            feature_gates: self.feature_gates,
            shared: self.shared.clone(),
            listeners: self.listeners.clone(),
            raw_config,
            generation: self.generation,
        }
    }
}

impl CreateSettings {
    /// Settings for creating a component outside a collector: in a component's own tests,
    /// or to drive a component by hand. It gets a fresh metrics registry, the process-wide
    /// feature-gate registry, and facilities shared with nothing else.
    pub fn standalone(kind: Kind, id: ComponentId, signal: Option<Signal>) -> Self {
        CollectorFacilities::new(BuildInfo::default(), Registry::global()).settings(
            kind,
            &id,
            signal,
            None,
            Arc::new(Value::Null),
        )
    }

    /// Settings for the same component and collector, for another signal: what a factory
    /// is given for each signal of a component that serves several (for tests of such
    /// components; the graph does this itself).
    pub fn for_signal(&self, signal: Signal) -> Self {
        CreateSettings {
            signal: Some(signal),
            ..self.clone()
        }
    }

    /// Settings for a part of this component that keeps state under an ID of its own,
    /// such as one of an exporter's per-backend queues (whose persistent queue and
    /// counters must not mix with its siblings'): the same collector, kind, signal,
    /// pipeline, span and status reporter, with the ID `id`.
    pub fn for_part(&self, id: ComponentId) -> Self {
        CreateSettings { id, ..self.clone() }
    }

    /// The component's ID.
    pub fn id(&self) -> &ComponentId {
        &self.id
    }

    /// The component's kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The signal of the instance being created (`None` for extensions).
    pub fn signal(&self) -> Option<Signal> {
        self.signal
    }

    /// For a processor, the pipeline it belongs to.
    pub fn pipeline(&self) -> Option<&PipelineId> {
        self.pipeline.as_ref()
    }

    /// The program the component runs in.
    pub fn build_info(&self) -> &BuildInfo {
        &self.build_info
    }

    /// The collector's metrics, where the component registers its own.
    pub fn metrics(&self) -> &MetricsRegistry {
        &self.metrics
    }

    /// Where the component reports its health ([`ComponentStatus`]).
    pub fn status(&self) -> &StatusReporter {
        &self.status
    }

    /// A tracing span carrying the component's kind and ID (`otelcol.component.id`); enter
    /// it, or instrument the component's tasks with it, so every log line names the
    /// component.
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// The collector's feature gates.
    pub fn feature_gates(&self) -> &'static Registry {
        self.feature_gates
    }

    /// One value shared by every instance of this component (same kind and ID) created
    /// from the same configuration: `create` runs for the first instance, the others get
    /// the same `Arc`. The OTLP receiver uses it so its traces, metrics and logs instances
    /// share one gRPC server. The value lives while some instance holds it; if the
    /// component's configuration changes (on a reload), a new value is created.
    pub fn shared<S: Send + Sync + 'static>(
        &self,
        create: impl FnOnce() -> Result<S, CreateError>,
    ) -> Result<Arc<S>, CreateError> {
        self.shared
            .get_or_create(self.kind, &self.id, &self.raw_config, create)
    }

    /// A value this component instance hands to its successor: the instance of the same
    /// kind, ID, pipeline and signal that a later configuration of this collector creates
    /// gets the same `Arc`, *whatever its configuration*, as long as its predecessor still
    /// holds it (a reload creates the new graph before it stops the old one); otherwise
    /// `create` makes a new value. For state that should outlive a configuration change —
    /// a processor's memory of each series — which the new instance then prunes to what its
    /// own configuration still wants. Old and new instance share the value for the moment
    /// both run, so it must be safe to use from both (behind a lock).
    ///
    /// ```
    /// use std::sync::Mutex;
    /// use tributary_pipeline_core::component::Kind;
    /// use tributary_pipeline_core::pdata::Metrics;
    ///
    /// let settings = tributary_pipeline_core::testing::settings::<Metrics>(Kind::Processor, "rate");
    /// let first = settings.carried_over(|| Mutex::new(vec![1]));
    /// // The next configuration's instance of the same processor, while `first` still lives:
    /// let next = settings.carried_over(|| Mutex::new(Vec::<i32>::new()));
    /// assert_eq!(*next.lock().unwrap(), [1]);
    /// ```
    pub fn carried_over<S: Send + Sync + 'static>(&self, create: impl FnOnce() -> S) -> Arc<S> {
        let key = (
            self.kind,
            self.id.clone(),
            self.pipeline.clone(),
            self.signal,
            TypeId::of::<S>(),
        );
        self.shared.carried_over(key, create)
    }

    /// A listening TCP socket on `addr`. If a component of an earlier configuration of this
    /// collector still listens on that address (the previous instance of a receiver during a
    /// reload), the same socket is shared instead of bound again, so clients are never
    /// refused while the new instance takes over. Another component of the *same*
    /// configuration on that address is an "address in use" error, as is a port taken by
    /// another process. Port 0 always binds a new socket.
    pub fn listen(&self, addr: SocketAddr) -> io::Result<SharedListener> {
        self.listeners
            .listen(addr, (self.kind, self.id.clone()), self.generation)
    }

    /// A bound UDP socket on `addr`, shared across reloads with the same rules as
    /// [`listen`](Self::listen).
    pub fn listen_udp(&self, addr: SocketAddr) -> io::Result<SharedUdpSocket> {
        self.listeners
            .listen_udp(addr, (self.kind, self.id.clone()), self.generation)
    }

    /// A tracker of the component's progress, which the health check reads: see
    /// [`StatusReporter::track_progress`].
    pub fn progress_tracker(&self, what: &'static str) -> Arc<ProgressTracker> {
        self.status.track_progress(what)
    }

    /// Spawns a task on behalf of the component. If the task panics, the panic is logged
    /// and the component is reported as failed ([`ComponentStatus::PermanentError`]),
    /// so the health check shows it instead of the task dying silently.
    pub fn spawn<F>(&self, task: F) -> tokio::task::JoinHandle<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let settings = self.clone();
        tokio::spawn(async move {
            if let Err(panic) = AssertUnwindSafe(task).catch_unwind().await {
                settings.report_panic("task", &*panic);
            }
        })
    }

    /// Reports a panic caught in the component's work, `what` naming that work (`"task"`,
    /// `"export"`): logs it at error level under the component's span and reports the
    /// component as failed ([`ComponentStatus::PermanentError`]), since a panic is a bug
    /// that going on does not fix. Returns the panic's message.
    pub(crate) fn report_panic(&self, what: &str, panic: &(dyn Any + Send)) -> String {
        let message = panic_message(panic);
        let _entered = self.span.enter();
        tracing::error!(panic = %message, "{what} panicked");
        self.status.report(ComponentStatus::PermanentError(format!(
            "{what} panicked: {message}"
        )));
        message
    }
}

/// The text of a panic payload.
pub(crate) fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".into()
    }
}

// ---- Shared instances ----

struct SharedEntry {
    config: Arc<Value>,
    instance: Weak<dyn Any + Send + Sync>,
}

/// Identifies a shared value: the component and the value's type.
type SharedKey = (Kind, ComponentId, TypeId);

/// Identifies a value carried over reloads: the component instance and the value's type.
type CarriedKey = (
    Kind,
    ComponentId,
    Option<PipelineId>,
    Option<Signal>,
    TypeId,
);

/// Values shared by the per-signal instances of one component; see [`CreateSettings::shared`].
/// Also the values component instances hand to their successors; see
/// [`CreateSettings::carried_over`].
#[derive(Clone, Default)]
pub(crate) struct SharedInstances {
    entries: Arc<Mutex<HashMap<SharedKey, SharedEntry>>>,
    carried: Arc<Mutex<HashMap<CarriedKey, Weak<dyn Any + Send + Sync>>>>,
}

impl SharedInstances {
    fn get_or_create<S: Send + Sync + 'static>(
        &self,
        kind: Kind,
        id: &ComponentId,
        config: &Arc<Value>,
        create: impl FnOnce() -> Result<S, CreateError>,
    ) -> Result<Arc<S>, CreateError> {
        let key = (kind, id.clone(), TypeId::of::<S>());
        {
            let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(entry) = entries.get(&key)
                && *entry.config == **config
                && let Some(instance) = entry.instance.upgrade()
                && let Ok(shared) = instance.downcast::<S>()
            {
                return Ok(shared);
            }
        }
        // Not under the lock: `create` may itself ask for shared values.
        let shared = Arc::new(create()?);
        let erased: Arc<dyn Any + Send + Sync> = shared.clone();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, entry| entry.instance.strong_count() > 0);
        entries.insert(
            key,
            SharedEntry {
                config: Arc::clone(config),
                instance: Arc::downgrade(&erased),
            },
        );
        Ok(shared)
    }

    fn carried_over<S: Send + Sync + 'static>(
        &self,
        key: CarriedKey,
        create: impl FnOnce() -> S,
    ) -> Arc<S> {
        let mut carried = self.carried.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(value) = carried.get(&key).and_then(Weak::upgrade)
            && let Ok(value) = value.downcast::<S>()
        {
            return value;
        }
        let value = Arc::new(create());
        let erased: Arc<dyn Any + Send + Sync> = value.clone();
        carried.retain(|_, held| held.strong_count() > 0);
        carried.insert(key, Arc::downgrade(&erased));
        value
    }
}

// ---- Listening sockets ----

/// Who holds a lease on a socket: a component of one graph generation.
type Holder = ((Kind, ComponentId), u64);

/// A bound socket, TCP listening or UDP.
#[derive(Clone)]
enum BoundSocket {
    Tcp(Arc<std::net::TcpListener>),
    Udp(Arc<std::net::UdpSocket>),
}

impl BoundSocket {
    fn bind(transport: SocketTransport, addr: SocketAddr) -> io::Result<BoundSocket> {
        Ok(match transport {
            SocketTransport::Tcp => {
                let socket = tcp_listener(addr)?;
                socket.set_nonblocking(true)?;
                BoundSocket::Tcp(Arc::new(socket))
            }
            SocketTransport::Udp => {
                let socket = std::net::UdpSocket::bind(addr)?;
                socket.set_nonblocking(true)?;
                BoundSocket::Udp(Arc::new(socket))
            }
        })
    }
}

/// Connections the kernel may hold established but not yet accepted (capped by
/// `net.core.somaxconn`, 4096 by default, which Go's listeners use too).
const LISTEN_BACKLOG: i32 = 4096;

/// A TCP listener on `addr`. Not `std::net::TcpListener::bind`: it listens with a backlog
/// of 128, and a thousand clients connecting at once to a collector short of CPU overflow
/// that queue; the kernel then answers with SYN cookies and drops the handshakes' ends, and
/// clients see their connections reset under load (measured: up to 181 requests a step
/// in the overload sweep).
fn tcp_listener(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    // As std does on Unix: a restarted collector can bind while old connections linger.
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    Ok(socket.into())
}

/// The transport of a shared socket: part of its key, as TCP and UDP ports are distinct.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum SocketTransport {
    Tcp,
    Udp,
}

struct ListenerEntry {
    socket: BoundSocket,
    holders: Vec<Holder>,
}

/// Listening sockets by address, shared across configuration reloads; see
/// [`CreateSettings::listen`]. Each graph build is a new generation: a socket is shared
/// with holders of earlier generations (the configuration being replaced), never between
/// two components of the same generation.
#[derive(Clone, Default)]
pub(crate) struct ListenerRegistry {
    entries: Arc<Mutex<HashMap<(SocketTransport, SocketAddr), ListenerEntry>>>,
}

impl ListenerRegistry {
    /// The socket bound to `addr` for `transport`, shared with holders of earlier
    /// generations, and a lease on it.
    fn bind(
        &self,
        transport: SocketTransport,
        addr: SocketAddr,
        owner: (Kind, ComponentId),
        generation: u64,
    ) -> io::Result<(BoundSocket, ListenerLease)> {
        let holder: Holder = (owner, generation);
        let key = (transport, addr);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let socket = match entries.get_mut(&key) {
            Some(entry) if addr.port() != 0 => {
                if let Some(((kind, id), _)) = entry
                    .holders
                    .iter()
                    .find(|(other, g)| *g == generation && *other != holder.0)
                {
                    return Err(io::Error::new(
                        io::ErrorKind::AddrInUse,
                        format!("{addr} is already used by {kind} {id}"),
                    ));
                }
                entry.holders.push(holder.clone());
                entry.socket.clone()
            }
            _ => {
                let socket = BoundSocket::bind(transport, addr)?;
                if addr.port() != 0 {
                    entries.insert(
                        key,
                        ListenerEntry {
                            socket: socket.clone(),
                            holders: vec![holder.clone()],
                        },
                    );
                }
                socket
            }
        };
        drop(entries);
        let lease = ListenerLease {
            registry: self.clone(),
            key,
            holder,
        };
        Ok((socket, lease))
    }

    fn listen(
        &self,
        addr: SocketAddr,
        owner: (Kind, ComponentId),
        generation: u64,
    ) -> io::Result<SharedListener> {
        let (BoundSocket::Tcp(socket), lease) =
            self.bind(SocketTransport::Tcp, addr, owner, generation)?
        else {
            unreachable!("a TCP key holds a TCP socket");
        };
        // Each holder gets its own descriptor for the same socket, so one holder closing
        // its copy leaves the others listening.
        let listener = socket
            .try_clone()
            .and_then(tokio::net::TcpListener::from_std)?;
        Ok(SharedListener {
            listener,
            _lease: lease,
        })
    }

    fn listen_udp(
        &self,
        addr: SocketAddr,
        owner: (Kind, ComponentId),
        generation: u64,
    ) -> io::Result<SharedUdpSocket> {
        let (BoundSocket::Udp(socket), lease) =
            self.bind(SocketTransport::Udp, addr, owner, generation)?
        else {
            unreachable!("a UDP key holds a UDP socket");
        };
        let socket = socket
            .try_clone()
            .and_then(tokio::net::UdpSocket::from_std)?;
        Ok(SharedUdpSocket {
            socket,
            _lease: lease,
        })
    }

    fn release(&self, key: (SocketTransport, SocketAddr), holder: &Holder) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = entries.get_mut(&key) {
            if let Some(position) = entry.holders.iter().position(|h| h == holder) {
                entry.holders.swap_remove(position);
            }
            if entry.holders.is_empty() {
                entries.remove(&key);
            }
        }
    }
}

struct ListenerLease {
    registry: ListenerRegistry,
    key: (SocketTransport, SocketAddr),
    holder: Holder,
}

impl Drop for ListenerLease {
    fn drop(&mut self) {
        if self.key.1.port() != 0 {
            self.registry.release(self.key, &self.holder);
        }
    }
}

/// A listening TCP socket from [`CreateSettings::listen`]. Keep it (or the lease from
/// [`into_parts`](Self::into_parts)) for as long as the component serves; dropping it
/// lets the collector close the socket once no other instance uses it.
pub struct SharedListener {
    listener: tokio::net::TcpListener,
    _lease: ListenerLease,
}

impl fmt::Debug for SharedListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedListener")
            .field("local_addr", &self.listener.local_addr().ok())
            .finish()
    }
}

impl SharedListener {
    /// The address actually bound (with the real port when port 0 was asked for).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The listener, to accept on.
    pub fn listener(&self) -> &tokio::net::TcpListener {
        &self.listener
    }

    /// The listener and a guard that keeps the socket registered while held.
    pub fn into_parts(self) -> (tokio::net::TcpListener, impl Send + Sync + 'static) {
        (self.listener, self._lease)
    }
}

/// A bound UDP socket from [`CreateSettings::listen_udp`], shared across reloads as
/// [`SharedListener`] is: while an earlier configuration's instance still holds it, both
/// read datagrams from it. Keep it for as long as the component serves.
pub struct SharedUdpSocket {
    socket: tokio::net::UdpSocket,
    _lease: ListenerLease,
}

impl fmt::Debug for SharedUdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedUdpSocket")
            .field("local_addr", &self.socket.local_addr().ok())
            .finish()
    }
}

impl SharedUdpSocket {
    /// The address actually bound (with the real port when port 0 was asked for).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// The socket, to receive from.
    pub fn socket(&self) -> &tokio::net::UdpSocket {
        &self.socket
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(id: &str) -> (Kind, ComponentId) {
        (Kind::Receiver, id.parse().unwrap())
    }

    fn free_addr() -> SocketAddr {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
    }

    #[tokio::test]
    async fn a_socket_is_shared_across_generations_only() {
        let registry = ListenerRegistry::default();
        let addr = free_addr();
        let first = registry.listen(addr, owner("otlp"), 1).unwrap();
        // Another component of the same configuration: refused.
        let err = registry.listen(addr, owner("otlp/other"), 1).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        assert!(
            err.to_string().contains("already used by receiver otlp"),
            "{err}"
        );
        // The same component again (another signal's instance): shared.
        let again = registry.listen(addr, owner("otlp"), 1).unwrap();
        // The next configuration, even under a new name: shared, so no connection is refused.
        let next = registry.listen(addr, owner("otlp/renamed"), 2).unwrap();
        assert_eq!(next.local_addr().unwrap(), addr);
        drop((first, again));
        // Once the last holder lets go, the socket is closed and the port free again.
        drop(next);
        std::net::TcpListener::bind(addr).expect("port released");
    }

    #[tokio::test]
    async fn a_port_taken_by_another_process_is_an_error() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let registry = ListenerRegistry::default();
        let err = registry
            .listen(taken.local_addr().unwrap(), owner("otlp"), 1)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
    }

    #[tokio::test]
    async fn a_udp_socket_is_shared_across_generations_and_apart_from_tcp() {
        let registry = ListenerRegistry::default();
        // A port number free for both UDP and TCP: another process may hold the TCP port of
        // the number the kernel picked for UDP, so look until both are free.
        let addr = (0..100)
            .find_map(|_| {
                let udp = std::net::UdpSocket::bind("127.0.0.1:0").ok()?;
                let addr = udp.local_addr().ok()?;
                std::net::TcpListener::bind(addr).ok().map(|_| addr)
            })
            .expect("a port number free for UDP and TCP");
        let first = registry.listen_udp(addr, owner("statsd"), 1).unwrap();
        let err = registry.listen_udp(addr, owner("statsd/2"), 1).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        let next = registry.listen_udp(addr, owner("statsd"), 2).unwrap();
        // The TCP port of the same number is another socket.
        let tcp = registry.listen(addr, owner("statsd/2"), 1);
        assert!(tcp.is_ok(), "{:?}", tcp.err());
        drop(tcp);
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        sender.send_to(b"hits:1|c", addr).unwrap();
        let (mut one, mut other) = ([0u8; 64], [0u8; 64]);
        let received = tokio::select! {
            received = first.socket().recv_from(&mut one) => one[..received.unwrap().0].to_vec(),
            received = next.socket().recv_from(&mut other) => other[..received.unwrap().0].to_vec(),
        };
        assert_eq!(received, b"hits:1|c");
        drop((first, next));
        std::net::UdpSocket::bind(addr).expect("port released");
    }
}
