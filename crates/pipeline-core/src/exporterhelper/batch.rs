//! `Batcher`: exporter-side batching (`sending_queue::batch`).
//!
//! Requests taken from the queue are merged per *partition* — requests with equal client
//! metadata, so a batch never mixes tenants and keeps the headers an exporter forwards —
//! until the partition reaches `min_size` (sent at once) or has waited `flush_timeout`
//! (sent by the flush timer). With `max_size`, requests are split so that no batch
//! exceeds it.
//!
//! With `partition::metadata_keys` (Go's partitioning), only those keys' values key a
//! partition, and each batch carries only those keys: requests differing elsewhere in
//! their metadata share batches.
//!
//! A queued request may end up in several batches (split, or merged across a flush). Its
//! [`Completion`] fires once every batch holding a piece of it has finished, with the
//! worst outcome among them: interrupted over dropped over delivered. So a persistent
//! queue deletes a request only when all of it is delivered, and keeps all of it when any
//! piece was interrupted.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::queue::{Completion, Outcome, size_of};
use super::timeout::deadline_in;
use super::{BatchConfig, Sizer};
use crate::pdata::{ClientMetadata, SignalData};

/// Partitions are keyed by the requests' client metadata.
type PartitionKey = Option<Arc<ClientMetadata>>;

/// Merges and splits requests into batches.
pub(crate) struct Batcher<T> {
    min_size: u64,
    max_size: u64,
    sizer: Sizer,
    flush_timeout: Duration,
    /// `partition::metadata_keys`; `None`: the whole metadata keys a partition.
    metadata_keys: Option<Vec<String>>,
    partitions: Mutex<HashMap<PartitionKey, Pending<T>>>,
    /// A partition was started (there is a new flush deadline).
    started: Notify,
}

/// A partition's batch being filled.
struct Pending<T> {
    data: T,
    size: u64,
    pieces: Vec<Arc<Tracker>>,
    deadline: Instant,
}

/// A batch ready to send.
pub(crate) struct Batch<T> {
    pub data: T,
    pieces: Vec<Arc<Tracker>>,
}

impl<T: SignalData> Batch<T> {
    /// Reports the batch's outcome to every request with a piece in it.
    pub fn finish(self, outcome: Outcome) {
        for piece in self.pieces {
            piece.finish(outcome);
        }
    }

    /// Items in the batch.
    pub fn items(&self) -> usize {
        self.data.item_count()
    }
}

/// Counts the unfinished pieces of one queued request.
struct Tracker {
    remaining: AtomicUsize,
    worst: Mutex<Outcome>,
    done: Mutex<Option<Completion>>,
}

impl Tracker {
    fn finish(&self, outcome: Outcome) {
        {
            let mut worst = self.worst.lock().unwrap_or_else(PoisonError::into_inner);
            *worst = (*worst).max(outcome);
        }
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            let worst = *self.worst.lock().unwrap_or_else(PoisonError::into_inner);
            let done = self
                .done
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            if let Some(done) = done {
                done.complete(worst);
            }
        }
    }
}

impl<T: SignalData> Batcher<T> {
    /// A batcher for `config`, measuring in `sizer` (items or bytes).
    pub fn new(config: &BatchConfig, sizer: Sizer) -> Self {
        Batcher {
            min_size: config.min_size as u64,
            max_size: config.max_size as u64,
            sizer,
            flush_timeout: config.flush_timeout,
            metadata_keys: config.partition.as_ref().map(|p| p.metadata_keys.clone()),
            partitions: Mutex::new(HashMap::new()),
            started: Notify::new(),
        }
    }

    /// Adds a request; returns the batches it completed, to send now.
    pub fn add(&self, data: T, done: Completion) -> Vec<Batch<T>> {
        if data.item_count() == 0 {
            done.complete(Outcome::Delivered);
            return Vec::new();
        }
        let tracker = Arc::new(Tracker {
            // One for this call, released at the end, so the request cannot complete
            // while its pieces are still being placed.
            remaining: AtomicUsize::new(1),
            worst: Mutex::new(Outcome::Delivered),
            done: Mutex::new(Some(done)),
        });
        let (key, data) = self.partition(data);
        let mut ready = Vec::new();
        let mut partitions = self
            .partitions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut rest = Some(data);
        while let Some(data) = rest.take() {
            let filled = partitions.get(&key).map_or(0, |p| p.size);
            let room = match self.max_size {
                0 => u64::MAX,
                max => max - filled,
            };
            let (head, tail) = match split_off(data, room, self.sizer) {
                Ok(parts) => parts,
                // Not even one item fits beside what is pending: send that first. An
                // item larger than `max_size` on its own is sent alone.
                Err(data) if filled > 0 => {
                    ready.extend(partitions.remove(&key).map(|p| self.batch(p)));
                    rest = Some(data);
                    continue;
                }
                Err(data) => (data, None),
            };
            tracker.remaining.fetch_add(1, Ordering::AcqRel);
            let size = size_of(self.sizer, &head);
            match partitions.get_mut(&key) {
                Some(pending) => {
                    pending.data.merge(head);
                    pending.size += size;
                    pending.pieces.push(Arc::clone(&tracker));
                }
                None => {
                    partitions.insert(
                        key.clone(),
                        Pending {
                            data: head,
                            size,
                            pieces: vec![Arc::clone(&tracker)],
                            deadline: deadline_in(self.flush_timeout),
                        },
                    );
                    self.started.notify_one();
                }
            }
            let pending_size = partitions.get(&key).map_or(0, |p| p.size);
            if (self.max_size > 0 && pending_size >= self.max_size)
                || (tail.is_none() && pending_size >= self.min_size)
            {
                ready.extend(partitions.remove(&key).map(|p| self.batch(p)));
            }
            rest = tail;
        }
        drop(partitions);
        tracker.finish(Outcome::Delivered);
        ready
    }

