//! Sending points: `/api/put?details` requests of `max_points_per_request` points, the
//! failed points named by the answer; or `put` lines over a TCP connection.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::{Mutex, OnceLock};

use async_trait::async_trait;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tributary_pipeline_core::component::{ComponentError, CreateSettings, Host, error_chain};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::exporterhelper::Export;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::telemetry::Counter;

use super::config::{Config, Protocol};
use super::points::{TsdbPoint, echoed_key, to_points};
use crate::client::{
    ClientAuth, Compression, Compressor, OFFLOAD_THRESHOLD, http_client, run_cpu_bound,
    status_error,
};

/// The user agent of the HTTP requests.
const USER_AGENT: &str = "Tributary OpenTSDB exporter";

/// The most of an answer read.
const MAX_ANSWER: usize = 1 << 20;

/// Batches remembered with the points still to send, so the exporter helper's retry of a
/// batch sends only those. One per queue consumer is enough; past this the oldest goes
/// (its retry then sends every point again, which a TSD stores once).
const MAX_RESUMED_BATCHES: usize = 64;

/// Exports metrics to one TSD.
pub(crate) struct OpenTsdbExporter {
    config: Config,
    protocol: Protocol,
    url: Option<reqwest::Url>,
    compressor: Compressor,
    auth: ClientAuth,
    client: OnceLock<reqwest::Client>,
    telnet: Mutex<Option<TcpStream>>,
    /// Batches that failed in part, with the points still to send.
    resume: Mutex<VecDeque<(Metrics, Vec<TsdbPoint>)>>,
    dropped: Counter,
    rejected: Counter,
    span: tracing::Span,
}

impl OpenTsdbExporter {
    pub(crate) fn new(settings: &CreateSettings, config: &Config) -> Result<Self, String> {
        let protocol = config.protocol().map_err(|e| e.to_string())?;
        let url = match protocol {
            Protocol::Http => Some(config.put_url().map_err(|e| e.to_string())?),
            Protocol::Telnet => None,
        };
        let id = settings.id().to_string();
        let labels = [("exporter", id.as_str())];
        Ok(OpenTsdbExporter {
            config: config.clone(),
            protocol,
            url,
            compressor: Compressor::new(
                config.client.compression_or(Compression::None),
                &config.client.compression_params,
            ),
            auth: ClientAuth::new(config.client.auth.as_ref()),
            client: OnceLock::new(),
            telnet: Mutex::new(None),
            resume: Mutex::new(VecDeque::new()),
            dropped: settings.metrics().counter(
                "otelcol_exporter_opentsdb_dropped_points",
                "Data points OpenTSDB cannot carry: no time, no recorded value, NaN or infinite.",
                &labels,
            ),
            rejected: settings.metrics().counter(
                "otelcol_exporter_opentsdb_rejected_points",
                "Points the TSD refused for good (bad name, too many tags, ...); the rest of each request was stored.",
                &labels,
            ),
            span: settings.span().clone(),
        })
    }

    fn url_text(&self) -> String {
        let Some(url) = &self.url else {
            return self.config.client.endpoint.expose().to_string();
        };
        let mut url = url.clone();
        let _ = url.set_password(None);
        let _ = url.set_username("");
        url.to_string()
    }

    /// The points still to send of `data`: those a failed attempt left, else all.
    async fn pending(&self, data: &Metrics) -> Result<Vec<TsdbPoint>, ConsumeError> {
        {
            let mut resume = self.resume.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(i) = resume.iter().position(|(m, _)| m.shares_request_with(data))
                && let Some((_, points)) = resume.remove(i)
            {
                return Ok(points);
            }
        }
        let resource_tags = self.config.resource_to_telemetry_conversion.enabled;
        let heavy = data.encoded_len() >= OFFLOAD_THRESHOLD;
        let data = data.clone();
        let converted = run_cpu_bound(heavy, move || to_points(data.request(), resource_tags))
            .await
            .map_err(|e| ConsumeError::retryable(format!("converting to OpenTSDB points: {e}")))?;
        if converted.dropped > 0 {
            self.dropped.add(converted.dropped as u64);
            let _entered = self.span.enter();
            tracing::debug!(
                points = converted.dropped,
                "data points OpenTSDB cannot carry were left out (no time, no value, NaN or infinite)"
            );
        }
        Ok(converted.points)
    }

    /// Remembers the points of `data` still to send, for the retry of the batch.
    fn remember(&self, data: Metrics, points: Vec<TsdbPoint>) {
        let mut resume = self.resume.lock().unwrap_or_else(|e| e.into_inner());
        if resume.len() >= MAX_RESUMED_BATCHES {
            resume.pop_front();
        }
        resume.push_back((data, points));
    }

