//! The `embedded:` configuration provider: configuration text compiled into the program.

use async_trait::async_trait;
use tributary_confmap::{Provider, ProviderError, Retrieved, Watcher};

/// Serves configuration text built into the program: `embedded:default` is the builder's
/// default configuration, used when no `--config` is given. It never changes, so it is
/// never watched.
pub(crate) struct EmbeddedProvider {
    text: String,
}

/// The URI of the embedded configuration.
pub(crate) const EMBEDDED_URI: &str = "embedded:default";

impl EmbeddedProvider {
    pub(crate) fn new(text: impl Into<String>) -> Self {
        EmbeddedProvider { text: text.into() }
    }
}

#[async_trait]
impl Provider for EmbeddedProvider {
    fn scheme(&self) -> &str {
        "embedded"
    }

    async fn retrieve(
        &self,
        uri: &str,
        _watcher: Option<Watcher>,
    ) -> Result<Retrieved, ProviderError> {
        if uri != EMBEDDED_URI {
            return Err(ProviderError::invalid_uri(format!(
                "the only embedded configuration is {EMBEDDED_URI:?}"
            )));
        }
        Ok(Retrieved::from_yaml(self.text.clone()))
    }

    async fn shutdown(&self) -> Result<(), ProviderError> {
        Ok(())
    }
}
