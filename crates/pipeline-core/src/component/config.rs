//! The configuration contract every component's config type meets.

use std::fmt;

use serde::de::DeserializeOwned;
use tributary_confmap::{Conf, Scrubber, SecretPaths, Value};

/// A component's typed configuration.
///
/// Decoded from the component's YAML section with serde, over its `Default` (so a key the
/// user leaves out keeps its default), then checked with [`validate`](Self::validate).
/// Config types use `#[serde(default, deny_unknown_fields)]` so a misspelt key is an error
/// that names its path, and mirror the YAML a user writes, with the Go Collector's names
/// and defaults where the component exists there. Durations use
/// `#[serde(with = "tributary_confmap::duration")]` (`"200ms"`, `"5s"`).
///
/// Passwords, tokens and header values are [`SecretString`](super::SecretString)s, URLs
/// that may carry credentials [`SecretUrl`](super::SecretUrl)s: that is how the framework
/// knows to hide them in `print-config`, logs and errors, whatever the keys are called.
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

/// Decodes a component's raw configuration section over its defaults (an absent or empty
/// section is the defaults) and validates it: what the framework does with every
/// component's section. Paths in errors are relative to the section.
///
/// No error shows a secret of the section or the text of a value a `${...}` reference
/// produced, not even one that `validate` quotes.
pub fn decode_config<C: ComponentConfig>(raw: &Value) -> Result<C, ConfigError> {
    let (config, secrets) = match raw {
        Value::Null => (C::default(), SecretPaths::new()),
        raw => raw.decode_with_secrets::<C>()?,
    };
    config
        .validate()
        .map_err(|error| error.scrubbed(&Scrubber::new(raw, &secrets)))?;
    Ok(config)
}

/// Where the section's config type holds secrets, when the section decodes; for
/// `print-config`, which shows a configuration whether or not it is valid.
pub(crate) fn secret_paths<C: ComponentConfig>(raw: &Value) -> Option<SecretPaths> {
    match raw {
        Value::Null => Some(SecretPaths::new()),
        raw => raw
            .decode_with_secrets::<C>()
            .ok()
            .map(|(_, secrets)| secrets),
    }
}

/// [`decode_config`] of a section written as YAML: for a component's own tests.
///
/// ```
/// use serde::Deserialize;
/// use tributary_pipeline_core::component::{ComponentConfig, load_config};
///
/// #[derive(Debug, Default, Deserialize)]
/// #[serde(default, deny_unknown_fields)]
/// struct Config {
///     label: String,
/// }
/// impl ComponentConfig for Config {}
///
/// assert_eq!(load_config::<Config>("label: a").unwrap().label, "a");
/// let error = load_config::<Config>("lable: a").unwrap_err();
/// assert!(error.to_string().contains("lable"), "{error}");
/// ```
pub fn load_config<C: ComponentConfig>(yaml: &str) -> Result<C, ConfigError> {
    let conf = Conf::from_yaml(yaml).map_err(|error| ConfigError::new(error.to_string()))?;
    decode_config(conf.as_value())
}

/// A configuration problem, with the path of the key it concerns
/// (`receivers::otlp::protocols::grpc::endpoint: invalid socket address "x"`).
///
/// A section's decoding reports every problem it finds at once, as the Go Collector's
/// decoder does: such an error holds several problems. [`path`](Self::path) and
/// [`message`](Self::message) describe the first, [`into_problems`](Self::into_problems)
/// splits them, and the error displays as one problem per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct ConfigError {
    path: String,
    message: String,
    /// The problems after the first; each has no `others` of its own.
    others: Vec<ConfigError>,
}

impl ConfigError {
    /// A problem with the whole section the check ran on.
    pub fn new(message: impl Into<String>) -> Self {
        ConfigError::at(String::new(), message)
    }

