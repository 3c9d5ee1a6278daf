//! The `redaction` processor: removes every attribute whose key is not allowed and masks
//! values that match blocked patterns, on spans (and their events), log records, metric data
//! points and the resources they come with, so that what leaves the collector holds no
//! secrets by construction (an allow list fails closed).
//!
//! ```yaml
//! processors:
//!   redaction:
//!     allow_all_keys: false
//!     allowed_keys: [description, group, id, name]
//!     ignored_keys: [safe_attribute]
//!     blocked_key_patterns: [".*token.*", ".*api_key.*"]
//!     blocked_values:
//!       - "4[0-9]{12}(?:[0-9]{3})?"   # Visa credit card number
//!       - "(5[1-5][0-9]{14})"        # MasterCard number
//!     allowed_values: [".+@mycompany.com"]
//!     hash_function: md5
//!     summary: debug
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `allow_all_keys` | `false` | keep every key; only values are masked |
//! | `allowed_keys` | `[]` | the keys kept; all others are removed (an empty list removes all) |
//! | `ignored_keys` | `[]` | keys neither removed nor masked |
//! | `blocked_key_patterns` | `[]` | a key matching one has its whole value masked |
//! | `blocked_values` | `[]` | each match of one in a string value is masked |
//! | `allowed_values` | `[]` | a string value matching one is kept as it is |
//! | `hash_function` | none | masked text becomes its `md5`, `sha1`, `sha3` (SHA3-256), `hmac-sha256` or `hmac-sha512` hex digest instead of `****` |
//! | `hmac_key` | none | the key of the `hmac-*` functions; required with them |
//! | `summary` | none (`silent`) | `debug`: add `redaction.{redacted,masked,allowed}.keys` (sorted, comma-separated) and `.count` attributes, and `redaction.ignored.count`; `info`: the counts only; `silent`: nothing |
//! | `redact_all_types` | `false` | refused when true: only string values are checked |
//! | `url_sanitizer`, `db_sanitizer` | disabled | refused when enabled |
//!
//! The order of the checks is Go's: an ignored key is left alone; a key not allowed is
//! removed; a value matching `allowed_values` is kept; a key matching
//! `blocked_key_patterns` is masked whole; otherwise each `blocked_values` match is masked.
//! As in Go, a non-string value reads as the empty string for these checks. Summary
//! attributes merge with those an earlier redaction processor wrote.
//!
//! Not applied (as in the Go version these keys come from): scope attributes and log
//! bodies. Regular expressions use the `regex` crate (RE2 syntax, linear time, like Go's);
//! digests use the RustCrypto crates (`md-5`, `sha1`, `sha3`, `hmac` over `sha2`), one
//! family already used by the workspace.
//!
//! ```
//! use tributary_processors::redaction;
//!
//! assert_eq!(redaction::factory().component_type(), "redaction");
//! ```

mod config;
mod factory;
mod redactor;

#[cfg(test)]
mod tests;

pub use config::Config;
pub use factory::factory;
