//! What a file queue knows in memory: where reading is, which records are out for
//! delivery, what is done, and what the queue holds.
//!
//! Records are delivered in log order; each one read is *outstanding* until it is done
//! (acknowledged) or released (given back for delivery again). The *read position* the
//! ledger persists is the start of the first outstanding record that is not done (or the
//! cursor, when nothing is outstanding): everything before it is done. Records done out of
//! order after it are listed in the ledger by sequence number, so a restart delivers again
//! only what was really not done.

use std::any::Any;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::oneshot;

use super::ledger::Ledger;
use super::segments::Position;
use crate::exporterhelper::{NewRecord, RecordContent, StorageError, StoredRecord, Usage};

/// When a file queue forces its writes to disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// After every group of appends, before they are acknowledged; the ledger at most
    /// every 100 ms. Acknowledged data survives power loss.
    Batch,
    /// Every interval, in the background. A power loss may lose what was acknowledged
    /// during the last interval; a process crash loses nothing.
    Interval(Duration),
    /// Never; the operating system writes back when it likes. A process crash loses
    /// nothing; a power loss may lose recent data.
    Never,
}

/// The size of one record, for usage accounting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct RecordSize {
    pub items: u64,
    pub bytes: u64,
}

impl RecordSize {
    fn add_to(self, usage: &mut Usage) {
        usage.requests += 1;
        usage.items += self.items;
        usage.bytes += self.bytes;
    }

    fn remove_from(self, usage: &mut Usage) {
        usage.requests = usage.requests.saturating_sub(1);
        usage.items = usage.items.saturating_sub(self.items);
        usage.bytes = usage.bytes.saturating_sub(self.bytes);
    }
}

/// Where an outstanding record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Handed to a reader.
    Delivering,
    /// Given back; waiting in `redeliver`.
    Released,
    /// Acknowledged, but a record before it is not yet.
    Done,
}

/// A record read and not yet behind the read position.
struct Outstanding {
    start: Position,
    size: RecordSize,
    items: u32,
    stage: Stage,
    cached: Option<Arc<dyn Any + Send + Sync>>,
}

/// A recent record whose value is still in memory.
struct Cached {
    seq: u64,
    start: Position,
    end: Position,
    items: u32,
    size: RecordSize,
    /// `None` for records appended without a value: read from disk.
    value: Option<Arc<dyn Any + Send + Sync>>,
}

/// The most records the cache tracks, whatever their size.
const MAX_CACHED: usize = 1 << 16;

/// An accepted append waiting for the writer thread.
pub(super) struct PendingAppend {
    pub seq: u64,
    pub record: NewRecord,
    pub done: oneshot::Sender<Result<(), StorageError>>,
}

impl PendingAppend {
    pub fn size(&self) -> RecordSize {
        RecordSize {
            items: u64::from(self.record.items),
            bytes: self.record.len() as u64,
        }
    }
}

/// What a reader should do next.
pub(super) enum ReadPlan {
    /// Here is a record (from memory).
    Ready(StoredRecord),
    /// Read the released record `seq`, stored at `start`, from disk.
    Redelivery { seq: u64, start: Position, end: u64 },
    /// Read the record at the cursor from disk; the segment's data ends at `end`.
    Cursor { at: Position, end: u64 },
    /// Nothing to read yet.
    Wait,
    /// The queue is closing.
    Closed,
}

/// The outcome of reading at a position from disk.
pub(super) enum ReadStep {
    /// A valid record, ending at `end`.
    Record {
        seq: u64,
        items: u32,
        payload: Bytes,
        end: u64,
    },
    /// No valid record here; valid data resumes at `resume`.
    Skip { resume: u64 },
}

/// Tunables that a reopening (configuration reload) may change.
#[derive(Clone, Copy, Debug)]
pub(super) struct Tuning {
    pub fsync: FsyncPolicy,
    pub segment_size: u64,
    pub cache_bytes: usize,
    /// How long opening waits for another process to release the directory's lock.
    pub lock_timeout: std::time::Duration,
}

