//! The errors of configuration resolution. Each names the URI and/or the key path it is
//! about, so a user can find the line to fix.

use std::path::PathBuf;

use crate::decode::DecodeError;
use crate::yaml::YamlError;

/// An error while building, resolving or decoding a configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A YAML document could not be parsed or was refused (too large, an alias bomb).
    #[error("invalid YAML: {0}")]
    Yaml(#[from] YamlError),

    /// A configuration document's top level is not a map.
    #[error("the top level of a configuration must be a map, found {found}")]
    NotAMap {
        /// What was found instead: `a list`, `a string`, ...
        found: &'static str,
    },

    /// A configuration source (one of the resolver's URIs) is not a usable document.
    #[error("{uri}: {source}")]
    Source {
        /// The URI of the source, its userinfo redacted.
        uri: String,
        /// Why it is unusable: [`Error::Yaml`] or [`Error::NotAMap`].
        #[source]
        source: Box<Error>,
    },

    /// A provider failed to retrieve one of the resolver's URIs.
    #[error("{uri}: {source}")]
    Provider {
        /// The URI being retrieved, its userinfo redacted.
        uri: String,
        /// The provider's error.
        #[source]
        source: ProviderError,
    },

    /// A URI names a scheme that no provider serves.
    #[error("{uri}: unknown scheme `{scheme}`; known schemes: {}", known.join(", "))]
    UnknownScheme {
        /// The URI, its userinfo redacted.
        uri: String,
        /// Its scheme.
        scheme: String,
        /// The schemes the resolver's providers serve, sorted.
        known: Vec<String>,
    },

    /// A `${...}` reference inside a value could not be expanded.
    #[error("{path}: {reference}: {source}")]
    Expand {
        /// The key path of the value holding the reference.
        path: String,
        /// The reference as written, such as `${env:ENDPOINT}` (a URL's userinfo redacted).
        reference: String,
        /// What went wrong.
        #[source]
        source: ExpandError,
    },

    /// A `--set` argument is malformed.
    #[error("invalid --set `{arg}`: {reason}")]
    InvalidSet {
        /// The argument as given.
        arg: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// Decoding into a typed configuration failed.
    #[error(transparent)]
    Decode(#[from] DecodeError),

    /// A converter failed.
    #[error("converter `{converter}`: {source}")]
    Converter {
        /// The converter's name.
        converter: String,
        /// Its error.
        #[source]
        source: Box<Error>,
    },

    /// A free-form error, for converters and other code outside this crate.
    #[error("{0}")]
    Custom(String),

    /// The resolver's settings are unusable (no URIs, no providers, duplicate schemes, ...).
    #[error("invalid resolver settings: {0}")]
    Settings(String),

    /// The resolver was used after [`Resolver::shutdown`](crate::Resolver::shutdown).
    #[error("the resolver has been shut down")]
    Closed,

    /// A provider failed to shut down.
    #[error("shutting down the `{scheme}` provider: {source}")]
    ProviderShutdown {
        /// The provider's scheme.
        scheme: String,
        /// Its error.
        #[source]
        source: ProviderError,
    },
}

impl Error {
    /// A free-form error with the given message.
    pub fn custom(message: impl std::fmt::Display) -> Error {
        Error::Custom(message.to_string())
    }
}

/// Why a `${...}` reference could not be expanded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExpandError {
    /// The reference names a scheme that no provider serves.
    #[error("unknown scheme `{scheme}`; known schemes: {}{}", known.join(", "), hint.as_deref().map(|h| format!("; did you mean `{h}`?")).unwrap_or_default())]
    UnknownScheme {
        /// The scheme.
        scheme: String,
        /// The schemes the providers serve, sorted.
        known: Vec<String>,
        /// A likely intended spelling, such as `${env:VAR:-default}` for `${VAR:-default}`.
        hint: Option<String>,
    },

    /// The provider failed to retrieve a URI the reference led to.
    #[error("{uri}: {source}")]
    Provider {
        /// The URI being retrieved (after inner references were expanded), its userinfo
        /// redacted.
        uri: String,
        /// The provider's error.
        #[source]
        source: ProviderError,
    },

    /// A reference embedded in a longer string resolved to something without a text form.
    #[error(
        "{uri} resolved to {found}, which cannot be embedded in a string; only a scalar can (a reference that is the whole value keeps any type)"
    )]
    NotEmbeddable {
        /// The URI, its userinfo redacted.
        uri: String,
        /// What it resolved to: `a map`, `a list`, `null`.
        found: &'static str,
    },

    /// Values refer to each other in a loop.
    #[error("expansion cycle: {}", chain.join(" -> "))]
    Cycle {
        /// The URIs of the loop, first to last, the first repeated at the end (userinfo
        /// redacted).
        chain: Vec<String>,
    },

    /// Values refer to each other more deeply than the limit.
    #[error("references nest more than {limit} levels deep: {}", chain.join(" -> "))]
    TooDeep {
        /// The limit.
        limit: usize,
        /// The URIs followed, outermost first (userinfo redacted).
        chain: Vec<String>,
    },

    /// `${` nests deeper than the limit inside one string.
    #[error("`${{` nests more than {limit} levels deep")]
    NestingTooDeep {
        /// The limit.
        limit: usize,
    },

    /// The expanded text grew beyond the limit.
    #[error("the expanded text is longer than {limit} bytes")]
    TooLong {
        /// The limit in bytes.
        limit: usize,
    },

    /// The configuration refers to more distinct URIs than the limit.
    #[error("more than {limit} distinct references in one configuration")]
    TooMany {
        /// The limit.
        limit: usize,
    },
}

