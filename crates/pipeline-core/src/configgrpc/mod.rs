//! `configgrpc`: the gRPC server block every gRPC-serving component squashes into its
//! config (the OTLP receiver's `protocols::grpc`), with the Go Collector's
//! `configgrpc.ServerConfig` keys, and the server options they make; and the gRPC client
//! block ([`GrpcClientConfig`], `configgrpc.ClientConfig`) gRPC exporters squash.
//!
//! # Server
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | the component's | where the gRPC server listens; a host name is looked up at start |
//! | `transport` | `tcp` | `tcp` (`tcp4`, `tcp6`) or `unix`, `endpoint` then being a socket path |
//! | `max_recv_msg_size_mib` | `4` | largest request message, after decompression (`0` = 4) |
//! | `max_concurrent_streams` | `0` | concurrent calls per connection; `0` keeps the default of 200 |
//! | `read_buffer_size` | `524288` | accepted for compatibility, no effect (HTTP/2 flow control sizes buffers) |
//! | `write_buffer_size` | `0` | accepted for compatibility, no effect |
//! | `keepalive::server_parameters::time` | unset | HTTP/2 ping after this much idle time |
//! | `keepalive::server_parameters::timeout` | `20s` | close when a ping is not answered in time |
//! | `keepalive::server_parameters::max_connection_age` | unset | ask older connections to go away (GOAWAY) |
//! | `keepalive::server_parameters::max_connection_age_grace` | unset (wait) | then close them after this long |
//! | `keepalive::server_parameters::max_connection_idle` | unset | ask a connection without a call for this long to go away |
//! | `keepalive::enforcement_policy::{min_time, permit_without_stream}` | unset | accepted for compatibility, no effect |
//! | `tls` | unset | serve TLS: see [`TlsServerConfig`] |
//! | `include_metadata` | `false` | attach every gRPC metadata entry to the data |
//! | `auth` | unset | `authenticator: <id>` ([`configauth`](crate::configauth)), or the `bearer_token` shorthand |
//! | `max_connections` | `4096` | connections held at once (Tributary's own key; `0`: no limit) |
//!
//! # Client
//!
//! ```yaml
//! exporters:
//!   otlp:
//!     endpoint: backend.example.com:4317
//!     tls:
//!       ca_file: /etc/otelcol/backend-ca.pem
//!     headers:
//!       x-tenant: acme
//!     keepalive:
//!       time: 30s
//!     dialer:
//!       timeout: 3s
//! ```
//!
//! [`GrpcClientConfig`] holds the keys; the component makes its channel from them (the
//! `otlp` exporter with tonic, see its docs). Defaults are Go's.
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | the component's | where to connect; its form is the component's |
//! | `compression`, `compression_params::level` | the component's | see [`configcompression`](crate::configcompression) |
//! | `tls` | TLS with the system's roots | see [`TlsClientConfig`](crate::configtls::TlsClientConfig); files are read when the component starts |
//! | `headers` | none | gRPC metadata sent with every call; values are secrets, never shown |
//! | `auth::authenticator` | unset | a client authenticator extension ([`configauth`](crate::configauth)) |
//! | `authority` | the endpoint's | `:authority` sent to the server |
//! | `keepalive::time` / `timeout` / `permit_without_stream` | off; `10s` / `10s` / `false` when the section is present | HTTP/2 pings |
//! | `dialer::timeout` | `0` | longest a connection may take to open ([`confignet`](crate::confignet)); `0`: the call's `timeout` bounds it |
//! | `balancer_name` | `round_robin` | `pick_first` or `round_robin`, both kept to one connection to the endpoint (tuning knob) |
//! | `read_buffer_size`, `write_buffer_size` | `0` | tuning knobs, accepted with no effect: HTTP/2 flow control sizes buffers |
//! | `wait_for_ready` | `false` | accepted: calls fail fast while the server is unreachable, the exporter's retry waits |
//! | `middlewares` | none | refused when not empty: Tributary has no middleware extensions |

use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::component::{ComponentError, ConfigError, CreateSettings};
use crate::configauth::ServerAuthConfig;
use crate::confighttp::{check_stream_endpoint, key_path, listen};
use crate::configtls::{self, TlsServerConfig};
use crate::server::{DEFAULT_MAX_CONNECTIONS, ServerOptions, ServerSocket};

mod client;

pub use client::{ClientKeepaliveConfig, GrpcClientConfig};

/// One mebibyte, the unit of the `*_mib` keys.
const MIB: u64 = 1 << 20;