    /// Sends every point over HTTP; the points to try again and the error that says why.
    async fn send_http(
        &self,
        points: Vec<TsdbPoint>,
    ) -> Result<(), (Vec<TsdbPoint>, ConsumeError)> {
        let mut retry = Vec::new();
        let mut error = None;
        let mut stored = 0usize;
        let mut refused: Option<ConsumeError> = None;
        for chunk in points.chunks(self.config.max_points_per_request) {
            match self.put(chunk).await {
                Ok(Put::Stored) => stored += chunk.len(),
                Ok(Put::Partial {
                    retry: again,
                    rejected,
                }) => {
                    stored += chunk.len() - again.len() - rejected;
                    self.rejected.add(rejected as u64);
                    if !again.is_empty() {
                        error = Some(ConsumeError::retryable(format!(
                            "{}: the TSD could not store {} points for now",
                            self.url_text(),
                            again.len()
                        )));
                        retry.extend(again);
                    }
                }
                Err(e) if e.is_permanent() => {
                    self.rejected.add(chunk.len() as u64);
                    refused = Some(e);
                }
                Err(e) => {
                    retry.extend_from_slice(chunk);
                    error = Some(e);
                }
            }
        }
        if let Some(error) = error {
            return Err((retry, error));
        }
        match refused {
            // Nothing of the batch could be stored: say so to the pipeline.
            Some(e) if stored == 0 => Err((Vec::new(), e)),
            _ => Ok(()),
        }
    }

    /// One `/api/put?details` request.
    async fn put(&self, chunk: &[TsdbPoint]) -> Result<Put, ConsumeError> {
        let client = self
            .client
            .get()
            .ok_or_else(|| ConsumeError::permanent("the exporter was not started"))?;
        let body: Vec<Value> = chunk.iter().map(TsdbPoint::to_json).collect();
        let mut body = serde_json::to_vec(&body)
            .map_err(|e| ConsumeError::permanent(format!("encoding JSON: {e}")))?;
        let mut headers = HeaderMap::with_capacity(4);
        self.auth.apply(&mut headers, None).await?;
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if self.compressor.compression != Compression::None {
            let mut out = Vec::with_capacity(body.len() / 4 + 64);
            self.compressor
                .compress_into(&body, &mut out)
                .map_err(|e| ConsumeError::permanent(format!("compressing: {e}")))?;
            body = out;
            headers.insert(
                CONTENT_ENCODING,
                HeaderValue::from_static(self.compressor.compression.as_str()),
            );
        }
        let url = self
            .url
            .clone()
            .ok_or_else(|| ConsumeError::permanent("no URL"))?;
        let response = client
            .post(url)
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(|e| {
                ConsumeError::retryable(format!(
                    "sending to {}: {}",
                    self.url_text(),
                    error_chain(&e.without_url())
                ))
            })?;
        let status = response.status();
        if status.is_success() {
            return Ok(Put::Stored);
        }
        let headers = response.headers().clone();
        let answer = read_answer(response).await;
        if status == StatusCode::BAD_REQUEST
            && let Some(put) = partial(chunk, &answer)
        {
            if let Put::Partial { rejected, .. } = &put
                && *rejected > 0
            {
                let _entered = self.span.enter();
                tracing::warn!(url = %self.url_text(), rejected, "the TSD refused some points; the rest were stored");
            }
            return Ok(put);
        }
        let mut message = format!("{} responded with HTTP {status}", self.url_text());
        let text = String::from_utf8_lossy(&answer[..answer.len().min(512)])
            .trim()
            .to_string();
        if !text.is_empty() {
            message.push_str(": ");
            message.push_str(&text);
        }
        Err(status_error(status, message, &headers, 500..=599))
    }

