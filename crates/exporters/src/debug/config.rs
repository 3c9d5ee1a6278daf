//! The `debug` exporter's configuration.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};
use tributary_pipeline_core::exporterhelper::{HelperConfig, QueueConfig, RetryConfig};

/// How much is printed per batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Verbosity {
    /// One summary line per batch, with counts (the default).
    #[default]
    Basic,
    /// The summary, then about one line per span, data point or log record.
    Normal,
    /// The summary, then every field of every item.
    Detailed,
}

impl fmt::Display for Verbosity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verbosity::Basic => "basic",
            Verbosity::Normal => "normal",
            Verbosity::Detailed => "detailed",
        })
    }
}

impl<'de> Deserialize<'de> for Verbosity {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Case-insensitive, as Go's configtelemetry levels.
        let text = String::deserialize(deserializer)?;
        match text.to_ascii_lowercase().as_str() {
            "basic" => Ok(Verbosity::Basic),
            "normal" => Ok(Verbosity::Normal),
            "detailed" => Ok(Verbosity::Detailed),
            _ => Err(serde::de::Error::custom(format!(
                "verbosity level {text:?} is not supported: use basic, normal or detailed"
            ))),
        }
    }
}

/// The `debug` exporter's configuration: the Go Collector's `debug` exporter keys.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `basic` (default), `normal` or `detailed`.
    pub verbosity: Verbosity,
    /// Batches printed in full each second before sampling starts (2).
    pub sampling_initial: u64,
    /// After `sampling_initial` in a second, print every this-many-th batch (1: every
    /// one; 0: none).
    pub sampling_thereafter: u64,
    /// Print through the collector's own log (`tracing`, level info) instead of straight
    /// to standard error.
    pub use_internal_logger: bool,
    /// Deadline of one print; 0 (the default, as in Go) means none.
    #[serde(with = "tributary_confmap::duration")]
    pub timeout: Duration,
    /// Retries; disabled by default (printing does not fail).
    pub retry_on_failure: RetryConfig,
    /// The sending queue; disabled by default, as in Go.
    pub sending_queue: QueueConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            verbosity: Verbosity::Basic,
            sampling_initial: 2,
            sampling_thereafter: 1,
            use_internal_logger: false,
            timeout: Duration::ZERO,
            retry_on_failure: RetryConfig {
                enabled: false,
                ..RetryConfig::default()
            },
            sending_queue: QueueConfig {
                enabled: false,
                ..QueueConfig::default()
            },
        }
    }
}

impl Config {
    /// The delivery settings for the exporter helper.
    pub fn helper(&self) -> HelperConfig {
        HelperConfig {
            timeout: self.timeout,
            retry_on_failure: self.retry_on_failure.clone(),
            sending_queue: self.sending_queue.clone(),
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        self.helper().validate()
    }
}
