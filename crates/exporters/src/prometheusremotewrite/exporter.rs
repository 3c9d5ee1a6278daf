//! Sending a batch: OTLP → series, series sharded by their labels, each shard cut into
//! requests of at most `max_batch_size_bytes`, the shards sent concurrently and each
//! shard's requests in order, and what the server answers classified.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use http::{HeaderMap, HeaderName, HeaderValue};
use prost::Message;
use tributary_pipeline_core::component::{ComponentError, CreateSettings, Host};
use tributary_pipeline_core::confighttp::DEFAULT_MAX_IDLE_CONNS_PER_HOST;
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::exporterhelper::Export;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::telemetry::Counter;
use tributary_translator_prometheus::prompb::{self, MetricMetadata, TimeSeries, WriteRequest};
use tributary_translator_prometheus::remote_write::{
    FromOtlpSettings, SeriesCache, from_otlp, shard_bodies, write_encoded,
};

use super::accumulate::{DeltaAccumulator, Pending, has_delta_counters};
use super::config::Config;
use crate::client::{ClientAuth, http_client, read_body, run_cpu_bound, send_error, status_error};

/// `X-Prometheus-Remote-Write-Version` of Remote-Write 1.0.
pub const REMOTE_WRITE_VERSION: &str = "0.1.0";

/// Batches of at least this many points are converted off the async runtime (about the
/// 64 KiB of OTLP the other exporters go by).
const OFFLOAD_POINTS: usize = 1_000;

/// The most of an error response read.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Exports metrics to one remote-write endpoint.
pub(crate) struct RemoteWriteExporter {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    url: reqwest::Url,
    settings: FromOtlpSettings,
    auth: ClientAuth,
    user_agent: String,
    client: OnceLock<reqwest::Client>,
    /// Totals of delta monotonic sums (see `accumulate`).
    deltas: std::sync::Mutex<DeltaAccumulator>,
    /// Series labels already encoded, for batches converted on their bytes.
    series: std::sync::Mutex<SeriesCache>,
    /// Metric names whose conversion was logged (at most [`LOGGED_NAMES`]).
    logged: std::sync::Mutex<std::collections::HashSet<String>>,
    dropped: Counter,
    span: tracing::Span,
}

/// The most metric names the "converted to cumulative" log line is remembered for.
const LOGGED_NAMES: usize = 1000;

impl RemoteWriteExporter {
    pub(crate) fn new(settings: &CreateSettings, config: &Config) -> Result<Self, String> {
        let url = reqwest::Url::parse(config.client().endpoint.expose()).map_err(|e| {
            format!(
                "endpoint: invalid URL \"{}\": {e}",
                config.client().endpoint
            )
        })?;
        let id = settings.id().to_string();
        let build = settings.build_info();
        Ok(RemoteWriteExporter {
            inner: Arc::new(Inner {
                config: config.clone(),
                url,
                settings: super::translate::settings(config),
                auth: ClientAuth::new(config.client().auth.as_ref()),
                user_agent: format!("{}/{}", build.command, build.version),
                client: OnceLock::new(),
                deltas: std::sync::Mutex::default(),
                series: std::sync::Mutex::default(),
                logged: std::sync::Mutex::default(),
                dropped: settings.metrics().counter(
                    "otelcol_exporter_prometheusremotewrite_dropped_points",
                    "Data points remote write cannot carry: delta sums and histograms, points without a value.",
                    &[("exporter", id.as_str())],
                ),
                span: settings.span().clone(),
            }),
        })
    }
}

#[cfg(test)]
impl RemoteWriteExporter {
    /// How many delta series the exporter keeps totals for.
    pub(crate) fn inner_deltas_len(&self) -> usize {
        self.inner
            .deltas
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }
}

/// What one batch became: per shard, its request bodies (snappy-compressed protobuf).
pub(crate) type Shards = Vec<Vec<Bytes>>;

