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
pub(super) struct Supported<F> {
    pub(super) create: F,
    pub(super) stability: Stability,
}

pub(super) fn stability_of<F>(slot: &Option<Supported<F>>) -> Stability {
    slot.as_ref()
        .map_or(Stability::Undefined, |slot| slot.stability)
}

/// A factory's type name and the other names it is accepted under.
pub(super) struct Names {
    pub(super) component_type: &'static str,
    pub(super) aliases: Vec<&'static str>,
}

impl Names {
    pub(super) fn new(component_type: &'static str) -> Names {
        Names {
            component_type,
            aliases: Vec::new(),
        }
    }
}

/// The create function of each signal a receiver, processor or exporter handles.
struct BySignal<FT, FM, FL> {
    traces: Option<Supported<FT>>,
    metrics: Option<Supported<FM>>,
    logs: Option<Supported<FL>>,
}

impl<FT, FM, FL> BySignal<FT, FM, FL> {
    fn none() -> Self {
        BySignal {
            traces: None,
            metrics: None,
            logs: None,
        }
    }

    fn stability(&self, signal: Signal) -> Stability {
        match signal {
            Signal::Traces => stability_of(&self.traces),
            Signal::Metrics => stability_of(&self.metrics),
            Signal::Logs => stability_of(&self.logs),
        }
    }
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
    names: Names,
    signals:
        BySignal<CreateReceiver<C, Traces>, CreateReceiver<C, Metrics>, CreateReceiver<C, Logs>>,
}

impl<C: ComponentConfig> ReceiverFactory<C> {
    /// A factory of receivers of type `component_type` (the name used in configuration,
    /// `otlp`) that handles no signal yet.
    pub fn new(component_type: &'static str) -> Self {
        ReceiverFactory {
            names: Names::new(component_type),
            signals: BySignal::none(),
        }
    }

    /// Accepts `alias` as another name of the type (a deprecated spelling).
    pub fn with_alias(mut self, alias: &'static str) -> Self {
        self.names.aliases.push(alias);
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
        self.signals.traces = supported(Arc::new(create), stability);
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
        self.signals.metrics = supported(Arc::new(create), stability);
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
        self.signals.logs = supported(Arc::new(create), stability);
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
            Signal::Traces => slot(&self.signals.traces)?(settings, config, same_signal(next)?),
            Signal::Metrics => slot(&self.signals.metrics)?(settings, config, same_signal(next)?),
            Signal::Logs => slot(&self.signals.logs)?(settings, config, same_signal(next)?),
        }
    }

    /// The type name used in configuration.
    pub fn component_type(&self) -> &'static str {
        self.names.component_type
    }

    /// Other names accepted for the type.
    pub fn aliases(&self) -> &[&'static str] {
        &self.names.aliases
    }

    /// Maturity per signal; [`Stability::Undefined`] for signals not handled.
    pub fn stability(&self, signal: Signal) -> Stability {
        self.signals.stability(signal)
    }
}

/// Builds processors of one type, one instance per pipeline that lists it: a create
/// function for each signal handled, with its [`Stability`] (see [`ReceiverFactory`] for
/// the pattern).
pub struct ProcessorFactory<C> {
    names: Names,
    signals:
        BySignal<CreateProcessor<C, Traces>, CreateProcessor<C, Metrics>, CreateProcessor<C, Logs>>,
}

impl<C: ComponentConfig> ProcessorFactory<C> {
    /// A factory of processors of type `component_type` (`batch`) that handles no signal
    /// yet.
    pub fn new(component_type: &'static str) -> Self {
        ProcessorFactory {
            names: Names::new(component_type),
            signals: BySignal::none(),
        }
    }

    /// Accepts `alias` as another name of the type.
    pub fn with_alias(mut self, alias: &'static str) -> Self {
        self.names.aliases.push(alias);
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
        self.signals.traces = supported(Arc::new(create), stability);
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
        self.signals.metrics = supported(Arc::new(create), stability);
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
        self.signals.logs = supported(Arc::new(create), stability);
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
            Signal::Traces => same_signal(slot(&self.signals.traces)?(
                settings,
                config,
                same_signal(next)?,
            )?),
            Signal::Metrics => same_signal(slot(&self.signals.metrics)?(
                settings,
                config,
                same_signal(next)?,
            )?),
            Signal::Logs => same_signal(slot(&self.signals.logs)?(
                settings,
                config,
                same_signal(next)?,
            )?),
        }
    }

    /// The type name used in configuration.
    pub fn component_type(&self) -> &'static str {
        self.names.component_type
    }

    /// Other names accepted for the type.
    pub fn aliases(&self) -> &[&'static str] {
        &self.names.aliases
    }

    /// Maturity per signal; [`Stability::Undefined`] for signals not handled.
    pub fn stability(&self, signal: Signal) -> Stability {
        self.signals.stability(signal)
    }
}