    /// The request's partition key, and the request carrying only the metadata its
    /// partition keeps.
    fn partition(&self, data: T) -> (PartitionKey, T) {
        let Some(keys) = &self.metadata_keys else {
            return (data.metadata().cloned(), data);
        };
        let mut kept = ClientMetadata::new();
        if let Some(metadata) = data.metadata() {
            for key in keys {
                for value in metadata.get(key) {
                    kept.insert(key, value.clone());
                }
            }
        }
        if kept.is_empty() {
            // Metadata outside the partition keys is not forwarded; no metadata at all
            // needs no rewrite.
            let data = match data.metadata() {
                Some(_) => data.with_metadata(Arc::new(ClientMetadata::new())),
                None => data,
            };
            return (None, data);
        }
        let kept = Arc::new(kept);
        (Some(Arc::clone(&kept)), data.with_metadata(kept))
    }

    fn batch(&self, pending: Pending<T>) -> Batch<T> {
        Batch {
            data: pending.data,
            pieces: pending.pieces,
        }
    }

    /// The earliest flush deadline, if any partition is pending.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.partitions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .map(|p| p.deadline)
            .min()
    }

    /// Waits until a new partition starts (a new deadline to watch).
    pub async fn partition_started(&self) {
        self.started.notified().await;
    }

    /// Takes the partitions whose deadline has passed.
    pub fn take_due(&self, now: Instant) -> Vec<Batch<T>> {
        let mut partitions = self
            .partitions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let due: Vec<PartitionKey> = partitions
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(key, _)| key.clone())
            .collect();
        due.into_iter()
            .filter_map(|key| partitions.remove(&key))
            .map(|p| self.batch(p))
            .collect()
    }

    /// Takes every pending partition (shutdown).
    pub fn take_all(&self) -> Vec<Batch<T>> {
        let mut partitions = self
            .partitions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        partitions.drain().map(|(_, p)| self.batch(p)).collect()
    }
}

