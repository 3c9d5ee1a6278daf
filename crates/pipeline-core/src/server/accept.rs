//! The accept loop: takes connections within `max_connections`, refuses the rest, backs
//! off when `accept` fails (out of file descriptors), and on stop drains what is open.

use std::any::Any;
use std::convert::Infallible;
use std::error::Error as StdError;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper::service::Service;
use tokio::io::AsyncWriteExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio::sync::Semaphore;
use tokio::task::{JoinError, JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::ServerOptions;
use super::connection::serve_connection;
use super::log_throttle::LogThrottle;
use crate::component::SharedListener;

/// How long a stopping server waits for calls in flight before closing their connections.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// How long to pause accepting after an error (out of file descriptors), so the loop does
/// not spin.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(100);

/// At most one log line per this interval for refused connections and accept errors.
const LOG_INTERVAL: Duration = Duration::from_secs(10);

/// How long writing the refusal to a connection over the limit may take.
const REFUSAL_WRITE_TIMEOUT: Duration = Duration::from_millis(100);

/// A bound socket to serve: a plain listener, or one shared across a reload (see
/// [`CreateSettings::listen`](crate::component::CreateSettings::listen)), kept registered
/// for as long as it is served.
pub struct ServerSocket {
    listener: Listener,
    _lease: Box<dyn Any + Send + Sync>,
}

/// What a server accepts connections on.
enum Listener {
    Tcp(TcpListener),
    /// A Unix domain socket (`transport: unix`), with its path for logs.
    Unix(UnixListener, String),
}

impl Listener {
    async fn accept(&self) -> io::Result<(Stream, String)> {
        match self {
            Listener::Tcp(listener) => {
                let (stream, peer) = listener.accept().await?;
                // Small responses must not wait for Nagle's algorithm.
                let _ = stream.set_nodelay(true);
                Ok((Stream::Tcp(stream), peer.to_string()))
            }
            Listener::Unix(listener, path) => {
                let (stream, _) = listener.accept().await?;
                Ok((Stream::Unix(stream), format!("unix:{path}")))
            }
        }
    }
}

/// An accepted connection.
enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(stream) => Pin::new(stream).poll_read(cx, buf),
            Stream::Unix(stream) => Pin::new(stream).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(stream) => Pin::new(stream).poll_write(cx, buf),
            Stream::Unix(stream) => Pin::new(stream).poll_write(cx, buf),
        }
    }

    fn poll_flush(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(stream) => Pin::new(stream).poll_flush(cx),
            Stream::Unix(stream) => Pin::new(stream).poll_flush(cx),
        }
    }

    fn poll_shutdown(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(stream) => Pin::new(stream).poll_shutdown(cx),
            Stream::Unix(stream) => Pin::new(stream).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> std::task::Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
            Stream::Unix(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Tcp(stream) => stream.is_write_vectored(),
            Stream::Unix(stream) => stream.is_write_vectored(),
        }
    }
}

impl ServerSocket {
    /// A Unix domain socket bound at `path` (`transport: unix`). A socket file left at
    /// `path` by an earlier run (or by the instance a reload replaces) is removed first;
    /// any other file there is an error.
    pub fn bind_unix(path: &str) -> io::Result<ServerSocket> {
        use std::os::unix::fs::FileTypeExt;
        if let Ok(metadata) = std::fs::symlink_metadata(path) {
            if !metadata.file_type().is_socket() {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{path:?} exists and is not a socket"),
                ));
            }
            std::fs::remove_file(path)?;
        }
        Ok(ServerSocket {
            listener: Listener::Unix(UnixListener::bind(path)?, path.to_string()),
            _lease: Box::new(()),
        })
    }

    /// The TCP address the socket is bound to; the unspecified address `0.0.0.0:0` for a
    /// Unix domain socket.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match &self.listener {
            Listener::Tcp(listener) => listener.local_addr(),
            Listener::Unix(..) => Ok(SocketAddr::from(([0, 0, 0, 0], 0))),
        }
    }

    /// Where the socket listens, for logs: `ip:port` or `unix:<path>`.
    fn endpoint(&self) -> io::Result<String> {
        match &self.listener {
            Listener::Tcp(listener) => Ok(listener.local_addr()?.to_string()),
            Listener::Unix(_, path) => Ok(format!("unix:{path}")),
        }
    }
}

impl From<TcpListener> for ServerSocket {
    fn from(listener: TcpListener) -> Self {
        ServerSocket {
            listener: Listener::Tcp(listener),
            _lease: Box::new(()),
        }
    }
}

impl From<SharedListener> for ServerSocket {
    fn from(shared: SharedListener) -> Self {
        let (listener, lease) = shared.into_parts();
        ServerSocket {
            listener: Listener::Tcp(listener),
            _lease: Box::new(lease),
        }
    }
}

/// A server accepting connections on a socket; stopped with [`stop`](Self::stop).
pub struct RunningServer {
    local_addr: SocketAddr,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
    span: tracing::Span,
    name: &'static str,
}

