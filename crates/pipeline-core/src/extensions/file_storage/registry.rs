//! The queues open in this process, by directory, and their writer threads.
//!
//! During a configuration reload the new instance of an exporter starts before the old
//! one stops, and both name the same queue. The second open gets the queue the first one
//! holds, so the hand-over loses nothing and needs no second lock on the directory.
//!
//! The registry owns each queue's writer thread. A queue closes when its last handle is
//! dropped; its writer then finishes what was accepted, releases the directory's lock and
//! ends. Whoever needs it gone joins it, with a bounded wait: the `file_storage`
//! extension at shutdown, or the next open of the same directory — which therefore finds
//! the lock free at once instead of polling for it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use super::queue::FileQueue;
use super::state::Tuning;
use crate::component::{DedicatedThread, ThreadJoinError};
use crate::exporterhelper::StorageError;
use crate::telemetry::Counter;

/// How long an open waits for the writer of the queue's previous, closed instance to end.
/// It only has to write what was accepted before the close and sync.
const REOPEN_WAIT: Duration = Duration::from_secs(10);

/// One directory's queue: the queue while any handle on it lives, and its writer thread
/// until someone joins it.
struct Entry {
    queue: Weak<FileQueue>,
    writer: Option<DedicatedThread>,
}

static OPEN: LazyLock<Mutex<HashMap<PathBuf, Entry>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Held across a whole open (blocking threads only), so two opens of one directory never
/// race for its lock: the second finds the queue the first opened.
static OPENING: Mutex<()> = Mutex::new(());

fn entries() -> MutexGuard<'static, HashMap<PathBuf, Entry>> {
    // Nothing panics while holding the lock, and every update is one map operation.
    OPEN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The registry's key for `dir`: its absolute path.
pub(super) fn key(dir: &Path) -> PathBuf {
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// Opens the queue in `dir`, or returns the one this process already has open there.
pub(super) async fn open(
    dir: &Path,
    tuning: Tuning,
    corrupt: Counter,
) -> Result<Arc<FileQueue>, StorageError> {
    let key = key(dir);
    let path = key.clone();
    tokio::task::spawn_blocking(move || open_blocking(path, tuning, corrupt))
        .await
        .map_err(|e| StorageError::io("cannot open queue", &key, std::io::Error::other(e)))?
}

fn open_blocking(
    key: PathBuf,
    tuning: Tuning,
    corrupt: Counter,
) -> Result<Arc<FileQueue>, StorageError> {
    let _opening = OPENING.lock().unwrap_or_else(PoisonError::into_inner);
    // A live queue is shared; a closed one's writer is taken, to be joined before the
    // directory is opened again.
    let closed_writer = {
        let mut entries = entries();
        match entries.get_mut(&key) {
            Some(entry) => match entry.queue.upgrade() {
                Some(queue) => {
                    queue.retune(tuning);
                    return Ok(queue);
                }
                None => entry.writer.take(),
            },
            None => None,
        }
    };
    if let Some(writer) = closed_writer {
        match writer.join_blocking(REOPEN_WAIT) {
            Ok(()) => {}
            // The thread is gone and its files with it, the lock included.
            Err(error @ ThreadJoinError::Panicked { .. }) => {
                tracing::error!(directory = %key.display(), %error, "the persistent queue's previous writer failed; recovering what it left");
            }
            Err(error @ ThreadJoinError::Abandoned { .. }) => {
                return Err(StorageError::io(
                    "cannot reopen queue",
                    &key,
                    std::io::Error::other(error),
                ));
            }
        }
    }
    let (queue, writer) = FileQueue::open_blocking(&key, tuning, corrupt)?;
    let mut entries = entries();
    // Forget closed queues whose writers are over (a handle on an ended thread needs no
    // join); keep those still finishing, for someone to join.
    entries.retain(|_, entry| {
        entry.queue.strong_count() > 0 || entry.writer.as_ref().is_some_and(|w| !w.is_finished())
    });
    entries.insert(
        key,
        Entry {
            queue: Arc::downgrade(&queue),
            writer: Some(writer),
        },
    );
    Ok(queue)
}

/// Joins the writer threads of the closed queues whose directory `owned` accepts, all
/// within `timeout`. Queues still open (shared with an exporter instance that outlives
/// the caller, after a reload) are left to whoever joins them once they close.
///
/// Returns a description of every writer that panicked or was abandoned.
pub(super) async fn join_closed(
    owned: impl Fn(&Path) -> bool,
    timeout: Duration,
) -> Vec<ThreadJoinError> {
    let mut writers: Vec<DedicatedThread> = Vec::new();
    for (key, entry) in entries().iter_mut().filter(|(key, _)| owned(key)) {
        if entry.queue.strong_count() > 0 {
            tracing::debug!(directory = %key.display(), "persistent queue still in use; its writer is left to whoever uses it");
        } else if let Some(writer) = entry.writer.take() {
            writers.push(writer);
        }
    }
    let deadline = Instant::now() + timeout;
    let mut failures = Vec::new();
    for writer in writers {
        let left = deadline.saturating_duration_since(Instant::now());
        if let Err(error) = writer.join(left).await {
            failures.push(error);
        }
    }
    failures
}
