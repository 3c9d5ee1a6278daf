//! The counting sink: an OTLP endpoint (gRPC and HTTP/protobuf on the same port) that
//! accepts everything, counts the items by walking the wire format, and reports its totals
//! at `GET /count` as JSON.
//!
//! It is built to cost the machine as little as possible while a collector is measured:
//! it decodes no OTLP, answers with constant bodies, and runs on one thread by default.
//!
//! Its remote-write mode is the path `POST /api/v1/write`: a Prometheus Remote-Write 1.0
//! body (snappy block, then a `WriteRequest`) is decoded with the translator crate's
//! prompb types and its samples (float and native histogram) are counted as items, and the
//! staleness markers among them apart (a scrape benchmark in steady state has none: one
//! means a scrape failed); nothing else is done with them. It answers `204` as Prometheus
//! does.

use std::convert::Infallible;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};
use flate2::read::MultiGzDecoder;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::requests::Signal;
use crate::wire;
use tributary_translator_prometheus::prompb;

/// Largest decompressed request the sink accepts.
const MAX_DECOMPRESSED: u64 = 256 << 20;

/// What the sink has received since it started.
#[derive(Default)]
pub struct Counters {
    spans: AtomicU64,
    data_points: AtomicU64,
    log_records: AtomicU64,
    /// Remote-write samples (float samples and native histogram samples).
    samples: AtomicU64,
    /// Those of the remote-write samples that are staleness markers.
    stale_samples: AtomicU64,
    requests: AtomicU64,
    /// Requests the sink could not read (and answered with an error).
    bad_requests: AtomicU64,
    /// Request bytes as they arrived (compressed, gRPC framing included).
    bytes: AtomicU64,
}

impl Counters {
    fn counter(&self, signal: Signal) -> &AtomicU64 {
        match signal {
            Signal::Traces => &self.spans,
            Signal::Metrics | Signal::Points => &self.data_points,
            Signal::Logs => &self.log_records,
        }
    }

    /// Spans, data points, log records and remote-write samples together.
    pub fn items(&self) -> u64 {
        self.spans.load(Ordering::Relaxed)
            + self.data_points.load(Ordering::Relaxed)
            + self.log_records.load(Ordering::Relaxed)
            + self.samples.load(Ordering::Relaxed)
    }

    pub fn bad_requests(&self) -> u64 {
        self.bad_requests.load(Ordering::Relaxed)
    }

    /// The totals as one JSON object.
    pub fn to_json(&self, uptime: Duration) -> String {
        serde_json::json!({
            "items": self.items(),
            "spans": self.spans.load(Ordering::Relaxed),
            "data_points": self.data_points.load(Ordering::Relaxed),
            "log_records": self.log_records.load(Ordering::Relaxed),
            "samples": self.samples.load(Ordering::Relaxed),
            "stale_samples": self.stale_samples.load(Ordering::Relaxed),
            "requests": self.requests.load(Ordering::Relaxed),
            "bad_requests": self.bad_requests(),
            "bytes": self.bytes.load(Ordering::Relaxed),
            "uptime_s": uptime.as_secs_f64(),
        })
        .to_string()
    }
}

type Body = BoxBody<Bytes, Infallible>;

/// A running sink.
pub struct Sink {
    pub counters: Arc<Counters>,
    pub started: Instant,
    addresses: Vec<SocketAddr>,
}

impl Sink {
    /// Binds every address and serves until `stop` fires.
    pub async fn start(listen: &[SocketAddr], stop: CancellationToken) -> std::io::Result<Sink> {
        let counters = Arc::new(Counters::default());
        let started = Instant::now();
        let mut addresses = Vec::new();
        for address in listen {
            let listener = TcpListener::bind(address).await?;
            addresses.push(listener.local_addr()?);
            tokio::spawn(accept(
                listener,
                Arc::clone(&counters),
                started,
                stop.clone(),
            ));
        }
        Ok(Sink {
            counters,
            started,
            addresses,
        })
    }

    /// The addresses bound (with the ports the system chose for port 0).
    pub fn addresses(&self) -> &[SocketAddr] {
        &self.addresses
    }
}

