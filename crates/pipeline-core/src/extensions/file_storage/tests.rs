//! The file queue against real directories: restarts, damage, full disks, reclaiming.

use std::any::Any;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use proptest::prelude::*;

use super::format::{RECORD_HEADER_LEN, SEGMENT_HEADER_LEN};
use super::queue::FileQueue;
use super::segments::{list_segments, segment_path};
use super::state::{FsyncPolicy, Tuning};
use super::{FileStorage, FileStorageConfig, registry};
use crate::component::{ComponentId, CreateSettings, Kind};
use crate::exporterhelper::{
    AppendError, Limit, NewRecord, RecordContent, Sizer, StorageError, StoredQueue, Usage,
};
use crate::pdata::Signal;
use crate::telemetry::Counter;

fn tuning(fsync: FsyncPolicy, segment_size: u64) -> Tuning {
    Tuning {
        fsync,
        segment_size,
        cache_bytes: 1 << 20,
        lock_timeout: Duration::ZERO,
    }
}

async fn open_with(dir: &Path, tuning: Tuning, corrupt: &Counter) -> Arc<FileQueue> {
    registry::open(dir, tuning, corrupt.clone()).await.unwrap()
}

async fn open(dir: &Path) -> Arc<FileQueue> {
    open_with(
        dir,
        tuning(FsyncPolicy::Batch, 1 << 20),
        &Counter::default(),
    )
    .await
}

/// A record whose bytes say which it is: `id` repeated over `len` bytes (at least 8).
fn record(id: u64, len: usize) -> NewRecord {
    let mut body = Vec::with_capacity(len);
    while body.len() < len.max(8) {
        body.extend_from_slice(&id.to_le_bytes());
    }
    body.truncate(len.max(8));
    NewRecord {
        prefix: Bytes::new(),
        body: body.into(),
        items: 1,
        cached: None,
    }
}

fn no_limit() -> Limit {
    Limit {
        sizer: Sizer::Requests,
        capacity: u64::MAX,
    }
}

async fn append(queue: &FileQueue, ids: impl IntoIterator<Item = u64>) {
    for id in ids {
        queue
            .append(record(id, 64), no_limit(), false)
            .await
            .unwrap();
    }
}

/// The id a record was made with.
fn id_of(content: &RecordContent) -> u64 {
    match content {
        RecordContent::Stored(bytes) => u64::from_le_bytes(bytes[..8].try_into().unwrap()),
        RecordContent::Cached(value) => *value.downcast_ref::<u64>().unwrap(),
    }
}

/// Takes `n` records: (seq, id).
async fn take(queue: &FileQueue, n: usize) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for _ in 0..n {
        let record = tokio::time::timeout(Duration::from_secs(30), queue.next())
            .await
            .expect("a record is available")
            .unwrap();
        out.push((record.seq, id_of(&record.content)));
    }
    out
}

/// Asserts nothing more is handed out (a false pass is possible on a slow machine; a
/// false failure is not).
async fn assert_empty(queue: &FileQueue) {
    let extra = tokio::time::timeout(Duration::from_millis(100), queue.next()).await;
    assert!(extra.is_err(), "unexpected record: {extra:?}");
}

async fn reopen(queue: Arc<FileQueue>, corrupt: &Counter) -> Arc<FileQueue> {
    let dir = queue.directory().to_path_buf();
    drop(queue);
    open_with(&dir, tuning(FsyncPolicy::Batch, 1 << 20), corrupt).await
}

fn ids(taken: &[(u64, u64)]) -> Vec<u64> {
    taken.iter().map(|(_, id)| *id).collect()
}

#[tokio::test]
async fn records_come_back_in_order_from_memory_and_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let queue = open(dir.path()).await;
    queue
        .append(
            NewRecord {
                cached: Some(Arc::new(7u64) as Arc<dyn Any + Send + Sync>),
                ..record(7, 64)
            },
            no_limit(),
            false,
        )
        .await
        .unwrap();
    append(&queue, [8, 9]).await;
    let first = queue.next().await.unwrap();
    assert!(matches!(first.content, RecordContent::Cached(_)));
    assert_eq!(id_of(&first.content), 7);
    assert_eq!(ids(&take(&queue, 2).await), [8, 9]);
    assert_eq!(queue.usage().requests, 3, "handed out is still held");
    assert_empty(&queue).await;
}

