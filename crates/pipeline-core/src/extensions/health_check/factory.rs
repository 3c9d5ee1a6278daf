//! The `health_check` factory.

use std::sync::Arc;

use super::config::Config;
use super::extension::HealthCheck;
use crate::component::{CreateError, CreateSettings, Extension, ExtensionFactory, Stability};

/// Builds `health_check` extensions.
#[derive(Clone, Copy, Debug, Default)]
pub struct HealthCheckFactory;

/// The `health_check` factory, to register on a collector builder.
pub fn factory() -> HealthCheckFactory {
    HealthCheckFactory
}

impl ExtensionFactory for HealthCheckFactory {
    type Config = Config;

    fn component_type(&self) -> &'static str {
        "health_check"
    }

    fn stability(&self) -> Stability {
        Stability::Beta
    }

    fn create(
        &self,
        settings: &CreateSettings,
        config: &Config,
    ) -> Result<Arc<dyn Extension>, CreateError> {
        Ok(Arc::new(HealthCheck::new(settings, config)?))
    }
}
