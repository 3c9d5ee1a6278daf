//! The receiver at work: `/api/put` (and `/api/version`) on the `confighttp` server, and
//! the telnet listener when configured.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http::header::{ALLOW, CONTENT_ENCODING, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use serde_json::{Value, json};
use tributary_pipeline_core::configcompression::{DecompressError, Encoding, NoBudget, decompress};
use tributary_pipeline_core::pdata::ClientMetadata;
use tributary_pipeline_core::prelude::*;

use super::config::Config;
use super::point::to_metrics;
use super::put_json::{BodyError, PointFailure, PutBody, decode_put_body};
use super::telnet::TelnetIntake;
use crate::shared::http_server::{Answer, ReceiverServer};
use crate::shared::refusal;
use crate::shared::request_body::{ReadBodyError, declared_length, read_body};

/// The path data points are put to.
pub const PUT_PATH: &str = "/api/put";

/// Bodies at least this large are decompressed and decoded off the async runtime.
const OFFLOAD_THRESHOLD: usize = 64 * 1024;

/// The `opentsdb` receiver: the HTTP API and, when configured, the telnet listener,
/// feeding one metrics pipeline.
pub(crate) struct OpenTsdbReceiver {
    settings: CreateSettings,
    config: Config,
    intake: Arc<Intake>,
    telnet: Arc<TelnetIntake>,
    server: ReceiverServer,
    tasks: ReceiverTasks,
    telnet_addr: Mutex<Option<SocketAddr>>,
}

impl OpenTsdbReceiver {
    pub(crate) fn new(settings: &CreateSettings, config: &Config, next: Next<Metrics>) -> Self {
        let server = &config.server;
        OpenTsdbReceiver {
            settings: settings.clone(),
            config: config.clone(),
            intake: Arc::new(Intake {
                next: Arc::clone(&next),
                metrics: ReceiverMetrics::new(
                    settings.metrics(),
                    settings.id(),
                    "http",
                    Signal::Metrics,
                ),
                max_body: server.max_body_size(),
                encodings: server.encodings(),
                read_timeout: server.read_timeout(),
                write_timeout: server.write_timeout(),
                max_tags: config.max_tags,
                include_metadata: server.include_metadata,
                span: settings.span().clone(),
            }),
            telnet: Arc::new(TelnetIntake {
                next,
                metrics: ReceiverMetrics::new(
                    settings.metrics(),
                    settings.id(),
                    "tcp",
                    Signal::Metrics,
                ),
                max_tags: config.max_tags,
            }),
            server: ReceiverServer::default(),
            tasks: ReceiverTasks::new(settings),
            telnet_addr: Mutex::new(None),
        }
    }

    /// The address the HTTP API listens on, once started.
    #[cfg(test)]
    pub(crate) fn local_addr(&self) -> Option<SocketAddr> {
        self.server.local_addr()
    }

    /// The address the telnet listener listens on, once started (if configured).
    #[cfg(test)]
    pub(crate) fn telnet_addr(&self) -> Option<SocketAddr> {
        *self.telnet_addr.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl Component for OpenTsdbReceiver {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        self.server
            .start(
                &self.config.server,
                &self.settings,
                host,
                "OpenTSDB receiver",
                Arc::clone(&self.intake),
            )
            .await?;
        if let Some(endpoint) = &self.config.telnet.endpoint {
            let addr = self.config.telnet.addr(endpoint).await?;
            let telnet = Arc::clone(&self.telnet);
            let local = self.tasks.serve_tcp(
                addr,
                self.config.telnet.max_connections,
                move |stream, peer, stop| Arc::clone(&telnet).serve(stream, peer, stop),
            );
            let local = match local {
                Ok(local) => local,
                Err(error) => {
                    self.server.stop().await;
                    return Err(error);
                }
            };
            tracing::info!(endpoint = %local, "opentsdb telnet listener listening");
            *self.telnet_addr.lock().unwrap_or_else(|e| e.into_inner()) = Some(local);
        }
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.server.stop().await;
        self.tasks.shutdown(receiverhelper::SHUTDOWN_DEADLINE).await
    }
}

/// What an HTTP request is handled with.
struct Intake {
    next: Next<Metrics>,
    metrics: ReceiverMetrics,
    max_body: usize,
    encodings: Vec<Encoding>,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    max_tags: usize,
    include_metadata: bool,
    span: tracing::Span,
}

/// The flags of a put request's query string.
#[derive(Clone, Copy, Debug, Default)]
struct Flags {
    summary: bool,
    details: bool,
    /// `sync_timeout` in milliseconds; `0` or absent waits as long as `write_timeout`.
    sync_timeout: Option<Duration>,
}

impl Flags {
    fn parse(query: Option<&str>) -> Self {
        let mut flags = Flags::default();
        for pair in query.unwrap_or_default().split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "summary" => flags.summary = true,
                "details" => flags.details = true,
                "sync_timeout" => {
                    flags.sync_timeout = value
                        .parse::<u64>()
                        .ok()
                        .filter(|ms| *ms > 0)
                        .map(Duration::from_millis)
                }
                _ => {}
            }
        }
        flags
    }
}

