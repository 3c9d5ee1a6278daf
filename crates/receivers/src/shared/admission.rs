//! Admission control: a budget of request bytes in process, checked before a request is
//! read further, so a flood of requests cannot make a receiver allocate past the limit.
//!
//! A weighted semaphore counts the budget (in KiB, so any request size fits one acquisition).
//! A request is admitted for its size as received (the HTTP `Content-Length`, the length
//! prefix of the gRPC message, or nothing yet) and grows its share as its bytes arrive and
//! its decompressed size becomes known; growing never waits, since a request already
//! holding a share must not wait for others or requests could wait on each other forever.
//! A request that does not fit when admitted waits, in arrival order, while the bytes
//! already waiting stay within the waiting limit and for at most the longest wait; beyond
//! that it is refused. Its share returns to the budget when its [`AdmissionPermit`] is
//! dropped, after the pipeline answered.
//!
//! Each receiver says how a refusal ([`NotAdmitted`]) is answered: the `otlp` and `jaeger`
//! receivers throttle (429, `RESOURCE_EXHAUSTED`), the `zipkin` receiver answers 503.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;
use tributary_pipeline_core::component::ProgressTracker;
use tributary_pipeline_core::configcompression::Budget;

/// The admission budget of one receiver; cheap to clone, every clone shares the budget.
#[derive(Clone, Debug, Default)]
pub(crate) struct Admission {
    /// `None` when admission control is off.
    limit: Option<Arc<Limit>>,
}

#[derive(Debug)]
struct Limit {
    /// Free budget, in KiB.
    semaphore: Semaphore,
    /// The whole budget, in KiB.
    total_kib: usize,
    /// The most bytes allowed to wait for admission.
    waiting_limit: usize,
    /// Bytes waiting for admission now.
    waiting: AtomicUsize,
    /// The longest a request waits for admission; `None` waits for as long as it takes.
    max_wait: Option<Duration>,
    /// Requests waiting and admitted, for the health check: requests waiting while none is
    /// admitted is a stalled intake.
    progress: Option<Arc<ProgressTracker>>,
}

/// Why a request was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotAdmitted {
    /// The request alone is larger than the whole budget: it can never be admitted.
    TooLarge {
        /// The request's size.
        bytes: usize,
    },
    /// The budget has no room now, and the request may not (or may no longer) wait.
    NoRoom,
}

impl NotAdmitted {
    /// The message for a request over a budget that is full now.
    pub(crate) const NO_ROOM: &'static str =
        "too many request bytes in process: over the receiver's admission limit";
}

/// The share of the budget one request holds; returned to the budget on drop.
#[derive(Debug)]
pub(crate) struct AdmissionPermit {
    limit: Option<Arc<Limit>>,
    held_kib: usize,
    /// The bytes this share was last sized for.
    bytes: usize,
}

/// KiB needed for `bytes`, rounded up.
fn kib(bytes: usize) -> usize {
    bytes.div_ceil(1024)
}

impl Admission {
    /// A budget that admits everything: admission control is off.
    pub(crate) fn unbounded() -> Admission {
        Admission { limit: None }
    }

    /// A budget of `bytes` request bytes in process at once. A request that does not fit
    /// is refused at once unless [`waiting_limit`](Self::waiting_limit) lets it wait.
    pub(crate) fn bounded(bytes: usize) -> Admission {
        let total_kib = kib(bytes).min(Semaphore::MAX_PERMITS);
        Admission {
            limit: Some(Arc::new(Limit {
                semaphore: Semaphore::new(total_kib),
                total_kib,
                waiting_limit: 0,
                waiting: AtomicUsize::new(0),
                max_wait: None,
                progress: None,
            })),
        }
    }

    /// Lets requests of up to `bytes` bytes in all wait for room, for at most `max_wait`
    /// each (`None`: as long as it takes).
    pub(crate) fn waiting_limit(self, bytes: usize, max_wait: Option<Duration>) -> Admission {
        self.configure(|limit| {
            limit.waiting_limit = bytes;
            limit.max_wait = max_wait;
        })
    }

    /// Counts the requests that wait for room in `progress`.
    pub(crate) fn tracking(self, progress: Arc<ProgressTracker>) -> Admission {
        self.configure(|limit| limit.progress = Some(progress))
    }

    /// Changes the limit while this is its only handle (before the budget is shared).
    fn configure(mut self, change: impl FnOnce(&mut Limit)) -> Admission {
        if let Some(limit) = self.limit.as_mut().and_then(Arc::get_mut) {
            change(limit);
        }
        self
    }

