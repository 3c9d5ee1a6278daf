//! The `transform` factory: type name, stability and the per-signal create functions.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Processor, ProcessorFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::{Logs, Metrics, Traces};
use tributary_pipeline_core::processorhelper;

use super::Config;
use super::processor::{self, Signal, compile_groups};

/// The `transform` processor's factory, to register on a collector builder.
pub fn factory() -> ProcessorFactory<Config> {
    ProcessorFactory::new("transform")
        .with_traces(create_traces, Stability::Beta)
        .with_metrics(create_metrics, Stability::Beta)
        .with_logs(create_logs, Stability::Beta)
}

fn compile(config: &Config, signal: Signal) -> Result<Vec<processor::Group>, CreateError> {
    compile_groups(config, signal).map_err(|e| CreateError::new(e.to_string()))
}

fn create_traces(
    _: &CreateSettings,
    config: &Config,
    next: Next<Traces>,
) -> Result<Arc<dyn Processor<Traces>>, CreateError> {
    let groups = compile(config, Signal::Traces)?;
    Ok(processorhelper::from_fn(next, move |t: &mut Traces| {
        if groups.is_empty() {
            return Ok(());
        }
        processor::traces(&groups, t)
    }))
}

fn create_metrics(
    _: &CreateSettings,
    config: &Config,
    next: Next<Metrics>,
) -> Result<Arc<dyn Processor<Metrics>>, CreateError> {
    let groups = compile(config, Signal::Metrics)?;
    Ok(processorhelper::from_fn(next, move |m: &mut Metrics| {
        if groups.is_empty() {
            return Ok(());
        }
        processor::metrics(&groups, m)
    }))
}

fn create_logs(
    _: &CreateSettings,
    config: &Config,
    next: Next<Logs>,
) -> Result<Arc<dyn Processor<Logs>>, CreateError> {
    let groups = compile(config, Signal::Logs)?;
    Ok(processorhelper::from_fn(next, move |l: &mut Logs| {
        if groups.is_empty() {
            return Ok(());
        }
        processor::logs(&groups, l)
    }))
}
