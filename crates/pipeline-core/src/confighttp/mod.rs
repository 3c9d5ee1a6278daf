//! `confighttp`: the HTTP server block every HTTP-serving component squashes into its
//! config (the OTLP receiver's `protocols::http`, `health_check`), with the Go
//! Collector's `confighttp.ServerConfig` keys; and the HTTP client block
//! ([`HttpClientConfig`], `confighttp.ClientConfig`) HTTP exporters squash.
//!
//! # Server
//!
//! ```yaml
//! extensions:
//!   health_check:
//!     endpoint: 0.0.0.0:13133
//!     tls:
//!       cert_file: /etc/otelcol/server.pem
//!       key_file: /etc/otelcol/server.key
//!     response_headers:
//!       Cache-Control: no-store
//!     auth:
//!       authenticator: basicauth/probe
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | the component's | `host:port` to listen on; a host name is looked up at start, `[::1]:port` for IPv6, `:port` for every interface |
//! | `transport` | `tcp` | `tcp` (`tcp4`, `tcp6`: the endpoint's address decides the family) or `unix`: `endpoint` is then a socket path (a stale socket file there is replaced) |
//! | `tls` | unset | serve TLS: see [`TlsServerConfig`] |
//! | `cors::allowed_origins`, `allowed_headers`, `max_age`, `exposed_headers` | unset | cross-origin requests from browsers |
//! | `auth` | unset | `authenticator: <id>`, a server authenticator extension ([`configauth`](crate::configauth)); or Tributary's `bearer_token` shorthand |
//! | `max_request_body_size` | `20971520` | largest body, as received and decompressed, where the component reads bodies (`0` = 20 MiB) |
//! | `include_metadata` | `false` | attach the request's headers to the data it carries |
//! | `response_headers` | none | headers added to every answer (values are secrets) |
//! | `compression_algorithms` | `["", gzip, zstd, zlib, snappy, deflate, lz4]` | `Content-Encoding`s accepted, where the component reads bodies |
//! | `read_timeout` | `1m` | time a client has to send a body (`0`: no limit; Go's default is none) |
//! | `read_header_timeout` | `1m` | time a client has to send a request's headers |
//! | `write_timeout` | `30s` | time from a request's headers to its answer; later, `503` and the connection closes (`0`: no limit) |
//! | `idle_timeout` | `1m` | a connection without a request for this long is closed (`0`: kept open) |
//! | `keep_alives_enabled` | `true` | `false` closes each HTTP/1 connection after one answer |
//! | `max_connections` | `4096` | connections held at once, more are answered `503` (Tributary's own key; `0`: no limit) |
//!
//! `middlewares` is not supported and refused as an unknown key. An HTTP/1 request's
//! line and headers may take up to 16 KiB
//! ([`HTTP1_READ_BUFFER_MAX`](crate::server::HTTP1_READ_BUFFER_MAX)); a larger head is
//! answered `431` (Go's server allows 1 MiB).
//!
//! # Client
//!
//! ```yaml
//! exporters:
//!   otlp_http:
//!     endpoint: https://backend.example.com:4318
//!     proxy_url: http://proxy.internal:3128
//!     tls:
//!       ca_file: /etc/otelcol/backend-ca.pem
//!     headers:
//!       x-api-key: ${env:API_KEY}
//!     idle_conn_timeout: 30s
//!     dialer:
//!       timeout: 3s
//! ```
//!
//! [`HttpClientConfig`] holds the keys; the component builds its client from them (the
//! `otlp_http` exporter with reqwest, see its docs). Defaults are Go's.
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | the component's | the URL requests go to; `user:password@` is never shown |
//! | `proxy_url` | none | HTTP(S) proxy for every request; its `user:password@` is never shown |
//! | `tls` | system roots | see [`TlsClientConfig`](crate::configtls::TlsClientConfig); applies to `https://` URLs; files are read when the component starts |
//! | `headers` | none | headers sent with every request; values are secrets, never shown |
//! | `timeout` | the component's | deadline of each request, response included |
//! | `compression`, `compression_params::level` | the component's | see [`configcompression`](crate::configcompression) |
//! | `disable_keep_alives` | `false` | a new connection per request |
//! | `max_idle_conns_per_host` | `0` (2) | idle connections kept per host |
//! | `idle_conn_timeout` | `90s` | close pooled connections idle this long (`0`: never) |
//! | `http2_read_idle_timeout` / `http2_ping_timeout` | `0` (off) / `0` (15s) | HTTP/2 health pings |
//! | `force_attempt_http2` | `true` | offer HTTP/2 over TLS; `false`: HTTP/1.1 only |
//! | `cookies::enabled` | `false` | keep the cookies the server sets (in memory, per client) and send them back |
//! | `auth::authenticator` | unset | a client authenticator extension ([`configauth`](crate::configauth)) |
//! | `dialer::timeout` | `0` | longest a connection may take to open ([`confignet`](crate::confignet)); `0`: the request's `timeout` bounds it |
//! | `read_buffer_size`, `write_buffer_size` | `0` | tuning knobs, accepted with no effect: hyper sizes its buffers itself |
//! | `max_idle_conns` | `100` | tuning knob, accepted with no effect: idle connections are bounded per host only |
//! | `max_conns_per_host` | `0` | only `0` (no cap): the client cannot cap its connections, bound concurrency with `sending_queue::num_consumers` |
//! | `middlewares` | none | refused when not empty: Tributary has no middleware extensions |