/// OpenTSDB's error answer: `{"error":{"code":..,"message":..,"details":..}}`.
fn error_response(status: StatusCode, message: &str, details: &str) -> Response<Body> {
    let mut error = json!({"code": status.as_u16(), "message": message});
    if !details.is_empty() {
        error["details"] = details.into();
    }
    json_response(status, &json!({ "error": error }))
}

fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    response
}

#[async_trait]
impl Answer for Intake {
    async fn answer(&self, request: Request<Body>) -> Response<Body> {
        let path = request.uri().path().trim_end_matches('/');
        match path {
            PUT_PATH => {}
            "/api/version" => {
                return json_response(
                    StatusCode::OK,
                    &json!({"version": env!("CARGO_PKG_VERSION"), "short_revision": "tributary"}),
                );
            }
            _ => {
                return error_response(
                    StatusCode::NOT_FOUND,
                    "Endpoint not found",
                    &format!("the receiver serves {PUT_PATH}"),
                );
            }
        }
        if request.method() != Method::POST {
            let mut response = error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
                &format!(
                    "The HTTP method [{}] is not permitted for this endpoint",
                    request.method()
                ),
            );
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
        let response = self.put(request).await;
        if response.status().is_client_error() || response.status().is_server_error() {
            self.span.in_scope(|| {
                tracing::debug!(status = %response.status(), "answered a put with an error");
            });
        }
        response
    }
}

impl Intake {
    async fn put(&self, request: Request<Body>) -> Response<Body> {
        let flags = Flags::parse(request.uri().query());
        let encoding = match request.headers().get(CONTENT_ENCODING) {
            None => Encoding::Identity,
            Some(header) => {
                let name = header.to_str().unwrap_or_default().trim();
                match Encoding::from_http(name).filter(|e| self.encodings.contains(e)) {
                    Some(encoding) => encoding,
                    None => {
                        return error_response(
                            StatusCode::UNSUPPORTED_MEDIA_TYPE,
                            "Unsupported Content-Encoding",
                            name,
                        );
                    }
                }
            }
        };
        if declared_length(request.headers()).is_some_and(|n| n > self.max_body as u64) {
            return self.too_large();
        }
        let metadata = self
            .include_metadata
            .then(|| client_metadata(request.headers()));
        let body = match read_body(request.into_body(), self.max_body, self.read_timeout).await {
            Ok(body) => body,
            Err(ReadBodyError::TooLarge) => return self.too_large(),
            Err(ReadBodyError::TimedOut) => {
                return error_response(
                    StatusCode::REQUEST_TIMEOUT,
                    "Request timeout",
                    "the body did not arrive within read_timeout",
                );
            }
            Err(ReadBodyError::Broken(e)) => {
                return error_response(StatusCode::BAD_REQUEST, "Unable to read the body", &e);
            }
        };
        let put = match self.decode(encoding, body).await {
            Ok(put) => put,
            Err(response) => return response,
        };
        self.deliver(put, flags, metadata).await
    }

