//! The `lookout` exporter's factory.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Exporter, ExporterFactory, Stability,
};
use tributary_pipeline_core::exporterhelper;
use tributary_pipeline_core::pdata::Metrics;

use super::config::Config;
use super::exporter::LookoutExporter;

fn create(
    settings: &CreateSettings,
    config: &Config,
) -> Result<Arc<dyn Exporter<Metrics>>, CreateError> {
    let exporter = LookoutExporter::new(settings, config).map_err(CreateError::new)?;
    exporterhelper::build(settings, &config.helper(), exporter)
}

/// The `lookout` exporter's factory, to register on a collector builder.
pub fn factory() -> ExporterFactory<Config> {
    ExporterFactory::new("lookout").with_metrics(create, Stability::Alpha)
}
