//! The `interval` processor's configuration: Go's `interval` and `pass_through`.

use std::time::Duration;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};

/// Configuration of the `interval` processor. See the [module docs](super).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// How often the aggregated values are sent on (60s; more than 0).
    #[serde(with = "tributary_confmap::duration")]
    pub interval: Duration,
    /// Which kinds go straight through instead of being aggregated.
    pub pass_through: PassThrough,
}

/// The metric kinds that may pass through rather than be aggregated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PassThrough {
    /// Gauges go straight through (false).
    pub gauge: bool,
    /// Summaries go straight through (false).
    pub summary: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            interval: Duration::from_secs(60),
            pass_through: PassThrough::default(),
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.interval.is_zero() {
            return Err(ConfigError::at(
                "interval",
                "invalid interval value: must be more than 0",
            ));
        }
        Ok(())
    }
}
