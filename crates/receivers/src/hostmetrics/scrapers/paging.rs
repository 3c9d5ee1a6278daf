//! The `paging` scraper: swap devices from `/proc/swaps`, page and swap traffic and faults
//! from `/proc/vmstat`.

use procfs::VmStat;
use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::builder::{MetricsBuilder, Temporality};

use super::{Scrape, ScrapeContext, ScrapeError, int};
use crate::hostmetrics::metadata::Enabled;

/// Reads swap usage and paging counters.
pub(crate) struct PagingScraper {
    pub(crate) enabled: Enabled,
}

/// `(device, used bytes, free bytes)` per line of `/proc/swaps` (sizes are KiB there).
pub fn parse_swaps(text: &str) -> Vec<(String, u64, u64)> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let size = fields.get(2)?.parse::<u64>().ok()?;
            let used = fields.get(3)?.parse::<u64>().ok()?;
            Some((
                fields[0].to_string(),
                used.saturating_mul(1024),
                size.saturating_sub(used).saturating_mul(1024),
            ))
        })
        .collect()
}

impl Scrape for PagingScraper {
    fn name(&self) -> &'static str {
        "paging"
    }

    fn scrape(&self, cx: &ScrapeContext<'_>, out: &mut MetricsBuilder) -> Result<(), ScrapeError> {
        let start = cx.fs.boot_time_nanos()?;
        let swaps = parse_swaps(&cx.fs.read_text("swaps")?);
        let vmstat: VmStat = cx.fs.read("vmstat")?;
        let v = |key: &str| vmstat.0.get(key).copied().unwrap_or(0).max(0) as u64;
        cx.begin(out, "paging");
        if self.enabled.has("system.paging.faults") {
            let major = v("pgmajfault");
            out.sum(
                "system.paging.faults",
                "{faults}",
                Temporality::Cumulative,
                true,
            )
            .description("The number of page faults.")
            .int(vec![key_value("type", "major")], start, cx.now, int(major))
            .int(
                vec![key_value("type", "minor")],
                start,
                cx.now,
                int(v("pgfault").saturating_sub(major)),
            );
        }
        if self.enabled.has("system.paging.operations") {
            let point = |direction: &str, kind: &str| {
                vec![key_value("direction", direction), key_value("type", kind)]
            };
            out.sum(
                "system.paging.operations",
                "{operations}",
                Temporality::Cumulative,
                true,
            )
            .description("The number of paging operations.")
            .int(point("page_in", "major"), start, cx.now, int(v("pswpin")))
            .int(point("page_out", "major"), start, cx.now, int(v("pswpout")))
            .int(point("page_in", "minor"), start, cx.now, int(v("pgpgin")))
            .int(point("page_out", "minor"), start, cx.now, int(v("pgpgout")));
        }
        let point = |device: &str, state: &str| {
            vec![key_value("device", device), key_value("state", state)]
        };
        if self.enabled.has("system.paging.usage") {
            let mut sum = out.sum("system.paging.usage", "By", Temporality::Cumulative, false);
            sum.description("Swap (unix) or pagefile (windows) usage.");
            for (device, used, free) in &swaps {
                sum.int(point(device, "used"), cx.started, cx.now, int(*used));
                sum.int(point(device, "free"), cx.started, cx.now, int(*free));
            }
        }
        if self.enabled.has("system.paging.utilization") {
            let mut gauge = out.gauge("system.paging.utilization", "1");
            gauge.description("Swap (unix) or pagefile (windows) utilization.");
            for (device, used, free) in swaps.iter().filter(|(_, u, f)| u + f > 0) {
                let total = (used + free) as f64;
                gauge.double(point(device, "used"), cx.now, *used as f64 / total);
                gauge.double(point(device, "free"), cx.now, *free as f64 / total);
            }
        }
        Ok(())
    }
}
