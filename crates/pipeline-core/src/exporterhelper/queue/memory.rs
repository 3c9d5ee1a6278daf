//! `MemoryQueue`: a bounded FIFO of requests in memory.
//!
//! Two bounds, both counting a request until its delivery ends: the capacity in the
//! `sizer`'s unit (`queue_size`), and a memory limit in bytes of protobuf encoding
//! (`memory_limit_mib`) whatever the sizer, since 1000 requests may be 1000 × 20 MiB. An
//! offer that would pass either is refused with the same retryable "sending queue is
//! full" (or, blocking on overflow, waits for room). A request larger than the whole
//! memory limit is admitted when the queue holds nothing else, so the limit can never
//! refuse it for good: memory stays within the limit or one request, whichever is larger
//! — and receivers bound the size of one request.
//!
//! Those limits are sized for outages, and under overload with a healthy backend a FIFO
//! would fill them all the same: when this process runs out of CPU, its consumers fall
//! behind the receivers and the queue grows to its limits, memory that buys nothing since
//! the backend is not down. So with `wait_while_behind`, an offer waits while the backend
//! is healthy (the last delivery that ended was delivered, less than [`STALL`] ago) *and*
//! the queue is behind: its backlog (queued, not yet handed to a consumer) is above a
//! sixteenth of the capacity, or the bytes it holds (queued or being delivered) above a
//! sixteenth of the memory limit. The bytes in delivery count because each consumer holds
//! its request until the export ends: ten consumers exporting large batches held more than
//! the backlog did, and more consumers do not export faster when CPU is what is short.
//! The callers hold their data meanwhile, which is backpressure: receivers stop reading,
//! their admission budget fills, and new requests are refused with a retryable
//! throttling code before being decoded. When deliveries fail or stall, offers
//! fill the queue up to its limits, to ride out the outage.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::{Completion, Delivery, Outcome, Queue, queue_full, shutting_down, size_of, too_large};
use crate::consumer::ConsumeError;
use crate::exporterhelper::{Limit, Sizer};
use crate::pdata::SignalData;
use crate::telemetry::{Counter, Gauge};

/// A bounded FIFO in memory whose size counts requests until their delivery ends.
pub(crate) struct MemoryQueue<T> {
    shared: Arc<Shared<T>>,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    limit: Limit,
    /// The most bytes (protobuf encoding) the requests held may take; `None`: no bound.
    memory_limit: Option<u64>,
    block_on_overflow: bool,
    /// With `wait_while_behind`: offers wait while the backend is healthy and the backlog
    /// is at `size`, or the bytes held (queued or in delivery) at `bytes` (counted only
    /// under a memory limit).
    pace_above: Option<Footprint>,
    /// A request was queued, or the queue closed.
    readable: Notify,
    /// Size was released, or the queue closed.
    room: Notify,
    size_gauge: Gauge,
    enqueue_failed: Counter,
}

/// What one request takes of the queue's bounds.
#[derive(Clone, Copy, Debug, Default)]
struct Footprint {
    /// In the sizer's unit.
    size: u64,
    /// Bytes of protobuf encoding (zero when there is no memory limit to count them for).
    bytes: u64,
}

struct State<T> {
    /// Queued requests with what they take.
    queued: VecDeque<(T, Footprint)>,
    /// What the queued requests take together: the backlog.
    backlog: Footprint,
    /// Queued plus handed out and not yet completed.
    held: Footprint,
    /// When the last delivery that ended was delivered; `None` before the first, or once
    /// one was dropped after it.
    last_delivered: Option<Instant>,
    closed: bool,
}

/// How long after the last delivery the backend still counts as healthy. Past it, offers
/// no longer wait for the backlog to shrink: the consumers are stuck in a long export or
/// in retries, and the queue is what rides that out.
pub(crate) const STALL: Duration = Duration::from_secs(1);

/// The share of each limit the backlog may reach before offers wait, while healthy.
const PACE_FRACTION: u64 = 16;

/// Why an offer does not fit now.
enum Full {
    Capacity,
    Memory(u64),
}

