//! The `opentsdb` receiver's configuration: the HTTP server block, the telnet listener and
//! the TSD's tag limit.

use serde::{Deserialize, Deserializer};
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};
use tributary_pipeline_core::confighttp::HttpServerConfig;
use tributary_pipeline_core::receiverhelper::TcpServerConfig;

use super::point::DEFAULT_MAX_TAGS;

/// Where the HTTP API listens when `endpoint` is left out: the TSD's port, on localhost.
pub const DEFAULT_ENDPOINT: &str = "localhost:4242";

/// The `opentsdb` receiver's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The HTTP server (`endpoint`, `tls`, `auth`, `max_request_body_size`, ...); `endpoint`
    /// defaults to `localhost:4242`.
    #[serde(rename = "server,squash", deserialize_with = "server_over_defaults")]
    pub server: HttpServerConfig,
    /// The telnet listener (`endpoint`, `max_connections`); off unless `endpoint` is set.
    pub telnet: TcpServerConfig,
    /// The most tags a point may carry, as the TSD's `tsd.storage.max_tags` (8).
    pub max_tags: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server: HttpServerConfig::with_endpoint(DEFAULT_ENDPOINT),
            telnet: TcpServerConfig::default(),
            max_tags: DEFAULT_MAX_TAGS,
        }
    }
}

fn server_over_defaults<'de, D: Deserializer<'de>>(d: D) -> Result<HttpServerConfig, D::Error> {
    HttpServerConfig::deserialize_over(Config::default().server, d)
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.server.cors.is_some() {
            return Err(ConfigError::at(
                "cors",
                "not supported by the opentsdb receiver: browsers do not put data points",
            ));
        }
        if self.max_tags == 0 {
            return Err(ConfigError::at(
                "max_tags",
                "must be at least 1: every OpenTSDB point has a tag",
            ));
        }
        self.telnet.validate().map_err(|e| e.within("telnet"))?;
        self.server.validate()
    }
}
