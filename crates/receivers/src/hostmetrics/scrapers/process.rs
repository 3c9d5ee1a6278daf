//! The `process` scraper: one resource per process from `<root>/proc/<pid>` (Go reads the
//! container's own `/proc` here whatever `root_path` says; this scraper does not).
//!
//! A process that exits while it is read, or whose identity cannot be read, is skipped;
//! a counter it cannot read (I/O needs privileges for other users' processes) is left
//! out. Both are counted per cause in `otelcol_receiver_hostmetrics_process_errors` and
//! logged once per cause, unless muted by the `mute_process_*_error` keys.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use procfs::process::Process;
use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::builder::{MetricsBuilder, Temporality};
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::telemetry::{Counter, MetricsRegistry};

use super::{Scrape, ScrapeContext, ScrapeError, int};
use crate::hostmetrics::config::{IncludeExclude, ProcessConfig};
use crate::hostmetrics::metadata::{self, Enabled};

/// What went wrong reading one process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Cause {
    /// It exited, or its `stat` could not be read: skipped.
    Vanished,
    /// Its name could not be read: skipped.
    Name,
    /// Its executable path could not be read: skipped (as Go).
    Exe,
    /// Its I/O counters could not be read: `process.disk.io` left out.
    Io,
    /// Its owner could not be resolved: `process.owner` left out.
    User,
    /// Its cgroup could not be read: `process.cgroup` left out.
    Cgroup,
}

impl Cause {
    const ALL: [Cause; 6] = [
        Cause::Vanished,
        Cause::Name,
        Cause::Exe,
        Cause::Io,
        Cause::User,
        Cause::Cgroup,
    ];

    fn label(self) -> &'static str {
        match self {
            Cause::Vanished => "vanished",
            Cause::Name => "name",
            Cause::Exe => "exe",
            Cause::Io => "io",
            Cause::User => "user",
            Cause::Cgroup => "cgroup",
        }
    }
}

/// The per-cause error counters and the causes already logged.
pub(crate) struct ProcessErrors {
    counters: HashMap<Cause, Counter>,
    logged: Mutex<BTreeSet<Cause>>,
    muted: BTreeSet<Cause>,
    span: tracing::Span,
}

impl ProcessErrors {
    /// Counters registered under the receiver `id`.
    pub(crate) fn new(
        registry: &MetricsRegistry,
        id: &str,
        config: &ProcessConfig,
        span: tracing::Span,
    ) -> ProcessErrors {
        let counters = Cause::ALL
            .iter()
            .map(|cause| {
                let counter = registry.counter(
                    "otelcol_receiver_hostmetrics_process_errors",
                    "Processes (or their attributes) the process scraper could not read, by cause.",
                    &[("receiver", id), ("cause", cause.label())],
                );
                (*cause, counter)
            })
            .collect();
        let mut muted = BTreeSet::new();
        for (cause, mute) in [
            (Cause::Name, config.mute_process_name_error),
            (Cause::Exe, config.mute_process_exe_error),
            (Cause::Io, config.mute_process_io_error),
            (Cause::User, config.mute_process_user_error),
            (Cause::Cgroup, config.mute_process_cgroup_error),
        ] {
            if mute || config.mute_process_all_errors {
                muted.insert(cause);
            }
        }
        // A process that exits mid-read is normal churn: counted, never worth a warning.
        muted.insert(Cause::Vanished);
        ProcessErrors {
            counters,
            logged: Mutex::new(BTreeSet::new()),
            muted,
            span,
        }
    }

    fn record(&self, cause: Cause, pid: i32, error: &dyn std::fmt::Display) {
        if let Some(counter) = self.counters.get(&cause) {
            counter.inc();
        }
        if self.muted.contains(&cause) {
            return;
        }
        let first = self
            .logged
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(cause);
        if first {
            self.span.in_scope(|| {
                tracing::warn!(
                    cause = cause.label(),
                    pid,
                    %error,
                    "cannot read a process; such processes are counted in \
                     otelcol_receiver_hostmetrics_process_errors and not logged again"
                )
            });
        }
    }
}

