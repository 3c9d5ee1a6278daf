//! The `deltatocumulative` factory.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Processor, ProcessorFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::processorhelper;

use super::Config;
use super::accumulator::Accumulator;
use crate::metric_stream::StreamMetrics;

/// The `deltatocumulative` processor's factory (metrics; alpha as in Go).
pub fn factory() -> ProcessorFactory<Config> {
    ProcessorFactory::new("deltatocumulative").with_metrics(create, Stability::Alpha)
}

fn create(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Metrics>,
) -> Result<Arc<dyn Processor<Metrics>>, CreateError> {
    let metrics = StreamMetrics::new(settings, "deltatocumulative");
    let accumulator = Mutex::new(Accumulator::new(config, Some(metrics)));
    Ok(processorhelper::from_fn(next, move |data: &mut Metrics| {
        if Accumulator::selects_any(data.request()) {
            let mut accumulator = accumulator.lock().unwrap_or_else(|e| e.into_inner());
            accumulator.accumulate(data.make_mut(), Instant::now());
        }
        Ok(())
    }))
}
