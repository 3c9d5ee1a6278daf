//! The `env` provider: `env:NAME` and `env:NAME:-default`.

use crate::error::ProviderError;
use crate::provider::{Provider, Retrieved, opaque};
use crate::watch::Watcher;

/// Serves `env:NAME` and `env:NAME:-default` from the process environment, with the Go
/// Collector's rules:
///
/// - `NAME` must match `[a-zA-Z_][a-zA-Z0-9_]*`;
/// - the value is parsed as YAML (see [`Retrieved::from_yaml`]), so `${env:PORT}` holding
///   `4317` is an int for an int field and the text `"4317"` for a string field;
/// - an unset variable without a default is empty (null, or `""` for a string field) and
///   logs a warning; it is not an error;
/// - an unset variable with a default yields the default, parsed as YAML; `:-` with nothing
///   after it gives an explicit empty value.
///
/// The environment is not watched.
#[derive(Debug, Default)]
pub struct EnvProvider {
    _private: (),
}

impl EnvProvider {
    /// Creates the provider.
    pub fn new() -> EnvProvider {
        EnvProvider::default()
    }
}

#[async_trait::async_trait]
impl Provider for EnvProvider {
    fn scheme(&self) -> &str {
        "env"
    }

    async fn retrieve(
        &self,
        uri: &str,
        _watcher: Option<Watcher>,
    ) -> Result<Retrieved, ProviderError> {
        let opaque = opaque(uri, "env")?;
        let (name, default) = match opaque.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (opaque, None),
        };
        if !is_valid_name(name) {
            return Err(ProviderError::invalid_uri(format!(
                "invalid environment variable name `{name}`; a name matches [a-zA-Z_][a-zA-Z0-9_]*"
            )));
        }
        let text = match std::env::var_os(name) {
            Some(value) => {
                let value = value.into_string().map_err(|_| {
                    ProviderError::invalid_uri(format!(
                        "the environment variable `{name}` is not valid UTF-8"
                    ))
                })?;
                if value.is_empty() {
                    tracing::info!(
                        name,
                        "configuration references an empty environment variable"
                    );
                }
                value
            }
            None => match default {
                Some(default) => default.to_owned(),
                None => {
                    tracing::warn!(
                        name,
                        "configuration references an unset environment variable"
                    );
                    String::new()
                }
            },
        };
        Ok(Retrieved::from_yaml(text))
    }

    async fn shutdown(&self) -> Result<(), ProviderError> {
        Ok(())
    }
}

fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    async fn retrieve(uri: &str) -> Result<Retrieved, ProviderError> {
        EnvProvider::new().retrieve(uri, None).await
    }

    #[tokio::test]
    async fn set_variables_are_parsed_as_yaml() {
        // SAFETY: the name is unique to this test; no other code reads or writes it.
        unsafe { std::env::set_var("TRIBUTARY_ENV_TEST_SET_0123", "0123") };
        let retrieved = retrieve("env:TRIBUTARY_ENV_TEST_SET_0123").await.unwrap();
        assert_eq!(retrieved.value(), &Value::Int(83));
        assert_eq!(retrieved.text(), Some("0123"));
    }

    #[tokio::test]
    async fn unset_variables_are_empty_or_take_the_default() {
        let unset = retrieve("env:TRIBUTARY_ENV_TEST_NEVER_SET").await.unwrap();
        assert_eq!(unset.value(), &Value::Null);
        assert_eq!(unset.text(), Some(""));
        let default = retrieve("env:TRIBUTARY_ENV_TEST_NEVER_SET:-[1, 2]")
            .await
            .unwrap();
        assert_eq!(default.value(), &Value::from(vec![1, 2]));
        let empty_default = retrieve("env:TRIBUTARY_ENV_TEST_NEVER_SET:-")
            .await
            .unwrap();
        assert_eq!(empty_default.text(), Some(""));
    }

    #[tokio::test]
    async fn the_default_is_ignored_when_the_variable_is_set() {
        // SAFETY: the name is unique to this test; no other code reads or writes it.
        unsafe { std::env::set_var("TRIBUTARY_ENV_TEST_SET_WITH_DEFAULT", "x") };
        let retrieved = retrieve("env:TRIBUTARY_ENV_TEST_SET_WITH_DEFAULT:-y")
            .await
            .unwrap();
        assert_eq!(retrieved.value(), &Value::from("x"));
    }

    #[tokio::test]
    async fn invalid_names_are_errors() {
        for uri in ["env:", "env:1X", "env:A-B", "env:A B", "env::-x"] {
            let error = retrieve(uri).await.unwrap_err();
            assert!(
                error
                    .to_string()
                    .contains("invalid environment variable name"),
                "{uri}: {error}"
            );
        }
        assert!(retrieve("file:x").await.is_err());
    }
}
