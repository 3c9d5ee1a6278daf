//! The `load` scraper: `/proc/loadavg`.

use procfs::LoadAverage;
use tributary_pipeline_core::pdata::builder::MetricsBuilder;

use super::cpu::kernel_stats;
use super::{Scrape, ScrapeContext, ScrapeError};
use crate::hostmetrics::metadata::Enabled;

/// Reads the 1, 5 and 15 minute load averages.
pub(crate) struct LoadScraper {
    pub(crate) enabled: Enabled,
    /// `cpu_average`: divide by the logical CPU count.
    pub(crate) cpu_average: bool,
}

impl Scrape for LoadScraper {
    fn name(&self) -> &'static str {
        "load"
    }

    fn scrape(&self, cx: &ScrapeContext<'_>, out: &mut MetricsBuilder) -> Result<(), ScrapeError> {
        let load: LoadAverage = cx.fs.read("loadavg")?;
        let divisor = if self.cpu_average {
            kernel_stats(cx)?.cpu_time.len().max(1) as f64
        } else {
            1.0
        };
        cx.begin(out, "load");
        for (name, value, description) in [
            (
                "system.cpu.load_average.1m",
                load.one,
                "Average CPU Load over 1 minute.",
            ),
            (
                "system.cpu.load_average.5m",
                load.five,
                "Average CPU Load over 5 minutes.",
            ),
            (
                "system.cpu.load_average.15m",
                load.fifteen,
                "Average CPU Load over 15 minutes.",
            ),
        ] {
            if self.enabled.has(name) {
                out.gauge(name, "{thread}").description(description).double(
                    vec![],
                    cx.now,
                    f64::from(value) / divisor,
                );
            }
        }
        Ok(())
    }
}
