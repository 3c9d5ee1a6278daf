//! The `file_storage` extension's configuration.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::state::FsyncPolicy;
use crate::component::{ComponentConfig, ConfigError};

/// `fsync`: when queue writes are forced to disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fsync {
    /// `batch` (default): every group of appends is on disk before it is acknowledged.
    #[default]
    Batch,
    /// `interval`: in the background every `fsync_interval`.
    Interval,
    /// `never`: left to the operating system.
    Never,
}

impl<'de> Deserialize<'de> for Fsync {
    /// `batch`, `interval` or `never`; also the Go Collector's booleans (`true` = `batch`,
    /// `false` = `never`), so its configurations keep their meaning.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FsyncVisitor;
        impl Visitor<'_> for FsyncVisitor {
            type Value = Fsync;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("one of batch, interval, never (or true / false)")
            }
            fn visit_bool<E: de::Error>(self, value: bool) -> Result<Fsync, E> {
                Ok(if value { Fsync::Batch } else { Fsync::Never })
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Fsync, E> {
                match value {
                    "batch" => Ok(Fsync::Batch),
                    "interval" => Ok(Fsync::Interval),
                    "never" => Ok(Fsync::Never),
                    other => Err(E::invalid_value(de::Unexpected::Str(other), &self)),
                }
            }
        }
        deserializer.deserialize_any(FsyncVisitor)
    }
}

/// `compaction`: the Go extension's bbolt compaction settings.
///
/// The queue log here reclaims disk space as it runs (a segment is deleted, whole, once
/// everything in it was delivered), so there is never a database file to compact: these
/// keys are accepted so Go configurations load, checked by Go's rules, and change nothing.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompactionConfig {
    /// Compact when the collector starts (false).
    pub on_start: bool,
    /// Compact online once usage rebounds (false).
    pub on_rebound: bool,
    /// Where Go writes the temporary compacted file (the storage directory).
    pub directory: PathBuf,
    /// Go: allocated size above which online compaction is needed, MiB (100).
    pub rebound_needed_threshold_mib: i64,
    /// Go: allocated size below which needed online compaction starts, MiB (10).
    pub rebound_trigger_threshold_mib: i64,
    /// Go: items per compaction transaction (65536); 0 ignores the size.
    pub max_transaction_size: i64,
    /// Go: how often the rebound conditions are checked (5s).
    #[serde(with = "tributary_confmap::duration")]
    pub check_interval: Duration,
    /// Go: remove temporary files a crashed compaction left, on start (false).
    pub cleanup_on_start: bool,
}

impl Default for CompactionConfig {
    fn default() -> Self {
        CompactionConfig {
            on_start: false,
            on_rebound: false,
            directory: PathBuf::from(DEFAULT_DIRECTORY),
            rebound_needed_threshold_mib: 100,
            rebound_trigger_threshold_mib: 10,
            max_transaction_size: 65536,
            check_interval: Duration::from_secs(5),
            cleanup_on_start: false,
        }
    }
}

impl CompactionConfig {
    /// Go's checks: a non-negative transaction size, and a check interval when compacting
    /// on rebound.
    fn validate(&self) -> Result<(), ConfigError> {
        if self.max_transaction_size < 0 {
            return Err(ConfigError::at(
                "max_transaction_size",
                "cannot be less than 0",
            ));
        }
        if self.on_rebound && self.check_interval.is_zero() {
            return Err(ConfigError::at(
                "check_interval",
                "must be positive when on_rebound is set",
            ));
        }
        Ok(())
    }
}

/// The default `directory` (Go's, on Unix).
const DEFAULT_DIRECTORY: &str = "/var/lib/otelcol/file_storage";

/// The `file_storage` extension's configuration: the Go extension's keys, plus
/// `fsync_interval` and `segment_size_mib` for the queue log.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `directory` | `/var/lib/otelcol/file_storage` | where queues live, one subdirectory per (exporter, signal) |
/// | `create_directory` | `false` | create `directory` if it is missing |
/// | `directory_permissions` | `"0750"` | permissions (octal) of the directory `create_directory` creates |
/// | `timeout` | `1s` | how long opening a queue waits for another process to release it |
/// | `fsync` | `batch` | `batch`, `interval` or `never`; Go's `true` / `false` mean `batch` / `never` |
/// | `fsync_interval` | `1s` | how often `interval` syncs |
/// | `segment_size_mib` | `16` | size at which a segment file is closed and a new one started |
/// | `compaction` | all off | Go's bbolt compaction: accepted and checked, nothing to do here (see [`CompactionConfig`]) |
/// | `recreate` | `false` | Go: move a corrupt database aside and start empty; recovery here never refuses to start (see the module docs), so it changes nothing |
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileStorageConfig {
    /// Where queues live.
    pub directory: PathBuf,
    /// Create `directory` (and its parents) if missing.
    pub create_directory: bool,
    /// Permissions of the directory `create_directory` creates, in octal (`"0750"`).
    pub directory_permissions: String,
    /// How long opening a queue waits for the process holding it (another collector, or
    /// one shutting down) to let go before failing (1s, Go's bbolt lock timeout).
    #[serde(with = "tributary_confmap::duration")]
    pub timeout: Duration,
    /// Go's compaction settings; nothing to compact here.
    pub compaction: CompactionConfig,
    /// Go's `recreate`; recovery already starts past any corruption.
    pub recreate: bool,
    /// When writes are forced to disk.
    pub fsync: Fsync,
    /// How often the `interval` policy syncs.
    #[serde(with = "tributary_confmap::duration")]
    pub fsync_interval: Duration,
    /// Segment file size in MiB; disk space is reclaimed a whole segment at a time.
    pub segment_size_mib: u64,
}

