//! `FileQueue`: one namespace's segmented log, as a [`StoredQueue`].

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

use super::format::{RECORD_HEADER_LEN, RecordHeader, Scanned, scan};
use super::recovery;
use super::segments::{Position, segment_path};
use super::state::{ReadPlan, ReadStep, State, Tuning};
use super::writer::{Writer, check_len};
use crate::component::DedicatedThread;
use crate::exporterhelper::{
    AppendError, Limit, NewRecord, StorageError, StoredQueue, StoredRecord, Usage,
};
use crate::telemetry::Counter;

/// What the async side and the writer thread share.
pub(super) struct Core {
    state: Mutex<State>,
    writer_wake: Condvar,
    /// Records were published or released.
    readable: Notify,
    /// Usage went down.
    room: Notify,
    /// Held by the one reader moving the cursor.
    reader: tokio::sync::Mutex<SegmentReader>,
    dir: PathBuf,
    corrupt: Counter,
    /// Test seam: bytes segment writes may still write before failing as if the disk
    /// were full (`None`: no limit).
    #[cfg(test)]
    write_budget: Mutex<Option<u64>>,
}

impl Core {
    pub fn lock_state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn wait_writer<'a>(&self, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.writer_wake
            .wait(guard)
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub fn wait_writer_timeout<'a>(
        &self,
        guard: MutexGuard<'a, State>,
        timeout: Duration,
    ) -> MutexGuard<'a, State> {
        match self.writer_wake.wait_timeout(guard, timeout) {
            Ok((guard, _)) => guard,
            Err(poisoned) => poisoned.into_inner().0,
        }
    }

    /// Tells readers and blocked writers that the writer published or failed records.
    pub fn records_published(&self) {
        self.readable.notify_waiters();
        self.room.notify_waiters();
    }

    /// Writes `bytes` at `offset` of a segment.
    pub fn write_at(&self, file: &File, bytes: &[u8], offset: u64) -> io::Result<()> {
        #[cfg(test)]
        {
            let mut budget = self
                .write_budget
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(left) = budget.as_mut() {
                if bytes.len() as u64 > *left {
                    file.write_all_at(&bytes[..*left as usize], offset)?;
                    *left = 0;
                    return Err(io::Error::new(
                        io::ErrorKind::StorageFull,
                        "no space left on device (injected by a test)",
                    ));
                }
                *left -= bytes.len() as u64;
            }
        }
        file.write_all_at(bytes, offset)
    }
}

/// A persistent queue in one directory: segment files, a ledger, and a writer thread.
///
/// Dropping the last handle closes it: the writer thread writes what was accepted,
/// updates the ledger, syncs (per policy), releases the directory and ends. The
/// `file_storage` extension joins the thread at its shutdown, or the next open of the
/// directory in this process does.
pub struct FileQueue {
    core: Arc<Core>,
}

impl std::fmt::Debug for FileQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileQueue")
            .field("directory", &self.core.dir)
            .finish_non_exhaustive()
    }
}

impl FileQueue {
    /// Opens the queue in `dir`: locks it, recovers it, starts its writer thread, which it
    /// returns for the caller to own: the thread ends once the last handle on the queue is
    /// dropped and must then be joined. Blocking.
    pub(super) fn open_blocking(
        dir: &Path,
        tuning: Tuning,
        corrupt: Counter,
    ) -> Result<(Arc<FileQueue>, DedicatedThread), StorageError> {
        let opened = recovery::open(dir, tuning.fsync, tuning.lock_timeout, &corrupt)?;
        let core = Arc::new(Core {
            state: Mutex::new(State::new(tuning, opened.recovered)),
            writer_wake: Condvar::new(),
            readable: Notify::new(),
            room: Notify::new(),
            reader: tokio::sync::Mutex::new(SegmentReader::default()),
            dir: dir.to_path_buf(),
            corrupt,
            #[cfg(test)]
            write_budget: Mutex::new(None),
        });
        let active = core.lock_state().active;
        let writer = Writer::new(
            Arc::clone(&core),
            dir.to_path_buf(),
            active,
            opened.active_file,
            opened.active_end,
            opened.ledger,
            opened.lock,
        );
        let thread = DedicatedThread::spawn("tributary-queue-writer", move || writer.run())
            .map_err(|e| StorageError::io("cannot start the writer thread for", dir, e))?;
        Ok((Arc::new(FileQueue { core }), thread))
    }

