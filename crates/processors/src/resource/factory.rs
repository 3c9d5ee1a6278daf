//! The `resource` factory: the same actions on the resources of every signal.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Processor, ProcessorFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::visit::layout::Layout;
use tributary_pipeline_core::pdata::{Payload, SignalData};
use tributary_pipeline_core::processorhelper;

use super::Config;
use crate::attraction::Actions;

/// The `resource` processor's factory (traces, metrics and logs; beta as in Go).
pub fn factory() -> ProcessorFactory<Config> {
    ProcessorFactory::new("resource")
        .with_traces(create, Stability::Beta)
        .with_metrics(create, Stability::Beta)
        .with_logs(create, Stability::Beta)
}

fn create<R>(
    _settings: &CreateSettings,
    config: &Config,
    next: Next<Payload<R>>,
) -> Result<Arc<dyn Processor<Payload<R>>>, CreateError>
where
    R: Layout,
    Payload<R>: SignalData,
{
    let actions = Actions::compile(&config.attributes)
        .map_err(|error| CreateError::new(error.within("attributes").to_string()))?;
    Ok(processorhelper::from_fn(
        next,
        move |data: &mut Payload<R>| {
            let metadata = data.metadata().cloned();
            data.update_resources(
                |_| true,
                |resource| actions.apply(&mut resource.attributes, metadata.as_deref()),
            );
            Ok(())
        },
    ))
}
