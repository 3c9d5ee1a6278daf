//! Thrift over HTTP: `POST /api/traces` with a Thrift binary `Batch`, as Jaeger clients
//! send to a collector (`collector_endpoint`), on the shared HTTP server block.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::any;
use bytes::{Bytes, BytesMut};
use http::{HeaderMap, Method, StatusCode, header};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use tributary_pipeline_core::component::{ComponentError, CreateSettings, Host};
use tributary_pipeline_core::configcompression::{DecompressError, Encoding, NoBudget, decompress};
use tributary_pipeline_core::confighttp::CorsPolicy;
use tributary_pipeline_core::server::RunningServer;

use super::config::ThriftHttpConfig;
use super::grpc::client_metadata;
use super::receiver::{Intake, Refused, Transport};
use super::thrift::decode_batch_binary;
use crate::shared::admission::{AdmissionPermit, NotAdmitted};
use crate::shared::refusal;

/// The path batches are posted to.
pub(crate) const TRACES_PATH: &str = "/api/traces";

/// The content types of a Thrift binary body, as the Go receiver accepts them.
const THRIFT_CONTENT_TYPES: [&str; 2] = [
    "application/x-thrift",
    "application/vnd.apache.thrift.binary",
];

/// Binds the Thrift HTTP endpoint and starts serving it.
pub(crate) async fn serve(
    settings: &CreateSettings,
    host: &Host,
    config: &ThriftHttpConfig,
    intake: Arc<Intake>,
) -> Result<(RunningServer, SocketAddr), ComponentError> {
    let server = &config.server;
    let frontend = Arc::new(HttpFrontend {
        intake,
        max_body_size: server.max_body_size(),
        read_timeout: server.read_timeout(),
        encodings: server.encodings(),
        include_metadata: server.include_metadata,
        cors: server.cors_policy(),
    });
    let router = Router::new()
        .route(TRACES_PATH, any(post_batch))
        .with_state(frontend);
    server
        .serve(settings, host, "Jaeger Thrift HTTP receiver", router)
        .await
        .map_err(|e| ComponentError::with_source("protocols::thrift_http", e))
}

struct HttpFrontend {
    intake: Arc<Intake>,
    max_body_size: usize,
    read_timeout: Option<Duration>,
    encodings: Vec<Encoding>,
    include_metadata: bool,
    cors: Option<CorsPolicy>,
}

async fn post_batch(State(frontend): State<Arc<HttpFrontend>>, request: Request) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let mut response = match (&frontend.cors, request.method()) {
        (Some(cors), &Method::OPTIONS)
            if CorsPolicy::is_preflight(request.method(), request.headers()) =>
        {
            cors.preflight(request.headers())
        }
        (_, &Method::POST) => frontend.accept(request).await,
        _ => {
            let mut answer = text(
                StatusCode::METHOD_NOT_ALLOWED,
                "405 method not allowed, supported: [POST]",
            );
            answer
                .headers_mut()
                .insert(header::ALLOW, http::HeaderValue::from_static("POST"));
            answer
        }
    };
    if let Some(cors) = &frontend.cors {
        cors.decorate(origin.as_ref(), &mut response);
    }
    response.map(Body::new)
}

impl HttpFrontend {
    async fn accept(&self, request: Request) -> http::Response<Full<Bytes>> {
        match self.read_and_deliver(request).await {
            Ok(()) => {
                let mut answer = http::Response::new(Full::default());
                *answer.status_mut() = StatusCode::ACCEPTED;
                answer
            }
            Err(refusal) => refusal.into_response(),
        }
    }