#[tokio::test]
async fn a_restart_delivers_everything_not_acknowledged_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let corrupt = Counter::default();
    let queue = open(dir.path()).await;
    append(&queue, 0..10).await;
    let taken = take(&queue, 5).await;
    // Acknowledged out of order; 0 and 2 are still being exported at the "crash".
    for (seq, id) in &taken {
        if [1, 3, 4].contains(id) {
            queue.ack(*seq);
        }
    }
    let queue = reopen(queue, &corrupt).await;
    assert_eq!(queue.usage().requests, 7);
    let again = take(&queue, 7).await;
    assert_eq!(ids(&again), [0, 2, 5, 6, 7, 8, 9]);
    assert_empty(&queue).await;
    assert_eq!(corrupt.get(), 0);
}

#[tokio::test]
async fn released_records_are_delivered_again_first() {
    let dir = tempfile::tempdir().unwrap();
    let queue = open(dir.path()).await;
    append(&queue, 0..3).await;
    let taken = take(&queue, 2).await;
    queue.release(taken[1].0);
    queue.ack(taken[0].0);
    assert_eq!(ids(&take(&queue, 2).await), [1, 2]);
}

#[tokio::test]
async fn a_torn_tail_is_truncated_and_the_rest_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let corrupt = Counter::default();
    let queue = open(dir.path()).await;
    append(&queue, 0..5).await;
    let path = segment_path(queue.directory(), 1);
    drop(queue);
    let queue = open(dir.path()).await;
    drop(queue);
    // A crash in the middle of writing a sixth record.
    let mut bytes = std::fs::read(&path).unwrap();
    let whole = bytes.len();
    let mut torn = Vec::new();
    super::format::encode_record(&mut torn, 99, 1, &[&[5u8; 64]]);
    bytes.extend_from_slice(&torn[..torn.len() / 2]);
    std::fs::write(&path, &bytes).unwrap();

    let queue = open_with(dir.path(), tuning(FsyncPolicy::Batch, 1 << 20), &corrupt).await;
    assert_eq!(std::fs::metadata(&path).unwrap().len() as usize, whole);
    assert_eq!(ids(&take(&queue, 5).await), [0, 1, 2, 3, 4]);
    append(&queue, [5]).await;
    assert_eq!(ids(&take(&queue, 1).await), [5]);
    assert_eq!(corrupt.get(), 0, "a torn tail is not corruption");
}

#[tokio::test]
async fn a_damaged_record_is_skipped_counted_and_the_rest_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let corrupt = Counter::default();
    let queue = open(dir.path()).await;
    append(&queue, 0..10).await;
    let path = segment_path(queue.directory(), 1);
    drop(queue);
    let record_len = RECORD_HEADER_LEN + 64;
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[SEGMENT_HEADER_LEN as usize + 4 * record_len + RECORD_HEADER_LEN + 10] ^= 0xFF;
    bytes[SEGMENT_HEADER_LEN as usize + 7 * record_len + 5] ^= 0x01; // a length byte
    std::fs::write(&path, &bytes).unwrap();

    let queue = open_with(dir.path(), tuning(FsyncPolicy::Batch, 1 << 20), &corrupt).await;
    assert_eq!(corrupt.get(), 2);
    let taken = take(&queue, 8).await;
    assert_eq!(ids(&taken), [0, 1, 2, 3, 5, 6, 8, 9]);
    assert_empty(&queue).await;
    assert_eq!(corrupt.get(), 2, "counted once, when found");
    for (seq, _) in taken {
        queue.ack(seq);
    }
    assert_eq!(queue.usage(), Usage::default());
}

#[tokio::test]
async fn an_unreadable_ledger_delivers_everything_again_rather_than_lose_anything() {
    let dir = tempfile::tempdir().unwrap();
    let corrupt = Counter::default();
    let queue = open(dir.path()).await;
    append(&queue, 0..6).await;
    for (seq, _) in take(&queue, 3).await {
        queue.ack(seq);
    }
    queue.sync().await.unwrap();
    let queue_dir = queue.directory().to_path_buf();
    drop(queue);
    let queue = open(dir.path()).await;
    assert_eq!(ids(&take(&queue, 3).await), [3, 4, 5], "the ledger works");
    drop(queue);
    for name in ["ledger.0", "ledger.1"] {
        std::fs::write(queue_dir.join(name), b"garbage that is not a ledger").unwrap();
    }
    let queue = open_with(dir.path(), tuning(FsyncPolicy::Batch, 1 << 20), &corrupt).await;
    assert_eq!(corrupt.get(), 1);
    assert_eq!(ids(&take(&queue, 6).await), [0, 1, 2, 3, 4, 5]);
}

