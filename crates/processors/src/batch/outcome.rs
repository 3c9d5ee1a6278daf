//! How callers learn what became of the batches their data went out in.
//!
//! Every batch has one [`Completion`]; each caller with data in the batch holds a
//! [`Waiter`] on it. A caller whose request was spread over several batches waits on each
//! and reports the [worst](worst) outcome, so it hears `Ok` only if every piece was
//! accepted downstream.

use tokio::sync::watch;
use tributary_pipeline_core::consumer::{ConsumeError, ErrorKind};

/// What became of data handed downstream.
pub(crate) type Outcome = Result<(), ConsumeError>;

/// Where the outcome of one batch is published, once.
pub(crate) struct Completion(watch::Sender<Option<Outcome>>);

impl Completion {
    /// A batch with no outcome yet.
    pub fn new() -> Self {
        Completion(watch::Sender::new(None))
    }

    /// A waiter for this batch's outcome.
    pub fn waiter(&self) -> Waiter {
        Waiter(self.0.subscribe())
    }

    /// Publishes the outcome to every waiter. A completion dropped without this (its
    /// delivery task panicked or was aborted) answers its waiters with a retryable error.
    pub fn complete(self, outcome: Outcome) {
        self.0.send_replace(Some(outcome));
    }
}

/// Waits for the outcome of one batch.
pub(crate) struct Waiter(watch::Receiver<Option<Outcome>>);

impl Waiter {
    /// The batch's outcome, once it is known.
    pub async fn outcome(mut self) -> Outcome {
        match self.0.wait_for(Option::is_some).await {
            Ok(outcome) => outcome.clone().unwrap_or_else(|| Err(lost())),
            Err(_) => Err(lost()),
        }
    }
}

fn lost() -> ConsumeError {
    ConsumeError::retryable("the batch holding this data ended without being delivered")
}

/// Waits for every batch and combines their outcomes with [`worst`].
pub(crate) async fn all(waiters: Vec<Waiter>) -> Outcome {
    match <[Waiter; 1]>::try_from(waiters) {
        Ok([only]) => only.outcome().await,
        Err(waiters) => {
            worst(futures_util::future::join_all(waiters.into_iter().map(Waiter::outcome)).await)
        }
    }
}

/// `Ok` if every outcome is `Ok`; otherwise the most severe error. A permanent error is
/// the most severe (some of the data can never be delivered), then throttling, then other
/// retryable errors; between errors of one class, the one asking for the longest wait.
pub(crate) fn worst(outcomes: impl IntoIterator<Item = Outcome>) -> Outcome {
    let severity = |error: &ConsumeError| {
        let class = match error.kind() {
            ErrorKind::Permanent => 2,
            ErrorKind::Throttled => 1,
            ErrorKind::Retryable => 0,
        };
        (class, error.retry_after())
    };
    outcomes
        .into_iter()
        .filter_map(Result::err)
        .max_by_key(severity)
        .map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn ok_only_if_every_piece_was_accepted() {
        assert!(worst([Ok(()), Ok(())]).is_ok());
        assert!(worst([]).is_ok());
        let error = worst([Ok(()), Err(ConsumeError::retryable("down")), Ok(())]).unwrap_err();
        assert_eq!(error.message(), "down");
    }

    #[test]
    fn a_permanent_error_outranks_retryable_ones() {
        let error = worst([
            Err(ConsumeError::throttled(
                "slow down",
                Some(Duration::from_secs(9)),
            )),
            Err(ConsumeError::permanent("rejected")),
            Err(ConsumeError::retryable("down")),
        ])
        .unwrap_err();
        assert!(error.is_permanent());
        assert_eq!(error.message(), "rejected");
    }

    #[test]
    fn among_retryable_errors_the_longest_wait_wins() {
        let error = worst([
            Err(ConsumeError::retryable("a").with_retry_after(Some(Duration::from_secs(1)))),
            Err(ConsumeError::retryable("b").with_retry_after(Some(Duration::from_secs(5)))),
            Err(ConsumeError::retryable("c")),
        ])
        .unwrap_err();
        assert_eq!(error.retry_after(), Some(Duration::from_secs(5)));
    }

    #[tokio::test]
    async fn every_waiter_hears_the_outcome() {
        let completion = Completion::new();
        let waiters = [completion.waiter(), completion.waiter()];
        completion.complete(Err(ConsumeError::permanent("rejected")));
        for waiter in waiters {
            assert!(waiter.outcome().await.unwrap_err().is_permanent());
        }
    }

    #[tokio::test]
    async fn a_batch_dropped_undelivered_is_a_retryable_failure() {
        let completion = Completion::new();
        let waiter = completion.waiter();
        drop(completion);
        assert!(waiter.outcome().await.unwrap_err().is_retryable());
    }
}
