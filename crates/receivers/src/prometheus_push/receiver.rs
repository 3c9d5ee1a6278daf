//! The HTTP front: pushes under the path prefix on the `confighttp` server, the body read
//! within its limits and parsed, the group's record consulted, and the result handed to
//! the pipeline before the answer.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http::header::{ALLOW, CONTENT_ENCODING, CONTENT_TYPE};
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use tributary_pipeline_core::configcompression::{DecompressError, Encoding, decompress};
use tributary_pipeline_core::pdata::ClientMetadata;
use tributary_pipeline_core::prelude::*;
use tributary_translator_prometheus::text::{Family, Limits};
use tributary_translator_prometheus::to_otlp::{Options, StartTimeAdjuster, to_metrics};

use super::body::{BodyError, PUSH_FAILURE_TIME, parse_push_body};
use super::config::Config;
use super::groups::{Groups, PushMethod, RecordLimits, group_gauge};
use super::path::{GroupingKey, parse_grouping_key};
use crate::shared::admission::{Admission, AdmissionPermit};
use crate::shared::http_server::{Answer, ReceiverServer};
use crate::shared::refusal;
use crate::shared::request_body::{ReadBodyError, declared_length, read_body};

/// The scope of the metrics the receiver forwards.
pub const SCOPE_NAME: &str = "tributary/receiver/prometheus_push";

/// Bodies at least this large are decompressed and parsed off the async runtime.
const OFFLOAD_THRESHOLD: usize = 64 * 1024;

/// The memory all requests in hand may hold at once (bodies, raw and decompressed) with
/// the default `max_request_body_size`; a larger limit gets twice itself, so one body of
/// the largest size always fits. Pushes wait for each other (see [`Intake::groups`]), so
/// without this bound waiting bodies could pile up.
const DEFAULT_BUDGET: usize = 128 << 20;

/// How long a request waits for room in the budget before it is refused with `503`.
const ADMISSION_WAIT: Duration = Duration::from_secs(1);

/// SOFALookout's error header: the reason of a refusal, beside the body.
const ERR_HEADER: HeaderName = HeaderName::from_static("err");

/// The `prometheus_push` receiver: one HTTP server feeding one metrics pipeline.
pub(crate) struct PushReceiver {
    settings: CreateSettings,
    config: Config,
    intake: Arc<Intake>,
    server: ReceiverServer,
}

impl PushReceiver {
    pub(crate) fn new(settings: &CreateSettings, config: &Config, next: Next<Metrics>) -> Self {
        let server = &config.server;
        PushReceiver {
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
                prefix: config.path_prefix.clone(),
                required: config.required_labels.clone(),
                success: StatusCode::from_u16(config.success_status).unwrap_or(StatusCode::OK),
                limits: Limits {
                    max_samples: config.max_series,
                    ..Limits::default()
                },
                options: Options {
                    scope_name: SCOPE_NAME.into(),
                    scope_version: settings.build_info().version.clone(),
                    ..Options::default()
                },
                groups: tokio::sync::Mutex::new(Groups::new(RecordLimits {
                    groups: config.max_groups,
                    series: config.max_series,
                    bytes: config.max_recorded_bytes,
                })),
                max_body: server.max_body_size(),
                admission: Admission::bounded(
                    DEFAULT_BUDGET.max(server.max_body_size().saturating_mul(2)),
                )
                .waiting_limit(usize::MAX, Some(ADMISSION_WAIT)),
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

    /// How many groups, series and bytes the record holds.
    #[cfg(test)]
    pub(crate) async fn usage(&self) -> (usize, usize, usize) {
        self.intake.groups.lock().await.usage()
    }
}

#[async_trait]
impl Component for PushReceiver {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        self.server
            .start(
                &self.config.server,
                &self.settings,
                host,
                "Prometheus push receiver",
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

/// What a request is handled with.
struct Intake {
    next: Next<Metrics>,
    metrics: ReceiverMetrics,
    prefix: String,
    required: Vec<String>,
    success: StatusCode,
    limits: Limits,
    options: Options,
    /// One lock over the record, held while a push is delivered: pushes are applied one
    /// at a time, in order, so a group's staleness markers always match what was forwarded.
    groups: tokio::sync::Mutex<Groups>,
    max_body: usize,
    /// The memory budget of the bodies in hand.
    admission: Admission,
    encodings: Vec<Encoding>,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    include_metadata: bool,
    span: tracing::Span,
}

/// An answer other than success: the status, the reason, and how long to wait.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    message: String,
    retry_after: Option<Duration>,
    /// Whether the push itself failed (bad body, over the record's bounds), which
    /// `push_failure_time_seconds` reports.
    push_failed: bool,
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Refusal {
            status,
            message: message.into(),
            retry_after: None,
            push_failed: false,
        }
    }

    fn push_failure(status: StatusCode, message: impl Into<String>) -> Self {
        Refusal {
            push_failed: true,
            ..Refusal::new(status, message)
        }
    }

    fn busy() -> Self {
        Refusal {
            retry_after: Some(Duration::from_secs(1)),
            ..Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the receiver is handling as much data as it may hold; retry later",
            )
        }
    }

    fn too_large(limit: usize) -> Self {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request larger than the receiver's max_request_body_size ({limit} bytes)"),
        )
    }

