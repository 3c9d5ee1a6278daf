//! The writer thread of a file queue: appends, fsyncs, ledger updates, segment deletion.
//!
//! One thread per open queue does every write, so async tasks never block on the disk.
//! Appends that arrive while it is busy are written together and share one fsync (group
//! commit): under load, "fsync per batch" costs one fsync per group, not per record.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::format::{MAX_PAYLOAD_LEN, RECORD_HEADER_LEN, SEGMENT_HEADER_LEN, encode_record};
use super::ledger::{Ledger, LedgerFiles};
use super::queue::Core;
use super::segments::{Position, create_segment, segment_path, sync_dir};
use super::state::{FsyncPolicy, PendingAppend};
use crate::exporterhelper::StorageError;

/// What the writer owns: the files it writes.
pub(super) struct Writer {
    pub core: Arc<Core>,
    pub dir: PathBuf,
    pub active: u64,
    pub active_file: File,
    /// Where the active segment's data ends.
    pub offset: u64,
    pub ledger: LedgerFiles,
    /// Released when the thread ends, letting another open take the directory.
    pub _lock: File,
    /// Written but not yet fsynced (interval policy).
    unsynced: bool,
    last_sync: Instant,
    /// A failed ledger update is retried after this.
    ledger_retry_at: Option<Instant>,
    /// The read position of a ledger written but not yet fsynced: segments before it are
    /// deleted once it is.
    ledger_unsynced: Option<Position>,
    ledger_synced_at: Instant,
}

/// Under the `batch` policy, the ledger is fsynced at most this often. Its durability
/// never protects data (a stale ledger means duplicates, not loss) and a process crash
/// keeps the page cache, so this only widens the duplicates a power loss can cause; it
/// saves one fsync per group of appends.
const LEDGER_SYNC_PERIOD: Duration = Duration::from_millis(100);

/// One round of work taken from the state.
struct Work {
    appends: Vec<PendingAppend>,
    ledger: Option<Ledger>,
    sync_waiters: Vec<tokio::sync::oneshot::Sender<Result<(), StorageError>>>,
    closing: bool,
}

/// Where a written record landed.
struct Landed {
    start: Position,
    end: Position,
}

impl Writer {
    pub fn new(
        core: Arc<Core>,
        dir: PathBuf,
        active: u64,
        active_file: File,
        offset: u64,
        ledger: LedgerFiles,
        lock: File,
    ) -> Writer {
        Writer {
            core,
            dir,
            active,
            active_file,
            offset,
            ledger,
            _lock: lock,
            unsynced: false,
            last_sync: Instant::now(),
            ledger_retry_at: None,
            ledger_unsynced: None,
            ledger_synced_at: Instant::now(),
        }
    }

    /// Runs until the queue is closed and everything accepted is written.
    pub fn run(mut self) {
        loop {
            let work = self.take_work();
            let fsync = self.core.lock_state().tuning.fsync;
            self.write_appends(work.appends, fsync);
            if let Some(ledger) = work.ledger {
                self.store_ledger(&ledger, fsync);
            }
            match fsync {
                FsyncPolicy::Interval(every)
                    if self.unsynced && self.last_sync.elapsed() >= every =>
                {
                    if let Err(error) = self.sync_all() {
                        tracing::warn!(%error, "cannot sync the persistent queue; will retry");
                    }
                }
                FsyncPolicy::Batch
                    if self.ledger_unsynced.is_some()
                        && self.ledger_synced_at.elapsed() >= LEDGER_SYNC_PERIOD =>
                {
                    self.sync_ledger();
                }
                _ => {}
            }
            if !work.sync_waiters.is_empty() || work.closing {
                let result = match fsync {
                    FsyncPolicy::Never => Ok(()),
                    _ => self.sync_all(),
                };
                for waiter in work.sync_waiters {
                    let _ = waiter.send(result.as_ref().map_err(clone_error).copied());
                }
            }
            if work.closing {
                return;
            }
        }
    }

