//! The `deltatocumulative` processor's configuration: Go's keys and defaults.

use std::time::Duration;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};

/// Configuration of the `deltatocumulative` processor. See the [module docs](super).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// How long a stream without new points is kept (5m; must be positive).
    #[serde(with = "tributary_confmap::duration")]
    pub max_stale: Duration,
    /// Most streams tracked; points of further streams are dropped (Go's default, the
    /// largest int: no limit beyond `max_stale`).
    pub max_streams: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_stale: Duration::from_secs(5 * 60),
            max_streams: i64::MAX as u64,
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.max_stale.is_zero() {
            return Err(ConfigError::at(
                "max_stale",
                "max_stale must be a positive duration (got 0s)",
            ));
        }
        if self.max_streams > i64::MAX as u64 {
            return Err(ConfigError::at(
                "max_streams",
                format!(
                    "at most {} (Go's int), found {}",
                    i64::MAX,
                    self.max_streams
                ),
            ));
        }
        Ok(())
    }
}
