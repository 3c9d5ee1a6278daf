//! The `falcon` receiver's configuration: which of the transfer's (and agent's) listeners
//! to serve, each enabled by its key under `protocols`.

use std::time::Duration;

use serde::{Deserialize, Deserializer};
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};
use tributary_pipeline_core::confighttp::HttpServerConfig;
use tributary_pipeline_core::receiverhelper::TcpServerConfig;

use crate::shared::protocols::protocols_from_map;

/// The HTTP listener's default, the transfer's `http.listen` (`:6060`).
pub const DEFAULT_HTTP_ENDPOINT: &str = "localhost:6060";
/// The JSON-RPC listener's default, the transfer's `rpc.listen` (`:8433`).
pub const DEFAULT_RPC_ENDPOINT: &str = "localhost:8433";
/// The telnet listener's default, the transfer's `socket.listen` (`:4444`).
pub const DEFAULT_TELNET_ENDPOINT: &str = "localhost:4444";
/// The telnet read timeout's default, the transfer's `socket.timeout` (3600 s).
pub const DEFAULT_TELNET_TIMEOUT: Duration = Duration::from_secs(3600);
/// The largest JSON-RPC message taken by default (as `confighttp`'s body limit).
pub const DEFAULT_MAX_REQUEST_SIZE: usize = 20 * 1024 * 1024;
/// Items a telnet session holds before they are forwarded early, by default.
pub const DEFAULT_MAX_HELD_ITEMS: usize = 10_000;

/// The `falcon` receiver's configuration.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The listeners to serve; each is enabled by its presence.
    pub protocols: Protocols,
}

/// The listeners, each enabled by its key being present, even with no value.
#[derive(Clone, Debug, Default)]
pub struct Protocols {
    /// `POST /v1/push` (the agent's) and `POST /api/push` (the transfer's).
    pub http: Option<HttpConfig>,
    /// The transfer's JSON-RPC 1.0 over TCP: `Transfer.Update`, `Transfer.Ping`.
    pub rpc: Option<RpcConfig>,
    /// The transfer's telnet `update` lines.
    pub telnet: Option<TelnetConfig>,
}

/// `protocols::http`: the shared HTTP server block.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// `endpoint` (default `localhost:6060`), `tls`, `auth`, limits and timeouts.
    #[serde(rename = "server,squash", deserialize_with = "http_over_defaults")]
    pub server: HttpServerConfig,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            server: HttpServerConfig::with_endpoint(DEFAULT_HTTP_ENDPOINT),
        }
    }
}

fn http_over_defaults<'de, D: Deserializer<'de>>(d: D) -> Result<HttpServerConfig, D::Error> {
    HttpServerConfig::deserialize_over(HttpConfig::default().server, d)
}

/// `protocols::rpc`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RpcConfig {
    /// `endpoint` (default `localhost:8433`) and `max_connections`.
    #[serde(rename = "server,squash")]
    pub server: TcpServerConfig,
    /// The largest message taken; a larger one closes the connection.
    pub max_request_size: usize,
}

impl Default for RpcConfig {
    fn default() -> Self {
        RpcConfig {
            server: TcpServerConfig::default(),
            max_request_size: DEFAULT_MAX_REQUEST_SIZE,
        }
    }
}

/// `protocols::telnet`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelnetConfig {
    /// `endpoint` (default `localhost:4444`) and `max_connections`.
    #[serde(rename = "server,squash")]
    pub server: TcpServerConfig,
    /// How long a session may wait for its next line before it ends (and its items are
    /// forwarded), the transfer's `socket.timeout`.
    #[serde(with = "tributary_confmap::duration")]
    pub timeout: Duration,
    /// Items a session holds before forwarding them early (Tributary's own key: Falcon holds
    /// every item until the session ends, without bound).
    pub max_held_items: usize,
}

impl Default for TelnetConfig {
    fn default() -> Self {
        TelnetConfig {
            server: TcpServerConfig::default(),
            timeout: DEFAULT_TELNET_TIMEOUT,
            max_held_items: DEFAULT_MAX_HELD_ITEMS,
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        let Protocols { http, rpc, telnet } = &self.protocols;
        if http.is_none() && rpc.is_none() && telnet.is_none() {
            return Err(ConfigError::at(
                "protocols",
                "must enable at least one protocol: http, rpc or telnet",
            ));
        }
        if let Some(http) = http {
            if http.server.cors.is_some() {
                return Err(ConfigError::at(
                    "protocols::http::cors",
                    "not supported by the falcon receiver: browsers do not push Falcon metrics",
                ));
            }
            http.server
                .validate()
                .map_err(|e| e.within("protocols::http"))?;
        }
        if let Some(rpc) = rpc {
            rpc.server
                .validate()
                .map_err(|e| e.within("protocols::rpc"))?;
            if rpc.max_request_size == 0 {
                return Err(ConfigError::at(
                    "protocols::rpc::max_request_size",
                    "must be at least 1",
                ));
            }
        }
        if let Some(telnet) = telnet {
            telnet
                .server
                .validate()
                .map_err(|e| e.within("protocols::telnet"))?;
            if telnet.timeout.is_zero() {
                return Err(ConfigError::at(
                    "protocols::telnet::timeout",
                    "must be greater than 0",
                ));
            }
            if telnet.max_held_items == 0 {
                return Err(ConfigError::at(
                    "protocols::telnet::max_held_items",
                    "must be at least 1",
                ));
            }
        }
        Ok(())
    }
}

protocols_from_map!(Protocols, expecting: "a map with the keys http, rpc, telnet", duplicate: "protocol", {
    "http" => http,
    "rpc" => rpc,
    "telnet" => telnet,
});
