//! The OTLP receiver's configuration: keys, defaults and checks follow the Go Collector's
//! `otlp` receiver (`configgrpc.ServerConfig`, `confighttp.ServerConfig`), so its configs
//! run unchanged; the additions (`admission`, the `auth::bearer_token` shorthand) are documented in the
//! module docs.

use std::sync::Arc;

use crate::shared::protocols::protocols_from_map;
use serde::Deserialize;
use serde::Deserializer;
use tributary_pipeline_core::component::{
    ComponentConfig, ConfigError, ProgressTracker, parse_endpoint,
};
use tributary_pipeline_core::configgrpc::GrpcServerConfig;
use tributary_pipeline_core::confighttp::HttpServerConfig;

use crate::shared::admission::Admission;

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

/// OTLP/gRPC server settings (`protocols::grpc`): the shared gRPC server block.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrpcConfig {
    /// `endpoint`, `tls`, `auth`, `keepalive`, limits, at this level.
    #[serde(rename = "server,squash", deserialize_with = "grpc_over_defaults")]
    pub server: GrpcServerConfig,
}

impl Default for GrpcConfig {
    fn default() -> Self {
        GrpcConfig {
            server: GrpcServerConfig::with_endpoint("127.0.0.1:4317"),
        }
    }
}

/// Decodes the server block over this receiver's defaults (its endpoint).
fn grpc_over_defaults<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<GrpcServerConfig, D::Error> {
    GrpcServerConfig::deserialize_over(GrpcConfig::default().server, deserializer)
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

/// The cores this process may run on (its CPU affinity and cgroup quota), for defaults
/// that scale with what it can process.
fn available_cores() -> u64 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u64)
}

impl Default for AdmissionConfig {
    /// 32 MiB in process and 8 MiB waiting per core, up to otel-arrow's 128 and 32 MiB from
    /// four cores on. Bytes are held in process about as long whatever the load, so the
    /// budget a process can use grows with how fast it processes; a larger one only lets
    /// an overloaded process hold more requests, longer, before it refuses any.
    fn default() -> Self {
        let cores = available_cores();
        AdmissionConfig {
            request_limit_mib: (32 * cores).clamp(32, 128),
            waiting_limit_mib: (8 * cores).clamp(8, 32),
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

    /// The budget this describes; `progress` counts the requests that wait for it.
    pub(crate) fn budget(&self, progress: Arc<ProgressTracker>) -> Admission {
        match self.request_limit() {
            Some(bytes) => Admission::bounded(bytes)
                .waiting_limit(self.waiting_limit(), None)
                .with_line()
                .tracking(progress),
            None => Admission::unbounded(),
        }
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
            grpc.server
                .validate()
                .map_err(|e| e.within("protocols::grpc"))?;
        }
        if let Some(http) = http {
            http.validate().map_err(|e| e.within("protocols::http"))?;
        }
        if let (Some(grpc), Some(http)) = (grpc, http)
            && let Ok(address) = parse_endpoint(&grpc.server.endpoint)
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
                        g.server.max_message_size(),
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

protocols_from_map!(Protocols, expecting: "a map with the keys grpc and/or http", duplicate: "protocol", {
    "grpc" => grpc,
    "http" => http,
});
