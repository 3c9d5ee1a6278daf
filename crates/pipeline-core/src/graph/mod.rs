//! The pipeline graph: components built from `service::pipelines` and wired together.
//!
//! For each signal: one exporter instance per exporter ID, shared by the pipelines that list
//! it; processors per pipeline, built back to front; one receiver instance per receiver ID,
//! feeding (through a [`Fanout`](crate::consumer::Fanout)) every pipeline that lists it.
//! Connectors join pipelines across signals: one instance per (connector ID, from-signal,
//! to-signal), an exporter of the pipelines that list it among their exporters and fed the
//! entries of those that list it among their receivers; pipelines and connectors are
//! built, and started, each after everything it feeds (a cycle is refused, named).
//! Extensions start first and stop last; within the pipelines, exporters start first and
//! receivers last, and shutdown runs the other way so everything drains downstream.
//!
//! A graph can be built *from a previous one*: every component whose configuration did not
//! change is taken over (an exporter keeps its queue and its contents, a receiver keeps its
//! sockets, and only its output is re-pointed; a connector is kept when its pipelines
//! downstream were), the rest is created new. The new graph is
//! started before anything of the old one stops, and only then are the old graph's
//! replaced parts retired. That is the service's transactional reload.

mod connections;
mod connector_node;
mod counting;
mod entry;
mod factories;
mod plan;
mod retire;
mod signal_graph;

#[cfg(test)]
mod connector_tests;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

pub use factories::{Factories, FactoryInfo};
pub(crate) use plan::Plan;
#[doc(hidden)]
pub use plan::check_conf;

use crate::component::{
    CollectorFacilities, Component, ComponentError, ComponentId, ComponentStatus, ConfigError,
    Extension, Host, Kind, PipelineId, StatusEntry, StatusSource,
};
use crate::config::{ConfigErrors, PipelineConfig};
use crate::health::PipelineProbe;
use crate::pdata::{Logs, Metrics, Signal, SignalData, Traces};
use connections::{ConnectorInstance, Step};
use connector_node::ConnectorNode;
use signal_graph::{BuildContext, Node, SignalGraph};

/// How long retiring a pipeline waits for the calls already inside it.
const PIPELINE_DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// A component failed to start.
#[derive(Debug, thiserror::Error)]
#[error("failed to start {kind} {id}: {error}")]
pub struct StartError {
    /// The component's kind.
    pub kind: Kind,
    /// The component's ID.
    pub id: ComponentId,
    /// What it said.
    #[source]
    pub error: ComponentError,
}

/// A built pipeline graph.
pub(crate) struct Graph {
    extensions: Vec<(ComponentId, Node<Arc<dyn Extension>>)>,
    traces: SignalGraph<Traces>,
    metrics: SignalGraph<Metrics>,
    logs: SignalGraph<Logs>,
    /// Every connector instance.
    connectors: BTreeMap<ConnectorInstance, ConnectorNode>,
    /// Pipelines and connector instances, each after everything it feeds.
    order: Vec<Step>,
    /// Each pipeline's components as configured, for the service's health.
    pipeline_components: BTreeMap<PipelineId, PipelineConfig>,
    host: Host,
    facilities: CollectorFacilities,
}

/// One component started or shut down by the graph, for ordering and status.
struct Lifecycle {
    kind: Kind,
    id: ComponentId,
    component: Arc<dyn Component>,
}