/// The in-memory state of one file queue, behind its mutex.
pub(super) struct State {
    pub tuning: Tuning,
    /// Segments on disk: id → end of their published (complete, readable) data.
    pub segments: BTreeMap<u64, u64>,
    /// The segment being appended to (the last one).
    pub active: u64,
    /// The next record to read in log order.
    cursor: Position,
    outstanding: BTreeMap<u64, Outstanding>,
    redeliver: VecDeque<u64>,
    /// Sequence ranges after the recovered read position that were done before the
    /// restart: skipped when read.
    recovered_done: VecDeque<(u64, u64)>,
    cache: VecDeque<Cached>,
    cache_bytes: usize,
    /// Published records from the read position on.
    live: Usage,
    /// Accepted appends not yet published.
    reserved: Usage,
    pub next_seq: u64,
    pub pending: Vec<PendingAppend>,
    pub ledger_dirty: bool,
    /// Corrupt records already counted when the queue was opened.
    known_corrupt: HashSet<Position>,
    pub sync_waiters: Vec<oneshot::Sender<Result<(), StorageError>>>,
    pub closing: bool,
}

/// What recovery found, to build the state from.
pub(super) struct Recovered {
    pub segments: BTreeMap<u64, u64>,
    pub active: u64,
    pub cursor: Position,
    pub recovered_done: Vec<(u64, u64)>,
    pub live: Usage,
    pub next_seq: u64,
    pub known_corrupt: HashSet<Position>,
}

impl State {
    pub fn new(tuning: Tuning, recovered: Recovered) -> State {
        State {
            tuning,
            segments: recovered.segments,
            active: recovered.active,
            cursor: recovered.cursor,
            outstanding: BTreeMap::new(),
            redeliver: VecDeque::new(),
            recovered_done: recovered.recovered_done.into(),
            cache: VecDeque::new(),
            cache_bytes: 0,
            live: recovered.live,
            reserved: Usage::default(),
            next_seq: recovered.next_seq,
            pending: Vec::new(),
            ledger_dirty: false,
            known_corrupt: recovered.known_corrupt,
            sync_waiters: Vec::new(),
            closing: false,
        }
    }

    /// Everything the queue holds: published records not yet done in order, plus appends
    /// accepted and not yet written.
    pub fn usage(&self) -> Usage {
        Usage {
            requests: self.live.requests + self.reserved.requests,
            items: self.live.items + self.reserved.items,
            bytes: self.live.bytes + self.reserved.bytes,
        }
    }

    /// Accepts an append: counts it and queues it for the writer.
    pub fn reserve(&mut self, record: NewRecord) -> oneshot::Receiver<Result<(), StorageError>> {
        let (done, receiver) = oneshot::channel();
        let seq = self.next_seq;
        self.next_seq += 1;
        let pending = PendingAppend { seq, record, done };
        pending.size().add_to(&mut self.reserved);
        self.pending.push(pending);
        receiver
    }

    /// Makes a written record readable.
    pub fn publish(&mut self, append: PendingAppend, start: Position, end: Position) {
        let size = append.size();
        size.remove_from(&mut self.reserved);
        size.add_to(&mut self.live);
        let data_end = self.segments.entry(end.segment).or_default();
        *data_end = (*data_end).max(end.offset);
        // Records without a value keep their place, so the cache stays a contiguous
        // tail of the log; they are read from disk.
        let value = append.record.cached;
        if value.is_some() {
            self.cache_bytes += size.bytes as usize;
        }
        self.cache.push_back(Cached {
            seq: append.seq,
            start,
            end,
            items: append.record.items,
            size,
            value,
        });
        while self.cache_bytes > self.tuning.cache_bytes || self.cache.len() > MAX_CACHED {
            self.pop_cache();
        }
        let _ = append.done.send(Ok(()));
    }

    /// Gives up on an append the writer could not store.
    pub fn fail(&mut self, append: PendingAppend, error: StorageError) {
        append.size().remove_from(&mut self.reserved);
        let _ = append.done.send(Err(error));
    }

    fn pop_cache(&mut self) {
        if let Some(entry) = self.cache.pop_front()
            && entry.value.is_some()
        {
            self.cache_bytes -= entry.size.bytes as usize;
        }
    }

