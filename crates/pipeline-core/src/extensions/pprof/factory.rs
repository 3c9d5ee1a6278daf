//! The `pprof` factory.

use std::sync::Arc;

use super::config::Config;
use super::extension::Pprof;
use crate::component::{CreateError, CreateSettings, Extension, ExtensionFactory, Stability};

/// The `pprof` factory, to register on a collector builder.
pub fn factory() -> ExtensionFactory<Config> {
    ExtensionFactory::new("pprof", create, Stability::Beta)
}

fn create(settings: &CreateSettings, config: &Config) -> Result<Arc<dyn Extension>, CreateError> {
    Ok(Arc::new(Pprof::new(settings, config)?))
}
