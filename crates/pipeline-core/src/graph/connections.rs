//! How connectors join pipelines: which connector instances a configuration needs, the
//! errors the Go Collector reports for connectors used on one side only, cycles (named),
//! and the order the graph is built in across signals.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::Factories;
use crate::component::{ComponentId, ConfigError, Kind, PipelineId, Stability};
use crate::config::CollectorConfig;
use crate::pdata::Signal;

/// One connector instance: the graph builds one per (connector ID, from-signal, to-signal).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ConnectorInstance {
    pub id: ComponentId,
    pub from: Signal,
    pub to: Signal,
}

impl fmt::Display for ConnectorInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "connector {:?} ({} to {})",
            self.id.to_string(),
            self.from,
            self.to
        )
    }
}

/// One step of building the graph.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Step {
    Pipeline(PipelineId),
    Connector(ConnectorInstance),
}

/// The connector instances of a configuration and the build order.
#[derive(Clone, Debug, Default)]
pub(crate) struct Connections {
    /// Each connector instance and the pipelines it feeds.
    pub downstream: BTreeMap<ConnectorInstance, Vec<PipelineId>>,
    /// Every pipeline and connector instance, each after everything it feeds: the build
    /// and start order (shutdown runs it backwards).
    pub order: Vec<Step>,
}

/// Whether `id`, listed among a pipeline's receivers or exporters, is a connector.
pub(crate) fn is_connector(config: &CollectorConfig, id: &ComponentId) -> bool {
    config.component(Kind::Connector, id).is_some()
}

/// Works out the connector instances of `config`, reporting connectors used on one side
/// only (or with no supported signal pair) and cycles; then the build order.
pub(crate) fn connect(
    config: &CollectorConfig,
    factories: &Factories,
    errors: &mut Vec<ConfigError>,
) -> Connections {
    let pipelines = &config.service.pipelines;
    let mut connections = Connections::default();
    let mut failed = false;

    for (id, _) in config.components(Kind::Connector) {
        for kind in [Kind::Receiver, Kind::Exporter] {
            if config.component(kind, id).is_some() {
                failed = true;
                errors.push(ConfigError::at(
                    format!("connectors::{id}"),
                    format!(
                        "ambiguous ID: found both {id:?} {kind} and {id:?} connector; rename one \
                         of them (e.g. \"{id}/connector\")",
                        id = id.to_string()
                    ),
                ));
            }
        }
    }
    if failed {
        return connections;
    }

    for (id, _) in config.components(Kind::Connector) {
        let Some(ty) = Some(id.component_type().as_str()).filter(|ty| {
            // An unknown type was already reported where the connector is defined.
            factories
                .connector_stability(ty, Signal::Traces, Signal::Traces)
                .is_some()
        }) else {
            continue;
        };
        let upstream: Vec<&PipelineId> = pipelines
            .iter()
            .filter(|(_, p)| p.exporters.contains(id))
            .map(|(pid, _)| pid)
            .collect();
        let downstream: Vec<&PipelineId> = pipelines
            .iter()
            .filter(|(_, p)| p.receivers.contains(id))
            .map(|(pid, _)| pid)
            .collect();
        let supports = |from: Signal, to: Signal| {
            factories
                .connector_stability(ty, from, to)
                .is_some_and(Stability::is_supported)
        };
        let pairs = supported_pairs(supports);
        let quoted = id.to_string();

        let mut fed = BTreeSet::new();
        for exporter_pipeline in &upstream {
            let from = exporter_pipeline.signal();
            let mut any = false;
            for receiver_pipeline in &downstream {
                let to = receiver_pipeline.signal();
                if supports(from, to) {
                    any = true;
                    fed.insert(*receiver_pipeline);
                    connections
                        .downstream
                        .entry(ConnectorInstance {
                            id: id.clone(),
                            from,
                            to,
                        })
                        .or_default()
                        .push((*receiver_pipeline).clone());
                }
            }
            if !any {
                errors.push(ConfigError::at(
                    format!("service::pipelines::{exporter_pipeline}::exporters"),
                    format!(
                        "connector {quoted:?} used as exporter in {from} pipeline but not used \
                         in any supported receiver pipeline ({}; {ty} connects {pairs})",
                        listed("receiver", &downstream)
                    ),
                ));
            }
        }
        for receiver_pipeline in &downstream {
            if !fed.contains(receiver_pipeline) {
                let to = receiver_pipeline.signal();
                errors.push(ConfigError::at(
                    format!("service::pipelines::{receiver_pipeline}::receivers"),
                    format!(
                        "connector {quoted:?} used as receiver in {to} pipeline but not used \
                         in any supported exporter pipeline ({}; {ty} connects {pairs})",
                        listed("exporter", &upstream)
                    ),
                ));
            }
        }
    }

    match order(config, &connections) {
        Ok(order) => connections.order = order,
        Err(cycle) => errors.push(ConfigError::at("service::pipelines", cycle)),
    }
    connections
}

