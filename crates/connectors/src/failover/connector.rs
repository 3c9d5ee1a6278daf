//! The `failover` logic: send to the current priority level, fall to the next on an
//! error, and every `retry_interval` try the levels above again with one batch.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;
use tributary_pipeline_core::component::Component;
use tributary_pipeline_core::consumer::{ConsumeError, Consumer, Next};
use tributary_pipeline_core::pdata::SignalData;

use super::config::FailoverMode;

/// One priority level: the fanout to its pipelines, and their names for logs.
pub(super) struct Level<T> {
    pub consumer: Next<T>,
    pub pipelines: String,
}

/// Which level takes the data now, and when the levels above it are tried again.
#[derive(Debug)]
struct State {
    current: usize,
    /// Set while `current` is not the highest level.
    next_retry: Option<Instant>,
}

/// Sends every batch to the first healthy priority level.
pub(super) struct Failover<T> {
    levels: Vec<Level<T>>,
    retry_interval: Duration,
    mode: FailoverMode,
    state: Mutex<State>,
}

impl<T: SignalData> Failover<T> {
    pub(super) fn new(levels: Vec<Level<T>>, retry_interval: Duration, mode: FailoverMode) -> Self {
        Failover {
            levels,
            retry_interval,
            mode,
            state: Mutex::new(State {
                current: 0,
                next_retry: None,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the two fields inconsistent.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The level to start from, and whether this call should try the levels above it
    /// first (one call per `retry_interval` does).
    fn plan(&self) -> (usize, bool) {
        if self.mode == FailoverMode::Progressive {
            return (0, false);
        }
        let now = Instant::now();
        let mut state = self.state();
        let due = state.current > 0 && state.next_retry.is_some_and(|at| now >= at);
        if due {
            state.next_retry = Some(now + self.retry_interval);
        }
        (state.current, due)
    }

    /// `level` delivered: it becomes the current level if it is above it.
    fn recovered(&self, level: usize) {
        let mut state = self.state();
        if level < state.current {
            tracing::info!(
                level,
                pipelines = %self.levels[level].pipelines,
                "failover: a higher priority level accepts data again; switching back to it"
            );
            state.current = level;
            if level == 0 {
                state.next_retry = None;
            }
        }
    }

    /// Every level above `level` failed: it becomes the current level if it is below it.
    fn failed_over(&self, level: usize) {
        let mut state = self.state();
        if level > state.current {
            tracing::warn!(
                level,
                pipelines = %self.levels[level].pipelines,
                "failover: the current priority level failed; switching to the next"
            );
            state.current = level;
            if state.next_retry.is_none() {
                state.next_retry = Some(Instant::now() + self.retry_interval);
            }
        }
    }

    /// The current level, for tests.
    #[cfg(test)]
    pub(super) fn current(&self) -> usize {
        self.state().current
    }
}

impl<T: SignalData> Component for Failover<T> {}

#[async_trait]
impl<T: SignalData> Consumer<T> for Failover<T> {
    async fn consume(&self, data: T) -> Result<(), ConsumeError> {
        let (start, retry_higher) = self.plan();
        if retry_higher {
            for level in 0..start {
                match self.levels[level].consumer.consume(data.clone()).await {
                    Ok(()) => {
                        self.recovered(level);
                        return Ok(());
                    }
                    Err(error) => tracing::debug!(
                        level,
                        pipelines = %self.levels[level].pipelines,
                        %error,
                        "failover: a higher priority level still fails"
                    ),
                }
            }
        }
        let mut failures = Vec::new();
        let mut retryable = false;
        for level in start..self.levels.len() {
            match self.levels[level].consumer.consume(data.clone()).await {
                Ok(()) => {
                    if self.mode == FailoverMode::Standard {
                        self.failed_over(level);
                    }
                    return Ok(());
                }
                Err(error) => {
                    retryable |= !error.is_permanent();
                    failures.push(format!(
                        "level {level} ({}): {error}",
                        self.levels[level].pipelines
                    ));
                }
            }
        }
        let message = format!("every priority level failed: {}", failures.join("; "));
        Err(if retryable {
            ConsumeError::retryable(message)
        } else {
            ConsumeError::permanent(message)
        })
    }
}
