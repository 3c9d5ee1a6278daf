//! The `falcon_align` factory: type name, stability and the create function.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Processor, ProcessorFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::processorhelper;

use super::Config;
use super::align::Alignment;

/// The `falcon_align` processor's factory, to register on a collector builder.
pub fn factory() -> ProcessorFactory<Config> {
    ProcessorFactory::new("falcon_align").with_metrics(create, Stability::Development)
}

fn create(
    _: &CreateSettings,
    config: &Config,
    next: Next<Metrics>,
) -> Result<Arc<dyn Processor<Metrics>>, CreateError> {
    let alignment = Alignment::new(config);
    Ok(processorhelper::from_fn(
        next,
        move |metrics: &mut Metrics| {
            alignment.align(metrics);
            Ok(())
        },
    ))
}
