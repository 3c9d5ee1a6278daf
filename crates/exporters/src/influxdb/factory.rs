//! The `influxdb` exporter's factory.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Exporter, ExporterFactory, Stability,
};
use tributary_pipeline_core::exporterhelper;
use tributary_pipeline_core::exporterhelper::Export;
use tributary_pipeline_core::pdata::SignalData;

use super::config::Config;
use super::exporter::InfluxExporter;

fn create<T: SignalData>(
    settings: &CreateSettings,
    config: &Config,
) -> Result<Arc<dyn Exporter<T>>, CreateError>
where
    InfluxExporter: Export<T>,
{
    let exporter = InfluxExporter::new(settings, config).map_err(CreateError::new)?;
    exporterhelper::build(settings, &config.helper(), exporter)
}

/// The `influxdb` exporter's factory, to register on a collector builder.
pub fn factory() -> ExporterFactory<Config> {
    ExporterFactory::new("influxdb")
        .with_traces(create, Stability::Beta)
        .with_metrics(create, Stability::Beta)
        .with_logs(create, Stability::Beta)
}
