//! The operator graph: built once from an `operators:` list, then fed entries.

use std::collections::HashMap;

use super::config::{OnError, OperatorConfig};
use super::entry::{Entry, Origin};
use super::expr::Expr;
use super::operators;

/// Why a pipeline could not be built; names the operator.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("operators[{index}] (`{id}`, type {kind}): {message}")]
pub struct BuildError {
    /// The operator's position in the list.
    pub index: usize,
    /// The operator's id.
    pub id: String,
    /// The operator's type.
    pub kind: String,
    /// What is wrong.
    pub message: String,
}

/// Entries one operator emits: the port (0: its `output`; a router's routes in order,
/// then `default`) and the entry.
pub(crate) type Emitted = Vec<(usize, Entry)>;

/// One operator's logic.
pub(crate) trait Operator: Send {
    /// Processes one entry, pushing what it emits.
    fn process(&mut self, entry: Entry, out: &mut Emitted);

    /// Emits what the operator holds that is due at `now` (Unix ns), or everything when
    /// `now` is `i64::MAX` (end of input).
    fn flush(&mut self, _now: i64, _out: &mut Emitted) {}

    /// Pushes the origin of the oldest entry the operator holds from each source (an
    /// operator that holds nothing between calls pushes nothing).
    fn held(&self, _origins: &mut Vec<Origin>) {}
}

/// Where one port leads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Destination {
    Operator(usize),
    Out,
}

struct Node {
    operator: Box<dyn Operator>,
    ports: Vec<Vec<Destination>>,
}

/// A built operator pipeline.
pub struct Pipeline {
    nodes: Vec<Node>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("operators", &self.nodes.len())
            .finish()
    }
}

/// The settings every transformer shares: `if` and `on_error`.
pub(crate) struct Common {
    pub(crate) id: String,
    pub(crate) condition: Option<Expr>,
    pub(crate) on_error: OnError,
}

impl Common {
    /// Whether the operator applies to `entry` (its `if`).
    pub(crate) fn applies(&self, entry: &Entry) -> bool {
        self.condition.as_ref().is_none_or(|c| c.matches(entry))
    }

    /// Handles a failed entry as `on_error` says: sends it on or drops it, and logs.
    pub(crate) fn failed(&self, entry: Entry, error: &str, out: &mut Emitted) {
        match self.on_error {
            OnError::Send => {
                tracing::warn!(operator = %self.id, error, "failed to process entry; sent on");
                out.push((0, entry));
            }
            OnError::SendQuiet => {
                tracing::debug!(operator = %self.id, error, "failed to process entry; sent on");
                out.push((0, entry));
            }
            OnError::Drop => {
                tracing::warn!(operator = %self.id, error, "failed to process entry; dropped");
            }
            OnError::DropQuiet => {
                tracing::debug!(operator = %self.id, error, "failed to process entry; dropped");
            }
        }
    }
}

/// An operator that changes one entry in place.
pub(crate) trait Transform: Send {
    /// Changes `entry`, or says why it cannot.
    fn transform(&mut self, entry: &mut Entry) -> Result<(), String>;
}

/// Runs a [`Transform`] with `if` and `on_error`.
pub(crate) struct Transformer<T> {
    pub(crate) common: Common,
    pub(crate) inner: T,
}

impl<T: Transform> Operator for Transformer<T> {
    fn process(&mut self, mut entry: Entry, out: &mut Emitted) {
        if !self.common.applies(&entry) {
            out.push((0, entry));
            return;
        }
        match self.inner.transform(&mut entry) {
            Ok(()) => out.push((0, entry)),
            Err(error) => self.common.failed(entry, &error, out),
        }
    }
}

impl Pipeline {
    /// Builds the pipeline: checks ids, outputs and every operator's settings; entries
    /// enter at the first operator, and an operator without `output` sends to the next
    /// one in the list (the last one out of the pipeline).
    pub fn build(configs: &[OperatorConfig]) -> Result<Pipeline, BuildError> {
        let effective = effective_ids(configs);
        let error = |index: usize, message: String| BuildError {
            index,
            id: effective[index].clone(),
            kind: configs[index].kind.clone(),
            message,
        };
        let mut ids = HashMap::new();
        for (index, id) in effective.iter().enumerate() {
            if id.is_empty() {
                return Err(error(index, "`id` must not be empty".into()));
            }
            if let Some(first) = ids.insert(id.clone(), index) {
                return Err(error(
                    index,
                    format!("duplicate id `{id}` (also operators[{first}])"),
                ));
            }
        }
        let resolve = |index: usize, targets: &[String]| -> Result<Vec<Destination>, BuildError> {
            targets
                .iter()
                .map(|target| match ids.get(target.as_str()) {
                    Some(&to) if to == index => Err(error(
                        index,
                        format!("output `{target}` is the operator itself"),
                    )),
                    Some(&to) => Ok(Destination::Operator(to)),
                    None => Err(error(
                        index,
                        format!("output `{target}` is not the id of any operator"),
                    )),
                })
                .collect()
        };
        let mut nodes = Vec::with_capacity(configs.len());
        for (index, config) in configs.iter().enumerate() {
            let built = operators::build(config).map_err(|message| error(index, message))?;
            let next = if index + 1 < configs.len() {
                vec![Destination::Operator(index + 1)]
            } else {
                vec![Destination::Out]
            };
            let default_port = match &config.output {
                Some(outputs) => resolve(index, &outputs.0)?,
                None => next,
            };
            let ports = match &config.routes {
                Some(routes) if config.kind == "router" => {
                    let mut ports = Vec::with_capacity(routes.len() + 1);
                    for route in routes {
                        ports.push(resolve(index, &route.output.0)?);
                    }
                    // Entries that match no route go to `default`, or are dropped.
                    ports.push(match &config.default {
                        Some(outputs) => resolve(index, &outputs.0)?,
                        None => Vec::new(),
                    });
                    ports
                }
                _ => vec![default_port],
            };
            nodes.push(Node {
                operator: built,
                ports,
            });
        }
        if let Some(index) = find_cycle(&nodes) {
            return Err(error(index, "its outputs lead back to it (a cycle)".into()));
        }
        Ok(Pipeline { nodes })
    }

