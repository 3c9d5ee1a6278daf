//! Tributary's built-in receivers: components that bring telemetry into a pipeline.
//!
//! Each receiver is a module behind a cargo feature of the same name (all on by default),
//! exposing a `factory()` to register on the collector builder.

#[cfg(feature = "otlp")]
pub mod otlp;
