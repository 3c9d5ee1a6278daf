//! The gRPC client block (`configgrpc.ClientConfig`), squashed by gRPC exporters.

use std::time::Duration;

use serde::Deserialize;

use crate::component::{ConfigError, SecretUrl};
use crate::configauth::AuthConfig;
use crate::configcompression::{Compression, CompressionParams};
use crate::confighttp::{Headers, MiddlewareConfig, refuse_middlewares};
use crate::confignet::DialerConfig;
use crate::configtls::TlsClientConfig;

/// The gRPC client block (`configgrpc.ClientConfig`): where and how a client makes its
/// calls. See the [module docs](super) for the keys and what each does here.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrpcClientConfig {
    /// Where to connect; its form is the component's to check.
    pub endpoint: SecretUrl,
    /// How messages are compressed; unset: the component's default.
    pub compression: Option<Compression>,
    /// Compression tuning (`level`).
    pub compression_params: CompressionParams,
    /// TLS settings.
    pub tls: TlsClientConfig,
    /// HTTP/2 keepalive pings; present (`keepalive: {}` at least) turns them on.
    pub keepalive: Option<ClientKeepaliveConfig>,
    /// Accepted for compatibility: HTTP/2 flow control sizes the buffers.
    pub read_buffer_size: usize,
    /// Accepted for compatibility: HTTP/2 flow control sizes the buffers.
    pub write_buffer_size: usize,
    /// Accepted for compatibility: a call fails fast while the server is unreachable.
    pub wait_for_ready: bool,
    /// gRPC metadata sent with every call.
    pub headers: Headers,
    /// `pick_first` or `round_robin`; both keep one connection to the endpoint.
    pub balancer_name: String,
    /// The `:authority` to send instead of the endpoint's.
    pub authority: String,
    /// The client authenticator extension setting each call's credentials.
    pub auth: Option<AuthConfig>,
    /// Middleware extensions; not supported, refused when non-empty.
    pub middlewares: Vec<MiddlewareConfig>,
    /// How connections are opened.
    pub dialer: DialerConfig,
}

/// `keepalive` of a gRPC client (`keepalive.ClientParameters`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientKeepaliveConfig {
    /// Ping after this long without activity (10s); 0 sends no pings.
    #[serde(with = "tributary_confmap::duration")]
    pub time: Duration,
    /// Close the connection if a ping is not answered within this (10s).
    #[serde(with = "tributary_confmap::duration")]
    pub timeout: Duration,
    /// Ping even when no call is in flight.
    pub permit_without_stream: bool,
}

impl Default for ClientKeepaliveConfig {
    fn default() -> Self {
        ClientKeepaliveConfig {
            time: Duration::from_secs(10),
            timeout: Duration::from_secs(10),
            permit_without_stream: false,
        }
    }
}

impl GrpcClientConfig {
    /// The compression to use: `compression`, or `default` when unset.
    pub fn compression_or(&self, default: Compression) -> Compression {
        self.compression.unwrap_or(default)
    }

    /// Checks every key but `endpoint`, whose form the component decides, with
    /// `default_compression` the component's; errors name their key.
    pub fn validate(&self, default_compression: Compression) -> Result<(), ConfigError> {
        self.compression_params
            .validate(self.compression_or(default_compression))
            .map_err(|e| e.within("compression_params"))?;
        self.tls.validate().map_err(|e| e.within("tls"))?;
        self.headers.validate().map_err(|e| e.within("headers"))?;
        if let Some(auth) = &self.auth {
            auth.validate().map_err(|e| e.within("auth"))?;
        }
        if !matches!(
            self.balancer_name.as_str(),
            "" | "pick_first" | "round_robin"
        ) {
            return Err(ConfigError::at(
                "balancer_name",
                format!(
                    "unknown balancer {:?}: use pick_first or round_robin",
                    self.balancer_name
                ),
            ));
        }
        if !self.authority.is_empty() && self.authority.parse::<http::uri::Authority>().is_err() {
            return Err(ConfigError::at("authority", "must be host[:port]"));
        }
        refuse_middlewares(&self.middlewares)
    }
}
