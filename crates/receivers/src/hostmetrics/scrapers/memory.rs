//! The `memory` scraper: `/proc/meminfo`.

use procfs::Meminfo;
use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::builder::{MetricsBuilder, Temporality};

use super::{Scrape, ScrapeContext, ScrapeError, int};
use crate::hostmetrics::metadata::Enabled;

/// Reads memory by state, as Go's gopsutil-based scraper reports it on Linux.
pub(crate) struct MemoryScraper {
    pub(crate) enabled: Enabled,
}

impl Scrape for MemoryScraper {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn scrape(&self, cx: &ScrapeContext<'_>, out: &mut MetricsBuilder) -> Result<(), ScrapeError> {
        let m: Meminfo = cx.fs.read("meminfo")?;
        let reclaimable = m.s_reclaimable.unwrap_or(0);
        let unreclaimable = m.s_unreclaim.unwrap_or(0);
        // gopsutil counts reclaimable slab as cache and "used" as what is neither free,
        // buffers nor cache; Go reports those figures under these states.
        let cached = m.cached + reclaimable;
        let used = m
            .mem_total
            .saturating_sub(m.mem_free)
            .saturating_sub(m.buffers)
            .saturating_sub(cached);
        let states = [
            ("used", used),
            ("free", m.mem_free),
            ("buffered", m.buffers),
            ("cached", cached),
            ("slab_reclaimable", reclaimable),
            ("slab_unreclaimable", unreclaimable),
        ];
        cx.begin(out, "memory");
        if self.enabled.has("system.memory.usage") {
            let mut sum = out.sum("system.memory.usage", "By", Temporality::Cumulative, false);
            sum.description("Bytes of memory in use.");
            for (state, bytes) in states {
                sum.int(
                    vec![key_value("state", state)],
                    cx.started,
                    cx.now,
                    int(bytes),
                );
            }
        }
        if self.enabled.has("system.memory.utilization") && m.mem_total > 0 {
            let mut gauge = out.gauge("system.memory.utilization", "1");
            gauge.description("Percentage of memory bytes in use.");
            for (state, bytes) in states {
                let share = bytes as f64 / m.mem_total as f64;
                gauge.double(vec![key_value("state", state)], cx.now, share);
            }
        }
        if self.enabled.has("system.memory.limit") {
            out.sum("system.memory.limit", "By", Temporality::Cumulative, false)
                .description("Total bytes of memory available.")
                .int(vec![], cx.started, cx.now, int(m.mem_total));
        }
        if self.enabled.has("system.memory.page_size") {
            out.sum(
                "system.memory.page_size",
                "By",
                Temporality::Cumulative,
                false,
            )
            .description("A constant value for the system's configured page size.")
            .int(vec![], cx.started, cx.now, int(procfs::page_size()));
        }
        if self.enabled.has("system.linux.memory.available")
            && let Some(available) = m.mem_available
        {
            out.sum("system.linux.memory.available", "By", Temporality::Cumulative, false)
                .description("An estimate of how much memory is available for starting new applications, without swapping.")
                .int(vec![], cx.started, cx.now, int(available));
        }
        if self.enabled.has("system.linux.memory.dirty") {
            out.sum(
                "system.linux.memory.dirty",
                "By",
                Temporality::Cumulative,
                false,
            )
            .description("The amount of dirty memory according to `/proc/meminfo`.")
            .int(vec![], cx.started, cx.now, int(m.dirty));
        }
        Ok(())
    }
}
