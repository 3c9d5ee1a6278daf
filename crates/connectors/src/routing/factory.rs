//! The `routing` factory: the three same-signal pairs, each compiling the table against
//! the pipelines the connector feeds.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    Connector, ConnectorFactory, CreateError, CreateSettings, Router, Stability,
};

use super::config::Config;
use super::connector::{CompiledRoute, Routing};
use super::ottl::OttlLanguage;
use super::split::Routable;

/// The `routing` connector factory.
pub fn factory() -> ConnectorFactory<Config> {
    ConnectorFactory::new("routing")
        .with_traces_to_traces(create, Stability::Alpha)
        .with_metrics_to_metrics(create, Stability::Alpha)
        .with_logs_to_logs(create, Stability::Alpha)
}

fn create<T: Routable>(
    _settings: &CreateSettings,
    config: &Config,
    router: Router<T>,
) -> Result<Arc<dyn Connector<T>>, CreateError> {
    let mut routes = Vec::with_capacity(config.table.len());
    for (index, route) in config.table.iter().enumerate() {
        let name = format!("table[{index}]");
        if !T::supports(route.context) {
            return Err(CreateError::new(format!(
                "{name}: the {} context does not apply to {}",
                route.context,
                T::SIGNAL
            )));
        }
        let condition = route
            .parse(&OttlLanguage)
            .map_err(|e| CreateError::new(format!("{name}: {e}")))?;
        let consumer = router
            .consumer(&route.pipelines)
            .map_err(|e| CreateError::new(format!("{name}: {e}")))?;
        routes.push(CompiledRoute {
            context: route.context,
            condition,
            consumer,
            name,
        });
    }
    let default = if config.default_pipelines.is_empty() {
        None
    } else {
        Some(
            router
                .consumer(&config.default_pipelines)
                .map_err(|e| CreateError::new(format!("default_pipelines: {e}")))?,
        )
    };
    Ok(Arc::new(Routing {
        routes,
        default,
        error_mode: config.error_mode,
    }))
}
