//! The `interval` factory: type name, stability and the create function.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Processor, ProcessorFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::Metrics;

use super::Config;
use super::processor::IntervalProcessor;

/// The `interval` processor's factory (metrics; alpha as in Go).
pub fn factory() -> ProcessorFactory<Config> {
    ProcessorFactory::new("interval").with_metrics(create, Stability::Alpha)
}

fn create(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Metrics>,
) -> Result<Arc<dyn Processor<Metrics>>, CreateError> {
    Ok(Arc::new(IntervalProcessor::new(settings, config, next)))
}
