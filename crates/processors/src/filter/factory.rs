//! The `filter` factory: type name, stability and the per-signal create functions.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Processor, ProcessorFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::{Logs, Metrics, Traces};
use tributary_pipeline_core::processorhelper;
use tributary_pipeline_core::telemetry::Counter;

use super::Config;
use super::processor::Filters;

/// The `filter` processor's factory, to register on a collector builder.
pub fn factory() -> ProcessorFactory<Config> {
    ProcessorFactory::new("filter")
        .with_traces(create_traces, Stability::Alpha)
        .with_metrics(create_metrics, Stability::Alpha)
        .with_logs(create_logs, Stability::Alpha)
}

fn compile(config: &Config) -> Result<Filters, CreateError> {
    Filters::compile(config).map_err(|e| CreateError::new(e.to_string()))
}

/// The Go Collector's `otelcol_processor_filter_<items>_filtered` counter, labelled
/// `filter="<processor id>"` as Go labels it.
fn dropped(settings: &CreateSettings, items: &str) -> Counter {
    let id = settings.id().to_string();
    settings.metrics().counter(
        &format!("otelcol_processor_filter_{items}_filtered"),
        &format!("Number of {items} dropped by the filter processor"),
        &[("filter", id.as_str())],
    )
}

fn create_traces(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Traces>,
) -> Result<Arc<dyn Processor<Traces>>, CreateError> {
    let filters = compile(config)?;
    let counter = dropped(settings, "spans");
    Ok(processorhelper::from_fn(next, move |t: &mut Traces| {
        if filters.filters_traces() {
            counter.add(filters.traces(t)? as u64);
        }
        Ok(())
    }))
}

fn create_metrics(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Metrics>,
) -> Result<Arc<dyn Processor<Metrics>>, CreateError> {
    let filters = compile(config)?;
    let counter = dropped(settings, "datapoints");
    Ok(processorhelper::from_fn(next, move |m: &mut Metrics| {
        if filters.filters_metrics() {
            counter.add(filters.metrics(m)? as u64);
        }
        Ok(())
    }))
}

fn create_logs(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Logs>,
) -> Result<Arc<dyn Processor<Logs>>, CreateError> {
    let filters = compile(config)?;
    let counter = dropped(settings, "logs");
    Ok(processorhelper::from_fn(next, move |l: &mut Logs| {
        if filters.filters_logs() {
            counter.add(filters.logs(l)? as u64);
        }
        Ok(())
    }))
}
