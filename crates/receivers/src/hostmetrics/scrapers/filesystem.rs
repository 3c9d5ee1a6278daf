//! The `filesystem` scraper: mounts from `<root>/proc/1/mountinfo` (the host's mount
//! namespace), usage by `statvfs` of `<root>/<mount point>`.

use std::collections::HashSet;
use std::path::Path;

use procfs::process::MountInfos;
use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::builder::{MetricsBuilder, Temporality};
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;

use super::{Scrape, ScrapeContext, ScrapeError, int};
use crate::hostmetrics::config::FilesystemFilters;
use crate::hostmetrics::metadata::Enabled;

/// Reads space and inode usage per mounted file system.
pub(crate) struct FilesystemScraper {
    pub(crate) enabled: Enabled,
    pub(crate) filters: FilesystemFilters,
    pub(crate) include_virtual_filesystems: bool,
}

/// One mounted file system and its usage.
struct Usage {
    attributes: Vec<KeyValue>,
    used: u64,
    free: u64,
    reserved: u64,
    inodes_used: u64,
    inodes_free: u64,
}

impl FilesystemScraper {
    /// The mounts of the host's namespace: pid 1's, or ours when pid 1's are unreadable.
    fn mounts(&self, cx: &ScrapeContext<'_>) -> Result<MountInfos, ScrapeError> {
        cx.fs
            .read::<MountInfos>("1/mountinfo")
            .or_else(|_| cx.fs.read::<MountInfos>("self/mountinfo"))
    }

    /// The file system types the kernel marks `nodev` (proc, tmpfs...): gopsutil's
    /// "virtual" ones, left out unless `include_virtual_filesystems`.
    fn virtual_types(cx: &ScrapeContext<'_>) -> HashSet<String> {
        cx.fs
            .read_text("filesystems")
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.strip_prefix("nodev"))
            .map(|t| t.trim().to_string())
            .collect()
    }
}

impl Scrape for FilesystemScraper {
    fn name(&self) -> &'static str {
        "filesystem"
    }

    fn scrape(&self, cx: &ScrapeContext<'_>, out: &mut MetricsBuilder) -> Result<(), ScrapeError> {
        let mounts = self.mounts(cx)?;
        let virtual_types = Self::virtual_types(cx);
        let mut usages = Vec::new();
        let mut failures = Vec::new();
        for mount in &mounts {
            let device = mount.mount_source.clone().unwrap_or_else(|| "none".into());
            let mount_point = mount.mount_point.to_string_lossy().into_owned();
            if !self.include_virtual_filesystems && virtual_types.contains(&mount.fs_type) {
                continue;
            }
            let f = &self.filters;
            if !f.devices.passes(&device)
                || !f.fs_types.passes(&mount.fs_type)
                || !f.mount_points.passes(&mount_point)
            {
                continue;
            }
            let path = cx.fs.host_path(Path::new(&mount.mount_point));
            let stat = match rustix::fs::statvfs(&path) {
                Ok(stat) => stat,
                Err(e) => {
                    failures.push(format!("{}: {e}", path.display()));
                    continue;
                }
            };
            let size = stat.f_frsize;
            let total = stat.f_blocks.saturating_mul(size);
            let free = stat.f_bavail.saturating_mul(size);
            let used = stat
                .f_blocks
                .saturating_sub(stat.f_bfree)
                .saturating_mul(size);
            let mode = if mount.mount_options.contains_key("ro") {
                "ro"
            } else {
                "rw"
            };
            usages.push(Usage {
                attributes: vec![
                    key_value("device", device),
                    key_value("mode", mode),
                    key_value("mountpoint", mount_point),
                    key_value("type", mount.fs_type.as_str()),
                ],
                used,
                free,
                reserved: total.saturating_sub(used).saturating_sub(free),
                inodes_used: stat.f_files.saturating_sub(stat.f_ffree),
                inodes_free: stat.f_ffree,
            });
        }
        cx.begin(out, "filesystem");
        let with = |u: &Usage, state: &str| {
            let mut attributes = u.attributes.clone();
            attributes.push(key_value("state", state));
            attributes
        };
        if self.enabled.has("system.filesystem.usage") {
            let mut sum = out.sum(
                "system.filesystem.usage",
                "By",
                Temporality::Cumulative,
                false,
            );
            sum.description("Filesystem bytes used.");
            for u in &usages {
                sum.int(with(u, "used"), cx.started, cx.now, int(u.used));
                sum.int(with(u, "free"), cx.started, cx.now, int(u.free));
                sum.int(with(u, "reserved"), cx.started, cx.now, int(u.reserved));
            }
        }
        if self.enabled.has("system.filesystem.inodes.usage") {
            let mut sum = out.sum(
                "system.filesystem.inodes.usage",
                "{inodes}",
                Temporality::Cumulative,
                false,
            );
            sum.description("FileSystem inodes used.");
            for u in &usages {
                sum.int(with(u, "used"), cx.started, cx.now, int(u.inodes_used));
                sum.int(with(u, "free"), cx.started, cx.now, int(u.inodes_free));
            }
        }
        if self.enabled.has("system.filesystem.utilization") {
            let mut gauge = out.gauge("system.filesystem.utilization", "1");
            gauge.description("Fraction of filesystem bytes used.");
            for u in usages.iter().filter(|u| u.used + u.free > 0) {
                let share = u.used as f64 / (u.used + u.free) as f64;
                gauge.double(u.attributes.clone(), cx.now, share);
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(ScrapeError(format!(
                "failed to read usage at {}",
                failures.join(", ")
            )))
        }
    }
}
