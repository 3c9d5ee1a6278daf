//! The HTTP front: `POST /api/v1/write` on the `confighttp` server, the body read within
//! its limits, decoded, and handed to the pipeline before the answer.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http::header::{ALLOW, CONTENT_ENCODING, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use tributary_pipeline_core::pdata::ClientMetadata;
use tributary_pipeline_core::prelude::*;
use tributary_pipeline_core::telemetry::Counter;

use super::config::Config;
use tributary_translator_prometheus::to_otlp::StartTimeAdjuster;

use super::decode::{Decoded, decode_write_request_with};
use crate::shared::admission::Admission;
use crate::shared::http_server::TextRefusal as Refusal;
use crate::shared::http_server::{Answer, ReceiverServer};
use crate::shared::refusal;
use crate::shared::request_body::{ReadBodyError, declared_length, read_body};

/// The path remote-write clients post to, as Go's receiver and Prometheus serve it.
pub const WRITE_PATH: &str = "/api/v1/write";

/// Bodies at least this large are decoded off the async runtime.
const OFFLOAD_THRESHOLD: usize = 64 * 1024;

/// The memory all requests in process may hold at once when `max_request_body_size` is
/// the default (as the zipkin receiver's); larger limits get twice the limit, so one
/// request of the largest size always fits.
const DEFAULT_BUDGET: usize = 128 << 20;

/// How long a request waits for room in the budget before it is refused with 503.
const ADMISSION_WAIT: Duration = Duration::from_secs(1);

/// What a decoded request holds per byte of protobuf, about (the request itself, its
/// series and samples decoded, and the OTLP made of them), for admission control.
const DECODED_FACTOR: usize = 4;

/// Series the start-time adjuster forgets once unseen this long (Prometheus sends every
/// live series at least every scrape interval).
const ADJUSTER_IDLE_MS: i64 = 10 * 60 * 1000;

/// The most series the start-time adjuster remembers: past it, it starts over (start
/// times restart; nothing else is lost), so a peer inventing series cannot grow it
/// without bound. About 150 bytes each.
const ADJUSTER_MAX_SERIES: usize = 200_000;

/// The start-time adjuster and when it last forgot idle series (also the `deepflow`
/// receiver's, for its remote-write route).
#[derive(Default)]
pub(crate) struct StartTimes {
    pub(crate) adjuster: StartTimeAdjuster,
    swept_ms: i64,
}

impl StartTimes {
    /// Forgets idle series (at most once a minute) and starts over past the bound.
    pub(crate) fn bound(&mut self, now_ms: i64) {
        if now_ms - self.swept_ms >= 60_000 {
            self.adjuster.forget_older_than(now_ms - ADJUSTER_IDLE_MS);
            self.swept_ms = now_ms;
        }
        if self.adjuster.len() > ADJUSTER_MAX_SERIES {
            self.adjuster = StartTimeAdjuster::new();
        }
    }
}

/// The `prometheusremotewrite` receiver: one HTTP server feeding one metrics pipeline.
pub(crate) struct RemoteWriteReceiver {
    settings: CreateSettings,
    config: Config,
    intake: Arc<Intake>,
    server: ReceiverServer,
}

