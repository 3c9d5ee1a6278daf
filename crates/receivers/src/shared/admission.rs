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
//! With a line ([`Admission::with_line`], the `otlp` receiver's), when the budget runs out
//! the receiver stops reading new requests until a quarter of it is free again: a request
//! that arrives meanwhile waits in line for its [`turn`](Admission::turn) before its body
//! is read, its bytes held back by TCP and HTTP/2 flow control. Under overload, clients
//! then wait instead of sending requests that would be read only to be refused: reading
//! and refusing them took the CPU the admitted requests needed (at four times saturation
//! over gRPC, goodput was 30–40 % of saturation; BENCHMARKS.md, overload sweep).
//!
//! Each receiver says how a refusal ([`NotAdmitted`]) is answered: the `otlp` and `jaeger`
//! receivers throttle (429, `RESOURCE_EXHAUSTED`), the `zipkin` receiver answers 503.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, Semaphore};
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
    /// What admitted requests may grow by past the budget where new requests wait in line,
    /// in KiB: a quarter of it.
    overdraft: Semaphore,
    /// Whether new requests wait in line while the budget is out ([`Admission::with_line`]).
    line: bool,
    /// Set while the budget has no room: new requests wait in line.
    closed: AtomicBool,
    /// Requests waiting for their turn now.
    in_line: AtomicUsize,
    /// Wakes the first request in line.
    turns: Notify,
}

/// How many requests may wait in line per byte of the waiting limit: one per KiB. A
/// request in line holds its headers and a task, not its body.
const LINE_PLACE_BYTES: usize = 1024;

impl Limit {
    /// How many requests may wait in line: one per KiB of the waiting limit; 0, no line.
    fn line_limit(&self) -> usize {
        if self.line {
            self.waiting_limit / LINE_PLACE_BYTES
        } else {
            0
        }
    }

    /// The budget has no room for a request: new requests wait in line.
    fn exhausted(&self) {
        self.closed.store(true, Ordering::SeqCst);
        // Room may have returned before the flag was set, with nobody left to clear it.
        self.reopen_if_room();
    }

    /// Lets the line move once a quarter of the budget is free: room for the requests
    /// then read at once, so that it does not stop again at once.
    fn reopen_if_room(&self) {
        if self.closed.load(Ordering::SeqCst)
            && self.semaphore.available_permits() >= self.total_kib / 4
            && self.closed.swap(false, Ordering::SeqCst)
        {
            self.pass_turn();
        }
    }

    /// Gives the first request in line its turn, while the budget has room.
    fn pass_turn(&self) {
        if !self.closed.load(Ordering::SeqCst) && self.in_line.load(Ordering::SeqCst) > 0 {
            self.turns.notify_one();
        }
    }
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
    /// KiB held in all, `overdrawn_kib` of them from the overdraft.
    held_kib: usize,
    overdrawn_kib: usize,
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
                overdraft: Semaphore::new(total_kib / 4),
                line: false,
                total_kib,
                waiting_limit: 0,
                waiting: AtomicUsize::new(0),
                max_wait: None,
                progress: None,
                closed: AtomicBool::new(false),
                in_line: AtomicUsize::new(0),
                turns: Notify::new(),
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