impl<T: SignalData> MemoryQueue<T> {
    /// A queue of `limit.capacity` in `limit.sizer` units, holding at most `memory_limit`
    /// bytes of requests (`None`: no such bound), whose offers wait while it is behind a
    /// healthy backend if `wait_while_behind`. `size_gauge` follows its size;
    /// `enqueue_failed` counts the items it refuses.
    pub fn new(
        limit: Limit,
        memory_limit: Option<u64>,
        block_on_overflow: bool,
        wait_while_behind: bool,
        size_gauge: Gauge,
        enqueue_failed: Counter,
    ) -> Self {
        let pace_above = wait_while_behind.then(|| Footprint {
            size: (limit.capacity / PACE_FRACTION).max(1),
            bytes: memory_limit.map_or(u64::MAX, |bytes| bytes / PACE_FRACTION),
        });
        MemoryQueue {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    queued: VecDeque::new(),
                    backlog: Footprint::default(),
                    held: Footprint::default(),
                    last_delivered: None,
                    closed: false,
                }),
                limit,
                memory_limit,
                block_on_overflow,
                pace_above,
                readable: Notify::new(),
                room: Notify::new(),
                size_gauge,
                enqueue_failed,
            }),
        }
    }

    /// The current size: queued plus in delivery.
    #[cfg(test)]
    pub fn size(&self) -> u64 {
        self.shared.lock().held.size
    }

    /// The bytes held: queued plus in delivery (counted only under a memory limit).
    #[cfg(test)]
    pub fn bytes(&self) -> u64 {
        self.shared.lock().held.bytes
    }
}

impl<T> Shared<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `footprint` fits beside what `state` holds.
    fn fits(&self, state: &State<T>, footprint: Footprint) -> Result<(), Full> {
        if state.held.size.saturating_add(footprint.size) > self.limit.capacity {
            return Err(Full::Capacity);
        }
        // Into an empty queue anything goes: a request larger than the whole limit must
        // not be refused for ever.
        if let Some(limit) = self.memory_limit
            && state.held.size > 0
            && state.held.bytes.saturating_add(footprint.bytes) > limit
        {
            return Err(Full::Memory(limit));
        }
        Ok(())
    }

    /// When an offer must wait for the queue to catch up: the backlog, or the bytes held,
    /// is above the pacing threshold and the backend healthy. Returns when the backend
    /// stops counting as healthy, so the wait can end then even if no delivery ends.
    fn behind_healthy_backend(&self, state: &State<T>, now: Instant) -> Option<Instant> {
        let pace_above = self.pace_above?;
        let healthy_until = state.last_delivered? + STALL;
        let behind = state.backlog.size >= pace_above.size || state.held.bytes >= pace_above.bytes;
        (behind && now < healthy_until).then_some(healthy_until)
    }

    fn release(&self, footprint: Footprint, outcome: Outcome) {
        let mut state = self.lock();
        state.held.size -= footprint.size;
        state.held.bytes -= footprint.bytes;
        match outcome {
            Outcome::Delivered => state.last_delivered = Some(Instant::now()),
            Outcome::Dropped => state.last_delivered = None,
            // Shutdown says nothing about the backend.
            Outcome::Interrupted => {}
        }
        self.size_gauge.set(state.held.size as i64);
        drop(state);
        self.room.notify_waiters();
    }
}

/// The error for a queue whose memory limit is reached: as retryable as a full queue.
fn memory_full(limit: u64) -> ConsumeError {
    ConsumeError::retryable(format!(
        "sending queue is full: it holds {} MiB of data (sending_queue::memory_limit_mib)",
        limit >> 20
    ))
}

