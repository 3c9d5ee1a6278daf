//! The part of a running graph that carries one signal: its exporters, pipelines and
//! receivers, built generically over the signal.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tributary_confmap::Value;

use super::Factories;
use super::counting::counting;
use super::entry::{PipelineEntry, Switch};
use super::plan::Plan;
use crate::component::{
    AnyNext, CollectorFacilities, Component, ComponentId, ConfigError, CreateError, Kind,
    PipelineId, Receiver,
};
use crate::consumer::{Fanout, Next};
use crate::pdata::{Logs, Metrics, SignalData, Traces};
use crate::telemetry::{Counter, ProcessorMetrics};

/// Conversion between a signal's typed consumer and the signal-erased one factories use.
pub(crate) trait GraphSignal: SignalData {
    fn wrap(next: Next<Self>) -> AnyNext;
    fn unwrap(next: AnyNext) -> Option<Next<Self>>;
}

macro_rules! graph_signal {
    ($ty:ty, $variant:ident) => {
        impl GraphSignal for $ty {
            fn wrap(next: Next<Self>) -> AnyNext {
                AnyNext::$variant(next)
            }
            fn unwrap(next: AnyNext) -> Option<Next<Self>> {
                match next {
                    AnyNext::$variant(next) => Some(next),
                    _ => None,
                }
            }
        }
    };
}
graph_signal!(Traces, Traces);
graph_signal!(Metrics, Metrics);
graph_signal!(Logs, Logs);

/// A created component, with the raw configuration it was created from and whether this
/// build created it (`fresh`) or took it over from the previous graph.
pub(crate) struct Node<C> {
    pub raw: Arc<Value>,
    pub component: C,
    pub fresh: bool,
}

impl<C: Clone> Node<C> {
    pub(crate) fn reused(&self) -> Self {
        Node {
            raw: Arc::clone(&self.raw),
            component: self.component.clone(),
            fresh: false,
        }
    }
}

#[derive(Clone)]
pub(crate) struct ExporterInstance<T: SignalData> {
    pub lifecycle: Arc<dyn Component>,
    pub consumer: Next<T>,
}

pub(crate) struct ProcessorInstance {
    pub id: ComponentId,
    pub raw: Arc<Value>,
    pub lifecycle: Arc<dyn Component>,
}

/// One pipeline: its processors (in order) and its entry.
pub(crate) struct PipelineNode<T: SignalData> {
    pub processors: Vec<ProcessorInstance>,
    pub exporters: Vec<ComponentId>,
    pub entry: Arc<PipelineEntry<T>>,
}

#[derive(Clone)]
pub(crate) struct ReceiverInstance<T: SignalData> {
    pub lifecycle: Arc<dyn Receiver>,
    pub switch: Arc<Switch<T>>,
}

/// A receiver and the fanout over its pipelines that its switch must point at.
pub(crate) struct ReceiverNode<T: SignalData> {
    pub node: Node<ReceiverInstance<T>>,
    pub target: Next<T>,
}

pub(crate) struct SignalGraph<T: SignalData> {
    pub exporters: BTreeMap<ComponentId, Node<ExporterInstance<T>>>,
    pub pipelines: BTreeMap<PipelineId, (Arc<PipelineNode<T>>, bool)>,
    pub receivers: BTreeMap<ComponentId, ReceiverNode<T>>,
}

impl<T: SignalData> Default for SignalGraph<T> {
    fn default() -> Self {
        SignalGraph {
            exporters: BTreeMap::new(),
            pipelines: BTreeMap::new(),
            receivers: BTreeMap::new(),
        }
    }
}

/// The extension a component's raw config names as its queue storage, if any.
fn storage_of(raw: &Value) -> Option<&str> {
    raw.as_map()?
        .get("sending_queue")?
        .as_map()?
        .get("storage")?
        .as_str()
}

fn create_error(kind: Kind, id: &ComponentId, what: &str, error: CreateError) -> ConfigError {
    ConfigError::at(
        format!("{}::{id}", kind.section()),
        format!("cannot create the {what}: {error}"),
    )
}

