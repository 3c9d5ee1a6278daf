//! What each scraper can emit and what Go enables by default
//! (`internal/scraper/<x>scraper/metadata.yaml` upstream), and the `metrics:` /
//! `resource_attributes:` switches over those defaults.

use std::collections::BTreeSet;

use serde::Deserialize;
use tributary_pipeline_core::component::ConfigError;

use super::config::Toggles;

/// `{enabled: bool}` for one metric or resource attribute.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Toggle {
    /// `enabled`: emit it.
    pub enabled: bool,
}

/// `(name, enabled by default)` of the cpu scraper's metrics.
pub const CPU: &[(&str, bool)] = &[
    ("system.cpu.time", true),
    ("system.cpu.utilization", false),
    ("system.cpu.frequency", false),
    ("system.cpu.logical.count", false),
    ("system.cpu.physical.count", false),
];
/// The load scraper's metrics.
pub const LOAD: &[(&str, bool)] = &[
    ("system.cpu.load_average.1m", true),
    ("system.cpu.load_average.5m", true),
    ("system.cpu.load_average.15m", true),
];
/// The memory scraper's metrics.
pub const MEMORY: &[(&str, bool)] = &[
    ("system.memory.usage", true),
    ("system.memory.utilization", false),
    ("system.memory.limit", false),
    ("system.memory.page_size", false),
    ("system.linux.memory.available", false),
    ("system.linux.memory.dirty", false),
];
/// The disk scraper's metrics.
pub const DISK: &[(&str, bool)] = &[
    ("system.disk.io", true),
    ("system.disk.io_time", true),
    ("system.disk.merged", true),
    ("system.disk.operation_time", true),
    ("system.disk.operations", true),
    ("system.disk.pending_operations", true),
    ("system.disk.weighted_io_time", true),
];
/// The filesystem scraper's metrics.
pub const FILESYSTEM: &[(&str, bool)] = &[
    ("system.filesystem.usage", true),
    ("system.filesystem.inodes.usage", true),
    ("system.filesystem.utilization", false),
];
/// The network scraper's metrics.
pub const NETWORK: &[(&str, bool)] = &[
    ("system.network.connections", true),
    ("system.network.dropped", true),
    ("system.network.errors", true),
    ("system.network.io", true),
    ("system.network.packets", true),
    ("system.network.conntrack.count", false),
    ("system.network.conntrack.max", false),
];
/// The paging scraper's metrics.
pub const PAGING: &[(&str, bool)] = &[
    ("system.paging.faults", true),
    ("system.paging.operations", true),
    ("system.paging.usage", true),
    ("system.paging.utilization", false),
];
/// The processes scraper's metrics.
pub const PROCESSES: &[(&str, bool)] = &[
    ("system.processes.count", true),
    ("system.processes.created", true),
];
/// The process scraper's metrics.
pub const PROCESS: &[(&str, bool)] = &[
    ("process.cpu.time", true),
    ("process.disk.io", true),
    ("process.memory.usage", true),
    ("process.memory.virtual", true),
    ("process.context_switches", false),
    ("process.cpu.utilization", false),
    ("process.disk.operations", false),
    // Windows handles: known so Go configs load; never emitted on Linux, as in Go.
    ("process.handles", false),
    ("process.memory.utilization", false),
    ("process.open_file_descriptors", false),
    ("process.paging.faults", false),
    ("process.signals_pending", false),
    ("process.threads", false),
    ("process.uptime", false),
];
/// The system scraper's metrics.
pub const SYSTEM: &[(&str, bool)] = &[("system.uptime", true)];
/// The process scraper's resource attributes.
pub const PROCESS_RESOURCE_ATTRIBUTES: &[(&str, bool)] = &[
    ("process.pid", true),
    ("process.parent_pid", true),
    ("process.executable.name", true),
    ("process.executable.path", true),
    ("process.command", true),
    ("process.command_line", true),
    ("process.owner", true),
    ("process.cgroup", false),
];

/// The metric table of `scraper` (a key of `scrapers`).
pub(crate) fn metrics_of(scraper: &str) -> &'static [(&'static str, bool)] {
    match scraper {
        "cpu" => CPU,
        "load" => LOAD,
        "memory" => MEMORY,
        "disk" => DISK,
        "filesystem" => FILESYSTEM,
        "network" => NETWORK,
        "paging" => PAGING,
        "processes" => PROCESSES,
        "process" => PROCESS,
        "system" => SYSTEM,
        _ => &[],
    }
}

/// Refuses a switch for a name the table does not know.
pub(crate) fn check(table: &[(&str, bool)], toggles: &Toggles) -> Result<(), ConfigError> {
    match toggles
        .keys()
        .find(|name| !table.iter().any(|(known, _)| known == name))
    {
        Some(name) => Err(ConfigError::at(
            name.clone(),
            format!(
                "unknown name: this scraper has {}",
                table.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            ),
        )),
        None => Ok(()),
    }
}

/// The names enabled by the defaults and the switches.
#[derive(Debug, Clone, Default)]
pub(crate) struct Enabled(BTreeSet<&'static str>);

impl Enabled {
    pub(crate) fn new(table: &'static [(&'static str, bool)], toggles: &Toggles) -> Enabled {
        Enabled(
            table
                .iter()
                .filter(|(name, default)| toggles.get(*name).map_or(*default, |t| t.enabled))
                .map(|(name, _)| *name)
                .collect(),
        )
    }

    /// Whether `name` is enabled.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.0.contains(name)
    }
}
