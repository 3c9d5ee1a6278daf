//! The `bearertokenauth` factory.

use std::sync::Arc;

use super::authenticator::BearerTokenAuth;
use super::config::Config;
use crate::component::{CreateError, CreateSettings, Extension, ExtensionFactory, Stability};

/// The `bearertokenauth` factory, to register on a collector builder.
pub fn factory() -> ExtensionFactory<Config> {
    ExtensionFactory::new("bearertokenauth", create, Stability::Beta)
}

fn create(settings: &CreateSettings, config: &Config) -> Result<Arc<dyn Extension>, CreateError> {
    Ok(Arc::new(BearerTokenAuth::new(settings, config)?))
}
