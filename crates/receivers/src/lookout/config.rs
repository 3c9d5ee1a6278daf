//! The `lookout` receiver's configuration: the HTTP server block and the gateway's
//! enrichment settings.

use serde::{Deserialize, Deserializer};
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};
use tributary_pipeline_core::confighttp::HttpServerConfig;

/// Where the receiver listens when `endpoint` is left out: the Lookout gateway's port.
pub const DEFAULT_ENDPOINT: &str = "localhost:7200";

/// The `lookout` receiver's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The HTTP server; `endpoint` defaults to `localhost:7200`.
    #[serde(rename = "server,squash", deserialize_with = "server_over_defaults")]
    pub server: HttpServerConfig,
    /// The step in seconds that timestamps of the non-standard importers are aligned to
    /// when a request names none (`10`, Lookout's default); `-1` turns alignment off. It
    /// is also the span a standard-protocol delta counter covers.
    pub step: i64,
    /// Tokens a `/datas` client must send in `X-Lookout-Token` (or `Authorization`);
    /// empty (the default, as Lookout's no-op token filter): no check.
    pub tokens: Vec<String>,
    /// The Elasticsearch version `GET /beat` reports to Metricbeat (Lookout's `5.3.2`).
    pub elasticsearch_version: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server: HttpServerConfig::with_endpoint(DEFAULT_ENDPOINT),
            step: 10,
            tokens: Vec::new(),
            elasticsearch_version: "5.3.2".to_owned(),
        }
    }
}

fn server_over_defaults<'de, D: Deserializer<'de>>(d: D) -> Result<HttpServerConfig, D::Error> {
    HttpServerConfig::deserialize_over(Config::default().server, d)
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.step == 0 || self.step < -1 {
            return Err(ConfigError::at(
                "step",
                format!(
                    "{} is not a step: give seconds (> 0), or -1 to turn alignment off",
                    self.step
                ),
            ));
        }
        if self.tokens.iter().any(String::is_empty) {
            return Err(ConfigError::at("tokens", "a token may not be empty"));
        }
        if self
            .elasticsearch_version
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok())
            .is_none()
        {
            return Err(ConfigError::at(
                "elasticsearch_version",
                format!(
                    "{:?} is not a version such as 5.3.2",
                    self.elasticsearch_version
                ),
            ));
        }
        if self.server.cors.is_some() {
            return Err(ConfigError::at(
                "cors",
                "not supported by the lookout receiver: browsers do not push Lookout metrics",
            ));
        }
        self.server.validate()
    }
}
