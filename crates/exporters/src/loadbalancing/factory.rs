//! The `loadbalancing` exporter's factory.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Exporter, ExporterFactory, Stability,
};
use tributary_pipeline_core::exporterhelper;

use super::balancer::{Balancer, OtlpBackends};
use super::config::Config;
use super::routing::Routable;

fn create<T: Routable>(
    settings: &CreateSettings,
    config: &Config,
) -> Result<Arc<dyn Exporter<T>>, CreateError> {
    let balancer = Balancer::<T>::new(
        settings,
        config,
        Arc::new(OtlpBackends::new(settings, config)),
    )?;
    exporterhelper::build(settings, &config.helper, balancer)
}

/// The `loadbalancing` exporter's factory, to register on a collector builder.
pub fn factory() -> ExporterFactory<Config> {
    ExporterFactory::new("loadbalancing")
        .with_traces(create, Stability::Beta)
        .with_metrics(create, Stability::Development)
        .with_logs(create, Stability::Beta)
}
