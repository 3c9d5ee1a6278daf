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
//! | `ignored_key_patterns` | `[]` | regular expressions; a matching key is treated as in `ignored_keys` |
//! | `blocked_key_patterns` | `[]` | a key matching one has its whole value masked |
//! | `blocked_values` | `[]` | each match of one in a string value is masked |
//! | `allowed_values` | `[]` | a string value matching one is kept as it is |
//! | `hash_function` | none | masked text becomes its `md5`, `sha1`, `sha3` (SHA3-256), `hmac-sha256` or `hmac-sha512` hex digest instead of `****` |
//! | `hmac_key` | none | the key of the `hmac-*` functions; required with them, at least 32 bytes (`hmac-sha256`) or 64 (`hmac-sha512`) |
//! | `summary` | none (`silent`) | `debug`: add `redaction.{redacted,masked,allowed}.keys` (sorted, comma-separated) and `.count` attributes, and `redaction.ignored.count`; `info`: the counts only; `silent`: nothing |
//! | `redact_all_types` | `false` | check non-string values too, by their text; a masked one becomes a string |
//! | `url_sanitizer`, `db_sanitizer` | disabled | refused when enabled |
//!
//! The order of the checks is Go's: an ignored key is left alone; a key not allowed is
//! removed; a value matching `allowed_values` is kept; a key matching
//! `blocked_key_patterns` is masked whole; otherwise each `blocked_values` match is masked.
//! As in Go, a non-string value reads as the empty string for these checks unless
//! `redact_all_types` is set. The summary attributes are always allowed, and merge with
//! those an earlier redaction processor wrote.
//!
//! Resource, scope, span, span event, log record and data point attributes are redacted,
//! as in Go. So are log bodies: a map body's keys go through the same checks (nested keys
//! named by their path, `a.b`, `a.[0]`), other values through `blocked_values`, and the
//! record gets `redaction.body.{redacted,masked,allowed}.{keys,count}` and
//! `redaction.body.ignored.count`. Go's `url_sanitizer` and `db_sanitizer` (span names and
//! URL / SQL attributes) are not implemented and are refused when enabled.
//!
//! Regular expressions use the `regex` crate (RE2 syntax, linear time, like Go's);
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
