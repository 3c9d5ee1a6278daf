//! An example of a component crate written outside Tributary, against its public API only
//! (`tributary_pipeline_core::prelude`): one component of each kind that moves data.
//!
//! - [`redact`]: a processor masking or removing attributes on all three signals;
//! - [`lines`]: a receiver of `name value` lines over TCP, turned into gauges;
//! - [`json_lines`]: an exporter appending each batch as an OTLP/JSON line, with the
//!   exporter helper's queue and retries.
//!
//! Each has its own tests in `tests/`, written with the public
//! `tributary_pipeline_core::testing` module only, including the conformance suite.
//! Register them next to the built-in components:
//!
//! ```no_run
//! # fn main() -> std::process::ExitCode {
//! tributary_pipeline_core::service::Collector::builder("my-collector", "1.0.0")
//!     .receiver(tributary_plugin_example::lines::factory())
//!     .processor(tributary_plugin_example::redact::factory())
//!     .exporter(tributary_plugin_example::json_lines::factory())
//!     .run_cli()
//! # }
//! ```
//!
//! A component crate depends on the framework alone, and on its test helpers for tests:
//!
//! ```toml
//! [dependencies]
//! tributary-pipeline-core = "0.1"
//! serde = { version = "1", features = ["derive"] }
//!
//! [dev-dependencies]
//! tributary-pipeline-core = { version = "0.1", features = ["testing"] }
//! ```

pub mod json_lines;
pub mod lines;
pub mod redact;
