//! The `spanmetrics` factory: traces in, metrics out.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    Connector, ConnectorFactory, CreateError, CreateSettings, Router, Stability,
};
use tributary_pipeline_core::pdata::{Metrics, Traces};

use super::config::Config;
use super::connector::SpanMetricsConnector;

/// The `spanmetrics` connector factory.
pub fn factory() -> ConnectorFactory<Config> {
    ConnectorFactory::new("spanmetrics").with_traces_to_metrics(create, Stability::Alpha)
}

fn create(
    settings: &CreateSettings,
    config: &Config,
    router: Router<Metrics>,
) -> Result<Arc<dyn Connector<Traces>>, CreateError> {
    Ok(Arc::new(SpanMetricsConnector::new(
        settings,
        config,
        router.next(),
    )))
}
