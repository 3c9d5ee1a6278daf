//! The listener and its three routes: one HTTP server shared by the metrics and traces
//! instances of the receiver (through [`CreateSettings::shared`]), running while either is
//! started.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http::header::{ALLOW, CONTENT_ENCODING, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use tributary_pipeline_core::configcompression::{DecompressError, Encoding, NoBudget, decompress};
use tributary_pipeline_core::pdata::ClientMetadata;
use tributary_pipeline_core::prelude::*;
use tributary_pipeline_core::receiverhelper::{SharedLifecycle, SharedLifecycleMember};
use tributary_pipeline_core::telemetry::Counter;

use super::config::Config;
use crate::influxdb::{Precision, parse_line_protocol};
use crate::prometheusremotewrite::{Decoded, StartTimes, decode_write_request_with};
use crate::shared::admission::Admission;
use crate::shared::http_server::TextRefusal as Refusal;
use crate::shared::http_server::{Answer, ReceiverServer};
use crate::shared::refusal;
use crate::shared::request_body::{ReadBodyError, declared_length, read_body};

/// Prometheus remote write 1.0.
pub const PROMETHEUS_PATH: &str = "/api/v1/prometheus";
/// InfluxDB line protocol, as Telegraf's `outputs.http` sends it.
pub const TELEGRAF_PATH: &str = "/api/v1/telegraf";
/// OTLP/HTTP protobuf traces.
pub const OTEL_TRACE_PATH: &str = "/api/v1/otel/trace";

/// Bodies at least this large are decompressed and decoded off the async runtime.
const OFFLOAD_THRESHOLD: usize = 64 * 1024;

/// The memory all requests in process may hold at once when `max_request_body_size` is
/// the default; larger limits get twice the limit, so one request of the largest size fits.
const DEFAULT_BUDGET: usize = 128 << 20;

/// How long a request waits for room in the budget before it is refused with 503.
const ADMISSION_WAIT: Duration = Duration::from_secs(1);

/// What a request holds per byte of its decompressed body once decoded, about.
const DECODED_FACTOR: usize = 4;

/// The pipeline of one signal and its accounting.
pub(crate) struct Pipeline<T> {
    next: Next<T>,
    metrics: ReceiverMetrics,
}

/// The signal types the receiver feeds, each with its slot for a pipeline.
pub(crate) trait DeepFlowSignal: SignalData + Sized {
    /// Where the pipeline of this signal is registered.
    fn slot(pipelines: &Pipelines) -> &RwLock<Option<Arc<Pipeline<Self>>>>;
}

impl DeepFlowSignal for Metrics {
    fn slot(pipelines: &Pipelines) -> &RwLock<Option<Arc<Pipeline<Self>>>> {
        &pipelines.metrics
    }
}

impl DeepFlowSignal for Traces {
    fn slot(pipelines: &Pipelines) -> &RwLock<Option<Arc<Pipeline<Self>>>> {
        &pipelines.traces
    }
}

/// The pipelines of the started instances.
#[derive(Default)]
pub(crate) struct Pipelines {
    metrics: RwLock<Option<Arc<Pipeline<Metrics>>>>,
    traces: RwLock<Option<Arc<Pipeline<Traces>>>>,
}