impl<T: GraphSignal> SignalGraph<T> {
    /// Builds this signal's part of the graph from `plan`, taking over from `previous`
    /// every exporter, pipeline and receiver whose configuration did not change.
    /// `changed_extensions` are extensions replaced by this build: an exporter whose queue
    /// is stored in one of them is rebuilt too.
    pub fn build(
        plan: &Plan,
        factories: &Factories,
        facilities: &CollectorFacilities,
        previous: Option<&SignalGraph<T>>,
        changed_extensions: &BTreeSet<ComponentId>,
        errors: &mut Vec<ConfigError>,
    ) -> SignalGraph<T> {
        let signal = T::SIGNAL;
        let mut graph = SignalGraph::default();
        let pipelines: Vec<_> = plan
            .pipelines()
            .filter(|(id, _)| id.signal() == signal)
            .collect();

        // Exporters: one instance per (signal, ID), shared by the signal's pipelines.
        let exporter_ids: BTreeSet<&ComponentId> =
            pipelines.iter().flat_map(|(_, p)| &p.exporters).collect();
        for id in exporter_ids {
            let Some(raw) = plan.config.component(Kind::Exporter, id) else {
                continue;
            };
            if let Some(old) = previous.and_then(|p| p.exporters.get(id))
                && old.raw == *raw
                && !storage_of(raw)
                    .is_some_and(|s| changed_extensions.iter().any(|e| e.to_string() == s))
            {
                graph.exporters.insert(id.clone(), old.reused());
                continue;
            }
            let (Some(factory), Some(config)) = (
                factories.exporter(id.component_type().as_str()),
                plan.decoded.get(&(Kind::Exporter, id.clone())),
            ) else {
                continue;
            };
            let settings =
                facilities.settings(Kind::Exporter, id, Some(signal), None, Arc::clone(raw));
            match factory.create(&settings, config, signal) {
                Ok(built) => match T::unwrap(built.consumer) {
                    Some(consumer) => {
                        graph.exporters.insert(
                            id.clone(),
                            Node {
                                raw: Arc::clone(raw),
                                component: ExporterInstance {
                                    lifecycle: built.component,
                                    consumer,
                                },
                                fresh: true,
                            },
                        );
                    }
                    None => errors.push(create_error(
                        Kind::Exporter,
                        id,
                        &format!("{signal} exporter"),
                        CreateError::new("the factory returned an exporter of another signal"),
                    )),
                },
                Err(e) => errors.push(create_error(
                    Kind::Exporter,
                    id,
                    &format!("{signal} exporter"),
                    e,
                )),
            }
        }

        // Pipelines: processors per pipeline, built back to front so each gets its next.
        for (pipeline_id, settings) in &pipelines {
            let Some(exporters) = settings
                .exporters
                .iter()
                .map(|id| graph.exporters.get(id).map(|node| (id, node)))
                .collect::<Option<Vec<_>>>()
            else {
                continue;
            };
            let processor_raws: Vec<(ComponentId, Arc<Value>)> = settings
                .processors
                .iter()
                .filter_map(|id| {
                    plan.config
                        .component(Kind::Processor, id)
                        .map(|raw| (id.clone(), Arc::clone(raw)))
                })
                .collect();
            if let Some((old, _)) = previous.and_then(|p| p.pipelines.get(*pipeline_id))
                && old.exporters == settings.exporters
                && exporters.iter().all(|(_, node)| !node.fresh)
                && old.processors.len() == processor_raws.len()
                && old
                    .processors
                    .iter()
                    .zip(&processor_raws)
                    .all(|(p, (id, raw))| p.id == *id && p.raw == *raw)
            {
                graph
                    .pipelines
                    .insert((*pipeline_id).clone(), (Arc::clone(old), false));
                continue;
            }

            let mut next: Next<T> = Fanout::new(
                exporters
                    .iter()
                    .map(|(id, node)| (id.to_string(), node.component.consumer.clone())),
            )
            .into_consumer();
            let mut processors = Vec::new();
            let mut failed = false;
            // One counting stage between two processors counts the first's outgoing and
            // the second's incoming items: n + 1 stages for n processors, not 2n.
            let mut incoming_of_next: Option<Counter> = None;
            for (id, raw) in processor_raws.iter().rev() {
                let (Some(factory), Some(config)) = (
                    factories.processor(id.component_type().as_str()),
                    plan.decoded.get(&(Kind::Processor, id.clone())),
                ) else {
                    failed = true;
                    break;
                };
                let create_settings = facilities.settings(
                    Kind::Processor,
                    id,
                    Some(signal),
                    Some(pipeline_id),
                    Arc::clone(raw),
                );
                let metrics = ProcessorMetrics::new(create_settings.metrics(), id, signal);
                let counters = std::iter::once(metrics.outgoing).chain(incoming_of_next.take());
                let counted_next = counting(next.clone(), counters.collect());
                match factory.create(&create_settings, config, T::wrap(counted_next)) {
                    Ok(built) => match T::unwrap(built.consumer) {
                        Some(consumer) => {
                            next = consumer;
                            incoming_of_next = Some(metrics.incoming);
                            processors.push(ProcessorInstance {
                                id: id.clone(),
                                raw: Arc::clone(raw),
                                lifecycle: built.component,
                            });
                        }
                        None => {
                            failed = true;
                            errors.push(create_error(
                                Kind::Processor,
                                id,
                                &format!("processor for pipeline {pipeline_id}"),
                                CreateError::new(
                                    "the factory returned a processor of another signal",
                                ),
                            ));
                        }
                    },
                    Err(e) => {
                        failed = true;
                        errors.push(create_error(
                            Kind::Processor,
                            id,
                            &format!("processor for pipeline {pipeline_id}"),
                            e,
                        ));
                    }
                }
            }
            if failed {
                continue;
            }
            if let Some(incoming) = incoming_of_next {
                next = counting(next, vec![incoming]);
            }
            processors.reverse();
            let entry = Arc::new(PipelineEntry::new(
                (*pipeline_id).clone(),
                next,
                facilities.status.pipeline_reporter(pipeline_id),
            ));
            let node = PipelineNode {
                processors,
                exporters: settings.exporters.clone(),
                entry,
            };
            graph
                .pipelines
                .insert((*pipeline_id).clone(), (Arc::new(node), true));
        }

        // Receivers: one instance per (signal, ID), feeding every pipeline that lists it.
        let receiver_ids: BTreeSet<&ComponentId> =
            pipelines.iter().flat_map(|(_, p)| &p.receivers).collect();
        for id in receiver_ids {
            let Some(raw) = plan.config.component(Kind::Receiver, id) else {
                continue;
            };
            let Some(targets) = pipelines
                .iter()
                .filter(|(_, p)| p.receivers.contains(id))
                .map(|(pid, _)| {
                    graph
                        .pipelines
                        .get(*pid)
                        .map(|(node, _)| (pid.to_string(), Arc::clone(&node.entry) as Next<T>))
                })
                .collect::<Option<Vec<_>>>()
            else {
                continue;
            };
            let target = Fanout::new(targets).into_consumer();
            if let Some(old) = previous.and_then(|p| p.receivers.get(id))
                && old.node.raw == *raw
            {
                graph.receivers.insert(
                    id.clone(),
                    ReceiverNode {
                        node: old.node.reused(),
                        target,
                    },
                );
                continue;
            }
            let (Some(factory), Some(config)) = (
                factories.receiver(id.component_type().as_str()),
                plan.decoded.get(&(Kind::Receiver, id.clone())),
            ) else {
                continue;
            };
            let switch = Arc::new(Switch::new(target.clone()));
            let settings =
                facilities.settings(Kind::Receiver, id, Some(signal), None, Arc::clone(raw));
            match factory.create(&settings, config, T::wrap(switch.clone())) {
                Ok(lifecycle) => {
                    graph.receivers.insert(
                        id.clone(),
                        ReceiverNode {
                            node: Node {
                                raw: Arc::clone(raw),
                                component: ReceiverInstance { lifecycle, switch },
                                fresh: true,
                            },
                            target,
                        },
                    );
                }
                Err(e) => errors.push(create_error(
                    Kind::Receiver,
                    id,
                    &format!("{signal} receiver"),
                    e,
                )),
            }
        }
        graph
    }
}
