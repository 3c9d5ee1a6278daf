//! The `otlp` exporter's factory.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Exporter, ExporterFactory, Stability,
};
use tributary_pipeline_core::exporterhelper;
use tributary_pipeline_core::pdata::{Logs, Metrics, Signal, Traces};

use super::config::Config;
use super::exporter::{GrpcConnection, GrpcExporter};
use crate::otlp_signal::OtlpSignal;

/// Builds `otlp` exporters (alias `otlp_grpc`, the Go Collector's newer name).
#[derive(Clone, Copy, Debug, Default)]
pub struct OtlpExporterFactory;

fn create<T: OtlpSignal>(
    settings: &CreateSettings,
    config: &Config,
) -> Result<Arc<dyn Exporter<T>>, CreateError> {
    let connection = settings.shared(|| GrpcConnection::new(settings, config))?;
    let exporter = GrpcExporter::<T>::new(settings, config, connection)?;
    exporterhelper::build(settings, &config.helper(), exporter)
}

impl ExporterFactory for OtlpExporterFactory {
    type Config = Config;

    fn component_type(&self) -> &'static str {
        "otlp"
    }

    fn aliases(&self) -> &'static [&'static str] {
        &["otlp_grpc"]
    }

    fn stability(&self, signal: Signal) -> Stability {
        match signal {
            Signal::Traces | Signal::Metrics | Signal::Logs => Stability::Stable,
        }
    }

    fn create_traces(
        &self,
        settings: &CreateSettings,
        config: &Config,
    ) -> Result<Arc<dyn Exporter<Traces>>, CreateError> {
        create(settings, config)
    }

    fn create_metrics(
        &self,
        settings: &CreateSettings,
        config: &Config,
    ) -> Result<Arc<dyn Exporter<Metrics>>, CreateError> {
        create(settings, config)
    }

    fn create_logs(
        &self,
        settings: &CreateSettings,
        config: &Config,
    ) -> Result<Arc<dyn Exporter<Logs>>, CreateError> {
        create(settings, config)
    }
}
