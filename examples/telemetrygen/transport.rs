//! One worker's connection to the pipeline under test: OTLP/gRPC over HTTP/2 or OTLP/HTTP
//! over HTTP/1.1, both without TLS, sending bodies the request pool prepared.
//!
//! gRPC is spoken directly over hyper's HTTP/2 client (a unary call is one POST whose body
//! is a length-prefixed message and whose status comes in the trailers), so the hot path
//! never re-encodes anything.

use std::fmt;
use std::time::Duration;

use bytes::{Buf, Bytes};
use http::header::{CONTENT_ENCODING, CONTENT_TYPE, HOST, USER_AGENT};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use prost::Message;
use tokio::net::{TcpStream, UdpSocket};
use tokio::task::JoinHandle;

use crate::proto::collector::logs::v1::ExportLogsServiceResponse;
use crate::proto::collector::metrics::v1::ExportMetricsServiceResponse;
use crate::proto::collector::trace::v1::ExportTraceServiceResponse;
use crate::requests::{Compression, Format, Protocol, Signal};

const AGENT: &str = concat!("tributary-telemetrygen/", env!("CARGO_PKG_VERSION"));

/// Where and how to send.
#[derive(Clone, Debug)]
pub struct Target {
    pub signal: Signal,
    pub format: Format,
    pub protocol: Protocol,
    pub compression: Compression,
    /// `host:port`.
    pub authority: String,
    /// The request path: the gRPC method or the OTLP/HTTP path.
    pub path: String,
    /// Extra request headers (tenant IDs, auth tokens).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub timeout: Duration,
}

/// Why a request was not accepted.
#[derive(Debug)]
pub enum SendError {
    Connect(std::io::Error),
    Http(hyper::Error),
    /// The server answered with an HTTP status other than success, and the delay its
    /// `Retry-After` asked for.
    Status(StatusCode, String, Option<Duration>),
    /// The gRPC call ended with a non-OK status, and the delay its `RetryInfo` asked for.
    Grpc(String, String, Option<Duration>),
    Timeout(Duration),
    Protocol(String),
}

impl SendError {
    /// Whether the connection is unusable afterwards and must be opened again.
    pub fn breaks_connection(&self) -> bool {
        matches!(
            self,
            SendError::Connect(_) | SendError::Http(_) | SendError::Timeout(_)
        )
    }

    /// How long the server asked the client to wait before sending again (gRPC
    /// `RetryInfo`, HTTP `Retry-After`), if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SendError::Status(_, _, after) | SendError::Grpc(_, _, after) => *after,
            _ => None,
        }
    }

    /// A short name for the kind of failure, for counting refusals by code: the gRPC
    /// status name (`UNAVAILABLE`, `RESOURCE_EXHAUSTED`, ...), the HTTP status number, or
    /// `connect`, `transport`, `timeout`, `protocol`.
    pub fn outcome(&self) -> String {
        match self {
            SendError::Connect(_) => "connect".to_string(),
            SendError::Http(_) => "transport".to_string(),
            SendError::Status(status, ..) => status.as_u16().to_string(),
            SendError::Grpc(code, ..) => grpc_code_name(code).to_string(),
            SendError::Timeout(_) => "timeout".to_string(),
            SendError::Protocol(_) => "protocol".to_string(),
        }
    }
}

/// The name gRPC gives a numeric status code; the number itself when it is not one.
fn grpc_code_name(code: &str) -> &str {
    const NAMES: [&str; 17] = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    code.parse::<usize>()
        .ok()
        .and_then(|n| NAMES.get(n).copied())
        .unwrap_or(code)
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Connect(e) => write!(f, "cannot connect: {e}"),
            SendError::Http(e) => write!(f, "HTTP error: {e}"),
            SendError::Status(status, body, _) if body.is_empty() => write!(f, "HTTP {status}"),
            SendError::Status(status, body, _) => write!(f, "HTTP {status}: {body}"),
            SendError::Grpc(code, message, _) => write!(f, "gRPC status {code}: {message}"),
            SendError::Timeout(after) => write!(f, "no answer within {after:?}"),
            SendError::Protocol(what) => write!(f, "unexpected response: {what}"),
        }
    }
}

impl From<hyper::Error> for SendError {
    fn from(e: hyper::Error) -> Self {
        SendError::Http(e)
    }
}

enum Sender {
    Grpc(http2::SendRequest<Full<Bytes>>),
    Http(http1::SendRequest<Full<Bytes>>),
    Udp(UdpSocket),
}

