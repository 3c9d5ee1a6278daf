//! The `debug` exporter's factory.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Exporter, ExporterFactory, Stability,
};
use tributary_pipeline_core::exporterhelper;

use super::config::Config;
use super::exporter::DebugExporter;
use super::output::{DebugOutput, Destination};
use super::print::Printable;

fn create<T: Printable>(
    settings: &CreateSettings,
    config: &Config,
) -> Result<Arc<dyn Exporter<T>>, CreateError> {
    // One output thread per exporter, shared by its signals, so their lines never mix.
    let output = settings.shared(|| {
        Ok(DebugOutput::new(if config.use_internal_logger {
            Destination::InternalLog(settings.span().clone())
        } else {
            Destination::Paths(config.output_paths())
        }))
    })?;
    exporterhelper::build(
        settings,
        &config.helper,
        DebugExporter::<T>::new(config, output),
    )
}

/// The `debug` exporter's factory, to register on a collector builder.
pub fn factory() -> ExporterFactory<Config> {
    // `logging` was the Go Collector's name for this exporter until v0.111; configurations
    // of that time (old helm charts) still use it. Its `loglevel` key is refused as unknown.
    ExporterFactory::new("debug")
        .with_alias("logging")
        .with_traces(create, Stability::Alpha)
        .with_metrics(create, Stability::Alpha)
        .with_logs(create, Stability::Alpha)
}
