//! The `filelog` receiver's factory.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Receiver, ReceiverFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::Logs;

use super::config::Config;
use super::receiver::FilelogReceiver;

/// The `filelog` receiver's factory (logs only), to register on a collector builder.
pub fn factory() -> ReceiverFactory<Config> {
    ReceiverFactory::new("filelog").with_logs(create, Stability::Beta)
}

fn create(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Logs>,
) -> Result<Arc<dyn Receiver>, CreateError> {
    Ok(FilelogReceiver::create(settings, config, next)?)
}
