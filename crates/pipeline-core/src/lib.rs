#![warn(missing_docs)]
//! Tributary's framework: telemetry data, the consumer contract, components, the pipeline
//! graph, the exporter helper, and the service that runs it all.
//!
//! Everything a component crate or a collector program needs is here; nothing here names a
//! concrete component. The built-in components live in `tributary-receivers`,
//! `tributary-processors`, `tributary-exporters` and `tributary-connectors`, and the
//! `tributary` crate gathers them.
//!
//! # Map
//!
//! | module | what |
//! |---|---|
//! | [`pdata`] | telemetry as OTLP requests per signal ([`Traces`](pdata::Traces), [`Metrics`](pdata::Metrics), [`Logs`](pdata::Logs)), shared copy-on-write |
//! | [`consumer`] | the [`Consumer`](consumer::Consumer) contract, [`ConsumeError`](consumer::ConsumeError), the concurrent [`Fanout`](consumer::Fanout) |
//! | [`prelude`] | what a component crate imports |
//! | [`component`] | component traits, factories, IDs, [`CreateSettings`](component::CreateSettings), [`Host`](component::Host) |
//! | [`processorhelper`], [`receiverhelper`] | processors from a function; receivers' tasks, servers and accounting |
//! | [`exporterhelper`] | queue → batch → retry → timeout around an exporter's `export` |
//! | [`configauth`] | `auth: {authenticator: <id>}`: server and client authenticators offered by extensions |
//! | [`configcompression`] | compressed bodies: bounded decompression for servers, `compression` for clients |
//! | [`configgrpc`] | the gRPC server and client blocks: endpoint, TLS, keepalive, limits, headers |
//! | [`confighttp`] | the HTTP server and client blocks: endpoint, TLS, CORS, auth, limits, timeouts, headers, connection pool |
//! | [`confignet`] | `dialer`: how clients open connections |
//! | [`configtls`] | TLS for servers (mutual TLS, certificate reload) and clients |
//! | [`extensions`] | the extensions the framework provides (health check, file storage, authenticators) |
//! | [`graph`] | pipelines built from `service::pipelines`, joined by connectors |
//! | [`config`] | the collector's configuration document |
//! | [`service`] | [`Collector`](service::Collector): builder, CLI, run loop, reload |
//! | [`telemetry`] | the collector's own metrics |
//!
//! # Writing a component
//!
//! A component is three things: a **config** type (serde, with defaults, unknown keys
//! rejected), the **component** itself (a [`Component`](component::Component) lifecycle
//! plus, for processors and exporters, a [`Consumer`](consumer::Consumer)), and a
//! **factory** naming its type and giving one create function per signal it handles (per
//! signal pair, for a connector), with its [`Stability`](component::Stability). Everything it needs comes from one
//! import, [`prelude`]. A component crate depends on this crate alone (no default
//! features: the command line stays in the program), and on its `testing` feature for
//! tests:
//!
//! ```toml
//! [dependencies]
//! tributary-pipeline-core = { version = "0.1", default-features = false }
//! serde = { version = "1", features = ["derive"] }
//!
//! [dev-dependencies]
//! tributary-pipeline-core = { version = "0.1", features = ["testing"] }
//! ```
//!
//! Rules every component keeps, which the conformance suite (`testing::check_processor`
//! and its siblings) checks: the config refuses unknown keys and `validate` names the key
//! at fault; creating a component does no I/O (`validate` creates components): sockets,
//! files and threads are opened in `start`; `shutdown` works without `start`, and twice.
//! `examples/plugin-crate` holds three of the walkthroughs below as a crate of its own,
//! with their tests.
//!
//! ## A processor
//!
//! [`processorhelper::from_fn`] turns a function over the mutable request into a
//! processor; the [`pdata`] visitors edit spans, log records and data points of every kind
//! alike, and copy data shared with another pipeline only when they change something. A
//! request left without items goes no further. The framework counts every processor's
//! `otelcol_processor_incoming_items` and `outgoing_items`.
//!
//! ```
//! use std::sync::Arc;
//! use serde::Deserialize;
//! use tributary_pipeline_core::prelude::*;
//!
//! /// processors::drop_debug — drops spans, log records and data points marked
//! /// `debug: true`. YAML: `drop_debug: { key: debug }`
//! #[derive(Clone, Debug, Deserialize)]
//! #[serde(default, deny_unknown_fields)]
//! pub struct Config {
//!     /// The boolean attribute that marks an item to drop.
//!     pub key: String,
//! }
//!
//! impl Default for Config {
//!     fn default() -> Self {
//!         Config { key: "debug".into() }
//!     }
//! }
//!
//! impl ComponentConfig for Config {
//!     fn validate(&self) -> Result<(), ConfigError> {
//!         if self.key.is_empty() {
//!             return Err(ConfigError::at("key", "name an attribute"));
//!         }
//!         Ok(())
//!     }
//! }
//!
//! pub fn factory() -> ProcessorFactory<Config> {
//!     ProcessorFactory::new("drop_debug")
//!         .with_traces(create, Stability::Alpha)
//!         .with_logs(create, Stability::Alpha)
//! }
//!
//! /// One function for both signals: spans and log records both have attributes.
//! fn create<R>(
//!     _settings: &CreateSettings,
//!     config: &Config,
//!     next: Next<Payload<R>>,
//! ) -> Result<Arc<dyn Processor<Payload<R>>>, CreateError>
//! where
//!     R: Items,
//!     R::Record: HasAttributes,
//! {
//!     let key = config.key.clone();
//!     Ok(processorhelper::from_fn(next, move |data: &mut Payload<R>| {
//!         data.retain_records(|_, record| record.attributes().get_bool(&key) != Some(true));
//!         Ok(())
//!     }))
//! }
//!
//! // Register it on a collector, next to built-in components:
//! let builder = tributary_pipeline_core::service::Collector::builder("my-collector", "1.0.0")
//!     .processor(factory());
//! # drop(builder);
//! ```
//!
//! ## A receiver
//!
//! A receiver pushes what it reads to the [`Next`](consumer::Next) consumer it was created
//! with, and answers its client only once that consumer answered. [`receiverhelper`] does
//! the rest: [`ReceiverTasks`](receiverhelper::ReceiverTasks) serves TCP, UDP or HTTP on
//! sockets that survive a reload and stops its tasks at shutdown;
//! [`deliver`](receiverhelper::deliver) records the Go Collector's accepted and refused
//! counts; the [`pdata::builder`]s build metrics and logs. **Batch on the receiver's
//! side**: a receiver that reads one item at a time (a line, a datagram) should gather
//! what one read brings into one request, as `serve_tcp_lines` does — a pipeline call per
//! item costs far more than the item. The receiver below is written out to show the parts;
//! for a line protocol, [`receiverhelper::tcp_lines_receiver`] is all of it but `parse`.
//!
//! ```
//! use std::sync::Arc;
//! use serde::Deserialize;
//! use tributary_pipeline_core::prelude::*;
//!
//! /// receivers::lines — `name value` lines over TCP. YAML: `lines: { endpoint: 0.0.0.0:2003 }`
//! #[derive(Clone, Debug, Default, Deserialize)]
//! #[serde(default, deny_unknown_fields)]
//! pub struct Config {
//!     /// `endpoint`, `max_connections`, at the receiver's top level.
//!     #[serde(rename = "server,squash")]
//!     pub server: TcpServerConfig,
//! }
//!
//! impl ComponentConfig for Config {
//!     fn validate(&self) -> Result<(), ConfigError> {
//!         self.server.validate()
//!     }
//! }
//!
//! pub fn factory() -> ReceiverFactory<Config> {
//!     ReceiverFactory::new("lines").with_metrics(create, Stability::Development)
//! }
//!
//! fn create(
//!     settings: &CreateSettings,
//!     config: &Config,
//!     next: Next<Metrics>,
//! ) -> Result<Arc<dyn Receiver>, CreateError> {
//!     Ok(Arc::new(Lines {
//!         server: config.server.clone(),
//!         metrics: ReceiverMetrics::new(settings.metrics(), settings.id(), "tcp", Signal::Metrics),
//!         tasks: ReceiverTasks::new(settings), // no I/O yet
//!         next,
//!     }))
//! }
//!
//! pub struct Lines {
//!     server: TcpServerConfig,
//!     next: Next<Metrics>,
//!     metrics: ReceiverMetrics,
//!     tasks: ReceiverTasks,
//! }
//!
//! #[async_trait]
//! impl Component for Lines {
//!     async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
//!         let tasks = &self.tasks;
//!         tasks.serve_tcp_lines(&self.server, "127.0.0.1:2003", &self.next, &self.metrics, parse).await?;
//!         Ok(())
//!     }
//!
//!     async fn shutdown(&self) -> Result<(), ComponentError> {
//!         self.tasks.shutdown(receiverhelper::SHUTDOWN_DEADLINE).await
//!     }
//! }
//!
//! /// One read's lines as one batch of gauges, and how many lines were malformed
//! /// (counted as `otelcol_receiver_failed_metric_points`).
//! fn parse(text: &str) -> (Metrics, usize) {
//!     let (now, mut batch, mut malformed) = (now_unix_nano(), MetricsBuilder::new(), 0);
//!     for line in text.lines() {
//!         match line.split_once(' ').map(|(name, value)| (name, value.trim().parse())) {
//!             Some((name, Ok(value))) => {
//!                 batch.gauge(name, "").double(vec![], now, value);
//!             }
//!             _ => malformed += 1,
//!         }
//!     }
//!     (batch.build(), malformed)
//! }
//! # let _ = factory();
//! ```
//!
//! ## An exporter
//!
//! An exporter implements [`Export`](exporterhelper::Export) — what to do with one batch —
//! and [`exporterhelper::build`] wraps it in the sending queue, retries and timeout. Its
//! config squashes in the helper's keys (`timeout`, `retry_on_failure`, `sending_queue`),
//! so they sit at the exporter's top level as in the Go Collector. Errors are classified
//! ([`ConsumeError::permanent`](consumer::ConsumeError::permanent),
//! [`retryable`](consumer::ConsumeError::retryable),
//! [`throttled`](consumer::ConsumeError::throttled)), and every layer above keeps the class.
//!
//! ```
//! use std::sync::Arc;
//! use serde::Deserialize;
//! use tributary_pipeline_core::prelude::*;
//!
//! /// exporters::stdout_json — each batch as an OTLP/JSON line on standard output.
//! #[derive(Debug, Default, Deserialize)]
//! #[serde(default, deny_unknown_fields)]
//! pub struct Config {
//!     /// `timeout`, `retry_on_failure`, `sending_queue`.
//!     #[serde(rename = "helper,squash")]
//!     pub helper: ExporterHelperConfig,
//! }
//!
//! impl ComponentConfig for Config {
//!     fn validate(&self) -> Result<(), ConfigError> {
//!         self.helper.validate()
//!     }
//! }
//!
//! pub fn factory() -> ExporterFactory<Config> {
//!     ExporterFactory::new("stdout_json")
//!         .with_traces(create, Stability::Development)
//!         .with_metrics(create, Stability::Development)
//!         .with_logs(create, Stability::Development)
//! }
//!
//! fn create<T: JsonData>(
//!     settings: &CreateSettings,
//!     config: &Config,
//! ) -> Result<Arc<dyn Exporter<T>>, CreateError> {
//!     exporterhelper::build(settings, &config.helper, StdoutJson)
//! }
//!
//! struct StdoutJson;
//!
//! #[async_trait]
//! impl<T: JsonData> Export<T> for StdoutJson {
//!     async fn export(&self, data: T) -> Result<(), ConsumeError> {
//!         let mut line = Vec::new();
//!         data.write_otlp_json(&mut line)
//!             .map_err(|e| ConsumeError::permanent(e.to_string()))?;
//!         println!("{}", String::from_utf8_lossy(&line));
//!         Ok(())
//!     }
//! }
//! # let _ = factory();
//! ```
//!
//! ## An extension
//!
//! An extension runs beside the pipelines and offers capabilities to other components as
//! trait objects; they find it through the [`Host`](component::Host) by ID
//! ([`Host::capability`](component::Host::capability)). Storage for persistent queues
//! (`dyn QueueStorage`) works this way; so would an authenticator.
//!
//! ```
//! use std::sync::Arc;
//! use serde::Deserialize;
//! use tributary_pipeline_core::component::ExtensionCapabilities;
//! use tributary_pipeline_core::prelude::*;
//!
//! /// What the extension offers, as receivers would use it.
//! pub trait Authenticator: Send + Sync {
//!     fn authenticate(&self, token: &str) -> bool;
//! }
//!
//! /// extensions::static_token — YAML: `static_token: { token: ${env:TOKEN} }`
//! #[derive(Debug, Default, Deserialize)]
//! #[serde(default, deny_unknown_fields)]
//! pub struct Config {
//!     /// Never printed: `print-config`, logs and errors show `[REDACTED]`.
//!     pub token: SecretString,
//! }
//! impl ComponentConfig for Config {}
//!
//! struct StaticToken(SecretString);
//! impl Component for StaticToken {}
//! impl Authenticator for StaticToken {
//!     fn authenticate(&self, token: &str) -> bool {
//!         token == self.0.expose()
//!     }
//! }
//! impl Extension for StaticToken {
//!     fn capabilities(self: Arc<Self>, offers: &mut ExtensionCapabilities) {
//!         offers.offer::<dyn Authenticator>(self);
//!     }
//! }
//!
//! pub fn factory() -> ExtensionFactory<Config> {
//!     ExtensionFactory::new(
//!         "static_token",
//!         |_, config: &Config| Ok(Arc::new(StaticToken(config.token.clone())) as Arc<dyn Extension>),
//!         Stability::Development,
//!     )
//! }
//!
//! // A component finds it at start: host.capability::<dyn Authenticator>(&id).
//! let id = "static_token".parse().unwrap();
//! let host = Host::new([(id, Arc::new(StaticToken("s3cret".into())) as Arc<dyn Extension>)]);
//! let auth = host.capability::<dyn Authenticator>(&"static_token".parse().unwrap()).unwrap();
//! assert!(auth.authenticate("s3cret"));
//! # let _ = factory();
//! ```
//!
//! ## A connector
//!
//! A connector joins pipelines: listed among the exporters of some pipelines and the
//! receivers of others (declared under `connectors:`), it consumes one signal and emits
//! the same or another. Its factory gives one create function per (from, to) signal pair
//! with that pair's stability, as Go's `WithTracesToMetrics(f, stability)`; the create
//! function gets a [`Router`](component::Router) over the pipelines it feeds:
//! [`Router::next`](component::Router::next) is the fanout to all of them,
//! [`Router::consumer`](component::Router::consumer) the fanout to a chosen few (for
//! routing and failover). The graph builds one instance per (connector, from, to), starts
//! the pipelines it feeds before it, refuses cycles, and the connector's `consume`
//! returns what its downstream pipelines returned, so errors and back-pressure travel
//! upstream. The framework counts `otelcol_connector_consumed_items` and
//! `otelcol_connector_produced_items`.
//!
//! ```
//! use std::sync::Arc;
//! use serde::Deserialize;
//! use tributary_pipeline_core::pdata::builder::Temporality;
//! use tributary_pipeline_core::prelude::*;
//!
//! /// connectors::span_total — one `spans` sum per batch of spans.
//! /// YAML: `connectors: { span_total: {} }`, in `traces: { exporters: [span_total] }`
//! /// and `metrics: { receivers: [span_total] }`.
//! #[derive(Debug, Default, Deserialize)]
//! #[serde(default, deny_unknown_fields)]
//! pub struct Config {}
//! impl ComponentConfig for Config {}
//!
//! pub fn factory() -> ConnectorFactory<Config> {
//!     ConnectorFactory::new("span_total").with_traces_to_metrics(
//!         |_, _: &Config, router: Router<Metrics>| {
//!             Ok(Arc::new(SpanTotal(router.next())) as Arc<dyn Connector<Traces>>)
//!         },
//!         Stability::Development,
//!     )
//! }
//!
//! struct SpanTotal(Next<Metrics>);
//! impl Component for SpanTotal {}
//!
//! #[async_trait]
//! impl Consumer<Traces> for SpanTotal {
//!     async fn consume(&self, spans: Traces) -> Result<(), ConsumeError> {
//!         let mut metrics = MetricsBuilder::new();
//!         metrics.resource(vec![]).scope("span_total", "");
//!         let now = now_unix_nano();
//!         metrics
//!             .sum("spans", "{span}", Temporality::Delta, true)
//!             .int(vec![], now, now, spans.item_count() as i64);
//!         // What the metrics pipelines answer is this call's answer.
//!         self.0.consume(metrics.build()).await
//!     }
//! }
//! # let _ = factory();
//! ```
//!
//! ## Testing a component
//!
//! The `testing` feature's module (`testing`, documented on docs.rs and when built with
//! the feature) has a scriptable `Sink` to stand for the next consumer (it records what
//! arrives and can answer permanent, retryable or throttled errors), `Discard`,
//! `settings::<T>()` to create a component outside a collector, and the conformance suite:
//! one line per component, `check_receiver(factory(), "endpoint: 127.0.0.1:{port}")`,
//! which checks the config, that creating does no I/O, and the lifecycle.
//!
//! Components log under [`CreateSettings::span`](component::CreateSettings::span), count
//! with [`CreateSettings::metrics`](component::CreateSettings::metrics), report health
//! with [`CreateSettings::status`](component::CreateSettings::status), and spawn their
//! tasks with [`CreateSettings::spawn`](component::CreateSettings::spawn) (or
//! [`ReceiverTasks::spawn`](receiverhelper::ReceiverTasks::spawn)) so a panic is reported
//! instead of lost. Configs hold passwords, tokens and header values as
//! [`SecretString`](component::SecretString) and URLs that may carry credentials as
//! [`SecretUrl`](component::SecretUrl): they print as `[REDACTED]`, `print-config` hides
//! them by their type, and configuration errors never quote them.

pub mod component;
pub mod config;
pub mod configauth;
pub mod configcompression;
pub mod configgrpc;
pub mod confighttp;
pub mod confignet;
pub mod configtls;
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
