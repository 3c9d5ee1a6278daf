//! The `filelog` receiver's configuration: the Go `filelogreceiver`'s keys and defaults.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};

use super::encoding::Encoding;
use super::ordering::OrderingCriteria;
use super::split::{Multiline, SplitError};

/// `fingerprint_size` when not set (Go: `1kb`, 1000 bytes).
pub const DEFAULT_FINGERPRINT_SIZE: usize = 1000;
/// The smallest `fingerprint_size` Go accepts.
pub const MIN_FINGERPRINT_SIZE: usize = 16;
/// `max_log_size` when not set or 0 (1 MiB).
pub const DEFAULT_MAX_LOG_SIZE: usize = 1 << 20;

/// The `filelog` receiver's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `include`: glob patterns of the files to read (required).
    pub include: Vec<String>,
    /// `exclude`: glob patterns of matched files to leave out.
    pub exclude: Vec<String>,
    /// `exclude_older_than`: leave out files not modified for this long (0: off).
    #[serde(with = "tributary_confmap::duration")]
    pub exclude_older_than: Duration,
    /// `start_at`: `end` (default) or `beginning`, for files found at the first poll
    /// with no checkpoint.
    pub start_at: String,
    /// `poll_interval`: how often the files are listed and read.
    #[serde(with = "tributary_confmap::duration")]
    pub poll_interval: Duration,
    /// `fingerprint_size`: how many first bytes identify a file.
    #[serde(deserialize_with = "crate::syslog::byte_size")]
    pub fingerprint_size: usize,
    /// `max_log_size`: the longest entry; a longer one is cut into pieces this long.
    #[serde(deserialize_with = "crate::syslog::byte_size")]
    pub max_log_size: usize,
    /// `max_concurrent_files`: how many files are read in one poll.
    pub max_concurrent_files: usize,
    /// `max_batches`: Go's limit on batches of files per poll (0: none); accepted.
    pub max_batches: usize,
    /// `encoding`: `utf-8` (default), `nop` (bytes), `utf8-raw`, `ascii`, `utf-16le`,
    /// `utf-16be`, or another IANA/WHATWG label (`big5`, `shift_jis`, `iso-8859-1`, ...).
    pub encoding: String,
    /// `multiline`: entries start (`line_start_pattern`) or end (`line_end_pattern`)
    /// where a regular expression matches, instead of at each newline.
    pub multiline: Option<Multiline>,
    /// `preserve_leading_whitespaces`: keep the whitespace an entry starts with.
    pub preserve_leading_whitespaces: bool,
    /// `preserve_trailing_whitespaces`: keep the whitespace an entry ends with.
    pub preserve_trailing_whitespaces: bool,
    /// `force_flush_period`: how long an unterminated last entry waits for more data
    /// before it is sent as it is (0: never).
    #[serde(with = "tributary_confmap::duration")]
    pub force_flush_period: Duration,
    /// `include_file_name`: the `log.file.name` attribute.
    pub include_file_name: bool,
    /// `include_file_path`: the `log.file.path` attribute.
    pub include_file_path: bool,
    /// `include_file_name_resolved`: `log.file.name_resolved` (symbolic links followed).
    pub include_file_name_resolved: bool,
    /// `include_file_path_resolved`: `log.file.path_resolved`.
    pub include_file_path_resolved: bool,
    /// `include_file_owner_name`: `log.file.owner.name`.
    pub include_file_owner_name: bool,
    /// `include_file_owner_group_name`: `log.file.owner.group.name`.
    pub include_file_owner_group_name: bool,
    /// `include_file_permissions`: `log.file.permissions` (octal, as `0644`).
    pub include_file_permissions: bool,
    /// `include_file_record_number`: `log.file.record_number` (1 for a file's first entry).
    pub include_file_record_number: bool,
    /// `compression`: `""` (none), `gzip`, or `auto` (gzip for names ending `.gz`).
    pub compression: String,
    /// `acquire_fs_lock`: take a shared advisory lock (`flock`) on each file before
    /// reading it; a file another process locks exclusively waits for a later poll.
    pub acquire_fs_lock: bool,
    /// `delete_after_read`: delete each file once all of it was accepted downstream.
    pub delete_after_read: bool,
    /// `ordering_criteria`: read only the first `top_n` files in an order taken from
    /// their names or modification times.
    pub ordering_criteria: Option<OrderingCriteria>,
    /// `header`: lines at a file's start that carry metadata for all its entries.
    pub header: Option<HeaderConfig>,
    /// `attributes`: added to every record.
    pub attributes: BTreeMap<String, String>,
    /// `resource`: the resource attributes of every record.
    pub resource: BTreeMap<String, String>,
    /// `operators`: the stanza operators each entry goes through (see
    /// [`stanza`](crate::stanza)).
    pub operators: Vec<crate::stanza::OperatorConfig>,
    /// `storage`: the ID of the storage extension that keeps checkpoints.
    pub storage: Option<String>,
    /// `retry_on_failure`: how a refused batch is retried.
    pub retry_on_failure: RetryOnFailure,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            include: Vec::new(),
            exclude: Vec::new(),
            exclude_older_than: Duration::ZERO,
            start_at: "end".into(),
            poll_interval: Duration::from_millis(200),
            fingerprint_size: DEFAULT_FINGERPRINT_SIZE,
            max_log_size: DEFAULT_MAX_LOG_SIZE,
            max_concurrent_files: 1024,
            max_batches: 0,
            encoding: "utf-8".into(),
            multiline: None,
            preserve_leading_whitespaces: false,
            preserve_trailing_whitespaces: false,
            force_flush_period: Duration::from_millis(500),
            include_file_name: true,
            include_file_path: false,
            include_file_name_resolved: false,
            include_file_path_resolved: false,
            include_file_owner_name: false,
            include_file_owner_group_name: false,
            include_file_permissions: false,
            include_file_record_number: false,
            compression: String::new(),
            acquire_fs_lock: false,
            delete_after_read: false,
            ordering_criteria: None,
            header: None,
            attributes: BTreeMap::new(),
            resource: BTreeMap::new(),
            operators: Vec::new(),
            storage: None,
            retry_on_failure: RetryOnFailure::default(),
        }
    }
}

