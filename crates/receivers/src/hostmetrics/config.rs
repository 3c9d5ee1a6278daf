//! The `hostmetrics` receiver's configuration: the Go `hostmetricsreceiver`'s keys and
//! defaults (`scraperhelper.ControllerConfig` squashed, then `root_path` and `scrapers`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};

use super::filter::Filter;
use super::metadata::{self, Toggle};

/// The `hostmetrics` receiver's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `collection_interval`: how often every scraper runs (default 1m).
    #[serde(with = "tributary_confmap::duration")]
    pub collection_interval: Duration,
    /// `initial_delay`: how long after start the first scrape runs (default 1s).
    #[serde(with = "tributary_confmap::duration")]
    pub initial_delay: Duration,
    /// `timeout`: how long one collection may take (0: no limit, Go's default); a
    /// collection that takes longer (a hung network mount) is dropped.
    #[serde(with = "tributary_confmap::duration")]
    pub timeout: Duration,
    /// `root_path`: where the host's file system is mounted (e.g. `/hostfs` in a container);
    /// every scraper reads `<root_path>/proc`, `<root_path>/sys` and mounts under it.
    pub root_path: String,
    /// `metadata_collection_interval`: Go's interval for entity events, which travel on a
    /// logs pipeline this receiver does not offer; accepted so Go configs load.
    #[serde(with = "tributary_confmap::duration")]
    pub metadata_collection_interval: Duration,
    /// `scrapers`: the scrapers to run, each with its own settings.
    pub scrapers: Scrapers,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            collection_interval: Duration::from_secs(60),
            initial_delay: Duration::from_secs(1),
            timeout: Duration::ZERO,
            root_path: String::new(),
            metadata_collection_interval: Duration::from_secs(300),
            scrapers: Scrapers::default(),
        }
    }
}

/// `scrapers`: each key present (even `cpu:` with no value) runs that scraper.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scrapers {
    /// `cpu`: `system.cpu.*`.
    #[serde(rename = "cpu,present", deserialize_with = "present")]
    pub cpu: Option<MetricsOnly>,
    /// `disk`: `system.disk.*`.
    #[serde(rename = "disk,present", deserialize_with = "present")]
    pub disk: Option<DiskConfig>,
    /// `load`: `system.cpu.load_average.*`.
    #[serde(rename = "load,present", deserialize_with = "present")]
    pub load: Option<LoadConfig>,
    /// `filesystem`: `system.filesystem.*`.
    #[serde(rename = "filesystem,present", deserialize_with = "present")]
    pub filesystem: Option<FilesystemConfig>,
    /// `memory`: `system.memory.*`.
    #[serde(rename = "memory,present", deserialize_with = "present")]
    pub memory: Option<MetricsOnly>,
    /// `network`: `system.network.*`.
    #[serde(rename = "network,present", deserialize_with = "present")]
    pub network: Option<NetworkConfig>,
    /// `paging`: `system.paging.*`.
    #[serde(rename = "paging,present", deserialize_with = "present")]
    pub paging: Option<MetricsOnly>,
    /// `processes`: `system.processes.*`.
    #[serde(rename = "processes,present", deserialize_with = "present")]
    pub processes: Option<MetricsOnly>,
    /// `process`: `process.*`, one resource per process.
    #[serde(rename = "process,present", deserialize_with = "present")]
    pub process: Option<ProcessConfig>,
    /// `system`: `system.uptime`.
    #[serde(rename = "system,present", deserialize_with = "present")]
    pub system: Option<MetricsOnly>,
}

/// A scraper key is present even when its value is empty (`memory:`), as in Go.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Some(
        Option::<T>::deserialize(deserializer)?.unwrap_or_default(),
    ))
}

/// `metrics: {<name>: {enabled: bool}}` (and `resource_attributes`, the same shape).
pub type Toggles = BTreeMap<String, Toggle>;