impl RemoteWriteReceiver {
    pub(crate) fn new(settings: &CreateSettings, config: &Config, next: Next<Metrics>) -> Self {
        let server = &config.server;
        let id = settings.id().to_string();
        RemoteWriteReceiver {
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
                dropped: settings.metrics().counter(
                    "otelcol_receiver_prometheusremotewrite_dropped_samples",
                    "Samples left out of accepted requests: series without a name, samples older than time_threshold.",
                    &[("receiver", id.as_str())],
                ),
                max_body: server.max_body_size(),
                read_timeout: server.read_timeout(),
                write_timeout: server.write_timeout(),
                include_metadata: server.include_metadata,
                time_threshold: Duration::from_secs(config.time_threshold.saturating_mul(3600)),
                start_times: Arc::new(Mutex::new(StartTimes::default())),
                admission: Admission::bounded(
                    DEFAULT_BUDGET.max(server.max_body_size().saturating_mul(2)),
                )
                .waiting_limit(usize::MAX, Some(ADMISSION_WAIT)),
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
impl Component for RemoteWriteReceiver {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        self.server
            .start(
                &self.config.server,
                &self.settings,
                host,
                "Prometheus remote-write receiver",
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

struct Intake {
    next: Next<Metrics>,
    metrics: ReceiverMetrics,
    dropped: Counter,
    max_body: usize,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    include_metadata: bool,
    time_threshold: Duration,
    start_times: Arc<Mutex<StartTimes>>,
    /// Bytes of requests in process, bounded: a flood of requests waits, then gets 503.
    admission: Admission,
    span: tracing::Span,
}

#[async_trait]
impl Answer for Intake {
    async fn answer(&self, request: Request<Body>) -> Response<Body> {
        if request.uri().path() != WRITE_PATH {
            return Refusal::new(
                StatusCode::NOT_FOUND,
                format!(
                    "path {:?} not found: remote write goes to {WRITE_PATH}",
                    request.uri().path()
                ),
            )
            .into_response();
        }
        if request.method() != Method::POST {
            let mut response = Refusal::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!(
                    "{} is not allowed: POST a remote-write request",
                    request.method()
                ),
            )
            .into_response();
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
        let write = self.write(request);
        let outcome = match self.write_timeout {
            Some(limit) => tokio::time::timeout(limit, write)
                .await
                .unwrap_or_else(|_| {
                    Err(Refusal::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "no answer from the pipeline within write_timeout",
                    ))
                }),
            None => write.await,
        };
        match outcome {
            Ok(()) => {
                let mut response = Response::new(Body::empty());
                *response.status_mut() = StatusCode::NO_CONTENT;
                response
            }
            Err(refusal) => {
                self.span.in_scope(|| {
                    tracing::debug!(status = %refusal.status, message = %refusal.message, "refused a remote write");
                });
                refusal.into_response()
            }
        }
    }
}

impl Intake {
    async fn write(&self, request: Request<Body>) -> Result<(), Refusal> {
        check_headers(request.headers())?;
        let declared = declared_length(request.headers());
        if declared.is_some_and(|n| n > self.max_body as u64) {
            return Err(self.too_large());
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
        // A body of unknown length (chunked) may be as large as the limit.
        let reserve = declared.map_or(self.max_body, |n| n as usize);
        let mut permit = self.admission.admit(reserve).await.map_err(|_| busy())?;
        let body = self.read(request.into_body()).await?;
        // What decoding will hold: the body, and what it announces it decompresses to
        // (within the limit), several times over once decoded.
        let plain = tributary_translator_prometheus::prompb::snappy_decompressed_len(&body)
            .unwrap_or(0)
            .min(self.max_body);
        permit
            .grow_to(body.len() + plain.saturating_mul(DECODED_FACTOR))
            .map_err(|_| busy())?;
        let (limit, threshold) = (self.max_body, self.time_threshold);
        let oldest_ms = i64::try_from(
            now_unix_nano().saturating_sub(threshold.as_nanos().try_into().unwrap_or(u64::MAX))
                / 1_000_000,
        )
        .unwrap_or(0);
        let heavy = body.len() >= OFFLOAD_THRESHOLD;
        let start_times = Arc::clone(&self.start_times);
        let now_ms = i64::try_from(now_unix_nano() / 1_000_000).unwrap_or(i64::MAX);
        let decode = move || {
            let mut start_times = start_times.lock().unwrap_or_else(|e| e.into_inner());
            let decoded =
                decode_write_request_with(&body, limit, oldest_ms, &mut start_times.adjuster);
            start_times.bound(now_ms);
            decoded
        };
        let decoded = if heavy {
            tokio::task::spawn_blocking(decode)
                .await
                .map_err(|e| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        } else {
            decode()
        };
        let Decoded { metrics, dropped } =
            decoded.map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, e.to_string()))?;
        if dropped > 0 {
            self.dropped.add(dropped as u64);
        }
        if metrics.item_count() == 0 {
            return Ok(());
        }
        let metrics = match metadata {
            Some(metadata) => metrics.with_metadata(metadata),
            None => metrics,
        };
        let delivered = receiverhelper::deliver(&self.next, &self.metrics, metrics)
            .await
            .map_err(refusal_for);
        drop(permit);
        delivered
    }

    fn too_large(&self) -> Refusal {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "request larger than the receiver's max_request_body_size ({} bytes)",
                self.max_body
            ),
        )
    }

    /// The whole body, within `max_request_body_size` and `read_timeout`.
    async fn read(&self, body: Body) -> Result<Bytes, Refusal> {
        read_body(body, self.max_body, self.read_timeout)
            .await
            .map_err(|e| match e {
                ReadBodyError::TooLarge => self.too_large(),
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

/// The answer when the admission budget has no room: 503 with `Retry-After`, which
/// Prometheus retries.
fn busy() -> Refusal {
    let mut refusal = Refusal::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "the receiver is handling as much data as it may hold; retry later",
    );
    refusal.retry_after = Some(Duration::from_secs(1));
    refusal
}

/// Remote-Write 1.0's content type and encoding: `application/x-protobuf` (optionally
/// `;proto=prometheus.WriteRequest`) and `snappy`. Anything else is `415`, which tells a
/// Remote-Write 2.0 sender to fall back to 1.0.
fn check_headers(headers: &HeaderMap) -> Result<(), Refusal> {
    if let Some(value) = headers.get(CONTENT_TYPE) {
        let text = value.to_str().unwrap_or_default().to_ascii_lowercase();
        let mut parts = text.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default();
        if media != "application/x-protobuf" {
            return Err(Refusal::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "unsupported Content-Type {text:?}: send application/x-protobuf (Remote-Write 1.0)"
                ),
            ));
        }
        for parameter in parts {
            if let Some(proto) = parameter.strip_prefix("proto=")
                && proto != "prometheus.writerequest"
            {
                return Err(Refusal::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    format!(
                        "unsupported message {proto:?}: only prometheus.WriteRequest (Remote-Write 1.0) is accepted"
                    ),
                ));
            }
        }
    }
    if let Some(value) = headers.get(CONTENT_ENCODING) {
        let text = value
            .to_str()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if text != "snappy" {
            return Err(Refusal::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("unsupported Content-Encoding {text:?}: remote write bodies are snappy"),
            ));
        }
    }
    Ok(())
}

/// The answer to a pipeline's refusal: 400 when retrying cannot help, else 429 when
/// throttled or 503, with `Retry-After`, so the sender retries (Prometheus retries 5xx and
/// 429).
fn refusal_for(error: ConsumeError) -> Refusal {
    let status = refusal::http_status(&error);
    let mut refusal = Refusal::new(
        status,
        format!("the pipeline refused the data: {}", error.message()),
    );
    refusal.retry_after = refusal::retry_after(&error);
    refusal
}
