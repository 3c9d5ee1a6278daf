//! The limiter shared by every pipeline that lists one `memory_limiter` ID: one ticker
//! measures the process's memory and sets a verdict that each processor reads with one
//! atomic load per request.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use tributary_pipeline_core::component::{
    ComponentStatus, CreateError, CreateSettings, StatusReporter,
};
use tributary_pipeline_core::consumer::ConsumeError;

use super::Config;
use super::limits::{Limits, MIB, Pressure};
use super::probe::MemoryProbe;

/// The message of the error returned while memory is short, as in the Go Collector.
pub(crate) const REFUSED: &str = "data refused due to high memory usage";

/// One memory limiter's shared state.
pub(crate) struct Limiter {
    limits: Limits,
    check_interval: Duration,
    /// Least time between reclaims above the soft limit, and above the hard limit.
    reclaim_interval: (Duration, Duration),
    probe: Arc<dyn MemoryProbe>,
    /// The verdict every request reads.
    refusing: AtomicBool,
    refusal: ConsumeError,
    monitor: Mutex<Monitor>,
    status: StatusReporter,
    /// Spawns the ticker, logged under the component's ID.
    settings: CreateSettings,
}

/// What the ticker keeps between checks.
struct Monitor {
    pressure: Pressure,
    /// Processors started and not yet shut down.
    users: usize,
    ticker: Option<Ticker>,
    last_reclaim: Option<Instant>,
    /// A processor started since the status was last reported, and the framework then
    /// reported it OK; report the real status again at the next check.
    status_stale: bool,
    /// The last reading failed (logged once until a reading succeeds).
    probe_failing: bool,
}