impl Default for FileStorageConfig {
    fn default() -> Self {
        FileStorageConfig {
            directory: PathBuf::from(DEFAULT_DIRECTORY),
            create_directory: false,
            directory_permissions: "0750".into(),
            timeout: Duration::from_secs(1),
            compaction: CompactionConfig::default(),
            recreate: false,
            fsync: Fsync::Batch,
            fsync_interval: Duration::from_secs(1),
            segment_size_mib: 16,
        }
    }
}

impl ComponentConfig for FileStorageConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.directory.as_os_str().is_empty() {
            return Err(ConfigError::at("directory", "must not be empty"));
        }
        if self.fsync == Fsync::Interval && self.fsync_interval.is_zero() {
            return Err(ConfigError::at(
                "fsync_interval",
                "must be greater than 0 when fsync is interval",
            ));
        }
        if !(1..=1024).contains(&self.segment_size_mib) {
            return Err(ConfigError::at(
                "segment_size_mib",
                "must be between 1 and 1024",
            ));
        }
        if self.create_directory {
            self.directory_mode()?;
        }
        self.compaction
            .validate()
            .map_err(|e| e.within("compaction"))
    }
}

impl FileStorageConfig {
    /// `directory_permissions` as a mode, as Go parses it (octal, permission bits only).
    pub fn directory_mode(&self) -> Result<u32, ConfigError> {
        u32::from_str_radix(&self.directory_permissions, 8)
            .ok()
            .filter(|mode| mode & !0o777 == 0)
            .ok_or_else(|| {
                ConfigError::at(
                    "directory_permissions",
                    format!(
                        "{:?} is not an octal permission such as \"0750\"",
                        self.directory_permissions
                    ),
                )
            })
    }

    /// The fsync policy as the queue applies it.
    pub fn fsync_policy(&self) -> FsyncPolicy {
        match self.fsync {
            Fsync::Batch => FsyncPolicy::Batch,
            Fsync::Interval => FsyncPolicy::Interval(self.fsync_interval),
            Fsync::Never => FsyncPolicy::Never,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(yaml: &str) -> Result<FileStorageConfig, String> {
        crate::component::load_config(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_policies() {
        let config = decode("directory: /tmp/q\n").unwrap();
        assert_eq!(config.fsync_policy(), FsyncPolicy::Batch);
        let config = decode("directory: /tmp/q\nfsync: interval\nfsync_interval: 250ms\n").unwrap();
        assert_eq!(
            config.fsync_policy(),
            FsyncPolicy::Interval(Duration::from_millis(250))
        );
        assert_eq!(decode("fsync: never\n").unwrap().fsync, Fsync::Never);
    }

    #[test]
    fn go_booleans_keep_their_meaning() {
        assert_eq!(decode("fsync: true\n").unwrap().fsync, Fsync::Batch);
        assert_eq!(decode("fsync: false\n").unwrap().fsync, Fsync::Never);
    }

    #[test]
    fn bad_values_name_their_key() {
        assert!(decode("fsync: sometimes\n").unwrap_err().contains("fsync"));
        assert!(
            decode("segment_size_mib: 0\n")
                .unwrap_err()
                .contains("segment_size_mib")
        );
        assert!(decode("directory: ''\n").unwrap_err().contains("directory"));
        assert!(decode("compactio: {}\n").is_err());
    }

    /// The Go extension's keys all load, with its defaults.
    #[test]
    fn go_keys_load_with_go_defaults() {
        let config = decode("directory: /tmp/q\n").unwrap();
        assert_eq!(config.timeout, Duration::from_secs(1));
        assert_eq!(config.directory_permissions, "0750");
        assert!(!config.recreate);
        assert_eq!(config.compaction, CompactionConfig::default());
        assert_eq!(config.compaction.max_transaction_size, 65536);
        assert_eq!(config.compaction.check_interval, Duration::from_secs(5));
        let config = decode(
            "directory: .\ntimeout: 2s\nfsync: true\nrecreate: true\n\
             create_directory: true\ndirectory_permissions: \"0700\"\n\
             compaction: {directory: ., on_start: true, on_rebound: true, \
             rebound_trigger_threshold_mib: 16, rebound_needed_threshold_mib: 128, \
             max_transaction_size: 2048, check_interval: 1s, cleanup_on_start: true}\n",
        )
        .unwrap();
        assert_eq!(config.timeout, Duration::from_secs(2));
        assert_eq!(config.directory_mode().unwrap(), 0o700);
        assert!(config.compaction.on_rebound && config.compaction.cleanup_on_start);
        assert_eq!(config.compaction.max_transaction_size, 2048);
    }

    /// Go's `Validate` rules, with the path of the key at fault.
    #[test]
    fn go_rules_refuse_with_the_key() {
        let error = decode("compaction: {on_rebound: true, check_interval: 0s}\n").unwrap_err();
        assert!(error.starts_with("compaction::check_interval:"), "{error}");
        let error = decode("compaction: {max_transaction_size: -1}\n").unwrap_err();
        assert!(
            error.starts_with("compaction::max_transaction_size:"),
            "{error}"
        );
        let error = decode("create_directory: true\ndirectory_permissions: rwx\n").unwrap_err();
        assert!(error.starts_with("directory_permissions:"), "{error}");
        let error =
            decode("create_directory: true\ndirectory_permissions: \"1777\"\n").unwrap_err();
        assert!(error.starts_with("directory_permissions:"), "{error}");
        // Unused without create_directory, as in Go.
        assert!(decode("directory_permissions: rwx\n").is_ok());
    }
}
