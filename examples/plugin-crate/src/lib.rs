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
use tributary_pipeline_core::pdata::{OtlpRequest, Payload};

/// The factory to register on a collector builder.
pub fn factory() -> ProcessorFactory<Config> {
    ProcessorFactory::new("add_attributes")
        .with_traces(create, Stability::Beta)
        .with_metrics(create, Stability::Beta)
        .with_logs(create, Stability::Beta)
}

fn create<R: OtlpRequest + processor::Stamp>(
    _: &CreateSettings,
    config: &Config,
    next: Next<Payload<R>>,
) -> Result<Arc<dyn Processor<Payload<R>>>, CreateError> {
    Ok(Arc::new(AddAttributes::new(config, next)))
}
