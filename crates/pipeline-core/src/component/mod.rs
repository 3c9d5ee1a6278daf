//! Components: receivers, processors, exporters, connectors and extensions, their factories and IDs.
//!
//! A component is built by a factory from its typed configuration, started with a [`Host`]
//! and shut down when the pipeline stops or its configuration changes. See the crate-level
//! guide for a complete example of writing one.

mod config;
mod connector;
mod endpoint;
mod factory;
mod host;
mod id;
mod progress;
mod settings;
mod status;
mod storage;
mod thread;

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::consumer::Consumer;
use crate::pdata::SignalData;

pub(crate) use config::secret_paths;
pub use config::{ComponentConfig, ConfigError, decode_config, load_config};
pub(crate) use connector::{AnyConnectorFactory, AnyRouter};
pub use connector::{Connector, ConnectorFactory, Router, UnknownPipeline};
pub use endpoint::{check_endpoint, parse_endpoint, resolve_endpoint};
pub(crate) use factory::{
    AnyConfig, AnyExporterFactory, AnyExtensionFactory, AnyNext, AnyProcessorFactory,
    AnyReceiverFactory,
};
pub use factory::{
    CreateError, ExporterFactory, ExtensionFactory, ProcessorFactory, ReceiverFactory,
};
pub use host::{ExtensionCapabilities, Host};
pub use id::{ComponentId, ComponentType, IdError, PipelineId};
pub use progress::{InFlight, Progress, ProgressTracker};
pub use settings::{BuildInfo, CreateSettings, SharedListener, SharedUdpSocket};
pub(crate) use settings::{CollectorFacilities, panic_message};
pub use status::{
    ComponentProgress, ComponentStatus, StatusEntry, StatusRegistry, StatusReporter, StatusSource,
};
pub use storage::{KeyValueStorage, StorageClient};
pub use thread::{DedicatedThread, ThreadJoinError};
/// An error and its causes as one line, for the messages a component logs or returns.
pub use tributary_confmap::error_chain;
/// Config building blocks for secrets: values that no log, error or printed configuration
/// shows (see [`ComponentConfig`]).
pub use tributary_confmap::{REDACTED, SecretString, SecretUrl, redact_userinfo};

/// The five kinds of component.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Brings data in.
    Receiver,
    /// Transforms data inside a pipeline.
    Processor,
    /// Sends data out.
    Exporter,
    /// Joins pipelines: the exporter of some, the receiver of others.
    Connector,
    /// Runs beside the pipelines (storage, health checks).
    Extension,
}

impl Kind {
    /// Every kind, in configuration order.
    pub const ALL: [Kind; 5] = [
        Kind::Receiver,
        Kind::Processor,
        Kind::Exporter,
        Kind::Connector,
        Kind::Extension,
    ];

    /// The singular name: `receiver`, `processor`, `exporter`, `connector`, `extension`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Receiver => "receiver",
            Kind::Processor => "processor",
            Kind::Exporter => "exporter",
            Kind::Connector => "connector",
            Kind::Extension => "extension",
        }
    }

    /// The top-level configuration section: `receivers`, `processors`, `exporters`,
    /// `connectors`, `extensions`.
    pub fn section(self) -> &'static str {
        match self {
            Kind::Receiver => "receivers",
            Kind::Processor => "processors",
            Kind::Exporter => "exporters",
            Kind::Connector => "connectors",
            Kind::Extension => "extensions",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How mature a component is for a signal, as the Go Collector grades it.
/// [`Undefined`](Stability::Undefined) means the signal is not supported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stability {
    /// Not supported.
    Undefined,
    /// No longer maintained.
    Unmaintained,
    /// Will be removed.
    Deprecated,
    /// Not ready for use.
    Development,
    /// Usable; configuration may change.
    Alpha,
    /// Configuration is stable.
    Beta,
    /// Production ready.
    Stable,
}

impl Stability {
    /// Whether the signal is supported at all.
    pub fn is_supported(self) -> bool {
        self != Stability::Undefined
    }
}