/// The largest `max_recv_msg_size_mib` accepted.
const MAX_SIZE_MIB: u64 = 1 << 20;

fn bytes_of_mib(mib: u64) -> usize {
    usize::try_from(mib.saturating_mul(MIB)).unwrap_or(usize::MAX)
}

/// The gRPC server block (`configgrpc.ServerConfig`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrpcServerConfig {
    /// `host:port` to listen on; the host is an IP address or a host name (looked up at
    /// start, as Go does), an empty host (`:4317`) means every interface.
    pub endpoint: String,
    /// The network; only `tcp` is supported.
    pub transport: String,
    /// The largest request message accepted, in MiB, after decompression (0 = 4).
    pub max_recv_msg_size_mib: u64,
    /// The most concurrent calls per connection (HTTP/2 streams); 0 keeps the default, 200.
    pub max_concurrent_streams: u32,
    /// Accepted for compatibility with the Go Collector; has no effect.
    pub read_buffer_size: u64,
    /// Accepted for compatibility with the Go Collector; has no effect.
    pub write_buffer_size: u64,
    /// HTTP/2 keepalive and connection age.
    pub keepalive: Option<KeepaliveConfig>,
    /// Serve over TLS.
    pub tls: Option<TlsServerConfig>,
    /// Attach the request's metadata to the data it carries.
    pub include_metadata: bool,
    /// Require a bearer token.
    pub auth: Option<ServerAuthConfig>,
    /// The most connections open at once (Tributary's own key); `0`: no limit.
    pub max_connections: usize,
}

impl Default for GrpcServerConfig {
    fn default() -> Self {
        GrpcServerConfig {
            endpoint: String::new(),
            transport: "tcp".into(),
            max_recv_msg_size_mib: 4,
            max_concurrent_streams: 0,
            read_buffer_size: 512 * 1024,
            write_buffer_size: 0,
            keepalive: None,
            tls: None,
            include_metadata: false,
            auth: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl GrpcServerConfig {
    /// The largest decompressed request message, in bytes.
    pub fn max_message_size(&self) -> usize {
        let mib = if self.max_recv_msg_size_mib == 0 {
            4
        } else {
            self.max_recv_msg_size_mib
        };
        bytes_of_mib(mib)
    }

    /// How long a connection that made a call may stay without one:
    /// `keepalive::server_parameters::max_connection_idle`; unset keeps it open, as in Go.
    pub fn max_connection_idle(&self) -> Option<Duration> {
        self.keepalive_parameters()?
            .max_connection_idle
            .filter(|idle| !idle.is_zero())
    }

    /// The server parameters of `keepalive`, if set.
    pub fn keepalive_parameters(&self) -> Option<&KeepaliveServerParameters> {
        self.keepalive.as_ref()?.server_parameters.as_ref()
    }

    /// Checks every key; error paths are relative to the block.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_stream_endpoint(&self.transport, &self.endpoint)?;
        if self.max_recv_msg_size_mib > MAX_SIZE_MIB {
            return Err(ConfigError::at(
                "max_recv_msg_size_mib",
                format!("must be at most {MAX_SIZE_MIB}"),
            ));
        }
        if let Some(tls) = &self.tls {
            tls.validate().map_err(|e| e.within("tls"))?;
        }
        if let Some(auth) = &self.auth {
            auth.validate().map_err(|e| e.within("auth"))?;
        }
        Ok(())
    }
}

/// gRPC keepalive settings (`keepalive`), as in the Go Collector.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeepaliveConfig {
    /// What the server does about idle and old connections.
    pub server_parameters: Option<KeepaliveServerParameters>,
    /// Accepted for compatibility; the HTTP/2 server enforces no ping policy.
    pub enforcement_policy: Option<KeepaliveEnforcementPolicy>,
}

/// `keepalive::server_parameters`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeepaliveServerParameters {
    /// A connection without a call for this long is asked to go away (HTTP/2 `GOAWAY`).
    #[serde(with = "tributary_confmap::duration::option")]
    pub max_connection_idle: Option<Duration>,
    /// Connections older than this are asked to go away (HTTP/2 GOAWAY) and close once
    /// their calls finish.
    #[serde(with = "tributary_confmap::duration::option")]
    pub max_connection_age: Option<Duration>,
    /// How long calls may still run after `max_connection_age` before the connection is
    /// closed; unset waits for them.
    #[serde(with = "tributary_confmap::duration::option")]
    pub max_connection_age_grace: Option<Duration>,
    /// Send an HTTP/2 ping after the connection was idle this long.
    #[serde(with = "tributary_confmap::duration::option")]
    pub time: Option<Duration>,
    /// Close the connection when a ping is not answered within this (default 20s).
    #[serde(with = "tributary_confmap::duration::option")]
    pub timeout: Option<Duration>,
}

