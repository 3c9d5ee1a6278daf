//! The queues open in this process, by directory.
//!
//! During a configuration reload the new instance of an exporter starts before the old
//! one stops, and both name the same queue. The second open gets the queue the first one
//! holds, so the hand-over loses nothing and needs no second lock on the directory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use super::queue::FileQueue;
use super::state::Tuning;
use crate::exporterhelper::StorageError;
use crate::telemetry::Counter;

/// How long an open waits for the directory's lock: a queue of this process that was just
/// dropped releases it once its writer thread has finished.
const LOCK_WAIT: Duration = Duration::from_secs(10);

static OPEN: LazyLock<Mutex<HashMap<PathBuf, Weak<FileQueue>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn lookup(key: &Path) -> Option<Arc<FileQueue>> {
    OPEN.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(key)
        .and_then(Weak::upgrade)
}

/// Opens the queue in `dir`, or returns the one this process already has open there.
pub(super) async fn open(
    dir: &Path,
    tuning: Tuning,
    corrupt: Counter,
) -> Result<Arc<FileQueue>, StorageError> {
    let key = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
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
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        if let Some(queue) = lookup(&key) {
            queue.retune(tuning);
            return Ok(queue);
        }
        match FileQueue::open_blocking(&key, tuning, corrupt.clone()) {
            Ok(queue) => {
                let mut open = OPEN.lock().unwrap_or_else(PoisonError::into_inner);
                open.retain(|_, queue| queue.strong_count() > 0);
                open.insert(key, Arc::downgrade(&queue));
                return Ok(queue);
            }
            Err(StorageError::InUse { .. }) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(error) => return Err(error),
        }
    }
}