    /// The reason as the body (as the Pushgateway) and in an `Err` header (as SOFALookout).
    fn into_response(self) -> Response<Body> {
        let header: String = self
            .message
            .chars()
            .map(|c| {
                if c.is_ascii_graphic() || c == ' ' {
                    c
                } else {
                    '?'
                }
            })
            .take(1024)
            .collect();
        let mut response = Response::new(Body::from(format!("{}\n", self.message)));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        if let Ok(value) = HeaderValue::from_str(&header) {
            headers.insert(ERR_HEADER, value);
        }
        if let Some(delay) = self.retry_after {
            refusal::set_retry_after(headers, delay);
        }
        response
    }
}

fn status_only(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

#[async_trait]
impl Answer for Intake {
    async fn answer(&self, request: Request<Body>) -> Response<Body> {
        let path = request.uri().path();
        let Some(rest) = path
            .strip_prefix(self.prefix.as_str())
            .filter(|rest| rest.is_empty() || rest.starts_with('/'))
        else {
            return Refusal::new(
                StatusCode::NOT_FOUND,
                format!("path {path:?} not found: push to {}/job/<JOB>", self.prefix),
            )
            .into_response();
        };
        let method = match *request.method() {
            Method::PUT => PushMethod::Put,
            Method::POST => PushMethod::Post,
            Method::DELETE => PushMethod::Delete,
            ref other => {
                let mut response = Refusal::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    format!("{other} is not allowed: PUT or POST a push, DELETE a group"),
                )
                .into_response();
                response
                    .headers_mut()
                    .insert(ALLOW, HeaderValue::from_static("PUT, POST, DELETE"));
                return response;
            }
        };
        let key = match parse_grouping_key(rest, &self.required) {
            Ok(key) => key,
            Err(e) => return Refusal::new(StatusCode::BAD_REQUEST, e.0).into_response(),
        };
        let push = self.push(method, &key, request);
        let outcome = match self.write_timeout {
            Some(limit) => tokio::time::timeout(limit, push).await.unwrap_or_else(|_| {
                Err(Refusal::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "no answer from the pipeline within write_timeout",
                ))
            }),
            None => push.await,
        };
        match outcome {
            Ok(()) if method == PushMethod::Delete => status_only(StatusCode::ACCEPTED),
            Ok(()) => status_only(self.success),
            Err(refusal) => {
                self.span.in_scope(|| {
                    tracing::debug!(group = %key, status = %refusal.status, message = %refusal.message, "refused a push");
                });
                if refusal.push_failed {
                    self.report_failure(&key).await;
                }
                refusal.into_response()
            }
        }
    }
}

impl Intake {
    /// Reads, records and delivers one push.
    async fn push(
        &self,
        method: PushMethod,
        key: &GroupingKey,
        request: Request<Body>,
    ) -> Result<(), Refusal> {
        let metadata = self.include_metadata.then(|| {
            let mut metadata = ClientMetadata::new();
            for (name, value) in request.headers() {
                if let Ok(value) = value.to_str() {
                    metadata.insert(name.as_str(), value);
                }
            }
            Arc::new(metadata)
        });
        // The permit is held until the push is delivered: its data is in memory until then.
        let (families, _permit) = match method {
            PushMethod::Delete => (Vec::new(), None),
            PushMethod::Put | PushMethod::Post => {
                let (families, permit) = self.read_families(key, request).await?;
                (families, Some(permit))
            }
        };
        let now_ms = (now_unix_nano() / 1_000_000) as i64;
        let mut groups = self.groups.lock().await;
        let plan = groups
            .plan(key, method, families, now_ms as f64 / 1000.0)
            .map_err(|e| {
                self.metrics.record_failed(1);
                Refusal::push_failure(StatusCode::PAYLOAD_TOO_LARGE, e.0)
            })?;
        let mut adjuster = groups.take_adjuster(key);
        let delivered = match to_metrics(&plan.forward, &self.options, &mut adjuster, now_ms) {
            Ok(request) => {
                let metrics = Metrics::new(request);
                let metrics = match metadata {
                    Some(metadata) => metrics.with_metadata(metadata),
                    None => metrics,
                };
                receiverhelper::deliver(&self.next, &self.metrics, metrics)
                    .await
                    .map_err(refusal_for)
            }
            Err(e) => Err(Refusal::push_failure(
                StatusCode::BAD_REQUEST,
                e.to_string(),
            )),
        };
        match delivered {
            Ok(()) => {
                groups.commit(key, plan, adjuster);
                Ok(())
            }
            Err(refusal) => {
                groups.restore_adjuster(key, adjuster);
                Err(refusal)
            }
        }
    }

