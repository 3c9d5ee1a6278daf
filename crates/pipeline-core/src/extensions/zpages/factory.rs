//! The `zpages` factory.

use std::sync::Arc;

use super::config::Config;
use super::extension::ZPages;
use crate::component::{CreateError, CreateSettings, Extension, ExtensionFactory, Stability};

/// The `zpages` factory, to register on a collector builder.
pub fn factory() -> ExtensionFactory<Config> {
    ExtensionFactory::new("zpages", create, Stability::Beta)
}

fn create(settings: &CreateSettings, config: &Config) -> Result<Arc<dyn Extension>, CreateError> {
    Ok(Arc::new(ZPages::new(settings, config)?))
}
