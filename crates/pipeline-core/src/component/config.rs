//! The configuration contract every component's config type meets.

use std::fmt;

use serde::de::DeserializeOwned;

/// A component's typed configuration.
///
/// Decoded from the component's YAML section with serde, over its `Default` (so a key the
/// user leaves out keeps its default), then checked with [`validate`](Self::validate).
/// Config types use `#[serde(default, deny_unknown_fields)]` so a misspelt key is an error
/// that names its path, and mirror the YAML a user writes, with the Go Collector's names
/// and defaults where the component exists there. Durations use
/// `#[serde(with = "tributary_confmap::duration")]` (`"200ms"`, `"5s"`).
///
/// ```
/// use serde::Deserialize;
/// use tributary_pipeline_core::component::{ComponentConfig, ConfigError};
///
/// #[derive(Debug, Deserialize)]
/// #[serde(default, deny_unknown_fields)]
/// struct Config {
///     send_batch_size: usize,
///     send_batch_max_size: usize,
/// }
///
/// impl Default for Config {
///     fn default() -> Self {
///         Config { send_batch_size: 8192, send_batch_max_size: 0 }
///     }
/// }
///
/// impl ComponentConfig for Config {
///     fn validate(&self) -> Result<(), ConfigError> {
///         if self.send_batch_max_size != 0 && self.send_batch_max_size < self.send_batch_size {
///             return Err(ConfigError::at(
///                 "send_batch_max_size",
///                 "must be greater than or equal to send_batch_size",
///             ));
///         }
///         Ok(())
///     }
/// }
/// ```
pub trait ComponentConfig: DeserializeOwned + Default + fmt::Debug + Send + Sync + 'static {
    /// Checks values that serde cannot (ranges, combinations). Errors name the offending
    /// key relative to the component's section; the framework prefixes the section's path.
    fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }
}

/// A configuration problem, with the path of the key it concerns
/// (`receivers::otlp::protocols::grpc::endpoint: invalid socket address "x"`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct ConfigError {
    path: String,
    message: String,
}

impl ConfigError {
    /// A problem with the whole section the check ran on.
    pub fn new(message: impl Into<String>) -> Self {
        ConfigError {
            path: String::new(),
            message: message.into(),
        }
    }

    /// A problem with the key at `path` (`a::b`), relative to the section checked.
    pub fn at(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            path: path.into(),
            message: message.into(),
        }
    }

    /// The same problem, seen from `prefix` up: `prefix::path`.
    pub fn within(mut self, prefix: &str) -> Self {
        if !prefix.is_empty() {
            self.path = if self.path.is_empty() {
                prefix.to_string()
            } else {
                format!("{prefix}::{}", self.path)
            };
        }
        self
    }

    /// The full key path (empty for the document itself).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }

    fn render(&self) -> String {
        if self.path.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.path, self.message)
        }
    }
}

impl From<tributary_confmap::DecodeError> for ConfigError {
    fn from(error: tributary_confmap::DecodeError) -> Self {
        ConfigError::at(error.path(), error.message())
    }
}
