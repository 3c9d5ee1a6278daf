//! The `cumulativetodelta` factory.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Processor, ProcessorFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::processorhelper;

use super::Config;
use super::config::MetricFilter;
use super::converter::Converter;
use crate::metric_stream::StreamMetrics;

/// The `cumulativetodelta` processor's factory (metrics; beta as in Go).
pub fn factory() -> ProcessorFactory<Config> {
    ProcessorFactory::new("cumulativetodelta").with_metrics(create, Stability::Beta)
}

fn create(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Metrics>,
) -> Result<Arc<dyn Processor<Metrics>>, CreateError> {
    let filter = MetricFilter::compile(config).map_err(|e| CreateError::new(e.to_string()))?;
    let metrics = StreamMetrics::new(settings, "cumulativetodelta");
    let converter = Mutex::new(Converter::new(config, filter, Some(metrics)));
    Ok(processorhelper::from_fn(next, move |data: &mut Metrics| {
        let mut converter = converter.lock().unwrap_or_else(|e| e.into_inner());
        if converter.selects_any(data.request()) {
            converter.convert(data.make_mut(), Instant::now());
        }
        Ok(())
    }))
}
