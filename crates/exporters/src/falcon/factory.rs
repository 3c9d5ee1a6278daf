//! The `falcon` exporter's factory.

use std::sync::Arc;

use tributary_pipeline_core::prelude::*;

use super::config::Config;
use super::exporter::FalconExporter;

/// The `falcon` exporter's factory, to register on a collector builder.
pub fn factory() -> ExporterFactory<Config> {
    ExporterFactory::new("falcon").with_metrics(create, Stability::Alpha)
}

fn create(
    settings: &CreateSettings,
    config: &Config,
) -> Result<Arc<dyn Exporter<Metrics>>, CreateError> {
    Ok(Arc::new(FalconExporter::new(settings, config)?))
}
