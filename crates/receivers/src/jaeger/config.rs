//! The `jaeger` receiver's configuration: the Go Collector's `jaegerreceiver` keys and
//! defaults (`protocols::{grpc, thrift_http, thrift_compact, thrift_binary}`).

use crate::shared::protocols::protocols_from_map;
use serde::Deserialize;
use serde::Deserializer;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError, check_endpoint};
use tributary_pipeline_core::configgrpc::GrpcServerConfig;
use tributary_pipeline_core::confighttp::HttpServerConfig;
use tributary_pipeline_core::receiverhelper::MAX_DATAGRAM;

/// The `jaeger` receiver's configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The protocols to serve; each is enabled by its presence.
    pub protocols: Protocols,
}

/// The protocols the receiver serves, each enabled by its key being present, even with no
/// value (`thrift_compact:` alone serves it with its defaults), as in the Go Collector.
#[derive(Debug, Clone, Default)]
pub struct Protocols {
    /// `jaeger.api_v2.CollectorService` over gRPC (default `localhost:14250`).
    pub grpc: Option<GrpcConfig>,
    /// Thrift `Batch`es posted to `/api/traces` (default `localhost:14268`).
    pub thrift_http: Option<ThriftHttpConfig>,
    /// The agent's `emitBatch` in the Thrift compact protocol over UDP (default
    /// `localhost:6831`).
    pub thrift_compact: Option<UdpConfig>,
    /// The agent's `emitBatch` in the Thrift binary protocol over UDP (default
    /// `localhost:6832`).
    pub thrift_binary: Option<UdpConfig>,
}

/// The gRPC server (`protocols::grpc`): the shared gRPC server block.
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
            server: GrpcServerConfig::with_endpoint("localhost:14250"),
        }
    }
}

fn grpc_over_defaults<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<GrpcServerConfig, D::Error> {
    GrpcServerConfig::deserialize_over(GrpcConfig::default().server, deserializer)
}

/// The Thrift HTTP server (`protocols::thrift_http`): the shared HTTP server block.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThriftHttpConfig {
    /// `endpoint`, `tls`, `cors`, `auth`, limits and timeouts, at this level.
    #[serde(rename = "server,squash", deserialize_with = "http_over_defaults")]
    pub server: HttpServerConfig,
}

impl Default for ThriftHttpConfig {
    fn default() -> Self {
        ThriftHttpConfig {
            server: HttpServerConfig::with_endpoint("localhost:14268"),
        }
    }
}

fn http_over_defaults<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<HttpServerConfig, D::Error> {
    HttpServerConfig::deserialize_over(ThriftHttpConfig::default().server, deserializer)
}

/// An agent UDP server (`protocols::thrift_compact`, `protocols::thrift_binary`): Go's
/// `ProtocolUDP`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UdpConfig {
    /// `host:port` to listen on; empty for the protocol's default.
    pub endpoint: String,
    /// Datagrams waiting for a worker; more are dropped and counted.
    pub queue_size: usize,
    /// The largest datagram read whole; a longer one is dropped and counted.
    pub max_packet_size: usize,
    /// Datagrams decoded and delivered at once.
    pub workers: usize,
    /// The socket's receive buffer; only `0` (the system's default) is supported.
    pub socket_buffer_size: usize,
}

impl Default for UdpConfig {
    fn default() -> Self {
        UdpConfig {
            endpoint: String::new(),
            queue_size: 1000,
            max_packet_size: 65_000,
            workers: 10,
            socket_buffer_size: 0,
        }
    }
}

impl UdpConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if !self.endpoint.is_empty() {
            check_endpoint(&self.endpoint).map_err(|e| ConfigError::at("endpoint", e))?;
        }
        for (key, value) in [
            ("queue_size", self.queue_size),
            ("max_packet_size", self.max_packet_size),
            ("workers", self.workers),
        ] {
            if value == 0 {
                return Err(ConfigError::at(key, "must be at least 1"));
            }
        }
        if self.max_packet_size > MAX_DATAGRAM {
            return Err(ConfigError::at(
                "max_packet_size",
                format!("must be at most {MAX_DATAGRAM}, the largest UDP datagram"),
            ));
        }
        if self.workers > 1024 {
            return Err(ConfigError::at("workers", "must be at most 1024"));
        }
        if self.socket_buffer_size != 0 {
            return Err(ConfigError::at(
                "socket_buffer_size",
                "setting the socket's receive buffer is not supported (the listening socket is \
                 shared across reloads); leave it 0 and size the system default \
                 (net.core.rmem_default) instead",
            ));
        }
        Ok(())
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        let Protocols {
            grpc,
            thrift_http,
            thrift_compact,
            thrift_binary,
        } = &self.protocols;
        if grpc.is_none()
            && thrift_http.is_none()
            && thrift_compact.is_none()
            && thrift_binary.is_none()
        {
            return Err(ConfigError::at(
                "protocols",
                "must enable at least one protocol: grpc, thrift_http, thrift_compact or \
                 thrift_binary",
            ));
        }
        if let Some(grpc) = grpc {
            grpc.server
                .validate()
                .map_err(|e| e.within("protocols::grpc"))?;
        }
        if let Some(http) = thrift_http {
            http.server
                .validate()
                .map_err(|e| e.within("protocols::thrift_http"))?;
        }
        if let Some(udp) = thrift_compact {
            udp.validate()
                .map_err(|e| e.within("protocols::thrift_compact"))?;
        }
        if let Some(udp) = thrift_binary {
            udp.validate()
                .map_err(|e| e.within("protocols::thrift_binary"))?;
        }
        Ok(())
    }
}

protocols_from_map!(Protocols, expecting: "a map with the keys grpc, thrift_http, thrift_compact, thrift_binary", duplicate: "protocol", {
    "grpc" => grpc,
    "thrift_http" => thrift_http,
    "thrift_compact" => thrift_compact,
    "thrift_binary" => thrift_binary,
});
