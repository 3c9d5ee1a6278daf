//! The `otlp` receiver's factory.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Receiver, ReceiverFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::Payload;

use super::config::Config;
use super::receiver::{OtlpReceiver, OtlpSignal};

/// The `otlp` receiver's factory, to register on a collector builder.
pub fn factory() -> ReceiverFactory<Config> {
    ReceiverFactory::new("otlp")
        .with_traces(create, Stability::Beta)
        .with_metrics(create, Stability::Beta)
        .with_logs(create, Stability::Beta)
}

fn create<R: OtlpSignal>(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Payload<R>>,
) -> Result<Arc<dyn Receiver>, CreateError> {
    Ok(OtlpReceiver::create(settings, config, next)?)
}
