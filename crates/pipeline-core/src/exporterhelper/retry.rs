//! `RetrySender`: retries retryable failures with exponential backoff
//! (`retry_on_failure`).
//!
//! * A permanent error is never retried.
//! * The wait before a retry is the [`Backoff`] delay, raised to the backend's
//!   retry-after when it gave one ([`ConsumeError::retry_after`]: HTTP `Retry-After`,
//!   gRPC `RetryInfo`), but never above [`MAX_RETRY_AFTER`] (5 minutes) and never past
//!   the `max_elapsed_time` deadline: a retry-after reaching beyond the deadline moves the
//!   last attempt to the deadline itself.
//! * Retrying stops when the backoff schedule's next attempt would start after
//!   `max_elapsed_time` since the first one (0: never stops), or when the exporter shuts
//!   down. A request whose retries were stopped by shutdown comes back *interrupted*, not
//!   failed: a persistent queue keeps it for the next start. This holds with retries
//!   disabled too, so a shutdown never turns a retryable failure into a deletion (the Go
//!   Collector's #15677).
//!
//! The retry-after is the backend's wish, `max_elapsed_time` the user's: a backend cannot
//! park the workers for longer than 5 minutes at a time, nor make the helper give data up
//! before its `max_elapsed_time` (a hostile `Retry-After: 18446744073709551615` used to
//! overflow the deadline arithmetic and kill the worker). The Go Collector honours the
//! delay up to `max_elapsed_time` and gives up at once when it reaches further; here the
//! data gets its last attempt at the deadline instead.

use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::RetryConfig;
use super::backoff::Backoff;
use super::sender::{SendError, Sender};
use crate::pdata::SignalData;

/// Retries the wrapped sender's retryable failures.
pub(crate) struct RetrySender<S> {
    inner: S,
    config: RetryConfig,
    stop: CancellationToken,
}

impl<S> RetrySender<S> {
    /// Retries per `config` until `stop` is cancelled.
    pub fn new(inner: S, config: RetryConfig, stop: CancellationToken) -> Self {
        RetrySender {
            inner,
            config,
            stop,
        }
    }
}

#[async_trait]
impl<T: SignalData, S: Sender<T>> Sender<T> for RetrySender<S> {
    async fn send(&self, data: T) -> Result<(), SendError> {
        let started = Instant::now();
        let mut backoff = Backoff::new(&self.config);
        loop {
            let mut failure = match self.inner.send(data.clone()).await {
                Ok(()) => return Ok(()),
                Err(failure) => failure,
            };
            // Whoever sees this error next (a caller without a queue, its client) gets the
            // retry-after this stage honours, not the backend's unbounded one.
            if failure
                .error
                .retry_after()
                .is_some_and(|delay| delay > MAX_RETRY_AFTER)
            {
                failure.error = failure.error.with_retry_after(Some(MAX_RETRY_AFTER));
            }
            if failure.interrupted || failure.error.is_permanent() {
                return Err(failure);
            }
            if self.stop.is_cancelled() {
                return Err(SendError::interrupted(failure.error));
            }
            if !self.config.enabled {
                return Err(failure);
            }
            let elapsed = started.elapsed();
            let Some(delay) = next_wait(
                backoff.next_delay(),
                failure.error.retry_after(),
                elapsed,
                self.config.max_elapsed_time,
            ) else {
                return Err(SendError::failed(failure.error.context(format!(
                    "no more retries left after {}",
                    humanize(elapsed)
                ))));
            };
            tracing::info!(error = %failure.error, interval = ?delay, "exporting failed; will retry the request after the interval");
            tokio::select! {
                () = self.stop.cancelled() => return Err(SendError::interrupted(failure.error)),
                () = tokio::time::sleep(delay) => {}
            }
        }
    }
}

/// The longest wait a backend's retry-after can impose before the next attempt: asking for
/// more counts as asking for this. Long enough for any throttling or maintenance window a
/// backend announces in practice, short enough that a wrong or hostile value cannot stall
/// delivery.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(5 * 60);

