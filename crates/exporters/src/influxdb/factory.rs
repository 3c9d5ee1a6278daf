//! The `influxdb` exporter's factory.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Exporter, ExporterFactory, Stability,
};
use tributary_pipeline_core::exporterhelper;
use tributary_pipeline_core::pdata::Metrics;

use super::config::Config;
use super::exporter::InfluxExporter;

fn create_metrics(
    settings: &CreateSettings,
    config: &Config,
) -> Result<Arc<dyn Exporter<Metrics>>, CreateError> {
    let exporter = InfluxExporter::new(settings, config).map_err(CreateError::new)?;
    exporterhelper::build(settings, &config.helper(), exporter)
}

/// The `influxdb` exporter's factory, to register on a collector builder. Metrics only:
/// the Go exporter's traces and logs layouts are not written yet, so a traces or logs
/// pipeline naming it is refused when the configuration is checked.
pub fn factory() -> ExporterFactory<Config> {
    ExporterFactory::new("influxdb").with_metrics(create_metrics, Stability::Beta)
}