impl fmt::Display for Stability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stability::Undefined => "undefined",
            Stability::Unmaintained => "unmaintained",
            Stability::Deprecated => "deprecated",
            Stability::Development => "development",
            Stability::Alpha => "alpha",
            Stability::Beta => "beta",
            Stability::Stable => "stable",
        })
    }
}

/// Why a component failed to start or to shut down cleanly.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ComponentError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl ComponentError {
    /// An error with a message.
    pub fn new(message: impl Into<String>) -> Self {
        ComponentError {
            message: message.into(),
            source: None,
        }
    }

    /// An error caused by `source`, described by `message`.
    pub fn with_source(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        let message = format!("{}: {source}", message.into());
        ComponentError {
            message,
            source: Some(Box::new(source)),
        }
    }
}

/// The lifecycle every component has.
///
/// `start` is called once before any data flows to the component, `shutdown` once when it
/// is removed; both take `&self`, so a component keeps its running state (server handles,
/// tasks) behind interior mutability. `shutdown` must flush what the component holds to
/// its next consumer before returning, and must be safe to call without `start`.
#[async_trait]
pub trait Component: Send + Sync + 'static {
    /// Starts the component: binds sockets, spawns tasks. An error aborts the collector's
    /// start (or leaves a configuration reload unapplied).
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        let _ = host;
        Ok(())
    }

    /// Stops the component after flushing what it holds.
    async fn shutdown(&self) -> Result<(), ComponentError> {
        Ok(())
    }
}

/// A component that brings data in and pushes it to the [`Next`](crate::consumer::Next)
/// consumer it was created with.
pub trait Receiver: Component {}
impl<C: Component + ?Sized> Receiver for C {}

/// A component inside a pipeline: consumes data and pushes results to its next consumer.
pub trait Processor<T: SignalData>: Component + Consumer<T> {}
impl<T: SignalData, C: Component + Consumer<T> + ?Sized> Processor<T> for C {}

/// A component at the end of a pipeline: consumes data and sends it out.
/// Usually built with the [exporter helper](crate::exporterhelper), which adds the sending
/// queue, retries and timeouts.
pub trait Exporter<T: SignalData>: Component + Consumer<T> {}
impl<T: SignalData, C: Component + Consumer<T> + ?Sized> Exporter<T> for C {}

/// A component beside the pipelines that other components find through the [`Host`]
/// (storage for persistent queues, health checks).
///
/// Besides its lifecycle, an extension may offer capabilities to other components, each
/// as the trait they use it through: storage offers `dyn QueueStorage`, which exporters
/// whose `sending_queue::storage` names the extension find with [`Host::capability`].
pub trait Extension: Component + AsAny {
    /// Offers what this extension can do for other components; offers nothing by default.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tributary_pipeline_core::component::{Component, Extension, ExtensionCapabilities};
    ///
    /// trait Authenticator: Send + Sync {
    ///     fn authenticate(&self, token: &str) -> bool;
    /// }
    ///
    /// struct StaticToken(String);
    /// impl Authenticator for StaticToken {
    ///     fn authenticate(&self, token: &str) -> bool {
    ///         token == self.0
    ///     }
    /// }
    /// impl Component for StaticToken {}
    /// impl Extension for StaticToken {
    ///     fn capabilities(self: Arc<Self>, offers: &mut ExtensionCapabilities) {
    ///         offers.offer::<dyn Authenticator>(self);
    ///     }
    /// }
    /// ```
    fn capabilities(self: Arc<Self>, offers: &mut ExtensionCapabilities) {
        let _ = offers;
    }
}

/// Access to the concrete type behind a `dyn Extension`, so a component can find the
/// extension it needs through [`Host::extension_as`]. Implemented for every type.
pub trait AsAny: Any + Send + Sync {
    /// The value as `&dyn Any`.
    fn as_any(&self) -> &dyn Any;
    /// The shared value as `Arc<dyn Any>`.
    fn into_any_arc(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

impl<T: Any + Send + Sync> AsAny for T {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn into_any_arc(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}
