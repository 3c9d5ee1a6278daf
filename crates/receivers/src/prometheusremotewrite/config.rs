//! The `prometheusremotewrite` receiver's configuration: the Go receiver's (the HTTP server
//! block and `time_threshold`).

use serde::{Deserialize, Deserializer};
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};
use tributary_pipeline_core::confighttp::HttpServerConfig;

/// Where the receiver listens when `endpoint` is left out: the Go receiver's port, on
/// localhost (Tributary binds nothing wider unless told).
pub const DEFAULT_ENDPOINT: &str = "localhost:19291";

/// The `prometheusremotewrite` receiver's configuration: `confighttp`'s server keys at
/// the top level, and `time_threshold`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The HTTP server; `endpoint` defaults to `localhost:19291`.
    #[serde(rename = "server,squash", deserialize_with = "server_over_defaults")]
    pub server: HttpServerConfig,
    /// Samples older than this many hours are dropped (24), as in Go.
    pub time_threshold: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server: HttpServerConfig::with_endpoint(DEFAULT_ENDPOINT),
            time_threshold: 24,
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
                "not supported by the prometheusremotewrite receiver: browsers do not send remote write",
            ));
        }
        if self.time_threshold == 0 {
            return Err(ConfigError::at(
                "time_threshold",
                "must be greater than 0 (hours)",
            ));
        }
        self.server.validate()
    }
}