mod client;
mod cors;
mod headers;
pub mod percent;
mod serve;

use std::collections::BTreeMap;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;

use crate::component::{
    ComponentError, ConfigError, CreateSettings, SecretString, check_endpoint, resolve_endpoint,
};
use crate::configauth::ServerAuthConfig;
use crate::configcompression::Encoding;
use crate::configtls::{self, TlsServerConfig};
use crate::server::{
    DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_READ_HEADER_TIMEOUT, ServerOptions,
    ServerSocket,
};

pub(crate) use client::refuse_middlewares;
pub use client::{
    CookiesConfig, DEFAULT_HTTP2_PING_TIMEOUT, DEFAULT_MAX_IDLE_CONNS_PER_HOST, HttpClientConfig,
    MiddlewareConfig, check_http_url,
};
pub use cors::CorsPolicy;
pub use headers::Headers;

/// One mebibyte.
const MIB: u64 = 1 << 20;

/// The default `max_request_body_size`: 20 MiB, as in Go.
pub const DEFAULT_MAX_REQUEST_BODY_SIZE: u64 = 20 * MIB;

/// The default `read_timeout`. The Go Collector sets no limit, which lets a client
/// trickling a body hold a connection and its buffer forever.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// The default `write_timeout`, as in Go.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// The Go Collector's default `compression_algorithms` (`""` is no compression).
pub const DEFAULT_COMPRESSION_ALGORITHMS: [&str; 7] =
    ["", "gzip", "zstd", "zlib", "snappy", "deflate", "lz4"];

/// The largest `max_request_body_size` accepted: far beyond any sane request, small
/// enough that byte counts never overflow.
const MAX_BODY_LIMIT: u64 = 1 << 40;

