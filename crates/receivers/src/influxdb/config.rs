//! The `influxdb` receiver's configuration: the Go receiver's, which is the HTTP server
//! block alone.

use serde::{Deserialize, Deserializer};
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};
use tributary_pipeline_core::confighttp::HttpServerConfig;

/// Where the receiver listens when `endpoint` is left out, as the Go receiver.
pub const DEFAULT_ENDPOINT: &str = "localhost:8086";

/// The `influxdb` receiver's configuration: `confighttp`'s server keys at the top level
/// (`endpoint`, `tls`, `auth`, `max_request_body_size`, `compression_algorithms`, ...).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The HTTP server; `endpoint` defaults to `localhost:8086`.
    #[serde(rename = "server,squash", deserialize_with = "server_over_defaults")]
    pub server: HttpServerConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server: HttpServerConfig::with_endpoint(DEFAULT_ENDPOINT),
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
                "not supported by the influxdb receiver: browsers do not write line protocol",
            ));
        }
        self.server.validate()
    }
}