impl Pipelines {
    fn get<T: DeepFlowSignal>(&self) -> Option<Arc<Pipeline<T>>> {
        T::slot(self)
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// The HTTP server the receiver's instances share.
pub(crate) struct DeepFlowServer {
    config: Config,
    settings: CreateSettings,
    intake: Arc<Intake>,
    server: ReceiverServer,
    lifecycle: Arc<SharedLifecycle<()>>,
}

impl DeepFlowServer {
    fn new(settings: &CreateSettings, config: &Config) -> Self {
        let server = &config.server;
        let id = settings.id().to_string();
        DeepFlowServer {
            config: config.clone(),
            settings: settings.clone(),
            intake: Arc::new(Intake {
                pipelines: Pipelines::default(),
                dropped: settings.metrics().counter(
                    "otelcol_receiver_deepflow_dropped_samples",
                    "Remote-write samples left out of accepted requests: series without a name, unreadable bucket bounds.",
                    &[("receiver", id.as_str())],
                ),
                max_body: server.max_body_size(),
                read_timeout: server.read_timeout(),
                write_timeout: server.write_timeout(),
                include_metadata: server.include_metadata,
                start_times: Arc::new(Mutex::new(StartTimes::default())),
                admission: Admission::bounded(
                    DEFAULT_BUDGET.max(server.max_body_size().saturating_mul(2)),
                )
                .waiting_limit(usize::MAX, Some(ADMISSION_WAIT)),
                span: settings.span().clone(),
            }),
            server: ReceiverServer::default(),
            lifecycle: Arc::new(SharedLifecycle::new()),
        }
    }
}

/// The receiver instance of one signal.
pub(crate) struct DeepFlowReceiver<T: DeepFlowSignal> {
    server: Arc<DeepFlowServer>,
    pipeline: Arc<Pipeline<T>>,
    lifecycle: SharedLifecycleMember<()>,
}

impl<T: DeepFlowSignal> DeepFlowReceiver<T> {
    /// The instance of signal `T` feeding `next`, sharing the server of the other instance.
    pub(crate) fn create(
        settings: &CreateSettings,
        config: &Config,
        next: Next<T>,
    ) -> Result<Arc<Self>, CreateError> {
        let server = settings.shared(|| Ok(DeepFlowServer::new(settings, config)))?;
        Ok(Arc::new(DeepFlowReceiver {
            lifecycle: server.lifecycle.member(),
            pipeline: Arc::new(Pipeline {
                next,
                metrics: ReceiverMetrics::new(settings.metrics(), settings.id(), "http", T::SIGNAL),
            }),
            server,
        }))
    }

    fn unregister(&self) {
        let mut slot = T::slot(&self.server.intake.pipelines)
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if slot
            .as_ref()
            .is_some_and(|p| Arc::ptr_eq(p, &self.pipeline))
        {
            *slot = None;
        }
    }

    /// The address the server listens on, while it runs.
    #[cfg(test)]
    pub(crate) fn local_addr(&self) -> Option<std::net::SocketAddr> {
        self.server.server.local_addr()
    }
}

#[async_trait]
impl<T: DeepFlowSignal> Component for DeepFlowReceiver<T> {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        *T::slot(&self.server.intake.pipelines)
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(&self.pipeline));
        let server = &self.server;
        let started = self
            .lifecycle
            .start(|| async {
                server
                    .server
                    .start(
                        &server.config.server,
                        &server.settings,
                        host,
                        "DeepFlow receiver",
                        Arc::clone(&server.intake),
                    )
                    .await
                    .map(|_| ())
            })
            .await;
        if started.is_err() {
            self.unregister();
        }
        started
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.unregister();
        let server = &self.server;
        self.lifecycle
            .shutdown(|()| async {
                server.server.stop().await;
                Ok(())
            })
            .await
    }
}

/// What every request is handled with.
pub(crate) struct Intake {
    pipelines: Pipelines,
    dropped: Counter,
    max_body: usize,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    include_metadata: bool,
    /// Remote write carries no start times: a cumulative series' first point starts it,
    /// as in the `prometheusremotewrite` receiver (bounded the same way).
    start_times: Arc<Mutex<StartTimes>>,
    /// Bytes of requests in process, bounded: a flood of requests waits, then gets 503.
    admission: Admission,
    span: tracing::Span,
}

/// The route a request took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    Prometheus,
    Telegraf,
    OtelTrace,
}