#[tokio::test]
async fn a_full_disk_refuses_new_data_and_keeps_what_was_queued() {
    let dir = tempfile::tempdir().unwrap();
    let corrupt = Counter::default();
    let queue = open(dir.path()).await;
    append(&queue, 0..3).await;
    queue.limit_writes(Some(30));
    let error = queue
        .append(record(3, 64), no_limit(), false)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, AppendError::Storage(StorageError::Io { source, .. }) if source.kind() == std::io::ErrorKind::StorageFull),
        "{error}"
    );
    assert_eq!(
        queue.usage().requests,
        3,
        "the refused record is not counted"
    );
    // Still refusing while the disk is full, still serving what it holds.
    assert!(
        queue
            .append(record(4, 64), no_limit(), false)
            .await
            .is_err()
    );
    assert_eq!(ids(&take(&queue, 1).await), [0]);
    queue.limit_writes(None);
    append(&queue, [5]).await;
    let queue = reopen(queue, &corrupt).await;
    assert_eq!(ids(&take(&queue, 4).await), [0, 1, 2, 5]);
    assert_empty(&queue).await;
    assert_eq!(corrupt.get(), 0, "failed writes leave no garbage behind");
}

#[tokio::test]
async fn delivered_segments_are_deleted_as_delivery_progresses() {
    let dir = tempfile::tempdir().unwrap();
    let queue = open_with(
        dir.path(),
        tuning(FsyncPolicy::Never, 4096),
        &Counter::default(),
    )
    .await;
    for id in 0..200 {
        queue
            .append(record(id, 500), no_limit(), false)
            .await
            .unwrap();
    }
    let queue_dir = queue.directory().to_path_buf();
    let segments = list_segments(&queue_dir).unwrap().len();
    assert!(segments >= 25, "{segments} segments");
    let disk = |dir: &Path| -> u64 {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum()
    };
    assert!(disk(&queue_dir) > 100_000);
    for (seq, _) in take(&queue, 150).await {
        queue.ack(seq);
    }
    queue.sync().await.unwrap();
    let left = list_segments(&queue_dir).unwrap().len();
    assert!(
        left <= segments / 4 + 2,
        "{left} of {segments} segments left"
    );
    for (seq, _) in take(&queue, 50).await {
        queue.ack(seq);
    }
    queue.sync().await.unwrap();
    assert_eq!(list_segments(&queue_dir).unwrap().len(), 1);
    assert!(
        disk(&queue_dir) < 8192,
        "space reclaimed: {}",
        disk(&queue_dir)
    );
    assert_eq!(queue.usage(), Usage::default());
}

#[tokio::test]
async fn the_limit_refuses_or_waits_for_room() {
    let dir = tempfile::tempdir().unwrap();
    let queue = open(dir.path()).await;
    let limit = Limit {
        sizer: Sizer::Items,
        capacity: 3,
    };
    for id in 0..3 {
        queue.append(record(id, 64), limit, false).await.unwrap();
    }
    assert!(matches!(
        queue.append(record(3, 64), limit, false).await,
        Err(AppendError::Full)
    ));
    let waiting = tokio::spawn({
        let queue = Arc::clone(&queue);
        async move { queue.append(record(3, 64), limit, true).await }
    });
    let taken = take(&queue, 1).await;
    tokio::task::yield_now().await;
    assert!(!waiting.is_finished(), "handed out still counts");
    queue.ack(taken[0].0);
    waiting.await.unwrap().unwrap();
    let bytes = Limit {
        sizer: Sizer::Bytes,
        capacity: 64 * 4 - 1,
    };
    assert!(matches!(
        queue.append(record(9, 64), bytes, false).await,
        Err(AppendError::Full)
    ));
}

#[tokio::test]
async fn a_record_larger_than_a_segment_gets_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let queue = open_with(
        dir.path(),
        tuning(FsyncPolicy::Batch, 1024),
        &Counter::default(),
    )
    .await;
    append(&queue, [1]).await;
    queue
        .append(record(2, 10_000), no_limit(), false)
        .await
        .unwrap();
    append(&queue, [3]).await;
    let queue = reopen(queue, &Counter::default()).await;
    assert_eq!(ids(&take(&queue, 3).await), [1, 2, 3]);
}

