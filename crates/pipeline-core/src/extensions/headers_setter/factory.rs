//! The `headers_setter` factory.

use std::sync::Arc;

use super::config::Config;
use super::setter::HeadersSetter;
use crate::component::{CreateError, CreateSettings, Extension, ExtensionFactory, Stability};

/// The `headers_setter` factory, to register on a collector builder.
pub fn factory() -> ExtensionFactory<Config> {
    ExtensionFactory::new("headers_setter", create, Stability::Alpha)
}

fn create(_settings: &CreateSettings, config: &Config) -> Result<Arc<dyn Extension>, CreateError> {
    Ok(Arc::new(HeadersSetter::new(config)?))
}
