//! The OTLP receiver's configuration: keys, defaults and checks follow the Go Collector's
//! `otlp` receiver (`configgrpc.ServerConfig`, `confighttp.ServerConfig`), so its configs
//! run unchanged; the additions (`admission`, the `auth::bearer_token` shorthand) are documented in the
//! module docs.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use std::sync::Arc;

use tributary_pipeline_core::component::{
    ComponentConfig, ComponentError, ConfigError, Host, SecretString, check_endpoint,
    parse_endpoint,
};
use tributary_pipeline_core::configauth::{self, ServerAuthenticator};
use tributary_pipeline_core::configcompression::Encoding;
use tributary_pipeline_core::configtls::TlsServerConfig;
use tributary_pipeline_core::extensions::bearertokenauth;
use tributary_pipeline_core::server::{
    DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_READ_HEADER_TIMEOUT,
};

/// How long a client has to send a request body (HTTP) or message (gRPC) by default. The
/// Go Collector sets no limit, which lets a client trickling a body hold a connection and
/// its buffer forever.
pub(crate) const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(60);

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
    pub auth: Option<AuthConfig>,
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

/// OTLP/HTTP server settings (`protocols::http`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// `host:port` to listen on; as for gRPC.
    pub endpoint: String,
    /// The network (confighttp's `transport`); only `tcp` is supported, as for gRPC.
    pub transport: String,
    /// The path traces are posted to.
    pub traces_url_path: String,
    /// The path metrics are posted to.
    pub metrics_url_path: String,
    /// The path logs are posted to.
    pub logs_url_path: String,
    /// The largest request body, in bytes, both as received and after decompression
    /// (0 = 20 MiB).
    pub max_request_body_size: u64,
    /// Attach the request's headers to the data it carries.
    pub include_metadata: bool,
    /// Cross-origin requests from browsers.
    pub cors: Option<CorsConfig>,
    /// Serve over TLS.
    pub tls: Option<TlsServerConfig>,
    /// Require a bearer token.
    pub auth: Option<AuthConfig>,
    /// How long a client has to send a request's headers (`0`: no limit).
    #[serde(with = "tributary_confmap::duration")]
    pub read_header_timeout: Duration,
    /// How long a client has to send a request's body once its headers arrived (`0`: no
    /// limit). Go's default is no limit; Tributary's is one minute.
    #[serde(with = "tributary_confmap::duration")]
    pub read_timeout: Duration,
    /// A connection without a request for this long is closed (`0`: kept open).
    #[serde(with = "tributary_confmap::duration")]
    pub idle_timeout: Duration,
    /// The most connections open at once (Tributary's own key); `0`: no limit.
    pub max_connections: usize,
    /// The `Content-Encoding`s accepted; the Go Collector's list by default.
    pub compression_algorithms: Vec<String>,
}

/// The Go Collector's default `compression_algorithms` (`""` is no compression).
pub const DEFAULT_COMPRESSION_ALGORITHMS: [&str; 7] =
    ["", "gzip", "zstd", "zlib", "snappy", "deflate", "lz4"];

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            endpoint: "127.0.0.1:4318".into(),
            transport: "tcp".into(),
            traces_url_path: "/v1/traces".into(),
            metrics_url_path: "/v1/metrics".into(),
            logs_url_path: "/v1/logs".into(),
            max_request_body_size: 20 * MIB,
            include_metadata: false,
            cors: None,
            tls: None,
            auth: None,
            read_header_timeout: DEFAULT_READ_HEADER_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            compression_algorithms: DEFAULT_COMPRESSION_ALGORITHMS
                .iter()
                .map(|name| name.to_string())
                .collect(),
        }
    }
}

impl HttpConfig {
    /// The encodings `compression_algorithms` accepts (an empty list: Go's defaults).
    pub(crate) fn encodings(&self) -> Vec<Encoding> {
        let names: Vec<&str> = if self.compression_algorithms.is_empty() {
            DEFAULT_COMPRESSION_ALGORITHMS.to_vec()
        } else {
            self.compression_algorithms
                .iter()
                .map(String::as_str)
                .collect()
        };
        names.into_iter().filter_map(Encoding::from_http).collect()
    }

    /// `read_header_timeout`, `None` when it is `0`.
    pub(crate) fn read_header_timeout(&self) -> Option<Duration> {
        non_zero(self.read_header_timeout)
    }

    /// `read_timeout`, `None` when it is `0`.
    pub(crate) fn read_timeout(&self) -> Option<Duration> {
        non_zero(self.read_timeout)
    }

    /// `idle_timeout`, `None` when it is `0`.
    pub(crate) fn idle_timeout(&self) -> Option<Duration> {
        non_zero(self.idle_timeout)
    }

