//! The `failover` factory: the three same-signal pairs.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    Connector, ConnectorFactory, CreateError, CreateSettings, Router, Stability,
};
use tributary_pipeline_core::pdata::SignalData;

use super::config::Config;
use super::connector::{Failover, Level};

/// The `failover` connector factory.
pub fn factory() -> ConnectorFactory<Config> {
    ConnectorFactory::new("failover")
        .with_traces_to_traces(create, Stability::Development)
        .with_metrics_to_metrics(create, Stability::Development)
        .with_logs_to_logs(create, Stability::Development)
}

fn create<T: SignalData>(
    settings: &CreateSettings,
    config: &Config,
    router: Router<T>,
) -> Result<Arc<dyn Connector<T>>, CreateError> {
    if config.retry_gap.is_some() || config.max_retries.is_some() {
        let _span = settings.span().enter();
        tracing::warn!(
            "failover: retry_gap and max_retries are deprecated (as in the Go failover \
             connector) and ignored: a higher level is tried with one batch every \
             retry_interval for as long as it fails"
        );
    }
    let levels = config
        .priority_levels
        .iter()
        .enumerate()
        .map(|(index, pipelines)| {
            let consumer = router
                .consumer(pipelines)
                .map_err(|e| CreateError::new(format!("priority_levels[{index}]: {e}")))?;
            let names: Vec<String> = pipelines.iter().map(ToString::to_string).collect();
            Ok(Level {
                consumer,
                pipelines: names.join(", "),
            })
        })
        .collect::<Result<Vec<_>, CreateError>>()?;
    Ok(Arc::new(Failover::new(
        levels,
        config.retry_interval,
        config.failover_mode,
    )))
}
