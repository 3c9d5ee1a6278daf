//! The `cpu` scraper: `/proc/stat` per CPU, and `/proc/cpuinfo` for frequency and counts.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use procfs::{CpuInfo, CpuTime, ExplicitSystemInfo, FromReadSI, KernelStats};
use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::builder::{MetricsBuilder, Temporality};

use super::{Scrape, ScrapeContext, ScrapeError, int};
use crate::hostmetrics::metadata::Enabled;

/// Reads per-CPU time; remembers the previous scrape for `system.cpu.utilization`.
pub(crate) struct CpuScraper {
    enabled: Enabled,
    previous: Mutex<Option<Vec<[f64; 8]>>>,
}

/// Go's `state` values, in the order [`states`] returns them.
const STATES: [&str; 8] = [
    "user",
    "system",
    "idle",
    "interrupt",
    "nice",
    "softirq",
    "steal",
    "wait",
];

/// Seconds per state of one CPU.
fn states(t: &CpuTime, tps: f64) -> [f64; 8] {
    let s = |ticks: u64| ticks as f64 / tps;
    [
        s(t.user),
        s(t.system),
        s(t.idle),
        s(t.irq.unwrap_or(0)),
        s(t.nice),
        s(t.softirq.unwrap_or(0)),
        s(t.steal.unwrap_or(0)),
        s(t.iowait.unwrap_or(0)),
    ]
}

impl CpuScraper {
    pub(crate) fn new(enabled: Enabled) -> CpuScraper {
        CpuScraper {
            enabled,
            previous: Mutex::new(None),
        }
    }
}

/// Reads `<root>/proc/stat` with this machine's clock ticks.
pub(crate) fn kernel_stats(cx: &ScrapeContext<'_>) -> Result<KernelStats, ScrapeError> {
    let path = cx.fs.proc("stat");
    let info = ExplicitSystemInfo {
        boot_time_secs: 0,
        ticks_per_second: procfs::ticks_per_second(),
        page_size: procfs::page_size(),
        is_little_endian: cfg!(target_endian = "little"),
    };
    KernelStats::from_file(&path, &info)
        .map_err(|e| ScrapeError(format!("reading {}: {e}", path.display())))
}

impl Scrape for CpuScraper {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn scrape(&self, cx: &ScrapeContext<'_>, out: &mut MetricsBuilder) -> Result<(), ScrapeError> {
        let stats = kernel_stats(cx)?;
        let start = stats.btime.saturating_mul(1_000_000_000);
        let tps = procfs::ticks_per_second().max(1) as f64;
        let now: Vec<[f64; 8]> = stats.cpu_time.iter().map(|t| states(t, tps)).collect();
        let cpu = |i: usize| key_value("cpu", format!("cpu{i}"));
        cx.begin(out, "cpu");
        if self.enabled.has("system.cpu.time") {
            let mut sum = out.sum("system.cpu.time", "s", Temporality::Cumulative, true);
            sum.description("Total seconds each logical CPU spent on each mode.");
            for (i, seconds) in now.iter().enumerate() {
                for (state, value) in STATES.iter().zip(seconds) {
                    sum.double(
                        vec![cpu(i), key_value("state", *state)],
                        start,
                        cx.now,
                        *value,
                    );
                }
            }
        }
        let previous = {
            let mut previous = self.previous.lock().unwrap_or_else(|e| e.into_inner());
            previous.replace(now.clone())
        };
        // Utilization needs two scrapes, as Go's: the first one reports none.
        if self.enabled.has("system.cpu.utilization")
            && let Some(previous) = previous.filter(|p| p.len() == now.len())
        {
            let mut gauge = out.gauge("system.cpu.utilization", "1");
            gauge.description("Difference in system.cpu.time since the last measurement per logical CPU, divided by the elapsed time (value in interval [0,1]).");
            for (i, (now, before)) in now.iter().zip(&previous).enumerate() {
                let total: f64 = now.iter().zip(before).map(|(a, b)| a - b).sum();
                for (k, state) in STATES.iter().enumerate() {
                    let share = if total > 0.0 {
                        (now[k] - before[k]) / total
                    } else {
                        0.0
                    };
                    gauge.double(vec![cpu(i), key_value("state", *state)], cx.now, share);
                }
            }
        }
        let wants_info = self.enabled.has("system.cpu.frequency")
            || self.enabled.has("system.cpu.physical.count");
        let info = if wants_info {
            Some(cx.fs.read::<CpuInfo>("cpuinfo")?)
        } else {
            None
        };
        if self.enabled.has("system.cpu.logical.count") {
            out.sum(
                "system.cpu.logical.count",
                "{cpu}",
                Temporality::Cumulative,
                false,
            )
            .description("Number of available logical CPUs.")
            .int(vec![], start, cx.now, int(now.len() as u64));
        }
        if let Some(info) = &info {
            if self.enabled.has("system.cpu.physical.count") {
                let cores: BTreeSet<(String, String)> = (0..info.num_cores())
                    .map(|i| {
                        let field = |k: &str| info.get_field(i, k).unwrap_or("").to_string();
                        (field("physical id"), field("core id"))
                    })
                    .collect();
                out.sum(
                    "system.cpu.physical.count",
                    "{cpu}",
                    Temporality::Cumulative,
                    false,
                )
                .description("Number of available physical CPUs.")
                .int(vec![], start, cx.now, int(cores.len() as u64));
            }
            if self.enabled.has("system.cpu.frequency") {
                let mut gauge = out.gauge("system.cpu.frequency", "Hz");
                gauge.description("Current frequency of the CPU core in Hz.");
                let mhz: HashMap<usize, f64> = (0..info.num_cores())
                    .filter_map(|i| {
                        let v = info.get_field(i, "cpu MHz")?.trim().parse::<f64>().ok()?;
                        Some((i, v))
                    })
                    .collect();
                for i in 0..info.num_cores() {
                    if let Some(v) = mhz.get(&i) {
                        gauge.double(vec![cpu(i)], cx.now, v * 1_000_000.0);
                    }
                }
            }
        }
        Ok(())
    }
}
