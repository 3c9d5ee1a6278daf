//! Factories: how the framework builds a component from its configuration.
//!
//! A component crate implements one of the typed factory traits ([`ReceiverFactory`],
//! [`ProcessorFactory`], [`ExporterFactory`], [`ExtensionFactory`]); the builder erases it
//! behind the crate-private `Any*Factory` traits so factories of every config type live in
//! one registry.

use std::any::Any;
use std::sync::Arc;

use tributary_confmap::{SecretPaths, Value};

use super::{
    Component, ComponentConfig, ConfigError, CreateSettings, Exporter, Extension, Processor,
    Receiver, Stability, decode_config, secret_paths,
};
use crate::consumer::Next;
use crate::pdata::{Logs, Metrics, Signal, SignalData, Traces};

/// Why a factory could not create a component.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// The component does not handle this signal. Factories return this from the create
    /// functions they do not override; the framework names the component and signal.
    #[error("signal not supported")]
    SignalNotSupported,
    /// Anything else, described.
    #[error("{message}")]
    Failed {
        /// What went wrong.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl CreateError {
    /// A failure described by `message`.
    pub fn new(message: impl Into<String>) -> Self {
        CreateError::Failed {
            message: message.into(),
            source: None,
        }
    }

    /// A failure caused by `source`.
    pub fn with_source(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        CreateError::Failed {
            message: format!("{}: {source}", message.into()),
            source: Some(Box::new(source)),
        }
    }
}

/// A signal's create function and its stability.
struct Supported<F> {
    create: F,
    stability: Stability,
}

fn stability_of<F>(slot: &Option<Supported<F>>) -> Stability {
    slot.as_ref()
        .map_or(Stability::Undefined, |slot| slot.stability)
}

/// The create function of a receiver for signal `T`.
type CreateReceiver<C, T> = Arc<
    dyn Fn(&CreateSettings, &C, Next<T>) -> Result<Arc<dyn Receiver>, CreateError> + Send + Sync,
>;

/// The create function of a processor for signal `T`.
type CreateProcessor<C, T> = Arc<
    dyn Fn(&CreateSettings, &C, Next<T>) -> Result<Arc<dyn Processor<T>>, CreateError>
        + Send
        + Sync,
>;

/// The create function of an exporter for signal `T`.
type CreateExporter<C, T> =
    Arc<dyn Fn(&CreateSettings, &C) -> Result<Arc<dyn Exporter<T>>, CreateError> + Send + Sync>;

/// The create function of an extension.
type CreateExtension<C> =
    Arc<dyn Fn(&CreateSettings, &C) -> Result<Arc<dyn Extension>, CreateError> + Send + Sync>;

/// Builds receivers of one type: a create function for each signal the receiver handles,
/// declared with its [`Stability`], as the Go Collector's `receiver.NewFactory(type,
/// WithTraces(f, stability), ...)`. The configuration type `C` gives the defaults
/// ([`Default`]) and the validation ([`ComponentConfig::validate`]).
///
/// One create function, generic over the signal, usually serves every signal:
///
/// ```
/// use std::sync::Arc;
/// use serde::Deserialize;
/// use tributary_pipeline_core::component::{
///     ComponentConfig, CreateError, CreateSettings, Receiver, ReceiverFactory, Stability,
/// };
/// use tributary_pipeline_core::consumer::Next;
/// use tributary_pipeline_core::pdata::{Signal, SignalData};
/// # use tributary_pipeline_core::component::{Component, ComponentError, Host};
///
/// #[derive(Debug, Default, Deserialize)]
/// #[serde(default, deny_unknown_fields)]
/// struct Config {
///     endpoint: String,
/// }
/// impl ComponentConfig for Config {}
///
/// struct Lines<T: SignalData>(Next<T>);
/// # #[async_trait::async_trait]
/// # impl<T: SignalData> Component for Lines<T> {
/// #     async fn start(&self, _: &Host) -> Result<(), ComponentError> { Ok(()) }
/// #     async fn shutdown(&self) -> Result<(), ComponentError> { Ok(()) }
/// # }
///
/// fn create<T: SignalData>(
///     _settings: &CreateSettings,
///     _config: &Config,
///     next: Next<T>,
/// ) -> Result<Arc<dyn Receiver>, CreateError> {
///     Ok(Arc::new(Lines(next)))
/// }
///
/// pub fn factory() -> ReceiverFactory<Config> {
///     ReceiverFactory::new("lines")
///         .with_metrics(create, Stability::Alpha)
///         .with_logs(create, Stability::Development)
/// }
///
/// assert_eq!(factory().stability(Signal::Metrics), Stability::Alpha);
/// assert_eq!(factory().stability(Signal::Traces), Stability::Undefined);
/// ```
///
/// A receiver that serves several signals from one server (like OTLP) shares it between
/// the per-signal instances with [`CreateSettings::shared`].
pub struct ReceiverFactory<C> {
    component_type: &'static str,
    aliases: Vec<&'static str>,
    traces: Option<Supported<CreateReceiver<C, Traces>>>,
    metrics: Option<Supported<CreateReceiver<C, Metrics>>>,
    logs: Option<Supported<CreateReceiver<C, Logs>>>,
}