/// An error from a [`Provider`](crate::Provider).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// The URI is malformed for this provider.
    #[error("unsupported URI: {reason}")]
    InvalidUri {
        /// What is wrong with it.
        reason: String,
    },

    /// Reading a file failed.
    #[error("reading {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A source is larger than the provider accepts.
    #[error("{what} is {size} bytes, more than the limit of {limit} bytes")]
    TooLarge {
        /// The source, such as a file path.
        what: String,
        /// Its size, or the size read before giving up.
        size: u64,
        /// The limit.
        limit: u64,
    },

    /// An HTTP request failed or was answered with something other than 200.
    #[error("{0}")]
    Http(String),

    /// The provider was used after [`Provider::shutdown`](crate::Provider::shutdown).
    #[error("the provider has been shut down")]
    ShutDown,

    /// Any other failure, from providers outside this crate.
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

impl ProviderError {
    /// An error for a URI this provider cannot serve.
    pub fn invalid_uri(reason: impl Into<String>) -> ProviderError {
        ProviderError::InvalidUri {
            reason: reason.into(),
        }
    }

    /// Wraps any error, for providers outside this crate.
    pub fn other(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> ProviderError {
        ProviderError::Other(error.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_uri_and_the_path() {
        let error = Error::Expand {
            path: "exporters::otlp::endpoint".into(),
            reference: "${env:A}".into(),
            source: ExpandError::Cycle {
                chain: vec!["env:A".into(), "env:B".into(), "env:A".into()],
            },
        };
        assert_eq!(
            error.to_string(),
            "exporters::otlp::endpoint: ${env:A}: expansion cycle: env:A -> env:B -> env:A"
        );
        let error = Error::UnknownScheme {
            uri: "s3:bucket/x.yaml".into(),
            scheme: "s3".into(),
            known: vec!["env".into(), "file".into()],
        };
        assert_eq!(
            error.to_string(),
            "s3:bucket/x.yaml: unknown scheme `s3`; known schemes: env, file"
        );
    }

    #[test]
    fn an_unknown_scheme_in_a_reference_can_hint_at_the_fix() {
        let error = ExpandError::UnknownScheme {
            scheme: "HOST".into(),
            known: vec!["env".into()],
            hint: Some("${env:HOST:-localhost}".into()),
        };
        assert_eq!(
            error.to_string(),
            "unknown scheme `HOST`; known schemes: env; did you mean `${env:HOST:-localhost}`?"
        );
    }
}