/// The wait before the next attempt, or `None` when retrying must stop.
///
/// `backoff` is the schedule's delay and `retry_after` the backend's; `elapsed` is the time
/// since the first attempt and `max_elapsed` the retry budget (zero: none). Retrying stops
/// when the schedule's own delay would pass the budget. The backend's delay counts up to
/// [`MAX_RETRY_AFTER`], and only as far as the budget reaches. No arithmetic here can
/// overflow, whatever the backend sent.
fn next_wait(
    backoff: Duration,
    retry_after: Option<Duration>,
    elapsed: Duration,
    max_elapsed: Duration,
) -> Option<Duration> {
    let remaining = (!max_elapsed.is_zero()).then(|| max_elapsed.saturating_sub(elapsed));
    if remaining.is_some_and(|remaining| backoff > remaining) {
        return None;
    }
    let requested = retry_after.unwrap_or(Duration::ZERO).min(MAX_RETRY_AFTER);
    let wait = backoff.max(requested);
    Some(remaining.map_or(wait, |remaining| wait.min(remaining)))
}

fn humanize(elapsed: Duration) -> String {
    format!("{:.1}s", elapsed.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::consumer::ConsumeError;
    use crate::exporterhelper::testing::{Script, spans};

    fn config(jitter: f64) -> RetryConfig {
        RetryConfig {
            randomization_factor: jitter,
            ..RetryConfig::default()
        }
    }

    fn down() -> ConsumeError {
        ConsumeError::retryable("backend down")
    }

    /// Offsets of each call from the first one, in seconds.
    fn schedule(backend: &Script) -> Vec<f64> {
        let times = backend.call_times();
        times
            .iter()
            .map(|t| (t.duration_since(times[0]).as_secs_f64() * 1000.0).round() / 1000.0)
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn retries_on_the_default_schedule_until_success() {
        let backend = Script::failing(vec![down(), down(), down()]);
        let sender = RetrySender::new(Arc::clone(&backend), config(0.0), CancellationToken::new());
        sender.send(spans(1)).await.unwrap();
        assert_eq!(schedule(&backend), [0.0, 5.0, 12.5, 23.75]);
    }

    #[tokio::test(start_paused = true)]
    async fn permanent_errors_are_never_retried() {
        let backend = Script::failing(vec![ConsumeError::permanent("rejected")]);
        let sender = RetrySender::new(Arc::clone(&backend), config(0.5), CancellationToken::new());
        let error = sender.send(spans(1)).await.unwrap_err();
        assert!(error.error.is_permanent() && !error.interrupted);
        assert_eq!(backend.calls(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_raises_the_wait_but_never_lowers_it() {
        let backend = Script::failing(vec![
            ConsumeError::throttled("slow down", Some(Duration::from_secs(60))),
            ConsumeError::throttled("slow down", Some(Duration::from_secs(1))),
        ]);
        let sender = RetrySender::new(Arc::clone(&backend), config(0.0), CancellationToken::new());
        sender.send(spans(1)).await.unwrap();
        // 60s instead of 5s; then the schedule's 7.5s instead of 1s.
        assert_eq!(schedule(&backend), [0.0, 60.0, 67.5]);
    }

    #[tokio::test(start_paused = true)]
    async fn an_absurd_retry_after_after_a_slow_attempt_waits_five_minutes_at_most() {
        // `Retry-After: 18446744073709551615` on an attempt that took 2s: the deadline
        // arithmetic once overflowed here and panicked the worker.
        for absurd in [Duration::MAX, Duration::from_secs(u64::MAX)] {
            let backend = Script::failing(vec![ConsumeError::throttled("slow down", Some(absurd))]);
            backend.set_delay(Some(Duration::from_secs(2)));
            let forever = RetryConfig {
                max_elapsed_time: Duration::ZERO,
                ..config(0.0)
            };
            let sender = RetrySender::new(Arc::clone(&backend), forever, CancellationToken::new());
            sender.send(spans(1)).await.unwrap();
            // The attempt ends at 2s, then five minutes (the ceiling), not 2^64 seconds.
            assert_eq!(schedule(&backend), [0.0, 302.0]);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_beyond_max_elapsed_time_moves_the_last_attempt_to_the_deadline() {
        let backend = Script::always(ConsumeError::throttled(
            "slow down",
            Some(Duration::from_secs(u64::MAX)),
        ));
        backend.set_delay(Some(Duration::from_secs(2)));
        let retry = RetryConfig {
            max_elapsed_time: Duration::from_secs(60),
            ..config(0.0)
        };
        let sender = RetrySender::new(Arc::clone(&backend), retry, CancellationToken::new());
        let error = sender.send(spans(1)).await.unwrap_err();
        // Not dropped on the backend's say-so at 2s: one more attempt at the 60s deadline,
        // then the schedule's next delay passes it.
        assert_eq!(schedule(&backend), [0.0, 60.0]);
        assert!(!error.interrupted && error.error.message().contains("no more retries left"));
        // The error passed on carries the delay that was honoured, not the backend's.
        assert_eq!(error.error.retry_after(), Some(MAX_RETRY_AFTER));
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_when_the_next_retry_would_pass_max_elapsed_time() {
        let backend = Script::always(down());
        let retry = RetryConfig {
            max_elapsed_time: Duration::from_secs(30),
            ..config(0.0)
        };
        let sender = RetrySender::new(Arc::clone(&backend), retry, CancellationToken::new());
        let error = sender.send(spans(1)).await.unwrap_err();
        // 0, 5, 12.5, 23.75; the next would be at 40.6s.
        assert_eq!(schedule(&backend), [0.0, 5.0, 12.5, 23.75]);
        assert!(!error.interrupted && error.error.is_retryable());
        assert!(error.error.message().contains("no more retries left"));
    }

    #[tokio::test(start_paused = true)]
    async fn zero_max_elapsed_time_retries_forever() {
        let backend = Script::always(down());
        let retry = RetryConfig {
            max_elapsed_time: Duration::ZERO,
            ..config(0.0)
        };
        let stop = CancellationToken::new();
        let sender = RetrySender::new(Arc::clone(&backend), retry, stop.clone());
        let task = tokio::spawn(async move { sender.send(spans(1)).await });
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert!(backend.calls() > 100, "still retrying after an hour");
        stop.cancel();
        assert!(task.await.unwrap().unwrap_err().interrupted);
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_interrupts_the_wait_at_once() {
        let backend = Script::always(down());
        let stop = CancellationToken::new();
        let sender = RetrySender::new(Arc::clone(&backend), config(0.5), stop.clone());
        let task = tokio::spawn(async move { sender.send(spans(1)).await });
        tokio::time::sleep(Duration::from_secs(1)).await;
        let stopped_at = Instant::now();
        stop.cancel();
        let error = task.await.unwrap().unwrap_err();
        assert!(error.interrupted);
        assert_eq!(stopped_at.elapsed(), Duration::ZERO);
        assert_eq!(backend.calls(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn after_shutdown_a_failure_is_interrupted_even_with_retries_disabled() {
        let backend = Script::always(down());
        let stop = CancellationToken::new();
        stop.cancel();
        let disabled = RetryConfig {
            enabled: false,
            ..config(0.0)
        };
        let sender = RetrySender::new(Arc::clone(&backend), disabled, stop);
        let error = sender.send(spans(1)).await.unwrap_err();
        assert!(error.interrupted, "one attempt, then kept, not dropped");
        assert_eq!(backend.calls(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn disabled_retries_fail_after_one_attempt() {
        let backend = Script::always(down());
        let disabled = RetryConfig {
            enabled: false,
            ..config(0.0)
        };
        let sender = RetrySender::new(Arc::clone(&backend), disabled, CancellationToken::new());
        let error = sender.send(spans(1)).await.unwrap_err();
        assert!(!error.interrupted);
        assert_eq!(backend.calls(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn jittered_delays_stay_within_bounds() {
        let backend = Script::failing(vec![down(); 6]);
        let sender = RetrySender::new(Arc::clone(&backend), config(0.5), CancellationToken::new());
        sender.send(spans(1)).await.unwrap();
        let times = schedule(&backend);
        let mut interval = 5.0f64;
        for pair in times.windows(2) {
            let delay = pair[1] - pair[0];
            assert!(
                delay >= interval * 0.5 - 0.002 && delay <= interval * 1.5 + 0.002,
                "{delay} for {interval}"
            );
            interval = (interval * 1.5).min(30.0);
        }
    }
}