    /// Applies tunables from a newer configuration of the storage extension.
    pub(super) fn retune(&self, tuning: Tuning) {
        self.core.lock_state().tuning = tuning;
        self.core.writer_wake.notify_one();
    }

    /// The queue's directory.
    pub fn directory(&self) -> &Path {
        &self.core.dir
    }

    /// Test seam: let segment writes write `bytes` more bytes, then fail as on a full
    /// disk; `None` lifts the limit.
    #[cfg(test)]
    pub(super) fn limit_writes(&self, bytes: Option<u64>) {
        *self
            .core
            .write_budget
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = bytes;
    }

    fn wake_writer(&self) {
        self.core.writer_wake.notify_one();
    }
}

impl Drop for FileQueue {
    fn drop(&mut self) {
        self.core.lock_state().closing = true;
        self.core.writer_wake.notify_one();
        self.core.readable.notify_waiters();
        self.core.room.notify_waiters();
    }
}

#[async_trait]
impl StoredQueue for FileQueue {
    async fn append(
        &self,
        record: NewRecord,
        limit: Limit,
        wait_for_room: bool,
    ) -> Result<(), AppendError> {
        check_len(record.len())?;
        let added = Usage {
            requests: 1,
            items: u64::from(record.items),
            bytes: record.len() as u64,
        }
        .get(limit.sizer);
        let mut record = Some(record);
        loop {
            let room = self.core.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            let receiver = {
                let mut state = self.core.lock_state();
                if state.closing {
                    return Err(StorageError::Closed.into());
                }
                let used = state.usage().get(limit.sizer);
                if used.saturating_add(added) <= limit.capacity {
                    Some(state.reserve(record.take().expect("appended once")))
                } else if !wait_for_room {
                    return Err(AppendError::Full);
                } else {
                    None
                }
            };
            match receiver {
                Some(receiver) => {
                    self.wake_writer();
                    return match receiver.await {
                        Ok(result) => result.map_err(AppendError::Storage),
                        Err(_) => Err(StorageError::Closed.into()),
                    };
                }
                None => room.await,
            }
        }
    }

    async fn next(&self) -> Result<StoredRecord, StorageError> {
        let mut reader = self.core.reader.lock().await;
        loop {
            let readable = self.core.readable.notified();
            tokio::pin!(readable);
            readable.as_mut().enable();
            let plan = self.core.lock_state().plan_read();
            match plan {
                ReadPlan::Ready(record) => return Ok(record),
                ReadPlan::Closed => return Err(StorageError::Closed),
                ReadPlan::Wait => readable.await,
                ReadPlan::Cursor { at, end } => {
                    let step = reader.read(&self.core.dir, at, end).await?;
                    let (record, damaged) = self.core.lock_state().finish_cursor_read(at, step);
                    if let Some(at) = damaged {
                        self.core.corrupt.inc();
                        tracing::error!(
                            file = %segment_path(&self.core.dir, at.segment).display(),
                            offset = at.offset,
                            "skipping a corrupt record in the persistent queue"
                        );
                    }
                    match record {
                        Some(record) => return Ok(record),
                        // Skipped: what was done may have moved the read position.
                        None => {
                            self.wake_writer();
                            self.core.room.notify_waiters();
                        }
                    }
                }
                ReadPlan::Redelivery { seq, start, end } => {
                    let step = reader.read(&self.core.dir, start, end).await?;
                    let record = self.core.lock_state().finish_redelivery(seq, step);
                    match record {
                        Some(record) => return Ok(record),
                        None => {
                            self.core.corrupt.inc();
                            tracing::error!(file = %segment_path(&self.core.dir, start.segment).display(), offset = start.offset, "a record to deliver again is damaged; skipping it");
                            self.wake_writer();
                            self.core.room.notify_waiters();
                        }
                    }
                }
            }
        }
    }

