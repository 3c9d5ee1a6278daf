//! Sending a batch: encode to line protocol, cut into requests by `payload_max_lines` and
//! `payload_max_bytes`, send each, halve a request the server finds too large, and
//! classify what the server answers.

use std::sync::OnceLock;

use async_trait::async_trait;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode};
use tributary_pipeline_core::component::{ComponentError, CreateSettings, Host, error_chain};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::exporterhelper::Export;
use tributary_pipeline_core::pdata::builder::now_unix_nano;
use tributary_pipeline_core::pdata::{Logs, Metrics, Traces};
use tributary_pipeline_core::telemetry::Counter;

use super::config::{Config, MetricsSchema};
use super::lines::{LineBuffer, chunks};
use super::logs::write_logs;
use super::schema::{Written, write_metrics};
use super::traces::write_traces;
use crate::client::{
    ClientAuth, Compression, Compressor, OFFLOAD_THRESHOLD, http_client, read_body, run_cpu_bound,
    status_error,
};

/// The user agent, as the Go exporter's default `User-Agent` header.
const USER_AGENT: &str = "OpenTelemetry -> Influx";

/// The most of an error response read.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Exports metrics to one InfluxDB write URL.
pub(crate) struct InfluxExporter {
    config: Config,
    url: reqwest::Url,
    schema: MetricsSchema,
    credentials: Option<HeaderValue>,
    compressor: Compressor,
    auth: ClientAuth,
    client: OnceLock<reqwest::Client>,
    rejected: Counter,
    dropped: Counter,
    span: tracing::Span,
}

impl InfluxExporter {
    pub(crate) fn new(settings: &CreateSettings, config: &Config) -> Result<Self, String> {
        let url = config.write_url().map_err(|e| e.to_string())?;
        let schema = config.schema().map_err(|e| e.to_string())?;
        let id = settings.id().to_string();
        let labels = [("exporter", id.as_str())];
        Ok(InfluxExporter {
            config: config.clone(),
            url,
            schema,
            credentials: credentials(config)?,
            compressor: Compressor::new(
                config.client.compression_or(Compression::None),
                &config.client.compression_params,
            ),
            auth: ClientAuth::new(config.client.auth.as_ref()),
            client: OnceLock::new(),
            rejected: settings.metrics().counter(
                "otelcol_exporter_influxdb_rejected_lines",
                "Lines InfluxDB refused in partial writes (the rest of each write was kept).",
                &labels,
            ),
            dropped: settings.metrics().counter(
                "otelcol_exporter_influxdb_dropped_items",
                "Data points or log records line protocol cannot carry: no timestamp, exponential histograms, no field left.",
                &labels,
            ),
            span: settings.span().clone(),
        })
    }

    fn client(&self) -> Result<&reqwest::Client, ConsumeError> {
        self.client
            .get()
            .ok_or_else(|| ConsumeError::permanent("the exporter was not started"))
    }

    /// Sends lines `text[start..end]` (`lines` of them); on 413, each half alone.
    async fn send(
        &self,
        text: &Bytes,
        start: usize,
        end: usize,
        lines: usize,
        ends: &[usize],
    ) -> Result<(), ConsumeError> {
        // Recursion in an async fn: a stack of halves, never deeper than log2(lines).
        let mut pending = vec![(start, end, lines)];
        while let Some((start, end, lines)) = pending.pop() {
            match self.post(text.slice(start..end)).await? {
                Posted::Done => {}
                Posted::TooLarge(message) if lines > 1 => {
                    let first = ends.partition_point(|&e| e <= start);
                    let middle = ends[first + lines / 2 - 1];
                    pending.push((middle, end, lines - lines / 2));
                    pending.push((start, middle, lines / 2));
                    let _entered = self.span.enter();
                    tracing::debug!(%message, lines, "InfluxDB found the request too large: sending it in halves");
                }
                Posted::TooLarge(message) => {
                    return Err(ConsumeError::permanent(format!(
                        "{}: one line of {} bytes is larger than the server accepts: {message}",
                        self.url_text(),
                        end - start
                    )));
                }
            }
        }
        Ok(())
    }

    fn url_text(&self) -> String {
        let mut url = self.url.clone();
        let _ = url.set_password(None);
        let _ = url.set_username("");
        url.to_string()
    }

    /// One request.
    async fn post(&self, body: Bytes) -> Result<Posted, ConsumeError> {
        let mut headers = HeaderMap::with_capacity(4);
        self.auth.apply(&mut headers, None).await?;
        if let Some(credentials) = &self.credentials {
            headers.insert(AUTHORIZATION, credentials.clone());
        }
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        let compressor = self.compressor;
        let body = if compressor.compression == Compression::None {
            body
        } else {
            headers.insert(
                CONTENT_ENCODING,
                HeaderValue::from_static(compressor.compression.as_str()),
            );
            let heavy = body.len() >= OFFLOAD_THRESHOLD;
            run_cpu_bound(heavy, move || {
                let mut out = Vec::with_capacity(body.len() / 4 + 64);
                compressor
                    .compress_into(&body, &mut out)
                    .map(|()| Bytes::from(out))
            })
            .await
            .map_err(|e| ConsumeError::retryable(format!("compressing: {e}")))?
            .map_err(|e| ConsumeError::permanent(format!("compressing: {e}")))?
        };
        let response = self
            .client()?
            .post(self.url.clone())
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
            return Ok(Posted::Done);
        }
        let headers = response.headers().clone();
        let body = read_body(response, MAX_ERROR_BODY).await;
        let message = explanation(&body);
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            return Ok(Posted::TooLarge(message));
        }
        if status.is_client_error() && message.contains("partial write") {
            let rejected = dropped_count(&message);
            self.rejected.add(rejected);
            let _entered = self.span.enter();
            tracing::warn!(url = %self.url_text(), rejected_lines = rejected, error = %message, "InfluxDB kept part of a write and refused the rest");
            return Ok(Posted::Done);
        }
        Err(error_for(&self.url_text(), status, &headers, &message))
    }
}

