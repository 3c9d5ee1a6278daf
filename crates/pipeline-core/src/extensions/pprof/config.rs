//! The `pprof` configuration: the Go Collector's keys.

use serde::Deserialize;

use crate::component::{ComponentConfig, ConfigError, check_endpoint};

/// Where pprof listens by default: loopback only, the Go Collector's port.
pub const DEFAULT_ENDPOINT: &str = "127.0.0.1:1777";

/// The `pprof` extension's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to serve on. Default `127.0.0.1:1777`.
    pub endpoint: String,
    /// Go's `runtime.SetBlockProfileRate`: only 0 (off) is accepted.
    pub block_profile_fraction: i64,
    /// Go's `runtime.SetMutexProfileFraction`: only 0 (off) is accepted.
    pub mutex_profile_fraction: i64,
    /// A file to write a CPU profile of the collector's whole run to (at shutdown).
    pub save_to_file: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            endpoint: DEFAULT_ENDPOINT.into(),
            block_profile_fraction: 0,
            mutex_profile_fraction: 0,
            save_to_file: String::new(),
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        check_endpoint(&self.endpoint).map_err(|message| ConfigError::at("endpoint", message))?;
        for (key, value, what) in [
            (
                "block_profile_fraction",
                self.block_profile_fraction,
                "blocking",
            ),
            (
                "mutex_profile_fraction",
                self.mutex_profile_fraction,
                "mutex contention",
            ),
        ] {
            if value != 0 {
                return Err(ConfigError::at(
                    key,
                    format!(
                        "must be 0: it samples {what} events of the Go runtime's scheduler, \
                         which this collector does not have (only CPU profiles are available)"
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(yaml: &str) -> Config {
        tributary_confmap::Conf::from_yaml(yaml)
            .unwrap()
            .as_value()
            .decode()
            .unwrap()
    }

    #[test]
    fn go_runtime_settings_are_refused_unless_zero() {
        assert!(decode("{}").validate().is_ok());
        assert_eq!(decode("{}").endpoint, "127.0.0.1:1777");
        assert!(
            decode("block_profile_fraction: 0\nmutex_profile_fraction: 0")
                .validate()
                .is_ok()
        );
        for key in ["block_profile_fraction", "mutex_profile_fraction"] {
            let error = decode(&format!("{key}: 5"))
                .validate()
                .unwrap_err()
                .to_string();
            assert!(
                error.contains(key) && error.contains("Go runtime"),
                "{error}"
            );
        }
    }
}
