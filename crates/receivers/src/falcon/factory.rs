//! The `falcon` receiver's factory.

use std::sync::Arc;

use tributary_pipeline_core::prelude::*;

use super::config::Config;
use super::receiver::FalconReceiver;

fn create(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Metrics>,
) -> Result<Arc<dyn Receiver>, CreateError> {
    Ok(Arc::new(FalconReceiver::new(settings, config, next)))
}

/// The `falcon` receiver's factory, to register on a collector builder.
pub fn factory() -> ReceiverFactory<Config> {
    ReceiverFactory::new("falcon").with_metrics(create, Stability::Alpha)
}