impl Graph {
    /// Builds the graph `plan` describes, taking over unchanged components from `previous`.
    /// Nothing runs yet, and `previous` is not touched.
    pub fn build(
        plan: &Plan,
        factories: &Factories,
        facilities: &CollectorFacilities,
        previous: Option<&Graph>,
    ) -> Result<Graph, ConfigErrors> {
        let facilities = &facilities.next_generation();
        let mut errors = Vec::new();
        let mut extensions = Vec::new();
        let mut changed_extensions = BTreeSet::new();
        for id in &plan.config.service.extensions {
            let Some(raw) = plan.config.component(Kind::Extension, id) else {
                continue;
            };
            let old = previous.and_then(|p| p.extensions.iter().find(|(old_id, _)| old_id == id));
            if let Some((_, old)) = old
                && old.raw == *raw
            {
                extensions.push((id.clone(), old.reused()));
                continue;
            }
            if old.is_some() {
                changed_extensions.insert(id.clone());
            }
            let (Some(factory), Some(config)) = (
                factories.extension(id.component_type().as_str()),
                plan.decoded.get(&(Kind::Extension, id.clone())),
            ) else {
                continue;
            };
            let settings = facilities.settings(Kind::Extension, id, None, None, Arc::clone(raw));
            match factory.create(&settings, config) {
                Ok(extension) => extensions.push((
                    id.clone(),
                    Node {
                        raw: Arc::clone(raw),
                        component: extension,
                        fresh: true,
                    },
                )),
                Err(e) => errors.push(ConfigError::at(
                    format!("extensions::{id}"),
                    format!("cannot create the extension: {e}"),
                )),
            }
        }

        let mut cx = BuildContext {
            plan,
            factories,
            facilities,
            changed_extensions: &changed_extensions,
            errors,
        };
        let mut traces = SignalGraph::default();
        let mut metrics = SignalGraph::default();
        let mut logs = SignalGraph::default();
        traces.build_exporters(&mut cx, previous.map(|p| &p.traces));
        metrics.build_exporters(&mut cx, previous.map(|p| &p.metrics));
        logs.build_exporters(&mut cx, previous.map(|p| &p.logs));

        // Pipelines and connectors across signals, each after what it feeds: a connector
        // needs the entries of its downstream pipelines, a pipeline its connectors.
        let mut connectors = BTreeMap::new();
        for step in &plan.connections.order {
            match step {
                Step::Pipeline(id) => match id.signal() {
                    Signal::Traces => {
                        traces.build_pipeline(&mut cx, id, previous.map(|p| &p.traces), &connectors)
                    }
                    Signal::Metrics => metrics.build_pipeline(
                        &mut cx,
                        id,
                        previous.map(|p| &p.metrics),
                        &connectors,
                    ),
                    Signal::Logs => {
                        logs.build_pipeline(&mut cx, id, previous.map(|p| &p.logs), &connectors)
                    }
                },
                Step::Connector(instance) => {
                    let Some(downstream) = plan.connections.downstream.get(instance) else {
                        continue;
                    };
                    let old = previous.and_then(|p| p.connectors.get(instance));
                    let built =
                        connector_node::build(&mut cx, instance, downstream, old, |counters| {
                            match instance.to {
                                Signal::Traces => {
                                    connector_node::router(&traces, downstream, counters)
                                }
                                Signal::Metrics => {
                                    connector_node::router(&metrics, downstream, counters)
                                }
                                Signal::Logs => connector_node::router(&logs, downstream, counters),
                            }
                        });
                    if let Some(node) = built {
                        connectors.insert(instance.clone(), node);
                    }
                }
            }
        }

        traces.build_receivers(&mut cx, previous.map(|p| &p.traces));
        metrics.build_receivers(&mut cx, previous.map(|p| &p.metrics));
        logs.build_receivers(&mut cx, previous.map(|p| &p.logs));
        let errors = cx.errors;
        if !errors.is_empty() {
            return Err(plan::scrubbed(errors, &plan.config, factories));
        }
        let host = Host::new(
            extensions
                .iter()
                .map(|(id, node)| (id.clone(), Arc::clone(&node.component))),
        );
        let host = facilities.services.iter().fold(host, |host, service| {
            host.with_any_service(Arc::clone(service))
        });
        Ok(Graph {
            extensions,
            traces,
            metrics,
            logs,
            connectors,
            order: plan.connections.order.clone(),
            pipeline_components: plan.config.service.pipelines.clone(),
            host,
            facilities: facilities.clone(),
        })
    }