/// Reads per-process metrics.
pub(crate) struct ProcessScraper {
    pub(crate) enabled: Enabled,
    pub(crate) attributes: Enabled,
    pub(crate) names: IncludeExclude,
    pub(crate) scrape_process_delay: std::time::Duration,
    pub(crate) errors: ProcessErrors,
    /// uid → user name from `<root>/etc/passwd`, read per scrape.
    pub(crate) passwd_path: std::path::PathBuf,
    /// Per pid, the previous scrape's time and CPU seconds (user, system, wait), for
    /// `process.cpu.utilization`; replaced each scrape, so it holds live pids only.
    previous_cpu: Mutex<HashMap<i32, (u64, [f64; 3])>>,
}

/// Host totals some per-process metrics are relative to.
struct Totals {
    /// `MemTotal` in bytes, when `process.memory.utilization` is enabled.
    memory: Option<u64>,
    /// Logical CPUs.
    cpus: f64,
    previous_cpu: HashMap<i32, (u64, [f64; 3])>,
    current_cpu: HashMap<i32, (u64, [f64; 3])>,
}

impl ProcessScraper {
    /// Builds the scraper from its config.
    pub(crate) fn new(
        config: &ProcessConfig,
        fs: &super::HostFs,
        errors: ProcessErrors,
    ) -> Result<ProcessScraper, ScrapeError> {
        Ok(ProcessScraper {
            enabled: Enabled::new(metadata::PROCESS, &config.metrics),
            attributes: Enabled::new(
                metadata::PROCESS_RESOURCE_ATTRIBUTES,
                &config.resource_attributes,
            ),
            names: config.filters().map_err(|e| ScrapeError(e.to_string()))?,
            scrape_process_delay: config.scrape_process_delay,
            errors,
            passwd_path: fs.host_path(std::path::Path::new("/etc/passwd")),
            previous_cpu: Mutex::new(HashMap::new()),
        })
    }

    fn users(&self) -> HashMap<u32, String> {
        std::fs::read_to_string(&self.passwd_path)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| {
                let mut fields = line.split(':');
                let name = fields.next()?;
                let uid = fields.nth(1)?.parse().ok()?;
                Some((uid, name.to_string()))
            })
            .collect()
    }
}

/// One process, read.
struct Sample {
    pid: i32,
    resource: Vec<KeyValue>,
    start: u64,
    stat: procfs::process::Stat,
    io: Option<procfs::process::Io>,
    status: Option<procfs::process::Status>,
    fds: Option<usize>,
}

impl ProcessScraper {
    fn read(
        &self,
        process: &Process,
        cx: &ScrapeContext<'_>,
        boot: u64,
        users: &HashMap<u32, String>,
    ) -> Option<Sample> {
        let pid = process.pid;
        let stat = match process.stat() {
            Ok(stat) => stat,
            Err(e) => {
                self.errors.record(Cause::Vanished, pid, &e);
                return None;
            }
        };
        let tps = procfs::ticks_per_second().max(1);
        let start = boot.saturating_add(stat.starttime.saturating_mul(1_000_000_000) / tps);
        if !self.scrape_process_delay.is_zero()
            && cx.now.saturating_sub(start) < self.scrape_process_delay.as_nanos() as u64
        {
            return None;
        }
        let status = process.status().ok();
        let name = match &status {
            Some(status) => status.name.clone(),
            None => {
                self.errors
                    .record(Cause::Name, pid, &"cannot read /proc/<pid>/status");
                return None;
            }
        };
        if !self.names.passes(&name) {
            return None;
        }
        let exe = match process.exe() {
            Ok(exe) => exe.to_string_lossy().into_owned(),
            Err(e) => {
                self.errors.record(Cause::Exe, pid, &e);
                return None;
            }
        };
        let cmdline = process.cmdline().unwrap_or_default();
        let mut resource = Vec::new();
        let a = &self.attributes;
        if a.has("process.pid") {
            resource.push(key_value("process.pid", i64::from(pid)));
        }
        if a.has("process.parent_pid") {
            resource.push(key_value("process.parent_pid", i64::from(stat.ppid)));
        }
        if a.has("process.executable.name") {
            resource.push(key_value("process.executable.name", name.as_str()));
        }
        if a.has("process.executable.path") {
            resource.push(key_value("process.executable.path", exe.as_str()));
        }
        if a.has("process.command") {
            let command = cmdline.first().cloned().unwrap_or_default();
            resource.push(key_value("process.command", command));
        }
        if a.has("process.command_line") {
            resource.push(key_value("process.command_line", cmdline.join(" ")));
        }
        if a.has("process.owner") {
            match status.as_ref().and_then(|s| users.get(&s.ruid)) {
                Some(user) => resource.push(key_value("process.owner", user.as_str())),
                None => self.errors.record(
                    Cause::User,
                    pid,
                    &"no /etc/passwd entry for the process's uid",
                ),
            }
        }
        if a.has("process.cgroup") {
            let path = cx.fs.proc(&format!("{pid}/cgroup"));
            match std::fs::read_to_string(&path) {
                Ok(cgroup) => resource.push(key_value("process.cgroup", cgroup.trim())),
                Err(e) => self.errors.record(Cause::Cgroup, pid, &e),
            }
        }
        let wants_io =
            self.enabled.has("process.disk.io") || self.enabled.has("process.disk.operations");
        let io = if wants_io {
            process
                .io()
                .map_err(|e| self.errors.record(Cause::Io, pid, &e))
                .ok()
        } else {
            None
        };
        let fds = if self.enabled.has("process.open_file_descriptors") {
            process.fd_count().ok()
        } else {
            None
        };
        Some(Sample {
            pid,
            resource,
            start,
            stat,
            io,
            status,
            fds,
        })
    }