    /// Moves `position` past the end of finished segments.
    fn normalized(&self, mut position: Position) -> Position {
        loop {
            if position.segment == self.active {
                return position;
            }
            match self.segments.get(&position.segment) {
                Some(&end) if position.offset < end => return position,
                _ => match self.segments.range(position.segment + 1..).next() {
                    Some((&next, _)) => position = Position::start_of(next),
                    None => return position,
                },
            }
        }
    }

    /// Decides what a reader does next.
    pub fn plan_read(&mut self) -> ReadPlan {
        if self.closing {
            return ReadPlan::Closed;
        }
        if let Some(&seq) = self.redeliver.front() {
            let entry = self
                .outstanding
                .get_mut(&seq)
                .expect("a released record is outstanding");
            if let Some(value) = entry.cached.clone() {
                self.redeliver.pop_front();
                entry.stage = Stage::Delivering;
                return ReadPlan::Ready(StoredRecord {
                    seq,
                    items: entry.items,
                    content: RecordContent::Cached(value),
                });
            }
            let end = self
                .segments
                .get(&entry.start.segment)
                .copied()
                .unwrap_or(0);
            return ReadPlan::Redelivery {
                seq,
                start: entry.start,
                end,
            };
        }
        self.cursor = self.normalized(self.cursor);
        let end = self
            .segments
            .get(&self.cursor.segment)
            .copied()
            .unwrap_or(0);
        if self.cursor.offset >= end {
            return ReadPlan::Wait;
        }
        while self.cache.front().is_some_and(|c| c.start < self.cursor) {
            self.pop_cache();
        }
        if self
            .cache
            .front()
            .is_some_and(|c| c.start == self.cursor && c.value.is_some())
        {
            let entry = self.cache.pop_front().expect("checked");
            let value = entry.value.expect("checked");
            self.cache_bytes -= entry.size.bytes as usize;
            self.cursor = entry.end;
            self.outstanding.insert(
                entry.seq,
                Outstanding {
                    start: entry.start,
                    size: entry.size,
                    items: entry.items,
                    stage: Stage::Delivering,
                    cached: Some(Arc::clone(&value)),
                },
            );
            return ReadPlan::Ready(StoredRecord {
                seq: entry.seq,
                items: entry.items,
                content: RecordContent::Cached(value),
            });
        }
        ReadPlan::Cursor {
            at: self.cursor,
            end,
        }
    }

    /// Applies a disk read at the cursor. Returns the record to hand out, or `None` when
    /// the reader should plan again (a skipped or already-done record). The second value
    /// is set when the read skipped damaged data not seen before.
    pub fn finish_cursor_read(
        &mut self,
        at: Position,
        step: ReadStep,
    ) -> (Option<StoredRecord>, Option<Position>) {
        debug_assert_eq!(at, self.cursor, "only one reader moves the cursor");
        match step {
            ReadStep::Skip { resume } => {
                self.cursor = Position {
                    segment: at.segment,
                    offset: resume,
                };
                let fresh = !self.known_corrupt.remove(&at);
                (None, fresh.then_some(at))
            }
            ReadStep::Record {
                seq,
                items,
                payload,
                end,
            } => {
                self.cursor = Position {
                    segment: at.segment,
                    offset: end,
                };
                while self.recovered_done.front().is_some_and(|&(_, e)| e <= seq) {
                    self.recovered_done.pop_front();
                }
                let done_before = self
                    .recovered_done
                    .front()
                    .is_some_and(|&(s, e)| s <= seq && seq < e);
                let (stage, size) = if done_before {
                    // Not counted in the usage when recovered.
                    (Stage::Done, RecordSize::default())
                } else {
                    let size = RecordSize {
                        items: u64::from(items),
                        bytes: payload.len() as u64,
                    };
                    (Stage::Delivering, size)
                };
                self.outstanding.insert(
                    seq,
                    Outstanding {
                        start: at,
                        size,
                        items,
                        stage,
                        cached: None,
                    },
                );
                if done_before {
                    self.advance();
                    return (None, None);
                }
                let record = StoredRecord {
                    seq,
                    items,
                    content: RecordContent::Stored(payload),
                };
                (Some(record), None)
            }
        }
    }