impl<C: ComponentConfig> ReceiverFactory<C> {
    /// A factory of receivers of type `component_type` (the name used in configuration,
    /// `otlp`) that handles no signal yet.
    pub fn new(component_type: &'static str) -> Self {
        ReceiverFactory {
            component_type,
            aliases: Vec::new(),
            traces: None,
            metrics: None,
            logs: None,
        }
    }

    /// Accepts `alias` as another name of the type (a deprecated spelling).
    pub fn with_alias(mut self, alias: &'static str) -> Self {
        self.aliases.push(alias);
        self
    }

    /// Handles traces: `create` builds the receiver pushing to `next`.
    pub fn with_traces<F>(mut self, create: F, stability: Stability) -> Self
    where
        F: Fn(&CreateSettings, &C, Next<Traces>) -> Result<Arc<dyn Receiver>, CreateError>
            + Send
            + Sync
            + 'static,
    {
        self.traces = supported(Arc::new(create), stability);
        self
    }

    /// Handles metrics: `create` builds the receiver pushing to `next`.
    pub fn with_metrics<F>(mut self, create: F, stability: Stability) -> Self
    where
        F: Fn(&CreateSettings, &C, Next<Metrics>) -> Result<Arc<dyn Receiver>, CreateError>
            + Send
            + Sync
            + 'static,
    {
        self.metrics = supported(Arc::new(create), stability);
        self
    }

    /// Handles logs: `create` builds the receiver pushing to `next`.
    pub fn with_logs<F>(mut self, create: F, stability: Stability) -> Self
    where
        F: Fn(&CreateSettings, &C, Next<Logs>) -> Result<Arc<dyn Receiver>, CreateError>
            + Send
            + Sync
            + 'static,
    {
        self.logs = supported(Arc::new(create), stability);
        self
    }

    /// Creates the receiver of signal `T` pushing to `next`, as the framework does: for a
    /// component's own tests.
    pub fn create<T: SignalData>(
        &self,
        settings: &CreateSettings,
        config: &C,
        next: Next<T>,
    ) -> Result<Arc<dyn Receiver>, CreateError> {
        match T::SIGNAL {
            Signal::Traces => slot(&self.traces)?(settings, config, same_signal(next)?),
            Signal::Metrics => slot(&self.metrics)?(settings, config, same_signal(next)?),
            Signal::Logs => slot(&self.logs)?(settings, config, same_signal(next)?),
        }
    }

    /// The type name used in configuration.
    pub fn component_type(&self) -> &'static str {
        self.component_type
    }

    /// Other names accepted for the type.
    pub fn aliases(&self) -> &[&'static str] {
        &self.aliases
    }

    /// Maturity per signal; [`Stability::Undefined`] for signals not handled.
    pub fn stability(&self, signal: Signal) -> Stability {
        match signal {
            Signal::Traces => stability_of(&self.traces),
            Signal::Metrics => stability_of(&self.metrics),
            Signal::Logs => stability_of(&self.logs),
        }
    }
}

/// Builds processors of one type, one instance per pipeline that lists it: a create
/// function for each signal handled, with its [`Stability`] (see [`ReceiverFactory`] for
/// the pattern).
pub struct ProcessorFactory<C> {
    component_type: &'static str,
    aliases: Vec<&'static str>,
    traces: Option<Supported<CreateProcessor<C, Traces>>>,
    metrics: Option<Supported<CreateProcessor<C, Metrics>>>,
    logs: Option<Supported<CreateProcessor<C, Logs>>>,
}