#[tokio::test]
async fn every_fsync_policy_survives_a_restart() {
    for fsync in [
        FsyncPolicy::Batch,
        FsyncPolicy::Interval(Duration::from_millis(5)),
        FsyncPolicy::Never,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let queue = open_with(dir.path(), tuning(fsync, 1 << 16), &Counter::default()).await;
        append(&queue, 0..50).await;
        for (seq, _) in take(&queue, 20).await {
            queue.ack(seq);
        }
        let queue = reopen(queue, &Counter::default()).await;
        assert_eq!(
            ids(&take(&queue, 30).await),
            (20..50).collect::<Vec<_>>(),
            "{fsync:?}"
        );
    }
}

/// What a `kill -9` leaves is what the files hold at that moment (the page cache
/// survives the process). Copying the directory at random moments while appends and
/// acks run, then opening the copy, must find every acknowledged append.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_taken_at_any_moment_holds_every_acknowledged_record() {
    let dir = tempfile::tempdir().unwrap();
    let queue = open_with(
        dir.path(),
        tuning(FsyncPolicy::Never, 8192),
        &Counter::default(),
    )
    .await;
    let queue_dir = queue.directory().to_path_buf();
    let delivered = Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
    let consumer = tokio::spawn({
        let queue = Arc::clone(&queue);
        let delivered = Arc::clone(&delivered);
        async move {
            loop {
                let record = queue.next().await.unwrap();
                delivered.lock().unwrap().insert(id_of(&record.content));
                queue.ack(record.seq);
            }
        }
    });
    let mut acknowledged = Vec::new();
    for round in 0..8u64 {
        for id in round * 50..(round + 1) * 50 {
            queue
                .append(record(id, 200), no_limit(), false)
                .await
                .unwrap();
            acknowledged.push(id);
        }
        // The snapshot: copy every file as it is now.
        let snapshot = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(&queue_dir).unwrap() {
            let entry = entry.unwrap();
            let _ = std::fs::copy(entry.path(), snapshot.path().join(entry.file_name()));
        }
        let copy = open_with(
            snapshot.path(),
            tuning(FsyncPolicy::Never, 8192),
            &Counter::default(),
        )
        .await;
        let pending = copy.usage().requests as usize;
        let found = ids(&take(&copy, pending).await);
        assert!(found.windows(2).all(|w| w[0] < w[1]));
        let delivered = delivered.lock().unwrap().clone();
        for id in &acknowledged {
            assert!(
                found.contains(id) || delivered.contains(id),
                "acknowledged record {id} is neither delivered nor in the snapshot"
            );
        }
        drop(copy);
    }
    consumer.abort();
}

#[tokio::test]
async fn opening_a_queue_already_open_in_this_process_shares_it() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(dir.path()).await;
    let second = open(dir.path()).await;
    assert!(Arc::ptr_eq(&first, &second));
    // Without the registry, a second open of the directory is refused.
    let direct = FileQueue::open_blocking(
        first.directory(),
        tuning(FsyncPolicy::Batch, 1 << 20),
        Counter::default(),
    );
    assert!(matches!(direct, Err(StorageError::InUse { .. })));
}

#[tokio::test]
async fn the_extension_keeps_one_namespace_per_exporter_and_signal() {
    let dir = tempfile::tempdir().unwrap();
    let settings =
        CreateSettings::standalone(Kind::Extension, "file_storage".parse().unwrap(), None);
    let storage = FileStorage::new(
        &settings,
        FileStorageConfig {
            directory: dir.path().to_path_buf(),
            ..Default::default()
        },
    );
    let id = |s: &str| s.parse::<ComponentId>().unwrap();
    assert_eq!(
        storage.queue_directory(&id("otlp"), Signal::Traces),
        dir.path().join("exporter.otlp.traces")
    );
    assert_eq!(
        storage.queue_directory(&id("otlp/a/b.c"), Signal::Logs),
        dir.path().join("exporter.otlp.a%2Fb%2Ec.logs")
    );
    let host = crate::component::Host::new([(
        id("file_storage"),
        Arc::new(storage) as Arc<dyn crate::component::Extension>,
    )]);
    let queue_storage = host
        .capability::<dyn crate::exporterhelper::QueueStorage>(&id("file_storage"))
        .expect("file_storage offers queues");
    let traces = queue_storage
        .open_queue(&id("otlp"), Signal::Traces)
        .await
        .unwrap();
    let logs = queue_storage
        .open_queue(&id("otlp"), Signal::Logs)
        .await
        .unwrap();
    traces
        .append(record(1, 64), no_limit(), false)
        .await
        .unwrap();
    assert_eq!(traces.usage().requests, 1);
    assert_eq!(logs.usage().requests, 0);
}

