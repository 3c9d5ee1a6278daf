//! The `lookup` processor's configuration. The Go Collector has no such processor; the
//! keys follow its conventions (durations as `10s`, `override` as in `k8sattributes`).

use std::time::Duration;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};

/// Configuration of the `lookup` processor. See the [module docs](super) for the table.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the table comes from.
    pub source: Source,
    /// The attribute whose value is looked up (required), e.g. `host.ip`.
    pub key: String,
    /// Where the key is read and the attributes written: `resource` or `record` (spans,
    /// log records, data points).
    pub context: Context,
    /// Replace attributes the item already has (false: only add missing ones).
    #[serde(rename = "override")]
    pub override_existing: bool,
}

/// Where the table comes from: a file or an HTTP(S) URL, re-read every
/// `reload_interval`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Source {
    /// A file path.
    pub path: String,
    /// An `http://` or `https://` URL.
    pub url: String,
    /// `csv`, `yaml` or `json`; empty: from the path's or URL's extension.
    pub format: String,
    /// The table's key column (CSV) or field (a YAML/JSON list of rows): `key`. A table
    /// written as a map is keyed by the map's keys.
    pub key_column: String,
    /// How often the source is checked for changes (10s); 0: loaded once at start.
    #[serde(with = "tributary_confmap::duration")]
    pub reload_interval: Duration,
    /// Timeout of one HTTP fetch (5s).
    #[serde(with = "tributary_confmap::duration")]
    pub timeout: Duration,
    /// Largest table accepted, in bytes (64 MiB): a bigger file or response is a failed
    /// load, so a runaway source cannot exhaust memory.
    pub max_bytes: usize,
}

/// Where the processor reads the key and writes the attributes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Context {
    /// The resource's attributes (the default).
    #[default]
    Resource,
    /// Each span's, log record's or data point's attributes; the key is read from the
    /// record, else from its resource.
    Record,
}

/// The format of a lookup table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableFormat {
    /// CSV with a header row.
    Csv,
    /// YAML: a map of rows by key, or a list of rows.
    Yaml,
    /// JSON, shaped as YAML.
    Json,
}

impl Default for Source {
    fn default() -> Self {
        Source {
            path: String::new(),
            url: String::new(),
            format: String::new(),
            key_column: "key".into(),
            reload_interval: Duration::from_secs(10),
            timeout: Duration::from_secs(5),
            max_bytes: 64 << 20,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            source: Source::default(),
            key: String::new(),
            context: Context::Resource,
            override_existing: false,
        }
    }
}

impl Source {
    /// The table's format: `format`, else the extension of the path or URL.
    pub(crate) fn format(&self) -> Result<TableFormat, ConfigError> {
        let named = if self.format.is_empty() {
            let location = if self.path.is_empty() {
                self.url.split(['?', '#']).next().unwrap_or_default()
            } else {
                self.path.as_str()
            };
            location
                .rsplit_once('.')
                .map(|(_, ext)| ext.to_ascii_lowercase())
                .unwrap_or_default()
        } else {
            self.format.to_ascii_lowercase()
        };
        match named.as_str() {
            "csv" => Ok(TableFormat::Csv),
            "yaml" | "yml" => Ok(TableFormat::Yaml),
            "json" => Ok(TableFormat::Json),
            _ if self.format.is_empty() => Err(ConfigError::at(
                "source::format",
                "cannot tell the table's format from its name: set format to csv, yaml or json",
            )),
            other => Err(ConfigError::at(
                "source::format",
                format!("unknown format {other:?}: expected csv, yaml or json"),
            )),
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.key.is_empty() {
            return Err(ConfigError::at(
                "key",
                "name the attribute whose value is looked up (e.g. host.ip)",
            ));
        }
        let source = &self.source;
        match (source.path.is_empty(), source.url.is_empty()) {
            (true, true) => {
                return Err(ConfigError::at(
                    "source",
                    "set source::path (a file) or source::url (an http or https URL)",
                ));
            }
            (false, false) => {
                return Err(ConfigError::at(
                    "source",
                    "set either source::path or source::url, not both",
                ));
            }
            (true, false) => {
                if !(source.url.starts_with("http://") || source.url.starts_with("https://")) {
                    return Err(ConfigError::at(
                        "source::url",
                        "must be an http:// or https:// URL",
                    ));
                }
                if source.timeout.is_zero() {
                    return Err(ConfigError::at("source::timeout", "must be positive"));
                }
            }
            (false, true) => {}
        }
        source.format()?;
        if source.key_column.is_empty() {
            return Err(ConfigError::at("source::key_column", "must not be empty"));
        }
        if source.max_bytes == 0 {
            return Err(ConfigError::at("source::max_bytes", "must be positive"));
        }
        Ok(())
    }
}
