//! The `nats` receiver's factory.

use std::sync::Arc;

use tributary_pipeline_core::prelude::*;

use super::config::Config;
use super::receiver::NatsReceiver;

/// The `nats` receiver's factory, to register on a collector builder.
pub fn factory() -> ReceiverFactory<Config> {
    ReceiverFactory::new("nats")
        .with_traces(create::<Traces>, Stability::Alpha)
        .with_metrics(create::<Metrics>, Stability::Alpha)
        .with_logs(create::<Logs>, Stability::Alpha)
}

fn create<T: JsonData>(
    settings: &CreateSettings,
    config: &Config,
    next: Next<T>,
) -> Result<Arc<dyn Receiver>, CreateError> {
    Ok(Arc::new(NatsReceiver::new(settings, config, next)))
}
