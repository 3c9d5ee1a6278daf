#![warn(missing_docs)]
//! Tributary's framework: telemetry data, the consumer contract, components, the pipeline
//! graph, the exporter helper, and the service that runs it all.
//!
//! Everything a component crate or a collector program needs is here; nothing here names a
//! concrete component. The built-in components live in `tributary-receivers`,
//! `tributary-processors` and `tributary-exporters`, and the `tributary` crate gathers them.
//!
//! # Map
//!
//! | module | what |
//! |---|---|
//! | [`pdata`] | telemetry as OTLP requests per signal ([`Traces`](pdata::Traces), [`Metrics`](pdata::Metrics), [`Logs`](pdata::Logs)), shared copy-on-write |
//! | [`consumer`] | the [`Consumer`](consumer::Consumer) contract, [`ConsumeError`](consumer::ConsumeError), the concurrent [`Fanout`](consumer::Fanout) |
//! | [`component`] | component traits, factories, IDs, [`CreateSettings`](component::CreateSettings), [`Host`](component::Host) |
//! | [`exporterhelper`] | queue → batch → retry → timeout around an exporter's `export` |
//! | [`extensions`] | the extensions the framework provides (health check, file storage) |
//! | [`graph`] | pipelines built from `service::pipelines` |
//! | [`config`] | the collector's configuration document |
//! | [`service`] | [`Collector`](service::Collector): builder, CLI, run loop, reload |
//! | [`telemetry`] | the collector's own metrics |
//!
//! # Writing a component
//!
//! A component is three things: a **config** type (serde, with defaults, unknown keys
//! rejected), the **component** itself (a [`Component`](component::Component) lifecycle
//! plus, for processors and exporters, a [`Consumer`](consumer::Consumer)), and a
//! **factory** that builds it from the config. Here is a complete processor that drops
//! spans whose name is on a deny list, registered next to nothing else on a collector:
//!
//! ```
//! use std::sync::Arc;
//!
//! use async_trait::async_trait;
//! use serde::Deserialize;
//! use tributary_pipeline_core::component::{
//!     Component, ComponentConfig, ConfigError, CreateError, CreateSettings, Processor,
//!     ProcessorFactory, Stability,
//! };
//! use tributary_pipeline_core::consumer::{Capabilities, ConsumeError, Consumer, Next};
//! use tributary_pipeline_core::pdata::Traces;
//!
//! /// processors::drop_spans — YAML: `drop_spans: { names: [healthz, readyz] }`
//! #[derive(Debug, Default, Deserialize)]
//! #[serde(default, deny_unknown_fields)]
//! pub struct Config {
//!     /// Span names to drop.
//!     pub names: Vec<String>,
//! }
//!
//! impl ComponentConfig for Config {
//!     fn validate(&self) -> Result<(), ConfigError> {
//!         if self.names.is_empty() {
//!             return Err(ConfigError::at("names", "list at least one span name"));
//!         }
//!         Ok(())
//!     }
//! }
//!
//! /// The processor: a lifecycle (nothing to start) and a consumer.
//! pub struct DropSpans {
//!     names: Vec<String>,
//!     next: Next<Traces>,
//! }
//!
//! #[async_trait]
//! impl Component for DropSpans {}
//!
//! #[async_trait]
//! impl Consumer<Traces> for DropSpans {
//!     async fn consume(&self, mut traces: Traces) -> Result<(), ConsumeError> {
//!         // `make_mut` copies the data only if another consumer still shares it.
//!         for rs in &mut traces.make_mut().resource_spans {
//!             for ss in &mut rs.scope_spans {
//!                 ss.spans.retain(|span| !self.names.contains(&span.name));
//!             }
//!         }
//!         if traces.is_empty() {
//!             return Ok(());
//!         }
//!         // Answer only once the data was handed on, with the next stage's answer.
//!         self.next.consume(traces).await
//!     }
//!
//!     fn capabilities(&self) -> Capabilities {
//!         Capabilities { mutates_data: true }
//!     }
//! }
//!
//! /// The factory: the type name, and a create function for each signal handled, with its
//! /// stability. Metrics and logs are not handled: "signal not supported".
//! pub fn factory() -> ProcessorFactory<Config> {
//!     ProcessorFactory::new("drop_spans").with_traces(create, Stability::Alpha)
//! }
//!
//! fn create(
//!     _settings: &CreateSettings,
//!     config: &Config,
//!     next: Next<Traces>,
//! ) -> Result<Arc<dyn Processor<Traces>>, CreateError> {
//!     Ok(Arc::new(DropSpans { names: config.names.clone(), next }))
//! }
//!
//! // Register it on a collector, next to built-in components:
//! let builder = tributary_pipeline_core::service::Collector::builder("my-collector", "1.0.0")
//!     .processor(factory());
//! # drop(builder);
//! ```
//!
//! Receivers are built by a [`ReceiverFactory`](component::ReceiverFactory) and push to the
//! [`Next`](consumer::Next) consumer they are created with; exporters implement
//! [`Export`](exporterhelper::Export) and are wrapped by
//! [`exporterhelper::build`], which adds the sending queue, retries and timeouts; their
//! configs squash in an [`ExporterHelperConfig`](exporterhelper::ExporterHelperConfig) for
//! its keys (`timeout`, `retry_on_failure`, `sending_queue`). Their errors are classified ([`ConsumeError::permanent`](consumer::ConsumeError::permanent),
//! [`retryable`](consumer::ConsumeError::retryable),
//! [`throttled`](consumer::ConsumeError::throttled)), and every layer above keeps the class.
//! Components log under [`CreateSettings::span`](component::CreateSettings::span), count
//! with [`CreateSettings::metrics`](component::CreateSettings::metrics), report health
//! with [`CreateSettings::status`](component::CreateSettings::status), and spawn their
//! tasks with [`CreateSettings::spawn`](component::CreateSettings::spawn) so a panic is
//! reported instead of lost.
//!
//! Configs hold passwords, tokens and header values as
//! [`SecretString`](component::SecretString) and URLs that may carry credentials as
//! [`SecretUrl`](component::SecretUrl): they print as `[REDACTED]`, `print-config` hides
//! them by their type, and configuration errors never quote them.

pub mod component;
pub mod config;
pub mod consumer;
pub mod exporterhelper;
pub mod extensions;
pub mod graph;
mod health;
pub mod pdata;
pub mod prelude;
pub mod processorhelper;
pub mod receiverhelper;
pub mod server;
pub mod service;
pub mod telemetry;

#[cfg(test)]
mod test_support;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
