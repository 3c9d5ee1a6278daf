//! The HTTP front: `/write`, `/api/v2/write` and `/ping` on the `confighttp` server, the
//! body read within its limits, decoded, and handed to the pipeline before the answer.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http::header::{ALLOW, CONTENT_ENCODING, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use tributary_pipeline_core::configcompression::{DecompressError, Encoding, NoBudget, decompress};
use tributary_pipeline_core::pdata::ClientMetadata;
use tributary_pipeline_core::prelude::*;

use super::config::Config;
use super::parse::{Precision, parse_line_protocol};
use crate::shared::http_server::{Answer, ReceiverServer};
use crate::shared::refusal;
use crate::shared::request_body::{ReadBodyError, declared_length, read_body};
use tributary_pipeline_core::confighttp::percent::{Plus, decode_lossy};

/// Bodies at least this large are decompressed and decoded off the async runtime.
const OFFLOAD_THRESHOLD: usize = 64 * 1024;

/// The `influxdb` receiver: one HTTP server feeding one metrics pipeline.
pub(crate) struct InfluxDbReceiver {
    settings: CreateSettings,
    config: Config,
    intake: Arc<Intake>,
    server: ReceiverServer,
}

impl InfluxDbReceiver {
    pub(crate) fn new(settings: &CreateSettings, config: &Config, next: Next<Metrics>) -> Self {
        let server = &config.server;
        InfluxDbReceiver {
            settings: settings.clone(),
            config: config.clone(),
            intake: Arc::new(Intake {
                next,
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
                include_metadata: server.include_metadata,
                span: settings.span().clone(),
            }),
            server: ReceiverServer::default(),
        }
    }

    /// The address the server listens on, once started.
    #[cfg(test)]
    pub(crate) fn local_addr(&self) -> Option<std::net::SocketAddr> {
        self.server.local_addr()
    }
}

#[async_trait]
impl Component for InfluxDbReceiver {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        self.server
            .start(
                &self.config.server,
                &self.settings,
                host,
                "InfluxDB receiver",
                Arc::clone(&self.intake),
            )
            .await?;
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.server.stop().await;
        Ok(())
    }
}

/// Which write API a request uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Api {
    /// InfluxDB 1.x `/write`.
    V1,
    /// InfluxDB 2.x `/api/v2/write`.
    V2,
}

/// What a request is handled with.
struct Intake {
    next: Next<Metrics>,
    metrics: ReceiverMetrics,
    max_body: usize,
    encodings: Vec<Encoding>,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    include_metadata: bool,
    span: tracing::Span,
}

/// An answer other than success: its status, InfluxDB's error `code`, the message, the
/// line at fault and how long to wait before retrying.
struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
    line: Option<usize>,
    retry_after: Option<Duration>,
}

impl Refusal {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            status,
            code,
            message: message.into(),
            line: None,
            retry_after: None,
        }
    }

    fn invalid(message: impl Into<String>) -> Self {
        Refusal::new(StatusCode::BAD_REQUEST, "invalid", message)
    }

    fn too_large(limit: usize) -> Self {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request too large",
            format!("request larger than the receiver's max_request_body_size ({limit} bytes)"),
        )
    }

    /// InfluxDB 2.x's error body, `{"code": .., "message": .., "line": ..}`.
    fn into_response(self) -> Response<Body> {
        let mut body = serde_json::json!({"code": self.code, "message": self.message});
        if let Some(line) = self.line {
            body["line"] = line.into();
        }
        let mut response = Response::new(Body::from(body.to_string()));
        *response.status_mut() = self.status;
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        if let Some(delay) = self.retry_after {
            refusal::set_retry_after(response.headers_mut(), delay);
        }
        response
    }
}

fn no_content() -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

#[async_trait]
impl Answer for Intake {
    async fn answer(&self, request: Request<Body>) -> Response<Body> {
        let api = match request.uri().path() {
            "/write" => Api::V1,
            "/api/v2/write" => Api::V2,
            // A health probe, whatever the method, as InfluxDB and the Go receiver answer.
            "/ping" => return no_content(),
            path => {
                return Refusal::new(
                    StatusCode::NOT_FOUND,
                    "not found",
                    format!("path {path:?} not found: write to /write or /api/v2/write"),
                )
                .into_response();
            }
        };
        if request.method() != Method::POST {
            let mut response = Refusal::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed",
                format!("{} is not allowed: POST line protocol", request.method()),
            )
            .into_response();
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
        let write = self.write(api, request);
        let outcome = match self.write_timeout {
            Some(limit) => tokio::time::timeout(limit, write)
                .await
                .unwrap_or_else(|_| {
                    Err(Refusal::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable",
                        "no answer from the pipeline within write_timeout",
                    ))
                }),
            None => write.await,
        };
        match outcome {
            Ok(()) => no_content(),
            Err(refusal) => {
                self.span.in_scope(|| {
                    tracing::debug!(status = %refusal.status, message = %refusal.message, "refused a write");
                });
                refusal.into_response()
            }
        }
    }
}

