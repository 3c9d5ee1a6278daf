//! The `kafka` receiver's factory.

use std::sync::Arc;

use tributary_pipeline_core::prelude::*;

use super::config::Config;
use super::decode::KafkaRecord;
use super::receiver::KafkaReceiver;

/// The `kafka` receiver's factory, to register on a collector builder.
pub fn factory() -> ReceiverFactory<Config> {
    ReceiverFactory::new("kafka")
        .with_traces(create::<Traces>, Stability::Beta)
        .with_metrics(create::<Metrics>, Stability::Beta)
        .with_logs(create::<Logs>, Stability::Beta)
}

fn create<T: KafkaRecord>(
    settings: &CreateSettings,
    config: &Config,
    next: Next<T>,
) -> Result<Arc<dyn Receiver>, CreateError> {
    Ok(Arc::new(KafkaReceiver::new(settings, config, next)))
}
