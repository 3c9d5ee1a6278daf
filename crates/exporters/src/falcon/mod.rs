//! The `falcon` exporter: metrics to Open-Falcon, either to a transfer as an agent sends
//! them, or straight to the graph and judge clusters as a transfer shards them, so that a
//! Tributary gateway can take a transfer's place in a live cluster.
//!
//! ```yaml
//! exporters:
//!   falcon:
//!     graph:
//!       cluster:
//!         graph-00: 10.0.0.1:6070
//!         graph-01: 10.0.0.2:6070,10.0.0.3:6070   # both get graph-01's items
//!     judge:
//!       cluster: { judge-00: 10.0.0.4:6080 }
//!     min_step: 30
//!     sending_queue: { storage: file_storage }    # each address's queue on disk
//!   falcon/agent:
//!     transfer:
//!       addrs: [transfer-1:8433, transfer-2:8433]
//! ```
//!
//! ```
//! use tributary_confmap::Conf;
//! use tributary_exporters::falcon::Config;
//! use tributary_pipeline_core::component::ComponentConfig;
//!
//! let config: Config = Conf::from_yaml("graph: { cluster: { graph-00: \"127.0.0.1:6070\" } }")?.decode()?;
//! config.validate()?;
//! assert_eq!(config.graph.unwrap().replicas, 500);
//! assert!(Conf::from_yaml("{}")?.decode::<Config>()?.validate().is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Configuration
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `transfer::addrs` | — | transfers' JSON-RPC `host:port`s; each batch goes to one, tried in a random order (the agent's failover) |
//! | `transfer::connect_timeout` | `1s` | deadline of connecting |
//! | `graph::cluster`, `judge::cluster` | — | node name → `host:port[,host:port...]`, the transfer's `cluster`; an item goes to every address of its node |
//! | `graph::replicas`, `judge::replicas` | `500` | points per node on the hash ring |
//! | `graph::batch`, `judge::batch` | `200` | items per `Graph.Send` / `Judge.Send` call |
//! | `graph::connect_timeout`, `judge::connect_timeout` | `1s` | the transfer's `connTimeout` |
//! | `min_step` | `30` | graph and judge items get at least this step, and timestamps aligned to it (`minStep`) |
//! | `default_step` | `60` | the step of points without a `step` attribute |
//! | `timeout` | `5s` | one call (the transfer's `callTimeout`) |
//! | `sending_queue`, `retry_on_failure` | enabled | the exporter helper's, for **each** queue: the transfer's, and each graph and judge address's |
//!
//! At least one of `transfer`, `graph` and `judge` is required; any combination works.
//!
//! # What is sent
//!
//! Gauges and sums become Falcon items (`tributary_translator_falcon` has the mapping):
//! the point's `endpoint` attribute (else the resource's `host.name`) is the endpoint, its
//! `step` attribute the step, its other attributes the tags; a cumulative monotonic sum is
//! a `COUNTER`, the rest `GAUGE`. Points without an endpoint, histograms and summaries
//! are left out.
//!
//! - To a transfer: `Transfer.Update([]MetricValue)`.
//! - To graph: each item's node is found on the ring by its primary key
//!   (`endpoint/metric[/k=v,...]`), exactly as Falcon's transfer does (CRC32-IEEE, the
//!   points `crc32(itoa(i)+name)`, the first point strictly greater, wrapping), and the
//!   item is queued to every address of that node as a `GraphItem`: step at least
//!   `min_step`, timestamp aligned to it, `heartbeat` twice the step, `GAUGE` with
//!   `min`/`max` `U`, or `DERIVE` with `min` `0` for counters. Calls are
//!   `Graph.Send([]GraphItem)`, `batch` items each.
//! - To judge: the same ring (over judge's names), `Judge.Send([]JudgeItem)` with the raw
//!   value and `judgeType`.
//!
//! # Delivery
//!
//! Each transfer, graph address and judge address has its own queue from the exporter
//! helper (named `falcon[/name]` + `.graph.<node>.<addr>` in the counters and the storage
//! extension, so that persistent queues are kept apart), so one dead graph node fills its
//! own queue and nobody else's. A failed call is retried by `retry_on_failure`; Falcon
//! tries three times 10 ms apart, then drops. When a queue refuses (full), the whole batch
//! is refused and the sender retries it; the queues that had taken it take it again, which
//! Falcon tolerates (graph ignores a repeated time, judge evaluates the same point again).
//!
//! No Falcon graph, judge or transfer is installable here: the tests run servers written
//! in the test that implement the documented JSON-RPC contract (Go `net/rpc/jsonrpc`).

mod config;
mod export;
mod exporter;
mod factory;
mod rpc_client;
#[cfg(test)]
mod tests;

pub use config::{
    ClusterConfig, Config, DEFAULT_BATCH, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MIN_STEP, DEFAULT_STEP,
    TransferConfig,
};
pub use factory::factory;