    /// Forwards `push_failure_time_seconds` for `key`'s group (best effort: the client is
    /// told of the failure either way).
    async fn report_failure(&self, key: &GroupingKey) {
        let now_ms = (now_unix_nano() / 1_000_000) as i64;
        let family: Family = group_gauge(PUSH_FAILURE_TIME, key, now_ms as f64 / 1000.0);
        let mut adjuster = StartTimeAdjuster::new();
        let Ok(request) = to_metrics(&[family], &self.options, &mut adjuster, now_ms) else {
            return;
        };
        let mut groups = self.groups.lock().await;
        if receiverhelper::deliver(&self.next, &self.metrics, Metrics::new(request))
            .await
            .is_ok()
        {
            groups.failure_sent(key);
        }
    }

    /// The pushed families: the body read within its limits and the admission budget,
    /// decompressed and parsed; the permit holds their share of the budget.
    async fn read_families(
        &self,
        key: &GroupingKey,
        request: Request<Body>,
    ) -> Result<(Vec<Family>, AdmissionPermit), Refusal> {
        let encoding = self.encoding(request.headers().get(CONTENT_ENCODING))?;
        let declared = declared_length(request.headers());
        if declared.is_some_and(|n| n > self.max_body as u64) {
            return Err(Refusal::too_large(self.max_body));
        }
        let content_type = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // A body of unknown length (chunked) may be as large as the limit.
        let reserve = declared.map_or(self.max_body, |length| length as usize);
        let mut permit = self
            .admission
            .admit(reserve)
            .await
            .map_err(|_| Refusal::busy())?;
        let body = self.read(request.into_body()).await?;
        let heavy = encoding != Encoding::Identity || body.len() >= OFFLOAD_THRESHOLD;
        let (max_body, limits, key) = (self.max_body, self.limits, key.clone());
        let decode = move |permit: &mut AdmissionPermit| -> Result<Vec<Family>, Refusal> {
            let plain = match encoding {
                Encoding::Identity => None,
                encoding => Some(decompress(encoding, &body, max_body, permit).map_err(
                    |e| match e {
                        DecompressError::TooLarge(limit) => Refusal::too_large(limit),
                        DecompressError::Refused(_) => Refusal::busy(),
                        other => Refusal::new(StatusCode::BAD_REQUEST, other.to_string()),
                    },
                )?),
            };
            parse_push_body(
                plain.as_deref().unwrap_or(&body),
                content_type.as_deref(),
                &key,
                &limits,
            )
            .map_err(|e| match e {
                BodyError::Unsupported(m) => {
                    Refusal::push_failure(StatusCode::UNSUPPORTED_MEDIA_TYPE, m)
                }
                BodyError::Malformed(m) => Refusal::push_failure(StatusCode::BAD_REQUEST, m),
            })
        };
        let (permit, families) = if heavy {
            tokio::task::spawn_blocking(move || {
                let families = decode(&mut permit);
                (permit, families)
            })
            .await
            .map_err(|e| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        } else {
            let families = decode(&mut permit);
            (permit, families)
        };
        if families.is_err() {
            self.metrics.record_failed(1);
        }
        Ok((families?, permit))
    }

    /// The `Content-Encoding`, when `compression_algorithms` accepts it.
    fn encoding(&self, header: Option<&HeaderValue>) -> Result<Encoding, Refusal> {
        let Some(header) = header else {
            return Ok(Encoding::Identity);
        };
        let name = header.to_str().unwrap_or_default().trim();
        Encoding::from_http(name)
            .filter(|e| self.encodings.contains(e))
            .ok_or_else(|| {
                Refusal::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    format!("unsupported Content-Encoding {name:?}"),
                )
            })
    }

    /// The whole body, within `max_request_body_size` and `read_timeout`.
    async fn read(&self, body: Body) -> Result<Bytes, Refusal> {
        read_body(body, self.max_body, self.read_timeout)
            .await
            .map_err(|e| match e {
                ReadBodyError::TooLarge => Refusal::too_large(self.max_body),
                ReadBodyError::TimedOut => Refusal::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "the body did not arrive within read_timeout",
                ),
                ReadBodyError::Broken(e) => {
                    Refusal::new(StatusCode::BAD_REQUEST, format!("reading the body: {e}"))
                }
            })
    }
}

/// The answer to a pipeline's refusal, by the shared mapping: 400 when retrying cannot
/// help, 429 when throttled, 503 otherwise, with `Retry-After` when known.
fn refusal_for(error: ConsumeError) -> Refusal {
    let mut refusal = Refusal::new(
        refusal::http_status(&error),
        format!("the pipeline refused the push: {}", error.message()),
    );
    refusal.retry_after = refusal::retry_after(&error);
    refusal
}
