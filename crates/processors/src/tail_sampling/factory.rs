//! The `tail_sampling` factory: type name, stability and the traces create function.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Processor, ProcessorFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::Traces;

use super::Config;
use super::processor::TailSampler;

/// The `tail_sampling` processor's factory, to register on a collector builder.
pub fn factory() -> ProcessorFactory<Config> {
    ProcessorFactory::new("tail_sampling").with_traces(create, Stability::Beta)
}

fn create(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Traces>,
) -> Result<Arc<dyn Processor<Traces>>, CreateError> {
    Ok(Arc::new(
        TailSampler::new(settings, config, next).map_err(CreateError::new)?,
    ))
}