impl<C: ComponentConfig> ProcessorFactory<C> {
    /// A factory of processors of type `component_type` (`batch`) that handles no signal
    /// yet.
    pub fn new(component_type: &'static str) -> Self {
        ProcessorFactory {
            component_type,
            aliases: Vec::new(),
            traces: None,
            metrics: None,
            logs: None,
        }
    }

    /// Accepts `alias` as another name of the type.
    pub fn with_alias(mut self, alias: &'static str) -> Self {
        self.aliases.push(alias);
        self
    }

    /// Handles traces: `create` builds the processor pushing to `next`.
    pub fn with_traces<F>(mut self, create: F, stability: Stability) -> Self
    where
        F: Fn(&CreateSettings, &C, Next<Traces>) -> Result<Arc<dyn Processor<Traces>>, CreateError>
            + Send
            + Sync
            + 'static,
    {
        self.traces = supported(Arc::new(create), stability);
        self
    }

    /// Handles metrics: `create` builds the processor pushing to `next`.
    pub fn with_metrics<F>(mut self, create: F, stability: Stability) -> Self
    where
        F: Fn(
                &CreateSettings,
                &C,
                Next<Metrics>,
            ) -> Result<Arc<dyn Processor<Metrics>>, CreateError>
            + Send
            + Sync
            + 'static,
    {
        self.metrics = supported(Arc::new(create), stability);
        self
    }

    /// Handles logs: `create` builds the processor pushing to `next`.
    pub fn with_logs<F>(mut self, create: F, stability: Stability) -> Self
    where
        F: Fn(&CreateSettings, &C, Next<Logs>) -> Result<Arc<dyn Processor<Logs>>, CreateError>
            + Send
            + Sync
            + 'static,
    {
        self.logs = supported(Arc::new(create), stability);
        self
    }

    /// Creates the processor of signal `T` pushing to `next`, as the framework does: for a
    /// component's own tests.
    pub fn create<T: SignalData>(
        &self,
        settings: &CreateSettings,
        config: &C,
        next: Next<T>,
    ) -> Result<Arc<dyn Processor<T>>, CreateError> {
        match T::SIGNAL {
            Signal::Traces => {
                same_signal(slot(&self.traces)?(settings, config, same_signal(next)?)?)
            }
            Signal::Metrics => {
                same_signal(slot(&self.metrics)?(settings, config, same_signal(next)?)?)
            }
            Signal::Logs => same_signal(slot(&self.logs)?(settings, config, same_signal(next)?)?),
        }
    }

    /// The type name used in configuration.
    pub fn component_type(&self) -> &'static str {
        self.component_type
    }

    /// Other names accepted for the type.
    pub fn aliases(&self) -> &[&'static str] {
        &self.aliases
    }

    /// Maturity per signal; [`Stability::Undefined`] for signals not handled.
    pub fn stability(&self, signal: Signal) -> Stability {
        match signal {
            Signal::Traces => stability_of(&self.traces),
            Signal::Metrics => stability_of(&self.metrics),
            Signal::Logs => stability_of(&self.logs),
        }
    }
}

/// Builds exporters of one type, one instance per (signal, exporter ID) shared by every
/// pipeline of that signal that lists it: a create function for each signal handled, with
/// its [`Stability`] (see [`ReceiverFactory`] for the pattern).
/// [`exporterhelper::build`](crate::exporterhelper::build) wraps what the exporter writes
/// in the queue, batching, retries and timeout.
pub struct ExporterFactory<C> {
    component_type: &'static str,
    aliases: Vec<&'static str>,
    traces: Option<Supported<CreateExporter<C, Traces>>>,
    metrics: Option<Supported<CreateExporter<C, Metrics>>>,
    logs: Option<Supported<CreateExporter<C, Logs>>>,
}

impl<C: ComponentConfig> ExporterFactory<C> {
    /// A factory of exporters of type `component_type` (`otlp`) that handles no signal yet.
    pub fn new(component_type: &'static str) -> Self {
        ExporterFactory {
            component_type,
            aliases: Vec::new(),
            traces: None,
            metrics: None,
            logs: None,
        }
    }

    /// Accepts `alias` as another name of the type (`otlphttp` for `otlp_http`).
    pub fn with_alias(mut self, alias: &'static str) -> Self {
        self.aliases.push(alias);
        self
    }

