//! The `bearertokenauth` configuration: the Go Collector's keys and defaults.

use serde::Deserialize;

use crate::component::{ComponentConfig, ConfigError, SecretString};

/// The `bearertokenauth` extension's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The header carrying the token. Default `Authorization`.
    pub header: String,
    /// The scheme before the token. Default `Bearer`.
    pub scheme: String,
    /// The token.
    #[serde(rename = "token")]
    pub token: SecretString,
    /// Several accepted tokens; a client sends the first.
    pub tokens: Vec<SecretString>,
    /// A file holding the tokens, one per line; re-read when it changes.
    pub filename: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            header: "Authorization".into(),
            scheme: "Bearer".into(),
            token: SecretString::default(),
            tokens: Vec::new(),
            filename: String::new(),
        }
    }
}

impl Config {
    /// The header value a token is sent as: `<scheme> <token>`, or the bare token.
    pub(crate) fn header_value(&self, token: &str) -> String {
        if self.scheme.is_empty() {
            token.to_string()
        } else {
            format!("{} {token}", self.scheme)
        }
    }

    /// The tokens configured inline (`token` or `tokens`).
    pub(crate) fn inline_tokens(&self) -> Vec<String> {
        if self.token.is_empty() {
            self.tokens.iter().map(|t| t.expose().to_string()).collect()
        } else {
            vec![self.token.expose().to_string()]
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.token.is_empty() && self.tokens.is_empty() && self.filename.is_empty() {
            return Err(ConfigError::new(
                "no bearer token: set token, tokens or filename",
            ));
        }
        if !self.token.is_empty() && !self.tokens.is_empty() {
            return Err(ConfigError::at(
                "tokens",
                "either token or tokens can be set, not both",
            ));
        }
        if http::HeaderName::from_bytes(self.header.as_bytes()).is_err() {
            return Err(ConfigError::at(
                "header",
                format!("{:?} is not a valid header name", self.header),
            ));
        }
        let inline = self.inline_tokens();
        for (i, token) in inline.iter().enumerate() {
            let key = if self.token.is_empty() {
                format!("tokens::{i}")
            } else {
                "token".to_string()
            };
            if token.is_empty() {
                return Err(ConfigError::at(key, "must not be empty"));
            }
            if http::HeaderValue::from_str(&self.header_value(token)).is_err() {
                return Err(ConfigError::at(
                    key,
                    "scheme and token must consist of visible ASCII characters",
                ));
            }
        }
        Ok(())
    }
}
