#![warn(missing_docs)]
//! Tributary's built-in connectors, one module per connector, each behind a cargo feature
//! of the same name (all on by default).
//!
//! A connector joins pipelines: it is listed among the exporters of one pipeline and the
//! receivers of others (see the [`ConnectorFactory`] guide in pipeline-core).
//!
//! | connector | signals | what it does |
//! |---|---|---|
//! | [`forward`] | traces → traces, metrics → metrics, logs → logs | passes data on to every pipeline it feeds |
//!
//! Each module offers `factory()`, to register on a collector's builder (or on
//! [`Factories`]), and its `Config`.
//!
//! [`ConnectorFactory`]: tributary_pipeline_core::component::ConnectorFactory

#[cfg(feature = "forward")]
pub mod forward;

use tributary_pipeline_core::graph::Factories;

/// Every connector enabled in this build.
pub fn factories() -> Factories {
    #[allow(unused_mut)]
    let mut factories = Factories::new();
    #[cfg(feature = "forward")]
    factories.add_connector(forward::factory());
    factories
}
