//! The OTLP receiver's configuration: keys, defaults and checks follow the Go Collector's
//! `otlp` receiver (`configgrpc.ServerConfig`, `confighttp.ServerConfig`), so its configs
//! run unchanged; the additions (`admission`, the `auth::bearer_token` shorthand) are documented in the
//! module docs.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use tributary_pipeline_core::component::{
    ComponentConfig, ConfigError, check_endpoint, parse_endpoint,
};
use tributary_pipeline_core::configauth::ServerAuthConfig;
use tributary_pipeline_core::confighttp::HttpServerConfig;
use tributary_pipeline_core::configtls::TlsServerConfig;
use tributary_pipeline_core::server::DEFAULT_MAX_CONNECTIONS;

/// How long a client has to send a gRPC message: the HTTP server block's default read
/// timeout.
pub(crate) use tributary_pipeline_core::confighttp::DEFAULT_READ_TIMEOUT;

/// One mebibyte, the unit of the `*_mib` keys.
pub(crate) const MIB: u64 = 1 << 20;

/// The `otlp` receiver's configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The protocols to serve; each is enabled by its presence.
    pub protocols: Protocols,
    /// The limit on request bytes being processed at once, shared by both protocols.
    pub admission: AdmissionConfig,
}

/// The protocols the receiver serves. A protocol is enabled by its key being present, even
/// with no value (`grpc:` alone enables gRPC with its defaults), as in the Go Collector.
#[derive(Debug, Clone, Default)]
pub struct Protocols {
    /// OTLP over gRPC, when present.
    pub grpc: Option<GrpcConfig>,
    /// OTLP over HTTP, when present.
    pub http: Option<HttpConfig>,
}

/// The `transport` of a server: the Go Collector's `tcp` (its default) is the one
/// supported; `unix` sockets and the others are refused, saying so.
fn check_transport(transport: &str) -> Result<(), ConfigError> {
    if transport == "tcp" {
        return Ok(());
    }
    Err(ConfigError::at(
        "transport",
        format!("unsupported transport {transport:?}: only \"tcp\" is supported"),
    ))
}

/// OTLP/gRPC server settings (`protocols::grpc`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrpcConfig {
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

impl Default for GrpcConfig {
    fn default() -> Self {
        GrpcConfig {
            endpoint: "127.0.0.1:4317".into(),
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

impl GrpcConfig {
    /// The largest decompressed request message, in bytes.
    pub(crate) fn max_message_size(&self) -> usize {
        let mib = if self.max_recv_msg_size_mib == 0 {
            4
        } else {
            self.max_recv_msg_size_mib
        };
        bytes_of_mib(mib)
    }

    /// How long a connection that made a call may stay without one:
    /// `keepalive::server_parameters::max_connection_idle`; unset keeps it open, as in Go.
    pub(crate) fn max_connection_idle(&self) -> Option<Duration> {
        self.keepalive_parameters()?
            .max_connection_idle
            .filter(|idle| !idle.is_zero())
    }

    /// The server parameters of `keepalive`, if set.
    pub(crate) fn keepalive_parameters(&self) -> Option<&KeepaliveServerParameters> {
        self.keepalive.as_ref()?.server_parameters.as_ref()
    }

    fn validate(&self) -> Result<(), ConfigError> {
        check_endpoint(&self.endpoint).map_err(|m| ConfigError::at("endpoint", m))?;
        check_transport(&self.transport)?;
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

/// gRPC keepalive settings (`protocols::grpc::keepalive`), as in the Go Collector.
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

/// OTLP/HTTP server settings (`protocols::http`): the shared HTTP server block and the
/// paths of the three signals.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// `endpoint`, `tls`, `cors`, `auth`, limits and timeouts, at this level.
    #[serde(rename = "server,squash", deserialize_with = "server_over_defaults")]
    pub server: HttpServerConfig,
    /// The path traces are posted to.
    pub traces_url_path: String,
    /// The path metrics are posted to.
    pub metrics_url_path: String,
    /// The path logs are posted to.
    pub logs_url_path: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            server: HttpServerConfig::with_endpoint("127.0.0.1:4318"),
            traces_url_path: "/v1/traces".into(),
            metrics_url_path: "/v1/metrics".into(),
            logs_url_path: "/v1/logs".into(),
        }
    }
}

/// Decodes the server block over this receiver's defaults (its endpoint).
fn server_over_defaults<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<HttpServerConfig, D::Error> {
    HttpServerConfig::deserialize_over(HttpConfig::default().server, deserializer)
}

impl HttpConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        self.server.validate()?;
        let paths = [
            ("traces_url_path", &self.traces_url_path),
            ("metrics_url_path", &self.metrics_url_path),
            ("logs_url_path", &self.logs_url_path),
        ];
        for (i, (key, path)) in paths.iter().enumerate() {
            if path.contains(['?', '#']) || path.chars().any(char::is_whitespace) {
                return Err(ConfigError::at(
                    *key,
                    format!(
                        "invalid URL path {path:?}: must be a plain path such as \"/v1/traces\""
                    ),
                ));
            }
            let normalized = url_path(path);
            if let Some((other, _)) = paths[..i].iter().find(|(_, p)| url_path(p) == normalized) {
                return Err(ConfigError::at(
                    *key,
                    format!("{normalized:?} is already used by {other}"),
                ));
            }
        }
        if self.server.max_request_body_size > MAX_SIZE_MIB * MIB {
            return Err(ConfigError::at(
                "max_request_body_size",
                format!("must be at most {MAX_SIZE_MIB} MiB"),
            ));
        }
        Ok(())
    }
}

