//! `headers`: extra request headers (gRPC metadata) sent with every export.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Visitor};
use tributary_pipeline_core::component::ConfigError;

/// Extra headers sent with every request: HTTP headers for `otlp_http`, gRPC metadata for
/// `otlp`. Names are case-insensitive and sent lower-case.
///
/// Header values are often credentials (`authorization`, `x-api-key`), so `Debug` shows
/// the names only. Values may be written as YAML numbers or booleans (`x-scope-orgid: 1`);
/// they are sent as their text.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers(BTreeMap<String, String>);

impl Headers {
    /// No headers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a header.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.insert(name.into(), value.into());
    }

    /// Every header, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether there are no headers.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Checks that every name and value can be sent; errors name `<header>`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, value) in &self.0 {
            if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(ConfigError::at(name.as_str(), "invalid header name"));
            }
            if http::HeaderValue::from_str(value).is_err() {
                return Err(ConfigError::at(
                    name.as_str(),
                    "invalid header value: only visible ASCII characters, spaces and tabs are allowed",
                ));
            }
        }
        Ok(())
    }

    /// The headers as an HTTP header map. Call only on validated headers; invalid entries
    /// are skipped.
    #[cfg(feature = "otlp_http")]
    pub(crate) fn to_header_map(&self) -> http::HeaderMap {
        let mut map = http::HeaderMap::with_capacity(self.0.len());
        for (name, value) in &self.0 {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_str(value),
            ) {
                map.append(name, value);
            }
        }
        map
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, "<redacted>")))
            .finish()
    }
}

impl FromIterator<(String, String)> for Headers {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        Headers(iter.into_iter().collect())
    }
}

/// A header value written as any YAML scalar.
struct ScalarText(String);

impl<'de> Deserialize<'de> for ScalarText {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;

        impl Visitor<'_> for ScalarVisitor {
            type Value = ScalarText;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a header value (string, number or boolean)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
        }

        deserializer.deserialize_any(ScalarVisitor)
    }
}

impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let entries = BTreeMap::<String, ScalarText>::deserialize(deserializer)?;
        Ok(Headers(
            entries
                .into_iter()
                .map(|(name, ScalarText(value))| (name, value))
                .collect(),
        ))
    }
}