/// `it is a receiver of "metrics/a", "metrics/b"` or `no pipeline lists it as a receiver`.
fn listed(role: &str, pipelines: &[&PipelineId]) -> String {
    if pipelines.is_empty() {
        format!("no pipeline lists it as {}", article(role))
    } else {
        let names: Vec<String> = pipelines
            .iter()
            .map(|p| format!("{:?}", p.to_string()))
            .collect();
        format!("it is {} of {}", article(role), names.join(", "))
    }
}

fn article(role: &str) -> String {
    if role.starts_with('e') {
        format!("an {role}")
    } else {
        format!("a {role}")
    }
}

/// `traces to traces, traces to metrics`.
fn supported_pairs(supports: impl Fn(Signal, Signal) -> bool) -> String {
    let pairs: Vec<String> = Signal::ALL
        .iter()
        .flat_map(|&from| Signal::ALL.iter().map(move |&to| (from, to)))
        .filter(|&(from, to)| supports(from, to))
        .map(|(from, to)| format!("{from} to {to}"))
        .collect();
    if pairs.is_empty() {
        "no signal pair".into()
    } else {
        pairs.join(", ")
    }
}

/// Where data goes from each step.
fn successors(config: &CollectorConfig, connections: &Connections, step: &Step) -> Vec<Step> {
    match step {
        Step::Pipeline(pipeline) => {
            let Some(settings) = config.service.pipelines.get(pipeline) else {
                return Vec::new();
            };
            connections
                .downstream
                .keys()
                .filter(|c| c.from == pipeline.signal() && settings.exporters.contains(&c.id))
                .cloned()
                .map(Step::Connector)
                .collect()
        }
        Step::Connector(connector) => connections
            .downstream
            .get(connector)
            .into_iter()
            .flatten()
            .cloned()
            .map(Step::Pipeline)
            .collect(),
    }
}

/// Every step after everything it feeds (a depth-first post-order along the data flow),
/// or the first cycle found, described as the Go Collector does.
fn order(config: &CollectorConfig, connections: &Connections) -> Result<Vec<Step>, String> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Visiting,
        Done,
    }
    fn visit(
        step: &Step,
        config: &CollectorConfig,
        connections: &Connections,
        marks: &mut BTreeMap<Step, Mark>,
        path: &mut Vec<Step>,
        out: &mut Vec<Step>,
    ) -> Result<(), String> {
        match marks.get(step) {
            Some(Mark::Done) => return Ok(()),
            Some(Mark::Visiting) => {
                let start = path.iter().position(|s| s == step).unwrap_or(0);
                return Err(describe_cycle(config, &path[start..]));
            }
            None => {}
        }
        marks.insert(step.clone(), Mark::Visiting);
        path.push(step.clone());
        for next in successors(config, connections, step) {
            visit(&next, config, connections, marks, path, out)?;
        }
        path.pop();
        marks.insert(step.clone(), Mark::Done);
        out.push(step.clone());
        Ok(())
    }

    let mut marks = BTreeMap::new();
    let mut out = Vec::new();
    for pipeline in config.service.pipelines.keys() {
        let mut path = Vec::new();
        visit(
            &Step::Pipeline(pipeline.clone()),
            config,
            connections,
            &mut marks,
            &mut path,
            &mut out,
        )?;
    }
    Ok(out)
}

/// `cycle detected: connector "forward/a" (traces to traces) -> processor "batch" in
/// pipeline "traces/b" -> connector "forward/a" (traces to traces)`: starting from a
/// connector, listing connectors and processors, the first repeated at the end (the Go
/// Collector's wording; pipelines without processors add nothing to the chain).
fn describe_cycle(config: &CollectorConfig, cycle: &[Step]) -> String {
    // The smallest connector first, so the same cycle is always told the same way.
    let start = cycle
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match s {
            Step::Connector(c) => Some((c, i)),
            Step::Pipeline(_) => None,
        })
        .min()
        .map_or(0, |(_, i)| i);
    let rotated = cycle[start..]
        .iter()
        .chain(&cycle[..start])
        .chain(cycle.get(start));
    let mut parts = Vec::new();
    for step in rotated {
        match step {
            Step::Connector(connector) => parts.push(connector.to_string()),
            Step::Pipeline(pipeline) => {
                let processors = config
                    .service
                    .pipelines
                    .get(pipeline)
                    .map(|p| p.processors.as_slice())
                    .unwrap_or_default();
                for processor in processors {
                    parts.push(format!(
                        "processor {:?} in pipeline {:?}",
                        processor.to_string(),
                        pipeline.to_string()
                    ));
                }
            }
        }
    }
    format!("cycle detected: {}", parts.join(" -> "))
}
