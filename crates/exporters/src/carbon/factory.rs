//! The `carbon` exporter's factory.

use std::sync::Arc;

use tributary_pipeline_core::prelude::*;

use super::config::Config;
use super::exporter::CarbonExporter;

/// The `carbon` exporter's factory, to register on a collector builder.
pub fn factory() -> ExporterFactory<Config> {
    ExporterFactory::new("carbon").with_metrics(create, Stability::Beta)
}

fn create(
    settings: &CreateSettings,
    config: &Config,
) -> Result<Arc<dyn Exporter<Metrics>>, CreateError> {
    exporterhelper::build(settings, &config.helper, CarbonExporter::new(config))
}
