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

/// The `file_storage` extension's configuration.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `directory` | `/var/lib/otelcol/file_storage` | where queues live, one subdirectory per (exporter, signal) |
/// | `create_directory` | `false` | create `directory` if it is missing |
/// | `fsync` | `batch` | `batch`, `interval` or `never` (see the module docs) |
/// | `fsync_interval` | `1s` | how often `interval` syncs |
/// | `segment_size_mib` | `16` | size at which a segment file is closed and a new one started |
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileStorageConfig {
    /// Where queues live.
    pub directory: PathBuf,
    /// Create `directory` (and its parents) if missing.
    pub create_directory: bool,
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
            directory: PathBuf::from("/var/lib/otelcol/file_storage"),
            create_directory: false,
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
        Ok(())
    }
}

impl FileStorageConfig {
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
        assert!(decode("compaction: {}\n").is_err());
    }
}
