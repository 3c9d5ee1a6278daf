//! The `groupbyattrs` factory: type name, stability and the create functions.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Processor, ProcessorFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::{Logs, Metrics, Traces};
use tributary_pipeline_core::processorhelper;

use super::Config;
use super::group::{regroup_metrics, regroup_records};
use super::telemetry::GroupingMetrics;

/// The `groupbyattrs` processor's factory (traces, metrics and logs; beta as in Go).
pub fn factory() -> ProcessorFactory<Config> {
    ProcessorFactory::new("groupbyattrs")
        .with_traces(create_traces, Stability::Beta)
        .with_metrics(create_metrics, Stability::Beta)
        .with_logs(create_logs, Stability::Beta)
}

fn create_traces(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Traces>,
) -> Result<Arc<dyn Processor<Traces>>, CreateError> {
    let keys = config.keys.clone();
    let telemetry = GroupingMetrics::new(settings, "spans");
    Ok(processorhelper::from_fn(
        next,
        move |traces: &mut Traces| {
            let request = traces.make_mut();
            let counts = regroup_records(request, &keys, |span| &mut span.attributes);
            telemetry.record(counts, request.resource_spans.len());
            Ok(())
        },
    ))
}

fn create_logs(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Logs>,
) -> Result<Arc<dyn Processor<Logs>>, CreateError> {
    let keys = config.keys.clone();
    let telemetry = GroupingMetrics::new(settings, "logs");
    Ok(processorhelper::from_fn(next, move |logs: &mut Logs| {
        let request = logs.make_mut();
        let counts = regroup_records(request, &keys, |record| &mut record.attributes);
        telemetry.record(counts, request.resource_logs.len());
        Ok(())
    }))
}

fn create_metrics(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Metrics>,
) -> Result<Arc<dyn Processor<Metrics>>, CreateError> {
    let keys = config.keys.clone();
    let telemetry = GroupingMetrics::new(settings, "metrics");
    Ok(processorhelper::from_fn(
        next,
        move |metrics: &mut Metrics| {
            let request = metrics.make_mut();
            let counts = regroup_metrics(request, &keys);
            telemetry.record(counts, request.resource_metrics.len());
            Ok(())
        },
    ))
}
