//! The `processes` scraper: processes by state from `/proc/<pid>/stat`, with the running
//! and blocked counts and the fork count from `/proc/stat` (one read, so more exact), as
//! Go does on Linux.

use std::collections::BTreeMap;

use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::builder::{MetricsBuilder, Temporality};

use super::cpu::kernel_stats;
use super::{Scrape, ScrapeContext, ScrapeError, int};
use crate::hostmetrics::metadata::Enabled;

/// Counts processes by status.
pub(crate) struct ProcessesScraper {
    pub(crate) enabled: Enabled,
}

/// Go's `status` value for the kernel's one-letter process state.
fn status(state: char) -> &'static str {
    match state {
        'R' => "running",
        'S' => "sleeping",
        'D' => "blocked",
        'T' | 't' => "stopped",
        'I' => "idle",
        'Z' => "zombies",
        'W' => "paging",
        'L' => "locked",
        _ => "unknown",
    }
}

impl Scrape for ProcessesScraper {
    fn name(&self) -> &'static str {
        "processes"
    }

    fn scrape(&self, cx: &ScrapeContext<'_>, out: &mut MetricsBuilder) -> Result<(), ScrapeError> {
        let stats = kernel_stats(cx)?;
        let start = stats.btime.saturating_mul(1_000_000_000);
        let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
        if self.enabled.has("system.processes.count") {
            let all = procfs::process::all_processes_with_root(cx.fs.proc_dir())
                .map_err(|e| ScrapeError(format!("listing processes: {e}")))?;
            // A process that exits while we read is simply not counted.
            for stat in all.flatten().filter_map(|p| p.stat().ok()) {
                *counts.entry(status(stat.state)).or_default() += 1;
            }
            counts.insert("running", u64::from(stats.procs_running.unwrap_or(0)));
            counts.insert("blocked", u64::from(stats.procs_blocked.unwrap_or(0)));
        }
        cx.begin(out, "processes");
        if self.enabled.has("system.processes.count") {
            let mut sum = out.sum(
                "system.processes.count",
                "{processes}",
                Temporality::Cumulative,
                false,
            );
            sum.description("Total number of processes in each state.");
            for (status, count) in counts {
                sum.int(
                    vec![key_value("status", status)],
                    cx.started,
                    cx.now,
                    int(count),
                );
            }
        }
        if self.enabled.has("system.processes.created") {
            out.sum(
                "system.processes.created",
                "{processes}",
                Temporality::Cumulative,
                true,
            )
            .description("Total number of created processes.")
            .int(vec![], start, cx.now, int(stats.processes));
        }
        Ok(())
    }
}
