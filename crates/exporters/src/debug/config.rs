//! The `debug` exporter's configuration.

use std::fmt;

use serde::{Deserialize, Deserializer};
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};
use tributary_pipeline_core::exporterhelper::ExporterHelperConfig;

/// How much is printed per batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Verbosity {
    /// One summary line per batch, with counts (the default).
    #[default]
    Basic,
    /// The summary, then about one line per span, data point or log record.
    Normal,
    /// The summary, then every field of every item.
    Detailed,
}

impl fmt::Display for Verbosity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verbosity::Basic => "basic",
            Verbosity::Normal => "normal",
            Verbosity::Detailed => "detailed",
        })
    }
}

impl<'de> Deserialize<'de> for Verbosity {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Case-insensitive, as Go's configtelemetry levels.
        let text = String::deserialize(deserializer)?;
        match text.to_ascii_lowercase().as_str() {
            "basic" => Ok(Verbosity::Basic),
            "normal" => Ok(Verbosity::Normal),
            "detailed" => Ok(Verbosity::Detailed),
            _ => Err(serde::de::Error::custom(format!(
                "verbosity level {text:?} is not supported: use basic, normal or detailed"
            ))),
        }
    }
}

/// The `debug` exporter's configuration: the Go Collector's `debug` exporter keys.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `basic` (default), `normal` or `detailed`.
    pub verbosity: Verbosity,
    /// Batches printed in full each second before sampling starts (2).
    pub sampling_initial: u64,
    /// After `sampling_initial` in a second, print every this-many-th batch (1: every
    /// one; 0: none).
    pub sampling_thereafter: u64,
    /// Print through the collector's own log (`tracing`, level info; the default, as in
    /// Go) instead of straight to `output_paths`.
    pub use_internal_logger: bool,
    /// With `use_internal_logger: false`: where to write, each of `stdout`, `stderr` or a
    /// file path (appended to); empty means `[stdout]`, as in Go.
    pub output_paths: Vec<String>,
    /// `timeout` (of one print), `retry_on_failure` and `sending_queue`: all off unless
    /// set, as Go builds this exporter (printing does not fail).
    #[serde(rename = "helper,squash", deserialize_with = "helper_over_defaults")]
    pub helper: ExporterHelperConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            verbosity: Verbosity::Basic,
            sampling_initial: 2,
            sampling_thereafter: 1,
            use_internal_logger: true,
            output_paths: Vec::new(),
            helper: ExporterHelperConfig::disabled(),
        }
    }
}

/// Decodes the helper's keys over this exporter's defaults, so that those left out stay
/// off rather than taking the helper's defaults.
fn helper_over_defaults<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<ExporterHelperConfig, D::Error> {
    ExporterHelperConfig::deserialize_over(Config::default().helper, deserializer)
}

impl Config {
    /// Where output goes without the internal logger: `output_paths`, or standard output.
    pub(crate) fn output_paths(&self) -> Vec<String> {
        if self.output_paths.is_empty() {
            vec!["stdout".to_owned()]
        } else {
            self.output_paths.clone()
        }
    }
}

impl ComponentConfig for Config {
    /// Go's rules: `output_paths` only without the internal logger, and no empty path.
    fn validate(&self) -> Result<(), ConfigError> {
        if !self.output_paths.is_empty() {
            if self.use_internal_logger {
                return Err(ConfigError::at(
                    "output_paths",
                    "requires use_internal_logger to be false (the internal logger writes \
                     where service::telemetry::logs says)",
                ));
            }
            if let Some(index) = self.output_paths.iter().position(String::is_empty) {
                return Err(ConfigError::at(
                    format!("output_paths::{index}"),
                    "cannot be empty: use stdout, stderr or a file path",
                ));
            }
        }
        self.helper.validate()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tributary_pipeline_core::component::load_config;

    use super::*;

    #[test]
    fn helper_keys_left_out_stay_off() {
        let config: Config = load_config("timeout: 1s").unwrap();
        assert_eq!(config.helper.timeout, Duration::from_secs(1));
        assert!(!config.helper.sending_queue.enabled);
        assert!(!config.helper.retry_on_failure.enabled);
        let config: Config = load_config("retry_on_failure: {enabled: true}").unwrap();
        assert!(config.helper.retry_on_failure.enabled);
        assert!(!config.helper.sending_queue.enabled);
        assert!(config.helper.timeout.is_zero());
    }

    #[test]
    fn an_unknown_key_lists_the_helpers_keys_too() {
        let error = load_config::<Config>("sending_queu: {}").unwrap_err();
        assert_eq!(
            error.to_string(),
            "sending_queu: unknown key; valid keys: `verbosity`, `sampling_initial`, \
             `sampling_thereafter`, `use_internal_logger`, `output_paths`, `timeout`, \
             `retry_on_failure`, `sending_queue`"
        );
    }
}