    /// Handles traces: `create` builds the exporter.
    pub fn with_traces<F>(mut self, create: F, stability: Stability) -> Self
    where
        F: Fn(&CreateSettings, &C) -> Result<Arc<dyn Exporter<Traces>>, CreateError>
            + Send
            + Sync
            + 'static,
    {
        self.traces = supported(Arc::new(create), stability);
        self
    }

    /// Handles metrics: `create` builds the exporter.
    pub fn with_metrics<F>(mut self, create: F, stability: Stability) -> Self
    where
        F: Fn(&CreateSettings, &C) -> Result<Arc<dyn Exporter<Metrics>>, CreateError>
            + Send
            + Sync
            + 'static,
    {
        self.metrics = supported(Arc::new(create), stability);
        self
    }

    /// Handles logs: `create` builds the exporter.
    pub fn with_logs<F>(mut self, create: F, stability: Stability) -> Self
    where
        F: Fn(&CreateSettings, &C) -> Result<Arc<dyn Exporter<Logs>>, CreateError>
            + Send
            + Sync
            + 'static,
    {
        self.logs = supported(Arc::new(create), stability);
        self
    }

    /// Creates the exporter of signal `T`, as the framework does: for a component's own
    /// tests.
    pub fn create<T: SignalData>(
        &self,
        settings: &CreateSettings,
        config: &C,
    ) -> Result<Arc<dyn Exporter<T>>, CreateError> {
        match T::SIGNAL {
            Signal::Traces => same_signal(slot(&self.traces)?(settings, config)?),
            Signal::Metrics => same_signal(slot(&self.metrics)?(settings, config)?),
            Signal::Logs => same_signal(slot(&self.logs)?(settings, config)?),
        }
    }

    /// The type name used in configuration.
    pub fn component_type(&self) -> &'static str {
        self.component_type
    }

    /// Other names accepted for the type.
    pub fn aliases(&self) -> &[&'static str] {
        &self.aliases
    }

    /// Maturity per signal; [`Stability::Undefined`] for signals not handled.
    pub fn stability(&self, signal: Signal) -> Stability {
        match signal {
            Signal::Traces => stability_of(&self.traces),
            Signal::Metrics => stability_of(&self.metrics),
            Signal::Logs => stability_of(&self.logs),
        }
    }
}

/// Builds extensions of one type.
pub struct ExtensionFactory<C> {
    component_type: &'static str,
    aliases: Vec<&'static str>,
    create: CreateExtension<C>,
    stability: Stability,
}

impl<C: ComponentConfig> ExtensionFactory<C> {
    /// A factory of extensions of type `component_type` (`health_check`), built by
    /// `create`.
    pub fn new<F>(component_type: &'static str, create: F, stability: Stability) -> Self
    where
        F: Fn(&CreateSettings, &C) -> Result<Arc<dyn Extension>, CreateError>
            + Send
            + Sync
            + 'static,
    {
        ExtensionFactory {
            component_type,
            aliases: Vec::new(),
            create: Arc::new(create),
            stability,
        }
    }

    /// Accepts `alias` as another name of the type.
    pub fn with_alias(mut self, alias: &'static str) -> Self {
        self.aliases.push(alias);
        self
    }

    /// Creates the extension, as the framework does: for a component's own tests.
    pub fn create(
        &self,
        settings: &CreateSettings,
        config: &C,
    ) -> Result<Arc<dyn Extension>, CreateError> {
        (self.create)(settings, config)
    }

    /// The type name used in configuration.
    pub fn component_type(&self) -> &'static str {
        self.component_type
    }

    /// Other names accepted for the type.
    pub fn aliases(&self) -> &[&'static str] {
        &self.aliases
    }

    /// Maturity.
    pub fn stability(&self) -> Stability {
        self.stability
    }
}

/// A slot for a signal's create function; declaring a signal [`Stability::Undefined`]
/// leaves it unsupported.
fn supported<F>(create: F, stability: Stability) -> Option<Supported<F>> {
    stability
        .is_supported()
        .then_some(Supported { create, stability })
}

// ---- Erasure: every factory behind one object-safe trait per kind. ----

/// A decoded, validated configuration of some factory's `Config` type.
pub(crate) type AnyConfig = Arc<dyn Any + Send + Sync>;

/// The next consumer of a pipeline stage, of any signal.
#[derive(Clone)]
pub(crate) enum AnyNext {
    Traces(Next<Traces>),
    Metrics(Next<Metrics>),
    Logs(Next<Logs>),
}

