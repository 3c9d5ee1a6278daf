//! `Fanout`: delivers the same data to several consumers, concurrently and in isolation.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::future::join_all;

use super::{Capabilities, ConsumeError, Consumer, ErrorKind, Next};
use crate::pdata::SignalData;

/// Identifies a fanout instance inside the errors it returns.
static NEXT_FANOUT_ID: AtomicU64 = AtomicU64::new(1);

struct Branch<T> {
    name: Arc<str>,
    consumer: Next<T>,
}

/// Delivers the same data to several consumers, concurrently.
///
/// Every branch receives its own clone of the payload handle (no copy of the data; a branch
/// that edits gets a private copy on its first edit). Branches run concurrently, so a slow
/// branch never delays its siblings' delivery; the call returns when every branch has
/// answered. Put a queue in front of any branch that may block for long (the exporter
/// helper's sending queue does this for every exporter).
///
/// If some branches fail, the error is the most actionable of their errors (retryable or
/// throttled if any branch may succeed later, else permanent), names every failed branch,
/// and remembers which branches already have the data: [`Consumer::retry`] with that error
/// re-delivers to the failed, retryable branches only.
pub struct Fanout<T> {
    id: u64,
    branches: Vec<Branch<T>>,
}

impl<T: SignalData> Fanout<T> {
    /// A fanout over named branches (the name is the component or pipeline ID, used in
    /// errors).
    pub fn new<N: Into<Arc<str>>>(branches: impl IntoIterator<Item = (N, Next<T>)>) -> Self {
        Fanout {
            id: NEXT_FANOUT_ID.fetch_add(1, Ordering::Relaxed),
            branches: branches
                .into_iter()
                .map(|(name, consumer)| Branch {
                    name: name.into(),
                    consumer,
                })
                .collect(),
        }
    }

    /// The fanout as a consumer. With a single branch that branch is returned itself, so a
    /// pipeline with one destination pays nothing for the fanout.
    pub fn into_consumer(mut self) -> Next<T> {
        if self.branches.len() == 1
            && let Some(branch) = self.branches.pop()
        {
            return branch.consumer;
        }
        Arc::new(self)
    }

    /// Delivers to the branches `previous` says still need the data (all of them when
    /// `previous` is `None`) and combines the outcome.
    async fn deliver(
        &self,
        data: T,
        previous: Option<&PartialDelivery>,
    ) -> Result<(), ConsumeError> {
        let attempts = self.branches.iter().enumerate().map(|(index, branch)| {
            let earlier = previous.map(|p| &p.outcomes[index].error);
            let data = data.clone();
            async move {
                match earlier {
                    // Delivered before, or failed permanently: leave it as it was.
                    Some(None) => None,
                    Some(Some(error)) if error.is_permanent() => Some(error.clone()),
                    Some(Some(error)) => branch.consumer.retry(data, error).await.err(),
                    None => branch.consumer.consume(data).await.err(),
                }
            }
        });
        let errors = join_all(attempts).await;
        if errors.iter().all(Option::is_none) {
            return Ok(());
        }
        let outcomes: Arc<[BranchOutcome]> = self
            .branches
            .iter()
            .zip(errors)
            .map(|(branch, error)| BranchOutcome {
                name: Arc::clone(&branch.name),
                error,
            })
            .collect();
        Err(combine(&outcomes).with_partial(PartialDelivery {
            fanout: self.id,
            outcomes,
        }))
    }
}

#[async_trait]
impl<T: SignalData> Consumer<T> for Fanout<T> {
    async fn consume(&self, data: T) -> Result<(), ConsumeError> {
        self.deliver(data, None).await
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            mutates_data: self
                .branches
                .iter()
                .any(|b| b.consumer.capabilities().mutates_data),
        }
    }

    async fn retry(&self, data: T, previous: &ConsumeError) -> Result<(), ConsumeError> {
        match previous.partial() {
            Some(partial) if partial.fanout == self.id => self.deliver(data, Some(partial)).await,
            _ => self.deliver(data, None).await,
        }
    }
}

/// One branch's result in a partly failed delivery.
#[derive(Clone)]
struct BranchOutcome {
    name: Arc<str>,
    /// `None` when the branch has the data.
    error: Option<ConsumeError>,
}

/// Which branches of a fanout have the data, carried inside the fanout's error.
#[derive(Clone)]
pub(crate) struct PartialDelivery {
    fanout: u64,
    outcomes: Arc<[BranchOutcome]>,
}

impl PartialDelivery {
    pub(crate) fn failures(&self) -> impl Iterator<Item = (&str, &ConsumeError)> {
        self.outcomes
            .iter()
            .filter_map(|o| o.error.as_ref().map(|e| (&*o.name, e)))
    }
}

/// The error a fanout reports for these outcomes: retryable (throttled if any branch was
/// throttled, with the longest known delay) when any failed branch may still succeed,
/// permanent otherwise.
fn combine(outcomes: &[BranchOutcome]) -> ConsumeError {
    let failed: Vec<(&str, &ConsumeError)> = outcomes
        .iter()
        .filter_map(|o| o.error.as_ref().map(|e| (&*o.name, e)))
        .collect();
    let kind = if failed.iter().any(|(_, e)| e.is_throttled()) {
        ErrorKind::Throttled
    } else if failed.iter().any(|(_, e)| e.is_retryable()) {
        ErrorKind::Retryable
    } else {
        ErrorKind::Permanent
    };
    let retry_after: Option<Duration> = failed.iter().filter_map(|(_, e)| e.retry_after()).max();
    let details: Vec<String> = failed
        .iter()
        .map(|(name, e)| format!("{name}: {e}"))
        .collect();
    let message = format!(
        "{} of {} destinations failed: {}",
        failed.len(),
        outcomes.len(),
        details.join("; ")
    );
    let error = match kind {
        ErrorKind::Permanent => ConsumeError::permanent(message),
        ErrorKind::Retryable => ConsumeError::retryable(message),
        ErrorKind::Throttled => ConsumeError::throttled(message, None),
    };
    error.with_retry_after(retry_after)
}