    /// Whether the pipeline has no operators (entries pass through unchanged).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Feeds one entry in; what leaves the pipeline is pushed to `out`.
    pub fn process(&mut self, entry: Entry, out: &mut Vec<Entry>) {
        if self.nodes.is_empty() {
            out.push(entry);
            return;
        }
        self.run(0, entry, out);
    }

    /// Flushes what operators hold that is due at `now` (Unix ns; `recombine`'s
    /// `force_flush_period`); `i64::MAX` flushes everything (end of input, shutdown).
    pub fn flush(&mut self, now: i64, out: &mut Vec<Entry>) {
        for index in 0..self.nodes.len() {
            let mut emitted = Vec::new();
            self.nodes[index].operator.flush(now, &mut emitted);
            self.forward(index, emitted, out);
        }
    }

    /// The origins of the entries the operators hold (`recombine`, `container`): at least
    /// the oldest of each source, so a reader never checkpoints past them.
    pub fn held(&self) -> Vec<Origin> {
        let mut origins = Vec::new();
        for node in &self.nodes {
            node.operator.held(&mut origins);
        }
        origins
    }

    fn run(&mut self, index: usize, entry: Entry, out: &mut Vec<Entry>) {
        let mut emitted = Vec::new();
        self.nodes[index].operator.process(entry, &mut emitted);
        self.forward(index, emitted, out);
    }

    fn forward(&mut self, index: usize, emitted: Emitted, out: &mut Vec<Entry>) {
        for (port, entry) in emitted {
            let destinations = self.nodes[index]
                .ports
                .get(port)
                .cloned()
                .unwrap_or_default();
            let count = destinations.len();
            let mut entry = Some(entry);
            for (n, destination) in destinations.into_iter().enumerate() {
                // The last destination takes the entry; earlier ones get copies.
                let this = if n + 1 == count {
                    entry.take()
                } else {
                    entry.clone()
                };
                let Some(this) = this else { break };
                match destination {
                    Destination::Out => out.push(this),
                    Destination::Operator(next) => self.run(next, this, out),
                }
            }
        }
    }
}

/// The operators' ids as Go's stanza assigns them: an operator whose id is its type (by
/// default) and is not the first of that type gets the type and a number (`move1`,
/// `move2`, skipping ids already taken), so a list of two `move`s needs no ids.
fn effective_ids(configs: &[OperatorConfig]) -> Vec<String> {
    let mut ids: Vec<String> = configs.iter().map(|c| c.id().to_string()).collect();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for index in 0..configs.len() {
        let kind = &configs[index].kind;
        if ids[index] != *kind {
            continue;
        }
        let count = counts.entry(kind.clone()).or_insert(0);
        if *count == 0 {
            *count = 1;
            continue;
        }
        let mut candidate = format!("{kind}{count}");
        while ids.contains(&candidate) {
            *count += 1;
            candidate = format!("{kind}{count}");
        }
        *count += 1;
        ids[index] = candidate;
    }
    ids
}

/// The index of an operator on a cycle, if the graph has one.
fn find_cycle(nodes: &[Node]) -> Option<usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    fn visit(index: usize, nodes: &[Node], marks: &mut [Mark]) -> Option<usize> {
        match marks[index] {
            Mark::Active => return Some(index),
            Mark::Done => return None,
            Mark::New => {}
        }
        marks[index] = Mark::Active;
        for destination in nodes[index].ports.iter().flatten() {
            if let Destination::Operator(next) = destination
                && let Some(found) = visit(*next, nodes, marks)
            {
                return Some(found);
            }
        }
        marks[index] = Mark::Done;
        None
    }
    let mut marks = vec![Mark::New; nodes.len()];
    (0..nodes.len()).find_map(|index| visit(index, nodes, &mut marks))
}
