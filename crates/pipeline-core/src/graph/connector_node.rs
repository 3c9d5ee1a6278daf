//! A connector instance in a running graph: built once per (connector, from-signal,
//! to-signal) over the entries of the pipelines it feeds, and taken over by a reload when
//! neither its configuration nor those pipelines changed.

use std::sync::Arc;

use tributary_confmap::Value;

use super::connections::ConnectorInstance;
use super::counting::counting;
use super::signal_graph::{BuildContext, GraphSignal, SignalGraph};
use crate::component::{AnyNext, AnyRouter, Component, ConfigError, Kind, PipelineId, Router};
use crate::consumer::Next;
use crate::telemetry::{ConnectorMetrics, Counter};

/// A created connector instance.
pub(crate) struct ConnectorNode {
    pub raw: Arc<Value>,
    pub lifecycle: Arc<dyn Component>,
    /// What the upstream pipelines export to (of the from-signal).
    pub consumer: AnyNext,
    /// The pipelines it feeds, sorted.
    pub downstream: Vec<PipelineId>,
    /// Whether this build created it.
    pub fresh: bool,
}

impl ConnectorNode {
    fn reused(&self) -> Self {
        ConnectorNode {
            raw: Arc::clone(&self.raw),
            lifecycle: Arc::clone(&self.lifecycle),
            consumer: self.consumer.clone(),
            downstream: self.downstream.clone(),
            fresh: false,
        }
    }
}

/// `next`, counting every item into `counter`, whatever its signal.
fn counted(next: AnyNext, counter: Counter) -> AnyNext {
    match next {
        AnyNext::Traces(next) => AnyNext::Traces(counting(next, vec![counter])),
        AnyNext::Metrics(next) => AnyNext::Metrics(counting(next, vec![counter])),
        AnyNext::Logs(next) => AnyNext::Logs(counting(next, vec![counter])),
    }
}

/// The router over `pipelines` of `graph` (each entry counting what the connector hands
/// it), and whether all of them were taken over from the previous graph; `None` if one
/// of them failed to build.
pub(crate) fn router<T: GraphSignal>(
    graph: &SignalGraph<T>,
    pipelines: &[PipelineId],
    metrics: &ConnectorMetrics,
) -> Option<(AnyRouter, bool)> {
    let (entries, all_taken_over) = graph.entries(pipelines)?;
    let counted = entries.into_iter().map(|(id, entry)| {
        let produced = metrics.produced(&id);
        (id, counting(entry, vec![produced]) as Next<T>)
    });
    Some((AnyRouter::from_typed(Router::new(counted)), all_taken_over))
}

/// Builds `instance` feeding `downstream`, or takes over `previous` when its configuration
/// and its downstream pipelines are unchanged. `make_router` gives the router over the
/// downstream pipelines' entries (and whether they were all taken over).
pub(crate) fn build(
    cx: &mut BuildContext<'_>,
    instance: &ConnectorInstance,
    downstream: &[PipelineId],
    previous: Option<&ConnectorNode>,
    make_router: impl FnOnce(&ConnectorMetrics) -> Option<(AnyRouter, bool)>,
) -> Option<ConnectorNode> {
    let id = &instance.id;
    let raw = cx.plan.config.component(Kind::Connector, id)?;
    let settings = cx.facilities.settings(
        Kind::Connector,
        id,
        Some(instance.from),
        None,
        Arc::clone(raw),
    );
    let metrics = ConnectorMetrics::new(settings.metrics(), id, instance.from, instance.to);
    let (router, all_taken_over) = make_router(&metrics)?;
    if let Some(old) = previous
        && old.raw == *raw
        && old.downstream == downstream
        && all_taken_over
    {
        return Some(old.reused());
    }
    let (factory, config) = (
        cx.factories.connector(id.component_type().as_str())?,
        cx.plan.decoded.get(&(Kind::Connector, id.clone()))?,
    );
    match factory.create(&settings, config, instance.from, router) {
        Ok(built) => Some(ConnectorNode {
            raw: Arc::clone(raw),
            lifecycle: built.component,
            consumer: counted(built.consumer, metrics.consumed),
            downstream: downstream.to_vec(),
            fresh: true,
        }),
        Err(e) => {
            cx.errors.push(ConfigError::at(
                format!("connectors::{id}"),
                format!(
                    "cannot create the connector ({} to {}): {e}",
                    instance.from, instance.to
                ),
            ));
            None
        }
    }
}