/// A configured URL path with the leading `/` the Go Collector adds when it is missing.
pub(crate) fn url_path(path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

/// Admission control (`admission`): a budget of request bytes the receiver processes at
/// once, shared by gRPC and HTTP. A request is weighed by its size as received before
/// anything is decoded, and by its decompressed size as that grows; a request that does
/// not fit waits while the bytes already waiting stay within `waiting_limit_mib`, and is
/// refused as throttled (HTTP 429, gRPC `RESOURCE_EXHAUSTED` with `RetryInfo`) otherwise.
/// Its bytes are released once the pipeline accepted or refused the data.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdmissionConfig {
    /// The most request bytes in process at once, in MiB; 0 disables admission control.
    pub request_limit_mib: u64,
    /// The most request bytes waiting for admission, in MiB; 0 refuses at once.
    pub waiting_limit_mib: u64,
}

impl Default for AdmissionConfig {
    fn default() -> Self {
        AdmissionConfig {
            request_limit_mib: 128,
            waiting_limit_mib: 32,
        }
    }
}

/// The largest size, in MiB, accepted for any limit: far beyond any sane request and small
/// enough that byte counts never overflow.
const MAX_SIZE_MIB: u64 = 1 << 20;

fn bytes_of_mib(mib: u64) -> usize {
    usize::try_from(mib.saturating_mul(MIB)).unwrap_or(usize::MAX)
}

impl AdmissionConfig {
    /// The request budget in bytes, `None` when admission control is off.
    pub(crate) fn request_limit(&self) -> Option<usize> {
        (self.request_limit_mib > 0).then(|| bytes_of_mib(self.request_limit_mib))
    }

    /// The waiting budget in bytes.
    pub(crate) fn waiting_limit(&self) -> usize {
        bytes_of_mib(self.waiting_limit_mib)
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        let Protocols { grpc, http } = &self.protocols;
        if grpc.is_none() && http.is_none() {
            return Err(ConfigError::at(
                "protocols",
                "must enable at least one protocol: grpc or http",
            ));
        }
        if let Some(grpc) = grpc {
            grpc.validate().map_err(|e| e.within("protocols::grpc"))?;
        }
        if let Some(http) = http {
            http.validate().map_err(|e| e.within("protocols::http"))?;
        }
        if let (Some(grpc), Some(http)) = (grpc, http)
            && let Ok(address) = parse_endpoint(&grpc.endpoint)
            && address.port() != 0
            && parse_endpoint(&http.server.endpoint) == Ok(address)
        {
            return Err(ConfigError::at(
                "protocols::http::endpoint",
                format!("{:?} is already the gRPC endpoint", http.server.endpoint),
            ));
        }
        for (key, limit_mib) in [
            ("request_limit_mib", self.admission.request_limit_mib),
            ("waiting_limit_mib", self.admission.waiting_limit_mib),
        ] {
            if limit_mib > MAX_SIZE_MIB {
                return Err(ConfigError::at(
                    format!("admission::{key}"),
                    format!("must be at most {MAX_SIZE_MIB}"),
                ));
            }
        }
        if let Some(limit) = self.admission.request_limit() {
            let largest = [
                grpc.as_ref().map(|g| {
                    (
                        "protocols::grpc::max_recv_msg_size_mib",
                        g.max_message_size(),
                    )
                }),
                http.as_ref().map(|h| {
                    (
                        "protocols::http::max_request_body_size",
                        h.server.max_body_size(),
                    )
                }),
            ];
            if let Some((key, size)) = largest.into_iter().flatten().find(|(_, s)| *s > limit) {
                return Err(ConfigError::at(
                    "admission::request_limit_mib",
                    format!(
                        "{} MiB cannot admit the largest request {key} allows ({size} bytes); \
                         raise it or set it to 0 to disable admission control",
                        self.admission.request_limit_mib
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Reads `protocols` as a map rather than a struct, so that a key present with a null value
/// (`grpc:`) enables the protocol with its defaults instead of counting as absent.
impl<'de> Deserialize<'de> for Protocols {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ProtocolsVisitor;

        impl<'de> Visitor<'de> for ProtocolsVisitor {
            type Value = Protocols;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map with the keys grpc and/or http")
            }

            fn visit_unit<E: de::Error>(self) -> Result<Protocols, E> {
                Ok(Protocols::default())
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Protocols, A::Error> {
                let mut protocols = Protocols::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "grpc" if protocols.grpc.is_none() => {
                            protocols.grpc = Some(map.next_value()?);
                        }
                        "http" if protocols.http.is_none() => {
                            protocols.http = Some(map.next_value()?);
                        }
                        "grpc" | "http" => return Err(de::Error::duplicate_field("protocol")),
                        other => return Err(de::Error::unknown_field(other, &["grpc", "http"])),
                    }
                }
                Ok(protocols)
            }
        }

        deserializer.deserialize_map(ProtocolsVisitor)
    }
}
