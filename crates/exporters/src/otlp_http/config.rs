//! The `otlp_http` exporter's configuration.

use std::time::Duration;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError, SecretUrl};
use tributary_pipeline_core::confighttp::HttpClientConfig;
use tributary_pipeline_core::exporterhelper::ExporterHelperConfig;
use tributary_pipeline_core::pdata::Signal;

use crate::client::Compression;

/// How request bodies are encoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// Binary protobuf, `application/x-protobuf` (the default).
    #[default]
    Proto,
    /// OTLP/JSON, `application/json`.
    Json,
}

/// The `otlp_http` exporter's configuration: the Go Collector's `otlphttp` exporter keys
/// (`confighttp.ClientConfig` plus the exporter's own and the exporter helper's).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// URL for traces, used as is (overrides `endpoint`).
    pub traces_endpoint: SecretUrl,
    /// URL for metrics, used as is.
    pub metrics_endpoint: SecretUrl,
    /// URL for logs, used as is.
    pub logs_endpoint: SecretUrl,
    /// Accepted for compatibility: Tributary has no profiles signal.
    pub profiles_endpoint: SecretUrl,
    /// `proto` (default) or `json`.
    pub encoding: Encoding,
    /// The HTTP client block: `endpoint` (the base URL; `/v1/traces`, `/v1/metrics` and
    /// `/v1/logs` are appended; userinfo is sent as basic authentication and never
    /// shown), `tls`, `headers`, `compression` (gzip when left out), `timeout` (30s when
    /// left out: the deadline of one attempt, response included), `proxy_url`, `auth`,
    /// the connection pool's keys and `dialer`.
    #[serde(rename = "client,squash")]
    pub client: HttpClientConfig,
    /// `retry_on_failure` and `sending_queue`; `timeout` is the client block's.
    #[serde(rename = "helper,squash")]
    pub helper: ExporterHelperConfig,
}

/// The compression used when `compression` is left out, as the Go exporter's.
pub(crate) const DEFAULT_COMPRESSION: Compression = Compression::Gzip;

/// The deadline of one attempt when `timeout` is left out: the Go exporter's HTTP client
/// timeout.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

impl Config {
    /// The compression used: `compression`, gzip when left out.
    pub fn compression(&self) -> Compression {
        self.client.compression_or(DEFAULT_COMPRESSION)
    }

    /// The deadline of one attempt: `timeout`, 30s when left out.
    pub fn timeout(&self) -> Duration {
        self.client.timeout.unwrap_or(DEFAULT_TIMEOUT)
    }

    /// The exporter helper's settings, with the client block's `timeout` as the attempt
    /// deadline (the key is the client block's, as in Go, where it is the HTTP client's).
    pub fn helper(&self) -> ExporterHelperConfig {
        ExporterHelperConfig {
            timeout: self.timeout(),
            ..self.helper.clone()
        }
    }

    /// The URL `signal` is sent to: its own endpoint as is, or the base endpoint with
    /// `/v1/<signal>` appended (as the Go exporter composes it).
    pub fn signal_url(&self, signal: Signal) -> Result<SecretUrl, ConfigError> {
        let (key, own) = match signal {
            Signal::Traces => ("traces_endpoint", &self.traces_endpoint),
            Signal::Metrics => ("metrics_endpoint", &self.metrics_endpoint),
            Signal::Logs => ("logs_endpoint", &self.logs_endpoint),
        };
        if !own.is_empty() {
            check_url(key, own)?;
            return Ok(own.clone());
        }
        let endpoint = &self.client.endpoint;
        if endpoint.is_empty() {
            return Err(ConfigError::new(format!(
                "either endpoint or {key} must be specified"
            )));
        }
        check_url("endpoint", endpoint)?;
        let base = endpoint.expose();
        let separator = if base.ends_with('/') { "" } else { "/" };
        Ok(SecretUrl::new(format!(
            "{base}{separator}v1/{}",
            signal.as_str()
        )))
    }
}

/// Checks that `url` is an http(s) URL; messages show it with its userinfo redacted.
fn check_url(key: &str, url: &SecretUrl) -> Result<(), ConfigError> {
    let parsed = reqwest::Url::parse(url.expose())
        .map_err(|e| ConfigError::at(key, format!("invalid URL \"{url}\": {e}")))?;
    match parsed.scheme() {
        "http" | "https" => Ok(()),
        other => Err(ConfigError::at(
            key,
            format!("unsupported scheme {other:?}: use http:// or https://"),
        )),
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        let endpoint = &self.client.endpoint;
        if endpoint.is_empty()
            && self.traces_endpoint.is_empty()
            && self.metrics_endpoint.is_empty()
            && self.logs_endpoint.is_empty()
            && self.profiles_endpoint.is_empty()
        {
            return Err(ConfigError::at(
                "endpoint",
                "at least one endpoint must be specified",
            ));
        }
        for (key, url) in [
            ("endpoint", endpoint),
            ("traces_endpoint", &self.traces_endpoint),
            ("metrics_endpoint", &self.metrics_endpoint),
            ("logs_endpoint", &self.logs_endpoint),
            ("profiles_endpoint", &self.profiles_endpoint),
        ] {
            if !url.is_empty() {
                check_url(key, url)?;
            }
        }
        self.client.validate(DEFAULT_COMPRESSION)?;
        self.helper().validate()
    }
}