    /// The largest body, raw or decompressed, in bytes.
    pub(crate) fn max_body_size(&self) -> usize {
        let size = if self.max_request_body_size == 0 {
            20 * MIB
        } else {
            self.max_request_body_size
        };
        usize::try_from(size).unwrap_or(usize::MAX)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        check_endpoint(&self.endpoint).map_err(|m| ConfigError::at("endpoint", m))?;
        check_transport(&self.transport)?;
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
        if self.max_request_body_size > MAX_SIZE_MIB * MIB {
            return Err(ConfigError::at(
                "max_request_body_size",
                format!("must be at most {MAX_SIZE_MIB} MiB"),
            ));
        }
        for (i, name) in self.compression_algorithms.iter().enumerate() {
            if Encoding::from_http(name).is_none() {
                return Err(ConfigError::at(
                    format!("compression_algorithms::{i}"),
                    format!(
                        "unknown compression {name:?}: use \"\", gzip, zstd, zlib, deflate, \
                         snappy, x-snappy-framed or lz4"
                    ),
                ));
            }
        }
        if let Some(cors) = &self.cors {
            cors.validate().map_err(|e| e.within("cors"))?;
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

fn non_zero(duration: Duration) -> Option<Duration> {
    (!duration.is_zero()).then_some(duration)
}

/// A configured URL path with the leading `/` the Go Collector adds when it is missing.
pub(crate) fn url_path(path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

/// Cross-origin resource sharing for OTLP/HTTP (`protocols::http::cors`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CorsConfig {
    /// Origins allowed to post (`https://app.example.com`); one `*` may stand for any run
    /// of characters (`https://*.example.com`), and `*` alone allows every origin. Empty
    /// disables CORS.
    pub allowed_origins: Vec<String>,
    /// Request headers allowed besides the CORS-safelisted ones; `*` allows any.
    pub allowed_headers: Vec<String>,
    /// How long, in seconds, a browser may cache a preflight answer (0 = not sent).
    pub max_age: u64,
}

impl CorsConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        for (i, origin) in self.allowed_origins.iter().enumerate() {
            if origin.matches('*').count() > 1 {
                return Err(ConfigError::at(
                    format!("allowed_origins::{i}"),
                    format!("{origin:?} has more than one \"*\""),
                ));
            }
        }
        for (i, header) in self.allowed_headers.iter().enumerate() {
            if header != "*" && http::HeaderName::from_bytes(header.as_bytes()).is_err() {
                return Err(ConfigError::at(
                    format!("allowed_headers::{i}"),
                    format!("{header:?} is not a valid header name"),
                ));
            }
        }
        Ok(())
    }
}

/// Client authentication (`auth` under a protocol): the Go Collector's
/// `authenticator`, naming an authenticator extension (`bearertokenauth`, `basicauth`),
/// or Tributary's older `bearer_token`, a shorthand for a `bearertokenauth` with that
/// token.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// `authenticator`: the extension that checks each request.
    #[serde(rename = "auth,squash")]
    pub auth: configauth::AuthConfig,
    /// The token clients must send as `Authorization: Bearer <token>`; a secret, never
    /// shown. Kept for configs written before authenticator extensions; prefer
    /// `bearertokenauth`.
    pub bearer_token: Option<SecretString>,
}

impl AuthConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        match &self.bearer_token {
            None => self.auth.validate(),
            Some(_) if !self.auth.authenticator.is_empty() => Err(ConfigError::at(
                "bearer_token",
                "set either authenticator or bearer_token, not both",
            )),
            Some(token) if token.is_empty() => {
                Err(ConfigError::at("bearer_token", "must not be empty"))
            }
            Some(token) if http::HeaderValue::from_str(token.expose()).is_err() => Err(
                ConfigError::at("bearer_token", "must consist of visible ASCII characters"),
            ),
            Some(_) => Ok(()),
        }
    }

    /// The authenticator checking requests: the named extension, found on `host`, or the
    /// `bearer_token` check.
    pub(crate) fn authenticator(
        &self,
        host: &Host,
        path: &str,
    ) -> Result<Arc<dyn ServerAuthenticator>, ComponentError> {
        match &self.bearer_token {
            Some(token) => Ok(bearertokenauth::static_token(token.expose())),
            None => self
                .auth
                .server(host)
                .map_err(|e| ComponentError::new(format!("{path}::{e}"))),
        }
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
            && parse_endpoint(&http.endpoint) == Ok(address)
        {
            return Err(ConfigError::at(
                "protocols::http::endpoint",
                format!("{:?} is already the gRPC endpoint", http.endpoint),
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
                http.as_ref()
                    .map(|h| ("protocols::http::max_request_body_size", h.max_body_size())),
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
