//! The `zipkin` receiver's configuration: the Go receiver's keys and defaults.

use serde::{Deserialize, Deserializer};
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};
use tributary_pipeline_core::confighttp::HttpServerConfig;

/// Where the receiver listens when `endpoint` is left out (Zipkin's port).
pub const DEFAULT_ENDPOINT: &str = "localhost:9411";

/// The `zipkin` receiver's configuration: the HTTP server block (`confighttp`) at the top
/// level, and `parse_string_tags`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `endpoint` (`localhost:9411`), `tls`, `cors`, `auth`, `max_request_body_size`,
    /// `include_metadata`, `response_headers`, `compression_algorithms`, the timeouts.
    #[serde(rename = "server,squash", deserialize_with = "server_over_defaults")]
    pub server: HttpServerConfig,
    /// Turn tag values that read as ints, doubles or booleans into typed attributes.
    pub parse_string_tags: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server: HttpServerConfig::with_endpoint(DEFAULT_ENDPOINT),
            parse_string_tags: false,
        }
    }
}

fn server_over_defaults<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<HttpServerConfig, D::Error> {
    HttpServerConfig::deserialize_over(Config::default().server, deserializer)
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        self.server.validate()
    }
}