#[tokio::test]
async fn after_shutdown_the_writers_are_joined_and_the_directory_reopens_at_once() {
    use crate::component::{Component, Host};
    let dir = tempfile::tempdir().unwrap();
    let settings =
        CreateSettings::standalone(Kind::Extension, "file_storage".parse().unwrap(), None);
    let storage = FileStorage::new(
        &settings,
        FileStorageConfig {
            directory: dir.path().to_path_buf(),
            ..Default::default()
        },
    );
    storage.start(&Host::default()).await.unwrap();
    let exporter: ComponentId = "otlp".parse().unwrap();
    let queue =
        crate::exporterhelper::QueueStorage::open_queue(&storage, &exporter, Signal::Traces)
            .await
            .unwrap();
    queue
        .append(record(1, 64), no_limit(), false)
        .await
        .unwrap();
    // The exporter shuts down first and lets go of its queue; then the extension.
    drop(queue);
    storage.shutdown().await.unwrap();
    // The writer has ended, so the directory's lock is free: an open that bypasses the
    // registry (and so any waiting it might do) succeeds at once, and finds the record.
    let (reopened, writer) = FileQueue::open_blocking(
        &storage.queue_directory(&exporter, Signal::Traces),
        tuning(FsyncPolicy::Batch, 1 << 20),
        Counter::default(),
    )
    .unwrap();
    assert_eq!(reopened.usage().requests, 1);
    drop(reopened);
    writer.join(Duration::from_secs(10)).await.unwrap();
}

#[tokio::test]
async fn the_extension_refuses_to_start_without_its_directory() {
    use crate::component::{Component, Host};
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let settings =
        CreateSettings::standalone(Kind::Extension, "file_storage".parse().unwrap(), None);
    let config = FileStorageConfig {
        directory: missing.clone(),
        ..Default::default()
    };
    let error = FileStorage::new(&settings, config.clone())
        .start(&Host::default())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("create_directory"), "{error}");
    let create = FileStorageConfig {
        create_directory: true,
        ..config
    };
    FileStorage::new(&settings, create)
        .start(&Host::default())
        .await
        .unwrap();
    assert!(missing.is_dir());
}

/// Go's `directory_permissions` is the mode of what `create_directory` creates.
#[cfg(unix)]
#[tokio::test]
async fn create_directory_applies_directory_permissions() {
    use std::os::unix::fs::PermissionsExt;

    use crate::component::{Component, Host};
    let dir = tempfile::tempdir().unwrap();
    let created = dir.path().join("a").join("b");
    let settings =
        CreateSettings::standalone(Kind::Extension, "file_storage".parse().unwrap(), None);
    let config = FileStorageConfig {
        directory: created.clone(),
        create_directory: true,
        directory_permissions: "0700".into(),
        ..Default::default()
    };
    FileStorage::new(&settings, config)
        .start(&Host::default())
        .await
        .unwrap();
    for path in [dir.path().join("a"), created] {
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", path.display());
    }
}