impl Intake {
    async fn write(&self, api: Api, request: Request<Body>) -> Result<(), Refusal> {
        let precision = precision(api, request.uri().query())?;
        let encoding = self.encoding(request.headers().get(CONTENT_ENCODING))?;
        let declared = declared_length(request.headers());
        if declared.is_some_and(|n| n > self.max_body as u64) {
            return Err(Refusal::too_large(self.max_body));
        }
        let metadata = self.include_metadata.then(|| {
            let mut metadata = ClientMetadata::new();
            for (name, value) in request.headers() {
                if let Ok(value) = value.to_str() {
                    metadata.insert(name.as_str(), value);
                }
            }
            Arc::new(metadata)
        });
        let body = self.read(request.into_body()).await?;
        let heavy = encoding != Encoding::Identity || body.len() >= OFFLOAD_THRESHOLD;
        let (max_body, now) = (self.max_body, now_unix_nano());
        let decode = move || -> Result<Metrics, Refusal> {
            let plain = match encoding {
                Encoding::Identity => None,
                encoding => Some(
                    decompress(encoding, &body, max_body, &mut NoBudget).map_err(|e| match e {
                        DecompressError::TooLarge(limit) => Refusal::too_large(limit),
                        other => Refusal::invalid(other.to_string()),
                    })?,
                ),
            };
            parse_line_protocol(plain.as_deref().unwrap_or(&body), precision, now).map_err(|e| {
                let mut refusal = Refusal::invalid(e.to_string());
                refusal.line = Some(e.line);
                refusal
            })
        };
        let metrics = if heavy {
            tokio::task::spawn_blocking(decode).await.map_err(|e| {
                Refusal::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error",
                    e.to_string(),
                )
            })??
        } else {
            decode()?
        };
        let metrics = match metadata {
            Some(metadata) => metrics.with_metadata(metadata),
            None => metrics,
        };
        receiverhelper::deliver(&self.next, &self.metrics, metrics)
            .await
            .map_err(refusal_for)
    }

    /// The `Content-Encoding`, when `compression_algorithms` accepts it.
    fn encoding(&self, header: Option<&HeaderValue>) -> Result<Encoding, Refusal> {
        let Some(header) = header else {
            return Ok(Encoding::Identity);
        };
        let name = header.to_str().unwrap_or_default().trim();
        Encoding::from_http(name)
            .filter(|e| self.encodings.contains(e))
            .ok_or_else(|| Refusal::invalid(format!("unsupported Content-Encoding {name:?}")))
    }

    /// The whole body, within `max_request_body_size` and `read_timeout`.
    async fn read(&self, body: Body) -> Result<Bytes, Refusal> {
        read_body(body, self.max_body, self.read_timeout)
            .await
            .map_err(|e| match e {
                ReadBodyError::TooLarge => Refusal::too_large(self.max_body),
                ReadBodyError::TimedOut => Refusal::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "request timeout",
                    "the body did not arrive within read_timeout",
                ),
                ReadBodyError::Broken(e) => Refusal::invalid(format!("reading the body: {e}")),
            })
    }
}

/// The request's `precision`: nanoseconds when absent.
fn precision(api: Api, query: Option<&str>) -> Result<Precision, Refusal> {
    let Some(name) = query_value(query.unwrap_or_default(), "precision") else {
        return Ok(Precision::Nanosecond);
    };
    if name.is_empty() {
        return Ok(Precision::Nanosecond);
    }
    let parsed = match api {
        Api::V1 => Precision::from_v1(&name),
        Api::V2 => Precision::from_v2(&name),
    };
    parsed.ok_or_else(|| Refusal::invalid(format!("unrecognized precision {name:?}")))
}

/// The first value of `key` in a query string, percent-decoded.
fn query_value(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == key).then(|| percent_decode(v))
    })
}

/// A query component, `+` a space, as Go's `url.ParseQuery` reads it; malformed escapes
/// kept.
fn percent_decode(text: &str) -> String {
    decode_lossy(text.as_bytes(), Plus::Space).into_owned()
}

/// The answer to a pipeline's refusal: 400 when retrying cannot help (as the Go
/// receiver), 429 when throttled and 503 otherwise, with `Retry-After` when known.
fn refusal_for(error: ConsumeError) -> Refusal {
    if error.is_permanent() {
        return Refusal::invalid(format!(
            "the pipeline refused the data: {}",
            error.message()
        ));
    }
    let (status, code) = if error.is_throttled() {
        (StatusCode::TOO_MANY_REQUESTS, "too many requests")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    };
    let mut refusal = Refusal::new(
        status,
        code,
        format!("try again later: {}", error.message()),
    );
    refusal.retry_after = error.retry_after();
    refusal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_decoded() {
        assert_eq!(
            query_value("db=x&precision=%C2%B5s", "precision").as_deref(),
            Some("µs")
        );
        assert_eq!(
            query_value("precision=s", "precision").as_deref(),
            Some("s")
        );
        assert_eq!(query_value("db=x", "precision"), None);
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
