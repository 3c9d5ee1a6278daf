//! The part of a running graph that carries one signal: its exporters, pipelines and
//! receivers, built generically over the signal.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tributary_confmap::Value;

use super::Factories;
use super::connections::{ConnectorInstance, is_connector};
use super::connector_node::ConnectorNode;
use super::counting::counting;
use super::entry::{PipelineEntry, Switch};
use super::plan::Plan;
use crate::component::{
    AnyNext, CollectorFacilities, Component, ComponentId, ConfigError, CreateError, Kind,
    PipelineId, Receiver,
};
use crate::config::PipelineConfig;
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

/// One pipeline: its processors (in order), what it exports to, and its entry.
pub(crate) struct PipelineNode<T: SignalData> {
    pub processors: Vec<ProcessorInstance>,
    pub exporters: Vec<ComponentId>,
    /// The connector instances among its destinations.
    pub connectors: Vec<ConnectorInstance>,
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

/// Pipeline entries by pipeline ID.
pub(crate) type Entries<T> = Vec<(PipelineId, Next<T>)>;

/// What every step of a build needs: the plan, the factories, the facilities, the
/// extensions this build replaces, and the errors found so far.
pub(crate) struct BuildContext<'a> {
    pub plan: &'a Plan,
    pub factories: &'a Factories,
    pub facilities: &'a CollectorFacilities,
    /// Extensions replaced by this build: an exporter whose queue is stored in one of
    /// them is rebuilt too.
    pub changed_extensions: &'a BTreeSet<ComponentId>,
    pub errors: Vec<ConfigError>,
}

impl<T: GraphSignal> SignalGraph<T> {
    fn pipelines_of_signal(plan: &Plan) -> impl Iterator<Item = (&PipelineId, &PipelineConfig)> {
        plan.pipelines().filter(|(id, _)| id.signal() == T::SIGNAL)
    }