struct Ticker {
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Limiter {
    /// A limiter enforcing `config` with `probe`, reporting health to `status`. Fails if
    /// the probe cannot read the process's memory (a limiter that never measures would
    /// never protect anything) or, for `limit_percentage`, the memory available.
    pub fn new(
        settings: &CreateSettings,
        config: &Config,
        probe: Arc<dyn MemoryProbe>,
        status: StatusReporter,
    ) -> Result<Limiter, CreateError> {
        let limits = Limits::from_config(config, || probe.total_bytes()).map_err(|e| {
            CreateError::with_source(
                "cannot determine the memory available to the process for limit_percentage",
                e,
            )
        })?;
        let used = probe
            .used_bytes()
            .map_err(|e| CreateError::with_source("cannot read the process's memory usage", e))?;
        tracing::info!(
            parent: settings.span(),
            hard_limit_mib = limits.hard / MIB,
            soft_limit_mib = limits.soft / MIB,
            used_mib = used / MIB,
            check_interval = ?config.check_interval,
            "memory limiter configured"
        );
        Ok(Limiter {
            limits,
            check_interval: config.check_interval,
            reclaim_interval: (
                config.min_gc_interval_when_soft_limited,
                config.min_gc_interval_when_hard_limited,
            ),
            probe,
            refusing: AtomicBool::new(false),
            refusal: ConsumeError::retryable(REFUSED).with_retry_after(Some(config.check_interval)),
            monitor: Mutex::new(Monitor {
                pressure: Pressure::Normal,
                users: 0,
                ticker: None,
                last_reclaim: None,
                status_stale: false,
                probe_failing: false,
            }),
            status,
            settings: settings.clone(),
        })
    }

    /// Whether data must be refused now.
    pub fn is_refusing(&self) -> bool {
        self.refusing.load(Ordering::Relaxed)
    }

    /// The error refused data gets: retryable, with a retry hint of one check interval.
    pub fn refusal(&self) -> ConsumeError {
        self.refusal.clone()
    }

    /// Where memory use stood at the last check.
    #[cfg(test)]
    pub fn pressure(&self) -> Pressure {
        self.monitor().pressure
    }

    /// A processor using this limiter started: the first one starts the ticker, which
    /// checks at once and then every `check_interval`.
    pub fn attach(self: &Arc<Self>) {
        let mut monitor = self.monitor();
        monitor.users += 1;
        monitor.status_stale = true;
        if monitor.ticker.is_none() {
            let stop = CancellationToken::new();
            let ticks = run_ticker(Arc::downgrade(self), stop.clone(), self.check_interval);
            let task = self
                .settings
                .spawn(ticks.instrument(self.settings.span().clone()));
            monitor.ticker = Some(Ticker { stop, task });
        }
    }

    /// A processor using this limiter shut down: the last one stops the ticker.
    pub async fn detach(&self) {
        let ticker = {
            let mut monitor = self.monitor();
            monitor.users = monitor.users.saturating_sub(1);
            if monitor.users == 0 {
                monitor.ticker.take()
            } else {
                None
            }
        };
        if let Some(Ticker { stop, task }) = ticker {
            stop.cancel();
            let _ = task.await;
        }
    }

    /// Measures memory use and updates the verdict. Above the soft limit it first asks the
    /// allocator to give back free memory (at most once per configured interval) and
    /// measures again, as the Go Collector forces a garbage collection.
    pub async fn check(&self) {
        let Some(mut used) = self.measure() else {
            return;
        };
        let mut pressure = self.limits.pressure(used);
        if pressure != Pressure::Normal && self.reclaim_due(pressure) {
            let probe = Arc::clone(&self.probe);
            if let Err(error) = tokio::task::spawn_blocking(move || probe.reclaim()).await {
                tracing::warn!(%error, "reclaiming memory failed");
            }
            let Some(after) = self.measure() else {
                return;
            };
            used = after;
            pressure = self.limits.pressure(used);
        }
        self.apply(pressure, used);
    }

    fn measure(&self) -> Option<u64> {
        // Read on the ticker's own task: the real probe reads a procfs file, which the
        // kernel fills from memory in microseconds, once per `check_interval`.
        let reading = self.probe.used_bytes();
        let mut monitor = self.monitor();
        match reading {
            Ok(used) => {
                if std::mem::take(&mut monitor.probe_failing) {
                    tracing::info!("memory usage can be read again");
                }
                Some(used)
            }
            Err(error) => {
                if !std::mem::replace(&mut monitor.probe_failing, true) {
                    tracing::warn!(%error, "cannot read the process's memory usage; keeping the last verdict");
                }
                None
            }
        }
    }

    fn reclaim_due(&self, pressure: Pressure) -> bool {
        let least = match pressure {
            Pressure::Hard => self.reclaim_interval.1,
            _ => self.reclaim_interval.0,
        };
        let mut monitor = self.monitor();
        let now = Instant::now();
        let due = monitor
            .last_reclaim
            .is_none_or(|last| now.duration_since(last) >= least);
        if due {
            monitor.last_reclaim = Some(now);
        }
        due
    }

    fn apply(&self, pressure: Pressure, used: u64) {
        let mut monitor = self.monitor();
        let previous = std::mem::replace(&mut monitor.pressure, pressure);
        let stale = std::mem::take(&mut monitor.status_stale);
        self.refusing
            .store(pressure != Pressure::Normal, Ordering::Relaxed);
        let (used_mib, soft_limit_mib, hard_limit_mib) =
            (used / MIB, self.limits.soft / MIB, self.limits.hard / MIB);
        if previous != pressure {
            match (previous, pressure) {
                (_, Pressure::Hard) => tracing::warn!(
                    used_mib,
                    hard_limit_mib,
                    "memory usage is above the hard limit; refusing data"
                ),
                (Pressure::Normal, Pressure::Soft) => tracing::warn!(
                    used_mib,
                    soft_limit_mib,
                    "memory usage is above the soft limit; refusing data"
                ),
                (_, Pressure::Soft) => tracing::info!(
                    used_mib,
                    hard_limit_mib,
                    "memory usage is below the hard limit again, still above the soft limit; refusing data"
                ),
                (_, Pressure::Normal) => tracing::info!(
                    used_mib,
                    soft_limit_mib,
                    "memory usage is below the soft limit again; accepting data"
                ),
            }
        }
        if previous != pressure || (stale && pressure != Pressure::Normal) {
            self.status.report(match pressure {
                Pressure::Normal => ComponentStatus::Ok,
                _ => ComponentStatus::RecoverableError(format!(
                    "{REFUSED}: {used_mib} MiB in use, soft limit {soft_limit_mib} MiB, hard limit {hard_limit_mib} MiB"
                )),
            });
        }
    }

    fn monitor(&self) -> MutexGuard<'_, Monitor> {
        self.monitor.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Checks at once, then every `every`, until stopped or the limiter is gone.
async fn run_ticker(limiter: Weak<Limiter>, stop: CancellationToken, every: Duration) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = interval.tick() => {}
        }
        let Some(limiter) = limiter.upgrade() else {
            return;
        };
        limiter.check().await;
    }
}