    /// Components this build created, in start order: extensions, exporters, then
    /// pipelines (processors back to front) and connectors, each after everything it
    /// feeds, then receivers.
    fn fresh_in_start_order(&self) -> Vec<Lifecycle> {
        let mut out = Vec::new();
        for (id, node) in &self.extensions {
            if node.fresh {
                let component: Arc<dyn Component> = node.component.clone();
                out.push(Lifecycle {
                    kind: Kind::Extension,
                    id: id.clone(),
                    component,
                });
            }
        }
        fn exporters<T: SignalData>(g: &SignalGraph<T>, out: &mut Vec<Lifecycle>) {
            for (id, node) in &g.exporters {
                if node.fresh {
                    out.push(Lifecycle {
                        kind: Kind::Exporter,
                        id: id.clone(),
                        component: node.component.lifecycle.clone(),
                    });
                }
            }
        }
        fn processors<T: SignalData>(
            g: &SignalGraph<T>,
            pipeline: &PipelineId,
            out: &mut Vec<Lifecycle>,
        ) {
            if let Some((node, true)) = g.pipelines.get(pipeline) {
                for p in node.processors.iter().rev() {
                    out.push(Lifecycle {
                        kind: Kind::Processor,
                        id: p.id.clone(),
                        component: p.lifecycle.clone(),
                    });
                }
            }
        }
        fn receivers<T: SignalData>(g: &SignalGraph<T>, out: &mut Vec<Lifecycle>) {
            for (id, r) in &g.receivers {
                if r.node.fresh {
                    let component: Arc<dyn Component> = r.node.component.lifecycle.clone();
                    out.push(Lifecycle {
                        kind: Kind::Receiver,
                        id: id.clone(),
                        component,
                    });
                }
            }
        }
        exporters(&self.traces, &mut out);
        exporters(&self.metrics, &mut out);
        exporters(&self.logs, &mut out);
        // Pipelines and connectors, each after everything it feeds, so nothing pushes
        // into a component that has not started.
        for step in &self.order {
            match step {
                Step::Pipeline(id) => match id.signal() {
                    Signal::Traces => processors(&self.traces, id, &mut out),
                    Signal::Metrics => processors(&self.metrics, id, &mut out),
                    Signal::Logs => processors(&self.logs, id, &mut out),
                },
                Step::Connector(instance) => {
                    if let Some(node) = self.connectors.get(instance)
                        && node.fresh
                    {
                        out.push(Lifecycle {
                            kind: Kind::Connector,
                            id: instance.id.clone(),
                            component: Arc::clone(&node.lifecycle),
                        });
                    }
                }
            }
        }
        receivers(&self.traces, &mut out);
        receivers(&self.metrics, &mut out);
        receivers(&self.logs, &mut out);
        out
    }

    /// Starts every component this build created, in start order. If one fails, those
    /// already started are shut down again (in reverse), the statuses reported under their
    /// names are put back as they were (they describe the running configuration's
    /// components, or nothing), and the error is returned; nothing taken over from a
    /// previous graph is touched either way.
    pub async fn start(&self) -> Result<(), StartError> {
        let fresh = self.fresh_in_start_order();
        let statuses_before: Vec<(StatusSource, Option<StatusEntry>)> = fresh
            .iter()
            .map(|item| {
                let source = StatusSource::Component(item.kind, item.id.clone());
                let entry = self.facilities.status.get(&source);
                (source, entry)
            })
            .collect();
        let mut started: Vec<Lifecycle> = Vec::new();
        for item in fresh {
            let status = self.facilities.status.reporter(item.kind, &item.id);
            status.report(ComponentStatus::Starting);
            match item.component.start(&self.host).await {
                Ok(()) => {
                    status.report(ComponentStatus::Ok);
                    started.push(item);
                }
                Err(error) => {
                    status.report(ComponentStatus::PermanentError(error.to_string()));
                    for done in started.iter().rev() {
                        if let Err(e) = done.component.shutdown().await {
                            tracing::warn!(kind = %done.kind, id = %done.id, error = %e, "shutdown after a failed start failed");
                        }
                    }
                    for (source, entry) in statuses_before {
                        self.facilities.status.restore(&source, entry);
                    }
                    return Err(StartError {
                        kind: item.kind,
                        id: item.id,
                        error,
                    });
                }
            }
        }
        Ok(())
    }