/// `retry_on_failure`: the same stanza consumer retry as the `syslog` receiver's.
pub use crate::syslog::RetryOnFailure;

/// `header`: a file's first lines, while they match `pattern`, go through
/// `metadata_operators`; the attributes those set are added to every later entry of the
/// file, and the header lines themselves are not sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeaderConfig {
    /// `pattern`: a regular expression matching each header line.
    pub pattern: String,
    /// `metadata_operators`: stanza operators that turn a header line into attributes.
    pub metadata_operators: Vec<crate::stanza::OperatorConfig>,
}

/// Whether files are decompressed, from `compression`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Read as they are.
    None,
    /// Every file is gzip.
    Gzip,
    /// Files whose names end in `.gz` are gzip.
    Auto,
}

impl Config {
    /// Whether files found at the first poll without a checkpoint are read from their
    /// beginning (`start_at: beginning`).
    pub fn start_at_beginning(&self) -> bool {
        self.start_at == "beginning"
    }

    /// `max_log_size`, 0 meaning the default.
    pub fn effective_max_log_size(&self) -> usize {
        match self.max_log_size {
            0 => DEFAULT_MAX_LOG_SIZE,
            size => size,
        }
    }

    /// The configured compression (valid once `validate` passed).
    pub fn compression(&self) -> Compression {
        match self.compression.as_str() {
            "gzip" => Compression::Gzip,
            "auto" => Compression::Auto,
            _ => Compression::None,
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.include.is_empty() {
            return Err(ConfigError::at("include", "name at least one file pattern"));
        }
        for (key, patterns) in [("include", &self.include), ("exclude", &self.exclude)] {
            for pattern in patterns {
                glob::Pattern::new(pattern).map_err(|e| {
                    ConfigError::at(key, format!("invalid glob pattern {pattern:?}: {e}"))
                })?;
            }
        }
        if self.start_at != "end" && self.start_at != "beginning" {
            return Err(ConfigError::at(
                "start_at",
                format!("{:?} is neither 'beginning' nor 'end'", self.start_at),
            ));
        }
        if self.poll_interval.is_zero() {
            return Err(ConfigError::at(
                "poll_interval",
                "must be a positive duration",
            ));
        }
        if self.fingerprint_size < MIN_FINGERPRINT_SIZE {
            return Err(ConfigError::at(
                "fingerprint_size",
                format!("must be at least {MIN_FINGERPRINT_SIZE} bytes"),
            ));
        }
        if self.max_concurrent_files < 1 {
            return Err(ConfigError::at(
                "max_concurrent_files",
                "must be at least 1",
            ));
        }
        let encoding =
            Encoding::parse(&self.encoding).map_err(|e| ConfigError::at("encoding", e))?;
        if let Some(multiline) = &self.multiline {
            multiline
                .build(self.effective_max_log_size(), false, false)
                .map_err(|e: SplitError| ConfigError::at("multiline", e.to_string()))?;
            if !encoding.ascii_compatible() {
                return Err(ConfigError::at(
                    "multiline",
                    format!(
                        "multiline patterns match bytes, and encoding {} is not ASCII-compatible; \
                         use the default newline splitting",
                        self.encoding
                    ),
                ));
            }
        }
        if !matches!(self.compression.as_str(), "" | "gzip" | "auto") {
            return Err(ConfigError::at(
                "compression",
                format!(
                    "{:?} is not supported: use gzip, auto or leave it empty",
                    self.compression
                ),
            ));
        }
        if self.delete_after_read && !self.start_at_beginning() {
            return Err(ConfigError::at(
                "delete_after_read",
                "requires start_at: beginning (as in Go), or files would be deleted unread",
            ));
        }
        if let Some(ordering) = &self.ordering_criteria {
            ordering.build().map_err(|e| {
                let (key, message) = e.split_once(": ").unwrap_or(("", e.as_str()));
                ConfigError::at(format!("ordering_criteria::{key}"), message)
            })?;
        }
        if let Some(header) = &self.header {
            if !self.start_at_beginning() {
                return Err(ConfigError::at(
                    "header",
                    "requires start_at: beginning (as in Go): a header is read from a file's start",
                ));
            }
            regex::Regex::new(&header.pattern)
                .map_err(|e| ConfigError::at("header::pattern", e.to_string()))?;
            if header.pattern.is_empty() {
                return Err(ConfigError::at("header::pattern", "required"));
            }
            if header.metadata_operators.is_empty() {
                return Err(ConfigError::at(
                    "header::metadata_operators",
                    "name at least one operator",
                ));
            }
            crate::stanza::Pipeline::build(&header.metadata_operators)
                .map_err(|e| ConfigError::at("header::metadata_operators", e.to_string()))?;
        }
        crate::stanza::Pipeline::build(&self.operators)
            .map_err(|e| ConfigError::at("operators", e.to_string()))?;
        for (key, map) in [
            ("attributes", &self.attributes),
            ("resource", &self.resource),
        ] {
            for (name, value) in map {
                if let Some(source) = expression(value) {
                    crate::stanza::Expr::parse(source)
                        .map_err(|e| ConfigError::at(format!("{key}::{name}"), e.to_string()))?;
                }
            }
        }
        if let Some(storage) = &self.storage {
            storage
                .parse::<tributary_pipeline_core::component::ComponentId>()
                .map_err(|e| ConfigError::at("storage", format!("{storage:?}: {e}")))?;
        }
        let retry = &self.retry_on_failure;
        if retry.enabled && retry.initial_interval.is_zero() {
            return Err(ConfigError::at(
                "retry_on_failure::initial_interval",
                "must be a positive duration",
            ));
        }
        Ok(())
    }
}

/// The expression of an `EXPR(...)` value (Go's `helper.ExprStringConfig`).
pub(super) fn expression(value: &str) -> Option<&str> {
    value.trim().strip_prefix("EXPR(")?.strip_suffix(')')
}
