//! The `zipkin` exporter's configuration: the Go exporter's keys and defaults.

use std::time::Duration;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};
use tributary_pipeline_core::confighttp::{HttpClientConfig, check_http_url};
use tributary_pipeline_core::exporterhelper::ExporterHelperConfig;

use crate::client::Compression;

/// The body format: `json` (default) or `proto`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Zipkin v2 JSON, `application/json`.
    #[default]
    Json,
    /// Zipkin v2 protobuf (`zipkin2.ListOfSpans`), `application/x-protobuf`.
    Proto,
}

/// The service name of spans whose resource names none, as in Go.
pub const DEFAULT_SERVICE_NAME: &str = "<missing service name>";

/// The deadline of one attempt when `timeout` is left out: the Go exporter's.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// No compression when `compression` is left out: the Go exporter's client default.
pub(crate) const DEFAULT_COMPRESSION: Compression = Compression::None;

/// The `zipkin` exporter's configuration: the HTTP client block (`endpoint` required),
/// `format`, `default_service_name`, and the exporter helper's `retry_on_failure` and
/// `sending_queue`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `json` or `proto`.
    pub format: Format,
    /// The local service name of spans whose resource has none.
    pub default_service_name: String,
    /// The HTTP client block: `endpoint` (the full URL, e.g.
    /// `http://zipkin:9411/api/v2/spans`), `tls`, `headers`, `compression`, `timeout`
    /// (5s), `auth`, `proxy_url`, the connection pool's keys and `dialer`.
    #[serde(rename = "client,squash")]
    pub client: HttpClientConfig,
    /// `retry_on_failure` and `sending_queue`; `timeout` is the client block's.
    #[serde(rename = "helper,squash")]
    pub helper: ExporterHelperConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            format: Format::Json,
            default_service_name: DEFAULT_SERVICE_NAME.into(),
            client: HttpClientConfig::default(),
            helper: ExporterHelperConfig::default(),
        }
    }
}

impl Config {
    /// The compression used: `compression`, none when left out.
    pub fn compression(&self) -> Compression {
        self.client.compression_or(DEFAULT_COMPRESSION)
    }

    /// The deadline of one attempt: `timeout`, 5s when left out.
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
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.client.endpoint.is_empty() {
            return Err(ConfigError::at(
                "endpoint",
                "endpoint required: the Zipkin URL spans are posted to, e.g. \
                 http://zipkin:9411/api/v2/spans",
            ));
        }
        check_http_url("endpoint", &self.client.endpoint)?;
        self.client.validate(DEFAULT_COMPRESSION)?;
        self.helper().validate()
    }
}