    /// Applies a disk read of the released record `seq`.
    pub fn finish_redelivery(&mut self, seq: u64, step: ReadStep) -> Option<StoredRecord> {
        debug_assert_eq!(self.redeliver.front(), Some(&seq));
        self.redeliver.pop_front();
        let entry = self.outstanding.get_mut(&seq)?;
        match step {
            ReadStep::Record {
                seq: found,
                payload,
                ..
            } if found == seq => {
                entry.stage = Stage::Delivering;
                Some(StoredRecord {
                    seq,
                    items: entry.items,
                    content: RecordContent::Stored(payload),
                })
            }
            // Damaged since it was first read: nothing left to deliver.
            _ => {
                entry.stage = Stage::Done;
                self.advance();
                None
            }
        }
    }

    /// Marks a record done. Returns whether the read position moved.
    pub fn ack(&mut self, seq: u64) -> bool {
        match self.outstanding.get_mut(&seq) {
            Some(entry) if entry.stage == Stage::Delivering => {
                entry.stage = Stage::Done;
                entry.cached = None;
                self.ledger_dirty = true;
                self.advance()
            }
            _ => false,
        }
    }

    /// Gives a record back for delivery again.
    pub fn release(&mut self, seq: u64) {
        if let Some(entry) = self.outstanding.get_mut(&seq)
            && entry.stage == Stage::Delivering
        {
            entry.stage = Stage::Released;
            self.redeliver.push_back(seq);
        }
    }

    /// Drops done records from the front of the outstanding ones. Returns whether any was.
    fn advance(&mut self) -> bool {
        let mut moved = false;
        while let Some(entry) = self.outstanding.first_entry() {
            if entry.get().stage != Stage::Done {
                break;
            }
            entry.remove().size.remove_from(&mut self.live);
            moved = true;
        }
        if moved {
            self.ledger_dirty = true;
            // Damage found after a record was published leaves its size counted; once
            // everything is delivered the count is known to be zero.
            if self.outstanding.is_empty() {
                let cursor = self.normalized(self.cursor);
                if cursor.segment == self.active
                    && self.segments.get(&self.active) == Some(&cursor.offset)
                {
                    self.live = Usage::default();
                }
            }
        }
        moved
    }

    /// The read position: every record before it is done.
    pub fn read_position(&self) -> Position {
        match self.outstanding.first_key_value() {
            Some((_, entry)) => entry.start,
            None => self.normalized(self.cursor),
        }
    }

    /// The ledger describing the current state.
    pub fn ledger(&self) -> Ledger {
        let mut done: Vec<(u64, u64)> = Vec::new();
        let mut push = |start: u64, end: u64| match done.last_mut() {
            Some(last) if last.1 >= start => last.1 = last.1.max(end),
            _ => done.push((start, end)),
        };
        let mut recovered = self.recovered_done.iter().copied().peekable();
        for (&seq, entry) in &self.outstanding {
            if entry.stage != Stage::Done {
                continue;
            }
            while let Some(&(s, e)) = recovered.peek()
                && s <= seq
            {
                push(s, e);
                recovered.next();
            }
            push(seq, seq + 1);
        }
        for (s, e) in recovered {
            push(s, e);
        }
        Ledger {
            position: self.read_position(),
            seq_floor: self.next_seq,
            done,
        }
    }

