//! An example of a component crate written outside Tributary, against its public API only:
//! the **`add_attributes`** processor, which stamps attributes from its configuration onto
//! telemetry.
//!
//! ```yaml
//! processors:
//!   add_attributes:
//!     resource:                 # on every resource (all signals)
//!       deployment.environment: production
//!     record:                   # on every span, log record or metric data point
//!       team: payments
//!     overwrite: false          # keep a value the data already has (default)
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `resource` | `{}` | attributes set on every resource |
//! | `record` | `{}` | attributes set on every span, log record and metric data point |
//! | `overwrite` | `false` | replace an attribute the data already has |
//!
//! Register it next to the built-in components:
//!
//! ```no_run
//! # fn main() -> std::process::ExitCode {
//! tributary_pipeline_core::service::Collector::builder("my-collector", "1.0.0")
//!     .processor(tributary_plugin_example::factory())
//!     .run_cli()
//! # }
//! ```

mod config;
mod processor;

pub use config::Config;
pub use processor::AddAttributes;

use std::sync::Arc;

use tributary_pipeline_core::component::{
    CreateError, CreateSettings, Processor, ProcessorFactory, Stability,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::{Logs, Metrics, Signal, Traces};

/// Builds `add_attributes` processors.
#[derive(Debug, Default, Clone, Copy)]
pub struct AddAttributesFactory;

/// The factory to register on a collector builder.
pub fn factory() -> AddAttributesFactory {
    AddAttributesFactory
}

impl ProcessorFactory for AddAttributesFactory {
    type Config = Config;

    fn component_type(&self) -> &'static str {
        "add_attributes"
    }

    fn stability(&self, _signal: Signal) -> Stability {
        Stability::Beta
    }

    fn create_traces(
        &self,
        _: &CreateSettings,
        config: &Config,
        next: Next<Traces>,
    ) -> Result<Arc<dyn Processor<Traces>>, CreateError> {
        Ok(Arc::new(AddAttributes::new(config, next)))
    }

    fn create_metrics(
        &self,
        _: &CreateSettings,
        config: &Config,
        next: Next<Metrics>,
    ) -> Result<Arc<dyn Processor<Metrics>>, CreateError> {
        Ok(Arc::new(AddAttributes::new(config, next)))
    }

    fn create_logs(
        &self,
        _: &CreateSettings,
        config: &Config,
        next: Next<Logs>,
    ) -> Result<Arc<dyn Processor<Logs>>, CreateError> {
        Ok(Arc::new(AddAttributes::new(config, next)))
    }
}