    /// Builds this signal's exporters, taking over from `previous` every exporter whose
    /// configuration did not change: one instance per (signal, ID), shared by the signal's
    /// pipelines.
    pub fn build_exporters(
        &mut self,
        cx: &mut BuildContext<'_>,
        previous: Option<&SignalGraph<T>>,
    ) {
        let signal = T::SIGNAL;
        let plan = cx.plan;
        let exporter_ids: BTreeSet<&ComponentId> = Self::pipelines_of_signal(plan)
            .flat_map(|(_, p)| &p.exporters)
            .collect();
        for id in exporter_ids {
            // Connectors among the exporters are built as connectors.
            let Some(raw) = plan.config.component(Kind::Exporter, id) else {
                continue;
            };
            if let Some(old) = previous.and_then(|p| p.exporters.get(id))
                && old.raw == *raw
                && !storage_of(raw)
                    .is_some_and(|s| cx.changed_extensions.iter().any(|e| e.to_string() == s))
            {
                self.exporters.insert(id.clone(), old.reused());
                continue;
            }
            let (Some(factory), Some(config)) = (
                cx.factories.exporter(id.component_type().as_str()),
                plan.decoded.get(&(Kind::Exporter, id.clone())),
            ) else {
                continue;
            };
            let settings =
                cx.facilities
                    .settings(Kind::Exporter, id, Some(signal), None, Arc::clone(raw));
            match factory.create(&settings, config, signal) {
                Ok(built) => match T::unwrap(built.consumer) {
                    Some(consumer) => {
                        self.exporters.insert(
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
                    None => cx.errors.push(create_error(
                        Kind::Exporter,
                        id,
                        &format!("{signal} exporter"),
                        CreateError::new("the factory returned an exporter of another signal"),
                    )),
                },
                Err(e) => cx.errors.push(create_error(
                    Kind::Exporter,
                    id,
                    &format!("{signal} exporter"),
                    e,
                )),
            }
        }
    }

    /// Builds one pipeline of this signal (its processors back to front, so each gets its
    /// next), or takes it over from `previous` when its processors are unchanged and every
    /// exporter and connector it feeds was taken over too. The connectors it exports to
    /// must be built already.
    pub fn build_pipeline(
        &mut self,
        cx: &mut BuildContext<'_>,
        pipeline_id: &PipelineId,
        previous: Option<&SignalGraph<T>>,
        connectors: &BTreeMap<ConnectorInstance, ConnectorNode>,
    ) {
        let signal = T::SIGNAL;
        let plan = cx.plan;
        let Some(settings) = plan.config.service.pipelines.get(pipeline_id) else {
            return;
        };
        // Every destination: the exporters, and each instance of the connectors listed
        // among the exporters (one per signal the connector feeds).
        let mut destinations: Vec<(String, Next<T>, bool)> = Vec::new();
        let mut connector_instances = Vec::new();
        for id in &settings.exporters {
            if is_connector(&plan.config, id) {
                let instances: Vec<_> = connectors
                    .iter()
                    .filter(|(key, _)| key.id == *id && key.from == signal)
                    .collect();
                if instances.is_empty() {
                    return;
                }
                let several = instances.len() > 1;
                for (key, node) in instances {
                    let Some(consumer) = T::unwrap(node.consumer.clone()) else {
                        return;
                    };
                    let name = if several {
                        format!("{id} ({} to {})", key.from, key.to)
                    } else {
                        id.to_string()
                    };
                    destinations.push((name, consumer, node.fresh));
                    connector_instances.push(key.clone());
                }
            } else {
                let Some(node) = self.exporters.get(id) else {
                    return;
                };
                destinations.push((id.to_string(), node.component.consumer.clone(), node.fresh));
            }
        }
        let processor_raws: Vec<(ComponentId, Arc<Value>)> = settings
            .processors
            .iter()
            .filter_map(|id| {
                plan.config
                    .component(Kind::Processor, id)
                    .map(|raw| (id.clone(), Arc::clone(raw)))
            })
            .collect();
        if let Some((old, _)) = previous.and_then(|p| p.pipelines.get(pipeline_id))
            && old.exporters == settings.exporters
            && old.connectors == connector_instances
            && destinations.iter().all(|(_, _, fresh)| !fresh)
            && old.processors.len() == processor_raws.len()
            && old
                .processors
                .iter()
                .zip(&processor_raws)
                .all(|(p, (id, raw))| p.id == *id && p.raw == *raw)
        {
            self.pipelines
                .insert(pipeline_id.clone(), (Arc::clone(old), false));
            return;
        }

        let mut next: Next<T> = Fanout::new(
            destinations
                .into_iter()
                .map(|(name, consumer, _)| (name, consumer)),
        )
        .into_consumer();
        let mut processors = Vec::new();
        // One counting stage between two processors counts the first's outgoing and
        // the second's incoming items: n + 1 stages for n processors, not 2n.
        let mut incoming_of_next: Option<Counter> = None;
        for (id, raw) in processor_raws.iter().rev() {
            let (Some(factory), Some(config)) = (
                cx.factories.processor(id.component_type().as_str()),
                plan.decoded.get(&(Kind::Processor, id.clone())),
            ) else {
                return;
            };
            let create_settings = cx.facilities.settings(
                Kind::Processor,
                id,
                Some(signal),
                Some(pipeline_id),
                Arc::clone(raw),
            );
            let metrics = ProcessorMetrics::new(create_settings.metrics(), id, signal);
            let counters = std::iter::once(metrics.outgoing).chain(incoming_of_next.take());
            let counted_next = counting(next.clone(), counters.collect());
            let what = format!("processor for pipeline {pipeline_id}");
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
                        cx.errors.push(create_error(
                            Kind::Processor,
                            id,
                            &what,
                            CreateError::new("the factory returned a processor of another signal"),
                        ));
                        return;
                    }
                },
                Err(e) => {
                    cx.errors.push(create_error(Kind::Processor, id, &what, e));
                    return;
                }
            }
        }
        if let Some(incoming) = incoming_of_next {
            next = counting(next, vec![incoming]);
        }
        processors.reverse();
        let entry = Arc::new(PipelineEntry::new(
            pipeline_id.clone(),
            next,
            cx.facilities.status.pipeline_reporter(pipeline_id),
        ));
        let node = PipelineNode {
            processors,
            exporters: settings.exporters.clone(),
            connectors: connector_instances,
            entry,
        };
        self.pipelines
            .insert(pipeline_id.clone(), (Arc::new(node), true));
    }

    /// The entries of `pipelines` (all of this signal and built), and whether every one
    /// of them was taken over from the previous graph.
    pub fn entries(&self, pipelines: &[PipelineId]) -> Option<(Entries<T>, bool)> {
        let mut entries = Vec::new();
        let mut all_taken_over = true;
        for id in pipelines {
            let (node, fresh) = self.pipelines.get(id)?;
            all_taken_over &= !fresh;
            entries.push((id.clone(), Arc::clone(&node.entry) as Next<T>));
        }
        Some((entries, all_taken_over))
    }

    /// Builds this signal's receivers, taking over from `previous` every receiver whose
    /// configuration did not change: one instance per (signal, ID), feeding every
    /// pipeline that lists it.
    pub fn build_receivers(
        &mut self,
        cx: &mut BuildContext<'_>,
        previous: Option<&SignalGraph<T>>,
    ) {
        let signal = T::SIGNAL;
        let plan = cx.plan;
        let pipelines: Vec<_> = Self::pipelines_of_signal(plan).collect();
        let receiver_ids: BTreeSet<&ComponentId> =
            pipelines.iter().flat_map(|(_, p)| &p.receivers).collect();
        for id in receiver_ids {
            // Connectors among the receivers are built as connectors.
            let Some(raw) = plan.config.component(Kind::Receiver, id) else {
                continue;
            };
            let Some(targets) = pipelines
                .iter()
                .filter(|(_, p)| p.receivers.contains(id))
                .map(|(pid, _)| {
                    self.pipelines
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
                self.receivers.insert(
                    id.clone(),
                    ReceiverNode {
                        node: old.node.reused(),
                        target,
                    },
                );
                continue;
            }
            let (Some(factory), Some(config)) = (
                cx.factories.receiver(id.component_type().as_str()),
                plan.decoded.get(&(Kind::Receiver, id.clone())),
            ) else {
                continue;
            };
            let switch = Arc::new(Switch::new(target.clone()));
            let settings =
                cx.facilities
                    .settings(Kind::Receiver, id, Some(signal), None, Arc::clone(raw));
            match factory.create(&settings, config, T::wrap(switch.clone())) {
                Ok(lifecycle) => {
                    self.receivers.insert(
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
                Err(e) => cx.errors.push(create_error(
                    Kind::Receiver,
                    id,
                    &format!("{signal} receiver"),
                    e,
                )),
            }
        }
    }
}
