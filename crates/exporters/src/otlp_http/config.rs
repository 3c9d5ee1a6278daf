//! The `otlp_http` exporter's configuration.

use std::time::Duration;

use serde::{Deserialize, Deserializer};
use tributary_pipeline_core::component::{ComponentConfig, ConfigError, SecretUrl};
use tributary_pipeline_core::configauth::AuthConfig;
use tributary_pipeline_core::exporterhelper::ExporterHelperConfig;
use tributary_pipeline_core::pdata::Signal;

use crate::client::{Compression, CompressionParams, Headers, TlsClientConfig};

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
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Base URL; `/v1/traces`, `/v1/metrics` and `/v1/logs` are appended. Userinfo
    /// (`user:password@`) is sent as basic authentication and never shown.
    pub endpoint: SecretUrl,
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
    /// `gzip` (default), `zstd` or `none`.
    pub compression: Compression,
    /// Compression tuning.
    pub compression_params: CompressionParams,
    /// Headers sent with every request.
    pub headers: Headers,
    /// The client authenticator extension setting each request's credentials.
    pub auth: Option<AuthConfig>,
    /// `cookies`: keep the cookies the backend sets and send them back (sticky sessions
    /// behind a load balancer).
    pub cookies: CookiesConfig,
    /// TLS settings for `https://` URLs.
    pub tls: TlsClientConfig,
    /// Send requests through this HTTP(S) proxy; its userinfo authenticates to the proxy
    /// and is never shown.
    pub proxy_url: SecretUrl,
    /// Accepted for compatibility; hyper sizes its buffers itself.
    pub read_buffer_size: usize,
    /// Accepted for compatibility; hyper sizes its buffers itself.
    pub write_buffer_size: usize,
    /// Accepted for compatibility: connections are pooled per host (`max_idle_conns_per_host`).
    pub max_idle_conns: Option<usize>,
    /// Idle connections kept per host.
    pub max_idle_conns_per_host: Option<usize>,
    /// Accepted for compatibility: not enforced.
    pub max_conns_per_host: Option<usize>,
    /// Close idle connections after this long (90s).
    #[serde(with = "tributary_confmap::duration::option")]
    pub idle_conn_timeout: Option<Duration>,
    /// Open a new connection for every request.
    pub disable_keep_alives: bool,
    /// HTTP/2: ping a connection idle for this long (0: no pings).
    #[serde(with = "tributary_confmap::duration")]
    pub http2_read_idle_timeout: Duration,
    /// HTTP/2: close the connection if a ping is not answered within this (15s).
    #[serde(with = "tributary_confmap::duration")]
    pub http2_ping_timeout: Duration,
    /// `timeout` (the deadline of one attempt, response included: 30s, as the Go
    /// exporter's HTTP client), `retry_on_failure` and `sending_queue`.
    #[serde(rename = "helper,squash", deserialize_with = "helper_over_defaults")]
    pub helper: ExporterHelperConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            endpoint: SecretUrl::default(),
            traces_endpoint: SecretUrl::default(),
            metrics_endpoint: SecretUrl::default(),
            logs_endpoint: SecretUrl::default(),
            profiles_endpoint: SecretUrl::default(),
            encoding: Encoding::Proto,
            compression: Compression::Gzip,
            compression_params: CompressionParams::default(),
            headers: Headers::default(),
            auth: None,
            cookies: CookiesConfig::default(),
            tls: TlsClientConfig::default(),
            proxy_url: SecretUrl::default(),
            read_buffer_size: 0,
            write_buffer_size: 512 * 1024,
            max_idle_conns: None,
            max_idle_conns_per_host: None,
            max_conns_per_host: None,
            idle_conn_timeout: None,
            disable_keep_alives: false,
            http2_read_idle_timeout: Duration::ZERO,
            http2_ping_timeout: Duration::ZERO,
            helper: ExporterHelperConfig {
                timeout: Duration::from_secs(30),
                ..ExporterHelperConfig::default()
            },
        }
    }
}

/// `cookies`: the Go Collector's `confighttp` cookie jar.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CookiesConfig {
    /// Keep cookies in a jar, per exporter, in memory.
    pub enabled: bool,
}

/// Decodes the helper's keys over this exporter's defaults, so that a `timeout` left out
/// is 30s rather than the helper's 5s.
fn helper_over_defaults<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<ExporterHelperConfig, D::Error> {
    ExporterHelperConfig::deserialize_over(Config::default().helper, deserializer)
}

impl Config {
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
        if self.endpoint.is_empty() {
            return Err(ConfigError::new(format!(
                "either endpoint or {key} must be specified"
            )));
        }
        check_url("endpoint", &self.endpoint)?;
        let base = self.endpoint.expose();
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
        if self.endpoint.is_empty()
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
            ("endpoint", &self.endpoint),
            ("traces_endpoint", &self.traces_endpoint),
            ("metrics_endpoint", &self.metrics_endpoint),
            ("logs_endpoint", &self.logs_endpoint),
            ("profiles_endpoint", &self.profiles_endpoint),
        ] {
            if !url.is_empty() {
                check_url(key, url)?;
            }
        }
        if !self.proxy_url.is_empty() {
            check_url("proxy_url", &self.proxy_url)?;
        }
        self.compression_params
            .validate(self.compression)
            .map_err(|e| e.within("compression_params"))?;
        self.tls.validate().map_err(|e| e.within("tls"))?;
        self.headers.validate().map_err(|e| e.within("headers"))?;
        if let Some(auth) = &self.auth {
            auth.validate().map_err(|e| e.within("auth"))?;
        }
        self.helper.validate()
    }
}
