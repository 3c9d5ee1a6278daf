//! The gateway: Tributary's central tier. Receives OTLP (gRPC and HTTP) from agents and
//! SDKs and processes it with every built-in component available.
//!
//! ```sh
//! cargo run --release --example gateway                      # built-in configuration
//! cargo run --release --example gateway -- --config my.yaml  # your own
//! cargo run --release --example gateway -- validate --config my.yaml
//! ```
//!
//! Without `--config` it runs `examples/configs/gateway-default.yaml`: OTLP in on
//! 127.0.0.1:4317 (gRPC) and 127.0.0.1:4318 (HTTP) → memory_limiter → batch → debug
//! exporter, internal metrics on 127.0.0.1:8888, health on 127.0.0.1:13133.

use std::process::ExitCode;

fn main() -> ExitCode {
    tributary::Collector::builder("tributary-gateway", env!("CARGO_PKG_VERSION"))
        .description("Tributary gateway: the central tier of a telemetry pipeline")
        .factories(tributary::components())
        .default_config(include_str!("configs/gateway-default.yaml"))
        .run_cli()
}
