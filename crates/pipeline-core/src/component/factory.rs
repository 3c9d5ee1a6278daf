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

/// Builds receivers of one type.
///
/// Override the create function of every signal the receiver handles and report its
/// [`Stability`] for that signal; the others answer "signal not supported". A receiver that
/// serves several signals from one server (like OTLP) shares it between the per-signal
/// instances with [`CreateSettings::shared`].
pub trait ReceiverFactory: Send + Sync + 'static {
    /// The receiver's configuration.
    type Config: ComponentConfig;

    /// The type name used in configuration (`otlp`).
    fn component_type(&self) -> &'static str;

    /// Other names accepted for the type (deprecated spellings).
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }

    /// Maturity per signal; [`Stability::Undefined`] for signals not handled.
    fn stability(&self, signal: Signal) -> Stability;

    /// Creates the traces receiver, pushing to `next`.
    fn create_traces(
        &self,
        settings: &CreateSettings,
        config: &Self::Config,
        next: Next<Traces>,
    ) -> Result<Arc<dyn Receiver>, CreateError> {
        let _ = (settings, config, next);
        Err(CreateError::SignalNotSupported)
    }

    /// Creates the metrics receiver, pushing to `next`.
    fn create_metrics(
        &self,
        settings: &CreateSettings,
        config: &Self::Config,
        next: Next<Metrics>,
    ) -> Result<Arc<dyn Receiver>, CreateError> {
        let _ = (settings, config, next);
        Err(CreateError::SignalNotSupported)
    }

    /// Creates the logs receiver, pushing to `next`.
    fn create_logs(
        &self,
        settings: &CreateSettings,
        config: &Self::Config,
        next: Next<Logs>,
    ) -> Result<Arc<dyn Receiver>, CreateError> {
        let _ = (settings, config, next);
        Err(CreateError::SignalNotSupported)
    }
}

/// Builds processors of one type. One instance is created per pipeline that lists it.
pub trait ProcessorFactory: Send + Sync + 'static {
    /// The processor's configuration.
    type Config: ComponentConfig;

    /// The type name used in configuration (`batch`).
    fn component_type(&self) -> &'static str;

    /// Other names accepted for the type.
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }

    /// Maturity per signal; [`Stability::Undefined`] for signals not handled.
    fn stability(&self, signal: Signal) -> Stability;

    /// Creates the traces processor, pushing to `next`.
    fn create_traces(
        &self,
        settings: &CreateSettings,
        config: &Self::Config,
        next: Next<Traces>,
    ) -> Result<Arc<dyn Processor<Traces>>, CreateError> {
        let _ = (settings, config, next);
        Err(CreateError::SignalNotSupported)
    }

    /// Creates the metrics processor, pushing to `next`.
    fn create_metrics(
        &self,
        settings: &CreateSettings,
        config: &Self::Config,
        next: Next<Metrics>,
    ) -> Result<Arc<dyn Processor<Metrics>>, CreateError> {
        let _ = (settings, config, next);
        Err(CreateError::SignalNotSupported)
    }

    /// Creates the logs processor, pushing to `next`.
    fn create_logs(
        &self,
        settings: &CreateSettings,
        config: &Self::Config,
        next: Next<Logs>,
    ) -> Result<Arc<dyn Processor<Logs>>, CreateError> {
        let _ = (settings, config, next);
        Err(CreateError::SignalNotSupported)
    }
}

