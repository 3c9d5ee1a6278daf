//! Sending documents: bulk requests of at most `flush::bytes`, each answer read item by
//! item — `2xx` and `409` kept, `retry_on_status` and `5xx` items retried with backoff,
//! other `4xx` dropped and counted — and whole-request `413` split in halves.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::Value;
use tributary_pipeline_core::component::{ComponentError, CreateSettings, Host, error_chain};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::exporterhelper::Export;
use tributary_pipeline_core::pdata::{Logs, Metrics};
use tributary_pipeline_core::telemetry::Counter;

use super::bulk_response::read_bulk_answer;
use super::config::{Config, MappingMode};
use super::documents::{Document, Routing, log_documents, metric_documents};
use crate::client::{
    ClientAuth, Compression, Compressor, OFFLOAD_THRESHOLD, http_client, run_cpu_bound,
};

/// The most of a bulk response read: enough for the items of a 5 MB request.
const MAX_RESPONSE_BODY: usize = 64 << 20;

/// Why documents were dropped (the `reason` of the dropped-documents counter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DropReason {
    /// Elasticsearch refused the document (a `4xx` item: mapping, illegal argument, ...).
    Rejected,
    /// Still failing after `retry::max_requests` retries.
    RetriesExhausted,
    /// Larger alone than the server accepts (`413`).
    TooLarge,
    /// Points no document can carry (exponential histograms, no value, NaN).
    Unencodable,
}

impl DropReason {
    const ALL: [DropReason; 4] = [
        DropReason::Rejected,
        DropReason::RetriesExhausted,
        DropReason::TooLarge,
        DropReason::Unencodable,
    ];

    fn label(self) -> &'static str {
        match self {
            DropReason::Rejected => "rejected",
            DropReason::RetriesExhausted => "retries_exhausted",
            DropReason::TooLarge => "too_large",
            DropReason::Unencodable => "unencodable",
        }
    }
}

/// Exports metrics and logs to Elasticsearch's bulk API.
pub(crate) struct ElasticsearchExporter {
    config: Config,
    mode: MappingMode,
    urls: Vec<reqwest::Url>,
    next_url: AtomicUsize,
    credentials: Option<HeaderValue>,
    compressor: Compressor,
    auth: ClientAuth,
    client: OnceLock<reqwest::Client>,
    dropped: [Counter; 4],
    span: tracing::Span,
}

/// What one bulk request came to.
enum Outcome {
    /// Every document is stored (or dropped and counted); these are to retry.
    Items(Vec<usize>),
    /// The request as a whole failed in a way that may pass later.
    Retry(ConsumeError),
    /// `413`.
    TooLarge,
}

impl ElasticsearchExporter {
    pub(crate) fn new(settings: &CreateSettings, config: &Config) -> Result<Self, String> {
        let urls = config.bulk_urls().map_err(|e| e.to_string())?;
        let mode = config.mode().map_err(|e| e.to_string())?;
        let id = settings.id().to_string();
        let dropped = DropReason::ALL.map(|reason| {
            settings.metrics().counter(
                "otelcol_exporter_elasticsearch_dropped_documents",
                "Documents Elasticsearch refused (4xx items), still failing after retry::max_requests, \
                 too large alone, or points no document can carry.",
                &[("exporter", id.as_str()), ("reason", reason.label())],
            )
        });
        Ok(ElasticsearchExporter {
            credentials: credentials(config)?,
            compressor: Compressor::new(
                config.client.compression_or(Compression::None),
                &config.client.compression_params,
            ),
            auth: ClientAuth::new(config.client.auth.as_ref()),
            config: config.clone(),
            mode,
            urls,
            next_url: AtomicUsize::new(0),
            client: OnceLock::new(),
            dropped,
            span: settings.span().clone(),
        })
    }

    fn drop_count(&self, reason: DropReason, n: usize) {
        let index = DropReason::ALL
            .iter()
            .position(|r| *r == reason)
            .unwrap_or(0);
        self.dropped[index].add(n as u64);
    }

    fn client(&self) -> Result<&reqwest::Client, ConsumeError> {
        self.client
            .get()
            .ok_or_else(|| ConsumeError::permanent("the exporter was not started"))
    }

    /// The URL of the next request: the endpoints in turn.
    fn url(&self) -> &reqwest::Url {
        let i = self.next_url.fetch_add(1, Ordering::Relaxed);
        &self.urls[i % self.urls.len()]
    }

