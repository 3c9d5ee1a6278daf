//! The `redaction` processor's configuration: Go's keys and defaults.

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};

use super::redactor::Redactor;

/// Configuration of the `redaction` processor. See the [module docs](super) for the table.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Keep every key (then only values are masked); `allowed_keys` is ignored.
    pub allow_all_keys: bool,
    /// The keys kept; every other key is removed. Empty means none is kept (fails closed).
    pub allowed_keys: Vec<String>,
    /// Keys left entirely alone: neither removed nor masked.
    pub ignored_keys: Vec<String>,
    /// Regular expressions over keys: a matching key is left alone like `ignored_keys`.
    pub ignored_key_patterns: Vec<String>,
    /// Regular expressions over keys: a matching key's whole value is masked.
    pub blocked_key_patterns: Vec<String>,
    /// Regular expressions over values: each match is masked.
    pub blocked_values: Vec<String>,
    /// Regular expressions over values: a matching value is kept unmasked.
    pub allowed_values: Vec<String>,
    /// How masked text is replaced: empty for `****`, else `md5`, `sha1`, `sha3`
    /// (SHA3-256), `hmac-sha256` or `hmac-sha512`, written as hex.
    pub hash_function: String,
    /// The key of the `hmac-*` hash functions.
    pub hmac_key: String,
    /// Which summary attributes are added: `debug` (keys and counts), `info` (counts),
    /// `silent` or empty (none).
    pub summary: String,
    /// Check non-string values too, by their text (`42`, `true`); a masked one becomes a
    /// string.
    pub redact_all_types: bool,
    /// Go's URL sanitizer; refused when enabled.
    pub url_sanitizer: Option<serde_json::Value>,
    /// Go's database statement sanitizer; refused when enabled.
    pub db_sanitizer: Option<serde_json::Value>,
}

/// Whether a sanitizer block turns anything on: its own `enabled`, or (for
/// `db_sanitizer`, one block per database: `sql`, `redis`, ...) a nested one.
fn enabled(block: &Option<serde_json::Value>) -> bool {
    fn on(value: &serde_json::Value) -> bool {
        value.get("enabled").and_then(serde_json::Value::as_bool) == Some(true)
            || value
                .as_object()
                .is_some_and(|map| map.values().any(|nested| nested.is_object() && on(nested)))
    }
    block.as_ref().is_some_and(on)
}

impl Config {
    /// Refuses the Go options this processor does not implement, naming why.
    pub(crate) fn check_supported(&self) -> Result<(), ConfigError> {
        for (key, block) in [
            ("url_sanitizer", &self.url_sanitizer),
            ("db_sanitizer", &self.db_sanitizer),
        ] {
            if enabled(block) {
                return Err(ConfigError::at(
                    key,
                    "not supported: this processor has no URL or database statement sanitizer; \
                     use blocked_values patterns for the parts to mask",
                ));
            }
        }
        Ok(())
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        Redactor::new(self).map(drop)
    }
}
