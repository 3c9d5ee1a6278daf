//! The service: a collector process built from the pieces of this crate.
//!
//! [`Collector::builder`] gathers the component factories and configuration providers;
//! [`CollectorBuilder::run_cli`] is the whole `main` of a collector program (flags
//! `--config`, `--set`, `--feature-gates`; subcommands `validate`, `components`,
//! `print-config`, `featuregate`; SIGINT/SIGTERM drain and exit, SIGHUP reloads);
//! [`CollectorBuilder::build`] gives a [`Collector`] to run inside a program of your own.
//!
//! Configuration changes (a watched file edited, SIGHUP, [`Collector::reload`]) are applied
//! transactionally: the new configuration is resolved, validated, built and started before
//! anything running stops, and an invalid one leaves the running pipelines untouched.

mod builder;
#[cfg(feature = "cli")]
mod cli;
mod collector;
mod embedded;
mod gates;
#[cfg(feature = "cli")]
mod logging;
mod process;
#[cfg(feature = "cli")]
mod redact;
mod self_telemetry;
mod telemetry;

pub use crate::health::{PipelineHealth, ReloadOutcome, ServiceHealth};
pub use builder::{CollectorBuilder, ConfigSource, DEFAULT_SHUTDOWN_TIMEOUT};
pub use collector::{Collector, CollectorError};
pub use gates::RELOAD_KEEPS_UNCHANGED;
pub use process::{ProcessTuning, TRIM_INTERVAL, tune_process};

#[cfg(test)]
mod tests;