/// What a request came to, short of an error.
enum Posted {
    Done,
    TooLarge(String),
}

/// The `Authorization` header: `Token <token>` for 2.x, basic authentication for 1.x.
fn credentials(config: &Config) -> Result<Option<HeaderValue>, String> {
    use base64::Engine as _;
    let v1 = &config.v1_compatibility;
    let value = if v1.enabled {
        if v1.username.is_empty() || v1.password.expose().is_empty() {
            return Ok(None);
        }
        let pair = format!("{}:{}", v1.username, v1.password.expose());
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    } else {
        if config.token.expose().is_empty() {
            return Ok(None);
        }
        format!("Token {}", config.token.expose())
    };
    let mut value = HeaderValue::from_str(&value)
        .map_err(|_| "the token or password holds characters a header cannot carry".to_string())?;
    value.set_sensitive(true);
    Ok(Some(value))
}

/// InfluxDB's explanation: `error` (1.x) or `message` (2.x) of a JSON body, or the text.
fn explanation(body: &[u8]) -> String {
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) {
        for key in ["error", "message"] {
            if let Some(text) = json.get(key).and_then(|v| v.as_str()) {
                return text.to_string();
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let mut end = text.len().min(512);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// The lines a partial write dropped: InfluxDB says `dropped=N`; one when it does not say.
pub(crate) fn dropped_count(message: &str) -> u64 {
    message
        .rsplit("dropped=")
        .next()
        .filter(|_| message.contains("dropped="))
        .and_then(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .unwrap_or(1)
}

/// Classifies a failed write: 429 throttled, 5xx retryable (after `Retry-After` when
/// sent), anything else (400 bad lines, 401, 403, 404 no database) permanent.
pub(crate) fn error_for(
    url: &str,
    status: StatusCode,
    headers: &HeaderMap,
    explanation: &str,
) -> ConsumeError {
    let mut message = format!("{url} responded with HTTP {status}");
    if !explanation.is_empty() {
        message.push_str(": ");
        message.push_str(explanation);
    }
    status_error(status, message, headers, 500..=599)
}

#[async_trait]
impl Export<Metrics> for InfluxExporter {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        self.auth.start(host)?;
        if self.client.get().is_none() {
            let config = self.config.clone();
            // TLS files are read here, off the runtime: a config validates anywhere.
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
        let schema = self.schema;
        let heavy = data.encoded_len() >= OFFLOAD_THRESHOLD;
        let (buffer, written) = run_cpu_bound(heavy, move || {
            let mut buffer = LineBuffer::default();
            let written = write_metrics(data.request(), schema, &mut buffer);
            (buffer, written)
        })
        .await
        .map_err(|e| ConsumeError::retryable(format!("encoding line protocol: {e}")))?;
        self.write(buffer, written).await
    }
}

#[async_trait]
impl Export<Logs> for InfluxExporter {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        Export::<Metrics>::start(self, host).await
    }

    async fn export(&self, data: Logs) -> Result<(), ConsumeError> {
        let dimensions = self.config.log_record_dimensions.clone();
        let heavy = data.encoded_len() >= OFFLOAD_THRESHOLD;
        let (buffer, written) = run_cpu_bound(heavy, move || {
            let mut buffer = LineBuffer::default();
            let written = write_logs(data.request(), &dimensions, now_unix_nano(), &mut buffer);
            (buffer, written)
        })
        .await
        .map_err(|e| ConsumeError::retryable(format!("encoding line protocol: {e}")))?;
        self.write(buffer, written).await
    }
}

#[async_trait]
impl Export<Traces> for InfluxExporter {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        Export::<Metrics>::start(self, host).await
    }

    async fn export(&self, data: Traces) -> Result<(), ConsumeError> {
        let dimensions = self.config.span_dimensions.clone();
        let heavy = data.encoded_len() >= OFFLOAD_THRESHOLD;
        let (buffer, written) = run_cpu_bound(heavy, move || {
            let mut buffer = LineBuffer::default();
            let written = write_traces(data.request(), &dimensions, &mut buffer);
            (buffer, written)
        })
        .await
        .map_err(|e| ConsumeError::retryable(format!("encoding line protocol: {e}")))?;
        self.write(buffer, written).await
    }
}

impl InfluxExporter {
    /// Sends what a batch became, in requests of the configured size.
    async fn write(&self, buffer: LineBuffer, written: Written) -> Result<(), ConsumeError> {
        if written.dropped > 0 {
            self.dropped.add(written.dropped as u64);
            let _entered = self.span.enter();
            tracing::warn!(
                points = written.dropped,
                "data points line protocol cannot carry were dropped (no timestamp, exponential histogram, or no finite value)"
            );
        }
        if buffer.lines() == 0 {
            return Ok(());
        }
        let (text, ends) = buffer.into_parts();
        let text = Bytes::from(text);
        // Writing a point twice is harmless (InfluxDB keeps one point per series and
        // time), so a batch retried after some of its requests succeeded loses nothing.
        for (start, end, lines) in chunks(
            &ends,
            self.config.payload_max_lines,
            self.config.payload_max_bytes,
        ) {
            self.send(&text, start, end, lines, &ends).await?;
        }
        Ok(())
    }
}
