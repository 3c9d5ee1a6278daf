//! The `forward` factory: the three same-signal pairs.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    Connector, ConnectorFactory, CreateError, CreateSettings, Router, Stability,
};
use tributary_pipeline_core::pdata::SignalData;

use super::config::Config;
use super::connector::Forward;

/// The `forward` connector factory.
pub fn factory() -> ConnectorFactory<Config> {
    ConnectorFactory::new("forward")
        .with_traces_to_traces(create, Stability::Beta)
        .with_metrics_to_metrics(create, Stability::Beta)
        .with_logs_to_logs(create, Stability::Beta)
}

fn create<T: SignalData>(
    _settings: &CreateSettings,
    _config: &Config,
    router: Router<T>,
) -> Result<Arc<dyn Connector<T>>, CreateError> {
    Ok(Arc::new(Forward::new(router.next())))
}