/// The HTTP server block (`confighttp.ServerConfig`).
///
/// A component squashes it with its own defaults (its endpoint, say):
///
/// ```
/// use serde::{Deserialize, Deserializer};
/// use tributary_pipeline_core::confighttp::HttpServerConfig;
///
/// #[derive(Deserialize)]
/// #[serde(default, deny_unknown_fields)]
/// struct Config {
///     #[serde(rename = "server,squash", deserialize_with = "server_over_defaults")]
///     server: HttpServerConfig,
///     path: String,
/// }
///
/// impl Default for Config {
///     fn default() -> Self {
///         Config { server: HttpServerConfig::with_endpoint("127.0.0.1:8080"), path: "/".into() }
///     }
/// }
///
/// fn server_over_defaults<'de, D: Deserializer<'de>>(d: D) -> Result<HttpServerConfig, D::Error> {
///     HttpServerConfig::deserialize_over(Config::default().server, d)
/// }
///
/// let config: Config = tributary_confmap::Conf::from_yaml("path: /health\nidle_timeout: 5s")?.decode()?;
/// assert_eq!(config.server.endpoint, "127.0.0.1:8080");
/// assert_eq!(config.server.idle_timeout, std::time::Duration::from_secs(5));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpServerConfig {
    /// `host:port` to listen on.
    pub endpoint: String,
    /// The network; only `tcp`.
    pub transport: String,
    /// Serve over TLS.
    pub tls: Option<TlsServerConfig>,
    /// Cross-origin resource sharing.
    pub cors: Option<CorsConfig>,
    /// Client authentication.
    pub auth: Option<ServerAuthConfig>,
    /// The largest body, raw or decompressed, in bytes (0 = 20 MiB).
    pub max_request_body_size: u64,
    /// Attach the request's headers to the data it carries.
    pub include_metadata: bool,
    /// Headers added to every answer.
    pub response_headers: BTreeMap<String, SecretString>,
    /// The `Content-Encoding`s accepted.
    pub compression_algorithms: Vec<String>,
    /// How long a client has to send a request's body once its headers arrived.
    #[serde(with = "tributary_confmap::duration")]
    pub read_timeout: Duration,
    /// How long a client has to send a request's headers.
    #[serde(with = "tributary_confmap::duration")]
    pub read_header_timeout: Duration,
    /// How long from a request's headers to its answer.
    #[serde(with = "tributary_confmap::duration")]
    pub write_timeout: Duration,
    /// A connection without a request for this long is closed.
    #[serde(with = "tributary_confmap::duration")]
    pub idle_timeout: Duration,
    /// HTTP/1 keep-alive; `false` closes a connection after one answer.
    pub keep_alives_enabled: bool,
    /// The most connections open at once (Tributary's own key); `0`: no limit.
    pub max_connections: usize,
}

