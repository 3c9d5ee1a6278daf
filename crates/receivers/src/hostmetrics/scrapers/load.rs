//! The `load` scraper: `/proc/loadavg`.

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
        // Parsed here rather than with procfs's `LoadAverage`, which keeps `f32`: Go parses
        // the kernel's two-decimal text into a float64, and so do we (5.40 stays 5.4).
        let text = cx.fs.read_text("loadavg")?;
        let fields: Vec<f64> = text
            .split_whitespace()
            .take(3)
            .filter_map(|v| v.parse().ok())
            .collect();
        let [one, five, fifteen] = fields[..] else {
            return Err(ScrapeError(format!("malformed loadavg {text:?}")));
        };
        let divisor = if self.cpu_average {
            kernel_stats(cx)?.cpu_time.len().max(1) as f64
        } else {
            1.0
        };
        cx.begin(out, "load");
        for (name, value, description) in [
            (
                "system.cpu.load_average.1m",
                one,
                "Average CPU Load over 1 minute.",
            ),
            (
                "system.cpu.load_average.5m",
                five,
                "Average CPU Load over 5 minutes.",
            ),
            (
                "system.cpu.load_average.15m",
                fifteen,
                "Average CPU Load over 15 minutes.",
            ),
        ] {
            if self.enabled.has(name) {
                out.gauge(name, "{thread}").description(description).double(
                    vec![],
                    cx.now,
                    value / divisor,
                );
            }
        }
        Ok(())
    }
}