    fn too_large(&self) -> Response<Body> {
        error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request too large",
            &format!(
                "larger than the receiver's max_request_body_size ({} bytes)",
                self.max_body
            ),
        )
    }

    /// The body, decompressed and decoded (off the runtime when heavy).
    async fn decode(&self, encoding: Encoding, body: Bytes) -> Result<PutBody, Response<Body>> {
        let (max_body, max_tags) = (self.max_body, self.max_tags);
        let heavy = encoding != Encoding::Identity || body.len() >= OFFLOAD_THRESHOLD;
        let decode = move || -> Result<PutBody, (StatusCode, String, String)> {
            let plain = match encoding {
                Encoding::Identity => None,
                encoding => Some(
                    decompress(encoding, &body, max_body, &mut NoBudget).map_err(|e| match e {
                        DecompressError::TooLarge(limit) => (
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "Request too large".to_string(),
                            format!("decompresses past max_request_body_size ({limit} bytes)"),
                        ),
                        other => (
                            StatusCode::BAD_REQUEST,
                            "Unable to decompress the body".to_string(),
                            other.to_string(),
                        ),
                    })?,
                ),
            };
            decode_put_body(plain.as_deref().unwrap_or(&body), max_tags)
                .map_err(|e: BodyError| (StatusCode::BAD_REQUEST, e.to_string(), e.details()))
        };
        let decoded = if heavy {
            tokio::task::spawn_blocking(decode)
                .await
                .unwrap_or_else(|e| {
                    Err((
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Internal error".to_string(),
                        e.to_string(),
                    ))
                })
        } else {
            decode()
        };
        decoded.map_err(|(status, message, details)| error_response(status, &message, &details))
    }

    /// Delivers the good points, then answers as the TSD does: `204`, or the summary, or
    /// `400` when any point failed.
    async fn deliver(
        &self,
        put: PutBody,
        flags: Flags,
        metadata: Option<Arc<ClientMetadata>>,
    ) -> Response<Body> {
        let PutBody {
            points,
            mut failures,
        } = put;
        self.metrics.record_failed(failures.len());
        let mut success = points.len();
        let mut refused = 0;
        let metrics = match metadata {
            Some(metadata) => to_metrics(points).with_metadata(metadata),
            None => to_metrics(points),
        };
        let delivered = receiverhelper::deliver(&self.next, &self.metrics, metrics);
        let limit = flags.sync_timeout.or(self.write_timeout);
        let outcome = match limit {
            Some(limit) => tokio::time::timeout(limit, delivered)
                .await
                .unwrap_or_else(|_| {
                    Err(ConsumeError::retryable(
                        "no answer from the pipeline within sync_timeout or write_timeout",
                    ))
                }),
            None => delivered.await,
        };
        if let Err(error) = outcome {
            if !error.is_permanent() {
                // Nothing was taken: the client sends the request again later.
                let status = refusal::http_status(&error);
                let mut response = error_response(
                    status,
                    "Unable to store the data points, try again later",
                    error.message(),
                );
                if let Some(delay) = refusal::retry_after(&error) {
                    refusal::set_retry_after(response.headers_mut(), delay);
                }
                return response;
            }
            // Retrying cannot help: the good points failed too, under one error entry.
            failures.push(PointFailure {
                datapoint: json!({}),
                error: format!(
                    "{success} data points refused by the pipeline: {}",
                    error.message()
                ),
            });
            refused = success;
            success = 0;
        }
        let failed = failures.len() + refused.saturating_sub(1);
        if !flags.summary && !flags.details {
            if failed > 0 {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    "One or more data points had errors",
                    "Please see the TSD logs or append \"details\" to the put request",
                );
            }
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::NO_CONTENT;
            return response;
        }
        let mut summary = json!({"success": success, "failed": failed});
        if flags.details {
            summary["errors"] = failures
                .into_iter()
                .map(|f| json!({"datapoint": f.datapoint, "error": f.error}))
                .collect();
        }
        let status = if failed > 0 {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        json_response(status, &summary)
    }
}

/// The request's headers as client metadata (for `include_metadata`); values that are not
/// text are left out.
fn client_metadata(headers: &http::HeaderMap) -> Arc<ClientMetadata> {
    let mut metadata = ClientMetadata::new();
    for (name, value) in headers {
        if let Ok(value) = value.to_str() {
            metadata.insert(name.as_str(), value);
        }
    }
    Arc::new(metadata)
}