    /// Ids of segments wholly before `position` (never the active one).
    pub fn segments_before(&self, position: Position) -> Vec<u64> {
        self.segments
            .range(..position.segment)
            .map(|(&id, _)| id)
            .filter(|&id| id != self.active)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> State {
        State::new(
            Tuning {
                fsync: FsyncPolicy::Never,
                segment_size: 1 << 20,
                cache_bytes: 1 << 20,
                lock_timeout: std::time::Duration::ZERO,
            },
            Recovered {
                segments: BTreeMap::from([(1, 16)]),
                active: 1,
                cursor: Position::start_of(1),
                recovered_done: Vec::new(),
                live: Usage::default(),
                next_seq: 0,
                known_corrupt: HashSet::new(),
            },
        )
    }

    /// Appends `n` records of 10 bytes and publishes them back to back.
    fn append(state: &mut State, n: usize, cached: bool) {
        for _ in 0..n {
            let record = NewRecord {
                prefix: Bytes::new(),
                body: Bytes::from_static(b"0123456789"),
                items: 2,
                cached: cached.then(|| Arc::new(()) as Arc<dyn Any + Send + Sync>),
            };
            drop(state.reserve(record));
        }
        for pending in std::mem::take(&mut state.pending) {
            let start = Position {
                segment: 1,
                offset: state.segments[&1],
            };
            let end = Position {
                offset: start.offset + 34,
                ..start
            };
            state.publish(pending, start, end);
        }
    }

    fn read(state: &mut State) -> u64 {
        match state.plan_read() {
            ReadPlan::Ready(record) => record.seq,
            _ => panic!("expected a cached record"),
        }
    }

    #[test]
    fn out_of_order_acks_move_the_position_only_past_a_done_prefix() {
        let mut s = state();
        append(&mut s, 4, true);
        assert_eq!(s.usage().requests, 4);
        let seqs: Vec<u64> = (0..4).map(|_| read(&mut s)).collect();
        assert_eq!(seqs, [0, 1, 2, 3]);
        assert_eq!(s.read_position(), Position::start_of(1));
        assert!(!s.ack(2));
        assert!(!s.ack(1));
        assert_eq!(s.ledger().done, vec![(1, 3)]);
        assert_eq!(s.usage().requests, 4, "done out of order still counts");
        assert!(s.ack(0));
        assert_eq!(s.usage().requests, 1);
        assert_eq!(s.read_position().offset, 16 + 3 * 34);
        assert_eq!(s.ledger().done, Vec::<(u64, u64)>::new());
        assert!(s.ack(3));
        assert_eq!(s.usage(), Usage::default());
    }

    #[test]
    fn released_records_come_first_and_keep_the_position() {
        let mut s = state();
        append(&mut s, 3, true);
        let first = read(&mut s);
        s.release(first);
        assert_eq!(
            read(&mut s),
            first,
            "the released record is delivered again first"
        );
        assert_eq!(read(&mut s), 1);
        s.ack(1);
        assert_eq!(s.read_position(), Position::start_of(1));
        assert_eq!(s.ledger().done, vec![(1, 2)]);
    }

    #[test]
    fn acks_of_unknown_or_repeated_records_are_ignored() {
        let mut s = state();
        append(&mut s, 1, true);
        let seq = read(&mut s);
        assert!(s.ack(seq));
        assert!(!s.ack(seq));
        assert!(!s.ack(99));
        s.release(seq);
        assert!(matches!(s.plan_read(), ReadPlan::Wait));
    }

    #[test]
    fn records_without_a_cached_value_are_read_from_disk() {
        let mut s = state();
        append(&mut s, 2, false);
        match s.plan_read() {
            ReadPlan::Cursor { at, end } => {
                assert_eq!(at, Position::start_of(1));
                assert_eq!(end, 16 + 2 * 34);
            }
            _ => panic!("expected a disk read"),
        }
    }

    #[test]
    fn the_ledger_merges_recovered_ranges_with_new_acks() {
        let mut s = state();
        s.recovered_done = VecDeque::from([(5, 7), (9, 10)]);
        s.outstanding.insert(
            3,
            Outstanding {
                start: Position::start_of(1),
                size: RecordSize::default(),
                items: 0,
                stage: Stage::Delivering,
                cached: None,
            },
        );
        for seq in [4, 8] {
            s.outstanding.insert(
                seq,
                Outstanding {
                    start: Position::start_of(1),
                    size: RecordSize::default(),
                    items: 0,
                    stage: Stage::Done,
                    cached: None,
                },
            );
        }
        assert_eq!(s.ledger().done, vec![(4, 7), (8, 10)]);
    }
}