    /// Makes new requests wait in line while the budget is out (see [`turn`](Self::turn)),
    /// one per KiB of the waiting limit, and lets admitted requests overdraw the budget by
    /// a quarter meanwhile.
    pub(crate) fn with_line(self) -> Admission {
        self.configure(|limit| limit.line = true)
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

    /// Waits, while the budget is out or others wait, for this request's turn to be read,
    /// in arrival order. Once room returns, each request given its turn gives the next in
    /// line its own, so the line drains as fast as the requests are scheduled while there
    /// is room, and stops within one request of the budget running out again. Refused when
    /// the line is full or after `max_wait` in it (a client gives up after its own timeout,
    /// and a request delivered after that would be sent again). There is no line unless
    /// [`with_line`](Self::with_line) made one and requests may wait (a waiting limit of at
    /// least 1 KiB).
    pub(crate) async fn turn(&self, max_wait: Duration) -> Result<(), NotAdmitted> {
        let Some(limit) = self.limit.as_deref() else {
            return Ok(());
        };
        let line_limit = limit.line_limit();
        if line_limit == 0 {
            return Ok(());
        }
        if !limit.closed.load(Ordering::SeqCst) && limit.in_line.load(Ordering::SeqCst) == 0 {
            return Ok(());
        }
        let place = Counted::join(&limit.in_line, 1, line_limit)?;
        let notified = limit.turns.notified();
        let mut notified = std::pin::pin!(notified);
        // Registered before the flag is looked at again, so room returning is not missed.
        notified.as_mut().enable();
        // Joining a line while there is room: the turns may have stopped passing.
        limit.pass_turn();
        tokio::time::timeout(max_wait, notified)
            .await
            .map_err(|_| NotAdmitted::NoRoom)?;
        drop(place);
        limit.pass_turn();
        Ok(())
    }

    /// A permit holding nothing yet, to grow as a request's bytes arrive.
    pub(crate) fn empty_permit(&self) -> AdmissionPermit {
        AdmissionPermit {
            limit: self.limit.clone(),
            held_kib: 0,
            overdrawn_kib: 0,
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
                limit.exhausted();
                let _waiting = Counted::join(&limit.waiting, bytes, limit.waiting_limit)?;
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
            overdrawn_kib: 0,
            bytes,
        })
    }
}

/// An amount counted in `counter` (bytes waiting, requests in line) for as long as this
/// lives.
struct Counted<'a> {
    counter: &'a AtomicUsize,
    amount: usize,
}

impl<'a> Counted<'a> {
    /// Counts `amount` in `counter`; refused, and not counted, when that takes it past `max`.
    fn join(counter: &'a AtomicUsize, amount: usize, max: usize) -> Result<Self, NotAdmitted> {
        let before = counter.fetch_add(amount, Ordering::SeqCst);
        let counted = Counted { counter, amount };
        if before.saturating_add(amount) > max {
            return Err(NotAdmitted::NoRoom);
        }
        Ok(counted)
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.counter.fetch_sub(self.amount, Ordering::SeqCst);
    }
}

