//! The `batch` factory: type name, stability and the per-signal create functions.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Processor, ProcessorFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::{OtlpRequest, Payload};

use super::Config;
use super::processor::BatchProcessor;

/// The `batch` processor's factory, to register on a collector builder.
pub fn factory() -> ProcessorFactory<Config> {
    ProcessorFactory::new("batch")
        .with_traces(create, Stability::Beta)
        .with_metrics(create, Stability::Beta)
        .with_logs(create, Stability::Beta)
}

fn create<R: OtlpRequest>(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Payload<R>>,
) -> Result<Arc<dyn Processor<Payload<R>>>, CreateError> {
    Ok(Arc::new(BatchProcessor::new(settings, config, next)))
}
