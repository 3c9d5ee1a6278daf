//! The `deepflow` receiver's configuration: the HTTP server block, listening where a
//! DeepFlow agent's integration collector listens.

use serde::{Deserialize, Deserializer};
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};
use tributary_pipeline_core::confighttp::HttpServerConfig;

/// Where the receiver listens when `endpoint` is left out: the DeepFlow agent's
/// `inputs.integration.listen_port`, on every interface as the agent listens, so senders
/// configured for an agent reach it unchanged.
pub const DEFAULT_ENDPOINT: &str = "localhost:38086";

/// The `deepflow` receiver's configuration: `confighttp`'s server keys at the top level.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The HTTP server; `endpoint` defaults to `localhost:38086`.
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
                "not supported by the deepflow receiver: its senders are agents, not browsers",
            ));
        }
        self.server.validate()
    }
}