    /// The action of a document: `create` (data streams take nothing else) or, for the
    /// Lookout layout written to Lookout's write alias, `index`.
    fn action(&self) -> &'static str {
        if self.mode == MappingMode::Lookout {
            "index"
        } else {
            "create"
        }
    }

    /// Sends every document, in requests of at most `flush::bytes`.
    async fn send_all(&self, documents: Vec<Document>) -> Result<(), ConsumeError> {
        let action = self.action();
        let lines: Vec<String> = documents
            .iter()
            .map(|d| {
                let meta = serde_json::json!({ action: { "_index": d.index } });
                format!("{meta}\n{}\n", d.source)
            })
            .collect();
        let mut chunk = Vec::new();
        let mut size = 0;
        let mut delivered_any = false;
        for (i, line) in lines.iter().enumerate() {
            if !chunk.is_empty() && size + line.len() > self.config.flush.bytes {
                self.send_chunk(&lines, std::mem::take(&mut chunk), delivered_any)
                    .await?;
                delivered_any = true;
                size = 0;
            }
            size += line.len();
            chunk.push(i);
        }
        if !chunk.is_empty() {
            self.send_chunk(&lines, chunk, delivered_any).await?;
        }
        Ok(())
    }

    /// Sends documents `pending` of `lines`, retrying what may pass later. `delivered_any`:
    /// some of the batch is stored already, so a failure must not have the whole batch
    /// sent again (it would store those twice): what cannot be delivered is dropped and
    /// counted instead.
    async fn send_chunk(
        &self,
        lines: &[String],
        pending: Vec<usize>,
        mut delivered_any: bool,
    ) -> Result<(), ConsumeError> {
        let retry = &self.config.retry;
        let mut queue = vec![(pending, 0u32)];
        while let Some((pending, retries)) = queue.pop() {
            let outcome = self.post(lines, &pending).await?;
            let (to_retry, error) = match outcome {
                Outcome::Items(to_retry) => {
                    if to_retry.len() < pending.len() {
                        delivered_any = true;
                    }
                    (to_retry, None)
                }
                Outcome::Retry(error) => (pending, Some(error)),
                Outcome::TooLarge if pending.len() > 1 => {
                    let half = pending.len() / 2;
                    queue.push((pending[half..].to_vec(), retries));
                    queue.push((pending[..half].to_vec(), retries));
                    continue;
                }
                Outcome::TooLarge => {
                    self.drop_count(DropReason::TooLarge, 1);
                    let _entered = self.span.enter();
                    tracing::warn!(
                        bytes = lines[pending[0]].len(),
                        "a document larger than Elasticsearch accepts was dropped"
                    );
                    continue;
                }
            };
            if to_retry.is_empty() {
                continue;
            }
            if retry.enabled && retries < retry.max_requests {
                let delay = error
                    .as_ref()
                    .and_then(ConsumeError::retry_after)
                    .unwrap_or_else(|| {
                        backoff(retry.initial_interval, retry.max_interval, retries)
                    });
                tokio::time::sleep(delay.min(retry.max_interval)).await;
                queue.push((to_retry, retries + 1));
                continue;
            }
            // Out of retries.
            match error {
                Some(error) if !delivered_any => return Err(error),
                _ => {
                    self.drop_count(DropReason::RetriesExhausted, to_retry.len());
                    let _entered = self.span.enter();
                    tracing::warn!(
                        documents = to_retry.len(),
                        "documents still failing after retry::max_requests retries were dropped"
                    );
                }
            }
        }
        Ok(())
    }

    /// One bulk request of documents `pending`.
    async fn post(&self, lines: &[String], pending: &[usize]) -> Result<Outcome, ConsumeError> {
        let mut body = String::with_capacity(pending.iter().map(|&i| lines[i].len()).sum());
        for &i in pending {
            body.push_str(&lines[i]);
        }
        let mut headers = HeaderMap::with_capacity(4);
        self.auth.apply(&mut headers, None).await?;
        if let Some(credentials) = &self.credentials {
            headers.insert(AUTHORIZATION, credentials.clone());
        }
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        );
        let compressor = self.compressor;
        let body = if compressor.compression == Compression::None {
            Bytes::from(body)
        } else {
            headers.insert(
                CONTENT_ENCODING,
                HeaderValue::from_static(compressor.compression.as_str()),
            );
            let heavy = body.len() >= OFFLOAD_THRESHOLD;
            run_cpu_bound(heavy, move || {
                let mut out = Vec::with_capacity(body.len() / 4 + 64);
                compressor
                    .compress_into(body.as_bytes(), &mut out)
                    .map(|()| Bytes::from(out))
            })
            .await
            .map_err(|e| ConsumeError::retryable(format!("compressing: {e}")))?
            .map_err(|e| ConsumeError::permanent(format!("compressing: {e}")))?
        };
        let url = self.url();
        let url_text = redacted(url);
        let response = match self
            .client()?
            .post(url.clone())
            .headers(headers)
            .body(body)
            .send()
            .await
        {
            Ok(response) => response,
            Err(e) => {
                return Ok(Outcome::Retry(ConsumeError::retryable(format!(
                    "sending to {url_text}: {}",
                    error_chain(&e.without_url())
                ))));
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = read_limited(response).await;
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            return Ok(Outcome::TooLarge);
        }
        if !status.is_success() {
            let message = format!(
                "{url_text} responded with HTTP {status}: {}",
                error_reason(&body)
            );
            let code = status.as_u16();
            if code == 429 {
                return Ok(Outcome::Retry(ConsumeError::throttled(
                    message,
                    retry_after,
                )));
            }
            if status.is_server_error() || self.config.retry.retry_on_status.contains(&code) {
                return Ok(Outcome::Retry(
                    ConsumeError::retryable(message).with_retry_after(retry_after),
                ));
            }
            return Err(ConsumeError::permanent(message));
        }
        let read = match read_bulk_answer(&body, pending, &self.config.retry.retry_on_status) {
            Ok(read) => read,
            Err(e) => {
                return Ok(Outcome::Retry(ConsumeError::retryable(format!(
                    "{url_text} {e}"
                ))));
            }
        };
        if read.rejected > 0 {
            self.drop_count(DropReason::Rejected, read.rejected);
            let _entered = self.span.enter();
            tracing::warn!(
                documents = read.rejected,
                first_error = read.first_reason.as_deref().unwrap_or(""),
                "Elasticsearch refused documents; they were dropped"
            );
        }
        Ok(Outcome::Items(read.to_retry))
    }
}

