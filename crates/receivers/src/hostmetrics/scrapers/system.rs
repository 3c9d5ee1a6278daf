//! The `system` scraper: `/proc/uptime`.

use tributary_pipeline_core::pdata::builder::MetricsBuilder;

use super::{Scrape, ScrapeContext, ScrapeError};
use crate::hostmetrics::metadata::Enabled;

/// Reads how long the host has been up.
pub(crate) struct SystemScraper {
    pub(crate) enabled: Enabled,
}

impl Scrape for SystemScraper {
    fn name(&self) -> &'static str {
        "system"
    }

    fn scrape(&self, cx: &ScrapeContext<'_>, out: &mut MetricsBuilder) -> Result<(), ScrapeError> {
        let text = cx.fs.read_text("uptime")?;
        let uptime = text
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<f64>().ok())
            .ok_or_else(|| ScrapeError(format!("no uptime in {text:?}")))?;
        cx.begin(out, "system");
        if self.enabled.has("system.uptime") {
            out.gauge("system.uptime", "s")
                .description("The time the system has been up and running.")
                .double(vec![], cx.now, uptime);
        }
        Ok(())
    }
}