    /// A permit holding nothing yet, to grow as a request's bytes arrive.
    pub(crate) fn empty_permit(&self) -> AdmissionPermit {
        AdmissionPermit {
            limit: self.limit.clone(),
            held_kib: 0,
            bytes: 0,
        }
    }

    /// Admits a request of `bytes` bytes: at once if the budget has room, after waiting if
    /// the waiting limit allows, otherwise refused. Dropping the returned future while it
    /// waits gives up its place.
    pub(crate) async fn admit(&self, bytes: usize) -> Result<AdmissionPermit, NotAdmitted> {
        let Some(limit) = &self.limit else {
            return Ok(self.empty_permit());
        };
        let needed = kib(bytes);
        let Ok(needed_u32) = u32::try_from(needed) else {
            return Err(NotAdmitted::TooLarge { bytes });
        };
        if needed > limit.total_kib {
            return Err(NotAdmitted::TooLarge { bytes });
        }
        match limit.semaphore.try_acquire_many(needed_u32) {
            Ok(permit) => {
                permit.forget();
                if let Some(progress) = &limit.progress {
                    progress.begin().complete();
                }
            }
            Err(_) => {
                let _waiting = WaitingShare::join(limit, bytes)?;
                let in_line = limit.progress.as_ref().map(|progress| progress.begin());
                let acquire = limit.semaphore.acquire_many(needed_u32);
                let acquired = match limit.max_wait {
                    Some(max_wait) => tokio::time::timeout(max_wait, acquire)
                        .await
                        .map_err(|_| NotAdmitted::NoRoom)?,
                    None => acquire.await,
                };
                acquired.map_err(|_| NotAdmitted::NoRoom)?.forget();
                if let Some(in_line) = in_line {
                    in_line.complete();
                }
            }
        }
        Ok(AdmissionPermit {
            limit: Some(Arc::clone(limit)),
            held_kib: needed,
            bytes,
        })
    }
}

/// Bytes counted as waiting for as long as this lives.
struct WaitingShare<'a> {
    limit: &'a Limit,
    bytes: usize,
}

impl<'a> WaitingShare<'a> {
    fn join(limit: &'a Limit, bytes: usize) -> Result<Self, NotAdmitted> {
        let before = limit.waiting.fetch_add(bytes, Ordering::AcqRel);
        let share = WaitingShare { limit, bytes };
        if before.saturating_add(bytes) > limit.waiting_limit {
            return Err(NotAdmitted::NoRoom);
        }
        Ok(share)
    }
}