impl AdmissionPermit {
    /// Grows this request's share to `bytes` (its size so far), without waiting. Where new
    /// requests wait in line, a request already holding a share that finds the budget
    /// full grows into the overdraft (a quarter more than the budget): its bytes are
    /// arriving or being decompressed anyway, while no new request is read, and refusing
    /// it now would waste what it cost. Refused when neither has room, the share
    /// unchanged.
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
        match limit.semaphore.try_acquire_many(extra_u32) {
            Ok(acquired) => acquired.forget(),
            Err(_) => {
                limit.exhausted();
                // Only a request already admitted, and only where others wait in line.
                if self.held_kib == 0 || limit.line_limit() == 0 {
                    return Err(NotAdmitted::NoRoom);
                }
                let Ok(overdrawn) = limit.overdraft.try_acquire_many(extra_u32) else {
                    return Err(NotAdmitted::NoRoom);
                };
                overdrawn.forget();
                self.overdrawn_kib += extra;
            }
        }
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
            limit.overdraft.add_permits(self.overdrawn_kib);
            limit
                .semaphore
                .add_permits(self.held_kib - self.overdrawn_kib);
            limit.reopen_if_room();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    fn admission(request_limit: usize, waiting_limit: usize) -> Admission {
        Admission::bounded(request_limit)
            .waiting_limit(waiting_limit, None)
            .with_line()
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
        let admission = admission(2 * MIB, MIB);
        let mut permit = admission.admit(MIB / 2).await.unwrap();
        permit.grow_to(MIB + MIB / 2).unwrap();
        let mut other = admission.admit(MIB / 2).await.unwrap();
        // The budget is full: a quarter of it more is the overdraft, and no more.
        permit.grow_to(2 * MIB).unwrap();
        assert_eq!(other.grow_to(MIB).unwrap_err(), NotAdmitted::NoRoom);
        // A request holding nothing yet is not admitted into the overdraft.
        assert_eq!(
            admission.empty_permit().grow_to(1).unwrap_err(),
            NotAdmitted::NoRoom
        );
        drop(other);
        drop(permit);
        // Everything came back, the overdraft too.
        let mut first = admission.admit(MIB).await.unwrap();
        let _second = admission.admit(MIB).await.unwrap();
        first.grow_to(MIB + MIB / 2).unwrap();
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

    /// Whether new requests wait in line now.
    fn out_of_room(admission: &Admission) -> bool {
        admission
            .limit
            .as_ref()
            .unwrap()
            .closed
            .load(Ordering::SeqCst)
    }

    const LONG: Duration = Duration::from_secs(30);

    /// A request waiting for its turn, for as long as it takes.
    fn wait_in_line(admission: &Admission) -> tokio::task::JoinHandle<Result<(), NotAdmitted>> {
        let admission = admission.clone();
        tokio::spawn(async move { admission.turn(LONG).await })
    }

    /// Admits requests of 1 MiB until a budget of four is full.
    async fn fill(admission: &Admission) -> Vec<AdmissionPermit> {
        let mut held = Vec::new();
        for _ in 0..4 {
            held.push(admission.admit(MIB).await.unwrap());
        }
        held
    }

    #[tokio::test]
    async fn the_budget_is_out_once_a_request_finds_no_room_and_back_at_a_quarter_free() {
        let admission = admission(4 * MIB, MIB);
        let mut held = fill(&admission).await;
        assert!(!out_of_room(&admission), "full, but nothing refused yet");
        // A request too large for any budget says nothing about room.
        assert!(admission.admit(5 * MIB).await.is_err());
        assert!(!out_of_room(&admission));
        let no_room = tokio::time::timeout(Duration::from_millis(10), admission.admit(1)).await;
        assert!(no_room.is_err(), "waits for room");
        assert!(out_of_room(&admission));
        // Growing into the overdraft says the budget is out too.
        held[0].grow_to(2 * MIB).unwrap();
        held.pop();
        assert!(
            !out_of_room(&admission),
            "a quarter of the budget is free again"
        );
    }

    #[tokio::test]
    async fn new_requests_wait_in_line_until_a_quarter_of_the_budget_is_free() {
        let admission = admission(4 * MIB, MIB);
        let mut held = fill(&admission).await;
        admission.turn(LONG).await.unwrap();
        // One request waits for room: the budget is out, and the next waits in line.
        let waiter = tokio::spawn({
            let admission = admission.clone();
            // The permit stays in the task's output until the test drops it.
            async move { admission.admit(MIB).await }
        });
        while !out_of_room(&admission) {
            tokio::task::yield_now().await;
        }
        let in_line = wait_in_line(&admission);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!in_line.is_finished());
        // The freed MiB goes to the request waiting for room: still none free.
        held.pop();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!in_line.is_finished());
        drop(waiter.await.unwrap().unwrap());
        // Its MiB came back: a quarter of the budget is free.
        in_line.await.unwrap().unwrap();
        // With nobody in line and room, a request goes straight on.
        admission.turn(Duration::ZERO).await.unwrap();
    }

    #[tokio::test]
    async fn the_line_refuses_after_the_longest_wait_and_when_full() {
        // Two places in line: one per KiB of the waiting limit.
        let admission = admission(MIB, 2048);
        let _all = admission.admit(MIB).await.unwrap();
        let no_room = tokio::time::timeout(Duration::from_millis(10), admission.admit(1)).await;
        assert!(no_room.is_err(), "waits for room");
        assert_eq!(
            admission.turn(Duration::from_millis(10)).await.unwrap_err(),
            NotAdmitted::NoRoom
        );
        let first = wait_in_line(&admission);
        let second = wait_in_line(&admission);
        eventually_in_line(&admission, 2).await;
        assert_eq!(
            admission.turn(LONG).await.unwrap_err(),
            NotAdmitted::NoRoom,
            "the line is full"
        );
        first.abort();
        second.abort();
    }

    #[tokio::test]
    async fn without_waiting_room_there_is_no_line_and_no_overdraft() {
        let admission = admission(MIB, 0);
        let mut all = admission.admit(MIB / 2).await.unwrap();
        let _rest = admission.admit(MIB / 2).await.unwrap();
        assert!(admission.admit(1).await.is_err());
        assert!(out_of_room(&admission));
        admission.turn(Duration::ZERO).await.unwrap();
        assert_eq!(all.grow_to(MIB).unwrap_err(), NotAdmitted::NoRoom);
    }

    async fn eventually_in_line(admission: &Admission, count: usize) {
        let limit = admission.limit.as_ref().unwrap();
        while limit.in_line.load(Ordering::SeqCst) < count {
            tokio::task::yield_now().await;
        }
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
