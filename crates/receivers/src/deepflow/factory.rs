//! The `deepflow` receiver's factory: metrics (remote write, line protocol) and traces
//! (OTLP) from one listener.

use std::sync::Arc;

use tributary_pipeline_core::prelude::*;

use super::config::Config;
use super::receiver::DeepFlowReceiver;

fn create_metrics(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Metrics>,
) -> Result<Arc<dyn Receiver>, CreateError> {
    Ok(DeepFlowReceiver::create(settings, config, next)?)
}

fn create_traces(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Traces>,
) -> Result<Arc<dyn Receiver>, CreateError> {
    Ok(DeepFlowReceiver::create(settings, config, next)?)
}

/// The `deepflow` receiver's factory, to register on a collector builder.
pub fn factory() -> ReceiverFactory<Config> {
    ReceiverFactory::new("deepflow")
        .with_metrics(create_metrics, Stability::Alpha)
        .with_traces(create_traces, Stability::Alpha)
}
