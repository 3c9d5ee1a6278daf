//! `headers`: extra request headers (gRPC metadata) a client sends with every request.

use std::collections::BTreeMap;

use crate::component::{ConfigError, SecretString};
use serde::Deserialize;

/// Extra headers sent with every request: HTTP headers for an HTTP client, gRPC metadata
/// for a gRPC client. Names are case-insensitive and sent lower-case.
///
/// Every value is a [`SecretString`], as the Go Collector makes them `configopaque`: a
/// header carries credentials under any name (`authorization`, `cookie`,
/// `x-honeycomb-team`), so none is ever printed. Values may be written as YAML numbers or
/// booleans (`x-scope-orgid: 1`); they are sent as their text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Headers(BTreeMap<String, SecretString>);

impl Headers {
    /// No headers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a header.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<SecretString>) {
        self.0.insert(name.into(), value.into());
    }

    /// Every header, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &SecretString)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
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
            if http::HeaderValue::from_str(value.expose()).is_err() {
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
    pub fn to_header_map(&self) -> http::HeaderMap {
        let mut map = http::HeaderMap::with_capacity(self.0.len());
        for (name, value) in &self.0 {
            if let (Ok(name), Ok(mut value)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_str(value.expose()),
            ) {
                // Kept out of HPACK tables and shown as `Sensitive` by `Debug`.
                value.set_sensitive(true);
                map.append(name, value);
            }
        }
        map
    }
}

impl FromIterator<(String, String)> for Headers {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        Headers(
            iter.into_iter()
                .map(|(name, value)| (name, SecretString::from(value)))
                .collect(),
        )
    }
}