    fn ack(&self, seq: u64) {
        let moved = self.core.lock_state().ack(seq);
        self.wake_writer();
        if moved {
            self.core.room.notify_waiters();
        }
    }

    fn release(&self, seq: u64) {
        self.core.lock_state().release(seq);
        self.core.readable.notify_waiters();
    }

    fn usage(&self) -> Usage {
        self.core.lock_state().usage()
    }

    async fn sync(&self) -> Result<(), StorageError> {
        let (done, receiver) = tokio::sync::oneshot::channel();
        {
            let mut state = self.core.lock_state();
            if state.closing {
                return Err(StorageError::Closed);
            }
            state.sync_waiters.push(done);
        }
        self.wake_writer();
        receiver.await.unwrap_or(Err(StorageError::Closed))
    }
}

/// Reads records from segment files, keeping the last one open.
#[derive(Default)]
struct SegmentReader {
    open: Option<(u64, Arc<File>)>,
}

impl SegmentReader {
    /// Reads at `at` (data of that segment ends at `end`) on a blocking thread.
    async fn read(&mut self, dir: &Path, at: Position, end: u64) -> Result<ReadStep, StorageError> {
        let file = self
            .open
            .as_ref()
            .filter(|(id, _)| *id == at.segment)
            .map(|(_, file)| Arc::clone(file));
        let path = segment_path(dir, at.segment);
        let blocking_path = path.clone();
        let read =
            tokio::task::spawn_blocking(move || -> io::Result<(Option<Arc<File>>, ReadStep)> {
                let file = match file {
                    Some(file) => file,
                    None => match File::open(&blocking_path) {
                        Ok(file) => Arc::new(file),
                        // Removed behind our back: nothing left to read in it.
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {
                            return Ok((None, ReadStep::Skip { resume: end }));
                        }
                        Err(e) => return Err(e),
                    },
                };
                let step = read_step(&file, at.offset, end)?;
                Ok((Some(file), step))
            })
            .await
            .map_err(|e| {
                StorageError::io("cannot read queue segment", &path, io::Error::other(e))
            })?;
        let (file, step) =
            read.map_err(|e| StorageError::io("cannot read queue segment", &path, e))?;
        self.open = file.map(|file| (at.segment, file));
        Ok(step)
    }
}

/// Reads the record at `offset` of a segment whose data ends at `end`, or finds where
/// valid data resumes after damage there.
fn read_step(file: &File, offset: u64, end: u64) -> io::Result<ReadStep> {
    let result = (|| -> io::Result<ReadStep> {
        let mut header = [0u8; RECORD_HEADER_LEN];
        if offset + RECORD_HEADER_LEN as u64 <= end {
            file.read_exact_at(&mut header, offset)?;
            if let Some(parsed) = RecordHeader::parse(&header)
                && offset + parsed.record_len() <= end
            {
                let mut payload = vec![0u8; parsed.len];
                file.read_exact_at(&mut payload, offset + RECORD_HEADER_LEN as u64)?;
                if parsed.checks(&header, &payload) {
                    return Ok(ReadStep::Record {
                        seq: parsed.seq,
                        items: parsed.items,
                        payload: payload.into(),
                        end: offset + parsed.record_len(),
                    });
                }
            }
        }
        let mut rest = vec![0u8; (end - offset) as usize];
        file.read_exact_at(&mut rest, offset)?;
        Ok(match scan(&rest, 0) {
            Scanned::Record {
                end: record_end,
                header,
                ..
            } => ReadStep::Record {
                seq: header.seq,
                items: header.items,
                payload: rest[RECORD_HEADER_LEN..record_end as usize].to_vec().into(),
                end: offset + record_end,
            },
            Scanned::Corrupt { resume, .. } => ReadStep::Skip {
                resume: offset + resume,
            },
            Scanned::End { .. } => ReadStep::Skip { resume: end },
        })
    })();
    match result {
        // Shorter than published: cut behind our back; nothing more to read in it.
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(ReadStep::Skip { resume: end }),
        other => other,
    }
}
