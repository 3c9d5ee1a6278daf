//! The `falcon_nodata` factory: type name, stability and the create function.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Processor, ProcessorFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::Metrics;

use super::Config;
use super::absence::{Absence, Series};
use super::processor::Nodata;

/// The `falcon_nodata` processor's factory, to register on a collector builder.
pub fn factory() -> ProcessorFactory<Config> {
    ProcessorFactory::new("falcon_nodata").with_metrics(create, Stability::Development)
}

fn create(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Metrics>,
) -> Result<Arc<dyn Processor<Metrics>>, CreateError> {
    // The series a previous configuration's instance watched: those this config still
    // selects carry on, the others are dropped.
    let series = settings.carried_over(Series::default);
    Ok(Arc::new(Nodata::new(
        settings,
        Absence::new(config, series),
        config.check_interval,
        next,
    )))
}