    /// Points every receiver taken over from the previous graph at this graph's pipelines.
    /// Call after [`start`](Self::start) succeeded.
    ///
    /// A pipeline this build created anew forgets the status its predecessor of the same ID
    /// reported (a panic inside it): the replacement has not failed.
    pub fn switch_over(&self) {
        fn switch<T: SignalData>(g: &SignalGraph<T>, facilities: &CollectorFacilities) {
            for (id, (_, fresh)) in &g.pipelines {
                if *fresh {
                    facilities
                        .status
                        .remove(&StatusSource::Pipeline(id.clone()));
                }
            }
            for r in g.receivers.values() {
                if !r.node.fresh {
                    r.node.component.switch.set(r.target.clone());
                }
            }
        }
        switch(&self.traces, &self.facilities);
        switch(&self.metrics, &self.facilities);
        switch(&self.logs, &self.facilities);
    }

    fn has_component(&self, kind: Kind, id: &ComponentId) -> bool {
        fn in_signal<T: SignalData>(g: &SignalGraph<T>, kind: Kind, id: &ComponentId) -> bool {
            match kind {
                Kind::Receiver => g.receivers.contains_key(id),
                Kind::Exporter => g.exporters.contains_key(id),
                Kind::Processor => g
                    .pipelines
                    .values()
                    .any(|(p, _)| p.processors.iter().any(|pr| pr.id == *id)),
                Kind::Extension | Kind::Connector => false,
            }
        }
        match kind {
            Kind::Extension => self.extensions.iter().any(|(eid, _)| eid == id),
            Kind::Connector => self.connectors.keys().any(|c| c.id == *id),
            _ => {
                in_signal(&self.traces, kind, id)
                    || in_signal(&self.metrics, kind, id)
                    || in_signal(&self.logs, kind, id)
            }
        }
    }

    fn pipeline_ids(&self) -> Vec<PipelineId> {
        let mut ids: Vec<PipelineId> = self.traces.pipelines.keys().cloned().collect();
        ids.extend(self.metrics.pipelines.keys().cloned());
        ids.extend(self.logs.pipelines.keys().cloned());
        ids
    }

    /// Every pipeline's components and a reader of its progress, for the service's health.
    pub fn pipeline_probes(&self) -> Vec<PipelineProbe> {
        fn collect<T: SignalData>(
            g: &SignalGraph<T>,
            components: &BTreeMap<PipelineId, PipelineConfig>,
            out: &mut Vec<PipelineProbe>,
        ) {
            for (id, (node, _)) in &g.pipelines {
                let entry = Arc::clone(&node.entry);
                out.push(PipelineProbe {
                    id: id.clone(),
                    components: components.get(id).cloned().unwrap_or_default(),
                    progress: Arc::new(move || entry.progress()),
                });
            }
        }
        let mut out = Vec::new();
        collect(&self.traces, &self.pipeline_components, &mut out);
        collect(&self.metrics, &self.pipeline_components, &mut out);
        collect(&self.logs, &self.pipeline_components, &mut out);
        out
    }

    /// The components this build created (not taken over), in start order.
    #[cfg(test)]
    pub(crate) fn fresh_components(&self) -> Vec<(Kind, String)> {
        self.fresh_in_start_order()
            .into_iter()
            .map(|l| (l.kind, l.id.to_string()))
            .collect()
    }
}
