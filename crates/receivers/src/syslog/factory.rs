//! The `syslog` receiver's factory.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Receiver, ReceiverFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::Logs;

use super::config::Config;
use super::receiver::SyslogReceiver;

/// The `syslog` receiver's factory (logs), to register on a collector builder.
pub fn factory() -> ReceiverFactory<Config> {
    ReceiverFactory::new("syslog").with_logs(create, Stability::Alpha)
}

fn create(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Logs>,
) -> Result<Arc<dyn Receiver>, CreateError> {
    SyslogReceiver::create(settings, config, next)
}
