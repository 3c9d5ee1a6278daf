//! The `hostmetrics` receiver: the host's CPU, load, memory, disks, file systems,
//! network, paging, processes and uptime as OTLP metrics, read from `/proc` and `/sys`.
//!
//! It takes the Go Collector contrib `hostmetricsreceiver`'s keys, defaults, metric names,
//! units, types, temporality and attributes (the `system.*` / `process.*` semantic
//! conventions as Go's scrapers emit them on Linux), so its configurations and dashboards
//! carry over. Every metric can be switched with `metrics: {<name>: {enabled: bool}}` over
//! Go's defaults (the tables in [`metadata`]); an unknown metric name is refused.
//!
//! Each scraper adds one resource (empty, as Go's: use `resourcedetection` for host
//! identity) with the scope
//! `github.com/open-telemetry/opentelemetry-collector-contrib/receiver/hostmetricsreceiver/internal/scraper/<x>scraper`;
//! the `process` scraper adds one resource per process with the `process.*` resource
//! attributes. Counters the kernel keeps from boot are cumulative sums starting at boot
//! time (`btime`); per-process counters start at the process's start.
//!
//! **`root_path` is honoured by every scraper**, the `process` scraper included (Go's
//! reads the container's own `/proc` there): with `root_path: /hostfs` the receiver reads
//! `/hostfs/proc/...` (network counters from `/hostfs/proc/1/net`, the host's namespace,
//! where Go's `/hostfs/proc/net` resolves to the container's own), mounts from `/hostfs/proc/1/mountinfo` with their usage from
//! `statvfs("/hostfs/<mount point>")`, and process owners from `/hostfs/etc/passwd`.
//!
//! A scraper that fails is a partial scrape error: logged, counted in
//! `otelcol_scraper_errored_metric_points{scraper}`, and the other scrapers' metrics are
//! still sent. The `process` scraper reads process by process: one that exits or whose
//! name or executable cannot be read is skipped, a counter it cannot read (I/O of another
//! user's process) is left out, each counted in
//! `otelcol_receiver_hostmetrics_process_errors{cause}` and logged once per cause
//! (never per scrape), unless muted by `mute_process_*_error`.
//!
//! Reading: the [`procfs`](https://crates.io/crates/procfs) crate (maintained, typed
//! parsers for `/proc/stat`, `meminfo`, `loadavg`, `diskstats`, `net/dev`, `vmstat`,
//! `mountinfo` and `/proc/<pid>/*`, each readable from any root, which `root_path` needs);
//! `sysinfo` was not chosen because it always reads the running system's `/proc`.
//! `statvfs` comes from `rustix` (no `unsafe` of ours). Scrapes run on a blocking thread.
//!
//! # Example
//!
//! ```yaml
//! receivers:
//!   hostmetrics:
//!     collection_interval: 30s
//!     root_path: /hostfs
//!     scrapers:
//!       cpu:
//!         metrics:
//!           system.cpu.utilization: {enabled: true}
//!       load: {cpu_average: true}
//!       memory:
//!       disk:
//!         exclude: {devices: ["^loop"], match_type: regexp}
//!       filesystem:
//!         exclude_fs_types: {fs_types: [squashfs], match_type: strict}
//!       network:
//!         include: {interfaces: [eth0, lo], match_type: strict}
//!       paging:
//!       processes:
//!       process:
//!         include: {names: [sshd, "^tributary"], match_type: regexp}
//!         mute_process_exe_error: true
//!       system:
//! ```
//!
//! # Configuration
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `collection_interval` | `1m` | how often every scraper runs |
//! | `initial_delay` | `1s` | the delay before the first scrape |
//! | `timeout` | `0s` | the longest a collection may take (0: no limit); a late one is dropped and logged |
//! | `root_path` | `""` | where the host's `/` is mounted; absolute, and an existing directory at start |
//! | `metadata_collection_interval` | `5m` | accepted; entity events go to logs, which this receiver does not emit |
//! | `scrapers::<x>::metrics::<name>::enabled` | Go's per metric | switch a metric |
//! | `scrapers::load::cpu_average` | `false` | divide load by the logical CPU count |
//! | `scrapers::disk::include`/`exclude` | none | `{devices: [...], match_type: strict\|regexp}` |
//! | `scrapers::filesystem::include_devices`/`exclude_devices` | none | `{devices, match_type}` |
//! | `scrapers::filesystem::include_fs_types`/`exclude_fs_types` | none | `{fs_types, match_type}` |
//! | `scrapers::filesystem::include_mount_points`/`exclude_mount_points` | none | `{mount_points, match_type}` |
//! | `scrapers::filesystem::include_virtual_filesystems` | `false` | also report `nodev` file systems |
//! | `scrapers::network::include`/`exclude` | none | `{interfaces, match_type}` |
//! | `scrapers::process::include`/`exclude` | none | `{names, match_type}` on the executable name |
//! | `scrapers::process::mute_process_{all,name,exe,io,user,cgroup}_error` | `false` | do not log that cause |
//! | `scrapers::process::scrape_process_delay` | `0s` | skip processes younger than this |
//! | `scrapers::process::resource_attributes::<name>::enabled` | Go's | switch a resource attribute |
//!
//! `regexp` patterns are unanchored, as Go's `regexp.MatchString`.

mod config;
mod factory;
mod filter;
pub mod metadata;
mod receiver;
mod scrapers;

#[cfg(test)]
mod tests;

pub use config::{
    Config, DiskConfig, FilesystemConfig, LoadConfig, MatchDevices, MatchFsTypes, MatchInterfaces,
    MatchMountPoints, MatchNames, MetricsOnly, NetworkConfig, ProcessConfig, Scrapers, Toggles,
};
pub use factory::factory;
pub use scrapers::{count_tcp_states, parse_swaps};
