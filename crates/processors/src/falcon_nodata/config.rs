//! The `falcon_nodata` processor's configuration: Falcon's `NodataConfig` rows
//! (`endpoint, metric, tags, type, step, mock`) as series selectors.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};

use crate::falcon_series::whole_seconds;

/// Configuration of the `falcon_nodata` processor. See the [module docs](super) for the table.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The series to watch; a series matching none is passed on and not tracked.
    pub series: Vec<SeriesSelector>,
    /// How often absent series are looked for (60s: Falcon's nodata judge runs every
    /// minute).
    #[serde(with = "tributary_confmap::duration")]
    pub check_interval: Duration,
    /// The data point attribute holding a series' step in seconds (`step`).
    pub step_attribute: String,
    /// The step of a series whose selector names none and whose points carry none (60s).
    #[serde(with = "tributary_confmap::duration")]
    pub default_step: Duration,
    /// Most series tracked at once (10000); points of further series pass untracked and
    /// are counted.
    pub max_series: usize,
}

/// Which series to watch, and what to emit when one stops: one Falcon nodata row.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeriesSelector {
    /// The metric name (exact; required).
    pub metric: String,
    /// Attributes a series must have, on its resource or its data points, with these
    /// values (Falcon's endpoint and tags). Each distinct series matching is watched on
    /// its own.
    pub attributes: BTreeMap<String, String>,
    /// The step, overriding the points' step attribute.
    #[serde(with = "tributary_confmap::duration::option")]
    pub step: Option<Duration>,
    /// The value of the point emitted when the series stops (Falcon's `mock`); absent:
    /// a staleness marker (a point flagged "no recorded value").
    pub mock: Option<f64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            series: Vec::new(),
            check_interval: Duration::from_secs(60),
            step_attribute: "step".into(),
            default_step: Duration::from_secs(60),
            max_series: 10_000,
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.check_interval.is_zero() {
            return Err(ConfigError::at("check_interval", "must be positive"));
        }
        whole_seconds(self.default_step).map_err(|e| ConfigError::at("default_step", e))?;
        if self.max_series == 0 {
            return Err(ConfigError::at("max_series", "must be at least 1"));
        }
        for (index, selector) in self.series.iter().enumerate() {
            if selector.metric.is_empty() {
                return Err(ConfigError::at(
                    format!("series::{index}::metric"),
                    "name the metric to watch",
                ));
            }
            if let Some(step) = selector.step {
                whole_seconds(step)
                    .map_err(|e| ConfigError::at(format!("series::{index}::step"), e))?;
            }
            if selector.mock.is_some_and(|m| !m.is_finite()) {
                return Err(ConfigError::at(
                    format!("series::{index}::mock"),
                    "must be a finite number; leave it out for a staleness marker",
                ));
            }
        }
        Ok(())
    }
}
