//! The `file` exporter's factory.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Exporter, ExporterFactory, Stability,
};
use tributary_pipeline_core::exporterhelper;

use super::config::Config;
use super::exporter::{FileExporter, FileSink};
use super::group::ByResourceAttribute;
use tributary_pipeline_core::pdata::otlp_json::JsonData;

fn create<T: JsonData + ByResourceAttribute>(
    settings: &CreateSettings,
    config: &Config,
) -> Result<Arc<dyn Exporter<T>>, CreateError> {
    let sink = settings.shared(|| FileSink::new(config))?;
    exporterhelper::build(
        settings,
        &config.helper,
        FileExporter::<T>::new(settings, config, sink),
    )
}

/// The `file` exporter's factory, to register on a collector builder.
pub fn factory() -> ExporterFactory<Config> {
    ExporterFactory::new("file")
        .with_traces(create, Stability::Alpha)
        .with_metrics(create, Stability::Alpha)
        .with_logs(create, Stability::Alpha)
}