    /// A problem with the key at `path` (`a::b`), relative to the section checked.
    pub fn at(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            path: path.into(),
            message: message.into(),
            others: Vec::new(),
        }
    }

    /// The same problems, seen from `prefix` up: `prefix::path`.
    pub fn within(mut self, prefix: &str) -> Self {
        if !prefix.is_empty() {
            self.path = if self.path.is_empty() {
                prefix.to_string()
            } else {
                format!("{prefix}::{}", self.path)
            };
        }
        self.others = self
            .others
            .into_iter()
            .map(|other| other.within(prefix))
            .collect();
        self
    }

    /// The full key path of the first problem (empty for the document itself).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What is wrong, in the first problem.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Every problem on its own, the first first.
    pub fn into_problems(mut self) -> Vec<ConfigError> {
        let others = std::mem::take(&mut self.others);
        std::iter::once(self).chain(others).collect()
    }

    /// The same problems, their messages without the scrubber's secrets and referenced
    /// values.
    pub(crate) fn scrubbed(mut self, scrubber: &Scrubber) -> Self {
        if let std::borrow::Cow::Owned(message) = scrubber.scrub(&self.message) {
            self.message = message;
        }
        self.others = self
            .others
            .into_iter()
            .map(|other| other.scrubbed(scrubber))
            .collect();
        self
    }

    fn render(&self) -> String {
        let mut lines = Vec::with_capacity(1 + self.others.len());
        for problem in std::iter::once(self).chain(&self.others) {
            lines.push(if problem.path.is_empty() {
                problem.message.clone()
            } else {
                format!("{}: {}", problem.path, problem.message)
            });
        }
        lines.join("\n")
    }
}

/// Every problem of the decoding, the first in document order first.
impl From<tributary_confmap::DecodeError> for ConfigError {
    fn from(error: tributary_confmap::DecodeError) -> Self {
        let mut problems = error
            .problems()
            .map(|(path, message)| ConfigError::at(path, message));
        // A decode error holds at least one problem.
        let mut first = problems
            .next()
            .unwrap_or_else(|| ConfigError::at(error.path(), error.message()));
        first.others = problems.collect();
        first
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use tributary_confmap::Expanded;

    use super::*;
    use crate::component::SecretString;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Careless {
        token: SecretString,
        mode: String,
    }

    impl ComponentConfig for Careless {
        /// Quotes what it was given, as a component's own check may.
        fn validate(&self) -> Result<(), ConfigError> {
            Err(ConfigError::at(
                "mode",
                format!(
                    "unknown mode {:?} (token {:?})",
                    self.mode,
                    self.token.expose()
                ),
            ))
        }
    }

    #[test]
    fn a_sections_decoding_problems_come_together_one_per_line() {
        let raw = Value::from_iter([
            ("token", Value::from_iter([("k", Value::from("T0KEN-XYZ"))])),
            ("mode", Value::Int(3)),
            ("mood", Value::from("x")),
        ]);
        let error = decode_config::<Careless>(&raw).unwrap_err();
        assert_eq!(error.path(), "token");
        let error = error.within("exporters::careless");
        assert_eq!(
            error.to_string(),
            "exporters::careless::token: invalid type: map, expected a secret (a string, number or boolean)\n\
             exporters::careless::mode: invalid type: integer `3`, expected a string\n\
             exporters::careless::mood: unknown key; valid keys: `token`, `mode`"
        );
        let problems = error.into_problems();
        assert_eq!(problems.len(), 3);
        assert_eq!(problems[2].path(), "exporters::careless::mood");
        assert_eq!(problems[2].clone().into_problems().len(), 1);
    }

    #[test]
    fn validate_errors_show_neither_secrets_nor_referenced_values() {
        let mode = Expanded::new(Value::from("M0DE-FROM-ENV"), "M0DE-FROM-ENV").with_scheme("env");
        let raw = Value::from_iter([
            ("token", Value::from("T0KEN-XYZ")),
            ("mode", Value::from(mode)),
        ]);
        let error = decode_config::<Careless>(&raw).unwrap_err();
        assert_eq!(error.path(), "mode");
        assert_eq!(
            error.message(),
            "unknown mode (value from a ${env:...} reference not shown) (token [REDACTED])"
        );
    }
}