#[async_trait]
impl Answer for Intake {
    async fn answer(&self, request: Request<Body>) -> Response<Body> {
        let route = match request.uri().path() {
            PROMETHEUS_PATH => Route::Prometheus,
            TELEGRAF_PATH => Route::Telegraf,
            OTEL_TRACE_PATH => Route::OtelTrace,
            path => {
                return Refusal::new(
                    StatusCode::NOT_FOUND,
                    format!(
                        "path {path:?} not found: the receiver serves {PROMETHEUS_PATH}, {TELEGRAF_PATH} and {OTEL_TRACE_PATH}"
                    ),
                )
                .into_response();
            }
        };
        if request.method() != Method::POST {
            let mut response = Refusal::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("{} is not allowed: POST the data", request.method()),
            )
            .into_response();
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
        let handled = self.handle(route, request);
        let outcome = match self.write_timeout {
            Some(limit) => tokio::time::timeout(limit, handled)
                .await
                .unwrap_or_else(|_| {
                    Err(Refusal::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "no answer from the pipeline within write_timeout",
                    ))
                }),
            None => handled.await,
        };
        match outcome {
            // The DeepFlow agent's answer: 200 with an empty body.
            Ok(()) => Response::new(Body::empty()),
            Err(refusal) => {
                self.span.in_scope(|| {
                    tracing::debug!(?route, status = %refusal.status, message = %refusal.message, "refused a request");
                });
                refusal.into_response()
            }
        }
    }
}

impl Intake {
    async fn handle(&self, route: Route, request: Request<Body>) -> Result<(), Refusal> {
        // A pipeline of the route's signal must use the receiver.
        let missing = |signal: &str| {
            Refusal::new(
                StatusCode::NOT_FOUND,
                format!("no {signal} pipeline uses this receiver"),
            )
        };
        let (metrics, traces) = match route {
            Route::Prometheus | Route::Telegraf => (
                Some(
                    self.pipelines
                        .get::<Metrics>()
                        .ok_or_else(|| missing("metrics"))?,
                ),
                None,
            ),
            Route::OtelTrace => (
                None,
                Some(
                    self.pipelines
                        .get::<Traces>()
                        .ok_or_else(|| missing("traces"))?,
                ),
            ),
        };
        let encoding = body_encoding(route, request.headers())?;
        let declared = declared_length(request.headers());
        if declared.is_some_and(|n| n > self.max_body as u64) {
            return Err(self.too_large());
        }
        // A body of unknown length (chunked) may be as large as the limit.
        let reserve = declared.map_or(self.max_body, |n| n as usize);
        let metadata = self.include_metadata.then(|| {
            let mut metadata = ClientMetadata::new();
            for (name, value) in request.headers() {
                if let Ok(value) = value.to_str() {
                    metadata.insert(name.as_str(), value);
                }
            }
            Arc::new(metadata)
        });
        let mut permit = self.admission.admit(reserve).await.map_err(|_| busy())?;
        let body = self.read(request.into_body()).await?;
        permit
            .grow_to(body.len().saturating_mul(DECODED_FACTOR + 1))
            .map_err(|_| busy())?;
        let heavy = encoding != Encoding::Identity || body.len() >= OFFLOAD_THRESHOLD;
        let limit = self.max_body;
        let plain = move || -> Result<Bytes, Refusal> {
            match encoding {
                Encoding::Identity => Ok(body),
                encoding => decompress(encoding, &body, limit, &mut NoBudget)
                    .map(Bytes::from)
                    .map_err(|e| match e {
                        DecompressError::TooLarge(limit) => Refusal::new(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            format!(
                                "the body decompresses past max_request_body_size ({limit} bytes)"
                            ),
                        ),
                        other => Refusal::new(StatusCode::BAD_REQUEST, other.to_string()),
                    }),
            }
        };
        let outcome = match (metrics, traces) {
            (Some(pipeline), _) => {
                let (start_times, dropped) = (Arc::clone(&self.start_times), self.dropped.clone());
                let decoded = self
                    .offload(heavy, move || {
                        let body = plain()?;
                        decode_metrics(route, &body, limit, &start_times, &dropped)
                    })
                    .await?;
                let decoded = match &metadata {
                    Some(metadata) => decoded.with_metadata(Arc::clone(metadata)),
                    None => decoded,
                };
                receiverhelper::deliver(&pipeline.next, &pipeline.metrics, decoded).await
            }
            (None, Some(pipeline)) => {
                let decoded = self
                    .offload(heavy, move || {
                        let body = plain()?;
                        Traces::decode(body).map_err(|e| {
                            Refusal::new(
                                StatusCode::BAD_REQUEST,
                                format!("not an OTLP protobuf trace request: {e}"),
                            )
                        })
                    })
                    .await?;
                let decoded = match &metadata {
                    Some(metadata) => decoded.with_metadata(Arc::clone(metadata)),
                    None => decoded,
                };
                receiverhelper::deliver(&pipeline.next, &pipeline.metrics, decoded).await
            }
            (None, None) => Ok(()),
        };
        drop(permit);
        outcome.map_err(refusal_for)
    }

