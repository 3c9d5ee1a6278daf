//! The `falcon_rate` factory: type name, stability and the create function.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Processor, ProcessorFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::processorhelper;
use tributary_pipeline_core::telemetry::Counter;

use super::Config;
use super::rate::{NoRate, RateState, Rules, convert};

/// The `falcon_rate` processor's factory, to register on a collector builder.
pub fn factory() -> ProcessorFactory<Config> {
    ProcessorFactory::new("falcon_rate").with_metrics(create, Stability::Development)
}

const REASONS: [NoRate; 6] = [
    NoRate::First,
    NoRate::Reset,
    NoRate::Gap,
    NoRate::OutOfOrder,
    NoRate::NoValue,
    NoRate::Limit,
];

fn create(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Metrics>,
) -> Result<Arc<dyn Processor<Metrics>>, CreateError> {
    let rules = Rules::new(config);
    // A reload that changes this processor keeps each series' last point, so no series
    // loses a rate to it; series the new config no longer converts go stale and are swept.
    let state =
        settings.carried_over(|| Mutex::new(RateState::new(config.max_series, config.max_stale)));
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .set_limits(config.max_series, config.max_stale);
    let id = settings.id().to_string();
    let dropped: Vec<Counter> = REASONS
        .iter()
        .map(|reason| {
            settings.metrics().counter(
                "otelcol_processor_falcon_rate_dropped_points",
                "Counter points that gave no rate, by reason (first, reset, gap, out_of_order, no_value, series_limit).",
                &[("processor", id.as_str()), ("reason", reason.label())],
            )
        })
        .collect();
    let series = settings.metrics().gauge(
        "otelcol_processor_falcon_rate_series",
        "Series whose last point is remembered.",
        &[("processor", id.as_str())],
    );
    Ok(processorhelper::from_fn(
        next,
        move |metrics: &mut Metrics| {
            // A poisoned lock only means another call panicked mid-way; the state is a cache
            // of last points, still usable.
            let mut state = state
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            convert(&rules, &mut state, metrics, Instant::now(), |why| {
                let index = REASONS.iter().position(|r| *r == why).unwrap_or(0);
                dropped[index].inc();
            });
            series.set(state.len() as i64);
            Ok(())
        },
    ))
}
