//! The `deltatorate` factory.

use std::collections::HashSet;
use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Processor, ProcessorFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::processorhelper;

use super::Config;
use super::rate::to_rate;

/// The `deltatorate` processor's factory (metrics; development as in Go).
pub fn factory() -> ProcessorFactory<Config> {
    ProcessorFactory::new("deltatorate").with_metrics(create, Stability::Development)
}

fn create(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Metrics>,
) -> Result<Arc<dyn Processor<Metrics>>, CreateError> {
    let names: HashSet<String> = config.metrics.iter().cloned().collect();
    let id = settings.id().to_string();
    let dropped = settings.metrics().counter(
        "otelcol_deltatorate_datapoints_dropped",
        "Number of data points the processor dropped, by reason.",
        &[("processor", id.as_str()), ("reason", "zero_interval")],
    );
    Ok(processorhelper::from_fn(next, move |data: &mut Metrics| {
        let listed = data
            .request()
            .resource_metrics
            .iter()
            .flat_map(|rm| &rm.scope_metrics)
            .flat_map(|sm| &sm.metrics)
            .any(|m| names.contains(&m.name));
        if !listed {
            return Ok(());
        }
        for rm in &mut data.make_mut().resource_metrics {
            for sm in &mut rm.scope_metrics {
                for metric in sm.metrics.iter_mut().filter(|m| names.contains(&m.name)) {
                    match to_rate(metric) {
                        Some(n) => dropped.add(n as u64),
                        None => tracing::debug!(
                            metric = %metric.name,
                            "deltatorate: not a delta sum, left as is"
                        ),
                    }
                }
            }
        }
        Ok(())
    }))
}
