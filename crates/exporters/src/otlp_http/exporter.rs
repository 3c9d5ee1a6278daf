//! Sending one batch as an OTLP/HTTP request.

use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue};
use tributary_pipeline_core::component::{
    ComponentError, CreateError, CreateSettings, Host, SecretUrl,
};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::exporterhelper::Export;

use super::config::{Config, Encoding};
use super::response::{MAX_BODY, error_for, partial_success};
use crate::client::{
    ClientAuth, Compression, Compressor, OFFLOAD_THRESHOLD, http_client, read_body, run_cpu_bound,
    send_error, user_agent,
};
use crate::otlp_signal::{OtlpSignal, PartialSuccessRecorder};
use tributary_pipeline_core::pdata::otlp_json::JsonData;

/// How a batch becomes a request body.
#[derive(Clone, Copy, Debug)]
struct BodyFormat {
    encoding: Encoding,
    compressor: Compressor,
}

impl BodyFormat {
    fn content_type(self) -> &'static str {
        match self.encoding {
            Encoding::Proto => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }

    /// Encodes and compresses `data`. Protobuf is the payload's cached encoding, so an
    /// unchanged payload received over OTLP is sent without re-encoding.
    /// A merged batch's protobuf parts are compressed one after the other, never joined.
    fn body<T: OtlpSignal + JsonData>(self, data: &T) -> Result<Bytes, ConsumeError> {
        let json: [Bytes; 1];
        let parts = match self.encoding {
            Encoding::Proto => data.encoded_parts(),
            Encoding::Json => {
                let mut buffer = Vec::with_capacity(data.encoded_len() * 2);
                data.write_otlp_json(&mut buffer)
                    .map_err(|e| ConsumeError::permanent(format!("encoding OTLP/JSON: {e}")))?;
                json = [Bytes::from(buffer)];
                &json
            }
        };
        if self.compressor.compression == Compression::None {
            // Uncompressed, the body must be one buffer: the payload's own joined encoding.
            return Ok(match parts {
                [one] => one.clone(),
                _ => data.encoded(),
            });
        }
        let length: usize = parts.iter().map(Bytes::len).sum();
        let mut compressed = Vec::with_capacity(length / 2 + 64);
        self.compressor
            .compress_parts_into(parts, &mut compressed)
            .map_err(|e| {
                ConsumeError::permanent(format!(
                    "compressing with {}: {e}",
                    self.compressor.compression
                ))
            })?;
        Ok(Bytes::from(compressed))
    }

    /// Whether preparing `data` is enough work to move off the async runtime.
    fn is_heavy<T: OtlpSignal>(self, data: &T) -> bool {
        let work =
            self.encoding == Encoding::Json || self.compressor.compression != Compression::None;
        work && data.encoded_len() >= OFFLOAD_THRESHOLD
    }
}

/// Exports one signal's batches to its OTLP/HTTP URL.
pub(crate) struct HttpExporter<T> {
    client: Arc<SharedClient>,
    /// Its userinfo becomes basic authentication (reqwest moves it to a header); messages
    /// and logs show the URL redacted.
    url: SecretUrl,
    format: BodyFormat,
    auth: ClientAuth,
    partial_success: PartialSuccessRecorder,
    span: tracing::Span,
    signal: PhantomData<fn(T)>,
}

impl<T: OtlpSignal> HttpExporter<T> {
    pub(crate) fn new(
        settings: &CreateSettings,
        config: &Config,
        client: Arc<SharedClient>,
    ) -> Result<Self, CreateError> {
        let url = config
            .signal_url(T::SIGNAL)
            .map_err(|e| CreateError::new(e.to_string()))?;
        Ok(HttpExporter {
            client,
            url,
            format: BodyFormat {
                encoding: config.encoding,
                compressor: Compressor::new(
                    config.compression(),
                    &config.client.compression_params,
                ),
            },
            auth: ClientAuth::new(config.client.auth.as_ref()),
            partial_success: PartialSuccessRecorder::new::<T>(settings),
            span: settings.span().clone(),
            signal: PhantomData,
        })
    }
}

/// The HTTP client of one exporter, shared by its signals (one connection pool), built
/// at start: TLS files are read then, as the Go Collector reads them in `ToClient`, so a
/// configuration whose certificates exist only on the production host validates anywhere.
pub(crate) struct SharedClient {
    config: Config,
    user_agent: String,
    client: OnceLock<reqwest::Client>,
}

impl SharedClient {
    /// The settings of the client; builds nothing.
    pub(crate) fn new(settings: &CreateSettings, config: &Config) -> Self {
        SharedClient {
            config: config.clone(),
            user_agent: user_agent(settings.build_info()),
            client: OnceLock::new(),
        }
    }

    /// A client built at once, as `start` builds it (tests export without a host).
    #[cfg(test)]
    pub(crate) fn started(
        settings: &CreateSettings,
        config: &Config,
    ) -> Result<Arc<Self>, ComponentError> {
        let shared = SharedClient::new(settings, config);
        let _ = shared
            .client
            .set(client(config, shared.user_agent.clone())?);
        Ok(Arc::new(shared))
    }

    /// Builds the client unless a signal's start already did: reads the TLS files, on a
    /// blocking thread.
    pub(crate) async fn start(&self) -> Result<(), ComponentError> {
        if self.client.get().is_some() {
            return Ok(());
        }
        let (config, user_agent) = (self.config.clone(), self.user_agent.clone());
        let client = tokio::task::spawn_blocking(move || client(&config, user_agent))
            .await
            .map_err(|e| ComponentError::with_source("building the HTTP client", e))??;
        // Two signals starting at once may both build one; either is the same client.
        let _ = self.client.set(client);
        Ok(())
    }

    /// The client, once started.
    fn get(&self) -> Result<&reqwest::Client, ConsumeError> {
        self.client
            .get()
            .ok_or_else(|| ConsumeError::permanent("the exporter was not started"))
    }
}

/// Builds the HTTP client: pooled connections, TLS, default headers, user agent.
fn client(config: &Config, user_agent: String) -> Result<reqwest::Client, ComponentError> {
    http_client(&config.client, config.timeout(), user_agent)
}

#[async_trait]
impl<T: OtlpSignal + JsonData> Export<T> for HttpExporter<T> {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        self.auth.start(host)?;
        self.client.start().await
    }

    async fn export(&self, data: T) -> Result<(), ConsumeError> {
        let mut headers = HeaderMap::with_capacity(2);
        self.auth
            .apply(&mut headers, data.metadata().map(|m| &**m))
            .await?;
        let format = self.format;
        let body = run_cpu_bound(format.is_heavy(&data), move || format.body(&data))
            .await
            .map_err(|e| ConsumeError::retryable(format!("preparing the request: {e}")))??;

        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        );
        if format.compressor.compression != Compression::None {
            headers.insert(
                CONTENT_ENCODING,
                HeaderValue::from_static(format.compressor.compression.as_str()),
            );
        }
        let response = self
            .client
            .get()?
            .post(self.url.expose())
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(|e| send_error(&self.url, e))?;

        let status = response.status();
        let headers = response.headers().clone();
        let body = read_body(response, MAX_BODY).await;
        if !status.is_success() {
            return Err(error_for(&self.url.to_string(), status, &headers, &body));
        }
        match partial_success::<T>(&headers, &body) {
            Ok(partial) => self.partial_success.record(partial),
            Err(problem) => {
                let _entered = self.span.enter();
                tracing::warn!(url = %self.url, %problem, "unreadable response to an accepted export");
            }
        }
        Ok(())
    }
}
