//! The `headers_setter` configuration: the Go Collector's keys.

use serde::Deserialize;

use crate::component::{ComponentConfig, ConfigError, SecretString};

/// The `headers_setter` extension's configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The headers to set, in order.
    pub headers: Vec<HeaderConfig>,
}

/// What to do with a header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Set it only when the request does not have it.
    Insert,
    /// Set it only when the request has it.
    Update,
    /// Set it.
    #[default]
    Upsert,
    /// Remove it.
    Delete,
}

/// One header to set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeaderConfig {
    /// The header name.
    pub key: String,
    /// What to do with it.
    pub action: Action,
    /// A fixed value.
    pub value: Option<SecretString>,
    /// The client-metadata key to take the value from.
    pub from_context: Option<String>,
    /// The value when `from_context` finds none.
    pub default_value: Option<SecretString>,
    /// Refused: Tributary's server authenticators attach no attributes to requests.
    pub from_attribute: Option<String>,
}

impl HeaderConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if http::HeaderName::from_bytes(self.key.as_bytes()).is_err() {
            return Err(ConfigError::at(
                "key",
                format!("{:?} is not a valid header name", self.key),
            ));
        }
        if self.from_attribute.is_some() {
            return Err(ConfigError::at(
                "from_attribute",
                "not supported: it reads attributes a server authenticator attaches to the \
                 request, and Tributary's attach none; use from_context with \
                 include_metadata on the receiver",
            ));
        }
        if self.action == Action::Delete {
            return Ok(());
        }
        match (&self.value, &self.from_context) {
            (Some(_), Some(_)) => Err(ConfigError::at(
                "from_context",
                "set either value or from_context, not both",
            )),
            (None, None) => Err(ConfigError::new("set value or from_context")),
            (Some(value), None) => check_value("value", value),
            (None, Some(_)) => match &self.default_value {
                Some(value) => check_value("default_value", value),
                None => Ok(()),
            },
        }
    }
}

fn check_value(key: &str, value: &SecretString) -> Result<(), ConfigError> {
    if http::HeaderValue::from_str(value.expose()).is_err() {
        return Err(ConfigError::at(
            key,
            "only visible ASCII characters, spaces and tabs are allowed",
        ));
    }
    Ok(())
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.headers.is_empty() {
            return Err(ConfigError::at("headers", "list at least one header"));
        }
        for (i, header) in self.headers.iter().enumerate() {
            header
                .validate()
                .map_err(|e| e.within(&format!("headers::{i}")))?;
        }
        Ok(())
    }
}
