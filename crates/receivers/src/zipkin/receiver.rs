//! The receiver: an HTTP server taking Zipkin spans, handing them to the pipeline as OTLP.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::extract::Request;
use bytes::Bytes;
use http::header::{ALLOW, CONNECTION, CONTENT_ENCODING, CONTENT_TYPE, ORIGIN, RETRY_AFTER};
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use tributary_pipeline_core::component::{Component, ComponentError, CreateSettings, Host};
use tributary_pipeline_core::configcompression::{DecompressError, Encoding, decompress};
use tributary_pipeline_core::confighttp::CorsPolicy;
use tributary_pipeline_core::consumer::{ConsumeError, Next};
use tributary_pipeline_core::pdata::builder::now_unix_nano;
use tributary_pipeline_core::pdata::{ClientMetadata, Signal, Traces};
use tributary_pipeline_core::receiverhelper::deliver;
use tributary_pipeline_core::server::RunningServer;
use tributary_pipeline_core::telemetry::ReceiverMetrics;

use super::config::Config;
use crate::shared::admission::{Admission, AdmissionPermit};
use crate::shared::refusal;

/// Bodies at least this large are decoded on a blocking thread, off the async runtime.
const OFFLOAD_THRESHOLD: usize = 64 * 1024;

/// The memory all requests may hold at once when `max_request_body_size` is the default:
/// the OTLP receiver's default `request_limit_mib`. Larger limits get twice the limit, so
/// one request of the largest size (and its decompressed form) always fits.
const DEFAULT_BUDGET: usize = 128 << 20;

/// How long a request waits for room in the budget before it is refused with 503.
const ADMISSION_WAIT: Duration = Duration::from_secs(1);

/// The receiver's admission budget: at least two bodies of `max_body_size`; a request
/// waits up to [`ADMISSION_WAIT`] for room.
fn admission(max_body_size: usize) -> Admission {
    Admission::bounded(DEFAULT_BUDGET.max(max_body_size.saturating_mul(2)))
        .waiting_limit(usize::MAX, Some(ADMISSION_WAIT))
}

/// What a request carries, by its path and `Content-Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyFormat {
    /// `/api/v1/spans`, JSON.
    V1Json,
    /// `/api/v1/spans`, `application/x-thrift`: not supported.
    V1Thrift,
    /// Any other path, JSON.
    V2Json,
    /// Any other path, `application/x-protobuf`.
    V2Proto,
}

impl BodyFormat {
    /// As the Go receiver decides: a path containing `api/v1/spans` is v1, any other v2;
    /// thrift (v1) and protobuf (v2) by `Content-Type`, JSON otherwise.
    pub(crate) fn of(path: &str, headers: &HeaderMap) -> BodyFormat {
        let media_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match (path.contains("api/v1/spans"), media_type.as_str()) {
            (true, "application/x-thrift") => BodyFormat::V1Thrift,
            (true, _) => BodyFormat::V1Json,
            (false, "application/x-protobuf") => BodyFormat::V2Proto,
            (false, _) => BodyFormat::V2Json,
        }
    }
}

/// Decodes a Zipkin body of `format` into OTLP traces; the error is the 400 answer's text.
pub(crate) fn decode(
    format: BodyFormat,
    body: &[u8],
    parse_string_tags: bool,
) -> Result<Traces, String> {
    let decoded = match format {
        BodyFormat::V1Json => {
            tributary_translator_zipkin::decode_v1_json(body, parse_string_tags, now_unix_nano())
        }
        BodyFormat::V2Json => tributary_translator_zipkin::decode_v2_json(body, parse_string_tags),
        BodyFormat::V2Proto => {
            tributary_translator_zipkin::decode_v2_proto(body, parse_string_tags)
        }
        BodyFormat::V1Thrift => return Err(THRIFT_REFUSAL.into()),
    };
    decoded.map_err(|e| e.to_string())
}

