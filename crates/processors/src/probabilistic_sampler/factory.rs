//! The `probabilistic_sampler` factory: type name, stability and the per-signal create
//! functions.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Processor, ProcessorFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::{Logs, Traces};
use tributary_pipeline_core::processorhelper;
use tributary_pipeline_core::telemetry::Counter;

use super::Config;
use super::sampler::Decider;

/// The `probabilistic_sampler` processor's factory, to register on a collector builder.
pub fn factory() -> ProcessorFactory<Config> {
    ProcessorFactory::new("probabilistic_sampler")
        .with_traces(create_traces, Stability::Beta)
        .with_logs(create_logs, Stability::Alpha)
}

/// `otelcol_processor_probabilistic_sampler_count_{traces,logs}_sampled{sampled=...}`.
fn counters(settings: &CreateSettings, what: &str) -> (Counter, Counter) {
    let id = settings.id().to_string();
    let name = format!("otelcol_processor_probabilistic_sampler_count_{what}_sampled");
    let help = format!("Count of {what} that were sampled or not");
    let registry = settings.metrics();
    (
        registry.counter(&name, &help, &[("processor", &id), ("sampled", "true")]),
        registry.counter(&name, &help, &[("processor", &id), ("sampled", "false")]),
    )
}

fn create_traces(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Traces>,
) -> Result<Arc<dyn Processor<Traces>>, CreateError> {
    let decider = Decider::new(config, false);
    let (kept, dropped) = counters(settings, "traces");
    Ok(processorhelper::from_fn(
        next,
        move |traces: &mut Traces| {
            for rs in &mut traces.make_mut().resource_spans {
                for ss in &mut rs.scope_spans {
                    ss.spans.retain_mut(|span| {
                        let sampled = decider.span(span);
                        if sampled { &kept } else { &dropped }.inc();
                        sampled
                    });
                }
                rs.scope_spans.retain(|ss| !ss.spans.is_empty());
            }
            traces
                .make_mut()
                .resource_spans
                .retain(|rs| !rs.scope_spans.is_empty());
            Ok(())
        },
    ))
}

fn create_logs(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Logs>,
) -> Result<Arc<dyn Processor<Logs>>, CreateError> {
    let decider = Decider::new(config, true);
    let (kept, dropped) = counters(settings, "logs");
    Ok(processorhelper::from_fn(next, move |logs: &mut Logs| {
        for rl in &mut logs.make_mut().resource_logs {
            for sl in &mut rl.scope_logs {
                sl.log_records.retain_mut(|record| {
                    let sampled = decider.log(record);
                    if sampled { &kept } else { &dropped }.inc();
                    sampled
                });
            }
            rl.scope_logs.retain(|sl| !sl.log_records.is_empty());
        }
        logs.make_mut()
            .resource_logs
            .retain(|rl| !rl.scope_logs.is_empty());
        Ok(())
    }))
}