async fn accept(
    listener: TcpListener,
    counters: Arc<Counters>,
    started: Instant,
    stop: CancellationToken,
) {
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    eprintln!("sink: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stop.cancelled() => return,
        };
        let _ = stream.set_nodelay(true);
        let counters = Arc::clone(&counters);
        let stop = stop.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let counters = Arc::clone(&counters);
                async move { Ok::<_, Infallible>(handle(request, &counters, started).await) }
            });
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder
                .http2()
                .initial_stream_window_size(4 << 20)
                .initial_connection_window_size(8 << 20)
                .max_concurrent_streams(1024);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                () = stop.cancelled() => {}
            }
        });
    }
}

/// A sink request's signal and transport, from its path.
fn route(path: &str) -> Option<(Signal, bool)> {
    for signal in [Signal::Traces, Signal::Metrics, Signal::Logs] {
        if path == signal.grpc_path() {
            return Some((signal, true));
        }
        if path == signal.http_path() {
            return Some((signal, false));
        }
    }
    None
}

async fn handle(
    request: Request<Incoming>,
    counters: &Counters,
    started: Instant,
) -> Response<Body> {
    if request.method() == Method::GET && request.uri().path() == "/count" {
        return plain(
            StatusCode::OK,
            "application/json",
            counters.to_json(started.elapsed()),
        );
    }
    if request.uri().path() == REMOTE_WRITE_PATH {
        return remote_write(request, counters).await;
    }
    let Some((signal, grpc)) = route(request.uri().path()) else {
        return plain(StatusCode::NOT_FOUND, "text/plain", "unknown path\n".into());
    };
    if request.method() != Method::POST {
        return plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "POST only\n".into(),
        );
    }
    let (parts, body) = request.into_parts();
    let outcome = match body.collect().await {
        Ok(collected) => {
            let bytes = collected.to_bytes();
            counters
                .bytes
                .fetch_add(bytes.len() as u64, Ordering::Relaxed);
            if grpc {
                count_grpc(signal, &parts.headers, bytes)
            } else {
                count_http(signal, &parts.headers, bytes)
            }
        }
        Err(e) => Err(Refusal::bad(format!("reading the body failed: {e}"))),
    };
    counters.requests.fetch_add(1, Ordering::Relaxed);
    match outcome {
        Ok(items) => {
            counters.counter(signal).fetch_add(items, Ordering::Relaxed);
            if grpc { grpc_ok() } else { http_ok() }
        }
        Err(refusal) => {
            counters.bad_requests.fetch_add(1, Ordering::Relaxed);
            if grpc {
                grpc_error(&refusal)
            } else {
                plain(refusal.http, "text/plain", format!("{}\n", refusal.message))
            }
        }
    }
}

/// The remote-write path, as Prometheus serves it.
pub const REMOTE_WRITE_PATH: &str = "/api/v1/write";

/// The remote-write mode: decode the body and count its samples.
async fn remote_write(request: Request<Incoming>, counters: &Counters) -> Response<Body> {
    if request.method() != Method::POST {
        return plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "POST only\n".into(),
        );
    }
    let outcome = match request.into_body().collect().await {
        Ok(collected) => {
            let bytes = collected.to_bytes();
            counters
                .bytes
                .fetch_add(bytes.len() as u64, Ordering::Relaxed);
            count_samples(&bytes)
        }
        Err(e) => Err(format!("reading the body failed: {e}")),
    };
    counters.requests.fetch_add(1, Ordering::Relaxed);
    match outcome {
        Ok(Samples { samples, stale }) => {
            counters.samples.fetch_add(samples, Ordering::Relaxed);
            counters.stale_samples.fetch_add(stale, Ordering::Relaxed);
            let mut response = Response::new(Empty::new().boxed());
            *response.status_mut() = StatusCode::NO_CONTENT;
            response
        }
        Err(message) => {
            counters.bad_requests.fetch_add(1, Ordering::Relaxed);
            plain(
                StatusCode::BAD_REQUEST,
                "text/plain",
                format!("{message}\n"),
            )
        }
    }
}

/// What a remote-write body holds.
#[derive(Debug, PartialEq, Eq)]
pub struct Samples {
    /// Float and native histogram samples.
    pub samples: u64,
    /// Float samples that are staleness markers.
    pub stale: u64,
}

/// Counts the samples in a remote-write body.
pub fn count_samples(body: &[u8]) -> Result<Samples, String> {
    let request = prompb::decode_request(body, MAX_DECOMPRESSED as usize)
        .map_err(|e| format!("remote write: {e}"))?;
    let mut counted = Samples {
        samples: 0,
        stale: 0,
    };
    for series in &request.timeseries {
        counted.samples += (series.samples.len() + series.histograms.len()) as u64;
        counted.stale += series
            .samples
            .iter()
            .filter(|s| prompb::is_stale_nan(s.value))
            .count() as u64;
    }
    Ok(counted)
}

