//! The `nats` exporter's factory.

use std::sync::Arc;

use tributary_pipeline_core::prelude::*;

use super::config::Config;
use super::exporter::NatsExporter;

/// The `nats` exporter's factory, to register on a collector builder.
pub fn factory() -> ExporterFactory<Config> {
    ExporterFactory::new("nats")
        .with_traces(create::<Traces>, Stability::Alpha)
        .with_metrics(create::<Metrics>, Stability::Alpha)
        .with_logs(create::<Logs>, Stability::Alpha)
}

fn create<T: JsonData>(
    settings: &CreateSettings,
    config: &Config,
) -> Result<Arc<dyn Exporter<T>>, CreateError> {
    exporterhelper::build(settings, &config.helper, NatsExporter::<T>::new(config))
}
