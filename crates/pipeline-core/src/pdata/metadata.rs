//! `ClientMetadata`: the request headers a payload arrived with.

use std::collections::BTreeMap;

/// The metadata of the client request a payload arrived in (HTTP headers, gRPC metadata),
/// kept by receivers configured with `include_metadata: true`. Keys are lower-case; a key
/// may have several values.
///
/// It travels with the payload, so a batch processor can keep tenants apart
/// (`metadata_keys`) and an exporter can forward a header.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientMetadata {
    entries: BTreeMap<String, Vec<String>>,
}

impl ClientMetadata {
    /// No metadata.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a value for `key` (stored lower-case).
    pub fn insert(&mut self, key: &str, value: impl Into<String>) {
        self.entries
            .entry(key.to_ascii_lowercase())
            .or_default()
            .push(value.into());
    }

    /// The values for `key`, compared case-insensitively; empty if absent.
    pub fn get(&self, key: &str) -> &[String] {
        self.entries
            .get(&key.to_ascii_lowercase())
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Every key with its values, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Whether there is no metadata.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
