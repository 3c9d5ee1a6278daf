//! The `otlp_http` exporter's factory.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Exporter, ExporterFactory, Stability,
};
use tributary_pipeline_core::exporterhelper;
use tributary_pipeline_core::pdata::{Logs, Metrics, Signal, Traces};

use super::config::Config;
use super::exporter::{HttpExporter, client};
use crate::otlp_signal::OtlpSignal;
use tributary_pipeline_core::pdata::otlp_json::JsonData;

/// Builds `otlp_http` exporters (alias `otlphttp`, the Go Collector's name).
#[derive(Clone, Copy, Debug, Default)]
pub struct OtlpHttpExporterFactory;

/// The HTTP client of one exporter, shared by its signals (one connection pool).
struct SharedClient(reqwest::Client);

fn create<T: OtlpSignal + JsonData>(
    settings: &CreateSettings,
    config: &Config,
) -> Result<Arc<dyn Exporter<T>>, CreateError> {
    let shared = settings.shared(|| client(settings, config).map(SharedClient))?;
    let exporter = HttpExporter::<T>::new(settings, config, shared.0.clone())?;
    exporterhelper::build(settings, &config.helper(), exporter)
}

impl ExporterFactory for OtlpHttpExporterFactory {
    type Config = Config;

    fn component_type(&self) -> &'static str {
        "otlp_http"
    }

    fn aliases(&self) -> &'static [&'static str] {
        &["otlphttp"]
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
