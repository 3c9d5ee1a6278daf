//! The `collectd` receiver's configuration: the Go `collectdreceiver` keys and defaults.

use std::time::Duration;

use serde::{Deserialize, Deserializer};
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};
use tributary_pipeline_core::confighttp::HttpServerConfig;

/// The default `endpoint`, as Go's.
pub const DEFAULT_ENDPOINT: &str = "localhost:8081";

/// The default `timeout`, as Go's.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The `collectd` receiver's configuration.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The HTTP server block (`confighttp.ServerConfig`), at the receiver's top level.
    #[serde(rename = "server,squash", deserialize_with = "server_over_defaults")]
    pub server: HttpServerConfig,
    /// The server's read and write timeout: the time a client has to send its request and
    /// the receiver to answer it (`0`: none). It replaces `read_timeout` and
    /// `write_timeout`, as in Go.
    #[serde(with = "tributary_confmap::duration")]
    pub timeout: Duration,
    /// Only `json` (any case): what `write_http` sends with `Format "JSON"`.
    pub encoding: String,
    /// Query parameters whose names start with this become attributes of every point of
    /// the request, without the prefix (`?dap_env=prod` gives `env=prod`); empty: none.
    pub attributes_prefix: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server: HttpServerConfig::with_endpoint(DEFAULT_ENDPOINT),
            timeout: DEFAULT_TIMEOUT,
            encoding: "json".into(),
            attributes_prefix: String::new(),
        }
    }
}

fn server_over_defaults<'de, D: Deserializer<'de>>(d: D) -> Result<HttpServerConfig, D::Error> {
    HttpServerConfig::deserialize_over(Config::default().server, d)
}

impl Config {
    /// The server block as served: `timeout` as its read and write timeouts.
    pub fn served(&self) -> HttpServerConfig {
        HttpServerConfig {
            read_timeout: self.timeout,
            write_timeout: self.timeout,
            ..self.server.clone()
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        self.server.validate()?;
        if !self.encoding.eq_ignore_ascii_case("json") {
            return Err(ConfigError::at(
                "encoding",
                format!(
                    "collectd only supports the JSON encoding (write_http's Format \"JSON\"); {:?} is not supported",
                    self.encoding
                ),
            ));
        }
        if self.server.include_metadata {
            return Err(ConfigError::at(
                "include_metadata",
                "not supported by the collectd receiver: its data carries no client metadata",
            ));
        }
        if self.server.cors.is_some() {
            return Err(ConfigError::at(
                "cors",
                "not supported by the collectd receiver: collectd is not a browser, and the receiver answers no preflight requests",
            ));
        }
        Ok(())
    }
}
