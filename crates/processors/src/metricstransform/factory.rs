//! The `metricstransform` factory: type name, stability and the create function.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Processor, ProcessorFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::processorhelper;

use super::Config;
use super::processor::Transforms;

/// The `metricstransform` processor's factory (metrics; beta as in Go).
pub fn factory() -> ProcessorFactory<Config> {
    ProcessorFactory::new("metricstransform").with_metrics(create, Stability::Beta)
}

fn create(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Metrics>,
) -> Result<Arc<dyn Processor<Metrics>>, CreateError> {
    let transforms = Transforms::compile(config, &settings.build_info().version)
        .map_err(|error| CreateError::new(error.to_string()))?;
    Ok(processorhelper::from_fn(
        next,
        move |metrics: &mut Metrics| {
            transforms.process(metrics);
            Ok(())
        },
    ))
}
