//! [`LogThrottle`]: at most one log line per interval for an event that can repeat
//! thousands of times a second (a refused connection, a failed `accept`), with the number
//! of occurrences left unlogged in between.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// Decides when a repeating event is logged: the first time, then at most once per
/// interval, reporting how many occurrences were not logged in between.
///
/// ```
/// use std::time::Duration;
/// use tributary_pipeline_core::server::LogThrottle;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let throttle = LogThrottle::new(Duration::from_secs(10));
/// assert_eq!(throttle.hit(), Some(0)); // log it: nothing was suppressed before
/// assert_eq!(throttle.hit(), None); // within the interval: counted, not logged
/// # }
/// ```
#[derive(Debug)]
pub struct LogThrottle {
    interval: Duration,
    last: Mutex<Option<Instant>>,
    suppressed: AtomicU64,
}

impl LogThrottle {
    /// A throttle allowing one line per `interval`.
    pub fn new(interval: Duration) -> Self {
        LogThrottle {
            interval,
            last: Mutex::new(None),
            suppressed: AtomicU64::new(0),
        }
    }

    /// Records one occurrence. Returns `Some(n)` when this one should be logged, `n` being
    /// how many occurrences were suppressed since the last line; `None` to stay quiet.
    pub fn hit(&self) -> Option<u64> {
        let now = Instant::now();
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        match *last {
            Some(at) if now.saturating_duration_since(at) < self.interval => {
                self.suppressed.fetch_add(1, Ordering::Relaxed);
                None
            }
            _ => {
                *last = Some(now);
                Some(self.suppressed.swap(0, Ordering::Relaxed))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn logs_once_per_interval_and_counts_the_rest() {
        let throttle = LogThrottle::new(Duration::from_secs(10));
        assert_eq!(throttle.hit(), Some(0));
        for _ in 0..841 {
            assert_eq!(throttle.hit(), None);
        }
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(throttle.hit(), Some(841));
        assert_eq!(throttle.hit(), None);
    }
}
