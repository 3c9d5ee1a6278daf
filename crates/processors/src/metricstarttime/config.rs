//! The `metricstarttime` processor's configuration: Go's keys and defaults.

use std::time::Duration;

use regex::Regex;
use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};

/// Configuration of the `metricstarttime` processor. See the [module docs](super).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// How start times are found.
    pub strategy: Strategy,
    /// How often streams not seen since the last check are forgotten (10m).
    #[serde(with = "tributary_confmap::duration")]
    pub gc_interval: Duration,
    /// With `strategy: start_time_metric`, the name pattern of the metric holding the
    /// resource's start time in seconds (empty: `process_start_time_seconds`).
    pub start_time_metric_regex: String,
    /// Most streams tracked (0: no limit). A Tributary key, not Go's: points of further
    /// streams pass on without a start time, counted, so a peer cannot grow the state
    /// between two collections.
    pub max_streams: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            strategy: Strategy::TrueResetPoint,
            gc_interval: Duration::from_secs(10 * 60),
            start_time_metric_regex: String::new(),
            max_streams: DEFAULT_MAX_STREAMS,
        }
    }
}

/// The default `max_streams`: far above what one collector adjusts, low enough that the
/// state (a few hundred bytes a stream) stays within a few hundred megabytes.
pub const DEFAULT_MAX_STREAMS: usize = 1_000_000;

/// Go's `strategy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// A stream's first point starts it (start time = its own time); later points keep
    /// that start until a reset starts a new run.
    #[default]
    TrueResetPoint,
    /// A stream's first point is dropped and subtracted from later points, whose start
    /// time is its time.
    SubtractInitialPoint,
    /// The start time is the value of a start-time metric of the same resource.
    StartTimeMetric,
}

/// The metric `start_time_metric` reads when no regex is given.
pub const DEFAULT_START_TIME_METRIC: &str = "^process_start_time_seconds$";

impl Config {
    /// The start-time metric pattern, compiled.
    pub(crate) fn start_time_metric(&self) -> Result<Regex, ConfigError> {
        let pattern = if self.start_time_metric_regex.is_empty() {
            DEFAULT_START_TIME_METRIC
        } else {
            &self.start_time_metric_regex
        };
        Regex::new(pattern).map_err(|error| {
            ConfigError::at(
                "start_time_metric_regex",
                format!("invalid regexp {pattern:?}: {error}"),
            )
        })
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.gc_interval.is_zero() {
            return Err(ConfigError::at(
                "gc_interval",
                "gc_interval must be positive",
            ));
        }
        if !self.start_time_metric_regex.is_empty() && self.strategy != Strategy::StartTimeMetric {
            return Err(ConfigError::at(
                "start_time_metric_regex",
                "start_time_metric_regex can only be used with strategy: start_time_metric",
            ));
        }
        self.start_time_metric().map(drop)
    }
}
