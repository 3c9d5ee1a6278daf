//! The `falcon` exporter's configuration.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError, check_endpoint};
use tributary_pipeline_core::exporterhelper::ExporterHelperConfig;
use tributary_translator_falcon::DEFAULT_REPLICAS;

/// Connecting's deadline by default: the transfer's `connTimeout` and the agent's
/// `transfer.timeout` (1000 ms).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_millis(1000);
/// Items per graph or judge call by default, the transfer's `batch`.
pub const DEFAULT_BATCH: usize = 200;
/// The smallest step by default, the transfer's `minStep`.
pub const DEFAULT_MIN_STEP: i64 = 30;
/// The step of points without a `step` attribute by default: the agent's interval.
pub const DEFAULT_STEP: i64 = 60;

/// The `falcon` exporter's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Send every item to a transfer, as an agent does.
    pub transfer: Option<TransferConfig>,
    /// Send each item to its graph node, as a transfer does.
    pub graph: Option<ClusterConfig>,
    /// Send each item to its judge node, as a transfer does.
    pub judge: Option<ClusterConfig>,
    /// Graph and judge items get at least this step (seconds), and their timestamps are
    /// aligned to it; the transfer's `minStep`.
    pub min_step: i64,
    /// The step of points without a `step` attribute (seconds).
    pub default_step: i64,
    /// `timeout` (5 s: one call, the transfer's `callTimeout`), `retry_on_failure`,
    /// `sending_queue`: each transfer, graph and judge address gets its own queue.
    #[serde(rename = "helper,squash")]
    pub helper: ExporterHelperConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            transfer: None,
            graph: None,
            judge: None,
            min_step: DEFAULT_MIN_STEP,
            default_step: DEFAULT_STEP,
            helper: ExporterHelperConfig::default(),
        }
    }
}

/// `transfer`: the transfers an agent would send to.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TransferConfig {
    /// `host:port` of each transfer's JSON-RPC listener; tried in a random order for each
    /// batch until one takes it (failover, as the agent's `transfer.addrs`).
    pub addrs: Vec<String>,
    /// Connecting's deadline.
    #[serde(with = "tributary_confmap::duration")]
    pub connect_timeout: Duration,
}

impl Default for TransferConfig {
    fn default() -> Self {
        TransferConfig {
            addrs: Vec::new(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }
}

/// `graph` or `judge`: a cluster sharded by Falcon's hash ring.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// Node name → its addresses (`host:port`, several separated by `,`: the item goes to
    /// every one). The ring hashes the names, so they must be those of the transfer's
    /// `cluster` for the items to land where a transfer would put them.
    pub cluster: BTreeMap<String, String>,
    /// Points per node on the ring, the transfer's `replicas`.
    pub replicas: usize,
    /// Items per call, the transfer's `batch`.
    pub batch: usize,
    /// Connecting's deadline, the transfer's `connTimeout`.
    #[serde(with = "tributary_confmap::duration")]
    pub connect_timeout: Duration,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            cluster: BTreeMap::new(),
            replicas: DEFAULT_REPLICAS,
            batch: DEFAULT_BATCH,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }
}

impl ClusterConfig {
    /// Each node's addresses, in the order written.
    pub fn nodes(&self) -> impl Iterator<Item = (&str, Vec<&str>)> {
        self.cluster.iter().map(|(name, addrs)| {
            let addrs = addrs
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .collect();
            (name.as_str(), addrs)
        })
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.cluster.is_empty() {
            return Err(ConfigError::at("cluster", "must name at least one node"));
        }
        for (name, addrs) in self.nodes() {
            if addrs.is_empty() {
                return Err(ConfigError::at(
                    format!("cluster::{name}"),
                    "must list at least one address (host:port)",
                ));
            }
            for addr in addrs {
                check_endpoint(addr).map_err(|e| ConfigError::at(format!("cluster::{name}"), e))?;
            }
        }
        for (key, value) in [("replicas", self.replicas), ("batch", self.batch)] {
            if value == 0 {
                return Err(ConfigError::at(key, "must be at least 1"));
            }
        }
        if self.connect_timeout.is_zero() {
            return Err(ConfigError::at("connect_timeout", "must be greater than 0"));
        }
        Ok(())
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.transfer.is_none() && self.graph.is_none() && self.judge.is_none() {
            return Err(ConfigError::new(
                "set at least one of transfer, graph or judge: where to send the items",
            ));
        }
        if let Some(transfer) = &self.transfer {
            if transfer.addrs.is_empty() {
                return Err(ConfigError::at(
                    "transfer::addrs",
                    "must list at least one transfer (host:port)",
                ));
            }
            for addr in &transfer.addrs {
                check_endpoint(addr).map_err(|e| ConfigError::at("transfer::addrs", e))?;
            }
            if transfer.connect_timeout.is_zero() {
                return Err(ConfigError::at(
                    "transfer::connect_timeout",
                    "must be greater than 0",
                ));
            }
        }
        if let Some(graph) = &self.graph {
            graph.validate().map_err(|e| e.within("graph"))?;
        }
        if let Some(judge) = &self.judge {
            judge.validate().map_err(|e| e.within("judge"))?;
        }
        if self.min_step < 1 {
            return Err(ConfigError::at("min_step", "must be at least 1 (seconds)"));
        }
        if self.default_step < 1 {
            return Err(ConfigError::at(
                "default_step",
                "must be at least 1 (seconds)",
            ));
        }
        self.helper.validate()
    }
}
