//! The scrapers: each reads one part of the host (under `root_path`) into a batch.

mod cpu;
mod disk;
mod filesystem;
mod load;
mod memory;
mod network;
mod paging;
mod process;
mod processes;
mod system;

use std::fmt;
use std::path::{Path, PathBuf};

use procfs::FromRead;
use tributary_pipeline_core::pdata::builder::MetricsBuilder;

pub(crate) use cpu::CpuScraper;
pub(crate) use disk::DiskScraper;
pub(crate) use filesystem::FilesystemScraper;
pub(crate) use load::LoadScraper;
pub(crate) use memory::MemoryScraper;
pub(crate) use network::NetworkScraper;
pub use network::count_tcp_states;
pub(crate) use paging::PagingScraper;
pub use paging::parse_swaps;
pub(crate) use process::{ProcessErrors, ProcessScraper};
pub(crate) use processes::ProcessesScraper;
pub(crate) use system::SystemScraper;

/// The Go scrapers' instrumentation scope names end with `<x>scraper` under this path.
const SCOPE_PREFIX: &str = "github.com/open-telemetry/opentelemetry-collector-contrib/receiver/hostmetricsreceiver/internal/scraper/";

/// Why a scraper produced nothing (or only part of its metrics).
#[derive(Debug)]
pub(crate) struct ScrapeError(pub(crate) String);

impl fmt::Display for ScrapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The host's file system as the receiver sees it: `/` or `root_path`.
#[derive(Debug, Clone)]
pub(crate) struct HostFs {
    root: PathBuf,
}

impl HostFs {
    /// The host at `root_path` (`""` for `/`).
    pub(crate) fn new(root_path: &str) -> HostFs {
        let root = if root_path.is_empty() { "/" } else { root_path };
        HostFs {
            root: PathBuf::from(root),
        }
    }

    /// The network files of the host's namespace: with a `root_path`, pid 1's
    /// (`<root>/proc/1/net`), since `<root>/proc/net` resolves through `self` to the
    /// collector's own namespace in a container; otherwise the collector's (`/proc/net`).
    pub(crate) fn net(&self, file: &str) -> String {
        let host = format!("1/net/{file}");
        if self.root != Path::new("/") && self.proc(&host).exists() {
            host
        } else {
            format!("net/{file}")
        }
    }

    /// `<root>/proc`.
    pub(crate) fn proc_dir(&self) -> PathBuf {
        self.root.join("proc")
    }

    /// `<root>/proc/<relative>`.
    pub(crate) fn proc(&self, relative: &str) -> PathBuf {
        self.proc_dir().join(relative)
    }

    /// `absolute` (a host path such as a mount point) under the root.
    pub(crate) fn host_path(&self, absolute: &Path) -> PathBuf {
        self.root
            .join(absolute.strip_prefix("/").unwrap_or(absolute))
    }

    /// Reads a `procfs` type from `<root>/proc/<relative>`.
    pub(crate) fn read<T: FromRead>(&self, relative: &str) -> Result<T, ScrapeError> {
        let path = self.proc(relative);
        T::from_file(&path).map_err(|e| ScrapeError(format!("reading {}: {e}", path.display())))
    }

    /// The text of `<root>/proc/<relative>`.
    pub(crate) fn read_text(&self, relative: &str) -> Result<String, ScrapeError> {
        let path = self.proc(relative);
        std::fs::read_to_string(&path)
            .map_err(|e| ScrapeError(format!("reading {}: {e}", path.display())))
    }

    /// `btime` of `<root>/proc/stat`, in nanoseconds since the epoch: the start of every
    /// cumulative sum the kernel counts from boot.
    pub(crate) fn boot_time_nanos(&self) -> Result<u64, ScrapeError> {
        let stat = self.read_text("stat")?;
        stat.lines()
            .find_map(|line| line.strip_prefix("btime "))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|secs| secs.saturating_mul(1_000_000_000))
            .ok_or_else(|| ScrapeError(format!("no btime in {}", self.proc("stat").display())))
    }
}

/// What one scrape needs to know: where the host is and when the scrape runs.
#[derive(Debug)]
pub(crate) struct ScrapeContext<'a> {
    pub(crate) fs: &'a HostFs,
    /// The time of every point, nanoseconds since the epoch.
    pub(crate) now: u64,
    /// When the receiver started: the start of sums that do not count from boot.
    pub(crate) started: u64,
    /// The instrumentation scope version (this build's).
    pub(crate) version: &'a str,
}

impl ScrapeContext<'_> {
    /// Starts the scraper's resource (empty, as Go's) and scope.
    pub(crate) fn begin(&self, out: &mut MetricsBuilder, scraper: &str) {
        out.resource(Vec::new())
            .scope(&format!("{SCOPE_PREFIX}{scraper}scraper"), self.version);
    }
}

/// One scraper: reads its part of the host into `out`.
pub(crate) trait Scrape: Send + Sync {
    /// The key under `scrapers` (`cpu`, `disk`...).
    fn name(&self) -> &'static str;
    /// Adds this scrape's metrics to `out`; an error means some or all are missing.
    fn scrape(&self, cx: &ScrapeContext<'_>, out: &mut MetricsBuilder) -> Result<(), ScrapeError>;
}

/// Converts a byte count (or any kernel counter) to the `i64` OTLP carries.
pub(crate) fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