impl Default for HttpServerConfig {
    fn default() -> Self {
        HttpServerConfig {
            endpoint: String::new(),
            transport: "tcp".into(),
            tls: None,
            cors: None,
            auth: None,
            max_request_body_size: DEFAULT_MAX_REQUEST_BODY_SIZE,
            include_metadata: false,
            response_headers: BTreeMap::new(),
            compression_algorithms: DEFAULT_COMPRESSION_ALGORITHMS
                .iter()
                .map(|name| name.to_string())
                .collect(),
            read_timeout: DEFAULT_READ_TIMEOUT,
            read_header_timeout: DEFAULT_READ_HEADER_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            keep_alives_enabled: true,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

fn non_zero(duration: Duration) -> Option<Duration> {
    (!duration.is_zero()).then_some(duration)
}

/// The keys of an [`HttpServerConfig`] that a configuration sets.
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct PresentKeys {
    endpoint: Option<String>,
    transport: Option<String>,
    tls: Option<TlsServerConfig>,
    cors: Option<CorsConfig>,
    auth: Option<ServerAuthConfig>,
    max_request_body_size: Option<u64>,
    include_metadata: Option<bool>,
    response_headers: Option<BTreeMap<String, SecretString>>,
    compression_algorithms: Option<Vec<String>>,
    #[serde(with = "tributary_confmap::duration::option")]
    read_timeout: Option<Duration>,
    #[serde(with = "tributary_confmap::duration::option")]
    read_header_timeout: Option<Duration>,
    #[serde(with = "tributary_confmap::duration::option")]
    write_timeout: Option<Duration>,
    #[serde(with = "tributary_confmap::duration::option")]
    idle_timeout: Option<Duration>,
    keep_alives_enabled: Option<bool>,
    max_connections: Option<usize>,
}

impl HttpServerConfig {
    /// Decodes the keys present over `base` (a component's defaults): a key left out keeps
    /// `base`'s value. For a `deserialize_with` function of a component that squashes the
    /// block with defaults of its own.
    pub fn deserialize_over<'de, D: serde::Deserializer<'de>>(
        base: HttpServerConfig,
        deserializer: D,
    ) -> Result<HttpServerConfig, D::Error> {
        let present = PresentKeys::deserialize(deserializer)?;
        Ok(HttpServerConfig {
            endpoint: present.endpoint.unwrap_or(base.endpoint),
            transport: present.transport.unwrap_or(base.transport),
            tls: present.tls.or(base.tls),
            cors: present.cors.or(base.cors),
            auth: present.auth.or(base.auth),
            max_request_body_size: present
                .max_request_body_size
                .unwrap_or(base.max_request_body_size),
            include_metadata: present.include_metadata.unwrap_or(base.include_metadata),
            response_headers: present.response_headers.unwrap_or(base.response_headers),
            compression_algorithms: present
                .compression_algorithms
                .unwrap_or(base.compression_algorithms),
            read_timeout: present.read_timeout.unwrap_or(base.read_timeout),
            read_header_timeout: present
                .read_header_timeout
                .unwrap_or(base.read_header_timeout),
            write_timeout: present.write_timeout.unwrap_or(base.write_timeout),
            idle_timeout: present.idle_timeout.unwrap_or(base.idle_timeout),
            keep_alives_enabled: present
                .keep_alives_enabled
                .unwrap_or(base.keep_alives_enabled),
            max_connections: present.max_connections.unwrap_or(base.max_connections),
        })
    }

    /// The defaults, listening on `endpoint`.
    pub fn with_endpoint(endpoint: impl Into<String>) -> Self {
        HttpServerConfig {
            endpoint: endpoint.into(),
            ..HttpServerConfig::default()
        }
    }

    /// Checks every key; error paths are relative to the block.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_stream_endpoint(&self.transport, &self.endpoint)?;
        if self.max_request_body_size > MAX_BODY_LIMIT {
            return Err(ConfigError::at(
                "max_request_body_size",
                format!("must be at most {} MiB", MAX_BODY_LIMIT / MIB),
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
        for (name, value) in &self.response_headers {
            if HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(ConfigError::at(
                    format!("response_headers::{name}"),
                    "invalid header name",
                ));
            }
            if HeaderValue::from_str(value.expose()).is_err() {
                return Err(ConfigError::at(
                    format!("response_headers::{name}"),
                    "invalid header value: only visible ASCII characters, spaces and tabs",
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

    /// The largest body, raw or decompressed, in bytes.
    pub fn max_body_size(&self) -> usize {
        let size = if self.max_request_body_size == 0 {
            DEFAULT_MAX_REQUEST_BODY_SIZE
        } else {
            self.max_request_body_size
        };
        usize::try_from(size).unwrap_or(usize::MAX)
    }

    /// `read_timeout`, `None` when it is `0`.
    pub fn read_timeout(&self) -> Option<Duration> {
        non_zero(self.read_timeout)
    }

    /// `read_header_timeout`, `None` when it is `0`.
    pub fn read_header_timeout(&self) -> Option<Duration> {
        non_zero(self.read_header_timeout)
    }

    /// `write_timeout`, `None` when it is `0`.
    pub fn write_timeout(&self) -> Option<Duration> {
        non_zero(self.write_timeout)
    }

    /// `idle_timeout`, `None` when it is `0`.
    pub fn idle_timeout(&self) -> Option<Duration> {
        non_zero(self.idle_timeout)
    }

    /// The encodings `compression_algorithms` accepts (an empty list: Go's defaults).
    pub fn encodings(&self) -> Vec<Encoding> {
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

    /// `response_headers` as a header map (of a validated config; values sensitive).
    pub fn response_header_map(&self) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in &self.response_headers {
            if let (Ok(name), Ok(mut value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value.expose()),
            ) {
                value.set_sensitive(true);
                map.append(name, value);
            }
        }
        map
    }

    /// The CORS policy, if `cors` allows any origin.
    pub fn cors_policy(&self) -> Option<CorsPolicy> {
        self.cors.as_ref().and_then(CorsPolicy::new)
    }

    /// Binds the endpoint and makes the server options these settings describe (TLS,
    /// connection limits, timeouts, keep-alive). `path` is the block's config path, for
    /// error messages (empty at the top of a component's config); `alpn` the protocols
    /// TLS offers.
    pub async fn bind(
        &self,
        settings: &CreateSettings,
        path: &str,
        alpn: &[&[u8]],
    ) -> Result<(ServerSocket, ServerOptions), ComponentError> {
        let key = |key: &str| key_path(path, key);
        let tls = match &self.tls {
            Some(tls) => Some(configtls::acceptor(tls, &key("tls"), alpn).await?),
            None => None,
        };
        let listener = listen(settings, &self.transport, &self.endpoint, &key("endpoint")).await?;
        let mut options = ServerOptions::http();
        options.tls = tls;
        options.limits.max_connections = self.max_connections;
        options.limits.idle_timeout = self.idle_timeout();
        options.limits.first_request_timeout = self.idle_timeout();
        options
            .http
            .http1()
            .header_read_timeout(self.read_header_timeout())
            .keep_alive(self.keep_alives_enabled);
        Ok((listener, options))
    }
}

/// The transports a stream server (HTTP, gRPC) takes: `tcp` (and `tcp4`/`tcp6`, the
/// family then being the endpoint's) or `unix`, whose endpoint is a socket path.
pub(crate) fn check_stream_endpoint(transport: &str, endpoint: &str) -> Result<(), ConfigError> {
    match transport {
        "tcp" | "tcp4" | "tcp6" => {
            check_endpoint(endpoint).map_err(|m| ConfigError::at("endpoint", m))
        }
        "unix" if endpoint.is_empty() => Err(ConfigError::at(
            "endpoint",
            "a unix transport needs the socket's path as endpoint",
        )),
        "unix" => Ok(()),
        other => Err(ConfigError::at(
            "transport",
            format!(
                "unsupported transport {other:?}: use tcp, tcp4, tcp6 or unix (HTTP and gRPC \
                 need a stream transport)"
            ),
        )),
    }
}

/// Binds `endpoint` on `transport` (checked by [`check_stream_endpoint`]): a TCP listener
/// shared across reloads, a host name looked up now; or a Unix domain socket. `key` is the
/// endpoint's config path, for errors.
pub(crate) async fn listen(
    settings: &CreateSettings,
    transport: &str,
    endpoint: &str,
    key: &str,
) -> Result<ServerSocket, ComponentError> {
    if transport == "unix" {
        return ServerSocket::bind_unix(endpoint).map_err(|e| {
            ComponentError::with_source(format!("{key}: cannot listen on unix:{endpoint}"), e)
        });
    }
    let addr = resolve_endpoint(endpoint)
        .await
        .map_err(|e| ComponentError::new(format!("{key}: {e}")))?;
    let listener = settings
        .listen(addr)
        .map_err(|e| ComponentError::with_source(format!("{key}: cannot listen on {addr}"), e))?;
    Ok(listener.into())
}

/// `path::key`, or `key` at the top of a component's config (`path` empty).
pub(crate) fn key_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}::{key}")
    }
}

/// Cross-origin resource sharing (`cors`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
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
    /// Response headers a browser may show to the page (`Access-Control-Expose-Headers`).
    pub exposed_headers: Vec<String>,
}

impl CorsConfig {
    /// Checks the patterns and header names; error paths are relative to `cors`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (i, origin) in self.allowed_origins.iter().enumerate() {
            if origin.matches('*').count() > 1 {
                return Err(ConfigError::at(
                    format!("allowed_origins::{i}"),
                    format!("{origin:?} has more than one \"*\""),
                ));
            }
        }
        for (key, headers) in [
            ("allowed_headers", &self.allowed_headers),
            ("exposed_headers", &self.exposed_headers),
        ] {
            for (i, header) in headers.iter().enumerate() {
                if header != "*" && HeaderName::from_bytes(header.as_bytes()).is_err() {
                    return Err(ConfigError::at(
                        format!("{key}::{i}"),
                        format!("{header:?} is not a valid header name"),
                    ));
                }
            }
        }
        Ok(())
    }
}
