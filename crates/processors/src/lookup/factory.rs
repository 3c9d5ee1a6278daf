//! The `lookup` factory: type name, stability and the create function for every signal.

use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Processor, ProcessorFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::visit::layout::Items;
use tributary_pipeline_core::pdata::{Payload, SignalData};

use super::Config;
use super::processor::{Enrichment, Lookup};
use super::source::TableSource;

/// The `lookup` processor's factory, to register on a collector builder.
pub fn factory() -> ProcessorFactory<Config> {
    ProcessorFactory::new("lookup")
        .with_traces(create, Stability::Development)
        .with_metrics(create, Stability::Development)
        .with_logs(create, Stability::Development)
}

fn create<R: Items>(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Payload<R>>,
) -> Result<Arc<dyn Processor<Payload<R>>>, CreateError>
where
    Payload<R>: SignalData,
{
    let format = config
        .source
        .format()
        .map_err(|e| CreateError::new(e.to_string()))?;
    // One table and one reload task for the processor's traces, metrics and logs.
    let source =
        settings.shared(|| Ok(TableSource::new(settings, config.source.clone(), format)))?;
    let id = settings.id().to_string();
    let labels = [("processor", id.as_str())];
    let enrichment = Enrichment {
        key: config.key.clone(),
        context: config.context,
        override_existing: config.override_existing,
        hits: settings.metrics().counter(
            "otelcol_processor_lookup_hits",
            "Items whose key was found in the lookup table.",
            &labels,
        ),
        misses: settings.metrics().counter(
            "otelcol_processor_lookup_misses",
            "Items with a key attribute not found in the lookup table.",
            &labels,
        ),
    };
    Ok(Arc::new(Lookup {
        source,
        enrichment,
        next,
        started: AtomicBool::new(false),
        signal: PhantomData,
    }))
}
