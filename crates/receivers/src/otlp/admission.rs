//! Admission control: a budget of request bytes in process, checked before a request is
//! read further, so a flood of requests cannot make the receiver allocate past the limit.
//!
//! A weighted semaphore counts the budget (in KiB, so any request size fits one acquisition).
//! A request is admitted for its size as received (the HTTP `Content-Length`, the length
//! prefix of the gRPC message) before its body is read, and grows its share as its
//! decompressed size becomes known. A request that does not fit waits, in arrival order,
//! while the bytes already waiting stay within the waiting limit; beyond that it is refused
//! as throttled. Its share returns to the budget when its [`AdmissionPermit`] is dropped,
//! after the pipeline answered.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;
use tributary_pipeline_core::component::ProgressTracker;

use super::config::AdmissionConfig;
use super::refusal::Refusal;

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
    /// Requests waiting and admitted, for the health check: requests waiting while none is
    /// admitted is a stalled intake.
    progress: Arc<ProgressTracker>,
}

/// The share of the budget one request holds; returned to the budget on drop.
#[derive(Debug)]
pub(crate) struct AdmissionPermit {
    limit: Option<Arc<Limit>>,
    held_kib: usize,
}

/// KiB needed for `bytes`, rounded up.
fn kib(bytes: usize) -> usize {
    bytes.div_ceil(1024)
}

impl Admission {
    /// The budget `config` describes; `progress` counts the requests that wait for it.
    pub(crate) fn new(config: &AdmissionConfig, progress: Arc<ProgressTracker>) -> Admission {
        let limit = config.request_limit().map(|bytes| {
            let total_kib = kib(bytes).min(Semaphore::MAX_PERMITS);
            Arc::new(Limit {
                semaphore: Semaphore::new(total_kib),
                total_kib,
                waiting_limit: config.waiting_limit(),
                waiting: AtomicUsize::new(0),
                progress,
            })
        });
        Admission { limit }
    }

    /// Admits a request of `bytes` bytes: at once if the budget has room, after waiting if
    /// the waiting limit allows, otherwise refused as throttled. Dropping the returned
    /// future while it waits gives up its place.
    pub(crate) async fn admit(&self, bytes: usize) -> Result<AdmissionPermit, Refusal> {
        let Some(limit) = &self.limit else {
            return Ok(AdmissionPermit {
                limit: None,
                held_kib: 0,
            });
        };
        let needed = kib(bytes);
        let Ok(needed_u32) = u32::try_from(needed) else {
            return Err(too_large_for_budget(bytes));
        };
        if needed > limit.total_kib {
            return Err(too_large_for_budget(bytes));
        }
        match limit.semaphore.try_acquire_many(needed_u32) {
            Ok(permit) => {
                permit.forget();
                limit.progress.begin().complete();
            }
            Err(_) => {
                let _waiting = WaitingShare::join(limit, bytes)?;
                let in_line = limit.progress.begin();
                limit
                    .semaphore
                    .acquire_many(needed_u32)
                    .await
                    .map_err(|_| Refusal::over_admission_limit())?
                    .forget();
                in_line.complete();
            }
        }
        Ok(AdmissionPermit {
            limit: Some(Arc::clone(limit)),
            held_kib: needed,
        })
    }
}

fn too_large_for_budget(bytes: usize) -> Refusal {
    Refusal::TooLarge(format!(
        "request of {bytes} bytes is larger than the receiver's whole admission limit"
    ))
}

/// Bytes counted as waiting for as long as this lives.
struct WaitingShare<'a> {
    limit: &'a Limit,
    bytes: usize,
}

