//! A bound on the request bytes the Thrift HTTP and gRPC servers hold at once.
//!
//! Each request takes room for its bytes as they arrive (and for its decompressed body)
//! and keeps it until the pipeline answered; a request that finds no room is refused as
//! throttled (HTTP 429, gRPC `RESOURCE_EXHAUSTED`, both with a retry delay) instead of
//! waiting, so many slow or large requests cannot make the receiver hold more than the
//! budget. The Go receiver has no such bound.

use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The request bytes held at once across a receiver's HTTP and gRPC servers: the `otlp`
/// receiver's default admission limit.
pub(crate) const REQUEST_BUDGET: usize = 128 << 20;

/// The shared budget.
#[derive(Clone)]
pub(crate) struct Admission {
    room: Arc<Semaphore>,
}

/// What one request holds of the budget; released when dropped.
#[derive(Default)]
pub(crate) struct Admitted {
    permit: Option<OwnedSemaphorePermit>,
}

/// A request's share held by several parts of its handling (the body it is read from,
/// the call that delivers it).
pub(crate) type SharedAdmitted = Arc<Mutex<Admitted>>;

impl Admission {
    pub(crate) fn new(bytes: usize) -> Self {
        Admission {
            room: Arc::new(Semaphore::new(bytes)),
        }
    }

    /// Grows what `admitted` holds by `bytes`, or says there is no room.
    pub(crate) fn grow(&self, admitted: &mut Admitted, bytes: usize) -> Result<(), NoRoom> {
        if bytes == 0 {
            return Ok(());
        }
        let bytes = u32::try_from(bytes).map_err(|_| NoRoom)?;
        let more = Arc::clone(&self.room)
            .try_acquire_many_owned(bytes)
            .map_err(|_| NoRoom)?;
        match &mut admitted.permit {
            Some(permit) => permit.merge(more),
            None => admitted.permit = Some(more),
        }
        Ok(())
    }

    /// As [`grow`](Self::grow), for a share held behind a lock.
    pub(crate) fn grow_shared(
        &self,
        admitted: &SharedAdmitted,
        bytes: usize,
    ) -> Result<(), NoRoom> {
        let mut admitted = admitted.lock().unwrap_or_else(|e| e.into_inner());
        self.grow(&mut admitted, bytes)
    }
}

/// The budget has no room for a request's bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NoRoom;

impl NoRoom {
    pub(crate) const MESSAGE: &'static str =
        "too many request bytes in process: over the receiver's admission limit";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_is_taken_until_the_request_ends() {
        let admission = Admission::new(100);
        let mut first = Admitted::default();
        admission.grow(&mut first, 60).unwrap();
        admission.grow(&mut first, 30).unwrap();
        let mut second = Admitted::default();
        assert!(admission.grow(&mut second, 20).is_err());
        drop(first);
        admission.grow(&mut second, 100).unwrap();
    }
}
