//! The agent: Tributary on every host. Receives OTLP from local applications on
//! localhost and forwards it to a gateway.
//!
//! ```sh
//! TRIBUTARY_GATEWAY=gateway.internal:4317 cargo run --release --example agent
//! ```
//!
//! Without `--config` it runs `examples/configs/agent-default.yaml`: OTLP in on
//! 127.0.0.1:4317/4318 → memory_limiter → batch → OTLP/gRPC out to
//! `${env:TRIBUTARY_GATEWAY:-127.0.0.1:4317}`.

use std::process::ExitCode;

fn main() -> ExitCode {
    tributary::Collector::builder("tributary-agent", env!("CARGO_PKG_VERSION"))
        .description("Tributary agent: collects telemetry on a host and forwards it to a gateway")
        .factories(tributary::components())
        .default_config(include_str!("configs/agent-default.yaml"))
        .run_cli()
}
