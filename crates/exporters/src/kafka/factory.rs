//! The `kafka` exporter's factory.

use std::sync::Arc;

use tributary_pipeline_core::prelude::*;

use super::config::Config;
use super::exporter::KafkaExporter;
use super::records::KafkaData;

/// The `kafka` exporter's factory, to register on a collector builder.
pub fn factory() -> ExporterFactory<Config> {
    ExporterFactory::new("kafka")
        .with_traces(create::<Traces>, Stability::Beta)
        .with_metrics(create::<Metrics>, Stability::Beta)
        .with_logs(create::<Logs>, Stability::Beta)
}

fn create<T: KafkaData>(
    settings: &CreateSettings,
    config: &Config,
) -> Result<Arc<dyn Exporter<T>>, CreateError> {
    let exporter = KafkaExporter::<T>::new(config).map_err(CreateError::new)?;
    exporterhelper::build(settings, &config.helper, exporter)
}
