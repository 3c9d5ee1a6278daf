//! The `attributes` factory: type name, stability and the per-signal create functions.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Processor, ProcessorFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::{Logs, Metrics, Signal, Traces};
use tributary_pipeline_core::processorhelper;

use super::Config;
use super::processor::Selection;

/// The `attributes` processor's factory (traces, metrics and logs; beta as in Go).
pub fn factory() -> ProcessorFactory<Config> {
    ProcessorFactory::new("attributes")
        .with_traces(create_traces, Stability::Beta)
        .with_metrics(create_metrics, Stability::Beta)
        .with_logs(create_logs, Stability::Beta)
}

fn selection(config: &Config, signal: Signal) -> Result<Arc<Selection>, CreateError> {
    Selection::new(config, signal)
        .map(Arc::new)
        .map_err(|error| CreateError::new(error.to_string()))
}

fn create_traces(
    _settings: &CreateSettings,
    config: &Config,
    next: Next<Traces>,
) -> Result<Arc<dyn Processor<Traces>>, CreateError> {
    let selection = selection(config, Signal::Traces)?;
    Ok(processorhelper::from_fn(
        next,
        move |traces: &mut Traces| {
            selection.traces(traces);
            Ok(())
        },
    ))
}

fn create_metrics(
    _settings: &CreateSettings,
    config: &Config,
    next: Next<Metrics>,
) -> Result<Arc<dyn Processor<Metrics>>, CreateError> {
    let selection = selection(config, Signal::Metrics)?;
    Ok(processorhelper::from_fn(
        next,
        move |metrics: &mut Metrics| {
            selection.metrics(metrics);
            Ok(())
        },
    ))
}

fn create_logs(
    _settings: &CreateSettings,
    config: &Config,
    next: Next<Logs>,
) -> Result<Arc<dyn Processor<Logs>>, CreateError> {
    let selection = selection(config, Signal::Logs)?;
    Ok(processorhelper::from_fn(next, move |logs: &mut Logs| {
        selection.logs(logs);
        Ok(())
    }))
}