#[async_trait]
impl<T: SignalData> Queue<T> for MemoryQueue<T> {
    async fn offer(&self, data: T) -> Result<(), ConsumeError> {
        let shared = &self.shared;
        let limit = shared.limit;
        let size = size_of(limit.sizer, &data);
        let refuse = |error: ConsumeError, data: &T| {
            shared.enqueue_failed.add(data.item_count() as u64);
            Err(error)
        };
        if size > limit.capacity {
            return refuse(too_large(size, limit.capacity, limit.sizer), &data);
        }
        if size == 0 {
            // Nothing to send (an empty request under the items or bytes sizer).
            return Ok(());
        }
        let bytes = match (shared.memory_limit, limit.sizer) {
            (None, _) => 0,
            (Some(_), Sizer::Bytes) => size,
            (Some(_), _) => data.encoded_len() as u64,
        };
        let footprint = Footprint { size, bytes };
        loop {
            let room = shared.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            let healthy_until = {
                let mut state = shared.lock();
                if state.closed {
                    drop(state);
                    return refuse(shutting_down(), &data);
                }
                let healthy_until = shared.behind_healthy_backend(&state, Instant::now());
                let full = match shared.fits(&state, footprint) {
                    Ok(()) if healthy_until.is_some() => None,
                    Ok(()) => {
                        state.held.size += size;
                        state.held.bytes += bytes;
                        state.backlog.size += size;
                        state.backlog.bytes += bytes;
                        state.queued.push_back((data, footprint));
                        shared.size_gauge.set(state.held.size as i64);
                        drop(state);
                        shared.readable.notify_one();
                        return Ok(());
                    }
                    Err(full) => Some(full),
                };
                match full {
                    Some(full) if !shared.block_on_overflow => {
                        drop(state);
                        return match full {
                            Full::Capacity => refuse(queue_full(), &data),
                            Full::Memory(limit) => refuse(memory_full(limit), &data),
                        };
                    }
                    _ => healthy_until,
                }
            };
            match healthy_until {
                // Behind a healthy backend: wait for a delivery to end, or for the backend
                // to stop counting as healthy.
                Some(until) => {
                    tokio::select! {
                        () = room => {}
                        () = tokio::time::sleep_until(until) => {}
                    }
                }
                None => room.await,
            }
        }
    }

    async fn next(&self) -> Option<Delivery<T>> {
        loop {
            let readable = self.shared.readable.notified();
            tokio::pin!(readable);
            readable.as_mut().enable();
            {
                let mut state = self.shared.lock();
                if let Some((data, footprint)) = state.queued.pop_front() {
                    state.backlog.size -= footprint.size;
                    state.backlog.bytes -= footprint.bytes;
                    let more = !state.queued.is_empty();
                    drop(state);
                    if more {
                        self.shared.readable.notify_one();
                    }
                    if self.shared.pace_above.is_some() {
                        // The backlog shrank: offers waiting for that may go on.
                        self.shared.room.notify_waiters();
                    }
                    let shared = Arc::clone(&self.shared);
                    return Some(Delivery {
                        data,
                        done: Completion::new(move |outcome| shared.release(footprint, outcome)),
                    });
                }
                if state.closed {
                    return None;
                }
            }
            readable.await;
        }
    }

    fn close(&self) {
        self.shared.lock().closed = true;
        self.shared.readable.notify_waiters();
        self.shared.room.notify_waiters();
    }

    fn is_durable(&self) -> bool {
        false
    }