/// Builds exporters of one type. One instance is created per (signal, exporter ID) and
/// shared by every pipeline of that signal that lists it.
pub trait ExporterFactory: Send + Sync + 'static {
    /// The exporter's configuration.
    type Config: ComponentConfig;

    /// The type name used in configuration (`otlp`).
    fn component_type(&self) -> &'static str;

    /// Other names accepted for the type (`otlphttp` for `otlp_http`).
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }

    /// Maturity per signal; [`Stability::Undefined`] for signals not handled.
    fn stability(&self, signal: Signal) -> Stability;

    /// Creates the traces exporter.
    fn create_traces(
        &self,
        settings: &CreateSettings,
        config: &Self::Config,
    ) -> Result<Arc<dyn Exporter<Traces>>, CreateError> {
        let _ = (settings, config);
        Err(CreateError::SignalNotSupported)
    }

    /// Creates the metrics exporter.
    fn create_metrics(
        &self,
        settings: &CreateSettings,
        config: &Self::Config,
    ) -> Result<Arc<dyn Exporter<Metrics>>, CreateError> {
        let _ = (settings, config);
        Err(CreateError::SignalNotSupported)
    }

    /// Creates the logs exporter.
    fn create_logs(
        &self,
        settings: &CreateSettings,
        config: &Self::Config,
    ) -> Result<Arc<dyn Exporter<Logs>>, CreateError> {
        let _ = (settings, config);
        Err(CreateError::SignalNotSupported)
    }
}

/// Builds extensions of one type.
pub trait ExtensionFactory: Send + Sync + 'static {
    /// The extension's configuration.
    type Config: ComponentConfig;

    /// The type name used in configuration (`health_check`).
    fn component_type(&self) -> &'static str;

    /// Other names accepted for the type.
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }

    /// Maturity.
    fn stability(&self) -> Stability;

    /// Creates the extension.
    fn create(
        &self,
        settings: &CreateSettings,
        config: &Self::Config,
    ) -> Result<Arc<dyn Extension>, CreateError>;
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

impl AnyNext {
    pub(crate) fn signal(&self) -> Signal {
        match self {
            AnyNext::Traces(_) => Signal::Traces,
            AnyNext::Metrics(_) => Signal::Metrics,
            AnyNext::Logs(_) => Signal::Logs,
        }
    }
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
    fn aliases(&self) -> &'static [&'static str];
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
    fn aliases(&self) -> &'static [&'static str];
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
    fn aliases(&self) -> &'static [&'static str];
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
    fn aliases(&self) -> &'static [&'static str];
    fn stability(&self) -> Stability;
    fn decode_config(&self, raw: &Value) -> Result<AnyConfig, ConfigError>;
    fn secret_paths(&self, raw: &Value) -> Option<SecretPaths>;
    fn create(
        &self,
        settings: &CreateSettings,
        config: &AnyConfig,
    ) -> Result<Arc<dyn Extension>, CreateError>;
}

struct Erased<F>(F);

impl<F: ReceiverFactory> AnyReceiverFactory for Erased<F> {
    fn component_type(&self) -> &'static str {
        self.0.component_type()
    }
    fn aliases(&self) -> &'static [&'static str] {
        self.0.aliases()
    }
    fn stability(&self, signal: Signal) -> Stability {
        self.0.stability(signal)
    }
    fn decode_config(&self, raw: &Value) -> Result<AnyConfig, ConfigError> {
        decode::<F::Config>(raw)
    }
    fn secret_paths(&self, raw: &Value) -> Option<SecretPaths> {
        secret_paths::<F::Config>(raw)
    }
    fn create(
        &self,
        settings: &CreateSettings,
        config: &AnyConfig,
        next: AnyNext,
    ) -> Result<Arc<dyn Receiver>, CreateError> {
        if !self.0.stability(next.signal()).is_supported() {
            return Err(CreateError::SignalNotSupported);
        }
        let config = typed::<F::Config>(config)?;
        match next {
            AnyNext::Traces(next) => self.0.create_traces(settings, config, next),
            AnyNext::Metrics(next) => self.0.create_metrics(settings, config, next),
            AnyNext::Logs(next) => self.0.create_logs(settings, config, next),
        }
    }
}

