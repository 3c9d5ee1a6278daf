//! The `file` exporter's configuration.

use std::time::Duration;

use serde::{Deserialize, Deserializer};
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};
use tributary_pipeline_core::exporterhelper::ExporterHelperConfig;

/// How batches are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// One OTLP/JSON `Export*ServiceRequest` object per line (the default).
    #[default]
    Json,
    /// Protobuf `Export*ServiceRequest` messages, each preceded by its length as a 4-byte
    /// big-endian integer.
    Proto,
}

/// `compression`: none, or zstd per record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FileCompression {
    /// Records as they are (`""` or `none`).
    #[default]
    None,
    /// Each record zstd-compressed and length-prefixed, whatever the format.
    Zstd,
}

impl<'de> Deserialize<'de> for FileCompression {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        match name.as_str() {
            "" | "none" => Ok(FileCompression::None),
            "zstd" => Ok(FileCompression::Zstd),
            other => Err(serde::de::Error::custom(format!(
                "unsupported compression {other:?}: use zstd, or none"
            ))),
        }
    }
}

/// `rotation`: roll the file over by size, keeping a bounded number of old files.
/// Present turns rotation on: `rotation: {}` rotates with these defaults.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RotationConfig {
    /// Roll over before the file would grow beyond this many megabytes (100; 0 means 100).
    pub max_megabytes: u64,
    /// Delete rolled-over files older than this many days, by the time in their names
    /// (0: keep regardless of age).
    pub max_days: u64,
    /// Keep at most this many rolled-over files (100; 0: keep all, subject to `max_days`).
    pub max_backups: usize,
    /// Name rolled-over files by local time instead of UTC.
    pub localtime: bool,
}

impl Default for RotationConfig {
    fn default() -> Self {
        RotationConfig {
            max_megabytes: 100,
            max_days: 0,
            max_backups: 100,
            localtime: false,
        }
    }
}

impl RotationConfig {
    /// The size limit in bytes.
    pub(crate) fn max_bytes(&self) -> u64 {
        let megabytes = if self.max_megabytes == 0 {
            100
        } else {
            self.max_megabytes
        };
        megabytes.saturating_mul(1024 * 1024)
    }
}

/// `group_by`: one file per value of a resource attribute, the value replacing the `*`
/// in `path`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroupByConfig {
    /// Whether grouping is on (false).
    pub enabled: bool,
    /// The resource attribute whose (string) value names the file
    /// (`fileexporter.path_segment`); resources without it are not written.
    pub resource_attribute: String,
    /// Files kept open at once (100); the least recently written is closed beyond that.
    pub max_open_files: usize,
}

impl Default for GroupByConfig {
    fn default() -> Self {
        GroupByConfig {
            enabled: false,
            resource_attribute: "fileexporter.path_segment".into(),
            max_open_files: 100,
        }
    }
}

/// The `file` exporter's configuration: the Go Collector's `file` exporter keys, plus
/// the exporter helper's.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The file to write (required).
    pub path: String,
    /// Append to an existing file instead of truncating it.
    pub append: bool,
    /// Size-based rotation; absent means never rotate.
    pub rotation: Option<RotationConfig>,
    /// `json` (default) or `proto`.
    pub format: Format,
    /// An encoding extension; not supported (use `format`).
    pub encoding: String,
    /// `zstd`, or none (default).
    pub compression: FileCompression,
    /// How often written data is forced to disk (1s); 0 forces it after every write.
    #[serde(with = "tributary_confmap::duration")]
    pub flush_interval: Duration,
    /// One file per resource attribute value.
    pub group_by: Option<GroupByConfig>,
    /// Create the file's directory if it does not exist.
    pub create_directory: bool,
    /// Permissions of created directories, in octal (`"0755"`); needs `create_directory`.
    pub directory_permissions: String,
    /// `timeout` (of one write), `retry_on_failure` and `sending_queue`: all off unless set,
    /// as the Go exporter has none; without a timeout a write waits for the disk however
    /// long it takes.
    #[serde(rename = "helper,squash", deserialize_with = "helper_over_defaults")]
    pub helper: ExporterHelperConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: String::new(),
            append: false,
            rotation: None,
            format: Format::Json,
            encoding: String::new(),
            compression: FileCompression::None,
            flush_interval: Duration::from_secs(1),
            group_by: None,
            create_directory: false,
            directory_permissions: String::new(),
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
    /// `group_by`, when enabled.
    pub(crate) fn grouping(&self) -> Option<&GroupByConfig> {
        self.group_by.as_ref().filter(|g| g.enabled)
    }

    /// The permissions for created directories (0755 unless set).
    pub(crate) fn directory_mode(&self) -> Result<u32, ConfigError> {
        if self.directory_permissions.is_empty() {
            return Ok(0o755);
        }
        let mode = u32::from_str_radix(&self.directory_permissions, 8).map_err(|_| {
            ConfigError::at(
                "directory_permissions",
                "must be an octal number such as \"0755\"",
            )
        })?;
        if mode & !0o777 != 0 {
            return Err(ConfigError::at(
                "directory_permissions",
                "may only hold permission bits (at most 0777)",
            ));
        }
        Ok(mode)
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.path.is_empty() {
            return Err(ConfigError::at("path", "must be non-empty"));
        }
        if self.append && self.compression != FileCompression::None {
            return Err(ConfigError::at(
                "append",
                "append and compression enabled at the same time is not supported",
            ));
        }
        if self.append && self.rotation.is_some() {
            return Err(ConfigError::at(
                "append",
                "append and rotation enabled at the same time is not supported",
            ));
        }
        if !self.encoding.is_empty() {
            return Err(ConfigError::at(
                "encoding",
                "encoding extensions are not supported; use format: json or proto",
            ));
        }
        if let Some(group_by) = self.grouping() {
            // Go's rules.
            let stars = self.path.matches('*').count();
            if stars != 1 {
                return Err(ConfigError::at(
                    "path",
                    "must contain exactly one * when group_by is enabled",
                ));
            }
            if self.path.starts_with('*') {
                return Err(ConfigError::at(
                    "path",
                    "must not start with * when group_by is enabled",
                ));
            }
            if group_by.resource_attribute.is_empty() {
                return Err(ConfigError::at(
                    "group_by::resource_attribute",
                    "must not be empty when group_by is enabled",
                ));
            }
            if group_by.max_open_files == 0 {
                return Err(ConfigError::at(
                    "group_by::max_open_files",
                    "must be greater than 0",
                ));
            }
        }
        if !self.create_directory && !self.directory_permissions.is_empty() {
            return Err(ConfigError::at(
                "directory_permissions",
                "requires create_directory to be true",
            ));
        }
        self.directory_mode()?;
        self.helper.validate()
    }
}
