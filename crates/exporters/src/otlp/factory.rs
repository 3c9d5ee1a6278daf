//! The `otlp` exporter's factory.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Exporter, ExporterFactory, Stability,
};
use tributary_pipeline_core::exporterhelper;

use super::config::Config;
use super::exporter::{GrpcConnection, GrpcExporter};
use crate::otlp_signal::OtlpSignal;

fn create<T: OtlpSignal>(
    settings: &CreateSettings,
    config: &Config,
) -> Result<Arc<dyn Exporter<T>>, CreateError> {
    let connection = settings.shared(|| GrpcConnection::new(settings, config))?;
    let exporter = GrpcExporter::<T>::new(settings, config, connection)?;
    exporterhelper::build(settings, &config.helper, exporter)
}

/// The `otlp` exporter's factory, to register on a collector builder.
pub fn factory() -> ExporterFactory<Config> {
    ExporterFactory::new("otlp")
        .with_alias("otlp_grpc")
        .with_traces(create, Stability::Stable)
        .with_metrics(create, Stability::Stable)
        .with_logs(create, Stability::Stable)
}