impl<F: ProcessorFactory> AnyProcessorFactory for Erased<F> {
    fn component_type(&self) -> &'static str {
        self.0.component_type()
    }
    fn aliases(&self) -> &'static [&'static str] {
        self.0.aliases()
    }
    fn stability(&self, signal: Signal) -> Stability {
        self.0.stability(signal)
    }
    fn decode_config(&self, raw: &Value) -> Result<AnyConfig, ConfigError> {
        decode::<F::Config>(raw)
    }
    fn secret_paths(&self, raw: &Value) -> Option<SecretPaths> {
        secret_paths::<F::Config>(raw)
    }
    fn create(
        &self,
        settings: &CreateSettings,
        config: &AnyConfig,
        next: AnyNext,
    ) -> Result<Built, CreateError> {
        if !self.0.stability(next.signal()).is_supported() {
            return Err(CreateError::SignalNotSupported);
        }
        let config = typed::<F::Config>(config)?;
        Ok(match next {
            AnyNext::Traces(next) => built(
                self.0.create_traces(settings, config, next)?,
                AnyNext::Traces,
            ),
            AnyNext::Metrics(next) => built(
                self.0.create_metrics(settings, config, next)?,
                AnyNext::Metrics,
            ),
            AnyNext::Logs(next) => {
                built(self.0.create_logs(settings, config, next)?, AnyNext::Logs)
            }
        })
    }
}

impl<F: ExporterFactory> AnyExporterFactory for Erased<F> {
    fn component_type(&self) -> &'static str {
        self.0.component_type()
    }
    fn aliases(&self) -> &'static [&'static str] {
        self.0.aliases()
    }
    fn stability(&self, signal: Signal) -> Stability {
        self.0.stability(signal)
    }
    fn decode_config(&self, raw: &Value) -> Result<AnyConfig, ConfigError> {
        decode::<F::Config>(raw)
    }
    fn secret_paths(&self, raw: &Value) -> Option<SecretPaths> {
        secret_paths::<F::Config>(raw)
    }
    fn create(
        &self,
        settings: &CreateSettings,
        config: &AnyConfig,
        signal: Signal,
    ) -> Result<Built, CreateError> {
        if !self.0.stability(signal).is_supported() {
            return Err(CreateError::SignalNotSupported);
        }
        let config = typed::<F::Config>(config)?;
        Ok(match signal {
            Signal::Traces => {
                built_exporter(self.0.create_traces(settings, config)?, AnyNext::Traces)
            }
            Signal::Metrics => {
                built_exporter(self.0.create_metrics(settings, config)?, AnyNext::Metrics)
            }
            Signal::Logs => built_exporter(self.0.create_logs(settings, config)?, AnyNext::Logs),
        })
    }
}

impl<F: ExtensionFactory> AnyExtensionFactory for Erased<F> {
    fn component_type(&self) -> &'static str {
        self.0.component_type()
    }
    fn aliases(&self) -> &'static [&'static str] {
        self.0.aliases()
    }
    fn stability(&self) -> Stability {
        self.0.stability()
    }
    fn decode_config(&self, raw: &Value) -> Result<AnyConfig, ConfigError> {
        decode::<F::Config>(raw)
    }
    fn secret_paths(&self, raw: &Value) -> Option<SecretPaths> {
        secret_paths::<F::Config>(raw)
    }
    fn create(
        &self,
        settings: &CreateSettings,
        config: &AnyConfig,
    ) -> Result<Arc<dyn Extension>, CreateError> {
        self.0.create(settings, typed::<F::Config>(config)?)
    }
}

pub(crate) fn erase_receiver<F: ReceiverFactory>(factory: F) -> Arc<dyn AnyReceiverFactory> {
    Arc::new(Erased(factory))
}

pub(crate) fn erase_processor<F: ProcessorFactory>(factory: F) -> Arc<dyn AnyProcessorFactory> {
    Arc::new(Erased(factory))
}

pub(crate) fn erase_exporter<F: ExporterFactory>(factory: F) -> Arc<dyn AnyExporterFactory> {
    Arc::new(Erased(factory))
}

pub(crate) fn erase_extension<F: ExtensionFactory>(factory: F) -> Arc<dyn AnyExtensionFactory> {
    Arc::new(Erased(factory))
}