/// An open connection; the task driving it (HTTP) stops when this is dropped.
pub struct Connection {
    sender: Sender,
    driver: Option<JoinHandle<()>>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(driver) = &self.driver {
            driver.abort();
        }
    }
}

impl Connection {
    pub async fn open(target: &Target) -> Result<Connection, SendError> {
        if target.protocol == Protocol::Udp {
            let socket = UdpSocket::bind("0.0.0.0:0")
                .await
                .map_err(SendError::Connect)?;
            socket
                .connect(&target.authority)
                .await
                .map_err(SendError::Connect)?;
            return Ok(Connection {
                sender: Sender::Udp(socket),
                driver: None,
            });
        }
        let stream = TcpStream::connect(&target.authority)
            .await
            .map_err(SendError::Connect)?;
        stream.set_nodelay(true).map_err(SendError::Connect)?;
        let io = TokioIo::new(stream);
        let (sender, driver) = match target.protocol {
            Protocol::Grpc => {
                let (sender, conn) = http2::Builder::new(TokioExecutor::new())
                    .initial_stream_window_size(4 << 20)
                    .initial_connection_window_size(8 << 20)
                    .handshake(io)
                    .await?;
                let driver = tokio::spawn(async move {
                    let _ = conn.await;
                });
                (Sender::Grpc(sender), driver)
            }
            Protocol::Http => {
                let (sender, conn) = http1::handshake(io).await?;
                let driver = tokio::spawn(async move {
                    let _ = conn.await;
                });
                (Sender::Http(sender), driver)
            }
            Protocol::Udp => unreachable!("datagram sockets are opened above"),
        };
        Ok(Connection {
            sender,
            driver: Some(driver),
        })
    }

    /// Another handle on this connection's HTTP/2 stream multiplexer, for a worker sharing
    /// it; `None` for HTTP/1.1 and UDP, which carry one exchange at a time. The share does
    /// not keep the connection open: it fails once the original is dropped.
    pub fn share(&self) -> Option<Connection> {
        match &self.sender {
            Sender::Grpc(sender) => Some(Connection {
                sender: Sender::Grpc(sender.clone()),
                driver: None,
            }),
            Sender::Http(_) | Sender::Udp(_) => None,
        }
    }

    /// Sends one request body and waits for the answer. On success, returns the number of
    /// items the server said it rejected (OTLP partial success).
    pub async fn send(&mut self, target: &Target, body: Bytes) -> Result<u64, SendError> {
        match tokio::time::timeout(target.timeout, self.exchange(target, body)).await {
            Ok(result) => result,
            Err(_) => Err(SendError::Timeout(target.timeout)),
        }
    }

    async fn exchange(&mut self, target: &Target, body: Bytes) -> Result<u64, SendError> {
        let gzip = target.compression == Compression::Gzip;
        match &mut self.sender {
            Sender::Grpc(sender) => {
                let uri = format!("http://{}{}", target.authority, target.path);
                let mut request = Request::builder()
                    .method(Method::POST)
                    .uri(uri)
                    .header(CONTENT_TYPE, "application/grpc")
                    .header("te", "trailers")
                    .header(USER_AGENT, AGENT);
                if gzip {
                    request = request.header("grpc-encoding", "gzip");
                }
                let request = with_headers(request, &target.headers)
                    .body(Full::new(body))
                    .map_err(|e| SendError::Protocol(e.to_string()))?;
                sender.ready().await?;
                let response = sender.send_request(request).await?;
                let (parts, body) = response.into_parts();
                if parts.status != StatusCode::OK {
                    return Err(SendError::Status(parts.status, String::new(), None));
                }
                // A call that fails at once answers with its status in the headers.
                check_grpc_status(&parts.headers)?;
                let collected = body.collect().await?;
                if let Some(trailers) = collected.trailers() {
                    check_grpc_status(trailers)?;
                } else if !parts.headers.contains_key("grpc-status") {
                    return Err(SendError::Protocol("gRPC response without a status".into()));
                }
                let mut message = collected.to_bytes();
                if message.len() < 5 {
                    return Ok(0);
                }
                let compressed = message.get_u8() == 1;
                let len = message.get_u32() as usize;
                if compressed || message.len() < len {
                    // We never offer compressed responses; an unreadable answer still means
                    // the request was accepted.
                    return Ok(0);
                }
                Ok(rejected(target.signal, &message[..len]))
            }
            Sender::Http(sender) => {
                let mut request = Request::builder()
                    .method(Method::POST)
                    .uri(&target.path)
                    .header(HOST, &target.authority)
                    .header(CONTENT_TYPE, target.format.content_type())
                    .header(USER_AGENT, AGENT);
                if gzip {
                    request = request.header(CONTENT_ENCODING, "gzip");
                }
                if target.format == Format::Prw {
                    // The headers Remote-Write 1.0 requires of every sender.
                    request = request
                        .header(CONTENT_ENCODING, "snappy")
                        .header("X-Prometheus-Remote-Write-Version", "0.1.0");
                }
                let request = with_headers(request, &target.headers)
                    .body(Full::new(body))
                    .map_err(|e| SendError::Protocol(e.to_string()))?;
                sender.ready().await?;
                let response = sender.send_request(request).await?;
                let (parts, body) = response.into_parts();
                let bytes = body.collect().await?.to_bytes();
                if !parts.status.is_success() {
                    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]);
                    let retry_after = parts
                        .headers
                        .get(http::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    return Err(SendError::Status(
                        parts.status,
                        text.trim().to_string(),
                        retry_after,
                    ));
                }
                let protobuf = parts
                    .headers
                    .get(CONTENT_TYPE)
                    .is_some_and(|v| v.as_bytes().starts_with(b"application/x-protobuf"));
                Ok(if protobuf && target.format != Format::Prw {
                    rejected(target.signal, &bytes)
                } else {
                    0
                })
            }
            Sender::Udp(socket) => {
                // No answer: a datagram is "accepted" once the kernel took it.
                socket.send(&body).await.map_err(SendError::Connect)?;
                Ok(0)
            }
        }
    }
}

