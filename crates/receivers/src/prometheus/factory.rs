//! The `prometheus` receiver's factory.

use std::sync::Arc;

use tributary_pipeline_core::prelude::*;

use super::config::Config;
use super::receiver::PrometheusReceiver;

fn create(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Metrics>,
) -> Result<Arc<dyn Receiver>, CreateError> {
    Ok(Arc::new(PrometheusReceiver::new(settings, config, next)))
}

/// The `prometheus` receiver's factory, to register on a collector builder.
pub fn factory() -> ReceiverFactory<Config> {
    ReceiverFactory::new("prometheus").with_metrics(create, Stability::Beta)
}
