//! The `elasticsearch` exporter's factory.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Exporter, ExporterFactory, Stability,
};
use tributary_pipeline_core::exporterhelper;
use tributary_pipeline_core::exporterhelper::Export;
use tributary_pipeline_core::pdata::{Logs, SignalData};

use super::config::{Config, MappingMode};
use super::exporter::ElasticsearchExporter;

fn create<T: SignalData>(
    settings: &CreateSettings,
    config: &Config,
) -> Result<Arc<dyn Exporter<T>>, CreateError>
where
    ElasticsearchExporter: Export<T>,
{
    if T::SIGNAL == Logs::SIGNAL && config.mode().ok() == Some(MappingMode::Lookout) {
        return Err(CreateError::new(
            "mapping::mode lookout is a layout of metrics: give logs their own exporter with mode none or raw",
        ));
    }
    let exporter = ElasticsearchExporter::new(settings, config).map_err(CreateError::new)?;
    exporterhelper::build(settings, &config.helper(), exporter)
}

/// The `elasticsearch` exporter's factory, to register on a collector builder.
pub fn factory() -> ExporterFactory<Config> {
    ExporterFactory::new("elasticsearch")
        .with_metrics(create, Stability::Development)
        .with_logs(create, Stability::Beta)
}
