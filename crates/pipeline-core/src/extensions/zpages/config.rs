//! The `zpages` configuration: the Go Collector's keys.

use serde::{Deserialize, Deserializer};

use crate::component::{ComponentConfig, ConfigError};
use crate::confighttp::HttpServerConfig;

/// Where zpages listens by default: loopback only, the Go Collector's port.
pub const DEFAULT_ENDPOINT: &str = "127.0.0.1:55679";

/// The `zpages` extension's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The HTTP server (Go's `confighttp.ServerConfig`, squashed): `endpoint` (default
    /// `127.0.0.1:55679`), `tls`, `auth`, `response_headers`, limits and timeouts.
    #[serde(rename = "server,squash", deserialize_with = "server_over_defaults")]
    pub server: HttpServerConfig,
    /// `/debug/expvarz` (off by default, as in Go).
    pub expvar: Expvar,
}

/// `expvar: { enabled }`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Expvar {
    /// Serve `/debug/expvarz`: the command line and every internal metric as JSON.
    pub enabled: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server: HttpServerConfig::with_endpoint(DEFAULT_ENDPOINT),
            expvar: Expvar::default(),
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        self.server.validate()
    }
}

/// The server block's keys that are present, over zpages' defaults (its endpoint).
fn server_over_defaults<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<HttpServerConfig, D::Error> {
    HttpServerConfig::deserialize_over(Config::default().server, deserializer)
}