/// Builds exporters of one type, one instance per (signal, exporter ID) shared by every
/// pipeline of that signal that lists it: a create function for each signal handled, with
/// its [`Stability`] (see [`ReceiverFactory`] for the pattern).
/// [`exporterhelper::build`](crate::exporterhelper::build) wraps what the exporter writes
/// in the queue, batching, retries and timeout.
pub struct ExporterFactory<C> {
    names: Names,
    signals:
        BySignal<CreateExporter<C, Traces>, CreateExporter<C, Metrics>, CreateExporter<C, Logs>>,
}

impl<C: ComponentConfig> ExporterFactory<C> {
    /// A factory of exporters of type `component_type` (`otlp`) that handles no signal yet.
    pub fn new(component_type: &'static str) -> Self {
        ExporterFactory {
            names: Names::new(component_type),
            signals: BySignal::none(),
        }
    }

    /// Accepts `alias` as another name of the type (`otlphttp` for `otlp_http`).
    pub fn with_alias(mut self, alias: &'static str) -> Self {
        self.names.aliases.push(alias);
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
        self.signals.traces = supported(Arc::new(create), stability);
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
        self.signals.metrics = supported(Arc::new(create), stability);
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
        self.signals.logs = supported(Arc::new(create), stability);
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
            Signal::Traces => same_signal(slot(&self.signals.traces)?(settings, config)?),
            Signal::Metrics => same_signal(slot(&self.signals.metrics)?(settings, config)?),
            Signal::Logs => same_signal(slot(&self.signals.logs)?(settings, config)?),
        }
    }

    /// The type name used in configuration.
    pub fn component_type(&self) -> &'static str {
        self.names.component_type
    }

    /// Other names accepted for the type.
    pub fn aliases(&self) -> &[&'static str] {
        &self.names.aliases
    }

    /// Maturity per signal; [`Stability::Undefined`] for signals not handled.
    pub fn stability(&self, signal: Signal) -> Stability {
        self.signals.stability(signal)
    }
}

/// Builds extensions of one type.
pub struct ExtensionFactory<C> {
    names: Names,
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
            names: Names::new(component_type),
            create: Arc::new(create),
            stability,
        }
    }

    /// Accepts `alias` as another name of the type.
    pub fn with_alias(mut self, alias: &'static str) -> Self {
        self.names.aliases.push(alias);
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
        self.names.component_type
    }

    /// Other names accepted for the type.
    pub fn aliases(&self) -> &[&'static str] {
        &self.names.aliases
    }

    /// Maturity.
    pub fn stability(&self) -> Stability {
        self.stability
    }
}

/// A slot for a signal's create function; declaring a signal [`Stability::Undefined`]
/// leaves it unsupported.
pub(super) fn supported<F>(create: F, stability: Stability) -> Option<Supported<F>> {
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

pub(super) fn typed<C: 'static>(config: &AnyConfig) -> Result<&C, CreateError> {
    config
        .downcast_ref::<C>()
        .ok_or_else(|| CreateError::new("internal error: configuration of another component type"))
}

/// What the registry asks of a factory of any kind: its names, and its configuration
/// type's decoding.
pub(crate) trait AnyFactory: Send + Sync {
    fn component_type(&self) -> &'static str;
    fn aliases(&self) -> &[&'static str];
    fn decode_config(&self, raw: &Value) -> Result<AnyConfig, ConfigError>;
    fn secret_paths(&self, raw: &Value) -> Option<SecretPaths>;
}

/// A factory with [`Names`] and a configuration type, which makes it an [`AnyFactory`].
pub(super) trait Named: Send + Sync {
    type Config: ComponentConfig;
    fn names(&self) -> &Names;
}

impl<F: Named> AnyFactory for F {
    fn component_type(&self) -> &'static str {
        self.names().component_type
    }
    fn aliases(&self) -> &[&'static str] {
        &self.names().aliases
    }
    fn decode_config(&self, raw: &Value) -> Result<AnyConfig, ConfigError> {
        decode::<F::Config>(raw)
    }
    fn secret_paths(&self, raw: &Value) -> Option<SecretPaths> {
        secret_paths::<F::Config>(raw)
    }
}

macro_rules! named {
    ($($factory:ident),*) => {$(
        impl<C: ComponentConfig> Named for $factory<C> {
            type Config = C;
            fn names(&self) -> &Names {
                &self.names
            }
        }
    )*};
}

named!(
    ReceiverFactory,
    ProcessorFactory,
    ExporterFactory,
    ExtensionFactory
);

