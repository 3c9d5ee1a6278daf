//! The `otlp` receiver: OTLP over gRPC and over HTTP (protobuf and JSON), for traces,
//! metrics and logs.

mod admission;
mod config;
mod refusal;

pub use config::{
    AdmissionConfig, AuthConfig, Config, CorsConfig, GrpcConfig, HttpConfig, KeepaliveConfig,
    KeepaliveEnforcementPolicy, KeepaliveServerParameters, Protocols, TlsConfig,
};
