//! The `memory_limiter` factory: type name, stability and the per-signal create functions.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Processor, ProcessorFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::{Logs, Metrics, SignalData, Traces};

use super::Config;
use super::limiter::Limiter;
use super::probe::{MemoryProbe, ProcessMemory};
use super::processor::MemoryLimiterProcessor;

/// The `memory_limiter` processor's factory, measuring this process with [`ProcessMemory`].
/// Every pipeline that lists the same memory limiter ID shares one limiter: one
/// measurement, one verdict.
pub fn factory() -> ProcessorFactory<Config> {
    factory_with_probe(ProcessMemory)
}

/// A `memory_limiter` factory whose limiters read memory with `probe` instead of from the
/// kernel.
pub fn factory_with_probe(probe: impl MemoryProbe) -> ProcessorFactory<Config> {
    let probe: Arc<dyn MemoryProbe> = Arc::new(probe);
    let (for_metrics, for_logs) = (Arc::clone(&probe), Arc::clone(&probe));
    ProcessorFactory::new("memory_limiter")
        .with_traces(
            move |settings, config, next| create::<Traces>(&probe, settings, config, next),
            Stability::Beta,
        )
        .with_metrics(
            move |settings, config, next| create::<Metrics>(&for_metrics, settings, config, next),
            Stability::Beta,
        )
        .with_logs(
            move |settings, config, next| create::<Logs>(&for_logs, settings, config, next),
            Stability::Beta,
        )
}

fn create<T: SignalData>(
    probe: &Arc<dyn MemoryProbe>,
    settings: &CreateSettings,
    config: &Config,
    next: Next<T>,
) -> Result<Arc<dyn Processor<T>>, CreateError> {
    let limiter = settings.shared(|| {
        Limiter::new(
            settings,
            config,
            Arc::clone(probe),
            settings.status().clone(),
        )
    })?;
    Ok(Arc::new(MemoryLimiterProcessor::new(
        settings, limiter, next,
    )))
}