impl<'a> WaitingShare<'a> {
    fn join(limit: &'a Limit, bytes: usize) -> Result<Self, Refusal> {
        let before = limit.waiting.fetch_add(bytes, Ordering::AcqRel);
        let share = WaitingShare { limit, bytes };
        if before.saturating_add(bytes) > limit.waiting_limit {
            return Err(Refusal::over_admission_limit());
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
    /// Grows this request's share to `bytes` (its decompressed size so far), without
    /// waiting: a request already holding a share must not wait for others, or requests
    /// could wait on each other forever. Refused as throttled when the budget has no room.
    pub(crate) fn grow_to(&mut self, bytes: usize) -> Result<(), Refusal> {
        let Some(limit) = &self.limit else {
            return Ok(());
        };
        let needed = kib(bytes);
        if needed <= self.held_kib {
            return Ok(());
        }
        let extra = needed - self.held_kib;
        let extra_u32 = u32::try_from(extra).map_err(|_| too_large_for_budget(bytes))?;
        if needed > limit.total_kib {
            return Err(too_large_for_budget(bytes));
        }
        limit
            .semaphore
            .try_acquire_many(extra_u32)
            .map_err(|_| Refusal::over_admission_limit())?
            .forget();
        self.held_kib = needed;
        Ok(())
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
    use std::time::Duration;

    use super::*;

    fn admission(request_limit_mib: u64, waiting_limit_mib: u64) -> Admission {
        Admission::new(
            &AdmissionConfig {
                request_limit_mib,
                waiting_limit_mib,
            },
            Arc::default(),
        )
    }

    const MIB: usize = 1 << 20;

    fn is_throttled(refusal: &Refusal) -> bool {
        matches!(refusal, Refusal::Refused(e) if e.is_throttled())
    }

    #[tokio::test]
    async fn admits_within_the_limit_and_refuses_beyond_it_without_waiting_room() {
        let admission = admission(2, 0);
        let first = admission.admit(MIB).await.unwrap();
        let _second = admission.admit(MIB).await.unwrap();
        let refused = admission.admit(1).await.unwrap_err();
        assert!(is_throttled(&refused), "{refused:?}");
        drop(first);
        let _third = admission.admit(MIB).await.unwrap();
    }

    #[tokio::test]
    async fn waits_for_room_within_the_waiting_limit() {
        let admission = admission(1, 1);
        let held = admission.admit(MIB).await.unwrap();
        let waiter = tokio::spawn({
            let admission = admission.clone();
            async move { admission.admit(MIB / 2).await.map(|_| ()) }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        // The waiting room holds half a MiB already; another MiB does not fit.
        let refused = admission.admit(MIB).await.unwrap_err();
        assert!(is_throttled(&refused), "{refused:?}");
        assert!(!waiter.is_finished());
        drop(held);
        waiter.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn waiting_requests_with_none_admitted_show_as_a_stall() {
        let progress = Arc::new(ProgressTracker::new());
        let admission = Admission::new(
            &AdmissionConfig {
                request_limit_mib: 1,
                waiting_limit_mib: 1,
            },
            Arc::clone(&progress),
        );
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
        let admission = admission(1, 1);
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
    async fn growing_takes_more_budget_or_refuses() {
        let admission = admission(2, 0);
        let mut permit = admission.admit(MIB / 2).await.unwrap();
        permit.grow_to(MIB + MIB / 2).unwrap();
        let other = admission.admit(MIB / 2).await.unwrap();
        let refused = permit.grow_to(2 * MIB).unwrap_err();
        assert!(is_throttled(&refused), "{refused:?}");
        drop(other);
        permit.grow_to(2 * MIB).unwrap();
        drop(permit);
        // Everything came back.
        let _all = admission.admit(2 * MIB).await.unwrap();
    }

    #[tokio::test]
    async fn a_request_larger_than_the_whole_budget_is_too_large() {
        let admission = admission(1, 10);
        let refused = admission.admit(2 * MIB).await.unwrap_err();
        assert!(matches!(refused, Refusal::TooLarge(_)), "{refused:?}");
    }

    #[tokio::test]
    async fn disabled_admission_admits_everything() {
        let admission = admission(0, 0);
        let mut permits = Vec::new();
        for _ in 0..4 {
            let mut permit = admission.admit(1 << 30).await.unwrap();
            permit.grow_to(1 << 31).unwrap();
            permits.push(permit);
        }
    }
}
