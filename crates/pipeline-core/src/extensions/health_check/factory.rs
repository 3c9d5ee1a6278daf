//! The `health_check` factory.

use std::sync::Arc;

use super::config::Config;
use super::extension::HealthCheck;
use crate::component::{CreateError, CreateSettings, Extension, ExtensionFactory, Stability};

/// The `health_check` factory, to register on a collector builder.
pub fn factory() -> ExtensionFactory<Config> {
    ExtensionFactory::new("health_check", create, Stability::Beta)
}

fn create(settings: &CreateSettings, config: &Config) -> Result<Arc<dyn Extension>, CreateError> {
    Ok(Arc::new(HealthCheck::new(settings, config)?))
}
