//! The `otlp_http` exporter's factory.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Exporter, ExporterFactory, Stability,
};
use tributary_pipeline_core::exporterhelper;

use super::config::Config;
use super::exporter::{HttpExporter, SharedClient};
use crate::otlp_signal::OtlpSignal;
use tributary_pipeline_core::pdata::otlp_json::JsonData;

fn create<T: OtlpSignal + JsonData>(
    settings: &CreateSettings,
    config: &Config,
) -> Result<Arc<dyn Exporter<T>>, CreateError> {
    let client = settings.shared(|| Ok::<_, CreateError>(SharedClient::new(settings, config)))?;
    let exporter = HttpExporter::<T>::new(settings, config, client)?;
    exporterhelper::build(settings, &config.helper(), exporter)
}

/// The `otlp_http` exporter's factory, to register on a collector builder.
pub fn factory() -> ExporterFactory<Config> {
    ExporterFactory::new("otlp_http")
        .with_alias("otlphttp")
        .with_traces(create, Stability::Stable)
        .with_metrics(create, Stability::Stable)
        .with_logs(create, Stability::Stable)
}