/// A scraper whose only key is `metrics`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsOnly {
    /// `metrics`: per-metric enablement over Go's defaults.
    pub metrics: Toggles,
}

/// `scrapers::load`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoadConfig {
    /// `cpu_average`: divides each load average by the number of logical CPUs.
    pub cpu_average: bool,
    /// `metrics`: per-metric enablement over Go's defaults.
    pub metrics: Toggles,
}

/// `regexp: {cacheenabled, cachemaxnumentries}` of a Go `filterset` block.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegexpCache {
    /// `cacheenabled`.
    pub cacheenabled: bool,
    /// `cachemaxnumentries`.
    pub cachemaxnumentries: i64,
}

/// A Go `filterset` block: a list of names and how they match.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatchDevices {
    /// `devices`: the names (or patterns) to match.
    pub devices: Vec<String>,
    /// `match_type`: `strict` or `regexp`.
    pub match_type: String,
    /// `regexp`: Go\'s match-result cache settings; accepted, a compiled set needs none.
    pub regexp: Option<RegexpCache>,
}

/// `scrapers::disk`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiskConfig {
    /// `include`: only these devices.
    pub include: Option<MatchDevices>,
    /// `exclude`: not these devices.
    pub exclude: Option<MatchDevices>,
    /// `metrics`: per-metric enablement over Go's defaults.
    pub metrics: Toggles,
}

/// A filesystem type filter (`fs_types`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatchFsTypes {
    /// `fs_types`: the file system types (or patterns) to match.
    pub fs_types: Vec<String>,
    /// `match_type`: `strict` or `regexp`.
    pub match_type: String,
    /// `regexp`: Go\'s match-result cache settings; accepted, a compiled set needs none.
    pub regexp: Option<RegexpCache>,
}

/// A mount point filter (`mount_points`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatchMountPoints {
    /// `mount_points`: the mount points (or patterns) to match.
    pub mount_points: Vec<String>,
    /// `match_type`: `strict` or `regexp`.
    pub match_type: String,
    /// `regexp`: Go\'s match-result cache settings; accepted, a compiled set needs none.
    pub regexp: Option<RegexpCache>,
}

/// `scrapers::filesystem`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FilesystemConfig {
    /// `include_virtual_filesystems`: also report file systems without a device (proc, tmpfs...).
    pub include_virtual_filesystems: bool,
    /// `include_devices`.
    pub include_devices: Option<MatchDevices>,
    /// `exclude_devices`.
    pub exclude_devices: Option<MatchDevices>,
    /// `include_fs_types`.
    pub include_fs_types: Option<MatchFsTypes>,
    /// `exclude_fs_types`.
    pub exclude_fs_types: Option<MatchFsTypes>,
    /// `include_mount_points`.
    pub include_mount_points: Option<MatchMountPoints>,
    /// `exclude_mount_points`.
    pub exclude_mount_points: Option<MatchMountPoints>,
    /// `metrics`: per-metric enablement over Go's defaults.
    pub metrics: Toggles,
}

/// An interface filter (`interfaces`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatchInterfaces {
    /// `interfaces`: the interface names (or patterns) to match.
    pub interfaces: Vec<String>,
    /// `match_type`: `strict` or `regexp`.
    pub match_type: String,
    /// `regexp`: Go\'s match-result cache settings; accepted, a compiled set needs none.
    pub regexp: Option<RegexpCache>,
}

/// `scrapers::network`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkConfig {
    /// `include`: only these interfaces.
    pub include: Option<MatchInterfaces>,
    /// `exclude`: not these interfaces.
    pub exclude: Option<MatchInterfaces>,
    /// `metrics`: per-metric enablement over Go's defaults.
    pub metrics: Toggles,
}

/// A process name filter (`names`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatchNames {
    /// `names`: executable names (or patterns) to match.
    pub names: Vec<String>,
    /// `match_type`: `strict` or `regexp`.
    pub match_type: String,
    /// `regexp`: Go\'s match-result cache settings; accepted, a compiled set needs none.
    pub regexp: Option<RegexpCache>,
}