    async fn read_and_deliver(&self, request: Request) -> Result<(), Refusal> {
        let headers = request.headers();
        check_content_type(headers)?;
        let encoding = self.content_encoding(headers)?;
        let metadata = self.include_metadata.then(|| client_metadata(headers));
        // Held until the pipeline answered.
        let mut admitted = self.intake.admission.empty_permit();
        let body = self.read_body(request.into_body(), &mut admitted).await?;
        let limit = self.max_body_size;
        let decoded = tokio::task::spawn_blocking(move || {
            let body = match encoding {
                Encoding::Identity => body,
                encoding => {
                    let body =
                        decompress(encoding, &body, limit, &mut NoBudget).map_err(|e| match e {
                            DecompressError::TooLarge(_) => {
                                Refusal::new(StatusCode::PAYLOAD_TOO_LARGE, e.to_string())
                            }
                            other => Refusal::new(StatusCode::BAD_REQUEST, other.to_string()),
                        })?;
                    admitted
                        .grow_by(body.len())
                        .map_err(|_| Refusal::throttled())?;
                    body.into()
                }
            };
            decode_batch_binary(&body)
                .map(|batch| (batch, admitted))
                .map_err(|e| {
                    Refusal::new(
                        StatusCode::BAD_REQUEST,
                        format!("Unable to process request body: {e}"),
                    )
                })
        })
        .await
        .map_err(|_| {
            Refusal::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "decoding the request failed",
            )
        });
        let (batch, _admitted) = match decoded.and_then(|decoded| decoded) {
            Ok(decoded) => decoded,
            Err(answer) => {
                // The spans of an unreadable body are unknown: one failed item per body.
                self.intake.metrics(Transport::ThriftHttp).record_failed(1);
                return Err(answer);
            }
        };
        match self
            .intake
            .deliver(Transport::ThriftHttp, batch, metadata)
            .await
        {
            Ok(()) => Ok(()),
            Err(Refused::Malformed(error)) => {
                Err(Refusal::new(StatusCode::BAD_REQUEST, error.to_string()))
            }
            Err(Refused::Pipeline(error)) => {
                let mut answer = Refusal::new(
                    refusal::http_status(&error),
                    format!("Cannot submit Jaeger batch: {error}"),
                );
                answer.retry_after = refusal::retry_after(&error).map(refusal::retry_after_seconds);
                Err(answer)
            }
        }
    }

    /// The body's `Content-Encoding`, when `compression_algorithms` accepts it.
    fn content_encoding(&self, headers: &HeaderMap) -> Result<Encoding, Refusal> {
        let Some(value) = headers.get(header::CONTENT_ENCODING) else {
            return Ok(Encoding::Identity);
        };
        let name = value.to_str().unwrap_or("").trim();
        match Encoding::from_http(name) {
            Some(encoding) if self.encodings.contains(&encoding) => Ok(encoding),
            _ => Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                format!("unsupported Content-Encoding {name:?}"),
            )),
        }
    }

    /// The whole body, within the size limit (413), the read timeout (408) and the
    /// admission budget (429), its bytes taken in `admitted` as they arrive.
    async fn read_body(
        &self,
        body: Body,
        admitted: &mut AdmissionPermit,
    ) -> Result<Bytes, Refusal> {
        let collect = async {
            let mut body = Limited::new(body, self.max_body_size);
            let mut bytes = BytesMut::new();
            while let Some(frame) = body.frame().await {
                if let Ok(data) = frame?.into_data() {
                    if admitted.grow_by(data.len()).is_err() {
                        return Ok(Err(Refusal::throttled()));
                    }
                    bytes.extend_from_slice(&data);
                }
            }
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(Ok(bytes.freeze()))
        };
        let collected = match self.read_timeout {
            Some(timeout) => tokio::time::timeout(timeout, collect).await.map_err(|_| {
                Refusal::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "the request body did not arrive in time",
                )
            })?,
            None => collect.await,
        };
        match collected {
            Ok(read) => read,
            Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => Err(Refusal::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request body is larger than {} bytes",
                    self.max_body_size
                ),
            )),
            Err(error) => Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                format!("cannot read the request body: {error}"),
            )),
        }
    }
}

/// Go's check: a Thrift binary content type, parameters aside, or 400.
fn check_content_type(headers: &HeaderMap) -> Result<(), Refusal> {
    let value = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media_type = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if THRIFT_CONTENT_TYPES.contains(&media_type.as_str()) {
        Ok(())
    } else {
        Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            format!("Unsupported content type: {value}"),
        ))
    }
}

/// A plain-text answer.
fn text(status: StatusCode, message: &str) -> http::Response<Full<Bytes>> {
    let mut answer = http::Response::new(Full::new(Bytes::from(format!("{message}\n"))));
    *answer.status_mut() = status;
    answer.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    answer
}

/// Why a request was not accepted: its status, message and `Retry-After` seconds.
struct Refusal {
    status: StatusCode,
    message: String,
    retry_after: Option<u64>,
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    /// Over the admission budget: 429, retry in a second.
    fn throttled() -> Refusal {
        Refusal {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: NotAdmitted::NO_ROOM.to_string(),
            retry_after: Some(1),
        }
    }

    fn into_response(self) -> http::Response<Full<Bytes>> {
        let mut answer = text(self.status, &self.message);
        if let Some(seconds) = self.retry_after {
            answer
                .headers_mut()
                .insert(header::RETRY_AFTER, http::HeaderValue::from(seconds));
        }
        answer
    }
}
