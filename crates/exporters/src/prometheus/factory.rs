//! The `prometheus` exporter's factory.

use std::sync::Arc;

use tributary_pipeline_core::prelude::*;

use super::config::Config;
use super::exporter::PrometheusExporter;

/// The `prometheus` exporter's factory, to register on a collector builder.
pub fn factory() -> ExporterFactory<Config> {
    ExporterFactory::new("prometheus").with_metrics(create, Stability::Beta)
}

fn create(
    settings: &CreateSettings,
    config: &Config,
) -> Result<Arc<dyn Exporter<Metrics>>, CreateError> {
    let exporter = PrometheusExporter::new(settings, config).map_err(CreateError::new)?;
    exporterhelper::build(settings, &config.helper(), exporter)
}