    /// Writes every point as a telnet line over the kept connection (opened when none).
    async fn send_telnet(&self, points: &[TsdbPoint]) -> io::Result<()> {
        let mut text = String::with_capacity(points.len() * 64);
        for point in points {
            text.push_str(&point.to_telnet_line());
        }
        let taken = self.telnet.lock().unwrap_or_else(|e| e.into_inner()).take();
        let mut connection = match taken {
            Some(connection) => connection,
            None => {
                let endpoint = self.config.client.endpoint.expose().to_string();
                let connecting = TcpStream::connect(endpoint);
                let connection = tokio::time::timeout(self.config.timeout(), connecting)
                    .await
                    .map_err(|_| {
                        io::Error::new(io::ErrorKind::TimedOut, "connecting timed out")
                    })??;
                connection.set_nodelay(true)?;
                connection
            }
        };
        connection.write_all(text.as_bytes()).await?;
        connection.flush().await?;
        // The TSD answers only errors; they are not read, so the socket's receive buffer
        // is emptied here to keep a chatty TSD from stalling it.
        let mut sink = [0u8; 4096];
        while let Ok(n) = connection.try_read(&mut sink) {
            if n == 0 {
                return Ok(());
            }
            let _entered = self.span.enter();
            tracing::warn!(answer = %String::from_utf8_lossy(&sink[..n]).trim(), "the TSD refused telnet lines");
        }
        *self.telnet.lock().unwrap_or_else(|e| e.into_inner()) = Some(connection);
        Ok(())
    }
}

/// What a request came to, short of an error.
#[derive(Debug)]
enum Put {
    /// Every point stored.
    Stored,
    /// Some points failed: those to try again (the TSD could not store them for now) and
    /// how many it refused for good.
    Partial {
        retry: Vec<TsdbPoint>,
        rejected: usize,
    },
}

/// A `details` answer to `chunk`: the points it names, each to retry (a storage error) or
/// refused for good. `None` when the answer is not one.
fn partial(chunk: &[TsdbPoint], answer: &[u8]) -> Option<Put> {
    let answer: Value = serde_json::from_slice(answer).ok()?;
    let errors = answer.get("errors")?.as_array()?;
    let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, point) in chunk.iter().enumerate() {
        by_key.entry(point.key()).or_default().push(i);
    }
    let (mut retry, mut rejected, mut unmatched_retry) = (Vec::new(), 0, false);
    for error in errors {
        let message = error
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let transient = transient(message);
        let index = error
            .get("datapoint")
            .and_then(echoed_key)
            .and_then(|key| by_key.get_mut(&key)?.pop());
        match (index, transient) {
            (Some(i), true) => retry.push(chunk[i].clone()),
            (Some(_), false) => rejected += 1,
            (None, true) => unmatched_retry = true,
            (None, false) => rejected += 1,
        }
    }
    if unmatched_retry {
        // A point to retry the answer does not name well enough: send the whole request
        // again (a TSD stores a point written twice once).
        return Some(Put::Partial {
            retry: chunk.to_vec(),
            rejected: 0,
        });
    }
    Some(Put::Partial { retry, rejected })
}

/// Whether a TSD's per-point error is about storing (worth retrying), not the point.
fn transient(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    [
        "hbase",
        "storage",
        "timeout",
        "timed out",
        "throttle",
        "retry",
        "unavailable",
    ]
    .iter()
    .any(|word| message.contains(word))
}

/// Reads at most [`MAX_ANSWER`] bytes of a response.
async fn read_answer(mut response: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < MAX_ANSWER {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = MAX_ANSWER - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) | Err(_) => break,
        }
    }
    body
}

#[async_trait]
impl Export<Metrics> for OpenTsdbExporter {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        if self.protocol == Protocol::Telnet {
            return Ok(());
        }
        self.auth.start(host)?;
        if self.client.get().is_none() {
            let config = self.config.clone();
            // TLS files are read here, off the runtime.
            let client = tokio::task::spawn_blocking(move || {
                http_client(&config.client, config.timeout(), USER_AGENT.to_string())
            })
            .await
            .map_err(|e| ComponentError::with_source("building the HTTP client", e))??;
            let _ = self.client.set(client);
        }
        Ok(())
    }

    async fn export(&self, data: Metrics) -> Result<(), ConsumeError> {
        let points = self.pending(&data).await?;
        if points.is_empty() {
            return Ok(());
        }
        match self.protocol {
            Protocol::Http => match self.send_http(points).await {
                Ok(()) => Ok(()),
                Err((retry, error)) => {
                    if !retry.is_empty() && !error.is_permanent() {
                        self.remember(data, retry);
                    }
                    Err(error)
                }
            },
            Protocol::Telnet => {
                let count = points.len();
                self.send_telnet(&points).await.map_err(|e| {
                    // Telnet acknowledges nothing: the batch is sent again whole.
                    ConsumeError::retryable(format!(
                        "cannot send {count} points to the TSD at {}: {e}",
                        self.url_text()
                    ))
                })
            }
        }
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.telnet.lock().unwrap_or_else(|e| e.into_inner()).take();
        self.resume
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        Ok(())
    }
}
