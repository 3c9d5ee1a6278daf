//! What a component crate needs, in one import: `use tributary_pipeline_core::prelude::*;`
//! (or `tributary::prelude::*`).
//!
//! It brings the component and factory types, the consumer contract, the helpers
//! ([`processorhelper`], [`receiverhelper`], [`exporterhelper`]), the signal types with
//! their attribute, visitor and builder traits, and the crates every component uses
//! through the framework's own versions: [`async_trait`](macro@async_trait), [`tracing`] and the
//! [`CancellationToken`].

pub use async_trait::async_trait;
pub use tokio_util::sync::CancellationToken;
pub use tracing;

pub use crate::component::{
    Component, ComponentConfig, ComponentError, ConfigError, Connector, ConnectorFactory,
    CreateError, CreateSettings, Exporter, ExporterFactory, Extension, ExtensionFactory, Host,
    Processor, ProcessorFactory, Receiver, ReceiverFactory, Router, SecretString, SecretUrl,
    Stability, parse_endpoint,
};
pub use crate::consumer::{ConsumeError, Consumer, Next};
pub use crate::exporterhelper::{self, Export, ExporterHelperConfig};
pub use crate::pdata::attributes::{
    AnyValueExt, Attributes, AttributesMut, IntoAnyValue, any_value, key_value,
};
pub use crate::pdata::builder::{LogsBuilder, MetricsBuilder, TracesBuilder, now_unix_nano};
pub use crate::pdata::otlp_json::JsonData;
pub use crate::pdata::visit::HasAttributes;
pub use crate::pdata::visit::layout::Items;
pub use crate::pdata::{Logs, Metrics, Payload, Signal, SignalData, Traces};
pub use crate::processorhelper;
pub use crate::receiverhelper::{self, ReceiverTasks, TcpServerConfig};
pub use crate::telemetry::ReceiverMetrics;
