//! Progress: how much work is waiting and when some last got done, so a health check can
//! tell a stall (work waiting, none done for a while) from idleness (nothing waiting).
//!
//! A pipeline's entry tracks its calls this way; a receiver tracks the requests waiting for
//! its admission budget ([`CreateSettings::progress_tracker`](super::CreateSettings::progress_tracker)),
//! so an intake that accepts nothing while requests queue makes the collector unhealthy.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Work waiting and done, at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Units of work in flight (calls in a pipeline, requests waiting for admission).
    pub inflight: usize,
    /// Units completed since tracking started.
    pub completed: u64,
    /// Time since the last unit completed (or since tracking started).
    pub idle_for: Duration,
    /// Time for which at least one unit has been in flight without a break; zero when
    /// none is.
    pub busy_for: Duration,
}

impl Progress {
    /// How long work has been in flight while none completed: the shorter of
    /// [`busy_for`](Self::busy_for) and [`idle_for`](Self::idle_for), zero when nothing is
    /// in flight. Nothing in flight is idleness, never a stall, however long it lasts; a
    /// unit arriving after a long pause is not a stall either, because it has only just
    /// begun.
    pub fn stalled_for(&self) -> Duration {
        if self.inflight == 0 {
            Duration::ZERO
        } else {
            self.busy_for.min(self.idle_for)
        }
    }
}

/// Tracks one source of work; cheap to update from many tasks at once.
#[derive(Debug)]
pub struct ProgressTracker {
    started: Instant,
    inflight: AtomicUsize,
    /// Milliseconds since `started` at which the work now in flight began to be in flight
    /// without a break (meaningful only while `inflight` is not zero).
    busy_since_ms: AtomicU64,
    /// Milliseconds since `started` of the last completion.
    last_progress_ms: AtomicU64,
    completed: AtomicU64,
}

impl Default for ProgressTracker {
    fn default() -> Self {
        ProgressTracker::new()
    }
}

impl ProgressTracker {
    /// A tracker with nothing in flight, whose idle clock starts now.
    pub fn new() -> ProgressTracker {
        ProgressTracker {
            started: Instant::now(),
            inflight: AtomicUsize::new(0),
            busy_since_ms: AtomicU64::new(0),
            last_progress_ms: AtomicU64::new(0),
            completed: AtomicU64::new(0),
        }
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Counts a unit of work in; it is in flight until the returned guard is completed or
    /// dropped.
    pub fn begin(&self) -> InFlight<'_> {
        // When it is the only unit, the busy period's start is recorded *before* the count
        // makes it visible, so a reader that sees work in flight never pairs it with the
        // start of an earlier busy period (which would make work arriving after a long
        // pause look stalled).
        let mut current = self.inflight.load(Ordering::SeqCst);
        loop {
            if current == 0 {
                self.busy_since_ms
                    .store(self.elapsed_ms(), Ordering::SeqCst);
            }
            match self.inflight.compare_exchange_weak(
                current,
                current + 1,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return InFlight { tracker: self },
                Err(actual) => current = actual,
            }
        }
    }

    /// Units in flight now.
    pub fn inflight(&self) -> usize {
        self.inflight.load(Ordering::SeqCst)
    }

    /// The progress now.
    pub fn snapshot(&self) -> Progress {
        let inflight = self.inflight.load(Ordering::SeqCst);
        let busy_since = Duration::from_millis(self.busy_since_ms.load(Ordering::SeqCst));
        let last = Duration::from_millis(self.last_progress_ms.load(Ordering::Relaxed));
        let now = self.started.elapsed();
        Progress {
            inflight,
            completed: self.completed.load(Ordering::Relaxed),
            idle_for: now.saturating_sub(last),
            busy_for: if inflight == 0 {
                Duration::ZERO
            } else {
                now.saturating_sub(busy_since)
            },
        }
    }
}

/// One unit of work in flight; dropping it without [`complete`](Self::complete) counts it
/// out without counting progress (a request that gave up waiting).
#[derive(Debug)]
#[must_use = "work is in flight only while the guard lives"]
pub struct InFlight<'a> {
    tracker: &'a ProgressTracker,
}

impl InFlight<'_> {
    /// Counts the unit as done: progress.
    pub fn complete(self) {
        let tracker = self.tracker;
        tracker.completed.fetch_add(1, Ordering::Relaxed);
        tracker
            .last_progress_ms
            .store(tracker.elapsed_ms(), Ordering::Relaxed);
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.tracker.inflight.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_in_flight_without_completions_is_a_stall_and_idleness_is_not() {
        let tracker = ProgressTracker::new();
        assert_eq!(tracker.snapshot().stalled_for(), Duration::ZERO);
        let waiting = tracker.begin();
        std::thread::sleep(Duration::from_millis(20));
        let progress = tracker.snapshot();
        assert_eq!(progress.inflight, 1);
        assert!(progress.stalled_for() >= Duration::from_millis(20));
        waiting.complete();
        let progress = tracker.snapshot();
        assert_eq!((progress.inflight, progress.completed), (0, 1));
        assert_eq!(progress.stalled_for(), Duration::ZERO);
    }

    #[test]
    fn giving_up_is_not_progress() {
        let tracker = ProgressTracker::new();
        let first = tracker.begin();
        std::thread::sleep(Duration::from_millis(20));
        let second = tracker.begin();
        drop(first);
        let progress = tracker.snapshot();
        assert_eq!((progress.inflight, progress.completed), (1, 0));
        assert!(progress.stalled_for() >= Duration::from_millis(20));
        second.complete();
    }
}
