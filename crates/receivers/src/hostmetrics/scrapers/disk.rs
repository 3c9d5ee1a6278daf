//! The `disk` scraper: `/proc/diskstats`.

use procfs::DiskStat;
use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::builder::{MetricsBuilder, Temporality};

use super::{Scrape, ScrapeContext, ScrapeError, int};
use crate::hostmetrics::config::IncludeExclude;
use crate::hostmetrics::metadata::Enabled;

/// The kernel counts `/proc/diskstats` sectors in 512-byte units whatever the device's.
const SECTOR: u64 = 512;

/// Reads I/O counters per block device.
pub(crate) struct DiskScraper {
    pub(crate) enabled: Enabled,
    pub(crate) devices: IncludeExclude,
}

impl Scrape for DiskScraper {
    fn name(&self) -> &'static str {
        "disk"
    }

    fn scrape(&self, cx: &ScrapeContext<'_>, out: &mut MetricsBuilder) -> Result<(), ScrapeError> {
        let start = cx.fs.boot_time_nanos()?;
        let text = cx.fs.read_text("diskstats")?;
        let disks: Vec<DiskStat> = text
            .lines()
            .filter_map(|line| DiskStat::from_line(line).ok())
            .filter(|d| self.devices.passes(&d.name))
            .collect();
        cx.begin(out, "disk");
        let device = |d: &DiskStat| key_value("device", d.name.as_str());
        let rw = |d: &DiskStat, dir: &str| {
            vec![
                key_value("device", d.name.as_str()),
                key_value("direction", dir),
            ]
        };
        let seconds = |ms: u64| ms as f64 / 1000.0;
        if self.enabled.has("system.disk.io") {
            let mut sum = out.sum("system.disk.io", "By", Temporality::Cumulative, true);
            sum.description("Disk bytes transferred.");
            for d in &disks {
                sum.int(
                    rw(d, "read"),
                    start,
                    cx.now,
                    int(d.sectors_read.saturating_mul(SECTOR)),
                );
                sum.int(
                    rw(d, "write"),
                    start,
                    cx.now,
                    int(d.sectors_written.saturating_mul(SECTOR)),
                );
            }
        }
        if self.enabled.has("system.disk.io_time") {
            let mut sum = out.sum("system.disk.io_time", "s", Temporality::Cumulative, true);
            sum.description("Time disk spent activated. On Windows, this is calculated as the inverse of disk idle time.");
            for d in &disks {
                sum.double(vec![device(d)], start, cx.now, seconds(d.time_in_progress));
            }
        }
        if self.enabled.has("system.disk.merged") {
            let mut sum = out.sum(
                "system.disk.merged",
                "{operations}",
                Temporality::Cumulative,
                true,
            );
            sum.description("The number of disk reads/writes merged into single physical disk access operations.");
            for d in &disks {
                sum.int(rw(d, "read"), start, cx.now, int(d.merged));
                sum.int(rw(d, "write"), start, cx.now, int(d.writes_merged));
            }
        }
        if self.enabled.has("system.disk.operation_time") {
            let mut sum = out.sum(
                "system.disk.operation_time",
                "s",
                Temporality::Cumulative,
                true,
            );
            sum.description("Time spent in disk operations.");
            for d in &disks {
                sum.double(rw(d, "read"), start, cx.now, seconds(d.time_reading));
                sum.double(rw(d, "write"), start, cx.now, seconds(d.time_writing));
            }
        }
        if self.enabled.has("system.disk.operations") {
            let mut sum = out.sum(
                "system.disk.operations",
                "{operations}",
                Temporality::Cumulative,
                true,
            );
            sum.description("Disk operations count.");
            for d in &disks {
                sum.int(rw(d, "read"), start, cx.now, int(d.reads));
                sum.int(rw(d, "write"), start, cx.now, int(d.writes));
            }
        }
        if self.enabled.has("system.disk.pending_operations") {
            let mut sum = out.sum(
                "system.disk.pending_operations",
                "{operations}",
                Temporality::Cumulative,
                false,
            );
            sum.description("The queue size of pending I/O operations.");
            for d in &disks {
                sum.int(vec![device(d)], cx.started, cx.now, int(d.in_progress));
            }
        }
        if self.enabled.has("system.disk.weighted_io_time") {
            let mut sum = out.sum(
                "system.disk.weighted_io_time",
                "s",
                Temporality::Cumulative,
                true,
            );
            sum.description("Time disk spent activated multiplied by the queue length.");
            for d in &disks {
                sum.double(
                    vec![device(d)],
                    start,
                    cx.now,
                    seconds(d.weighted_time_in_progress),
                );
            }
        }
        Ok(())
    }
}
