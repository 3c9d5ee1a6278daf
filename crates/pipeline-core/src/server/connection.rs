//! Serving one protocol on one listening socket: accepting connections, the optional TLS
//! handshake, HTTP/1 and HTTP/2 through hyper, connection age limits, and a graceful stop
//! that lets calls in flight finish.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper::service::Service;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::task::{JoinError, JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use tributary_pipeline_core::component::{CreateSettings, SharedListener};

/// How long a stopping listener waits for calls in flight before closing their connections.
pub(crate) const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a client may take to complete the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long to pause accepting after an error (out of file descriptors), so the loop does
/// not spin.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(100);

/// How each accepted connection is served.
pub(crate) struct ConnectionSettings {
    /// The TLS acceptor, when serving TLS.
    pub tls: Option<TlsAcceptor>,
    /// The HTTP/1 and HTTP/2 settings.
    pub http: auto::Builder<TokioExecutor>,
    /// Connections older than this are asked to go away.
    pub max_age: Option<Duration>,
    /// How long calls may run after that before the connection is closed.
    pub max_age_grace: Option<Duration>,
}

/// A protocol being served on a socket; stopped with [`stop`](Self::stop).
pub(crate) struct RunningListener {
    local_addr: SocketAddr,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
    span: tracing::Span,
}

impl RunningListener {
    /// Starts accepting on `listener`, serving every connection with `service`. The accept
    /// loop runs as a task of the component described by `settings`, logging under its span.
    pub(crate) fn spawn<S, B>(
        settings: &CreateSettings,
        protocol: &'static str,
        listener: SharedListener,
        connections: ConnectionSettings,
        service: S,
    ) -> std::io::Result<RunningListener>
    where
        S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
    {
        let local_addr = listener.local_addr()?;
        let shutdown = CancellationToken::new();
        let span = settings.span().clone();
        span.in_scope(|| {
            tracing::info!(endpoint = %local_addr, tls = connections.tls.is_some(), "OTLP/{protocol} receiver listening");
        });
        let accept = accept_loop(listener, Arc::new(connections), service, shutdown.clone());
        let task = settings.spawn(accept.instrument(span.clone()));
        Ok(RunningListener {
            local_addr,
            shutdown,
            task,
            span,
        })
    }

    /// The address the socket is bound to.
    #[cfg(test)]
    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting connections and asks the open ones to finish; returns at once.
    pub(crate) fn stop_accepting(&self) {
        self.shutdown.cancel();
    }

    /// Stops accepting, lets the calls in flight finish (closing their connections after
    /// [`DRAIN_TIMEOUT`]), and returns once every connection is closed.
    pub(crate) async fn stop(self) {
        self.stop_accepting();
        let ended = self.task.await;
        let _entered = self.span.enter();
        match ended {
            Ok(()) => {
                tracing::info!(endpoint = %self.local_addr, "OTLP receiver stopped listening")
            }
            Err(error) => tracing::warn!(%error, "the accept loop ended abnormally"),
        }
    }
}

async fn accept_loop<S, B>(
    listener: SharedListener,
    connections: Arc<ConnectionSettings>,
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
    let mut open = JoinSet::new();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            Some(done) = open.join_next(), if !open.is_empty() => log_abnormal_end(done),
            accepted = listener.listener().accept() => match accepted {
                Ok((stream, peer)) => {
                    // Small responses must not wait for Nagle's algorithm.
                    let _ = stream.set_nodelay(true);
                    let connection = serve_connection(
                        stream,
                        Arc::clone(&connections),
                        service.clone(),
                        shutdown.clone(),
                    );
                    let span = tracing::debug_span!("connection", peer = %peer);
                    open.spawn(connection.instrument(span));
                }
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(ACCEPT_ERROR_BACKOFF).await;
                }
            },
        }
    }
    // Stop listening on this socket (another instance taking over keeps its own copy).
    drop(listener);
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

fn log_abnormal_end(done: Result<(), JoinError>) {
    if let Err(error) = done
        && error.is_panic()
    {
        tracing::error!(%error, "a connection task panicked");
    }
}

async fn serve_connection<S, B>(
    stream: TcpStream,
    connections: Arc<ConnectionSettings>,
    service: S,
    shutdown: CancellationToken,
) where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let Some(acceptor) = &connections.tls else {
        return serve_io(stream, &connections, service, &shutdown).await;
    };
    let handshake = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream));
    let stream = tokio::select! {
        () = shutdown.cancelled() => return,
        handshake = handshake => match handshake {
            Ok(Ok(stream)) => stream,
            Ok(Err(error)) => {
                tracing::debug!(%error, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!("TLS handshake timed out");
                return;
            }
        },
    };
    serve_io(stream, &connections, service, &shutdown).await;
}

async fn serve_io<I, S, B>(
    io: I,
    connections: &ConnectionSettings,
    service: S,
    shutdown: &CancellationToken,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let mut connection = pin!(connections.http.serve_connection(TokioIo::new(io), service));
    let max_age = async {
        match connections.max_age {
            Some(age) => tokio::time::sleep(age).await,
            None => std::future::pending().await,
        }
    };
    let grace = tokio::select! {
        result = connection.as_mut() => {
            if let Err(error) = result {
                tracing::debug!(%error, "connection ended with an error");
            }
            return;
        }
        // The accept loop bounds how long a stopping listener waits.
        () = shutdown.cancelled() => None,
        () = max_age => connections.max_age_grace,
    };
    connection.as_mut().graceful_shutdown();
    let finished = async {
        if let Err(error) = connection.as_mut().await {
            tracing::debug!(%error, "connection ended with an error");
        }
    };
    match grace {
        Some(grace) => {
            if tokio::time::timeout(grace, finished).await.is_err() {
                tracing::debug!("closing a connection past max_connection_age_grace");
            }
        }
        None => finished.await,
    }
}