    fn discard(&self) -> usize {
        let mut state = self.shared.lock();
        let dropped: Vec<(T, Footprint)> = state.queued.drain(..).collect();
        for (_, footprint) in &dropped {
            state.held.size -= footprint.size;
            state.held.bytes -= footprint.bytes;
        }
        state.backlog = Footprint::default();
        self.shared.size_gauge.set(state.held.size as i64);
        dropped.iter().map(|(data, _)| data.item_count()).sum()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;
    use crate::exporterhelper::queue::Outcome;
    use crate::exporterhelper::testing::{ids, numbered, spans};
    use crate::pdata::Traces;

    fn queue(capacity: u64, sizer: Sizer, block: bool) -> MemoryQueue<Traces> {
        MemoryQueue::new(
            Limit { sizer, capacity },
            None,
            block,
            false,
            Gauge::default(),
            Counter::default(),
        )
    }

    /// A queue of 1000 requests holding at most `memory_limit` bytes.
    fn bounded(memory_limit: u64, block: bool) -> MemoryQueue<Traces> {
        MemoryQueue::new(
            Limit {
                sizer: Sizer::Requests,
                capacity: 1000,
            },
            Some(memory_limit),
            block,
            false,
            Gauge::default(),
            Counter::default(),
        )
    }

    #[tokio::test]
    async fn size_counts_requests_until_their_delivery_ends() {
        let q = queue(2, Sizer::Requests, false);
        q.offer(spans(1)).await.unwrap();
        q.offer(spans(1)).await.unwrap();
        let error = q.offer(spans(1)).await.unwrap_err();
        assert!(error.is_retryable());
        assert_eq!(error.message(), "sending queue is full");
        let first = q.next().await.unwrap();
        // Taken out for export, but not done: still counted.
        assert!(q.offer(spans(1)).await.is_err());
        first.done.complete(Outcome::Delivered);
        q.offer(spans(1)).await.unwrap();
        assert_eq!(q.size(), 2);
    }

    #[tokio::test]
    async fn an_abandoned_delivery_still_releases_its_space() {
        let q = queue(1, Sizer::Requests, false);
        q.offer(spans(1)).await.unwrap();
        drop(q.next().await.unwrap());
        assert_eq!(q.size(), 0);
    }

    #[tokio::test]
    async fn sizers_count_requests_items_or_bytes() {
        let data = spans(7);
        assert_eq!(size_of(Sizer::Requests, &data), 1);
        assert_eq!(size_of(Sizer::Items, &data), 7);
        assert_eq!(size_of(Sizer::Bytes, &data), data.encoded_len() as u64);

        let q = queue(10, Sizer::Items, false);
        q.offer(spans(7)).await.unwrap();
        assert!(q.offer(spans(4)).await.is_err());
        q.offer(spans(3)).await.unwrap();
        let q = queue(data.encoded_len() as u64 + 1, Sizer::Bytes, false);
        q.offer(data.clone()).await.unwrap();
        assert!(q.offer(spans(1)).await.is_err());
    }

    #[tokio::test]
    async fn a_request_larger_than_the_whole_queue_is_refused_for_good() {
        let enqueue_failed = Counter::default();
        let q: MemoryQueue<Traces> = MemoryQueue::new(
            Limit {
                sizer: Sizer::Items,
                capacity: 5,
            },
            None,
            true,
            false,
            Gauge::default(),
            enqueue_failed.clone(),
        );
        let error = q.offer(spans(6)).await.unwrap_err();
        assert!(error.is_permanent());
        assert_eq!(enqueue_failed.get(), 6);
        // Empty requests take no room and are accepted.
        q.offer(spans(0)).await.unwrap();
        assert_eq!(q.size(), 0);
    }

    #[tokio::test]
    async fn the_memory_limit_bounds_the_bytes_held_whatever_the_sizer() {
        let len = spans(10).encoded_len() as u64;
        let q = bounded(3 * len, false);
        for _ in 0..3 {
            q.offer(spans(10)).await.unwrap();
        }
        assert_eq!(q.bytes(), 3 * len);
        // Three requests of 1000 fit the capacity, but not the memory.
        let error = q.offer(spans(10)).await.unwrap_err();
        assert!(error.is_retryable(), "{error}");
        assert!(
            error.message().starts_with("sending queue is full")
                && error.message().contains("memory_limit_mib"),
            "{error}"
        );
        // Taken for export, the bytes still count; delivered, they are freed.
        let first = q.next().await.unwrap();
        assert!(q.offer(spans(10)).await.is_err());
        first.done.complete(Outcome::Delivered);
        q.offer(spans(10)).await.unwrap();
        // Smaller requests fill what is left exactly.
        assert!(q.offer(spans(1)).await.is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_larger_than_the_memory_limit_waits_for_an_empty_queue() {
        let small = spans(1);
        let large = spans(50);
        let limit = large.encoded_len() as u64 - 1;
        let q = Arc::new(bounded(limit, true));
        q.offer(small.clone()).await.unwrap();
        let blocked = tokio::spawn({
            let q = Arc::clone(&q);
            async move { q.offer(large).await }
        });
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(
            !blocked.is_finished(),
            "waits while the queue holds something"
        );
        q.next().await.unwrap().done.complete(Outcome::Delivered);
        blocked.await.unwrap().unwrap();
        // Alone it is admitted, over the limit; nothing else fits beside it.
        assert!(q.bytes() > limit);
        let refused = tokio::time::timeout(Duration::from_secs(1), q.offer(small)).await;
        assert!(refused.is_err(), "a small request waits too");
    }

    #[tokio::test(start_paused = true)]
    async fn blocking_on_overflow_waits_for_room() {
        let q = Arc::new(queue(1, Sizer::Requests, true));
        q.offer(numbered([1])).await.unwrap();
        let blocked = tokio::spawn({
            let q = Arc::clone(&q);
            async move { q.offer(numbered([2])).await }
        });
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(!blocked.is_finished(), "still waiting for room");
        let first = q.next().await.unwrap();
        first.done.complete(Outcome::Delivered);
        blocked.await.unwrap().unwrap();
        assert_eq!(ids(&q.next().await.unwrap().data), [2]);
    }

    /// A queue of 32 requests that paces above a backlog of 2 (32 / 16).
    fn pacing() -> Arc<MemoryQueue<Traces>> {
        Arc::new(MemoryQueue::new(
            Limit {
                sizer: Sizer::Requests,
                capacity: 32,
            },
            None,
            false,
            true,
            Gauge::default(),
            Counter::default(),
        ))
    }

    fn offer_in_background(
        q: &Arc<MemoryQueue<Traces>>,
        id: u64,
    ) -> tokio::task::JoinHandle<Result<(), ConsumeError>> {
        let q = Arc::clone(q);
        tokio::spawn(async move { q.offer(numbered([id])).await })
    }

    #[tokio::test(start_paused = true)]
    async fn offers_wait_while_the_backlog_is_behind_a_healthy_backend() {
        let q = pacing();
        // Before any delivery nothing is known of the backend: no pacing.
        for id in 0..3 {
            q.offer(numbered([id])).await.unwrap();
        }
        q.next().await.unwrap().done.complete(Outcome::Delivered);
        // Backlog 2, the backend healthy: the next offer waits...
        let waiting = offer_in_background(&q, 3);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(!waiting.is_finished(), "waits while behind");
        // ...until a consumer takes a request and the backlog shrinks.
        let taken = q.next().await.unwrap();
        waiting.await.unwrap().unwrap();
        assert_eq!(ids(&taken.data), [1]);
        taken.done.complete(Outcome::Delivered);
        assert_eq!(q.size(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn offers_wait_while_the_bytes_in_delivery_are_behind_a_healthy_backend() {
        // Paces above the bytes of one request: held, not only queued.
        let one = numbered([0]).encoded_len() as u64;
        let q = Arc::new(MemoryQueue::new(
            Limit {
                sizer: Sizer::Requests,
                capacity: 1000,
            },
            Some(one * PACE_FRACTION),
            false,
            true,
            Gauge::default(),
            Counter::default(),
        ));
        q.offer(numbered([0])).await.unwrap();
        q.next().await.unwrap().done.complete(Outcome::Delivered);
        q.offer(numbered([1])).await.unwrap();
        // Taken by a consumer: nothing is queued, but its bytes are held until the export
        // ends, so the next offer waits...
        let exporting = q.next().await.unwrap();
        let waiting = offer_in_background(&q, 2);
        tokio::time::sleep(STALL / 2).await;
        assert!(
            !waiting.is_finished(),
            "waits while a delivery holds the bytes"
        );
        // ...until the delivery ends.
        exporting.done.complete(Outcome::Delivered);
        waiting.await.unwrap().unwrap();
        assert_eq!(ids(&q.next().await.unwrap().data), [2]);
    }

    #[tokio::test(start_paused = true)]
    async fn pacing_stops_once_deliveries_stall() {
        let q = pacing();
        q.offer(numbered([0])).await.unwrap();
        q.next().await.unwrap().done.complete(Outcome::Delivered);
        q.offer(numbered([1])).await.unwrap();
        q.offer(numbered([2])).await.unwrap();
        let waiting = offer_in_background(&q, 3);
        tokio::time::sleep(STALL / 2).await;
        assert!(!waiting.is_finished());
        // No delivery ends for STALL: the consumers are stuck, the queue takes the data.
        tokio::time::sleep(STALL).await;
        assert!(waiting.is_finished());
        waiting.await.unwrap().unwrap();
        assert_eq!(q.size(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_backend_is_not_paced() {
        let q = pacing();
        q.offer(numbered([0])).await.unwrap();
        q.next().await.unwrap().done.complete(Outcome::Dropped);
        // Retries and drops: the queue rides it out, filling to its capacity.
        for id in 1..=32 {
            q.offer(numbered([id])).await.unwrap();
        }
        assert!(q.offer(numbered([33])).await.unwrap_err().is_retryable());
    }

    #[tokio::test(start_paused = true)]
    async fn closing_wakes_blocked_offers_with_a_retryable_error() {
        let q = Arc::new(queue(1, Sizer::Requests, true));
        q.offer(spans(1)).await.unwrap();
        let blocked = tokio::spawn({
            let q = Arc::clone(&q);
            async move { q.offer(spans(1)).await }
        });
        tokio::task::yield_now().await;
        q.close();
        assert!(blocked.await.unwrap().unwrap_err().is_retryable());
        // What was queued is still handed out, then the queue ends.
        assert!(q.next().await.is_some());
        assert!(q.next().await.is_none());
    }

    #[tokio::test]
    async fn discard_drops_what_is_left() {
        let q = queue(10, Sizer::Requests, false);
        q.offer(spans(2)).await.unwrap();
        q.offer(spans(3)).await.unwrap();
        q.close();
        assert_eq!(q.discard(), 5);
        assert_eq!(q.size(), 0);
        assert!(q.next().await.is_none());
    }

    #[tokio::test]
    async fn concurrent_readers_each_get_a_different_request() {
        let q = Arc::new(queue(100, Sizer::Requests, false));
        let readers: Vec<_> = (0..4)
            .map(|_| {
                let q = Arc::clone(&q);
                tokio::spawn(async move {
                    let mut got = Vec::new();
                    while let Some(delivery) = q.next().await {
                        got.extend(ids(&delivery.data));
                        delivery.done.complete(Outcome::Delivered);
                    }
                    got
                })
            })
            .collect();
        for id in 0..50 {
            q.offer(numbered([id])).await.unwrap();
        }
        q.close();
        let mut all = Vec::new();
        for reader in readers {
            all.extend(reader.await.unwrap());
        }
        all.sort_unstable();
        assert_eq!(all, (0..50).collect::<Vec<_>>());
    }

    /// One step of a random workload.
    #[derive(Clone, Debug)]
    enum Step {
        Offer(usize),
        Take,
        Finish(usize),
    }

    proptest! {
        /// Against a model: FIFO order, and the size is what was accepted minus what
        /// finished, never above capacity; an offer is refused exactly when it would not fit.
        #[test]
        fn matches_a_model(
            capacity in 1u64..20,
            steps in proptest::collection::vec(prop_oneof![
                (0usize..6).prop_map(Step::Offer),
                Just(Step::Take),
                (0usize..8).prop_map(Step::Finish),
            ], 0..60),
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let q = queue(capacity, Sizer::Items, false);
                let mut queued: VecDeque<(u64, u64)> = VecDeque::new();
                let mut taken: Vec<(Delivery<Traces>, u64)> = Vec::new();
                let mut size = 0u64;
                let mut next_id = 0u64;
                for step in steps {
                    match step {
                        Step::Offer(items) => {
                            let first = next_id;
                            next_id += items as u64;
                            let accepted = q.offer(numbered(first..next_id)).await.is_ok();
                            let fits = items == 0 || size + items as u64 <= capacity;
                            prop_assert_eq!(accepted, fits);
                            if accepted && items > 0 {
                                size += items as u64;
                                queued.push_back((first, items as u64));
                            }
                        }
                        Step::Take => {
                            if let Some((first, items)) = queued.pop_front() {
                                let delivery = q.next().await.unwrap();
                                prop_assert_eq!(ids(&delivery.data), (first..first + items).collect::<Vec<_>>());
                                taken.push((delivery, items));
                            }
                        }
                        Step::Finish(index) => {
                            if !taken.is_empty() {
                                let (delivery, items) = taken.remove(index % taken.len());
                                delivery.done.complete(Outcome::Delivered);
                                size -= items;
                            }
                        }
                    }
                    prop_assert_eq!(q.size(), size);
                    prop_assert!(size <= capacity);
                }
                Ok(())
            })?;
        }
    }
}