/// `keepalive::enforcement_policy`: accepted for compatibility, no effect.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeepaliveEnforcementPolicy {
    /// No effect.
    #[serde(with = "tributary_confmap::duration::option")]
    pub min_time: Option<Duration>,
    /// No effect.
    pub permit_without_stream: bool,
}

/// The keys of a [`GrpcServerConfig`] that a configuration sets.
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct PresentKeys {
    endpoint: Option<String>,
    transport: Option<String>,
    max_recv_msg_size_mib: Option<u64>,
    max_concurrent_streams: Option<u32>,
    read_buffer_size: Option<u64>,
    write_buffer_size: Option<u64>,
    keepalive: Option<KeepaliveConfig>,
    tls: Option<TlsServerConfig>,
    include_metadata: Option<bool>,
    auth: Option<ServerAuthConfig>,
    max_connections: Option<usize>,
}

impl GrpcServerConfig {
    /// The defaults, listening on `endpoint`.
    pub fn with_endpoint(endpoint: impl Into<String>) -> Self {
        GrpcServerConfig {
            endpoint: endpoint.into(),
            ..GrpcServerConfig::default()
        }
    }

    /// Decodes the keys present over `base` (a component's defaults), as
    /// [`HttpServerConfig::deserialize_over`](crate::confighttp::HttpServerConfig::deserialize_over).
    pub fn deserialize_over<'de, D: Deserializer<'de>>(
        base: GrpcServerConfig,
        deserializer: D,
    ) -> Result<GrpcServerConfig, D::Error> {
        let present = PresentKeys::deserialize(deserializer)?;
        Ok(GrpcServerConfig {
            endpoint: present.endpoint.unwrap_or(base.endpoint),
            transport: present.transport.unwrap_or(base.transport),
            max_recv_msg_size_mib: present
                .max_recv_msg_size_mib
                .unwrap_or(base.max_recv_msg_size_mib),
            max_concurrent_streams: present
                .max_concurrent_streams
                .unwrap_or(base.max_concurrent_streams),
            read_buffer_size: present.read_buffer_size.unwrap_or(base.read_buffer_size),
            write_buffer_size: present.write_buffer_size.unwrap_or(base.write_buffer_size),
            keepalive: present.keepalive.or(base.keepalive),
            tls: present.tls.or(base.tls),
            include_metadata: present.include_metadata.unwrap_or(base.include_metadata),
            auth: present.auth.or(base.auth),
            max_connections: present.max_connections.unwrap_or(base.max_connections),
        })
    }

    /// Binds the endpoint and makes the HTTP/2 server options these settings describe
    /// (TLS, connection limit, keepalive, concurrent streams, connection age). `path` is
    /// the block's config path, for error messages.
    pub async fn bind(
        &self,
        settings: &CreateSettings,
        path: &str,
    ) -> Result<(ServerSocket, ServerOptions), ComponentError> {
        let key = |key: &str| key_path(path, key);
        let tls = match &self.tls {
            Some(tls) => Some(configtls::acceptor(tls, &key("tls"), configtls::ALPN_GRPC).await?),
            None => None,
        };
        let listener = listen(settings, &self.transport, &self.endpoint, &key("endpoint")).await?;
        let mut options = ServerOptions::http2_only();
        options.tls = tls;
        options.limits.max_connections = self.max_connections;
        // Like grpc-go, an idle connection stays open unless `max_connection_idle` is set;
        // one that never makes a call is closed after that, or after the default idle
        // timeout.
        options.limits.idle_timeout = self.max_connection_idle();
        options.limits.first_request_timeout = self
            .max_connection_idle()
            .or(options.limits.first_request_timeout);
        let parameters = self.keepalive_parameters();
        {
            let mut http2 = options.http.http2();
            if self.max_concurrent_streams > 0 {
                http2.max_concurrent_streams(self.max_concurrent_streams);
            }
            if let Some(time) = parameters.and_then(|p| p.time) {
                http2.keep_alive_interval(time);
            }
            if let Some(timeout) = parameters.and_then(|p| p.timeout) {
                http2.keep_alive_timeout(timeout);
            }
        }
        options.max_age = parameters.and_then(|p| p.max_connection_age);
        options.max_age_grace = parameters.and_then(|p| p.max_connection_age_grace);
        Ok((listener, options))
    }
}
