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
//! | [`routing`] | traces → traces, metrics → metrics, logs → logs | sends each resource, record or request to the pipelines whose condition it matches |
//! | [`failover`] | traces → traces, metrics → metrics, logs → logs | sends to the first healthy priority level of pipelines, going back up when a higher one recovers |
//! | [`count`] | traces, metrics, logs → metrics | counts spans, span events, metrics, data points, log records |
//! | [`spanmetrics`] | traces → metrics | request, error and duration (R.E.D.) metrics from spans |
//!
//! Each module offers `factory()`, to register on a collector's builder (or on
//! [`Factories`]), and its `Config`.
//!
//! [`ConnectorFactory`]: tributary_pipeline_core::component::ConnectorFactory

#[cfg(feature = "count")]
pub mod count;
#[cfg(feature = "failover")]
pub mod failover;
#[cfg(feature = "forward")]
pub mod forward;
#[cfg(feature = "routing")]
pub mod routing;
#[cfg(feature = "spanmetrics")]
pub mod spanmetrics;

use tributary_pipeline_core::graph::Factories;

/// Every connector enabled in this build.
pub fn factories() -> Factories {
    #[allow(unused_mut)]
    let mut factories = Factories::new();
    #[cfg(feature = "forward")]
    factories.add_connector(forward::factory());
    #[cfg(feature = "routing")]
    factories.add_connector(routing::factory());
    #[cfg(feature = "failover")]
    factories.add_connector(failover::factory());
    #[cfg(feature = "count")]
    factories.add_connector(count::factory());
    #[cfg(feature = "spanmetrics")]
    factories.add_connector(spanmetrics::factory());
    factories
}
