//! Serving HTTP/1 and HTTP/2 on a listening socket, with the limits every network-facing
//! component needs: how many connections it holds, how long an idle or silent connection
//! stays open, how long a TLS handshake may take, and a graceful stop that lets calls in
//! flight finish.
//!
//! A peer must not be able to hold the collector's resources by doing nothing: a connection
//! that never sends a request, or stops sending them, is closed after its idle timeout; a
//! client that keeps connecting is refused above `max_connections` (each refusal counted,
//! the log line rate-limited) instead of exhausting the process's file descriptors, so the
//! health check and the metrics endpoint, which have their own listeners and limits, keep
//! answering.
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! use std::convert::Infallible;
//! use http_body_util::Full;
//! use tributary_pipeline_core::server::{RunningServer, ServerOptions};
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let service = hyper::service::service_fn(|_request| async {
//!     Ok::<_, Infallible>(http::Response::new(Full::new(bytes::Bytes::from_static(b"ok"))))
//! });
//! let server = RunningServer::spawn(
//!     "example",
//!     listener.into(),
//!     ServerOptions::http(),
//!     service,
//!     tracing::Span::current(),
//!     tokio::spawn,
//! )?;
//! server.stop().await;
//! # Ok(())
//! # }
//! ```

mod accept;
mod activity;
mod connection;
mod log_throttle;

use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;
use tokio_rustls::TlsAcceptor;

pub use accept::{DRAIN_TIMEOUT, PeerAddr, RunningServer, ServerSocket};
pub use log_throttle::LogThrottle;

/// The default of [`ConnectionLimits::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;

/// The default idle timeout of an HTTP server: the Go Collector's `confighttp` default.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The default time a client has to send a request's headers: the Go Collector's
/// `confighttp` `read_header_timeout` default.
pub const DEFAULT_READ_HEADER_TIMEOUT: Duration = Duration::from_secs(60);

/// The default time a client has to complete the TLS handshake.
pub const DEFAULT_TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// HTTP/2 flow-control windows. A peer may send this much that the server has not read
/// yet (and so has not weighed against any budget): per stream, and per connection in
/// all. hyper's defaults are 1 MiB each; smaller windows bound what `max_connections`
/// silent-but-sending peers can make the process buffer, at no cost on a LAN.
const HTTP2_STREAM_WINDOW: u32 = 256 * 1024;
const HTTP2_CONNECTION_WINDOW: u32 = 512 * 1024;

/// The most an HTTP/1 connection's read buffer is grown to, and so also the largest
/// request head (request line and headers) accepted: a larger one is answered `431`.
/// hyper's default, about 400 KiB, grows each connection's buffer with the bodies read
/// through it, and a buffer is never shrunk; as the body's last chunk still holds the
/// buffer when hyper reads ahead for the next request, a connection kept two of them.
/// With 1,024 clients posting 40 KB OTLP requests that was about 160 KB a connection
/// (BENCHMARKS.md, "Overload sweep"). 16 KiB is Node.js's header limit; no telemetry
/// client we know of sends heads near it.
pub const HTTP1_READ_BUFFER_MAX: usize = 16 * 1024;

/// What a server allows each connection, and how many it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// The most connections open at once; a connection beyond it is closed as soon as it
    /// is accepted (after [`ServerOptions::refusal`] is written to it). `0`: no limit.
    pub max_connections: usize,
    /// A connection with no request in flight for this long, after its first request, is
    /// closed (HTTP/2: `GOAWAY`). `None`: kept open.
    pub idle_timeout: Option<Duration>,
    /// A connection that has not started a request this long after it was accepted is
    /// closed; this is what ends connections that never send a byte. `None`: kept open.
    pub first_request_timeout: Option<Duration>,
    /// How long a client may take to complete the TLS handshake.
    pub tls_handshake_timeout: Duration,
}

impl Default for ConnectionLimits {
    /// [`DEFAULT_MAX_CONNECTIONS`], and [`DEFAULT_IDLE_TIMEOUT`] both before and after the
    /// first request.
    fn default() -> Self {
        ConnectionLimits {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
            first_request_timeout: Some(DEFAULT_IDLE_TIMEOUT),
            tls_handshake_timeout: DEFAULT_TLS_HANDSHAKE_TIMEOUT,
        }
    }
}

/// How a server serves each connection.
pub struct ServerOptions {
    /// The TLS acceptor, when serving TLS.
    pub tls: Option<TlsAcceptor>,
    /// The HTTP/1 and HTTP/2 settings.
    pub http: auto::Builder<TokioExecutor>,
    /// Connection count and timeouts.
    pub limits: ConnectionLimits,
    /// Connections older than this are asked to go away.
    pub max_age: Option<Duration>,
    /// How long calls may run after that before the connection is closed; `None` waits.
    pub max_age_grace: Option<Duration>,
    /// Bytes written to a connection refused for being over `max_connections`, before it
    /// is closed (an HTTP/1 `503`); `None` closes it without a word (HTTP/2 only servers).
    pub refusal: Option<&'static [u8]>,
}

/// The answer written to an HTTP/1 connection over the connection limit.
pub const HTTP1_OVER_CONNECTION_LIMIT: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
Content-Type: text/plain; charset=utf-8\r\nRetry-After: 1\r\nConnection: close\r\n\
Content-Length: 33\r\n\r\ntoo many connections; retry later\n";

impl ServerOptions {
    /// HTTP/1.1 and HTTP/2 with the default limits, the Go Collector's
    /// `read_header_timeout`, and a `503` answer above the connection limit.
    pub fn http() -> ServerOptions {
        let mut http = auto::Builder::new(TokioExecutor::new());
        http.http1()
            .timer(TokioTimer::new())
            .header_read_timeout(DEFAULT_READ_HEADER_TIMEOUT)
            .max_buf_size(HTTP1_READ_BUFFER_MAX);
        http.http2()
            .timer(TokioTimer::new())
            .initial_stream_window_size(HTTP2_STREAM_WINDOW)
            .initial_connection_window_size(HTTP2_CONNECTION_WINDOW);
        ServerOptions {
            tls: None,
            http,
            limits: ConnectionLimits::default(),
            max_age: None,
            max_age_grace: None,
            refusal: Some(HTTP1_OVER_CONNECTION_LIMIT),
        }
    }

    /// HTTP/2 only (gRPC), with the default limits except the idle timeout: like grpc-go,
    /// a connection that made a call stays open while idle; one that never makes a call
    /// is closed after [`DEFAULT_IDLE_TIMEOUT`].
    pub fn http2_only() -> ServerOptions {
        let mut http = auto::Builder::new(TokioExecutor::new()).http2_only();
        http.http2()
            .timer(TokioTimer::new())
            .initial_stream_window_size(HTTP2_STREAM_WINDOW)
            .initial_connection_window_size(HTTP2_CONNECTION_WINDOW);
        ServerOptions {
            tls: None,
            http,
            limits: ConnectionLimits {
                idle_timeout: None,
                ..ConnectionLimits::default()
            },
            max_age: None,
            max_age_grace: None,
            refusal: None,
        }
    }
}

#[cfg(test)]
mod tests;
