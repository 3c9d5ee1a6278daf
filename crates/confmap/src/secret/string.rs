//! [`SecretString`]: a configuration string that is never shown.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use super::{REDACTED, SECRET_STRING_NAME};

/// A secret configuration value: a password, a token, a header value. `Debug` and
/// `Display` show `[REDACTED]`; [`expose`](SecretString::expose) gives the text, and is the
/// one place to look for when auditing where a secret goes.
///
/// Decoded from a string, or from a YAML number or boolean as its text (`x-scope-orgid: 1`),
/// since a secret is opaque text. Decoding it records its path, so a printed configuration
/// hides it and decode errors never show it (see the [module docs](crate::secret)).
///
/// ```
/// use tributary_confmap::SecretString;
///
/// let token = SecretString::new("s3cret");
/// assert_eq!(token.to_string(), "[REDACTED]");
/// assert_eq!(format!("{token:?}"), "[REDACTED]");
/// assert_eq!(token.expose(), "s3cret");
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> SecretString {
        SecretString(secret.into())
    }

    /// The secret text, to send it where it belongs (a request header, an authentication
    /// check). Never log or format it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string (not configured).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl From<String> for SecretString {
    fn from(secret: String) -> SecretString {
        SecretString(secret)
    }
}

impl From<&str> for SecretString {
    fn from(secret: &str) -> SecretString {
        SecretString(secret.to_owned())
    }
}

/// Serializes as `[REDACTED]`, as the Go Collector marshals `configopaque.String`: a config
/// written back out (printed, sent to a status page) never carries the secret.
impl Serialize for SecretString {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for SecretString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<SecretString, D::Error> {
        // The newtype name tells this crate's decoder to record the path and hand over the
        // text; any other deserializer reads the value inside.
        deserializer.deserialize_newtype_struct(SECRET_STRING_NAME, SecretVisitor)
    }
}

/// Reads a secret: text, or a number or boolean as its text. Its messages never include
/// the value.
struct SecretVisitor;

impl<'de> Visitor<'de> for SecretVisitor {
    type Value = SecretString;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a secret (a string, number or boolean)")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<SecretString, D::Error> {
        deserializer.deserialize_any(SecretVisitor)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<SecretString, E> {
        Ok(SecretString::new(text))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<SecretString, E> {
        Ok(SecretString(text))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<SecretString, E> {
        Ok(SecretString(value.to_string()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<SecretString, E> {
        Ok(SecretString(value.to_string()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<SecretString, E> {
        Ok(SecretString(value.to_string()))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<SecretString, E> {
        Ok(SecretString(value.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_display_and_serialization_never_show_the_secret() {
        let secret = SecretString::new("hunter2");
        assert_eq!(format!("{secret}"), "[REDACTED]");
        assert_eq!(format!("{secret:?}"), "[REDACTED]");
        assert_eq!(format!("{secret:#?}"), "[REDACTED]");
        assert_eq!(serde_json::to_string(&secret).unwrap(), r#""[REDACTED]""#);
        assert_eq!(secret.expose(), "hunter2");
        assert!(!secret.is_empty());
        assert!(SecretString::default().is_empty());
    }

    #[test]
    fn other_deserializers_read_the_text_inside() {
        let secret: SecretString = serde_json::from_str(r#""hunter2""#).unwrap();
        assert_eq!(secret.expose(), "hunter2");
        let number: SecretString = serde_json::from_str("1234").unwrap();
        assert_eq!(number.expose(), "1234");
    }
}
