//! The memory limiter's configuration: the Go Collector's keys, defaults and checks.

use std::time::Duration;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};

/// Configuration of the `memory_limiter` processor. See the [module docs](super) for the
/// table.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Time between two measurements of the process's memory use. Required; 1s suits most.
    #[serde(with = "tributary_confmap::duration")]
    pub check_interval: Duration,
    /// Hard limit, in MiB. Takes precedence over `limit_percentage`.
    pub limit_mib: u32,
    /// Headroom below the hard limit, in MiB: data is refused from `limit_mib -
    /// spike_limit_mib` on. Defaults to 20% of the limit; must be less than `limit_mib`.
    pub spike_limit_mib: u32,
    /// Hard limit, in percent of the memory available to the process (its cgroup's limit,
    /// or the host's total memory).
    pub limit_percentage: u32,
    /// Headroom in percent of the available memory; defaults to 20% of the limit; must be
    /// less than `limit_percentage`.
    pub spike_limit_percentage: u32,
    /// Least time between two attempts to hand freed memory back to the operating system
    /// while above the soft limit (10s). Go forces a garbage collection here.
    #[serde(with = "tributary_confmap::duration")]
    pub min_gc_interval_when_soft_limited: Duration,
    /// The same while above the hard limit (0: at every check).
    #[serde(with = "tributary_confmap::duration")]
    pub min_gc_interval_when_hard_limited: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            check_interval: Duration::ZERO,
            limit_mib: 0,
            spike_limit_mib: 0,
            limit_percentage: 0,
            spike_limit_percentage: 0,
            min_gc_interval_when_soft_limited: Duration::from_secs(10),
            min_gc_interval_when_hard_limited: Duration::ZERO,
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.check_interval.is_zero() {
            return Err(ConfigError::at(
                "check_interval",
                "must be greater than 0 (1s suits most deployments)",
            ));
        }
        if self.min_gc_interval_when_soft_limited < self.min_gc_interval_when_hard_limited {
            return Err(ConfigError::at(
                "min_gc_interval_when_soft_limited",
                "must be at least min_gc_interval_when_hard_limited",
            ));
        }
        if self.limit_mib == 0 && self.limit_percentage == 0 {
            return Err(ConfigError::at(
                "limit_mib",
                "set limit_mib or limit_percentage to a value greater than 0",
            ));
        }
        for (key, value) in [
            ("limit_percentage", self.limit_percentage),
            ("spike_limit_percentage", self.spike_limit_percentage),
        ] {
            if value > 100 {
                return Err(ConfigError::at(
                    key,
                    format!("must be between 0 and 100, found {value}"),
                ));
            }
        }
        if self.limit_mib > 0 && self.spike_limit_mib >= self.limit_mib {
            return Err(ConfigError::at(
                "spike_limit_mib",
                format!(
                    "must be less than limit_mib ({}), found {}",
                    self.limit_mib, self.spike_limit_mib
                ),
            ));
        }
        if self.limit_percentage > 0 && self.spike_limit_percentage >= self.limit_percentage {
            return Err(ConfigError::at(
                "spike_limit_percentage",
                format!(
                    "must be less than limit_percentage ({}), found {}",
                    self.limit_percentage, self.spike_limit_percentage
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use tributary_confmap::Conf;

    use super::*;

    fn load(yaml: &str) -> Result<Config, ConfigError> {
        tributary_pipeline_core::component::load_config(yaml)
    }

    #[test]
    fn testdata_decodes() {
        let conf = Conf::from_yaml(include_str!("testdata/config.yaml")).unwrap();
        let fixed: Config = conf.decode_at("processors::memory_limiter").unwrap();
        fixed.validate().unwrap();
        assert_eq!(
            fixed,
            Config {
                check_interval: Duration::from_secs(1),
                limit_mib: 4000,
                spike_limit_mib: 500,
                ..Config::default()
            }
        );
        let relative: Config = conf
            .decode_at("processors::memory_limiter/relative")
            .unwrap();
        relative.validate().unwrap();
        assert_eq!(
            (
                relative.check_interval,
                relative.limit_percentage,
                relative.spike_limit_percentage
            ),
            (Duration::from_millis(250), 80, 15)
        );
        assert_eq!(
            relative.min_gc_interval_when_soft_limited,
            Duration::from_secs(30)
        );
    }

    #[test]
    fn check_interval_is_required() {
        let error = load("limit_mib: 100\n").unwrap_err();
        assert_eq!(error.path(), "check_interval");
        assert_eq!(
            error.to_string(),
            "check_interval: must be greater than 0 (1s suits most deployments)"
        );
    }

    #[test]
    fn a_limit_is_required() {
        let error = load("check_interval: 1s\n").unwrap_err();
        assert_eq!(error.path(), "limit_mib");
        assert!(error.message().contains("limit_percentage"), "{error}");
    }

    #[test]
    fn the_spike_must_stay_below_the_limit() {
        let error = load("check_interval: 1s\nlimit_mib: 100\nspike_limit_mib: 100\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "spike_limit_mib: must be less than limit_mib (100), found 100"
        );
        let error = load("check_interval: 1s\nlimit_percentage: 50\nspike_limit_percentage: 60\n")
            .unwrap_err();
        assert_eq!(error.path(), "spike_limit_percentage");
    }

    #[test]
    fn percentages_stay_within_100() {
        let error = load("check_interval: 1s\nlimit_percentage: 101\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "limit_percentage: must be between 0 and 100, found 101"
        );
        let error =
            load("check_interval: 1s\nlimit_mib: 10\nspike_limit_percentage: 120\n").unwrap_err();
        assert_eq!(error.path(), "spike_limit_percentage");
    }

    #[test]
    fn reclaim_intervals_are_consistent() {
        let error = load(
            "check_interval: 1s\nlimit_mib: 10\nmin_gc_interval_when_soft_limited: 1s\n\
             min_gc_interval_when_hard_limited: 5s\n",
        )
        .unwrap_err();
        assert_eq!(error.path(), "min_gc_interval_when_soft_limited");
    }

    #[test]
    fn malformed_values_name_their_key() {
        let error = load("check_interval: -1\nlimit_mib: 10\n").unwrap_err();
        assert_eq!(error.path(), "check_interval");
        let error = load("check_interval: 1s\nlimit_mib: -10\n").unwrap_err();
        assert_eq!(error.path(), "limit_mib");
        let error = load("check_interval: 1s\nlimit_mb: 10\n").unwrap_err();
        assert!(error.to_string().contains("limit_mb"), "{error}");
    }
}
