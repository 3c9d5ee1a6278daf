//! Tributary: build telemetry pipelines the way the OpenTelemetry Collector does —
//! receivers → processors → exporters, wired by YAML, hot-reloadable — as a library.
//!
//! Depend on this one crate, pick components, and write a ten-line `main`:
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     tributary::Collector::builder("my-collector", env!("CARGO_PKG_VERSION"))
//!         .factories(tributary::components())
//!         .run_cli()
//! }
//! ```
//!
//! or pick components one by one (`.receiver(tributary::receivers::otlp::factory())`),
//! and add your own: a component is a factory implementing one of the traits in
//! [`component`]; see the [`pipeline_core`] guide "Writing a component".
//!
//! | module | crate | what |
//! |---|---|---|
//! | [`pdata`], [`consumer`], [`component`], [`exporterhelper`], [`telemetry`], [`service`] | `tributary-pipeline-core` | the framework |
//! | [`confmap`] | `tributary-confmap` | configuration from URIs, `${...}` expansion, watching |
//! | [`featuregate`] | `tributary-featuregate` | feature gates |
//! | [`receivers`], [`processors`], [`exporters`], [`connectors`] | `tributary-{receivers,processors,exporters,connectors}` | built-in components, one cargo feature each |
//!
//! The examples (`cargo run --example gateway|agent|custom_collector|telemetrygen`) are
//! the programs we ship.

pub use tributary_confmap as confmap;
pub use tributary_connectors as connectors;
pub use tributary_exporters as exporters;
pub use tributary_featuregate as featuregate;
pub use tributary_pipeline_core as pipeline_core;
pub use tributary_pipeline_core::{
    component, config, configauth, configcompression, consumer, exporterhelper, extensions, graph,
    pdata, prelude, processorhelper, receiverhelper, service, telemetry,
};
pub use tributary_processors as processors;
pub use tributary_receivers as receivers;

pub use tributary_pipeline_core::graph::Factories;
pub use tributary_pipeline_core::service::{Collector, CollectorBuilder, ConfigSource};

/// Every built-in component this build of the crate has: the receivers, processors,
/// exporters and connectors enabled by cargo features (all of them by default) and the framework's
/// extensions.
pub fn components() -> Factories {
    let mut factories = Factories::new();
    factories.extend(tributary_pipeline_core::extensions::factories());
    factories.extend(tributary_receivers::factories());
    factories.extend(tributary_processors::factories());
    factories.extend(tributary_exporters::factories());
    factories.extend(tributary_connectors::factories());
    factories
}
