//! The `memory_limiter` factory: type name, stability and the per-signal create functions.

use std::fmt;
use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Processor, ProcessorFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::{Logs, Metrics, Signal, SignalData, Traces};

use super::Config;
use super::limiter::Limiter;
use super::probe::{MemoryProbe, ProcessMemory};
use super::processor::MemoryLimiterProcessor;

/// Builds `memory_limiter` processors, for traces, metrics and logs. Every pipeline that
/// lists the same memory limiter ID shares one limiter: one measurement, one verdict.
#[derive(Clone)]
pub struct Factory {
    probe: Arc<dyn MemoryProbe>,
}

/// The `memory_limiter` processor's factory, measuring this process with [`ProcessMemory`].
pub fn factory() -> Factory {
    Factory::with_probe(ProcessMemory)
}

impl Factory {
    /// A factory whose limiters read memory with `probe` instead of from the kernel.
    pub fn with_probe(probe: impl MemoryProbe) -> Self {
        Factory {
            probe: Arc::new(probe),
        }
    }

    fn create<T: SignalData>(
        &self,
        settings: &CreateSettings,
        config: &Config,
        next: Next<T>,
    ) -> Result<Arc<dyn Processor<T>>, CreateError> {
        let limiter = settings.shared(|| {
            Limiter::new(
                settings,
                config,
                Arc::clone(&self.probe),
                settings.status().clone(),
            )
        })?;
        Ok(Arc::new(MemoryLimiterProcessor::new(
            settings, limiter, next,
        )))
    }
}

impl fmt::Debug for Factory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Factory").finish_non_exhaustive()
    }
}

impl ProcessorFactory for Factory {
    type Config = Config;

    fn component_type(&self) -> &'static str {
        "memory_limiter"
    }

    fn stability(&self, _signal: Signal) -> Stability {
        Stability::Beta
    }

    fn create_traces(
        &self,
        settings: &CreateSettings,
        config: &Config,
        next: Next<Traces>,
    ) -> Result<Arc<dyn Processor<Traces>>, CreateError> {
        self.create(settings, config, next)
    }

    fn create_metrics(
        &self,
        settings: &CreateSettings,
        config: &Config,
        next: Next<Metrics>,
    ) -> Result<Arc<dyn Processor<Metrics>>, CreateError> {
        self.create(settings, config, next)
    }

    fn create_logs(
        &self,
        settings: &CreateSettings,
        config: &Config,
        next: Next<Logs>,
    ) -> Result<Arc<dyn Processor<Logs>>, CreateError> {
        self.create(settings, config, next)
    }
}
