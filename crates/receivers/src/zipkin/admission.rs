//! Admission: a bound on the memory the requests being handled hold at once, so that
//! many large requests arriving together wait or are refused instead of exhausting
//! memory. A request reserves its body's size before reading it and grows its
//! reservation as decompression grows its output.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tributary_pipeline_core::configcompression::Budget;

/// The memory all requests may hold at once when `max_request_body_size` is the default:
/// the OTLP receiver's default `request_limit_mib`. Larger limits get twice the limit, so
/// one request of the largest size (and its decompressed form) always fits.
pub(crate) const DEFAULT_BUDGET: usize = 128 << 20;

/// How long a request waits for room before it is refused with 503.
const WAIT: Duration = Duration::from_secs(1);

/// Reservations are counted in KiB: a semaphore takes at most `u32::MAX` permits at once.
const UNIT: usize = 1024;

fn units(bytes: usize) -> u32 {
    u32::try_from(bytes.div_ceil(UNIT)).unwrap_or(u32::MAX)
}

/// The shared budget of one receiver.
#[derive(Clone)]
pub(crate) struct Admission {
    budget: Arc<Semaphore>,
}

/// No room in the budget: the answer is 503, to come back later.
#[derive(Debug)]
pub(crate) struct Busy;

/// What one request holds.
pub(crate) struct Permit {
    budget: Arc<Semaphore>,
    held: Option<OwnedSemaphorePermit>,
    bytes: usize,
}

impl Admission {
    /// A budget that holds at least two bodies of `max_body_size`.
    pub(crate) fn new(max_body_size: usize) -> Self {
        let bytes = DEFAULT_BUDGET.max(max_body_size.saturating_mul(2));
        Admission {
            budget: Arc::new(Semaphore::new(units(bytes) as usize)),
        }
    }

    /// Reserves `bytes`, waiting up to a second for room.
    pub(crate) async fn admit(&self, bytes: usize) -> Result<Permit, Busy> {
        let acquire = Arc::clone(&self.budget).acquire_many_owned(units(bytes));
        match tokio::time::timeout(WAIT, acquire).await {
            Ok(Ok(held)) => Ok(Permit {
                budget: Arc::clone(&self.budget),
                held: Some(held),
                bytes,
            }),
            _ => Err(Busy),
        }
    }
}

/// Decompression asks before each growth of its output.
impl Budget for Permit {
    type Refusal = Busy;

    fn grow_to(&mut self, bytes: usize) -> Result<(), Busy> {
        let more = units(bytes).saturating_sub(units(self.bytes));
        if more == 0 {
            return Ok(());
        }
        let grown = Arc::clone(&self.budget)
            .try_acquire_many_owned(more)
            .map_err(|_| Busy)?;
        match &mut self.held {
            Some(held) => held.merge(grown),
            None => self.held = Some(grown),
        }
        self.bytes = bytes;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn requests_past_the_budget_wait_then_are_refused() {
        let admission = Admission::new(0);
        let first = admission.admit(DEFAULT_BUDGET - 4096).await.unwrap();
        let mut second = admission.admit(2048).await.unwrap();
        // Growing past what is left is refused at once; the budget is unchanged.
        assert!(second.grow_to(1 << 20).is_err());
        assert!(second.grow_to(4096).is_ok());
        assert!(admission.admit(1).await.is_err());
        drop(first);
        assert!(admission.admit(1 << 20).await.is_ok());
    }

    #[test]
    fn the_budget_fits_two_of_the_largest_bodies() {
        let admission = Admission::new(200 << 20);
        assert_eq!(
            admission.budget.available_permits(),
            units(400 << 20) as usize
        );
    }
}
