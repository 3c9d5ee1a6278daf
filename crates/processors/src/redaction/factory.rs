//! The `redaction` factory: type name, stability and the per-signal create functions.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Processor, ProcessorFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::{Logs, Metrics, Traces};
use tributary_pipeline_core::processorhelper;

use super::Config;
use super::redactor::Redactor;

/// The `redaction` processor's factory: traces beta, metrics and logs alpha, as in Go.
pub fn factory() -> ProcessorFactory<Config> {
    ProcessorFactory::new("redaction")
        .with_traces(create_traces, Stability::Beta)
        .with_metrics(create_metrics, Stability::Alpha)
        .with_logs(create_logs, Stability::Alpha)
}

fn redactor(config: &Config) -> Result<Arc<Redactor>, CreateError> {
    Redactor::new(config)
        .map(Arc::new)
        .map_err(|error| CreateError::new(error.to_string()))
}

fn create_traces(
    _settings: &CreateSettings,
    config: &Config,
    next: Next<Traces>,
) -> Result<Arc<dyn Processor<Traces>>, CreateError> {
    let redactor = redactor(config)?;
    Ok(processorhelper::from_fn(
        next,
        move |traces: &mut Traces| {
            redactor.traces(traces);
            Ok(())
        },
    ))
}

fn create_metrics(
    _settings: &CreateSettings,
    config: &Config,
    next: Next<Metrics>,
) -> Result<Arc<dyn Processor<Metrics>>, CreateError> {
    let redactor = redactor(config)?;
    Ok(processorhelper::from_fn(
        next,
        move |metrics: &mut Metrics| {
            redactor.metrics(metrics);
            Ok(())
        },
    ))
}

fn create_logs(
    _settings: &CreateSettings,
    config: &Config,
    next: Next<Logs>,
) -> Result<Arc<dyn Processor<Logs>>, CreateError> {
    let redactor = redactor(config)?;
    Ok(processorhelper::from_fn(next, move |logs: &mut Logs| {
        redactor.logs(logs);
        Ok(())
    }))
}
