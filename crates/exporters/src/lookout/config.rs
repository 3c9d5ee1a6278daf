//! The `lookout` exporter's configuration.

use std::time::Duration;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};
use tributary_pipeline_core::confighttp::{HttpClientConfig, check_http_url};
use tributary_pipeline_core::exporterhelper::ExporterHelperConfig;

use crate::client::Compression;

/// The deadline of one request when `timeout` is left out.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The `lookout` exporter's configuration: the HTTP client block, the exporter helper's
/// blocks, and what the relay says about itself.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The HTTP client block: `endpoint` (required; a URL without a path gets `/datas`),
    /// `timeout` (5s), `headers`, `tls`, `compression` (`snappy` by default, the raw block
    /// format; `none` sends plain text), `auth`, ...
    #[serde(rename = "client,squash")]
    pub client: HttpClientConfig,
    /// `retry_on_failure` and `sending_queue`.
    #[serde(rename = "helper,squash")]
    pub helper: ExporterHelperConfig,
    /// The `app` header (`lookoutgateway`, as Lookout's relay).
    pub app: String,
    /// The `Client-Ip` header; empty: not sent (the next gateway then tags points without
    /// `ip` with this gateway's address).
    pub client_ip: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            client: HttpClientConfig::default(),
            helper: ExporterHelperConfig::default(),
            app: "lookoutgateway".to_owned(),
            client_ip: String::new(),
        }
    }
}

impl Config {
    /// The deadline of one request: `timeout`, 5s when left out.
    pub fn timeout(&self) -> Duration {
        self.client.timeout.unwrap_or(DEFAULT_TIMEOUT)
    }

    /// The exporter helper's settings, with `timeout` as the attempt deadline.
    pub fn helper(&self) -> ExporterHelperConfig {
        ExporterHelperConfig {
            timeout: self.timeout(),
            ..self.helper.clone()
        }
    }

    /// The compression of request bodies: `snappy` unless configured.
    pub fn compression(&self) -> Compression {
        self.client.compression_or(Compression::Snappy)
    }

    /// The URL measurements are posted to.
    pub fn url(&self) -> Result<reqwest::Url, ConfigError> {
        let mut url = reqwest::Url::parse(self.client.endpoint.expose()).map_err(|e| {
            ConfigError::at(
                "endpoint",
                format!("invalid URL \"{}\": {e}", self.client.endpoint),
            )
        })?;
        if url.path().is_empty() || url.path() == "/" {
            url.set_path("/datas");
        }
        Ok(url)
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.client.endpoint.is_empty() {
            return Err(ConfigError::at(
                "endpoint",
                "required: the Lookout gateway's URL, such as http://gateway:7200",
            ));
        }
        check_http_url("endpoint", &self.client.endpoint)?;
        self.url()?;
        if self.app.is_empty() {
            return Err(ConfigError::at(
                "app",
                "required: a gateway refuses posts without app",
            ));
        }
        match self.compression() {
            Compression::None => {}
            Compression::Snappy => {}
            other => {
                return Err(ConfigError::at(
                    "compression",
                    format!(
                        "{other:?} is not what a Lookout gateway reads: use snappy (raw block) or none"
                    ),
                ));
            }
        }
        if !self.client_ip.is_empty() && self.client_ip.parse::<std::net::IpAddr>().is_err() {
            return Err(ConfigError::at(
                "client_ip",
                format!("{:?} is not an IP address", self.client_ip),
            ));
        }
        self.client.validate(Compression::Snappy)?;
        self.helper().validate()
    }
}