/// Object-safe view of a [`ReceiverFactory`].
pub(crate) trait AnyReceiverFactory: AnyFactory {
    fn stability(&self, signal: Signal) -> Stability;
    fn create(
        &self,
        settings: &CreateSettings,
        config: &AnyConfig,
        next: AnyNext,
    ) -> Result<Arc<dyn Receiver>, CreateError>;
}

/// Object-safe view of a [`ProcessorFactory`].
pub(crate) trait AnyProcessorFactory: AnyFactory {
    fn stability(&self, signal: Signal) -> Stability;
    fn create(
        &self,
        settings: &CreateSettings,
        config: &AnyConfig,
        next: AnyNext,
    ) -> Result<Built, CreateError>;
}

/// Object-safe view of an [`ExporterFactory`].
pub(crate) trait AnyExporterFactory: AnyFactory {
    fn stability(&self, signal: Signal) -> Stability;
    fn create(
        &self,
        settings: &CreateSettings,
        config: &AnyConfig,
        signal: Signal,
    ) -> Result<Built, CreateError>;
}

/// Object-safe view of an [`ExtensionFactory`].
pub(crate) trait AnyExtensionFactory: AnyFactory {
    fn stability(&self) -> Stability;
    fn create(
        &self,
        settings: &CreateSettings,
        config: &AnyConfig,
    ) -> Result<Arc<dyn Extension>, CreateError>;
}

/// `value` as the same type for another name of its signal: `Next<T>` as `Next<Traces>`
/// when `T::SIGNAL` is traces. [`SignalData`] is sealed, one type per signal, so the
/// conversion fails only on a framework bug.
pub(super) fn same_signal<A: 'static, B: 'static>(value: A) -> Result<B, CreateError> {
    (Box::new(value) as Box<dyn Any>)
        .downcast::<B>()
        .map(|value| *value)
        .map_err(|_| CreateError::new("internal error: a signal's data of another type"))
}

/// The create function of a signal's slot, or "signal not supported".
pub(super) fn slot<F>(slot: &Option<Supported<F>>) -> Result<&F, CreateError> {
    slot.as_ref()
        .map(|slot| &slot.create)
        .ok_or(CreateError::SignalNotSupported)
}

impl<C: ComponentConfig> AnyReceiverFactory for ReceiverFactory<C> {
    fn stability(&self, signal: Signal) -> Stability {
        ReceiverFactory::stability(self, signal)
    }
    fn create(
        &self,
        settings: &CreateSettings,
        config: &AnyConfig,
        next: AnyNext,
    ) -> Result<Arc<dyn Receiver>, CreateError> {
        let config = typed::<C>(config)?;
        match next {
            AnyNext::Traces(next) => slot(&self.signals.traces)?(settings, config, next),
            AnyNext::Metrics(next) => slot(&self.signals.metrics)?(settings, config, next),
            AnyNext::Logs(next) => slot(&self.signals.logs)?(settings, config, next),
        }
    }
}

impl<C: ComponentConfig> AnyProcessorFactory for ProcessorFactory<C> {
    fn stability(&self, signal: Signal) -> Stability {
        ProcessorFactory::stability(self, signal)
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
                slot(&self.signals.traces)?(settings, config, next)?,
                AnyNext::Traces,
            ),
            AnyNext::Metrics(next) => built(
                slot(&self.signals.metrics)?(settings, config, next)?,
                AnyNext::Metrics,
            ),
            AnyNext::Logs(next) => built(
                slot(&self.signals.logs)?(settings, config, next)?,
                AnyNext::Logs,
            ),
        })
    }
}

impl<C: ComponentConfig> AnyExporterFactory for ExporterFactory<C> {
    fn stability(&self, signal: Signal) -> Stability {
        ExporterFactory::stability(self, signal)
    }
    fn create(
        &self,
        settings: &CreateSettings,
        config: &AnyConfig,
        signal: Signal,
    ) -> Result<Built, CreateError> {
        let config = typed::<C>(config)?;
        Ok(match signal {
            Signal::Traces => built_exporter(
                slot(&self.signals.traces)?(settings, config)?,
                AnyNext::Traces,
            ),
            Signal::Metrics => built_exporter(
                slot(&self.signals.metrics)?(settings, config)?,
                AnyNext::Metrics,
            ),
            Signal::Logs => {
                built_exporter(slot(&self.signals.logs)?(settings, config)?, AnyNext::Logs)
            }
        })
    }
}

impl<C: ComponentConfig> AnyExtensionFactory for ExtensionFactory<C> {
    fn stability(&self) -> Stability {
        self.stability
    }
    fn create(
        &self,
        settings: &CreateSettings,
        config: &AnyConfig,
    ) -> Result<Arc<dyn Extension>, CreateError> {
        (self.create)(settings, typed::<C>(config)?)
    }
}
