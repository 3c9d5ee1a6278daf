//! The `basicauth` factory.

use std::sync::Arc;

use super::authenticator::BasicAuth;
use super::config::Config;
use crate::component::{CreateError, CreateSettings, Extension, ExtensionFactory, Stability};

/// The `basicauth` factory, to register on a collector builder.
pub fn factory() -> ExtensionFactory<Config> {
    ExtensionFactory::new("basicauth", create, Stability::Beta)
}

fn create(_settings: &CreateSettings, config: &Config) -> Result<Arc<dyn Extension>, CreateError> {
    Ok(Arc::new(BasicAuth::new(config)))
}