/// Go's `timeout`: opening waits for a process that still holds the queue directory
/// (one shutting down) instead of failing at once; without time to wait, it fails.
#[tokio::test]
async fn opening_waits_up_to_the_timeout_for_the_directorys_lock() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path()).unwrap();
    // Another holder of the lock: a separate open file, as another process would have.
    let held = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.path().join("LOCK"))
        .unwrap();
    held.try_lock().unwrap();

    let refused = FileQueue::open_blocking(
        dir.path(),
        tuning(FsyncPolicy::Batch, 1 << 20),
        Counter::default(),
    );
    assert!(matches!(refused, Err(StorageError::InUse { .. })));

    let (released_tx, released_rx) = std::sync::mpsc::channel();
    let path = dir.path().to_path_buf();
    let opener = std::thread::spawn(move || {
        let patient = Tuning {
            lock_timeout: Duration::from_secs(60),
            ..tuning(FsyncPolicy::Batch, 1 << 20)
        };
        // Signals as it starts to open; the lock is released after that, usually while
        // the open is waiting for it.
        released_tx.send(()).unwrap();
        FileQueue::open_blocking(&path, patient, Counter::default())
    });
    released_rx.recv().unwrap();
    drop(held);
    let (queue, writer) = opener.join().unwrap().expect("opens once the lock is free");
    drop(queue);
    writer.join(Duration::from_secs(10)).await.unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random damage to a closed queue's segments: opening always succeeds, every
    /// record whose bytes are intact is delivered, damaged ones are counted, none is
    /// invented.
    #[test]
    fn random_damage_never_stops_recovery(
        count in 1u64..40,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..6),
        truncate in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let queue = open_with(dir.path(), tuning(FsyncPolicy::Never, 2048), &Counter::default()).await;
            append(&queue, 0..count).await;
            let queue_dir = queue.directory().to_path_buf();
            drop(queue);
            let queue = open(dir.path()).await;
            drop(queue);
            let segments = list_segments(&queue_dir).unwrap();
            let mut damaged = 0usize;
            for (i, (index, mask)) in flips.iter().enumerate() {
                let path = segment_path(&queue_dir, segments[i % segments.len()]);
                let mut bytes = std::fs::read(&path).unwrap();
                if bytes.len() > SEGMENT_HEADER_LEN as usize {
                    let at = SEGMENT_HEADER_LEN as usize + index.index(bytes.len() - SEGMENT_HEADER_LEN as usize);
                    bytes[at] ^= mask;
                    damaged += 1;
                    std::fs::write(&path, &bytes).unwrap();
                }
            }
            if let Some(index) = truncate {
                let path = segment_path(&queue_dir, *segments.last().unwrap());
                let len = std::fs::metadata(&path).unwrap().len() as usize;
                let cut = SEGMENT_HEADER_LEN as usize + index.index(len - SEGMENT_HEADER_LEN as usize + 1);
                std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(cut as u64).unwrap();
            }
            let corrupt = Counter::default();
            let queue = open_with(dir.path(), tuning(FsyncPolicy::Never, 2048), &corrupt).await;
            let pending = queue.usage().requests as usize;
            let found = ids(&take(&queue, pending).await);
            prop_assert!(found.windows(2).all(|w| w[0] < w[1]), "in order, no duplicates: {:?}", found);
            prop_assert!(found.iter().all(|id| *id < count));
            let lost = count as usize - found.len();
            prop_assert!(lost <= damaged + truncate.map_or(0, |_| count as usize), "lost {} with {} flips", lost, damaged);
            if truncate.is_none() {
                prop_assert!(lost <= damaged, "a flip costs at most the record it touches");
            }
            Ok(())
        })?;
    }
}

/// Appends from many tasks while a reader delivers: groups of appends that cross into a
/// new segment must be readable before the new segment is, or the reader skips them.
/// (A reader between the writer's roll and its publishing once lost records this way.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_across_segment_rolls_are_all_delivered() {
    const APPENDERS: u64 = 8;
    const PER_APPENDER: u64 = 400;
    let dir = tempfile::tempdir().unwrap();
    let queue = open_with(
        dir.path(),
        tuning(FsyncPolicy::Never, 4096),
        &Counter::default(),
    )
    .await;
    let reader = {
        let queue = Arc::clone(&queue);
        tokio::spawn(async move {
            let mut seen = std::collections::BTreeSet::new();
            while seen.len() < (APPENDERS * PER_APPENDER) as usize {
                let Ok(record) = tokio::time::timeout(Duration::from_secs(10), queue.next()).await
                else {
                    break;
                };
                let record = record.unwrap();
                assert!(seen.insert(id_of(&record.content)), "delivered twice");
                queue.ack(record.seq);
            }
            seen
        })
    };
    let appenders: Vec<_> = (0..APPENDERS)
        .map(|appender| {
            let queue = Arc::clone(&queue);
            tokio::spawn(async move {
                for n in 0..PER_APPENDER {
                    let id = appender * PER_APPENDER + n;
                    // With its value cached, a record is delivered from memory: the
                    // reader keeps up with the writer, as exporters do.
                    let mut new = record(id, 300);
                    new.cached = Some(Arc::new(id) as Arc<dyn Any + Send + Sync>);
                    queue.append(new, no_limit(), false).await.unwrap();
                }
            })
        })
        .collect();
    for appender in appenders {
        appender.await.unwrap();
    }
    let seen = reader.await.unwrap();
    let missing: Vec<u64> = (0..APPENDERS * PER_APPENDER)
        .filter(|id| !seen.contains(id))
        .collect();
    assert!(missing.is_empty(), "never delivered: {missing:?}");
    assert_eq!(queue.usage(), Usage::default());
}
