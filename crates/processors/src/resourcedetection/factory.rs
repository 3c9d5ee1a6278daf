//! The `resourcedetection` processor's factory.

use std::sync::Arc;

use tributary_pipeline_core::component::{ProcessorFactory, Stability};

use super::config::Config;
use super::processor::ResourceDetection;

/// The `resourcedetection` processor's factory (traces, metrics, logs).
pub fn factory() -> ProcessorFactory<Config> {
    ProcessorFactory::new("resourcedetection")
        .with_traces(
            |settings, config: &Config, next| {
                Ok(Arc::new(ResourceDetection::new(settings, config, next)))
            },
            Stability::Beta,
        )
        .with_metrics(
            |settings, config: &Config, next| {
                Ok(Arc::new(ResourceDetection::new(settings, config, next)))
            },
            Stability::Beta,
        )
        .with_logs(
            |settings, config: &Config, next| {
                Ok(Arc::new(ResourceDetection::new(settings, config, next)))
            },
            Stability::Beta,
        )
}
