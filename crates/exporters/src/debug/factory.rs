//! The `debug` exporter's factory.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Exporter, ExporterFactory, Stability,
};
use tributary_pipeline_core::exporterhelper;
use tributary_pipeline_core::pdata::{Logs, Metrics, Signal, Traces};

use super::config::Config;
use super::exporter::DebugExporter;
use super::output::{DebugOutput, Destination};
use super::print::Printable;

/// Builds `debug` exporters.
#[derive(Clone, Copy, Debug, Default)]
pub struct DebugExporterFactory;

fn create<T: Printable>(
    settings: &CreateSettings,
    config: &Config,
) -> Result<Arc<dyn Exporter<T>>, CreateError> {
    // One output thread per exporter, shared by its signals, so their lines never mix.
    let output = settings.shared(|| {
        let destination = if config.use_internal_logger {
            Destination::InternalLog(settings.span().clone())
        } else {
            Destination::Stderr
        };
        DebugOutput::new(destination)
            .map_err(|e| CreateError::with_source("starting the output thread", e))
    })?;
    exporterhelper::build(
        settings,
        &config.helper(),
        DebugExporter::<T>::new(config, output),
    )
}

impl ExporterFactory for DebugExporterFactory {
    type Config = Config;

    fn component_type(&self) -> &'static str {
        "debug"
    }

    fn stability(&self, signal: Signal) -> Stability {
        match signal {
            Signal::Traces | Signal::Metrics | Signal::Logs => Stability::Alpha,
        }
    }

    fn create_traces(
        &self,
        settings: &CreateSettings,
        config: &Config,
    ) -> Result<Arc<dyn Exporter<Traces>>, CreateError> {
        create(settings, config)
    }

    fn create_metrics(
        &self,
        settings: &CreateSettings,
        config: &Config,
    ) -> Result<Arc<dyn Exporter<Metrics>>, CreateError> {
        create(settings, config)
    }

    fn create_logs(
        &self,
        settings: &CreateSettings,
        config: &Config,
    ) -> Result<Arc<dyn Exporter<Logs>>, CreateError> {
        create(settings, config)
    }
}
