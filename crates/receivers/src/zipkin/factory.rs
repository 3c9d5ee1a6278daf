//! The `zipkin` receiver's factory.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Receiver, ReceiverFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::Traces;

use super::config::Config;
use super::receiver::ZipkinReceiver;

fn create(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Traces>,
) -> Result<Arc<dyn Receiver>, CreateError> {
    Ok(Arc::new(ZipkinReceiver::new(settings, config, next)))
}

/// The `zipkin` receiver's factory, to register on a collector builder.
pub fn factory() -> ReceiverFactory<Config> {
    ReceiverFactory::new("zipkin").with_traces(create, Stability::Beta)
}