const THRIFT_REFUSAL: &str = "Zipkin v1 Thrift is not supported: send Zipkin v1 JSON to \
    /api/v1/spans, or v2 JSON or protobuf (application/x-protobuf) to /api/v2/spans";

/// The `zipkin` receiver.
pub(crate) struct ZipkinReceiver {
    settings: CreateSettings,
    config: Config,
    intake: Arc<Intake>,
    server: Mutex<Option<(RunningServer, SocketAddr)>>,
}

/// What the request handler needs.
struct Intake {
    next: Next<Traces>,
    metrics: ReceiverMetrics,
    parse_string_tags: bool,
    max_body_size: usize,
    encodings: Vec<Encoding>,
    read_timeout: Option<Duration>,
    /// How long a request may take from its headers to its answer.
    write_timeout: Option<Duration>,
    include_metadata: bool,
    cors: Option<CorsPolicy>,
    admission: Admission,
    span: tracing::Span,
}

impl ZipkinReceiver {
    pub(crate) fn new(settings: &CreateSettings, config: &Config, next: Next<Traces>) -> Self {
        let server = config.http_server();
        ZipkinReceiver {
            settings: settings.clone(),
            config: config.clone(),
            intake: Arc::new(Intake {
                next,
                metrics: ReceiverMetrics::new(
                    settings.metrics(),
                    settings.id(),
                    "http",
                    Signal::Traces,
                ),
                parse_string_tags: config.parse_string_tags,
                max_body_size: server.max_body_size(),
                encodings: server.encodings(),
                read_timeout: server.read_timeout(),
                write_timeout: server.write_timeout(),
                include_metadata: server.include_metadata,
                cors: server.cors_policy(),
                admission: admission(server.max_body_size()),
                span: settings.span().clone(),
            }),
            server: Mutex::new(None),
        }
    }

    fn server(&self) -> std::sync::MutexGuard<'_, Option<(RunningServer, SocketAddr)>> {
        self.server.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The address the started receiver listens on.
    #[cfg(test)]
    pub(crate) fn local_addr(&self) -> Option<SocketAddr> {
        self.server().as_ref().map(|(_, local)| *local)
    }
}

#[async_trait]
impl Component for ZipkinReceiver {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        if self.server().is_some() {
            return Err(ComponentError::new(
                "the zipkin receiver is already started",
            ));
        }
        let intake = Arc::clone(&self.intake);
        let router = Router::new().fallback(move |request: Request| {
            let intake = Arc::clone(&intake);
            async move { intake.answer(request).await.map(axum::body::Body::new) }
        });
        let (server, local) = self
            .config
            .http_server()
            .serve(&self.settings, host, "Zipkin receiver", router)
            .await?;
        self.settings.span().in_scope(|| {
            tracing::info!(endpoint = %local, "Zipkin receiver listening on http://{local}");
        });
        let lost_race = {
            let mut slot = self.server();
            if slot.is_some() {
                Some(server)
            } else {
                *slot = Some((server, local));
                None
            }
        };
        if let Some(server) = lost_race {
            server.stop().await;
            return Err(ComponentError::new(
                "the zipkin receiver is already started",
            ));
        }
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        let server = self.server().take();
        if let Some((server, _)) = server {
            server.stop().await;
        }
        Ok(())
    }
}

