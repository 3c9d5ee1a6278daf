//! The HTTP client block (`confighttp.ClientConfig`), squashed by HTTP exporters.

use std::time::Duration;

use serde::Deserialize;

use crate::component::{ConfigError, SecretUrl};
use crate::configauth::AuthConfig;
use crate::configcompression::{Compression, CompressionParams};
use crate::confignet::DialerConfig;
use crate::configtls::TlsClientConfig;

use super::Headers;

/// Idle connections kept per host when `max_idle_conns_per_host` is 0, as Go's
/// `http.DefaultMaxIdleConnsPerHost`.
pub const DEFAULT_MAX_IDLE_CONNS_PER_HOST: usize = 2;

/// HTTP/2 ping timeout when `http2_ping_timeout` is 0, as Go's `x/net/http2`.
pub const DEFAULT_HTTP2_PING_TIMEOUT: Duration = Duration::from_secs(15);

/// The HTTP client block (`confighttp.ClientConfig`): where and how a client sends its
/// requests. See the [module docs](super) for the keys and what each does here.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpClientConfig {
    /// The URL requests go to. Its userinfo (`user:password@`) is never shown.
    pub endpoint: SecretUrl,
    /// Send requests through this HTTP(S) proxy; its userinfo authenticates to the proxy.
    pub proxy_url: SecretUrl,
    /// TLS settings for `https://` URLs.
    pub tls: TlsClientConfig,
    /// Headers sent with every request.
    pub headers: Headers,
    /// The deadline of one request, response included; unset: the component's.
    #[serde(with = "tributary_confmap::duration::option")]
    pub timeout: Option<Duration>,
    /// Accepted for compatibility: hyper sizes its read buffers itself.
    pub read_buffer_size: usize,
    /// Accepted for compatibility: hyper sizes its write buffers itself.
    pub write_buffer_size: usize,
    /// How request bodies are compressed; unset: the component's default.
    pub compression: Option<Compression>,
    /// Compression tuning (`level`).
    pub compression_params: CompressionParams,
    /// Open a new connection for every request.
    pub disable_keep_alives: bool,
    /// Accepted for compatibility (100): connections are pooled per host only.
    pub max_idle_conns: usize,
    /// Idle connections kept per host (0: 2, as Go).
    pub max_idle_conns_per_host: usize,
    /// A cap on connections per host; only 0 (no cap) is supported.
    pub max_conns_per_host: usize,
    /// Close idle connections after this long (90s; 0: never).
    #[serde(with = "tributary_confmap::duration")]
    pub idle_conn_timeout: Duration,
    /// HTTP/2: ping a connection idle for this long (0: no pings).
    #[serde(with = "tributary_confmap::duration")]
    pub http2_read_idle_timeout: Duration,
    /// HTTP/2: close the connection when a ping is not answered within this (0: 15s).
    #[serde(with = "tributary_confmap::duration")]
    pub http2_ping_timeout: Duration,
    /// Keep the cookies the server sets and send them back.
    pub cookies: CookiesConfig,
    /// The client authenticator extension setting each request's credentials.
    pub auth: Option<AuthConfig>,
    /// Offer HTTP/2 over TLS (`true`); `false` speaks HTTP/1.1 only.
    pub force_attempt_http2: bool,
    /// Middleware extensions; not supported, refused when non-empty.
    pub middlewares: Vec<MiddlewareConfig>,
    /// How connections are opened.
    pub dialer: DialerConfig,
}

impl Default for HttpClientConfig {
    fn default() -> Self {
        HttpClientConfig {
            endpoint: SecretUrl::default(),
            proxy_url: SecretUrl::default(),
            tls: TlsClientConfig::default(),
            headers: Headers::default(),
            timeout: None,
            read_buffer_size: 0,
            write_buffer_size: 0,
            compression: None,
            compression_params: CompressionParams::default(),
            disable_keep_alives: false,
            max_idle_conns: 100,
            max_idle_conns_per_host: 0,
            max_conns_per_host: 0,
            idle_conn_timeout: Duration::from_secs(90),
            http2_read_idle_timeout: Duration::ZERO,
            http2_ping_timeout: Duration::ZERO,
            cookies: CookiesConfig::default(),
            auth: None,
            force_attempt_http2: true,
            middlewares: Vec::new(),
            dialer: DialerConfig::default(),
        }
    }
}

/// `cookies`: the client's cookie jar.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CookiesConfig {
    /// Keep cookies in a jar, per client, in memory.
    pub enabled: bool,
}

/// One `middlewares` entry: the ID of a middleware extension.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MiddlewareConfig {
    /// The extension's ID.
    pub id: String,
}

/// Refuses `middlewares`, saying why; shared by the HTTP and gRPC client blocks.
pub(crate) fn refuse_middlewares(middlewares: &[MiddlewareConfig]) -> Result<(), ConfigError> {
    match middlewares.first() {
        None => Ok(()),
        Some(first) => Err(ConfigError::at(
            "middlewares",
            format!(
                "middleware extensions ({:?}) are not supported: Tributary has none; \
                 put limits in the pipeline instead (the memory_limiter processor)",
                first.id
            ),
        )),
    }
}

impl HttpClientConfig {
    /// The compression to use: `compression`, or `default` when unset.
    pub fn compression_or(&self, default: Compression) -> Compression {
        self.compression.unwrap_or(default)
    }