    /// Runs `decode` off the async runtime when `heavy`.
    async fn offload<T: Send + 'static>(
        &self,
        heavy: bool,
        decode: impl FnOnce() -> Result<T, Refusal> + Send + 'static,
    ) -> Result<T, Refusal> {
        if !heavy {
            return decode();
        }
        tokio::task::spawn_blocking(decode)
            .await
            .unwrap_or_else(|e| {
                Err(Refusal::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    e.to_string(),
                ))
            })
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

/// A metrics body of `route` decoded, by the `prometheusremotewrite` and `influxdb`
/// receivers' decoders; remote-write samples left out are counted in `dropped`.
fn decode_metrics(
    route: Route,
    body: &[u8],
    limit: usize,
    start_times: &Mutex<StartTimes>,
    dropped: &Counter,
) -> Result<Metrics, Refusal> {
    if route == Route::Telegraf {
        // DeepFlow reads Telegraf's timestamps as nanoseconds.
        return parse_line_protocol(body, Precision::Nanosecond, now_unix_nano())
            .map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, e.to_string()));
    }
    let now_ms = i64::try_from(now_unix_nano() / 1_000_000).unwrap_or(i64::MAX);
    let mut start_times = start_times.lock().unwrap_or_else(|e| e.into_inner());
    let decoded = decode_write_request_with(body, limit, i64::MIN, &mut start_times.adjuster);
    start_times.bound(now_ms);
    let Decoded {
        metrics,
        dropped: lost,
    } = decoded.map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    if lost > 0 {
        dropped.add(lost as u64);
    }
    Ok(metrics)
}

/// The body's `Content-Encoding`: none or `gzip` on every route (the agent gunzips), and
/// `snappy` on the remote-write route, where the decoder reads it. OTLP traces must be
/// protobuf, as the agent takes them.
fn body_encoding(route: Route, headers: &HeaderMap) -> Result<Encoding, Refusal> {
    if route == Route::OtelTrace
        && let Some(value) = headers.get(CONTENT_TYPE)
    {
        let media = value.to_str().unwrap_or_default().to_ascii_lowercase();
        if media.starts_with("application/json") {
            return Err(Refusal::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "OTLP/JSON is not accepted here: send application/x-protobuf",
            ));
        }
    }
    let Some(value) = headers.get(CONTENT_ENCODING) else {
        return Ok(Encoding::Identity);
    };
    let name = value
        .to_str()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match name.as_str() {
        "" | "identity" => Ok(Encoding::Identity),
        "gzip" | "x-gzip" => Ok(Encoding::Gzip),
        "snappy" if route == Route::Prometheus => Ok(Encoding::Identity),
        _ => Err(Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("unsupported Content-Encoding {name:?}: send gzip or no encoding"),
        )),
    }
}

/// The answer when the admission budget has no room: 503 with `Retry-After`.
fn busy() -> Refusal {
    let mut refusal = Refusal::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "the receiver is handling as much data as it may hold; retry later",
    );
    refusal.retry_after = Some(Duration::from_secs(1));
    refusal
}

/// The answer to a pipeline's refusal: 400 when retrying cannot help, else 429 when
/// throttled or 503, with `Retry-After`.
fn refusal_for(error: ConsumeError) -> Refusal {
    let mut refusal = Refusal::new(
        refusal::http_status(&error),
        format!("the pipeline refused the data: {}", error.message()),
    );
    refusal.retry_after = refusal::retry_after(&error);
    refusal
}