impl Intake {
    async fn answer(&self, request: Request) -> Response<Full<Bytes>> {
        let Some(limit) = self.write_timeout else {
            return self.answer_in_time(request).await;
        };
        match tokio::time::timeout(limit, self.answer_in_time(request)).await {
            Ok(response) => response,
            Err(_) => {
                let mut response = text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the request was not answered within write_timeout",
                );
                response
                    .headers_mut()
                    .insert(CONNECTION, HeaderValue::from_static("close"));
                response
            }
        }
    }

    async fn answer_in_time(&self, request: Request) -> Response<Full<Bytes>> {
        let Some(cors) = &self.cors else {
            return self.handle(request).await;
        };
        if CorsPolicy::is_preflight(request.method(), request.headers()) {
            return cors.preflight(request.headers());
        }
        let origin = request.headers().get(ORIGIN).cloned();
        let mut response = self.handle(request).await;
        cors.decorate(origin.as_ref(), &mut response);
        response
    }

    /// Checks in the order a client can act on: method (405), format (415), encoding
    /// (400), size (413), arrival (408); then decompresses (413, 400), decodes (400) and
    /// delivers (202, or the pipeline's refusal).
    async fn handle(&self, request: Request) -> Response<Full<Bytes>> {
        if request.method() != Method::POST {
            let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "only POST is supported");
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
        let format = BodyFormat::of(request.uri().path(), request.headers());
        if format == BodyFormat::V1Thrift {
            return text(StatusCode::UNSUPPORTED_MEDIA_TYPE, THRIFT_REFUSAL);
        }
        let encoding = match self.encoding(request.headers()) {
            Ok(encoding) => encoding,
            Err(message) => return text(StatusCode::BAD_REQUEST, &message),
        };
        let declared = request
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|length| length > self.max_body_size as u64) {
            return self.too_large();
        }
        let metadata = self
            .include_metadata
            .then(|| client_metadata(request.headers()));

        // A body of unknown length (chunked) may be as large as the limit.
        let reserve = declared.map_or(self.max_body_size, |length| length as usize);
        let Ok(permit) = self.admission.admit(reserve).await else {
            return busy();
        };
        let body = Limited::new(request.into_body(), self.max_body_size).collect();
        let body = match self.read_timeout {
            Some(limit) => match tokio::time::timeout(limit, body).await {
                Ok(body) => body,
                Err(_) => {
                    return text(
                        StatusCode::REQUEST_TIMEOUT,
                        "the request body did not arrive within read_timeout",
                    );
                }
            },
            None => body.await,
        };
        let body = match body {
            Ok(collected) => collected.to_bytes(),
            Err(error) if error.is::<http_body_util::LengthLimitError>() => {
                return self.too_large();
            }
            Err(error) => {
                return text(
                    StatusCode::BAD_REQUEST,
                    &format!("cannot read the request body: {error}"),
                );
            }
        };

        let (limit, parse) = (self.max_body_size, self.parse_string_tags);
        let work = move || -> (AdmissionPermit, Result<Traces, Failure>) {
            let mut permit = permit;
            let result = decompress_and_decode(format, encoding, body, limit, parse, &mut permit);
            (permit, result)
        };
        let decoded = if request_is_heavy(declared) {
            match tokio::task::spawn_blocking(work).await {
                Ok(done) => done,
                Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
            }
        } else {
            work()
        };
        // Held until the pipeline answered: the spans are in memory until then.
        let (_permit, decoded) = decoded;
        let mut traces = match decoded {
            Ok(traces) => traces,
            Err(failure) => {
                let response = failure.into_response();
                self.span.in_scope(|| {
                    tracing::debug!(status = %response.status(), "refused a Zipkin request");
                });
                return response;
            }
        };
        if let Some(metadata) = metadata {
            traces = traces.with_metadata(metadata);
        }
        match deliver(&self.next, &self.metrics, traces).await {
            Ok(()) => Response::builder()
                .status(StatusCode::ACCEPTED)
                .body(Full::new(Bytes::new()))
                .unwrap_or_default(),
            Err(error) => refusal(&error),
        }
    }

    /// The encoding `Content-Encoding` names, if `compression_algorithms` allows it.
    fn encoding(&self, headers: &HeaderMap) -> Result<Encoding, String> {
        let Some(value) = headers.get(CONTENT_ENCODING) else {
            return Ok(Encoding::Identity);
        };
        match value.to_str().ok().and_then(Encoding::from_http) {
            Some(Encoding::Identity) => Ok(Encoding::Identity),
            Some(encoding) if self.encodings.contains(&encoding) => Ok(encoding),
            _ => Err(format!(
                "unsupported Content-Encoding {:?}: supported are {}",
                String::from_utf8_lossy(value.as_bytes()),
                self.encodings
                    .iter()
                    .map(|e| e.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    fn too_large(&self) -> Response<Full<Bytes>> {
        text(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!(
                "the request body is larger than max_request_body_size ({} bytes)",
                self.max_body_size
            ),
        )
    }
}

/// Why a body was not turned into spans.
enum Failure {
    /// Answered with this status and message.
    Status(StatusCode, String),
    /// No room in the admission budget.
    Busy,
}

impl Failure {
    fn into_response(self) -> Response<Full<Bytes>> {
        match self {
            Failure::Status(status, message) => text(status, &message),
            Failure::Busy => busy(),
        }
    }
}

/// Decompresses `body` within `limit`, taking the output's memory from `permit`, and
/// decodes it.
fn decompress_and_decode(
    format: BodyFormat,
    encoding: Encoding,
    body: Bytes,
    limit: usize,
    parse_string_tags: bool,
    permit: &mut AdmissionPermit,
) -> Result<Traces, Failure> {
    let body = match encoding {
        Encoding::Identity => body,
        encoding => decompress(encoding, &body, limit, permit)
            .map(Bytes::from)
            .map_err(|error| match error {
                DecompressError::TooLarge(_) => {
                    Failure::Status(StatusCode::PAYLOAD_TOO_LARGE, error.to_string())
                }
                DecompressError::Refused(_) => Failure::Busy,
                error => Failure::Status(StatusCode::BAD_REQUEST, error.to_string()),
            })?,
    };
    decode(format, &body, parse_string_tags)
        .map_err(|message| Failure::Status(StatusCode::BAD_REQUEST, message))
}

/// The answer when the requests in hand already hold all the memory allowed.
fn busy() -> Response<Full<Bytes>> {
    let mut response = text(
        StatusCode::SERVICE_UNAVAILABLE,
        "the receiver is handling as much data as it may hold; retry later",
    );
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// Whether decoding a body of this declared size should leave the async runtime (an
/// unknown size, from a chunked body, is treated as large).
fn request_is_heavy(declared: Option<u64>) -> bool {
    declared.is_none_or(|length| length >= OFFLOAD_THRESHOLD as u64)
}

/// The pipeline's refusal as an answer: 503 (retryable) or 429 (throttled) with
/// `Retry-After` when the pipeline gave a delay; 400 for data the pipeline will never
/// take.
fn refusal(error: &ConsumeError) -> Response<Full<Bytes>> {
    let mut response = text(refusal::http_status(error), error.message());
    if let Some(delay) = error.retry_after().filter(|_| !error.is_permanent()) {
        refusal::set_retry_after(response.headers_mut(), delay);
    }
    response
}

fn text(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(format!("{message}\n"))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The request's headers as the client metadata of the data it carries.
fn client_metadata(headers: &HeaderMap) -> Arc<ClientMetadata> {
    let mut metadata = ClientMetadata::new();
    for (name, value) in headers {
        if let Ok(value) = value.to_str() {
            metadata.insert(name.as_str(), value);
        }
    }
    Arc::new(metadata)
}

#[cfg(test)]
mod admission_tests {
    use tributary_pipeline_core::configcompression::Budget;

    use super::*;

    #[tokio::test]
    async fn requests_past_the_budget_wait_then_are_refused() {
        let admission = admission(0);
        let first = admission.admit(DEFAULT_BUDGET - 4096).await.unwrap();
        let mut second = admission.admit(2048).await.unwrap();
        // Growing past what is left is refused at once; the budget is unchanged.
        assert!(Budget::grow_to(&mut second, 1 << 20).is_err());
        assert!(Budget::grow_to(&mut second, 4096).is_ok());
        assert!(admission.admit(1).await.is_err());
        drop(first);
        assert!(admission.admit(1 << 20).await.is_ok());
    }

    #[tokio::test]
    async fn the_budget_fits_two_of_the_largest_bodies() {
        let admission = admission(200 << 20);
        let _both = admission.admit(400 << 20).await.unwrap();
        assert!(admission.admit(1).await.is_err());
    }
}
