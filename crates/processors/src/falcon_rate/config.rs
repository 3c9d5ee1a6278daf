//! The `falcon_rate` processor's configuration. Open-Falcon has no collector component to
//! copy keys from; the names follow the Collector's conventions (durations as `60s`).

use std::time::Duration;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};

use crate::falcon_series::whole_seconds;

/// Configuration of the `falcon_rate` processor. See the [module docs](super) for the table.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Turn cumulative monotonic sums into rates (true): what the `falcon` receiver makes
    /// of `COUNTER` and `DERIVE` series.
    pub cumulative_sums: bool,
    /// Metrics (exact names) turned into rates whatever the above says, gauges included:
    /// counters a source sent as gauges.
    pub metrics: Vec<String>,
    /// A data point attribute that marks counters by its value `COUNTER` or `DERIVE`
    /// (`counterType`; empty: none). After conversion the attribute reads `GAUGE`, so a
    /// Falcon exporter does not hand the rate to graph as a counter again.
    pub counter_type_attribute: String,
    /// The data point attribute holding the series' step in seconds (`step`).
    pub step_attribute: String,
    /// The step of a series without a valid `step_attribute` (60s).
    #[serde(with = "tributary_confmap::duration")]
    pub default_step: Duration,
    /// Points further apart than this many steps give no rate (2: Falcon graph's RRD
    /// heartbeat is two steps); the later point starts the series over. 0: no limit.
    pub heartbeat_steps: u32,
    /// Truncate values to integers before taking the difference, as Falcon graph does
    /// before its RRD update (false).
    pub truncate_to_int: bool,
    /// Most series whose last point is remembered (100000). A point of a further series
    /// is dropped and counted.
    pub max_series: usize,
    /// A series not seen for this long is forgotten (15m); its next point counts as its
    /// first. 0: only `max_series` bounds the state.
    #[serde(with = "tributary_confmap::duration")]
    pub max_stale: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            cumulative_sums: true,
            metrics: Vec::new(),
            counter_type_attribute: "counterType".into(),
            step_attribute: "step".into(),
            default_step: Duration::from_secs(60),
            heartbeat_steps: 2,
            truncate_to_int: false,
            max_series: 100_000,
            max_stale: Duration::from_secs(15 * 60),
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        whole_seconds(self.default_step).map_err(|e| ConfigError::at("default_step", e))?;
        if self.max_series == 0 {
            return Err(ConfigError::at(
                "max_series",
                "must be at least 1: a rate needs the series' previous point",
            ));
        }
        if self.step_attribute.is_empty() {
            return Err(ConfigError::at(
                "step_attribute",
                "name the attribute holding the step (the falcon receiver writes `step`)",
            ));
        }
        if !self.cumulative_sums
            && self.metrics.is_empty()
            && self.counter_type_attribute.is_empty()
        {
            return Err(ConfigError::at(
                "cumulative_sums",
                "nothing would be converted: enable cumulative_sums, list metrics, or name a counter_type_attribute",
            ));
        }
        Ok(())
    }
}