    /// Waits for something to do and takes it.
    fn take_work(&mut self) -> Work {
        let mut state = self.core.lock_state();
        loop {
            let ledger_due =
                state.ledger_dirty && self.ledger_retry_at.is_none_or(|at| Instant::now() >= at);
            if !state.pending.is_empty()
                || ledger_due
                || !state.sync_waiters.is_empty()
                || state.closing
            {
                break;
            }
            let sync_due = match state.tuning.fsync {
                FsyncPolicy::Interval(every) if self.unsynced => Some(self.last_sync + every),
                FsyncPolicy::Batch if self.ledger_unsynced.is_some() => {
                    Some(self.ledger_synced_at + LEDGER_SYNC_PERIOD)
                }
                _ => None,
            };
            let retry_due = self.ledger_retry_at.filter(|_| state.ledger_dirty);
            let deadline = [sync_due, retry_due].into_iter().flatten().min();
            state = match deadline {
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    self.core.wait_writer_timeout(state, deadline - now)
                }
                None => self.core.wait_writer(state),
            };
        }
        let ledger_due =
            state.ledger_dirty && self.ledger_retry_at.is_none_or(|at| Instant::now() >= at);
        let ledger = ledger_due.then(|| {
            state.ledger_dirty = false;
            state.ledger()
        });
        Work {
            appends: std::mem::take(&mut state.pending),
            ledger,
            sync_waiters: std::mem::take(&mut state.sync_waiters),
            closing: state.closing,
        }
    }

    /// Writes a group of appends, then publishes them (or fails them) in order.
    ///
    /// Records written to a segment are published before the next segment starts:
    /// a reader that caught up moves past a finished segment at once, so anything
    /// published there after the roll would never be read.
    fn write_appends(&mut self, appends: Vec<PendingAppend>, fsync: FsyncPolicy) {
        if appends.is_empty() {
            return;
        }
        let segment_size = self.core.lock_state().tuning.segment_size;
        // Encoded into `chunk`, not yet on disk nor published.
        let mut landed: Vec<(PendingAppend, Landed)> = Vec::new();
        let mut chunk: Vec<u8> = Vec::new();
        let mut failure: Option<StorageError> = None;
        // The append that found the next segment could not be started.
        let mut refused: Option<PendingAppend> = None;
        let mut appends = appends.into_iter();
        for append in appends.by_ref() {
            let record_len = (RECORD_HEADER_LEN + append.record.len()) as u64;
            let chunk_end = self.offset + chunk.len() as u64;
            if chunk_end > SEGMENT_HEADER_LEN && chunk_end + record_len > segment_size {
                let rolled = self
                    .flush(&mut chunk, fsync)
                    .inspect(|()| self.publish(std::mem::take(&mut landed)))
                    .and_then(|()| self.roll(fsync));
                if let Err(e) = rolled {
                    failure = Some(e);
                    refused = Some(append);
                    break;
                }
            }
            let start = Position {
                segment: self.active,
                offset: self.offset + chunk.len() as u64,
            };
            encode_record(
                &mut chunk,
                append.seq,
                append.record.items,
                &[&append.record.prefix, &append.record.body],
            );
            let end = Position {
                segment: self.active,
                offset: start.offset + record_len,
            };
            landed.push((append, Landed { start, end }));
        }
        if failure.is_none() {
            match self.flush(&mut chunk, fsync) {
                Ok(()) => self.publish(std::mem::take(&mut landed)),
                Err(e) => failure = Some(e),
            }
        }
        let unwritten = (landed.into_iter().map(|(append, _)| append))
            .chain(refused)
            .chain(appends);
        let mut state = self.core.lock_state();
        for append in unwritten {
            let error = failure.as_ref().map_or(StorageError::Closed, clone_error);
            state.fail(append, error);
        }
        drop(state);
        self.core.records_published();
    }

    /// Makes written records readable.
    fn publish(&self, written: Vec<(PendingAppend, Landed)>) {
        if written.is_empty() {
            return;
        }
        let mut state = self.core.lock_state();
        for (append, place) in written {
            state.publish(append, place.start, place.end);
        }
    }

    /// Writes `chunk` at the end of the active segment. On failure the segment is cut
    /// back to where it was, so a partial write never stays in the log.
    fn flush(&mut self, chunk: &mut Vec<u8>, fsync: FsyncPolicy) -> Result<(), StorageError> {
        if chunk.is_empty() {
            return Ok(());
        }
        let path = segment_path(&self.dir, self.active);
        let result = self
            .core
            .write_at(&self.active_file, chunk, self.offset)
            .and_then(|()| match fsync {
                FsyncPolicy::Batch => self.active_file.sync_data(),
                _ => Ok(()),
            });
        match result {
            Ok(()) => {
                self.offset += chunk.len() as u64;
                self.unsynced |= fsync != FsyncPolicy::Batch;
                chunk.clear();
                Ok(())
            }
            Err(source) => {
                chunk.clear();
                if let Err(e) = self.active_file.set_len(self.offset) {
                    // The tail holds garbage we cannot remove: seal the segment here and
                    // continue in a new one; recovery skips the garbage.
                    tracing::error!(file = %path.display(), error = %e, "cannot cut back a failed write; starting a new segment");
                    let _ = self.roll(fsync);
                }
                tracing::warn!(file = %path.display(), error = %source, "cannot write to the persistent queue; refusing new data until writes succeed again");
                Err(StorageError::io("cannot write queue segment", path, source))
            }
        }
    }

    /// Starts the next segment.
    fn roll(&mut self, fsync: FsyncPolicy) -> Result<(), StorageError> {
        let sync = fsync != FsyncPolicy::Never;
        if self.unsynced && sync {
            // The finished segment's data must be on disk before its successor is used
            // (interval policy: the next periodic sync only covers the active segment).
            let path = segment_path(&self.dir, self.active);
            self.active_file
                .sync_data()
                .map_err(|e| StorageError::io("cannot sync queue segment", path, e))?;
        }
        let next = self.active + 1;
        let path = segment_path(&self.dir, next);
        let file = create_segment(&self.dir, next, sync)
            .map_err(|e| StorageError::io("cannot create queue segment", &path, e))?;
        self.active = next;
        self.active_file = file;
        self.offset = SEGMENT_HEADER_LEN;
        self.unsynced = false;
        let mut state = self.core.lock_state();
        state.segments.insert(next, SEGMENT_HEADER_LEN);
        state.active = next;
        Ok(())
    }

    /// Writes a ledger. Segments it shows delivered are deleted once it is durable
    /// (at once under the `never` policy).
    fn store_ledger(&mut self, ledger: &Ledger, fsync: FsyncPolicy) {
        if let Err((path, error)) = self.ledger.store(ledger, false) {
            tracing::warn!(file = %path.display(), %error, "cannot update the persistent queue's ledger; will retry (a crash now means more duplicates, no loss)");
            self.ledger_retry_at = Some(Instant::now() + Duration::from_secs(1));
            self.core.lock_state().ledger_dirty = true;
            return;
        }
        self.ledger_retry_at = None;
        match fsync {
            FsyncPolicy::Never => self.delete_before(ledger.position, false),
            FsyncPolicy::Interval(_) => {
                self.unsynced = true;
                self.ledger_unsynced = Some(ledger.position);
            }
            FsyncPolicy::Batch => self.ledger_unsynced = Some(ledger.position),
        }
    }

    /// Fsyncs the ledger, then deletes what it shows delivered.
    fn sync_ledger(&mut self) {
        self.ledger_synced_at = Instant::now();
        match self.ledger.sync() {
            Ok(()) => {
                if let Some(position) = self.ledger_unsynced.take() {
                    self.delete_before(position, true);
                }
            }
            Err((path, error)) => {
                tracing::warn!(file = %path.display(), %error, "cannot sync the persistent queue's ledger; will retry");
            }
        }
    }

    /// Deletes the segments wholly before `position`.
    fn delete_before(&mut self, position: Position, sync: bool) {
        let delivered = self.core.lock_state().segments_before(position);
        if delivered.is_empty() {
            return;
        }
        let mut deleted = Vec::new();
        for id in delivered {
            let path = segment_path(&self.dir, id);
            match std::fs::remove_file(&path) {
                Ok(()) => deleted.push(id),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => deleted.push(id),
                Err(error) => {
                    tracing::warn!(file = %path.display(), %error, "cannot delete a delivered segment; will retry");
                }
            }
        }
        if sync && let Err(error) = sync_dir(&self.dir) {
            tracing::warn!(directory = %self.dir.display(), %error, "cannot sync the queue directory");
        }
        let mut state = self.core.lock_state();
        for id in deleted {
            state.segments.remove(&id);
        }
        if !state.segments_before(position).is_empty() {
            // Some deletion failed: try again with a ledger update in a while.
            state.ledger_dirty = true;
            self.ledger_retry_at = Some(Instant::now() + Duration::from_secs(1));
        }
    }

    /// Fsyncs the active segment and the ledger.
    fn sync_all(&mut self) -> Result<(), StorageError> {
        // Also on failure, so a failing disk is retried each interval, not in a loop.
        self.last_sync = Instant::now();
        let path = segment_path(&self.dir, self.active);
        self.active_file
            .sync_data()
            .map_err(|e| StorageError::io("cannot sync queue segment", path, e))?;
        self.ledger
            .sync()
            .map_err(|(path, e)| StorageError::io("cannot sync the ledger", path, e))?;
        self.unsynced = false;
        self.ledger_synced_at = Instant::now();
        if let Some(position) = self.ledger_unsynced.take() {
            self.delete_before(position, true);
        }
        Ok(())
    }
}

/// A copy of a storage error for every append of a failed group (I/O errors cannot be
/// cloned; their kind and text are kept).
fn clone_error(error: &StorageError) -> StorageError {
    match error {
        StorageError::Io {
            context,
            path,
            source,
        } => StorageError::Io {
            context,
            path: path.clone(),
            source: std::io::Error::new(source.kind(), source.to_string()),
        },
        StorageError::InUse { path } => StorageError::InUse { path: path.clone() },
        StorageError::TooLarge { len, max } => StorageError::TooLarge {
            len: *len,
            max: *max,
        },
        StorageError::Closed => StorageError::Closed,
    }
}

/// Checks a record's size before it is accepted.
pub(super) fn check_len(len: usize) -> Result<(), StorageError> {
    if len > MAX_PAYLOAD_LEN {
        return Err(StorageError::TooLarge {
            len,
            max: MAX_PAYLOAD_LEN,
        });
    }
    Ok(())
}
