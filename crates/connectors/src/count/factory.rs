//! The `count` factory: traces, metrics and logs in, metrics out.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    Connector, ConnectorFactory, CreateError, CreateSettings, Router, Stability,
};
use tributary_pipeline_core::pdata::{Metrics, SignalData};

use super::config::Config;
use super::connector::CountConnector;

/// The `count` connector factory.
pub fn factory() -> ConnectorFactory<Config> {
    ConnectorFactory::new("count")
        .with_traces_to_metrics(create, Stability::Alpha)
        .with_metrics_to_metrics(create, Stability::Alpha)
        .with_logs_to_metrics(create, Stability::Alpha)
}

fn create<T: SignalData>(
    _settings: &CreateSettings,
    config: &Config,
    router: Router<Metrics>,
) -> Result<Arc<dyn Connector<T>>, CreateError>
where
    CountConnector: Connector<T>,
{
    let connector = CountConnector::new(config, router.next())
        .map_err(|error| CreateError::new(error.to_string()))?;
    Ok(Arc::new(connector))
}