/// A created processor or exporter: its lifecycle plus its consumer side.
pub(crate) struct Built {
    pub component: Arc<dyn Component>,
    pub consumer: AnyNext,
}

fn built<T: SignalData>(component: Arc<dyn Processor<T>>, wrap: fn(Next<T>) -> AnyNext) -> Built {
    Built {
        component: component.clone(),
        consumer: wrap(component),
    }
}

fn built_exporter<T: SignalData>(
    component: Arc<dyn Exporter<T>>,
    wrap: fn(Next<T>) -> AnyNext,
) -> Built {
    Built {
        component: component.clone(),
        consumer: wrap(component),
    }
}

/// Decodes a component's raw configuration over its defaults and validates it. Paths in
/// errors are relative to the component's section.
fn decode<C: ComponentConfig>(raw: &Value) -> Result<AnyConfig, ConfigError> {
    Ok(Arc::new(decode_config::<C>(raw)?))
}

fn typed<C: 'static>(config: &AnyConfig) -> Result<&C, CreateError> {
    config
        .downcast_ref::<C>()
        .ok_or_else(|| CreateError::new("internal error: configuration of another component type"))
}

/// Object-safe view of a [`ReceiverFactory`].
pub(crate) trait AnyReceiverFactory: Send + Sync {
    fn component_type(&self) -> &'static str;
    fn aliases(&self) -> &[&'static str];
    fn stability(&self, signal: Signal) -> Stability;
    fn decode_config(&self, raw: &Value) -> Result<AnyConfig, ConfigError>;
    fn secret_paths(&self, raw: &Value) -> Option<SecretPaths>;
    fn create(
        &self,
        settings: &CreateSettings,
        config: &AnyConfig,
        next: AnyNext,
    ) -> Result<Arc<dyn Receiver>, CreateError>;
}

/// Object-safe view of a [`ProcessorFactory`].
pub(crate) trait AnyProcessorFactory: Send + Sync {
    fn component_type(&self) -> &'static str;
    fn aliases(&self) -> &[&'static str];
    fn stability(&self, signal: Signal) -> Stability;
    fn decode_config(&self, raw: &Value) -> Result<AnyConfig, ConfigError>;
    fn secret_paths(&self, raw: &Value) -> Option<SecretPaths>;
    fn create(
        &self,
        settings: &CreateSettings,
        config: &AnyConfig,
        next: AnyNext,
    ) -> Result<Built, CreateError>;
}

/// Object-safe view of an [`ExporterFactory`].
pub(crate) trait AnyExporterFactory: Send + Sync {
    fn component_type(&self) -> &'static str;
    fn aliases(&self) -> &[&'static str];
    fn stability(&self, signal: Signal) -> Stability;
    fn decode_config(&self, raw: &Value) -> Result<AnyConfig, ConfigError>;
    fn secret_paths(&self, raw: &Value) -> Option<SecretPaths>;
    fn create(
        &self,
        settings: &CreateSettings,
        config: &AnyConfig,
        signal: Signal,
    ) -> Result<Built, CreateError>;
}

/// Object-safe view of an [`ExtensionFactory`].
pub(crate) trait AnyExtensionFactory: Send + Sync {
    fn component_type(&self) -> &'static str;
    fn aliases(&self) -> &[&'static str];
    fn stability(&self) -> Stability;
    fn decode_config(&self, raw: &Value) -> Result<AnyConfig, ConfigError>;
    fn secret_paths(&self, raw: &Value) -> Option<SecretPaths>;
    fn create(
        &self,
        settings: &CreateSettings,
        config: &AnyConfig,
    ) -> Result<Arc<dyn Extension>, CreateError>;
}

/// `value` as the same type for another name of its signal: `Next<T>` as `Next<Traces>`
/// when `T::SIGNAL` is traces. [`SignalData`] is sealed, one type per signal, so the
/// conversion fails only on a framework bug.
fn same_signal<A: 'static, B: 'static>(value: A) -> Result<B, CreateError> {
    (Box::new(value) as Box<dyn Any>)
        .downcast::<B>()
        .map(|value| *value)
        .map_err(|_| CreateError::new("internal error: a signal's data of another type"))
}

/// The create function of a signal's slot, or "signal not supported".
fn slot<F>(slot: &Option<Supported<F>>) -> Result<&F, CreateError> {
    slot.as_ref()
        .map(|slot| &slot.create)
        .ok_or(CreateError::SignalNotSupported)
}

impl<C: ComponentConfig> AnyReceiverFactory for ReceiverFactory<C> {
    fn component_type(&self) -> &'static str {
        self.component_type
    }
    fn aliases(&self) -> &[&'static str] {
        &self.aliases
    }
    fn stability(&self, signal: Signal) -> Stability {
        ReceiverFactory::stability(self, signal)
    }
    fn decode_config(&self, raw: &Value) -> Result<AnyConfig, ConfigError> {
        decode::<C>(raw)
    }
    fn secret_paths(&self, raw: &Value) -> Option<SecretPaths> {
        secret_paths::<C>(raw)
    }
    fn create(
        &self,
        settings: &CreateSettings,
        config: &AnyConfig,
        next: AnyNext,
    ) -> Result<Arc<dyn Receiver>, CreateError> {
        let config = typed::<C>(config)?;
        match next {
            AnyNext::Traces(next) => slot(&self.traces)?(settings, config, next),
            AnyNext::Metrics(next) => slot(&self.metrics)?(settings, config, next),
            AnyNext::Logs(next) => slot(&self.logs)?(settings, config, next),
        }
    }
}

impl<C: ComponentConfig> AnyProcessorFactory for ProcessorFactory<C> {
    fn component_type(&self) -> &'static str {
        self.component_type
    }
    fn aliases(&self) -> &[&'static str] {
        &self.aliases
    }
    fn stability(&self, signal: Signal) -> Stability {
        ProcessorFactory::stability(self, signal)
    }
    fn decode_config(&self, raw: &Value) -> Result<AnyConfig, ConfigError> {
        decode::<C>(raw)
    }
    fn secret_paths(&self, raw: &Value) -> Option<SecretPaths> {
        secret_paths::<C>(raw)
    }
    fn create(
        &self,
        settings: &CreateSettings,
        config: &AnyConfig,
        next: AnyNext,
    ) -> Result<Built, CreateError> {
        let config = typed::<C>(config)?;
        Ok(match next {
            AnyNext::Traces(next) => built(
                slot(&self.traces)?(settings, config, next)?,
                AnyNext::Traces,
            ),
            AnyNext::Metrics(next) => built(
                slot(&self.metrics)?(settings, config, next)?,
                AnyNext::Metrics,
            ),
            AnyNext::Logs(next) => built(slot(&self.logs)?(settings, config, next)?, AnyNext::Logs),
        })
    }
}

impl<C: ComponentConfig> AnyExporterFactory for ExporterFactory<C> {
    fn component_type(&self) -> &'static str {
        self.component_type
    }
    fn aliases(&self) -> &[&'static str] {
        &self.aliases
    }
    fn stability(&self, signal: Signal) -> Stability {
        ExporterFactory::stability(self, signal)
    }
    fn decode_config(&self, raw: &Value) -> Result<AnyConfig, ConfigError> {
        decode::<C>(raw)
    }
    fn secret_paths(&self, raw: &Value) -> Option<SecretPaths> {
        secret_paths::<C>(raw)
    }
    fn create(
        &self,
        settings: &CreateSettings,
        config: &AnyConfig,
        signal: Signal,
    ) -> Result<Built, CreateError> {
        let config = typed::<C>(config)?;
        Ok(match signal {
            Signal::Traces => {
                built_exporter(slot(&self.traces)?(settings, config)?, AnyNext::Traces)
            }
            Signal::Metrics => {
                built_exporter(slot(&self.metrics)?(settings, config)?, AnyNext::Metrics)
            }
            Signal::Logs => built_exporter(slot(&self.logs)?(settings, config)?, AnyNext::Logs),
        })
    }
}

impl<C: ComponentConfig> AnyExtensionFactory for ExtensionFactory<C> {
    fn component_type(&self) -> &'static str {
        self.component_type
    }
    fn aliases(&self) -> &[&'static str] {
        &self.aliases
    }
    fn stability(&self) -> Stability {
        self.stability
    }
    fn decode_config(&self, raw: &Value) -> Result<AnyConfig, ConfigError> {
        decode::<C>(raw)
    }
    fn secret_paths(&self, raw: &Value) -> Option<SecretPaths> {
        secret_paths::<C>(raw)
    }
    fn create(
        &self,
        settings: &CreateSettings,
        config: &AnyConfig,
    ) -> Result<Arc<dyn Extension>, CreateError> {
        (self.create)(settings, typed::<C>(config)?)
    }
}
