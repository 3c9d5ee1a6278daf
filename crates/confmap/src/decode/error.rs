//! [`DecodeError`]: a decoding failure and the key path where it happened.

use std::fmt;

use crate::path;
use crate::secret::Scrubber;

/// A failure to decode a configuration value into a typed struct, with the full key path of
/// the offending value: `receivers::otlp::protocols::grpc::endpoint: invalid socket address`.
///
/// List elements appear as their index (`service::extensions::0`).
///
/// One decoding reports every problem it finds (see [Every problem at
/// once](crate#every-problem-at-once)): [`path`](Self::path) and [`message`](Self::message)
/// describe the first in document order, [`problems`](Self::problems) lists them all, and
/// the error displays as one problem per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    path: String,
    message: String,
    /// A key below the current value that the error is about, such as the name of a missing
    /// or unknown field. It is appended once the error learns the path it happened at.
    pending_key: Option<String>,
    located: bool,
    /// Whether the error is about a required key the value lacks.
    missing: bool,
    /// The problems after the first, in document order; each has no `others` of its own.
    others: Vec<DecodeError>,
}

impl DecodeError {
    /// Creates an error about the value at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> DecodeError {
        DecodeError {
            path: path.into(),
            message: message.into(),
            missing: false,
            pending_key: None,
            located: true,
            others: Vec::new(),
        }
    }

    /// The key path of the offending value, such as `exporters::otlp::timeout`. Empty when
    /// the error is about the root.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What went wrong, without the path.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Every problem found, in document order, as `(path, message)`; the first is
    /// [`path`](Self::path) and [`message`](Self::message).
    pub fn problems(&self) -> impl Iterator<Item = (&str, &str)> {
        std::iter::once(self)
            .chain(&self.others)
            .map(|problem| (problem.path(), problem.message()))
    }

    /// One error of several problems, in the order given; `None` when there are none.
    pub(crate) fn all(problems: Vec<DecodeError>) -> Option<DecodeError> {
        let mut problems = problems.into_iter();
        let mut first = problems.next()?;
        first.others = problems.collect();
        Some(first)
    }

    /// Whether the error is about a required key the value lacks.
    pub(crate) fn is_missing_key(&self) -> bool {
        self.missing
    }

    /// Pins an error raised without a location (by serde or a field's own `Deserialize`) to
    /// the path of the value being decoded. Errors that already know their path keep it, so
    /// the innermost value claims the error.
    pub(crate) fn located_at(mut self, base: &str) -> DecodeError {
        if !self.located {
            self.path = match self.pending_key.take() {
                Some(key) => path::join(base, &key),
                None => base.to_owned(),
            };
            self.located = true;
        }
        self
    }

    /// The same error with the scrubber's secrets and referenced values taken out of its
    /// message.
    pub(crate) fn scrubbed(mut self, scrubber: &Scrubber) -> DecodeError {
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

    /// An unknown key `key` in the map at `path`, which accepts `valid`.
    pub(crate) fn unknown_key(path: &str, key: &str, valid: &[&str]) -> DecodeError {
        DecodeError::new(path::join(path, key), unknown_key_message(valid))
    }

    fn unlocated(message: String, pending_key: Option<String>) -> DecodeError {
        DecodeError {
            path: String::new(),
            message,
            pending_key,
            located: false,
            missing: false,
            others: Vec::new(),
        }
    }
}

/// What an unknown key's error says: the keys the map accepts.
fn unknown_key_message(valid: &[&str]) -> String {
    if valid.is_empty() {
        "unknown key; this map accepts no keys".to_owned()
    } else {
        let valid: Vec<String> = valid
            .iter()
            .map(|k| format!("`{}`", k.trim_end_matches(super::access::PRESENT_SUFFIX)))
            .collect();
        format!("unknown key; valid keys: {}", valid.join(", "))
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (path, message)) in self.problems().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            if path.is_empty() {
                f.write_str(message)?;
            } else {
                write!(f, "{path}: {message}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for DecodeError {}

impl serde::de::Error for DecodeError {
    fn custom<T: fmt::Display>(message: T) -> DecodeError {
        DecodeError::unlocated(message.to_string(), None)
    }

    fn missing_field(field: &'static str) -> DecodeError {
        DecodeError {
            missing: true,
            ..DecodeError::unlocated("missing required key".to_owned(), Some(field.to_owned()))
        }
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> DecodeError {
        DecodeError::unlocated(unknown_key_message(expected), Some(field.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::Error as _;

    #[test]
    fn the_first_location_wins() {
        let error = DecodeError::custom("boom")
            .located_at("a::b")
            .located_at("a");
        assert_eq!(error.path(), "a::b");
        assert_eq!(error.to_string(), "a::b: boom");
    }

    #[test]
    fn field_errors_name_the_field_below_the_struct() {
        let missing = DecodeError::missing_field("endpoint").located_at("receivers::otlp");
        assert_eq!(missing.path(), "receivers::otlp::endpoint");
        assert_eq!(missing.message(), "missing required key");
        let unknown = DecodeError::unknown_field("protocls", &["protocols"]).located_at("");
        assert_eq!(
            unknown.to_string(),
            "protocls: unknown key; valid keys: `protocols`"
        );
    }

    #[test]
    fn an_error_at_the_root_shows_only_its_message() {
        assert_eq!(DecodeError::new("", "bad").to_string(), "bad");
    }
}
