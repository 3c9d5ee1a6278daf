//! The `file` exporter's factory.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Exporter, ExporterFactory, Stability,
};
use tributary_pipeline_core::exporterhelper;
use tributary_pipeline_core::pdata::{Logs, Metrics, Signal, Traces};

use super::config::Config;
use super::exporter::{FileExporter, FileSink};
use tributary_pipeline_core::pdata::otlp_json::JsonData;

/// Builds `file` exporters.
#[derive(Clone, Copy, Debug, Default)]
pub struct FileExporterFactory;

fn create<T: JsonData>(
    settings: &CreateSettings,
    config: &Config,
) -> Result<Arc<dyn Exporter<T>>, CreateError> {
    let sink = settings.shared(|| FileSink::new(config))?;
    exporterhelper::build(
        settings,
        &config.helper(),
        FileExporter::<T>::new(settings, config, sink),
    )
}

impl ExporterFactory for FileExporterFactory {
    type Config = Config;

    fn component_type(&self) -> &'static str {
        "file"
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
