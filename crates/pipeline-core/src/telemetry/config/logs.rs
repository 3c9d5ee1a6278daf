//! `service::telemetry::logs`: zap's keys.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::export::validate_processors;
use super::{ExportProcessor, TelemetryConfigError, error};

/// `service::telemetry::logs`: the collector's own logs, zap's keys.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogsTelemetryConfig {
    /// Minimum level: `debug`, `info` (default), `warn`, `error`.
    pub level: LogLevel,
    /// zap's development mode: stack traces from `warn` up instead of from `error`.
    pub development: bool,
    /// `console` (tab-separated text, default) or `json`.
    pub encoding: LogEncoding,
    /// No `caller` (source file and line) on each entry.
    pub disable_caller: bool,
    /// No stack traces on errors (on warnings too in development mode).
    pub disable_stacktrace: bool,
    /// Where entries go: `stderr` (default), `stdout`, or file paths (appended to).
    pub output_paths: Vec<String>,
    /// Where the logger's own failures (an output that cannot be written) go.
    pub error_output_paths: Vec<String>,
    /// Fields added to every entry.
    pub initial_fields: BTreeMap<String, serde_json::Value>,
    /// zap's sampler (on by default, as in Go).
    pub sampling: Option<LogsSamplingConfig>,
    /// Processors exporting entries as OTLP log records.
    pub processors: Vec<ExportProcessor>,
}

impl Default for LogsTelemetryConfig {
    fn default() -> Self {
        LogsTelemetryConfig {
            level: LogLevel::Info,
            development: false,
            encoding: LogEncoding::Console,
            disable_caller: false,
            disable_stacktrace: false,
            output_paths: vec!["stderr".into()],
            error_output_paths: vec!["stderr".into()],
            initial_fields: BTreeMap::new(),
            sampling: Some(LogsSamplingConfig::default()),
            processors: Vec::new(),
        }
    }
}

impl LogsTelemetryConfig {
    pub(super) fn validate(&self, errors: &mut Vec<TelemetryConfigError>) {
        if let Some(sampling) = &self.sampling
            && sampling.enabled
            && sampling.tick.is_zero()
        {
            errors.push(error("logs::sampling::tick", "must be > 0"));
        }
        for (key, paths) in [
            ("output_paths", &self.output_paths),
            ("error_output_paths", &self.error_output_paths),
        ] {
            for (i, path) in paths.iter().enumerate() {
                if path.is_empty() {
                    errors.push(error(format!("logs::{key}::{i}"), "empty path"));
                }
            }
        }
        validate_processors("logs::processors", &self.processors, errors);
    }
}

/// `sampling`: zap's sampler. Per `tick`, of the entries with the same level and message,
/// the first `initial` are written, then every `thereafter`-th.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogsSamplingConfig {
    /// Whether to sample (true).
    pub enabled: bool,
    /// The window (`10s`).
    #[serde(with = "tributary_confmap::duration")]
    pub tick: Duration,
    /// Entries written per message per window before sampling starts (10).
    pub initial: u64,
    /// Then every this-many-th is written (100); 0 writes none.
    pub thereafter: u64,
}

impl Default for LogsSamplingConfig {
    fn default() -> Self {
        LogsSamplingConfig {
            enabled: true,
            tick: Duration::from_secs(10),
            initial: 10,
            thereafter: 100,
        }
    }
}

/// The minimum level of the collector's own logs. The Go Collector's `dpanic`, `panic`
/// and `fatal` mean `error` here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Everything, including per-request detail.
    Debug,
    /// Normal operation.
    #[default]
    Info,
    /// Problems the collector works around.
    Warn,
    /// Failures.
    #[serde(alias = "dpanic", alias = "panic", alias = "fatal")]
    Error,
}

impl LogLevel {
    /// The `tracing` filter directive for this level.
    pub fn as_directive(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

/// The format of the collector's own logs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogEncoding {
    /// zap's console encoding: tab-separated time, level, caller, message, then the
    /// fields as JSON.
    #[default]
    Console,
    /// One JSON object per line.
    Json,
}
