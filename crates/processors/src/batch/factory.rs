//! The `batch` factory: type name, stability and the per-signal create functions.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Processor, ProcessorFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::{Logs, Metrics, Signal, Traces};

use super::Config;
use super::processor::BatchProcessor;

/// Builds `batch` processors, for traces, metrics and logs.
#[derive(Clone, Copy, Debug, Default)]
pub struct Factory;

/// The `batch` processor's factory, to register on a collector.
pub fn factory() -> Factory {
    Factory
}

impl ProcessorFactory for Factory {
    type Config = Config;

    fn component_type(&self) -> &'static str {
        "batch"
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
        Ok(Arc::new(BatchProcessor::new(settings, config, next)))
    }

    fn create_metrics(
        &self,
        settings: &CreateSettings,
        config: &Config,
        next: Next<Metrics>,
    ) -> Result<Arc<dyn Processor<Metrics>>, CreateError> {
        Ok(Arc::new(BatchProcessor::new(settings, config, next)))
    }

    fn create_logs(
        &self,
        settings: &CreateSettings,
        config: &Config,
        next: Next<Logs>,
    ) -> Result<Arc<dyn Processor<Logs>>, CreateError> {
        Ok(Arc::new(BatchProcessor::new(settings, config, next)))
    }
}
