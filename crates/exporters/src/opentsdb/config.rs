//! The `opentsdb` exporter's configuration: the shared HTTP client block, the exporter
//! helper's queue and retry, and how points are sent.

use std::time::Duration;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError, check_endpoint};
use tributary_pipeline_core::confighttp::{HttpClientConfig, check_http_url};
use tributary_pipeline_core::exporterhelper::ExporterHelperConfig;

use crate::client::Compression;

/// Points per `/api/put` request when `max_points_per_request` is left out: OpenTSDB's
/// advice.
pub const DEFAULT_MAX_POINTS_PER_REQUEST: usize = 50;

/// The deadline of one request when `timeout` is left out.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// How points travel to the TSD.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `POST /api/put?details`, each point answered.
    Http,
    /// `put` lines over TCP, answered only on error (never read).
    Telnet,
}

/// `resource_to_telemetry_conversion`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResourceToTelemetryConfig {
    /// Add every resource attribute to every point's tags (over a point attribute of the
    /// same name).
    pub enabled: bool,
}

/// The `opentsdb` exporter's configuration.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The HTTP client block: `endpoint` (required: the TSD's URL, `/api/put` added when
    /// it has no path; with `protocol: telnet`, `host:port`), `timeout` (5s), `headers`,
    /// `tls`, `compression` (none), `auth`, the pool's keys.
    #[serde(rename = "client,squash")]
    pub client: HttpClientConfig,
    /// `retry_on_failure` and `sending_queue`; `timeout` is the client block's.
    #[serde(rename = "helper,squash")]
    pub helper: ExporterHelperConfig,
    /// `http` (default) or `telnet`.
    pub protocol: String,
    /// The most points in one `/api/put` request (50).
    pub max_points_per_request: usize,
    /// Resource attributes as tags of every point.
    pub resource_to_telemetry_conversion: ResourceToTelemetryConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            client: HttpClientConfig::default(),
            helper: ExporterHelperConfig::default(),
            protocol: "http".into(),
            max_points_per_request: DEFAULT_MAX_POINTS_PER_REQUEST,
            resource_to_telemetry_conversion: ResourceToTelemetryConfig::default(),
        }
    }
}

impl Config {
    /// The protocol `protocol` names.
    pub fn protocol(&self) -> Result<Protocol, ConfigError> {
        match self.protocol.as_str() {
            "http" => Ok(Protocol::Http),
            "telnet" => Ok(Protocol::Telnet),
            other => Err(ConfigError::at(
                "protocol",
                format!("unknown protocol {other:?}: use \"http\" or \"telnet\""),
            )),
        }
    }

    /// The deadline of one request: `timeout`, 5s when left out.
    pub fn timeout(&self) -> Duration {
        self.client.timeout.unwrap_or(DEFAULT_TIMEOUT)
    }

    /// The exporter helper's settings, with the client block's `timeout` as the attempt
    /// deadline.
    pub fn helper(&self) -> ExporterHelperConfig {
        ExporterHelperConfig {
            timeout: self.timeout(),
            ..self.helper.clone()
        }
    }

    /// The `/api/put` URL, with `details` asked for so each failed point is named.
    pub fn put_url(&self) -> Result<reqwest::Url, ConfigError> {
        let endpoint = self.client.endpoint.expose();
        let mut url = reqwest::Url::parse(endpoint).map_err(|e| {
            ConfigError::at(
                "endpoint",
                format!("invalid URL \"{}\": {e}", self.client.endpoint),
            )
        })?;
        if url.path().is_empty() || url.path() == "/" {
            url.set_path("/api/put");
        }
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !matches!(k.as_ref(), "details" | "summary"))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        url.query_pairs_mut()
            .clear()
            .extend_pairs(kept)
            .append_key_only("details");
        Ok(url)
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.client.endpoint.is_empty() {
            return Err(ConfigError::at(
                "endpoint",
                "required: the TSD's URL (http) or host:port (telnet)",
            ));
        }
        match self.protocol()? {
            Protocol::Http => {
                check_http_url("endpoint", &self.client.endpoint)?;
                self.put_url()?;
                self.client.validate(Compression::None)?;
            }
            Protocol::Telnet => {
                check_endpoint(self.client.endpoint.expose()).map_err(|e| {
                    ConfigError::at(
                        "endpoint",
                        format!("invalid telnet endpoint (host:port): {e}"),
                    )
                })?;
                if self.client.auth.is_some() {
                    return Err(ConfigError::at(
                        "auth",
                        "the telnet protocol has no authentication: use protocol: http",
                    ));
                }
            }
        }
        if self.max_points_per_request == 0 {
            return Err(ConfigError::at(
                "max_points_per_request",
                "must be at least 1",
            ));
        }
        self.helper().validate()
    }
}