    fn emit(
        &self,
        sample: &Sample,
        cx: &ScrapeContext<'_>,
        totals: &mut Totals,
        out: &mut MetricsBuilder,
    ) {
        let (start, now, stat) = (sample.start, cx.now, &sample.stat);
        let tps = procfs::ticks_per_second().max(1) as f64;
        let page = procfs::page_size();
        out.resource(sample.resource.clone()).scope(
            &format!("{}processscraper", super::SCOPE_PREFIX),
            cx.version,
        );
        let e = &self.enabled;
        let state = |s: &str| vec![key_value("state", s)];
        let direction = |d: &str| vec![key_value("direction", d)];
        if e.has("process.cpu.time") {
            let wait = stat.delayacct_blkio_ticks.unwrap_or(0) as f64 / tps;
            out.sum("process.cpu.time", "s", Temporality::Cumulative, true)
                .description("Total CPU seconds broken down by different states.")
                .double(state("user"), start, now, stat.utime as f64 / tps)
                .double(state("system"), start, now, stat.stime as f64 / tps)
                .double(state("wait"), start, now, wait);
        }
        if e.has("process.cpu.utilization") {
            let times = [
                stat.utime as f64 / tps,
                stat.stime as f64 / tps,
                stat.delayacct_blkio_ticks.unwrap_or(0) as f64 / tps,
            ];
            totals.current_cpu.insert(sample.pid, (now, times));
            // As Go: the first scrape of a process has no utilization point.
            if let Some((then, before)) = totals.previous_cpu.get(&sample.pid)
                && now > *then
            {
                let elapsed = (now - then) as f64 / 1e9 * totals.cpus;
                let share = |i: usize| ((times[i] - before[i]) / elapsed).max(0.0);
                out.gauge("process.cpu.utilization", "1")
                    .description("Percentage of total CPU time used by the process since last scrape, expressed as a value between 0 and 1.")
                    .double(state("user"), now, share(0))
                    .double(state("system"), now, share(1))
                    .double(state("wait"), now, share(2));
            }
        }
        if let (true, Some(total)) = (e.has("process.memory.utilization"), totals.memory)
            && total > 0
        {
            let rss = stat.rss.saturating_mul(page) as f64;
            out.gauge("process.memory.utilization", "1")
                .description("Percentage of total physical memory that is used by the process.")
                .double(vec![], now, rss / total as f64);
        }
        if e.has("process.memory.usage") {
            out.sum("process.memory.usage", "By", Temporality::Cumulative, false)
                .description("The amount of physical memory in use.")
                .int(vec![], start, now, int(stat.rss.saturating_mul(page)));
        }
        if e.has("process.memory.virtual") {
            out.sum(
                "process.memory.virtual",
                "By",
                Temporality::Cumulative,
                false,
            )
            .description("Virtual memory size.")
            .int(vec![], start, now, int(stat.vsize));
        }
        if let Some(io) = &sample.io {
            if e.has("process.disk.io") {
                out.sum("process.disk.io", "By", Temporality::Cumulative, true)
                    .description("Disk bytes transferred.")
                    .int(direction("read"), start, now, int(io.read_bytes))
                    .int(direction("write"), start, now, int(io.write_bytes));
            }
            if e.has("process.disk.operations") {
                out.sum(
                    "process.disk.operations",
                    "{operations}",
                    Temporality::Cumulative,
                    true,
                )
                .description("Number of disk operations performed by the process.")
                .int(direction("read"), start, now, int(io.syscr))
                .int(direction("write"), start, now, int(io.syscw));
            }
        }
        if e.has("process.paging.faults") {
            let kind = |k: &str| vec![key_value("type", k)];
            out.sum(
                "process.paging.faults",
                "{faults}",
                Temporality::Cumulative,
                true,
            )
            .description("Number of page faults the process has made.")
            .int(kind("major"), start, now, int(stat.majflt))
            .int(kind("minor"), start, now, int(stat.minflt));
        }
        if e.has("process.threads") {
            out.sum(
                "process.threads",
                "{threads}",
                Temporality::Cumulative,
                false,
            )
            .description("Process threads count.")
            .int(vec![], start, now, stat.num_threads);
        }
        if let (true, Some(fds)) = (e.has("process.open_file_descriptors"), sample.fds) {
            out.sum(
                "process.open_file_descriptors",
                "{count}",
                Temporality::Cumulative,
                false,
            )
            .description("Number of file descriptors in use by the process.")
            .int(vec![], start, now, int(fds as u64));
        }
        if let Some(status) = &sample.status {
            if e.has("process.context_switches") {
                let kind = |k: &str| vec![key_value("context_switch_type", k)];
                out.sum(
                    "process.context_switches",
                    "{count}",
                    Temporality::Cumulative,
                    true,
                )
                .description("Number of times the process has been context switched.")
                .int(
                    kind("involuntary"),
                    start,
                    now,
                    int(status.nonvoluntary_ctxt_switches.unwrap_or(0)),
                )
                .int(
                    kind("voluntary"),
                    start,
                    now,
                    int(status.voluntary_ctxt_switches.unwrap_or(0)),
                );
            }
            if e.has("process.signals_pending") {
                out.sum(
                    "process.signals_pending",
                    "{signals}",
                    Temporality::Cumulative,
                    false,
                )
                .description("Number of pending signals for the process.")
                .int(
                    vec![],
                    start,
                    now,
                    int((status.sigpnd | status.shdpnd).count_ones().into()),
                );
            }
        }
        if e.has("process.uptime") {
            out.gauge("process.uptime", "s")
                .description("The time the process has been running.")
                .double(vec![], now, now.saturating_sub(start) as f64 / 1e9);
        }
    }
}

