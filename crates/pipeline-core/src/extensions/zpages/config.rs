//! The `zpages` configuration: the Go Collector's keys.

use serde::Deserialize;

use crate::component::{ComponentConfig, ConfigError, check_endpoint};

/// Where zpages listens by default: loopback only, the Go Collector's port.
pub const DEFAULT_ENDPOINT: &str = "127.0.0.1:55679";

/// The `zpages` extension's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to serve on: `ip:port`, `[ipv6]:port`, `localhost:port` or `:port` (every
    /// interface). Default `127.0.0.1:55679`.
    pub endpoint: String,
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
            endpoint: DEFAULT_ENDPOINT.into(),
            expvar: Expvar::default(),
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        check_endpoint(&self.endpoint).map_err(|message| ConfigError::at("endpoint", message))
    }
}