/// `scrapers::process`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProcessConfig {
    /// `include`: only processes whose executable name matches.
    pub include: Option<MatchNames>,
    /// `exclude`: not processes whose executable name matches.
    pub exclude: Option<MatchNames>,
    /// `mute_process_all_errors`: logs no per-process read error at all.
    pub mute_process_all_errors: bool,
    /// `mute_process_name_error`: logs no error reading a process's name.
    pub mute_process_name_error: bool,
    /// `mute_process_exe_error`: logs no error reading a process's executable path.
    pub mute_process_exe_error: bool,
    /// `mute_process_io_error`: logs no error reading a process's I/O counters.
    pub mute_process_io_error: bool,
    /// `mute_process_user_error`: logs no error resolving a process's owner.
    pub mute_process_user_error: bool,
    /// `mute_process_cgroup_error`: logs no error reading a process's cgroup.
    pub mute_process_cgroup_error: bool,
    /// `scrape_process_delay`: processes younger than this are not reported (default 0).
    #[serde(with = "tributary_confmap::duration")]
    pub scrape_process_delay: Duration,
    /// `metrics`: per-metric enablement over Go's defaults.
    pub metrics: Toggles,
    /// `resource_attributes`: per-attribute enablement over Go's defaults.
    pub resource_attributes: Toggles,
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.collection_interval.is_zero() {
            return Err(ConfigError::at(
                "collection_interval",
                "requires positive value",
            ));
        }
        let s = &self.scrapers;
        let any = s.cpu.is_some()
            || s.disk.is_some()
            || s.load.is_some()
            || s.filesystem.is_some()
            || s.memory.is_some()
            || s.network.is_some()
            || s.paging.is_some()
            || s.processes.is_some()
            || s.process.is_some()
            || s.system.is_some();
        if !any {
            return Err(ConfigError::at(
                "scrapers",
                "must specify at least one scraper when using hostmetrics receiver",
            ));
        }
        if !self.root_path.is_empty() && !std::path::Path::new(&self.root_path).is_absolute() {
            return Err(ConfigError::at(
                "root_path",
                format!("{:?} must be an absolute path", self.root_path),
            ));
        }
        let metrics = |scraper: &str, toggles: &Toggles| {
            metadata::check(metadata::metrics_of(scraper), toggles)
                .map_err(|e| e.within(&format!("scrapers::{scraper}::metrics")))
        };
        if let Some(c) = &s.cpu {
            metrics("cpu", &c.metrics)?;
        }
        if let Some(c) = &s.load {
            metrics("load", &c.metrics)?;
        }
        if let Some(c) = &s.memory {
            metrics("memory", &c.metrics)?;
        }
        if let Some(c) = &s.paging {
            metrics("paging", &c.metrics)?;
        }
        if let Some(c) = &s.processes {
            metrics("processes", &c.metrics)?;
        }
        if let Some(c) = &s.system {
            metrics("system", &c.metrics)?;
        }
        if let Some(c) = &s.disk {
            metrics("disk", &c.metrics)?;
            let at = |e: ConfigError| e.within("scrapers::disk");
            c.filters().map_err(at)?;
        }
        if let Some(c) = &s.filesystem {
            metrics("filesystem", &c.metrics)?;
            c.filters().map_err(|e| e.within("scrapers::filesystem"))?;
        }
        if let Some(c) = &s.network {
            metrics("network", &c.metrics)?;
            c.filters().map_err(|e| e.within("scrapers::network"))?;
        }
        if let Some(c) = &s.process {
            metrics("process", &c.metrics)?;
            metadata::check(
                metadata::PROCESS_RESOURCE_ATTRIBUTES,
                &c.resource_attributes,
            )
            .map_err(|e| e.within("scrapers::process::resource_attributes"))?;
            c.filters().map_err(|e| e.within("scrapers::process"))?;
        }
        Ok(())
    }
}

