//! Retiring a graph: shutting down, upstream first, what a successor did not take over
//! (or everything, at shutdown), so data drains downstream.

use std::sync::Arc;

use super::connections::Step;
use super::signal_graph::{GraphSignal, SignalGraph};
use super::{Graph, Lifecycle, PIPELINE_DRAIN_TIMEOUT};
use crate::component::{Component, ComponentId, ComponentStatus, Kind, PipelineId, StatusSource};
use crate::pdata::Signal;

impl Graph {
    /// Shuts down everything, receivers first so data drains downstream.
    pub async fn shutdown(self) {
        self.retire(None).await;
    }

    /// Shuts down every part of this graph that `successor` did not take over: receivers
    /// first, then pipelines and connectors upstream first (each pipeline after the calls
    /// inside it finished, processors front to back so each flushes into the next), then
    /// exporters, then extensions.
    pub async fn retire(self, successor: Option<&Graph>) {
        let kept =
            |kind: Kind, id: &ComponentId| successor.is_some_and(|s| s.has_component(kind, id));

        // Receivers.
        let mut receivers: Vec<Lifecycle> = Vec::new();
        collect_retired_receivers(&self.traces, successor.map(|s| &s.traces), &mut receivers);
        collect_retired_receivers(&self.metrics, successor.map(|s| &s.metrics), &mut receivers);
        collect_retired_receivers(&self.logs, successor.map(|s| &s.logs), &mut receivers);
        self.stop_all(&receivers, &kept).await;

        // Pipelines and connectors, upstream first: each pipeline drains into what it
        // feeds before that shuts down.
        for step in self.order.iter().rev() {
            match step {
                Step::Pipeline(id) => {
                    let mut processors = Vec::new();
                    match id.signal() {
                        Signal::Traces => {
                            retire_pipeline(
                                &self.traces,
                                successor.map(|s| &s.traces),
                                id,
                                &mut processors,
                            )
                            .await
                        }
                        Signal::Metrics => {
                            retire_pipeline(
                                &self.metrics,
                                successor.map(|s| &s.metrics),
                                id,
                                &mut processors,
                            )
                            .await
                        }
                        Signal::Logs => {
                            retire_pipeline(
                                &self.logs,
                                successor.map(|s| &s.logs),
                                id,
                                &mut processors,
                            )
                            .await
                        }
                    }
                    self.stop_all(&processors, &kept).await;
                }
                Step::Connector(instance) => {
                    let Some(node) = self.connectors.get(instance) else {
                        continue;
                    };
                    let taken_over = successor
                        .and_then(|s| s.connectors.get(instance))
                        .is_some_and(|n| Arc::ptr_eq(&n.lifecycle, &node.lifecycle));
                    if !taken_over {
                        let item = Lifecycle {
                            kind: Kind::Connector,
                            id: instance.id.clone(),
                            component: Arc::clone(&node.lifecycle),
                        };
                        self.stop_all(&[item], &kept).await;
                    }
                }
            }
        }
        for pipeline in self.pipeline_ids() {
            if !successor.is_some_and(|s| s.pipeline_ids().contains(&pipeline)) {
                self.facilities
                    .status
                    .remove(&StatusSource::Pipeline(pipeline));
            }
        }

        // Exporters.
        let mut exporters = Vec::new();
        collect_retired_exporters(&self.traces, successor.map(|s| &s.traces), &mut exporters);
        collect_retired_exporters(&self.metrics, successor.map(|s| &s.metrics), &mut exporters);
        collect_retired_exporters(&self.logs, successor.map(|s| &s.logs), &mut exporters);
        self.stop_all(&exporters, &kept).await;

        // Extensions, in reverse start order.
        let extensions: Vec<Lifecycle> = self
            .extensions
            .iter()
            .rev()
            .filter(|(id, node)| {
                !successor.is_some_and(|s| {
                    s.extensions.iter().any(|(sid, snode)| {
                        sid == id && Arc::ptr_eq(&snode.component, &node.component)
                    })
                })
            })
            .map(|(id, node)| {
                let component: Arc<dyn Component> = node.component.clone();
                Lifecycle {
                    kind: Kind::Extension,
                    id: id.clone(),
                    component,
                }
            })
            .collect();
        self.stop_all(&extensions, &kept).await;
    }

    /// Shuts components down in order, reporting status for those whose ID disappears.
    async fn stop_all(
        &self,
        items: &[Lifecycle],
        kept: &(dyn Fn(Kind, &ComponentId) -> bool + Sync),
    ) {
        for item in items {
            let report = !kept(item.kind, &item.id);
            let status = self.facilities.status.reporter(item.kind, &item.id);
            if report {
                status.report(ComponentStatus::Stopping);
            }
            if let Err(error) = item.component.shutdown().await {
                tracing::warn!(kind = %item.kind, id = %item.id, %error, "component shutdown failed");
            }
            if report {
                self.facilities
                    .status
                    .remove(&StatusSource::Component(item.kind, item.id.clone()));
            }
        }
    }
}

fn collect_retired_receivers<T: GraphSignal>(
    old: &SignalGraph<T>,
    new: Option<&SignalGraph<T>>,
    out: &mut Vec<Lifecycle>,
) {
    for (id, r) in &old.receivers {
        let taken_over = new
            .and_then(|n| n.receivers.get(id))
            .is_some_and(|n| Arc::ptr_eq(&n.node.component.lifecycle, &r.node.component.lifecycle));
        if !taken_over {
            let component: Arc<dyn Component> = r.node.component.lifecycle.clone();
            out.push(Lifecycle {
                kind: Kind::Receiver,
                id: id.clone(),
                component,
            });
        }
    }
}

fn collect_retired_exporters<T: GraphSignal>(
    old: &SignalGraph<T>,
    new: Option<&SignalGraph<T>>,
    out: &mut Vec<Lifecycle>,
) {
    for (id, e) in &old.exporters {
        let taken_over = new
            .and_then(|n| n.exporters.get(id))
            .is_some_and(|n| Arc::ptr_eq(&n.component.lifecycle, &e.component.lifecycle));
        if !taken_over {
            out.push(Lifecycle {
                kind: Kind::Exporter,
                id: id.clone(),
                component: e.component.lifecycle.clone(),
            });
        }
    }
}

/// Closes pipeline `id` of `old` unless `new` took it over (late calls go to the pipeline
/// of the same ID in `new`, if any), waits for the calls inside, and lists its processors
/// front to back for shutdown.
async fn retire_pipeline<T: GraphSignal>(
    old: &SignalGraph<T>,
    new: Option<&SignalGraph<T>>,
    id: &PipelineId,
    out: &mut Vec<Lifecycle>,
) {
    let Some((node, _)) = old.pipelines.get(id) else {
        return;
    };
    let replacement = new.and_then(|n| n.pipelines.get(id));
    if replacement.is_some_and(|(r, _)| Arc::ptr_eq(r, node)) {
        return;
    }
    let successor = replacement.map(|(r, _)| Arc::clone(&r.entry) as crate::consumer::Next<T>);
    if !node.entry.close(successor, PIPELINE_DRAIN_TIMEOUT).await {
        tracing::warn!(pipeline = %id, "calls still in flight after {PIPELINE_DRAIN_TIMEOUT:?}; shutting the pipeline down anyway");
    }
    for p in &node.processors {
        out.push(Lifecycle {
            kind: Kind::Processor,
            id: p.id.clone(),
            component: p.lifecycle.clone(),
        });
    }
}
