//! Serving one accepted connection: the optional TLS handshake, HTTP/1 or HTTP/2 through
//! hyper, and the reasons to end it early — idle too long, too old, or the server stopping.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper::service::Service;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;

use super::ServerOptions;
use super::activity::{Activity, Tracked};

/// How long an idle connection asked to close (HTTP/2 `GOAWAY`) may take to do so.
const IDLE_CLOSE_GRACE: Duration = Duration::from_secs(1);

pub(super) async fn serve_connection<I, S, B>(
    stream: I,
    options: Arc<ServerOptions>,
    service: S,
    shutdown: CancellationToken,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let Some(acceptor) = &options.tls else {
        return serve_io(stream, &options, service, &shutdown).await;
    };
    let handshake = tokio::time::timeout(
        options.limits.tls_handshake_timeout,
        acceptor.accept(stream),
    );
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
    serve_io(stream, &options, service, &shutdown).await;
}

/// Why a connection is being ended before its client closed it.
enum Ending {
    /// The server is stopping: calls in flight finish (the accept loop bounds the wait).
    Shutdown,
    /// Older than `max_connection_age`: calls get the configured grace.
    TooOld(Option<Duration>),
    /// No request for the idle timeout.
    Idle,
}

async fn serve_io<I, S, B>(io: I, options: &ServerOptions, service: S, shutdown: &CancellationToken)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let activity = Activity::new();
    let service = Tracked {
        inner: service,
        activity: Arc::clone(&activity),
    };
    let mut connection = pin!(options.http.serve_connection(TokioIo::new(io), service));
    let max_age = async {
        match options.max_age {
            Some(age) => tokio::time::sleep(age).await,
            None => std::future::pending().await,
        }
    };
    let ending = tokio::select! {
        result = connection.as_mut() => {
            if let Err(error) = result {
                tracing::debug!(%error, "connection ended with an error");
            }
            return;
        }
        () = shutdown.cancelled() => Ending::Shutdown,
        () = max_age => Ending::TooOld(options.max_age_grace),
        () = activity.idle_expired(&options.limits) => Ending::Idle,
    };
    connection.as_mut().graceful_shutdown();
    let finished = async {
        if let Err(error) = connection.as_mut().await {
            tracing::debug!(%error, "connection ended with an error");
        }
    };
    let grace = match ending {
        Ending::Shutdown | Ending::TooOld(None) => None,
        Ending::TooOld(Some(grace)) => Some(grace),
        Ending::Idle => {
            tracing::debug!("closing an idle connection");
            Some(IDLE_CLOSE_GRACE)
        }
    };
    match grace {
        Some(grace) => {
            if tokio::time::timeout(grace, finished).await.is_err() {
                tracing::debug!("closed a connection whose calls outlived their grace period");
            }
        }
        None => finished.await,
    }
}
