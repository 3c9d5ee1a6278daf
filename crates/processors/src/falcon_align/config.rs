//! The `falcon_align` processor's configuration. Falcon transfer's `minStep` is `min_step`
//! here; durations are written the Collector's way (`60s`).

use std::time::Duration;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};

use crate::falcon_series::whole_seconds;

/// Configuration of the `falcon_align` processor. See the [module docs](super) for the table.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The data point attribute holding the series' step in seconds (`step`).
    pub step_attribute: String,
    /// The step of a point without a valid step attribute (60s, the Falcon agent's
    /// `transfer.interval`); 0 leaves such points as they are.
    #[serde(with = "tributary_confmap::duration")]
    pub default_step: Duration,
    /// Steps below this are raised to it before aligning (30s, Falcon transfer's
    /// `minStep`); 0: no clamp.
    #[serde(with = "tributary_confmap::duration")]
    pub min_step: Duration,
    /// Only these metrics (exact names) are aligned; empty: all.
    pub metrics: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            step_attribute: "step".into(),
            default_step: Duration::from_secs(60),
            min_step: Duration::from_secs(30),
            metrics: Vec::new(),
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if !self.default_step.is_zero() {
            whole_seconds(self.default_step).map_err(|e| ConfigError::at("default_step", e))?;
        }
        if !self.min_step.is_zero() {
            whole_seconds(self.min_step).map_err(|e| ConfigError::at("min_step", e))?;
        }
        if self.step_attribute.is_empty() && self.default_step.is_zero() {
            return Err(ConfigError::at(
                "default_step",
                "with no step_attribute, a default_step is needed or nothing is aligned",
            ));
        }
        Ok(())
    }
}
