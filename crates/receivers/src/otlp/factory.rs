//! The `otlp` receiver's factory.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Receiver, ReceiverFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::{Logs, Metrics, Signal, Traces};

use super::config::Config;
use super::receiver::OtlpReceiver;

/// Builds `otlp` receivers. The traces, metrics and logs instances of one receiver share
/// its gRPC and HTTP servers.
#[derive(Clone, Copy, Debug, Default)]
pub struct OtlpReceiverFactory;

impl ReceiverFactory for OtlpReceiverFactory {
    type Config = Config;

    fn component_type(&self) -> &'static str {
        "otlp"
    }

    fn stability(&self, signal: Signal) -> Stability {
        match signal {
            Signal::Traces | Signal::Metrics | Signal::Logs => Stability::Beta,
        }
    }

    fn create_traces(
        &self,
        settings: &CreateSettings,
        config: &Config,
        next: Next<Traces>,
    ) -> Result<Arc<dyn Receiver>, CreateError> {
        Ok(OtlpReceiver::create(settings, config, next)?)
    }

    fn create_metrics(
        &self,
        settings: &CreateSettings,
        config: &Config,
        next: Next<Metrics>,
    ) -> Result<Arc<dyn Receiver>, CreateError> {
        Ok(OtlpReceiver::create(settings, config, next)?)
    }

    fn create_logs(
        &self,
        settings: &CreateSettings,
        config: &Config,
        next: Next<Logs>,
    ) -> Result<Arc<dyn Receiver>, CreateError> {
        Ok(OtlpReceiver::create(settings, config, next)?)
    }
}