/// Splits `series` into shards by a hash of their labels (so a series is in one shard,
/// and its samples keep their order) — as many as the batch needs requests of at most
/// `max_bytes` of protobuf, at most `parallelism` — cuts each shard into such requests
/// (a single larger series goes alone), and appends `metadata` requests to shard 0.
/// Returns the encoded bodies.
pub(crate) fn shard_requests(
    series: Vec<TimeSeries>,
    metadata: Vec<MetricMetadata>,
    parallelism: usize,
    max_bytes: usize,
) -> Shards {
    let mut out = compress(shard_bodies(series, parallelism, max_bytes));
    if !metadata.is_empty() {
        let bodies = &mut out[0];
        let mut request = WriteRequest::default();
        let mut size = 0;
        for m in &metadata {
            let len = m.encoded_len();
            let field = 1 + prost::length_delimiter_len(len) + len;
            if size > 0 && size + field > max_bytes {
                bodies.push(encode(&request));
                request.metadata.clear();
                size = 0;
            }
            size += field;
            request.metadata.push(m.clone());
        }
        bodies.push(encode(&request));
    }
    out
}

/// Snappy block framing of every body.
fn compress(shards: Vec<Vec<Vec<u8>>>) -> Shards {
    shards
        .into_iter()
        .map(|bodies| {
            bodies
                .iter()
                .map(|body| Bytes::from(prompb::snappy_compress(body)))
                .collect()
        })
        .collect()
}

fn encode(request: &WriteRequest) -> Bytes {
    Bytes::from(prompb::encode_request(request))
}

impl Inner {
    fn client(&self) -> Result<&reqwest::Client, ConsumeError> {
        self.client
            .get()
            .ok_or_else(|| ConsumeError::permanent("the exporter was not started"))
    }

    fn url_text(&self) -> String {
        let mut url = self.url.clone();
        let _ = url.set_password(None);
        let _ = url.set_username("");
        url.to_string()
    }

    /// Sends one shard's requests in order; the first failure ends the shard.
    async fn send_shard(&self, bodies: Vec<Bytes>) -> Result<(), ConsumeError> {
        for body in bodies {
            self.post(body).await?;
        }
        Ok(())
    }

    /// One request, with the headers remote write requires (set last, so the `headers`
    /// block cannot override them).
    async fn post(&self, body: Bytes) -> Result<(), ConsumeError> {
        let mut headers = HeaderMap::with_capacity(4);
        self.auth.apply(&mut headers, None).await?;
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("snappy"));
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-protobuf"),
        );
        headers.insert(
            HeaderName::from_static("x-prometheus-remote-write-version"),
            HeaderValue::from_static(REMOTE_WRITE_VERSION),
        );
        if let Ok(agent) = HeaderValue::from_str(&self.user_agent) {
            headers.insert(http::header::USER_AGENT, agent);
        }
        let url_text = self.url_text();
        let response = self
            .client()?
            .post(self.url.clone())
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(|e| send_error(&url_text, e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let headers = response.headers().clone();
        let text = error_text(response).await;
        let mut message = format!("{url_text} responded with HTTP {status}");
        if !text.is_empty() {
            message.push_str(": ");
            message.push_str(&text);
        }
        // The spec: retry 5xx, may retry 429 (throttled, after Retry-After), never other 4xx.
        Err(status_error(status, message, &headers, 500..=599))
    }
}

