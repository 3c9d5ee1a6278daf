//! Sending a batch: flat samples grouped into measurements, compressed with raw snappy,
//! posted with the relay's headers, and the answer classified.

use std::sync::OnceLock;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue};
use tributary_pipeline_core::component::{ComponentError, CreateSettings, Host, error_chain};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::exporterhelper::Export;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::telemetry::Counter;

use super::config::Config;
use super::measurements::encode;
use crate::client::{
    ClientAuth, Compression, Compressor, OFFLOAD_THRESHOLD, http_client, run_cpu_bound,
    status_error,
};
use crate::flat_samples::flat_samples;

/// The most of an error response read.
const MAX_ERROR_BODY: usize = 16 * 1024;

/// Exports metrics to one Lookout gateway.
pub(crate) struct LookoutExporter {
    config: Config,
    url: reqwest::Url,
    compressor: Compressor,
    auth: ClientAuth,
    client: OnceLock<reqwest::Client>,
    skipped: Counter,
}

impl LookoutExporter {
    pub(crate) fn new(settings: &CreateSettings, config: &Config) -> Result<Self, String> {
        let url = config.url().map_err(|e| e.to_string())?;
        let id = settings.id().to_string();
        Ok(LookoutExporter {
            config: config.clone(),
            url,
            compressor: Compressor::new(config.compression(), &config.client.compression_params),
            auth: ClientAuth::new(config.client.auth.as_ref()),
            client: OnceLock::new(),
            skipped: settings.metrics().counter(
                "otelcol_exporter_lookout_skipped_points",
                "Data points with nothing a measurement can carry: no recorded value, or not a finite number.",
                &[("exporter", id.as_str())],
            ),
        })
    }

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

    async fn post(&self, body: String) -> Result<(), ConsumeError> {
        let mut headers = HeaderMap::with_capacity(6);
        self.auth.apply(&mut headers, None).await?;
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(
            "app",
            HeaderValue::from_str(&self.config.app).map_err(|_| {
                ConsumeError::permanent("app holds characters a header cannot carry")
            })?,
        );
        headers.insert("X-Lookout-Gateway", HeaderValue::from_static("1"));
        if !self.config.client_ip.is_empty()
            && let Ok(ip) = HeaderValue::from_str(&self.config.client_ip)
        {
            headers.insert("Client-Ip", ip);
        }
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
                let mut out = Vec::with_capacity(body.len() / 2 + 64);
                compressor
                    .compress_into(body.as_bytes(), &mut out)
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
            return Ok(());
        }
        let headers = response.headers().clone();
        let mut message = format!("{} responded with HTTP {status}", self.url_text());
        if let Some(err) = headers.get("Err").and_then(|v| v.to_str().ok()) {
            message.push_str(": ");
            message.push_str(err);
        } else {
            let body = response.bytes().await.unwrap_or_default();
            let text = String::from_utf8_lossy(&body[..body.len().min(MAX_ERROR_BODY)]);
            if !text.trim().is_empty() {
                message.push_str(": ");
                message.push_str(text.trim());
            }
        }
        // A gateway that says `Wait-Minutes: N` wants silence for N minutes (the SDK obeys
        // it); the retry stage waits as long as its own bounds allow.
        if let Some(minutes) = headers
            .get("Wait-Minutes")
            .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
        {
            return Err(ConsumeError::throttled(
                message,
                Some(Duration::from_secs(minutes.saturating_mul(60))),
            ));
        }
        Err(status_error(status, message, &headers, 500..=599))
    }
}

#[async_trait]
impl Export<Metrics> for LookoutExporter {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        self.auth.start(host)?;
        if self.client.get().is_none() {
            let config = self.config.clone();
            let client = tokio::task::spawn_blocking(move || {
                http_client(
                    &config.client,
                    config.timeout(),
                    "Tributary lookout exporter".into(),
                )
            })
            .await
            .map_err(|e| ComponentError::with_source("building the HTTP client", e))??;
            let _ = self.client.set(client);
        }
        Ok(())
    }

    async fn export(&self, data: Metrics) -> Result<(), ConsumeError> {
        let heavy = data.encoded_len() >= OFFLOAD_THRESHOLD;
        let (body, measurements, skipped) = run_cpu_bound(heavy, move || {
            let (samples, skipped) = flat_samples(&data);
            let (body, measurements) = encode(&samples);
            (body, measurements, skipped)
        })
        .await
        .map_err(|e| ConsumeError::retryable(format!("encoding measurements: {e}")))?;
        self.skipped.add(skipped as u64);
        if measurements == 0 {
            return Ok(());
        }
        self.post(body).await
    }
}
