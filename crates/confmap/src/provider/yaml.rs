//! The `yaml` provider: inline YAML, `yaml:processors::batch::timeout: 2s`.

use crate::error::ProviderError;
use crate::provider::{Provider, Retrieved, opaque};
use crate::watch::Watcher;

/// Serves `yaml:<document>`: the text after `yaml:` is a YAML document. Keys may use `::`
/// to address nested maps (`yaml:processors::batch::timeout: 2s`); this is what `--set`
/// arguments become.
#[derive(Debug, Default)]
pub struct YamlProvider {
    _private: (),
}

impl YamlProvider {
    /// Creates the provider.
    pub fn new() -> YamlProvider {
        YamlProvider::default()
    }
}

#[async_trait::async_trait]
impl Provider for YamlProvider {
    fn scheme(&self) -> &str {
        "yaml"
    }

    async fn retrieve(
        &self,
        uri: &str,
        _watcher: Option<Watcher>,
    ) -> Result<Retrieved, ProviderError> {
        Ok(Retrieved::from_yaml(opaque(uri, "yaml")?))
    }

    async fn shutdown(&self) -> Result<(), ProviderError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    #[tokio::test]
    async fn inline_yaml_with_key_paths_becomes_nested_maps() {
        let retrieved = YamlProvider::new()
            .retrieve("yaml:processors::batch::timeout: 2s", None)
            .await
            .unwrap();
        let conf = retrieved.as_conf().unwrap();
        assert_eq!(
            conf.get("processors::batch::timeout"),
            Some(&Value::from("2s"))
        );
    }

    #[tokio::test]
    async fn other_schemes_are_refused() {
        let error = YamlProvider::new()
            .retrieve("env:X", None)
            .await
            .unwrap_err();
        assert_eq!(error.to_string(), "unsupported URI: expected a `yaml:` URI");
    }
}
