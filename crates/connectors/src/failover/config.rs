//! The `failover` connector's configuration: the Go failover connector's keys and
//! defaults.

use std::time::Duration;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError, PipelineId};

/// The `failover` connector's settings.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Levels of pipelines, highest priority first; the pipelines of one level all get
    /// the data. Required.
    pub priority_levels: Vec<Vec<PipelineId>>,
    /// How often a higher level than the current one is tried again (10m).
    #[serde(with = "tributary_confmap::duration")]
    pub retry_interval: Duration,
    /// How a batch picks its level (`standard`).
    pub failover_mode: FailoverMode,
    /// Deprecated in Go (since the retry of single batches made spacing levels out
    /// unnecessary): accepted and ignored, with a warning.
    #[serde(default, with = "tributary_confmap::duration::option")]
    pub retry_gap: Option<Duration>,
    /// Deprecated in Go with `retry_gap`: accepted and ignored, with a warning; higher
    /// levels are retried for as long as they fail.
    pub max_retries: Option<i64>,
}

/// The Go failover connector's `failover_mode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailoverMode {
    /// Stay on the level that last accepted data; try the levels above it once every
    /// `retry_interval`.
    #[default]
    Standard,
    /// Every batch starts at the highest level and falls down until a level accepts it;
    /// nothing is remembered between batches.
    Progressive,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            priority_levels: Vec::new(),
            retry_interval: Duration::from_secs(10 * 60),
            failover_mode: FailoverMode::Standard,
            retry_gap: None,
            max_retries: None,
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.priority_levels.is_empty() {
            return Err(ConfigError::at(
                "priority_levels",
                "no pipelines are defined in the priority list",
            ));
        }
        for (index, level) in self.priority_levels.iter().enumerate() {
            if level.is_empty() {
                return Err(ConfigError::at(
                    format!("priority_levels::{index}"),
                    "a priority level must list at least one pipeline",
                ));
            }
        }
        if self.retry_interval.is_zero() {
            return Err(ConfigError::at("retry_interval", "must be positive"));
        }
        Ok(())
    }
}
