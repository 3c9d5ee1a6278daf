//! The agent: Tributary on every host. Reads the host's metrics, follows its log files,
//! receives OTLP from local applications on localhost, and forwards all of it to a gateway.
//!
//! ```sh
//! TRIBUTARY_GATEWAY=gateway.internal:4317 cargo run --release --example agent
//! ```
//!
//! Without `--config` it runs `examples/configs/agent-default.yaml`: OTLP in on
//! 127.0.0.1:4317/4318, `hostmetrics` every 30 s and `filelog` over
//! `${env:TRIBUTARY_LOG_DIR:-/var/log}/*.log` → resourcedetection (env, system) →
//! memory_limiter → OTLP/gRPC out to `${env:TRIBUTARY_GATEWAY:-127.0.0.1:4317}` through
//! a persistent sending queue (batching inside the queue) in a `file_storage` directory
//! (`${env:TRIBUTARY_STORAGE_DIR:-/var/lib/tributary}`), which also keeps the log
//! files' checkpoints.

use std::process::ExitCode;

fn main() -> ExitCode {
    tributary::Collector::builder("tributary-agent", env!("CARGO_PKG_VERSION"))
        .description("Tributary agent: collects telemetry on a host and forwards it to a gateway")
        .factories(tributary::components())
        .default_config(include_str!("configs/agent-default.yaml"))
        .run_cli()
}