/// At most [`MAX_ERROR_BODY`] bytes of a response, as trimmed text.
async fn error_text(response: reqwest::Response) -> String {
    let body = read_body(response, MAX_ERROR_BODY).await;
    let text = String::from_utf8_lossy(&body);
    let text = text.trim();
    let mut end = text.len().min(512);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// The error a batch ends with when shards failed: retryable if any shard may succeed
/// on a retry (the whole batch is then sent again; Prometheus takes a sample it already
/// has, same time and value, as a no-op), else the first permanent one.
fn combine(errors: Vec<ConsumeError>) -> Option<ConsumeError> {
    let mut permanent = None;
    for error in errors {
        if !error.is_permanent() {
            return Some(error);
        }
        permanent.get_or_insert(error);
    }
    permanent
}

#[async_trait]
impl Export<Metrics> for RemoteWriteExporter {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        let inner = &self.inner;
        inner.auth.start(host)?;
        if inner.client.get().is_none() {
            let config = inner.config.clone();
            let agent = inner.user_agent.clone();
            // TLS files are read here, off the runtime.
            let client = tokio::task::spawn_blocking(move || {
                // A batch goes out as `parallelism` concurrent requests; with Go's default
                // of 2 idle connections per host the others were closed after each batch
                // and reopened for the next (hundreds of TIME-WAIT sockets at 10k
                // samples/s). Keep one per concurrent request unless the user chose.
                let mut client = config.client().clone();
                if client.max_idle_conns_per_host == 0 {
                    client.max_idle_conns_per_host =
                        config.parallelism().max(DEFAULT_MAX_IDLE_CONNS_PER_HOST);
                }
                http_client(&client, config.timeout(), agent)
            })
            .await
            .map_err(|e| ComponentError::with_source("building the HTTP client", e))??;
            let _ = inner.client.set(client);
        }
        Ok(())
    }

    async fn export(&self, data: Metrics) -> Result<(), ConsumeError> {
        let inner = Arc::clone(&self.inner);
        // Counted in points: the OTLP size would be computed only to decide this.
        let heavy = data.item_count() >= OFFLOAD_POINTS;
        let (parallelism, max_bytes) = (
            inner.config.parallelism(),
            inner.config.max_batch_size_bytes,
        );
        let converter = Arc::clone(&inner);
        let (shards, dropped, pending) = run_cpu_bound(heavy, move || {
            // Written from the request's bytes with the labels of known series (the same
            // bodies as below). The cache is skipped while another batch holds it.
            if let Ok(mut cache) = converter.series.try_lock()
                && let Some((bodies, dropped)) = write_encoded(
                    data.encoded_parts(),
                    &converter.settings,
                    &mut cache,
                    parallelism,
                    max_bytes,
                )
            {
                return (compress(bodies), dropped, None);
            }
            // Delta monotonic sums become cumulative against the running totals.
            let (written, pending) = if has_delta_counters(data.request()) {
                let (request, pending) = converter
                    .deltas
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .convert(data.request());
                (from_otlp(&request, &converter.settings), Some(pending))
            } else {
                (from_otlp(data.request(), &converter.settings), None)
            };
            let shards =
                shard_requests(written.timeseries, written.metadata, parallelism, max_bytes);
            (shards, written.dropped, pending)
        })
        .await
        .map_err(|e| ConsumeError::retryable(format!("converting to remote write: {e}")))?;
        if let Some(pending) = &pending {
            inner.log_conversions(pending);
        }
        if !dropped.is_empty() {
            let points: usize = dropped.iter().map(|d| d.points).sum();
            inner.dropped.add(points as u64);
            let _entered = inner.span.enter();
            for d in &dropped {
                tracing::warn!(metric = %d.metric, points = d.points, reason = %d.reason, "dropped data points remote write cannot carry");
            }
        }
        let sends = shards
            .into_iter()
            .filter(|bodies| !bodies.is_empty())
            .map(|bodies| inner.send_shard(bodies));
        let errors: Vec<ConsumeError> = futures_util::future::join_all(sends)
            .await
            .into_iter()
            .filter_map(Result::err)
            .collect();
        let outcome = combine(errors);
        // The totals move on once the batch is done: sent, or refused for good. A batch
        // that will be retried is converted again to the same values.
        if let Some(pending) = pending
            && outcome.as_ref().is_none_or(ConsumeError::is_permanent)
        {
            inner
                .deltas
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .commit(pending);
        }
        match outcome {
            None => Ok(()),
            Some(error) => Err(error),
        }
    }
}

impl Inner {
    /// Says once per metric that its delta points are sent as cumulative, and counts the
    /// points of series past the accumulator's bound.
    fn log_conversions(&self, pending: &Pending) {
        let _entered = self.span.enter();
        if pending.skipped > 0 {
            self.dropped.add(pending.skipped as u64);
            tracing::warn!(
                points = pending.skipped,
                max_series = super::accumulate::MAX_SERIES,
                "dropped delta sum points: too many delta series to keep running totals for"
            );
        }
        let mut logged = self.logged.lock().unwrap_or_else(|e| e.into_inner());
        for name in &pending.converted {
            if logged.len() < LOGGED_NAMES && logged.insert(name.clone()) {
                tracing::info!(metric = %name, "a delta monotonic sum: sent as cumulative, with running totals kept by the exporter");
            }
        }
    }
}