/// An include and an exclude filter, compiled.
#[derive(Debug, Clone, Default)]
pub(crate) struct IncludeExclude {
    include: Option<Filter>,
    exclude: Option<Filter>,
}

impl IncludeExclude {
    fn compile(
        include: Option<(&[String], &str)>,
        exclude: Option<(&[String], &str)>,
        include_key: &str,
        exclude_key: &str,
    ) -> Result<IncludeExclude, ConfigError> {
        let compile = |block: Option<(&[String], &str)>, key: &str| {
            // Go builds a filter only for a non-empty list; an empty one filters nothing.
            block
                .filter(|(items, _)| !items.is_empty())
                .map(|(items, match_type)| {
                    Filter::new(items, match_type).map_err(|e| e.within(key))
                })
                .transpose()
        };
        Ok(IncludeExclude {
            include: compile(include, include_key)?,
            exclude: compile(exclude, exclude_key)?,
        })
    }

    /// Whether `name` passes: matched by `include` (when set) and not by `exclude`.
    pub(crate) fn passes(&self, name: &str) -> bool {
        self.include.as_ref().is_none_or(|f| f.matches(name))
            && !self.exclude.as_ref().is_some_and(|f| f.matches(name))
    }
}

/// A filter block's list and `match_type`.
trait MatchBlock {
    fn parts(&self) -> (&[String], &str);
}

macro_rules! match_block {
    ($type:ty, $list:ident) => {
        impl MatchBlock for $type {
            fn parts(&self) -> (&[String], &str) {
                (self.$list.as_slice(), self.match_type.as_str())
            }
        }
    };
}
match_block!(MatchDevices, devices);
match_block!(MatchFsTypes, fs_types);
match_block!(MatchMountPoints, mount_points);
match_block!(MatchInterfaces, interfaces);
match_block!(MatchNames, names);

fn parts<M: MatchBlock>(m: &Option<M>) -> Option<(&[String], &str)> {
    m.as_ref().map(MatchBlock::parts)
}

impl DiskConfig {
    pub(crate) fn filters(&self) -> Result<IncludeExclude, ConfigError> {
        IncludeExclude::compile(
            parts(&self.include),
            parts(&self.exclude),
            "include",
            "exclude",
        )
    }
}

/// The filesystem scraper's three compiled filters.
#[derive(Debug, Clone, Default)]
pub(crate) struct FilesystemFilters {
    pub(crate) devices: IncludeExclude,
    pub(crate) fs_types: IncludeExclude,
    pub(crate) mount_points: IncludeExclude,
}

impl FilesystemConfig {
    pub(crate) fn filters(&self) -> Result<FilesystemFilters, ConfigError> {
        Ok(FilesystemFilters {
            devices: IncludeExclude::compile(
                parts(&self.include_devices),
                parts(&self.exclude_devices),
                "include_devices",
                "exclude_devices",
            )?,
            fs_types: IncludeExclude::compile(
                parts(&self.include_fs_types),
                parts(&self.exclude_fs_types),
                "include_fs_types",
                "exclude_fs_types",
            )?,
            mount_points: IncludeExclude::compile(
                parts(&self.include_mount_points),
                parts(&self.exclude_mount_points),
                "include_mount_points",
                "exclude_mount_points",
            )?,
        })
    }
}

impl NetworkConfig {
    pub(crate) fn filters(&self) -> Result<IncludeExclude, ConfigError> {
        IncludeExclude::compile(
            parts(&self.include),
            parts(&self.exclude),
            "include",
            "exclude",
        )
    }
}

impl ProcessConfig {
    pub(crate) fn filters(&self) -> Result<IncludeExclude, ConfigError> {
        IncludeExclude::compile(
            parts(&self.include),
            parts(&self.exclude),
            "include",
            "exclude",
        )
    }
}