fn with_headers(
    mut request: http::request::Builder,
    headers: &[(HeaderName, HeaderValue)],
) -> http::request::Builder {
    for (name, value) in headers {
        request = request.header(name, value);
    }
    request
}

fn check_grpc_status(headers: &HeaderMap) -> Result<(), SendError> {
    match headers.get("grpc-status") {
        None => Ok(()),
        Some(code) if code == "0" => Ok(()),
        Some(code) => {
            let message = headers
                .get("grpc-message")
                .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned())
                .unwrap_or_default();
            Err(SendError::Grpc(
                String::from_utf8_lossy(code.as_bytes()).into_owned(),
                message,
                headers
                    .get("grpc-status-details-bin")
                    .and_then(|details| retry_delay(details.as_bytes())),
            ))
        }
    }
}

/// `google.rpc.Status`, as far as its details go.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(message, repeated, tag = "3")]
    details: Vec<ProtoAny>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, prost::Message)]
struct ProtoAny {
    #[prost(string, tag = "1")]
    type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    value: Vec<u8>,
}

/// `google.rpc.RetryInfo`.
#[derive(Clone, PartialEq, prost::Message)]
struct RetryInfo {
    #[prost(message, optional, tag = "1")]
    retry_delay: Option<ProtoDuration>,
}

/// `google.protobuf.Duration`.
#[derive(Clone, PartialEq, prost::Message)]
struct ProtoDuration {
    #[prost(int64, tag = "1")]
    seconds: i64,
    #[prost(int32, tag = "2")]
    nanos: i32,
}

/// The delay of the `RetryInfo` in a `grpc-status-details-bin` value (base64 of a
/// `google.rpc.Status`), if there is one.
pub(crate) fn retry_delay(details_bin: &[u8]) -> Option<Duration> {
    use base64::Engine as _;
    let trimmed: Vec<u8> = details_bin.iter().copied().filter(|&b| b != b'=').collect();
    let status = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(trimmed)
        .ok()?;
    let status = RpcStatus::decode(status.as_slice()).ok()?;
    let info = status
        .details
        .iter()
        .find(|any| any.type_url.ends_with("google.rpc.RetryInfo"))?;
    let delay = RetryInfo::decode(info.value.as_slice()).ok()?.retry_delay?;
    Some(Duration::new(
        u64::try_from(delay.seconds).ok()?,
        u32::try_from(delay.nanos).ok()?,
    ))
}

/// The items an export response says were rejected (OTLP partial success).
fn rejected(signal: Signal, response: &[u8]) -> u64 {
    if response.is_empty() {
        return 0;
    }
    let count = match signal {
        Signal::Traces => ExportTraceServiceResponse::decode(response)
            .ok()
            .and_then(|r| r.partial_success)
            .map(|p| p.rejected_spans),
        Signal::Metrics | Signal::Points => ExportMetricsServiceResponse::decode(response)
            .ok()
            .and_then(|r| r.partial_success)
            .map(|p| p.rejected_data_points),
        Signal::Logs => ExportLogsServiceResponse::decode(response)
            .ok()
            .and_then(|r| r.partial_success)
            .map(|p| p.rejected_log_records),
    };
    count.map_or(0, |c| c.max(0) as u64)
}