    /// Idle connections to keep per host: 0 with `disable_keep_alives`.
    pub fn idle_per_host(&self) -> usize {
        match (self.disable_keep_alives, self.max_idle_conns_per_host) {
            (true, _) => 0,
            (false, 0) => DEFAULT_MAX_IDLE_CONNS_PER_HOST,
            (false, n) => n,
        }
    }

    /// How long a pooled connection may stay idle; `None`: no limit.
    pub fn idle_timeout(&self) -> Option<Duration> {
        (!self.idle_conn_timeout.is_zero()).then_some(self.idle_conn_timeout)
    }

    /// HTTP/2 pings: the idle interval and the answer timeout, when enabled.
    pub fn http2_pings(&self) -> Option<(Duration, Duration)> {
        if self.http2_read_idle_timeout.is_zero() {
            return None;
        }
        let timeout = if self.http2_ping_timeout.is_zero() {
            DEFAULT_HTTP2_PING_TIMEOUT
        } else {
            self.http2_ping_timeout
        };
        Some((self.http2_read_idle_timeout, timeout))
    }

    /// The ALPN protocols to offer over TLS.
    pub fn alpn(&self) -> &'static [&'static [u8]] {
        if self.force_attempt_http2 {
            &[b"h2", b"http/1.1"]
        } else {
            &[b"http/1.1"]
        }
    }

    /// Checks every key but `endpoint`, whose form the component decides, with
    /// `default_compression` the component's; errors name their key.
    pub fn validate(&self, default_compression: Compression) -> Result<(), ConfigError> {
        if !self.proxy_url.is_empty() {
            check_http_url("proxy_url", &self.proxy_url)?;
        }
        self.compression_params
            .validate(self.compression_or(default_compression))
            .map_err(|e| e.within("compression_params"))?;
        self.tls.validate().map_err(|e| e.within("tls"))?;
        self.headers.validate().map_err(|e| e.within("headers"))?;
        if let Some(auth) = &self.auth {
            auth.validate().map_err(|e| e.within("auth"))?;
        }
        if self.max_conns_per_host != 0 {
            return Err(ConfigError::at(
                "max_conns_per_host",
                "a cap on connections is not supported (the HTTP client pools without one); \
                 bound concurrent requests with sending_queue::num_consumers instead",
            ));
        }
        refuse_middlewares(&self.middlewares)
    }
}

/// Checks that `url` is an `http://` or `https://` URL with a host; messages show it with
/// its userinfo redacted.
pub fn check_http_url(key: &str, url: &SecretUrl) -> Result<(), ConfigError> {
    let uri: http::Uri = url
        .expose()
        .parse()
        .map_err(|e| ConfigError::at(key, format!("invalid URL \"{url}\": {e}")))?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.host().is_some_and(|h| !h.is_empty()) => Ok(()),
        Some("http" | "https") => Err(ConfigError::at(key, format!("\"{url}\" has no host"))),
        Some(other) => Err(ConfigError::at(
            key,
            format!("unsupported scheme {other:?}: use http:// or https://"),
        )),
        None => Err(ConfigError::at(
            key,
            format!("\"{url}\" is not a URL: use http:// or https://"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::load_config;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Exporter {
        #[serde(rename = "client,squash")]
        client: HttpClientConfig,
    }
    impl crate::component::ComponentConfig for Exporter {
        fn validate(&self) -> Result<(), ConfigError> {
            self.client.validate(Compression::Gzip)
        }
    }

    #[test]
    fn defaults_are_gos() {
        let client = HttpClientConfig::default();
        assert_eq!(client.max_idle_conns, 100);
        assert_eq!(client.idle_timeout(), Some(Duration::from_secs(90)));
        assert_eq!(client.idle_per_host(), DEFAULT_MAX_IDLE_CONNS_PER_HOST);
        assert!(client.force_attempt_http2);
        assert_eq!(client.http2_pings(), None);
        assert_eq!(client.compression_or(Compression::Gzip), Compression::Gzip);
    }

    #[test]
    fn keys_decode_and_shape_the_client() {
        let exporter: Exporter = load_config(
            "endpoint: https://h\ncompression: zstd\ndisable_keep_alives: true\n\
             http2_read_idle_timeout: 10s\nforce_attempt_http2: false\ndialer: {timeout: 3s}\n",
        )
        .unwrap();
        let client = exporter.client;
        assert_eq!(client.compression_or(Compression::Gzip), Compression::Zstd);
        assert_eq!(client.idle_per_host(), 0);
        assert_eq!(
            client.http2_pings(),
            Some((Duration::from_secs(10), DEFAULT_HTTP2_PING_TIMEOUT))
        );
        assert_eq!(client.alpn(), &[b"http/1.1".as_slice()]);
        assert_eq!(
            client.dialer.connect_timeout(Duration::from_secs(30)),
            Some(Duration::from_secs(3))
        );
    }

    #[test]
    fn refusals_name_the_key_and_say_why() {
        let error = load_config::<Exporter>("proxy_url: ftp://p\n").unwrap_err();
        assert_eq!(error.path(), "proxy_url", "{error}");
        let error = load_config::<Exporter>("middlewares: [{id: m}]\n").unwrap_err();
        assert!(error.to_string().contains("not supported"), "{error}");
        let error = load_config::<Exporter>("max_conns_per_host: 2\n").unwrap_err();
        assert_eq!(error.path(), "max_conns_per_host", "{error}");
    }
}
