//! The `zipkin` receiver's configuration: the Go receiver's keys and defaults.

use crate::shared::protocols::protocols_from_map;
use serde::{Deserialize, Deserializer};
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};
use tributary_pipeline_core::confighttp::HttpServerConfig;

/// Where the receiver listens when `endpoint` is left out (Zipkin's port).
pub const DEFAULT_ENDPOINT: &str = "localhost:9411";

/// The `zipkin` receiver's configuration: the HTTP server block, either under
/// `protocols::http` (the Go receiver's form since v0.128) or at the top level (its older
/// form, still accepted), and `parse_string_tags`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `protocols::http`: the HTTP server block. When present it is the one used, and a
    /// top-level block is ignored, as in Go.
    pub protocols: Protocols,
    /// The older, top-level HTTP server block: `endpoint` (`localhost:9411`), `tls`,
    /// `cors`, `auth`, `max_request_body_size`, `include_metadata`, `response_headers`,
    /// `compression_algorithms`, the timeouts.
    #[serde(rename = "server,squash", deserialize_with = "server_over_defaults")]
    pub server: HttpServerConfig,
    /// Turn tag values that read as ints, doubles or booleans into typed attributes.
    pub parse_string_tags: bool,
}

/// `protocols`: only `http`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Protocols {
    /// `protocols::http`, when present (even with no value: then with the defaults).
    pub http: Option<HttpProtocol>,
}

/// `protocols::http`: the HTTP server block.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpProtocol {
    /// `endpoint` (`localhost:9411`) and the rest of the server block.
    #[serde(rename = "server,squash", deserialize_with = "server_over_defaults")]
    pub server: HttpServerConfig,
}

impl Default for HttpProtocol {
    fn default() -> Self {
        HttpProtocol {
            server: HttpServerConfig::with_endpoint(DEFAULT_ENDPOINT),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            protocols: Protocols::default(),
            server: HttpServerConfig::with_endpoint(DEFAULT_ENDPOINT),
            parse_string_tags: false,
        }
    }
}

impl Config {
    /// The server block in effect: `protocols::http` when present, else the top-level one.
    pub fn http_server(&self) -> &HttpServerConfig {
        match &self.protocols.http {
            Some(http) => &http.server,
            None => &self.server,
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
        match &self.protocols.http {
            Some(http) => http
                .server
                .validate()
                .map_err(|e| e.within("protocols::http")),
            None => self.server.validate(),
        }
    }
}

protocols_from_map!(Protocols, expecting: "a map with the key http", duplicate: "http", {
    "http" => http,
});