/// Why the sink refused a request.
struct Refusal {
    http: StatusCode,
    /// gRPC status code.
    grpc: &'static str,
    message: String,
}

impl Refusal {
    fn bad(message: String) -> Self {
        Refusal {
            http: StatusCode::BAD_REQUEST,
            grpc: "3", // INVALID_ARGUMENT
            message,
        }
    }

    fn unsupported(message: String) -> Self {
        Refusal {
            http: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            grpc: "12", // UNIMPLEMENTED
            message,
        }
    }
}

fn is_gzip(value: Option<&HeaderValue>) -> Result<bool, Refusal> {
    match value.map(HeaderValue::as_bytes) {
        None | Some(b"identity") => Ok(false),
        Some(b"gzip") => Ok(true),
        Some(other) => Err(Refusal::unsupported(format!(
            "unsupported encoding {:?} (the sink reads gzip or none)",
            String::from_utf8_lossy(other)
        ))),
    }
}

fn gunzip(data: &[u8]) -> Result<Vec<u8>, Refusal> {
    let mut out = Vec::with_capacity(data.len() * 4);
    MultiGzDecoder::new(data)
        .take(MAX_DECOMPRESSED)
        .read_to_end(&mut out)
        .map_err(|e| Refusal::bad(format!("gzip: {e}")))?;
    Ok(out)
}

fn count(signal: Signal, message: &[u8]) -> Result<u64, Refusal> {
    wire::count_items(signal, message).map_err(|e| Refusal::bad(e.to_string()))
}

fn count_grpc(signal: Signal, headers: &HeaderMap, mut body: Bytes) -> Result<u64, Refusal> {
    let gzip = is_gzip(headers.get("grpc-encoding"))?;
    let mut items = 0;
    while body.has_remaining() {
        if body.len() < 5 {
            return Err(Refusal::bad("truncated gRPC frame header".into()));
        }
        let compressed = body.get_u8() == 1;
        let len = body.get_u32() as usize;
        if body.len() < len {
            return Err(Refusal::bad("truncated gRPC message".into()));
        }
        let message = body.split_to(len);
        items += match (compressed, gzip) {
            (false, _) => count(signal, &message)?,
            (true, true) => count(signal, &gunzip(&message)?)?,
            (true, false) => {
                return Err(Refusal::bad(
                    "compressed message without a grpc-encoding".into(),
                ));
            }
        };
    }
    Ok(items)
}

fn count_http(signal: Signal, headers: &HeaderMap, body: Bytes) -> Result<u64, Refusal> {
    let protobuf = headers
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/x-protobuf"));
    if !protobuf {
        return Err(Refusal::unsupported(
            "the sink reads application/x-protobuf only".into(),
        ));
    }
    if is_gzip(headers.get(CONTENT_ENCODING))? {
        count(signal, &gunzip(&body)?)
    } else {
        count(signal, &body)
    }
}

fn plain(status: StatusCode, content_type: &'static str, text: String) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(text)).boxed());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// An empty export response: proto3 encodes an all-default message as zero bytes.
fn http_ok() -> Response<Body> {
    let mut response = Response::new(Empty::new().boxed());
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-protobuf"),
    );
    response
}

fn grpc_ok() -> Response<Body> {
    // One uncompressed, empty response message, then the OK status in the trailers.
    let message = Bytes::from_static(&[0, 0, 0, 0, 0]);
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from_static("0"));
    let body = Full::new(message)
        .with_trailers(async move { Some(Ok(trailers)) })
        .boxed();
    let mut response = Response::new(body);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    response
}

/// A trailers-only gRPC error response.
fn grpc_error(refusal: &Refusal) -> Response<Body> {
    let mut response = Response::new(Empty::new().boxed());
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    headers.insert("grpc-status", HeaderValue::from_static(refusal.grpc));
    let message: String = refusal
        .message
        .chars()
        // Printable ASCII but `%` needs no percent-encoding in a grpc-message.
        .map(|c| {
            if (c.is_ascii_graphic() && c != '%') || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    if let Ok(value) = HeaderValue::from_str(&message) {
        headers.insert("grpc-message", value);
    }
    response
}