/// `initial × 2^retries`, at most `max`.
fn backoff(initial: Duration, max: Duration, retries: u32) -> Duration {
    initial
        .checked_mul(1u32.checked_shl(retries.min(20)).unwrap_or(u32::MAX))
        .unwrap_or(max)
        .min(max)
}

fn redacted(url: &reqwest::Url) -> String {
    let mut url = url.clone();
    let _ = url.set_password(None);
    let _ = url.set_username("");
    url.to_string()
}

async fn read_limited(mut response: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < MAX_RESPONSE_BODY {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    body
}

/// Elasticsearch's `error.reason` (or `error.type`), else the start of the body.
fn error_reason(body: &[u8]) -> String {
    if let Ok(json) = serde_json::from_slice::<Value>(body)
        && let Some(error) = json.get("error")
    {
        if let Some(reason) = error.get("reason").and_then(Value::as_str) {
            return reason.to_owned();
        }
        if let Some(text) = error.as_str() {
            return text.to_owned();
        }
    }
    String::from_utf8_lossy(&body[..body.len().min(512)])
        .trim()
        .to_owned()
}

/// `Authorization`: `ApiKey <key>`, or basic authentication from `user` and `password`.
fn credentials(config: &Config) -> Result<Option<HeaderValue>, String> {
    use base64::Engine as _;
    let value = if !config.api_key.expose().is_empty() {
        format!("ApiKey {}", config.api_key.expose())
    } else if !config.user.is_empty() {
        let pair = format!("{}:{}", config.user, config.password.expose());
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    } else {
        return Ok(None);
    };
    let mut value = HeaderValue::from_str(&value).map_err(|_| {
        "the API key or password holds characters a header cannot carry".to_string()
    })?;
    value.set_sensitive(true);
    Ok(Some(value))
}

impl ElasticsearchExporter {
    async fn start_client(&self, host: &Host) -> Result<(), ComponentError> {
        self.auth.start(host)?;
        if self.client.get().is_none() {
            let config = self.config.clone();
            let client = tokio::task::spawn_blocking(move || {
                http_client(
                    &config.client,
                    config.timeout(),
                    "Tributary elasticsearch exporter".into(),
                )
            })
            .await
            .map_err(|e| ComponentError::with_source("building the HTTP client", e))??;
            let _ = self.client.set(client);
        }
        Ok(())
    }
}

#[async_trait]
impl Export<Metrics> for ElasticsearchExporter {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        self.start_client(host).await
    }

    async fn export(&self, data: Metrics) -> Result<(), ConsumeError> {
        let (documents, skipped) = {
            let routing = Routing {
                kind: "metrics",
                index: &self.config.metrics_index,
                dynamic: self.config.metrics_dynamic_index.enabled,
                config: &self.config,
            };
            metric_documents(&data, self.mode, &routing)
        };
        if skipped > 0 {
            self.drop_count(DropReason::Unencodable, skipped);
        }
        if documents.is_empty() {
            return Ok(());
        }
        self.send_all(documents).await
    }
}

#[async_trait]
impl Export<Logs> for ElasticsearchExporter {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        self.start_client(host).await
    }

    async fn export(&self, data: Logs) -> Result<(), ConsumeError> {
        let documents = {
            let routing = Routing {
                kind: "logs",
                index: self.config.logs_index(),
                dynamic: self.config.logs_dynamic_index.enabled,
                config: &self.config,
            };
            log_documents(&data, self.mode, &routing)
        };
        if documents.is_empty() {
            return Ok(());
        }
        self.send_all(documents).await
    }
}