impl RunningServer {
    /// Starts accepting on `socket`, serving every connection with `service` as `options`
    /// say. The accept loop runs as a task spawned by `spawn` (a component passes
    /// [`CreateSettings::spawn`](crate::component::CreateSettings::spawn) so a panic is
    /// reported as its status), logging under `span`; `name` names the server in logs.
    pub fn spawn<S, B, F>(
        name: &'static str,
        socket: ServerSocket,
        options: ServerOptions,
        service: S,
        span: tracing::Span,
        spawn: F,
    ) -> io::Result<RunningServer>
    where
        S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
        F: FnOnce(Pin<Box<dyn Future<Output = ()> + Send>>) -> JoinHandle<()>,
    {
        let local_addr = socket.local_addr()?;
        let endpoint = socket.endpoint()?;
        let shutdown = CancellationToken::new();
        span.in_scope(|| {
            tracing::info!(
                endpoint = %endpoint,
                tls = options.tls.is_some(),
                max_connections = options.limits.max_connections,
                "{name} listening"
            );
        });
        let accept = accept_loop(socket, Arc::new(options), service, shutdown.clone());
        let task = spawn(Box::pin(accept.instrument(span.clone())));
        Ok(RunningServer {
            local_addr,
            shutdown,
            task,
            span,
            name,
        })
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting connections and asks the open ones to finish; returns at once.
    pub fn stop_accepting(&self) {
        self.shutdown.cancel();
    }

    /// Stops accepting, lets the calls in flight finish (closing their connections after
    /// [`DRAIN_TIMEOUT`]), and returns once every connection is closed.
    pub async fn stop(self) {
        self.stop_accepting();
        let ended = self.task.await;
        let _entered = self.span.enter();
        match ended {
            Ok(()) => {
                tracing::info!(endpoint = %self.local_addr, "{} stopped listening", self.name)
            }
            Err(error) => tracing::warn!(%error, "the accept loop ended abnormally"),
        }
    }
}

async fn accept_loop<S, B>(
    socket: ServerSocket,
    options: Arc<ServerOptions>,
    service: S,
    shutdown: CancellationToken,
) where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let slots = match options.limits.max_connections {
        0 => None,
        max => Some(Arc::new(Semaphore::new(max.min(Semaphore::MAX_PERMITS)))),
    };
    let refused_log = LogThrottle::new(LOG_INTERVAL);
    let error_log = LogThrottle::new(LOG_INTERVAL);
    let mut open = JoinSet::new();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            Some(done) = open.join_next(), if !open.is_empty() => log_abnormal_end(done),
            accepted = socket.listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let slot = match &slots {
                        None => None,
                        Some(slots) => match Arc::clone(slots).try_acquire_owned() {
                            Ok(slot) => Some(slot),
                            Err(_) => {
                                if let Some(suppressed) = refused_log.hit() {
                                    tracing::warn!(
                                        %peer,
                                        max_connections = options.limits.max_connections,
                                        refused_since_last_report = suppressed,
                                        "refusing a connection: the server holds max_connections \
                                         already; raise max_connections if clients are legitimate"
                                    );
                                }
                                open.spawn(refuse(stream, options.refusal));
                                continue;
                            }
                        },
                    };
                    let connection = serve_connection(
                        stream,
                        Arc::clone(&options),
                        WithPeer {
                            inner: service.clone(),
                            peer: peer.parse().ok().map(PeerAddr),
                        },
                        shutdown.clone(),
                    );
                    let span = tracing::debug_span!("connection", peer = %peer);
                    open.spawn(async move {
                        let _slot = slot;
                        connection.await;
                    }.instrument(span));
                }
                Err(error) => {
                    if let Some(suppressed) = error_log.hit() {
                        tracing::warn!(%error, failed_since_last_report = suppressed, "accepting a connection failed");
                    }
                    tokio::time::sleep(ACCEPT_ERROR_BACKOFF).await;
                }
            },
        }
    }
    // Stop listening on this socket (another instance taking over keeps its own copy).
    drop(socket);
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while let Some(done) = open.join_next().await {
            log_abnormal_end(done);
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = open.len(),
            "calls still in flight after {DRAIN_TIMEOUT:?}; closing their connections"
        );
        open.shutdown().await;
    }
}

/// The address of the client a request came from (TCP connections only), in the
/// request's extensions, for receivers whose protocol records it (SOFALookout's `ip` tag).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// A connection's service: the server's, with the peer's address put in each request.
#[derive(Clone)]
struct WithPeer<S> {
    inner: S,
    peer: Option<PeerAddr>,
}

impl<S, B> Service<Request<Incoming>> for WithPeer<S>
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>,
{
    type Response = Response<B>;
    type Error = Infallible;
    type Future = S::Future;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        if let Some(peer) = self.peer {
            request.extensions_mut().insert(peer);
        }
        self.inner.call(request)
    }
}

/// Writes `refusal` (if any) to a connection over the limit, briefly, and closes it.
async fn refuse(mut stream: Stream, refusal: Option<&'static [u8]>) {
    if let Some(refusal) = refusal {
        let _ = tokio::time::timeout(REFUSAL_WRITE_TIMEOUT, async {
            stream.write_all(refusal).await?;
            stream.shutdown().await
        })
        .await;
    }
}

fn log_abnormal_end(done: Result<(), JoinError>) {
    if let Err(error) = done
        && error.is_panic()
    {
        tracing::error!(%error, "a connection task panicked");
    }
}
