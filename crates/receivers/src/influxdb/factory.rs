//! The `influxdb` receiver's factory.

use std::sync::Arc;

use tributary_pipeline_core::prelude::*;

use super::config::Config;
use super::receiver::InfluxDbReceiver;

fn create(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Metrics>,
) -> Result<Arc<dyn Receiver>, CreateError> {
    Ok(Arc::new(InfluxDbReceiver::new(settings, config, next)))
}

/// The `influxdb` receiver's factory, to register on a collector builder.
pub fn factory() -> ReceiverFactory<Config> {
    ReceiverFactory::new("influxdb").with_metrics(create, Stability::Beta)
}