impl Scrape for ProcessScraper {
    fn name(&self) -> &'static str {
        "process"
    }

    fn scrape(&self, cx: &ScrapeContext<'_>, out: &mut MetricsBuilder) -> Result<(), ScrapeError> {
        let boot = cx.fs.boot_time_nanos()?;
        let users = self.users();
        let memory = if self.enabled.has("process.memory.utilization") {
            Some(cx.fs.read::<procfs::Meminfo>("meminfo")?.mem_total)
        } else {
            None
        };
        let cpus = if self.enabled.has("process.cpu.utilization") {
            super::cpu::kernel_stats(cx)?.cpu_time.len().max(1) as f64
        } else {
            1.0
        };
        let previous_cpu =
            std::mem::take(&mut *self.previous_cpu.lock().unwrap_or_else(|e| e.into_inner()));
        let mut totals = Totals {
            memory,
            cpus,
            previous_cpu,
            current_cpu: HashMap::new(),
        };
        let all = procfs::process::all_processes_with_root(cx.fs.proc_dir())
            .map_err(|e| ScrapeError(format!("listing processes: {e}")))?;
        for process in all {
            let process = match process {
                Ok(process) => process,
                Err(e) => {
                    self.errors.record(Cause::Vanished, 0, &e);
                    continue;
                }
            };
            if let Some(sample) = self.read(&process, cx, boot, &users) {
                self.emit(&sample, cx, &mut totals, out);
            }
        }
        *self.previous_cpu.lock().unwrap_or_else(|e| e.into_inner()) = totals.current_cpu;
        Ok(())
    }
}
