//! Secrets in configuration: passwords, tokens, header values and URL credentials, which no
//! `Debug`, `Display`, printed configuration or error message shows.
//!
//! A config type says which of its values are secrets by their types, as the Go Collector
//! does with `configopaque.String`:
//!
//! - [`SecretString`]: the whole value is secret (a token, a password, a header value);
//! - [`SecretUrl`]: a URL whose userinfo (`user:password@`) is secret; the rest is shown.
//!
//! Both show `[REDACTED]` where the secret would be, and hand out the real text only through
//! `expose()`. The decoder records where a decoded type holds them
//! ([`Value::decode_with_secrets`](crate::Value::decode_with_secrets) returns the
//! [`SecretPaths`]), so a printed configuration hides exactly those values, whatever their
//! keys are called.
//!
//! Decode errors never show a secret either, nor the text of a value that a `${...}`
//! reference produced (a `${file:...}` secret that landed in the wrong field): the
//! [`Scrubber`] replaces them with a note saying where the value came from.
//!
//! ```
//! use serde::Deserialize;
//! use tributary_confmap::{Conf, SecretString, SecretUrl};
//!
//! #[derive(Debug, Deserialize)]
//! struct Exporter {
//!     endpoint: SecretUrl,
//!     api_key: SecretString,
//! }
//!
//! let conf = Conf::from_yaml("endpoint: https://user:pa55@backend:4318\napi_key: k3y\n")?;
//! let (exporter, secrets) = conf.as_value().decode_with_secrets::<Exporter>()?;
//! assert_eq!(exporter.api_key.expose(), "k3y");
//! assert_eq!(exporter.endpoint.to_string(), "https://[REDACTED]@backend:4318");
//! assert_eq!(
//!     format!("{exporter:?}"),
//!     r#"Exporter { endpoint: SecretUrl("https://[REDACTED]@backend:4318"), api_key: [REDACTED] }"#
//! );
//!
//! let mut printed = conf.into_value();
//! secrets.redact(&mut printed);
//! assert_eq!(
//!     tributary_confmap::Conf::from_value(printed)?.to_yaml(),
//!     "endpoint: https://[REDACTED]@backend:4318\napi_key: \"[REDACTED]\"\n"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod paths;
mod scrub;
mod string;
mod url;

pub use paths::{SecretKind, SecretPaths};
pub use scrub::Scrubber;
pub use string::SecretString;
pub use url::{SecretUrl, redact_userinfo};

/// What is shown in place of a secret.
pub const REDACTED: &str = "[REDACTED]";

/// The newtype name by which [`SecretString`] announces itself to the decoder.
pub(crate) const SECRET_STRING_NAME: &str = "$tributary_confmap::SecretString";

/// The newtype name by which [`SecretUrl`] announces itself to the decoder.
pub(crate) const SECRET_URL_NAME: &str = "$tributary_confmap::SecretUrl";
