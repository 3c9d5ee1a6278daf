//! The batch processor's configuration: the Go Collector's keys and defaults.

use std::collections::HashSet;
use std::time::Duration;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};

/// Configuration of the `batch` processor. See the [module docs](super) for the table.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Pending items that trigger a send (8192). It triggers, it does not cap: without
    /// `send_batch_max_size` a batch holds everything pending when it is reached.
    pub send_batch_size: u32,
    /// Longest time data waits for its batch to fill (200ms). 0 sends every request at
    /// once, divided only by `send_batch_max_size`.
    #[serde(with = "tributary_confmap::duration")]
    pub timeout: Duration,
    /// Largest batch sent, in items (0: no limit). Larger batches, and requests, are divided.
    pub send_batch_max_size: u32,
    /// Send the pending batch early once no data has arrived for this long (1ms; 0: only
    /// `send_batch_size` and `timeout` send). Callers wait for their batch's outcome, so
    /// without it a client sending one request at a time would wait the whole `timeout`
    /// for every answer; under steady load data keeps arriving and batches still fill.
    #[serde(with = "tributary_confmap::duration")]
    pub flush_when_quiet: Duration,
    /// Client metadata keys (case-insensitive) whose values partition the data: one
    /// batcher per distinct combination of values, and each batch carries those values.
    pub metadata_keys: Vec<String>,
    /// Most distinct combinations of `metadata_keys` values batched at once (1000; 0: no
    /// limit). Data of a further combination is refused with a permanent error.
    pub metadata_cardinality_limit: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            send_batch_size: 8192,
            timeout: Duration::from_millis(200),
            send_batch_max_size: 0,
            flush_when_quiet: Duration::from_millis(1),
            metadata_keys: Vec::new(),
            metadata_cardinality_limit: 1000,
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.send_batch_max_size != 0 && self.send_batch_max_size < self.send_batch_size {
            return Err(ConfigError::at(
                "send_batch_max_size",
                format!(
                    "must be 0 (no limit) or at least send_batch_size ({}), found {}",
                    self.send_batch_size, self.send_batch_max_size
                ),
            ));
        }
        let mut seen = HashSet::new();
        for (index, key) in self.metadata_keys.iter().enumerate() {
            let key = key.to_ascii_lowercase();
            if !seen.insert(key.clone()) {
                return Err(ConfigError::at(
                    format!("metadata_keys::{index}"),
                    format!("duplicate entry in metadata_keys: {key:?} (case-insensitive)"),
                ));
            }
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
    fn defaults_are_the_go_collectors() {
        let config = load("").unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.send_batch_size, 8192);
        assert_eq!(config.timeout, Duration::from_millis(200));
        assert_eq!(config.send_batch_max_size, 0);
        assert!(config.metadata_keys.is_empty());
        assert_eq!(config.metadata_cardinality_limit, 1000);
        // Ours, not the Go Collector's: how long a lone caller waits for its batch.
        assert_eq!(config.flush_when_quiet, Duration::from_millis(1));
    }

    #[test]
    fn testdata_decodes() {
        let conf = Conf::from_yaml(include_str!("testdata/config.yaml")).unwrap();
        let custom: Config = conf.decode_at("processors::batch/custom").unwrap();
        custom.validate().unwrap();
        assert_eq!(
            custom,
            Config {
                send_batch_size: 10000,
                timeout: Duration::from_secs(10),
                send_batch_max_size: 11000,
                flush_when_quiet: Duration::from_millis(1),
                metadata_keys: vec!["tenant_id".into(), "X-Scope-OrgID".into()],
                metadata_cardinality_limit: 50,
            }
        );
        let immediate: Config = conf.decode_at("processors::batch/immediate").unwrap();
        assert_eq!(immediate.timeout, Duration::ZERO);
    }

    #[test]
    fn a_maximum_below_the_trigger_is_refused() {
        let error = load("send_batch_size: 100\nsend_batch_max_size: 50\n").unwrap_err();
        assert_eq!(error.path(), "send_batch_max_size");
        assert_eq!(
            error.to_string(),
            "send_batch_max_size: must be 0 (no limit) or at least send_batch_size (100), found 50"
        );
        assert!(load("send_batch_size: 100\nsend_batch_max_size: 100\n").is_ok());
        assert!(load("send_batch_size: 100\nsend_batch_max_size: 0\n").is_ok());
    }

    #[test]
    fn duplicate_metadata_keys_are_refused_whatever_their_case() {
        let error = load("metadata_keys: [tenant, Region, TENANT]\n").unwrap_err();
        assert_eq!(error.path(), "metadata_keys::2");
        assert_eq!(
            error.message(),
            r#"duplicate entry in metadata_keys: "tenant" (case-insensitive)"#
        );
    }

    #[test]
    fn malformed_values_name_their_key() {
        let error = load("timeout: -5s\n").unwrap_err();
        assert_eq!(error.path(), "timeout");
        let error = load("send_batch_size: -1\n").unwrap_err();
        assert_eq!(error.path(), "send_batch_size");
        let error = load("send_batch_sise: 10\n").unwrap_err();
        assert!(error.to_string().contains("send_batch_sise"), "{error}");
    }
}
