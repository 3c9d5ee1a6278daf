//! The `zipkin` exporter's factory.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Exporter, ExporterFactory, Stability,
};
use tributary_pipeline_core::exporterhelper;
use tributary_pipeline_core::pdata::Traces;

use super::config::Config;
use super::exporter::ZipkinExporter;

fn create(
    settings: &CreateSettings,
    config: &Config,
) -> Result<Arc<dyn Exporter<Traces>>, CreateError> {
    exporterhelper::build(
        settings,
        &config.helper(),
        ZipkinExporter::new(settings, config),
    )
}

/// The `zipkin` exporter's factory, to register on a collector builder.
pub fn factory() -> ExporterFactory<Config> {
    ExporterFactory::new("zipkin").with_traces(create, Stability::Beta)
}
