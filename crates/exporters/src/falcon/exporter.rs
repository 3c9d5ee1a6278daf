//! The `falcon` exporter: one batch in, shared out to the transfer queue and to the queue
//! of every graph and judge address its items belong to.

use std::collections::BTreeMap;
use std::sync::Arc;

use tributary_pipeline_core::component::ComponentId;
use tributary_pipeline_core::prelude::*;
use tributary_translator_falcon::{FalconItem, HashRing, items_to_metrics, metrics_to_items};

use super::config::{ClusterConfig, Config};
use super::export::{Backend, NodeExport, TransferExport};
use super::rpc_client::RpcClient;

/// A queue and its sender, as the exporter helper builds it.
type Queue = Arc<dyn Exporter<Metrics>>;

/// A sharded cluster: the ring over node names and each node's per-address queues.
struct Cluster {
    ring: HashRing,
    nodes: BTreeMap<String, Vec<Queue>>,
}

/// The exporter: the queues it feeds.
pub(crate) struct FalconExporter {
    transfer: Option<Queue>,
    clusters: Vec<Cluster>,
    default_step: i64,
}

/// The ID of a part's queue: the exporter's ID with the part appended to its name, so
/// that each queue has its own persistent storage and counters.
fn part_id(settings: &CreateSettings, part: &str) -> Result<ComponentId, CreateError> {
    let id = settings.id();
    let name = match id.name() {
        Some(name) => format!("{name}.{part}"),
        None => part.to_owned(),
    };
    ComponentId::with_name(id.component_type().clone(), &name)
        .map_err(|e| CreateError::new(format!("cannot name the queue of {part}: {e}")))
}

impl FalconExporter {
    pub(crate) fn new(settings: &CreateSettings, config: &Config) -> Result<Self, CreateError> {
        let transfer = match &config.transfer {
            Some(transfer) => {
                let export = TransferExport {
                    clients: transfer
                        .addrs
                        .iter()
                        .map(|addr| RpcClient::new(addr, transfer.connect_timeout))
                        .collect(),
                    default_step: config.default_step,
                };
                let part = settings.for_part(part_id(settings, "transfer")?);
                Some(exporterhelper::build(&part, &config.helper, export)?)
            }
            None => None,
        };
        let mut clusters = Vec::new();
        for (backend, cluster) in [
            (Backend::Graph, &config.graph),
            (Backend::Judge, &config.judge),
        ] {
            if let Some(cluster) = cluster {
                clusters.push(Self::cluster(settings, config, backend, cluster)?);
            }
        }
        Ok(FalconExporter {
            transfer,
            clusters,
            default_step: config.default_step,
        })
    }

    fn cluster(
        settings: &CreateSettings,
        config: &Config,
        backend: Backend,
        cluster: &ClusterConfig,
    ) -> Result<Cluster, CreateError> {
        let mut nodes = BTreeMap::new();
        for (name, addrs) in cluster.nodes() {
            let mut queues = Vec::new();
            for addr in addrs {
                let export = NodeExport {
                    backend,
                    client: RpcClient::new(addr, cluster.connect_timeout),
                    batch: cluster.batch,
                    min_step: config.min_step,
                    default_step: config.default_step,
                };
                let id = part_id(settings, &format!("{}.{name}.{addr}", backend.as_str()))?;
                queues.push(exporterhelper::build(
                    &settings.for_part(id),
                    &config.helper,
                    export,
                )?);
            }
            nodes.insert(name.to_owned(), queues);
        }
        Ok(Cluster {
            ring: HashRing::new(cluster.cluster.keys().cloned(), cluster.replicas),
            nodes,
        })
    }

    fn queues(&self) -> impl Iterator<Item = &Queue> {
        self.transfer.iter().chain(
            self.clusters
                .iter()
                .flat_map(|c| c.nodes.values().flatten()),
        )
    }
}

#[async_trait]
impl Component for FalconExporter {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        for queue in self.queues() {
            queue.start(host).await?;
        }
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        let mut first_error = None;
        for queue in self.queues() {
            if let Err(error) = queue.shutdown().await {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

#[async_trait]
impl Consumer<Metrics> for FalconExporter {
    async fn consume(&self, data: Metrics) -> Result<(), ConsumeError> {
        let mut outcome = Ok(());
        let mut record = |result: Result<(), ConsumeError>| {
            if let (Err(error), Ok(())) = (result, &outcome) {
                outcome = Err(error);
            }
        };
        if !self.clusters.is_empty() {
            let (items, dropped) = metrics_to_items(&data, self.default_step);
            if dropped > 0 {
                tracing::debug!(
                    dropped,
                    "points without an endpoint or a Falcon form were left out"
                );
            }
            for cluster in &self.clusters {
                for (node, items) in shard(&cluster.ring, &items) {
                    let batch = items_to_metrics(&items, "");
                    for queue in cluster.nodes.get(node).into_iter().flatten() {
                        record(queue.consume(batch.clone()).await);
                    }
                }
            }
        }
        if let Some(transfer) = &self.transfer {
            record(transfer.consume(data).await);
        }
        // A refusal by one queue is returned so the sender retries; the queues that took
        // the batch get it again then (Falcon's graph ignores a repeated time).
        outcome
    }
}

/// The items of each node, by the ring, in the order received.
fn shard<'a>(ring: &'a HashRing, items: &[FalconItem]) -> BTreeMap<&'a str, Vec<FalconItem>> {
    let mut shards: BTreeMap<&str, Vec<FalconItem>> = BTreeMap::new();
    for item in items {
        if let Some(node) = ring.node(&item.primary_key()) {
            shards.entry(node).or_default().push(item.clone());
        }
    }
    shards
}
