//! The `deltatorate` processor's configuration: Go's keys.

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};

/// Configuration of the `deltatorate` processor. See the [module docs](super).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Names of the delta sums to turn into rates; at least one.
    pub metrics: Vec<String>,
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.metrics.is_empty() {
            return Err(ConfigError::at("metrics", "metric names are missing"));
        }
        Ok(())
    }
}
