//! `auth`: the client authenticator an exporter names, resolved at start and asked to set
//! each request's credentials.

use std::sync::{Arc, PoisonError, RwLock};

use http::HeaderMap;
use tributary_pipeline_core::component::{ComponentError, Host};
use tributary_pipeline_core::configauth::{AuthConfig, ClientAuthenticator};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::pdata::ClientMetadata;

/// An exporter's `auth`: nothing, or the authenticator found on the host at start.
#[derive(Default)]
pub(crate) struct ClientAuth {
    config: Option<AuthConfig>,
    resolved: RwLock<Option<Arc<dyn ClientAuthenticator>>>,
}

impl ClientAuth {
    /// The `auth` of a config.
    pub(crate) fn new(config: Option<&AuthConfig>) -> Self {
        ClientAuth {
            config: config.cloned(),
            resolved: RwLock::default(),
        }
    }

    /// Finds the authenticator on `host`; an error names it.
    pub(crate) fn start(&self, host: &Host) -> Result<(), ComponentError> {
        let Some(config) = &self.config else {
            return Ok(());
        };
        let authenticator = config.client(host)?;
        *self
            .resolved
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(authenticator);
        Ok(())
    }

    /// Sets the credentials of a request carrying data with `metadata`. A failure is
    /// retryable: a credential source may recover (a token file being replaced).
    pub(crate) async fn apply(
        &self,
        headers: &mut HeaderMap,
        metadata: Option<&ClientMetadata>,
    ) -> Result<(), ConsumeError> {
        let authenticator = self
            .resolved
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match authenticator {
            Some(authenticator) => authenticator
                .authorize(headers, metadata)
                .await
                .map_err(|e| ConsumeError::retryable(format!("authenticating the request: {e}"))),
            None if self.config.is_some() => Err(ConsumeError::retryable(
                "the authenticator is not resolved: the exporter was not started",
            )),
            None => Ok(()),
        }
    }
}
