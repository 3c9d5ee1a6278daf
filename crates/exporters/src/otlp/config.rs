//! The `otlp` exporter's configuration.

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError, redact_userinfo};
use tributary_pipeline_core::configgrpc::GrpcClientConfig;
use tributary_pipeline_core::exporterhelper::ExporterHelperConfig;

use crate::client::Compression;

/// `keepalive`: HTTP/2 pings that detect a dead connection while idle or waiting; present
/// (`keepalive: {}` at least) turns them on.
pub use tributary_pipeline_core::configgrpc::ClientKeepaliveConfig as KeepaliveConfig;

/// The compression used when `compression` is left out, as the Go exporter's.
pub(crate) const DEFAULT_COMPRESSION: Compression = Compression::Gzip;

/// The `otlp` exporter's configuration: the Go Collector's `otlp` exporter keys
/// (`configgrpc.ClientConfig` plus the exporter helper's).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The gRPC client block: `endpoint`, `tls`, `compression` (gzip when left out),
    /// `headers`, `auth`, `keepalive`, `dialer` and the rest. `endpoint` is `host:port`,
    /// or a URL: `http://host:port` connects in plaintext, `https://` with TLS;
    /// `dns:///host:port` is accepted as in gRPC. Without a scheme, TLS is used unless
    /// `tls::insecure` is set. A missing port means 443. Credentials go in `headers`:
    /// userinfo (`user:password@`) is refused, and never shown.
    #[serde(rename = "client,squash")]
    pub client: GrpcClientConfig,
    /// `timeout`, `retry_on_failure` and `sending_queue`, with the exporter helper's
    /// defaults; `timeout` also bounds connecting (unless `dialer::timeout` is set) and
    /// is sent to the server as `grpc-timeout`.
    #[serde(rename = "helper,squash")]
    pub helper: ExporterHelperConfig,
}

impl Config {
    /// The compression used: `compression`, gzip when left out.
    pub fn compression(&self) -> Compression {
        self.client.compression_or(DEFAULT_COMPRESSION)
    }
}

/// Where to connect, derived from `endpoint` and `tls`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    pub host: String,
    pub port: u16,
    pub tls: bool,
}

impl Target {
    /// `host:port`, with IPv6 hosts bracketed, for URIs.
    pub(crate) fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl Config {
    /// Parses `endpoint` into where to connect and whether to use TLS.
    pub(crate) fn target(&self) -> Result<Target, ConfigError> {
        let endpoint = self.client.endpoint.expose().trim();
        if endpoint.is_empty() {
            return Err(ConfigError::at(
                "endpoint",
                "requires a non-empty endpoint (host:port)",
            ));
        }
        if self.client.endpoint.has_userinfo() {
            return Err(ConfigError::at(
                "endpoint",
                "gRPC endpoints cannot carry credentials (user:password@); send them in headers",
            ));
        }
        // Messages quote the endpoint as it is shown everywhere: credentials redacted.
        let shown = redact_userinfo(endpoint);
        let (rest, scheme_tls) = if let Some(rest) = endpoint.strip_prefix("http://") {
            (rest, Some(false))
        } else if let Some(rest) = endpoint.strip_prefix("https://") {
            (rest, Some(true))
        } else if let Some(rest) = endpoint.strip_prefix("dns://") {
            // dns:///host:port or dns://resolver/host:port: the resolver is not used.
            let rest = rest.split_once('/').map_or(rest, |(_, target)| target);
            (rest, None)
        } else if let Some((scheme, _)) = endpoint.split_once("://") {
            return Err(ConfigError::at(
                "endpoint",
                format!(
                    "unsupported scheme {scheme:?}: use host:port, http://, https:// or dns:///"
                ),
            ));
        } else if endpoint.starts_with("unix:") {
            return Err(ConfigError::at(
                "endpoint",
                "unix sockets are not supported: use host:port",
            ));
        } else {
            (endpoint, None)
        };
        let rest = rest.trim_end_matches('/');
        if rest.contains('/') {
            return Err(ConfigError::at(
                "endpoint",
                format!("{shown:?} has a path; gRPC endpoints are host:port"),
            ));
        }
        let (host, port) = split_host_port(rest).map_err(|message| {
            ConfigError::at("endpoint", format!("invalid endpoint {shown:?}: {message}"))
        })?;
        Ok(Target {
            host,
            port: port.unwrap_or(443),
            tls: scheme_tls.unwrap_or(!self.client.tls.insecure),
        })
    }
}

/// Splits `host[:port]` (IPv6 hosts in brackets).
fn split_host_port(text: &str) -> Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| "unclosed '[' in IPv6 address".to_string())?;
        match after {
            "" => (host, None),
            after => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err(format!("unexpected {after:?} after IPv6 address")),
            },
        }
    } else {
        match text.rsplit_once(':') {
            Some((host, _)) if host.contains(':') => {
                return Err("IPv6 addresses must be in brackets: [::1]:4317".into());
            }
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    if host.is_empty() {
        return Err("missing host".into());
    }
    let port = port
        .map(|p| p.parse::<u16>().map_err(|_| format!("invalid port {p:?}")))
        .transpose()?;
    Ok((host.to_string(), port))
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        self.target()?;
        self.client.validate(DEFAULT_COMPRESSION)?;
        self.helper.validate()
    }
}
