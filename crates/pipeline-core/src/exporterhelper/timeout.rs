//! `TimeoutSender`: a deadline on each export attempt (`timeout`, 5s by default).
//!
//! It sits inside the retry stage, so every attempt gets the full timeout; an attempt
//! that runs out of time is a retryable failure.
//!
//! [`deadline_in`] is how every stage turns a duration into a deadline.

use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::sender::{SendError, Sender};
use crate::consumer::ConsumeError;
use crate::pdata::SignalData;

/// Fails an attempt of the wrapped sender that takes longer than `timeout` (zero: no
/// limit).
pub(crate) struct TimeoutSender<S> {
    inner: S,
    timeout: Duration,
}

impl<S> TimeoutSender<S> {
    pub fn new(inner: S, timeout: Duration) -> Self {
        TimeoutSender { inner, timeout }
    }
}

#[async_trait]
impl<T: SignalData, S: Sender<T>> Sender<T> for TimeoutSender<S> {
    async fn send(&self, data: T) -> Result<(), SendError> {
        if self.timeout.is_zero() {
            return self.inner.send(data).await;
        }
        match tokio::time::timeout(self.timeout, self.inner.send(data)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(SendError::failed(ConsumeError::retryable(format!(
                "export timed out after {:?}",
                self.timeout
            )))),
        }
    }
}

/// The instant `duration` from now. A duration too long for an [`Instant`] (a
/// configuration built in code may hold `Duration::MAX`) gives a deadline decades away,
/// as tokio's own timers do, instead of overflowing.
pub(crate) fn deadline_in(duration: Duration) -> Instant {
    const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);
    let now = Instant::now();
    now.checked_add(duration)
        .unwrap_or_else(|| now + FAR_FUTURE)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::exporterhelper::testing::{Script, spans};

    #[tokio::test(start_paused = true)]
    async fn an_attempt_that_runs_out_of_time_is_retryable() {
        let backend = Script::hanging();
        let sender = TimeoutSender::new(Arc::clone(&backend), Duration::from_secs(5));
        let started = tokio::time::Instant::now();
        let error = sender.send(spans(1)).await.unwrap_err();
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        assert!(error.error.is_retryable() && !error.interrupted);
        assert!(error.error.message().contains("timed out after 5s"));
    }

    #[tokio::test(start_paused = true)]
    async fn deadlines_saturate_instead_of_overflowing() {
        let now = Instant::now();
        assert_eq!(
            deadline_in(Duration::from_secs(5)),
            now + Duration::from_secs(5)
        );
        assert!(deadline_in(Duration::MAX) > now + Duration::from_secs(86_400 * 365 * 10));
    }

    #[tokio::test(start_paused = true)]
    async fn zero_means_no_limit() {
        let backend = Script::delayed(Duration::from_secs(3600));
        let sender = TimeoutSender::new(Arc::clone(&backend), Duration::ZERO);
        sender.send(spans(1)).await.unwrap();
        assert_eq!(backend.calls(), 1);
    }
}
