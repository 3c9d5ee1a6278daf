//! The sending ends, each behind its own exporter-helper queue: to a transfer (failover
//! over its addresses) and to one graph or judge address.

use tributary_pipeline_core::prelude::*;
use tributary_translator_falcon::{
    FalconItem, GraphItem, JudgeItem, MetricValue, SimpleRpcResponse, TransferResponse,
    metrics_to_items,
};

use super::rpc_client::RpcClient;

/// Sends each batch to one of the transfers, trying them in a random order until one takes
/// it, as the agent does (`rand.Perm` over `transfer.addrs`).
pub(crate) struct TransferExport {
    pub(crate) clients: Vec<RpcClient>,
    pub(crate) default_step: i64,
}

#[async_trait]
impl Export<Metrics> for TransferExport {
    async fn export(&self, data: Metrics) -> Result<(), ConsumeError> {
        let (items, _) = metrics_to_items(&data, self.default_step);
        if items.is_empty() {
            return Ok(());
        }
        let values: Vec<MetricValue> = items.iter().map(MetricValue::from).collect();
        let mut order: Vec<usize> = (0..self.clients.len()).collect();
        fastrand::shuffle(&mut order);
        let mut failures = Vec::new();
        for index in order {
            let client = &self.clients[index];
            match client
                .call::<_, TransferResponse>("Transfer.Update", &values)
                .await
            {
                Ok(reply) => {
                    if reply.invalid > 0 {
                        tracing::debug!(
                            transfer = client.addr(),
                            invalid = reply.invalid,
                            "the transfer refused items as invalid"
                        );
                    }
                    return Ok(());
                }
                Err(error) => failures.push(format!("{}: {error}", client.addr())),
            }
        }
        Err(ConsumeError::retryable(format!(
            "no transfer took {} items: {}",
            values.len(),
            failures.join("; ")
        )))
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        for client in &self.clients {
            client.close();
        }
        Ok(())
    }
}

/// What a cluster stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    /// `Graph.Send([]GraphItem)`.
    Graph,
    /// `Judge.Send([]JudgeItem)`.
    Judge,
}

impl Backend {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Backend::Graph => "graph",
            Backend::Judge => "judge",
        }
    }
}

/// Sends the items of one node to one of its addresses, `batch` items per call.
pub(crate) struct NodeExport {
    pub(crate) backend: Backend,
    pub(crate) client: RpcClient,
    pub(crate) batch: usize,
    pub(crate) min_step: i64,
    pub(crate) default_step: i64,
}

impl NodeExport {
    async fn send<T: serde::Serialize + Sync>(
        &self,
        method: &str,
        items: &[T],
    ) -> Result<(), ConsumeError> {
        for chunk in items.chunks(self.batch) {
            self.client
                .call::<_, SimpleRpcResponse>(method, &chunk)
                .await
                .map_err(|error| {
                    ConsumeError::retryable(format!(
                        "{} {} at {}: {error}",
                        self.backend.as_str(),
                        method,
                        self.client.addr()
                    ))
                })?;
        }
        Ok(())
    }
}

#[async_trait]
impl Export<Metrics> for NodeExport {
    async fn export(&self, data: Metrics) -> Result<(), ConsumeError> {
        let (items, _) = metrics_to_items(&data, self.default_step);
        // A retried batch resends chunks that were taken: graph refuses an RRD update at a
        // time it already has, and judge evaluates the same point again.
        match self.backend {
            Backend::Graph => {
                let items: Vec<GraphItem> = items
                    .iter()
                    .map(|item: &FalconItem| GraphItem::from_item(item, self.min_step))
                    .collect();
                self.send("Graph.Send", &items).await
            }
            Backend::Judge => {
                let items: Vec<JudgeItem> = items
                    .iter()
                    .map(|item| JudgeItem::from_item(item, self.min_step))
                    .collect();
                self.send("Judge.Send", &items).await
            }
        }
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.client.close();
        Ok(())
    }
}
