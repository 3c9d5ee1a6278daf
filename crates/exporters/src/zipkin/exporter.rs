//! Sending one batch of spans to Zipkin.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode};
use tributary_pipeline_core::component::{ComponentError, CreateSettings, Host, SecretUrl};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::exporterhelper::Export;
use tributary_pipeline_core::pdata::Traces;
use tributary_translator_zipkin as translator;

use super::config::{Config, Format};
use crate::client::{
    ClientAuth, Compression, Compressor, OFFLOAD_THRESHOLD, http_client, read_body, run_cpu_bound,
    send_error, status_error, user_agent,
};

/// The most of an error response's body kept for the error message.
const MAX_ERROR_BODY: usize = 1024;

/// Exports batches of spans to one Zipkin URL.
pub(crate) struct ZipkinExporter {
    config: Config,
    url: SecretUrl,
    body: Arc<BodyMaker>,
    auth: ClientAuth,
    user_agent: String,
    client: OnceLock<reqwest::Client>,
    span: tracing::Span,
}

impl ZipkinExporter {
    /// The exporter; builds no client (that happens at start, when TLS files are read).
    pub(crate) fn new(settings: &CreateSettings, config: &Config) -> Self {
        ZipkinExporter {
            config: config.clone(),
            url: config.client.endpoint.clone(),
            body: Arc::new(BodyMaker {
                format: match config.format {
                    Format::Json => translator::Format::Json,
                    Format::Proto => translator::Format::Proto,
                },
                compressor: Compressor::new(
                    config.compression(),
                    &config.client.compression_params,
                ),
                default_service_name: config.default_service_name.clone(),
            }),
            auth: ClientAuth::new(config.client.auth.as_ref()),
            user_agent: user_agent(settings.build_info()),
            client: OnceLock::new(),
            span: settings.span().clone(),
        }
    }

    fn client(&self) -> Result<&reqwest::Client, ConsumeError> {
        self.client
            .get()
            .ok_or_else(|| ConsumeError::permanent("the exporter was not started"))
    }
}

#[async_trait]
impl Export<Traces> for ZipkinExporter {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        self.auth.start(host)?;
        if self.client.get().is_some() {
            return Ok(());
        }
        let (config, user_agent) = (self.config.clone(), self.user_agent.clone());
        let client = tokio::task::spawn_blocking(move || {
            http_client(&config.client, config.timeout(), user_agent)
        })
        .await
        .map_err(|e| ComponentError::with_source("building the HTTP client", e))??;
        let _ = self.client.set(client);
        Ok(())
    }

    async fn export(&self, data: Traces) -> Result<(), ConsumeError> {
        let mut headers = HeaderMap::with_capacity(3);
        self.auth
            .apply(&mut headers, data.metadata().map(|m| &**m))
            .await?;
        let heavy = data.encoded_len() >= OFFLOAD_THRESHOLD;
        // The translation is CPU work: a large batch leaves the async runtime.
        let maker = Arc::clone(&self.body);
        let (body, spans, invalid) = run_cpu_bound(heavy, move || maker.body(&data))
            .await
            .map_err(|e| ConsumeError::retryable(format!("preparing the request: {e}")))??;
        if invalid > 0 {
            let _entered = self.span.enter();
            tracing::warn!(
                invalid,
                "left out spans with an empty or all-zero trace or span ID: Zipkin cannot carry them"
            );
        }
        if spans == 0 {
            return Ok(());
        }
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static(self.body.format.content_type()),
        );
        let compression = self.body.compressor.compression;
        if compression != Compression::None {
            headers.insert(
                CONTENT_ENCODING,
                HeaderValue::from_static(compression.as_str()),
            );
        }
        let response = self
            .client()?
            .post(self.url.expose())
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(|e| send_error(&self.url, e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let headers = response.headers().clone();
        let body = read_body(response, MAX_ERROR_BODY).await;
        Err(error_for(&self.url.to_string(), status, &headers, &body))
    }
}

/// What turns a batch into a body, movable to a blocking thread.
struct BodyMaker {
    format: translator::Format,
    compressor: Compressor,
    default_service_name: String,
}

impl BodyMaker {
    /// The request body for `data`, how many spans it holds, and how many were left out
    /// for invalid IDs.
    fn body(&self, data: &Traces) -> Result<(Bytes, usize, usize), ConsumeError> {
        let encoded = translator::encode(data.request(), self.format, &self.default_service_name);
        if self.compressor.compression == Compression::None {
            return Ok((Bytes::from(encoded.body), encoded.spans, encoded.invalid));
        }
        let mut compressed = Vec::with_capacity(encoded.body.len() / 3 + 64);
        self.compressor
            .compress_into(&encoded.body, &mut compressed)
            .map_err(|e| {
                ConsumeError::permanent(format!(
                    "compressing with {}: {e}",
                    self.compressor.compression
                ))
            })?;
        Ok((Bytes::from(compressed), encoded.spans, encoded.invalid))
    }
}

/// Classifies a non-2xx answer: 429 is throttling and 5xx retryable, each after
/// `Retry-After` when sent; any other status (4xx) is permanent: the same spans would be
/// refused again.
pub(crate) fn error_for(
    url: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> ConsumeError {
    let mut message = format!("{url} responded with HTTP {status}");
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX_ERROR_BODY)]);
    let text = text.trim();
    if !text.is_empty() {
        message.push_str(": ");
        message.push_str(text);
    }
    status_error(status, message, headers, 500..=599)
}