/// Splits off a first part of `data` of at most `room` (in `sizer` units). Returns the
/// part and the rest, or `data` back if not even one item fits.
fn split_off<T: SignalData>(data: T, room: u64, sizer: Sizer) -> Result<(T, Option<T>), T> {
    let size = size_of(sizer, &data);
    if size <= room {
        return Ok((data, None));
    }
    let items = data.item_count() as u64;
    let take = match sizer {
        Sizer::Bytes => (items as u128 * room as u128 / size.max(1) as u128) as u64,
        _ => room,
    }
    .min(items);
    if take == 0 {
        return Err(data);
    }
    let mut pieces = data.split(take as usize).into_iter();
    let head = pieces.next().expect("split of a non-empty request");
    let tail = pieces.reduce(|mut a, b| {
        a.merge(b);
        a
    });
    if size_of(sizer, &head) <= room {
        return Ok((head, tail));
    }
    // Bytes are not proportional to items: shrink the head until it fits.
    match split_off(head, room, sizer) {
        Ok((head, Some(mut middle))) => {
            if let Some(tail) = tail {
                middle.merge(tail);
            }
            Ok((head, Some(middle)))
        }
        Ok((head, None)) => Ok((head, tail)),
        Err(mut head) => {
            if let Some(tail) = tail {
                head.merge(tail);
            }
            Err(head)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use proptest::prelude::*;

    use super::*;
    use crate::exporterhelper::testing::{ids, numbered, tenant};

    fn config(min: usize, max: usize) -> BatchConfig {
        BatchConfig {
            flush_timeout: Duration::from_millis(200),
            min_size: min,
            max_size: max,
            sizer: None,
            partition: None,
        }
    }

    /// A completion that records its outcome.
    fn recorded() -> (Completion, Arc<Mutex<Option<Outcome>>>) {
        let slot = Arc::new(Mutex::new(None));
        let writer = Arc::clone(&slot);
        (
            Completion::new(move |outcome| *writer.lock().unwrap() = Some(outcome)),
            slot,
        )
    }

    #[tokio::test]
    async fn merges_until_min_size() {
        let batcher = Batcher::new(&config(10, 0), Sizer::Items);
        let (done, _) = recorded();
        assert!(batcher.add(numbered(0..4), done).is_empty());
        let (done, _) = recorded();
        let ready = batcher.add(numbered(4..10), done);
        assert_eq!(ready.len(), 1);
        assert_eq!(ids(&ready[0].data), (0..10).collect::<Vec<_>>());
        assert!(batcher.next_deadline().is_none());
    }

    /// The sending queue's batching of received payloads joins their encodings: nothing
    /// is decoded on the way to an exporter that sends protobuf.
    #[tokio::test]
    async fn received_payloads_are_merged_without_decoding() {
        let batcher = Batcher::new(&config(10, 0), Sizer::Items);
        let received =
            |range| crate::pdata::Traces::decode(numbered(range).encoded()).expect("valid");
        let (done, _) = recorded();
        assert!(batcher.add(received(0..4), done).is_empty());
        let (done, _) = recorded();
        let ready = batcher.add(received(4..10), done);
        assert_eq!(ready.len(), 1);
        assert!(!ready[0].data.is_decoded(), "batching decoded the payloads");
        assert_eq!(ids(&ready[0].data), (0..10).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_split_request_completes_only_when_all_its_pieces_are_done() {
        let batcher = Batcher::new(&config(5, 5), Sizer::Items);
        let (done, outcome) = recorded();
        let ready = batcher.add(numbered(0..12), done);
        // Two full batches now, two items pending.
        assert_eq!(ready.iter().map(Batch::items).collect::<Vec<_>>(), [5, 5]);
        let mut ready = ready.into_iter();
        ready.next().unwrap().finish(Outcome::Delivered);
        ready.next().unwrap().finish(Outcome::Delivered);
        assert_eq!(*outcome.lock().unwrap(), None, "a piece is still pending");
        let rest = batcher.take_all();
        assert_eq!(ids(&rest[0].data), [10, 11]);
        rest.into_iter().next().unwrap().finish(Outcome::Delivered);
        assert_eq!(*outcome.lock().unwrap(), Some(Outcome::Delivered));
    }

    #[tokio::test]
    async fn the_worst_piece_decides() {
        let batcher = Batcher::new(&config(2, 2), Sizer::Items);
        let (done, outcome) = recorded();
        let ready = batcher.add(numbered(0..6), done);
        let outcomes = [Outcome::Delivered, Outcome::Interrupted, Outcome::Dropped];
        for (batch, o) in ready.into_iter().zip(outcomes) {
            batch.finish(o);
        }
        assert_eq!(*outcome.lock().unwrap(), Some(Outcome::Interrupted));
    }

    #[tokio::test]
    async fn an_abandoned_batch_interrupts_its_requests() {
        let batcher = Batcher::new(&config(100, 0), Sizer::Items);
        let (done, outcome) = recorded();
        assert!(batcher.add(numbered(0..3), done).is_empty());
        drop(batcher.take_all());
        assert_eq!(*outcome.lock().unwrap(), Some(Outcome::Interrupted));
    }

    #[tokio::test]
    async fn different_metadata_never_share_a_batch() {
        let batcher = Batcher::new(&config(4, 0), Sizer::Items);
        let mut ready = Vec::new();
        for (i, who) in ["a", "b", "a", "b"].into_iter().enumerate() {
            let (done, _) = recorded();
            let data = numbered([i as u64 * 2, i as u64 * 2 + 1]).with_metadata(tenant(who));
            ready.extend(batcher.add(data, done));
        }
        assert_eq!(ready.len(), 2);
        for batch in &ready {
            let who = batch.data.metadata().unwrap().get("tenant")[0].clone();
            let expected: Vec<u64> = if who == "a" {
                vec![0, 1, 4, 5]
            } else {
                vec![2, 3, 6, 7]
            };
            assert_eq!(ids(&batch.data), expected);
        }
        let (done, _) = recorded();
        assert!(
            batcher.add(numbered([100]), done).is_empty(),
            "no metadata: its own partition"
        );
        assert_eq!(batcher.take_all()[0].data.metadata(), None);
    }

    /// Go's `partition::metadata_keys`: the listed keys' values decide the batch, other
    /// metadata neither splits batches nor travels with them.
    #[tokio::test]
    async fn metadata_keys_partition_by_their_values_only() {
        let batcher = Batcher::new(
            &BatchConfig {
                partition: Some(crate::exporterhelper::PartitionConfig {
                    metadata_keys: vec!["Tenant".into()],
                }),
                ..config(4, 0)
            },
            Sizer::Items,
        );
        let metadata = |tenant: Option<&str>, other: &str| {
            let mut metadata = ClientMetadata::new();
            if let Some(tenant) = tenant {
                metadata.insert("tenant", tenant);
            }
            metadata.insert("x-request", other);
            Arc::new(metadata)
        };
        let mut ready = Vec::new();
        for (i, (who, other)) in [("a", "1"), ("b", "2"), ("a", "3"), ("b", "4")]
            .into_iter()
            .enumerate()
        {
            let (done, _) = recorded();
            let first = i as u64 * 2;
            let data = numbered([first, first + 1]).with_metadata(metadata(Some(who), other));
            ready.extend(batcher.add(data, done));
        }
        // Same tenant, different x-request: one batch each, carrying the tenant only.
        assert_eq!(ready.len(), 2);
        for batch in &ready {
            let kept = batch.data.metadata().unwrap();
            assert_eq!(kept.iter().count(), 1, "{kept:?}");
            let expected: Vec<u64> = match kept.get("tenant")[0].as_str() {
                "a" => vec![0, 1, 4, 5],
                _ => vec![2, 3, 6, 7],
            };
            assert_eq!(ids(&batch.data), expected);
        }
        // Without the key, requests share one partition whatever else they carry.
        for other in ["5", "6"] {
            let (done, _) = recorded();
            let data = numbered([10]).with_metadata(metadata(None, other));
            assert!(batcher.add(data, done).is_empty());
        }
        let (done, _) = recorded();
        assert!(batcher.add(numbered([11]), done).is_empty());
        let rest = batcher.take_all();
        assert_eq!(rest.len(), 1);
        assert_eq!(ids(&rest[0].data), [10, 10, 11]);
        assert!(rest[0].data.metadata().is_none_or(|m| m.is_empty()));
    }

    #[tokio::test(start_paused = true)]
    async fn partitions_become_due_after_the_flush_timeout() {
        let batcher = Batcher::new(&config(100, 0), Sizer::Items);
        let (done, _) = recorded();
        batcher.add(numbered([1]), done);
        let deadline = batcher.next_deadline().unwrap();
        assert_eq!(deadline - Instant::now(), Duration::from_millis(200));
        assert!(batcher.take_due(Instant::now()).is_empty());
        tokio::time::advance(Duration::from_millis(200)).await;
        assert_eq!(batcher.take_due(Instant::now()).len(), 1);
    }

    #[tokio::test]
    async fn the_bytes_sizer_splits_by_encoded_size() {
        let batcher = Batcher::new(&config(0, 200), Sizer::Bytes);
        let (done, _) = recorded();
        let data = numbered(0..100);
        let total = data.encoded_len();
        let mut ready = batcher.add(data, done);
        ready.extend(batcher.take_all());
        assert!(ready.len() >= total / 200);
        let mut all = Vec::new();
        for batch in &ready {
            assert!(batch.data.encoded_len() <= 200);
            all.extend(ids(&batch.data));
        }
        assert_eq!(all, (0..100).collect::<Vec<_>>());
    }

    proptest! {
        /// Whatever the sizes: every item comes out exactly once, in order per partition;
        /// no batch exceeds max_size; each request completes exactly when its last piece
        /// finishes.
        #[test]
        fn splitting_keeps_every_item_once_and_acks_at_the_end(
            min in 1usize..20,
            extra in 0usize..20,
            requests in proptest::collection::vec(1u64..30, 1..15),
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let max = min + extra;
                let batcher = Batcher::new(&config(min, max), Sizer::Items);
                let mut outcomes = Vec::new();
                let mut ready = Vec::new();
                let mut next = 0;
                for n in &requests {
                    let (done, outcome) = recorded();
                    outcomes.push(outcome);
                    ready.extend(batcher.add(numbered(next..next + n), done));
                    next += n;
                }
                ready.extend(batcher.take_all());
                let mut all = Vec::new();
                for batch in &ready {
                    prop_assert!(batch.items() <= max);
                    all.extend(ids(&batch.data));
                }
                prop_assert_eq!(all, (0..next).collect::<Vec<_>>());
                let count = ready.len();
                for (i, batch) in ready.into_iter().enumerate() {
                    batch.finish(Outcome::Delivered);
                    if i + 1 < count {
                        // The last request has a piece in the last batch.
                        prop_assert!(outcomes.last().unwrap().lock().unwrap().is_none());
                    }
                }
                for outcome in outcomes {
                    prop_assert_eq!(*outcome.lock().unwrap(), Some(Outcome::Delivered));
                }
                Ok(())
            })?;
        }
    }
}
