//! The `metricstarttime` factory.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Processor, ProcessorFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::processorhelper;

use super::Config;
use super::adjuster::StartTimes;
use crate::metric_stream::StreamMetrics;

/// The `metricstarttime` processor's factory (metrics; beta as in Go).
pub fn factory() -> ProcessorFactory<Config> {
    ProcessorFactory::new("metricstarttime").with_metrics(create, Stability::Beta)
}

fn create(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Metrics>,
) -> Result<Arc<dyn Processor<Metrics>>, CreateError> {
    let pattern = config
        .start_time_metric()
        .map_err(|e| CreateError::new(e.to_string()))?;
    let metrics = StreamMetrics::new(settings, "metricstarttime");
    let state = Mutex::new(StartTimes::new(config, pattern, Some(metrics)));
    Ok(processorhelper::from_fn(next, move |data: &mut Metrics| {
        if StartTimes::selects_any(data.request()) {
            let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
            state.adjust(data.make_mut(), Instant::now());
        }
        Ok(())
    }))
}