impl Drop for WaitingShare<'_> {
    fn drop(&mut self) {
        self.limit.waiting.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

impl AdmissionPermit {
    /// Grows this request's share to `bytes` (its size so far), without waiting; refused
    /// when the budget has no room, the share unchanged.
    pub(crate) fn grow_to(&mut self, bytes: usize) -> Result<(), NotAdmitted> {
        let Some(limit) = &self.limit else {
            return Ok(());
        };
        let needed = kib(bytes);
        if needed <= self.held_kib {
            self.bytes = self.bytes.max(bytes);
            return Ok(());
        }
        let extra = needed - self.held_kib;
        let extra_u32 = u32::try_from(extra).map_err(|_| NotAdmitted::TooLarge { bytes })?;
        if needed > limit.total_kib {
            return Err(NotAdmitted::TooLarge { bytes });
        }
        limit
            .semaphore
            .try_acquire_many(extra_u32)
            .map_err(|_| NotAdmitted::NoRoom)?
            .forget();
        self.held_kib = needed;
        self.bytes = bytes;
        Ok(())
    }

    /// Grows this request's share by `bytes` more (a chunk that arrived), as
    /// [`grow_to`](Self::grow_to).
    pub(crate) fn grow_by(&mut self, bytes: usize) -> Result<(), NotAdmitted> {
        self.grow_to(self.bytes.saturating_add(bytes))
    }
}

/// Decompressed output is admission budget the request holds.
impl Budget for AdmissionPermit {
    type Refusal = NotAdmitted;

    fn grow_to(&mut self, bytes: usize) -> Result<(), NotAdmitted> {
        AdmissionPermit::grow_to(self, bytes)
    }
}

impl Drop for AdmissionPermit {
    fn drop(&mut self) {
        if let Some(limit) = &self.limit
            && self.held_kib > 0
        {
            limit.semaphore.add_permits(self.held_kib);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    fn admission(request_limit: usize, waiting_limit: usize) -> Admission {
        Admission::bounded(request_limit).waiting_limit(waiting_limit, None)
    }

    #[tokio::test]
    async fn admits_within_the_limit_and_refuses_beyond_it_without_waiting_room() {
        let admission = admission(2 * MIB, 0);
        let first = admission.admit(MIB).await.unwrap();
        let _second = admission.admit(MIB).await.unwrap();
        assert_eq!(admission.admit(1).await.unwrap_err(), NotAdmitted::NoRoom);
        drop(first);
        let _third = admission.admit(MIB).await.unwrap();
    }

    #[tokio::test]
    async fn waits_for_room_within_the_waiting_limit() {
        let admission = admission(MIB, MIB);
        let held = admission.admit(MIB).await.unwrap();
        let waiter = tokio::spawn({
            let admission = admission.clone();
            async move { admission.admit(MIB / 2).await.map(|_| ()) }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        // The waiting room holds half a MiB already; another MiB does not fit.
        assert_eq!(admission.admit(MIB).await.unwrap_err(), NotAdmitted::NoRoom);
        assert!(!waiter.is_finished());
        drop(held);
        waiter.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn waiting_requests_with_none_admitted_show_as_a_stall() {
        let progress = Arc::new(ProgressTracker::new());
        let admission = admission(MIB, MIB).tracking(Arc::clone(&progress));
        let held = admission.admit(MIB).await.unwrap();
        assert_eq!(progress.snapshot().completed, 1);
        let waiter = tokio::spawn({
            let admission = admission.clone();
            async move { admission.admit(MIB / 2).await.map(|_| ()) }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let stalled = progress.snapshot();
        assert_eq!(stalled.inflight, 1);
        assert!(
            stalled.stalled_for() >= Duration::from_millis(40),
            "{stalled:?}"
        );
        drop(held);
        waiter.await.unwrap().unwrap();
        let resumed = progress.snapshot();
        assert_eq!((resumed.inflight, resumed.completed), (0, 2));
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_leaves_the_waiting_room() {
        let admission = admission(MIB, MIB);
        let held = admission.admit(MIB).await.unwrap();
        let gave_up = tokio::time::timeout(Duration::from_millis(10), admission.admit(MIB)).await;
        assert!(gave_up.is_err(), "should still be waiting");
        // Its bytes left the waiting room, so a new waiter fits.
        let waiter = tokio::spawn({
            let admission = admission.clone();
            async move { admission.admit(MIB).await.map(|_| ()) }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        drop(held);
        waiter.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_waiter_is_refused_after_the_longest_wait() {
        let admission =
            Admission::bounded(MIB).waiting_limit(usize::MAX, Some(Duration::from_millis(10)));
        let held = admission.admit(MIB).await.unwrap();
        assert_eq!(admission.admit(1).await.unwrap_err(), NotAdmitted::NoRoom);
        drop(held);
        admission.admit(MIB).await.unwrap();
    }

    #[tokio::test]
    async fn growing_takes_more_budget_or_refuses() {
        let admission = admission(2 * MIB, 0);
        let mut permit = admission.admit(MIB / 2).await.unwrap();
        permit.grow_to(MIB + MIB / 2).unwrap();
        let other = admission.admit(MIB / 2).await.unwrap();
        assert_eq!(permit.grow_to(2 * MIB).unwrap_err(), NotAdmitted::NoRoom);
        drop(other);
        permit.grow_to(2 * MIB).unwrap();
        drop(permit);
        // Everything came back.
        let _all = admission.admit(2 * MIB).await.unwrap();
    }

    #[test]
    fn chunks_take_room_until_the_request_ends() {
        let admission = Admission::bounded(100 * 1024);
        let mut first = admission.empty_permit();
        first.grow_by(60 * 1024).unwrap();
        first.grow_by(30 * 1024).unwrap();
        let mut second = admission.empty_permit();
        assert_eq!(second.grow_by(20 * 1024), Err(NotAdmitted::NoRoom));
        drop(first);
        second.grow_by(100 * 1024).unwrap();
    }

    #[tokio::test]
    async fn a_request_larger_than_the_whole_budget_is_too_large() {
        let admission = admission(MIB, 10 * MIB);
        let refused = admission.admit(2 * MIB).await.unwrap_err();
        assert_eq!(refused, NotAdmitted::TooLarge { bytes: 2 * MIB });
    }

    #[tokio::test]
    async fn disabled_admission_admits_everything() {
        let admission = Admission::unbounded();
        let mut permits = Vec::new();
        for _ in 0..4 {
            let mut permit = admission.admit(1 << 30).await.unwrap();
            permit.grow_to(1 << 31).unwrap();
            permits.push(permit);
        }
    }
}
