//! Opening a queue directory: what a previous run left, checked and repaired.
//!
//! Recovery never refuses to start because of what it finds. A write torn by a crash at
//! the end of the last segment is truncated away; a damaged record anywhere else is
//! skipped, counted and logged with its file and offset; an unreadable ledger makes
//! everything still on disk be delivered again. Only an I/O error (the directory cannot
//! be read or written) or another process holding the directory stops the open.

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use super::format::{SEGMENT_HEADER_LEN, Scanned, is_segment_header, scan};
use super::ledger::{LedgerFiles, Loaded};
use super::segments::{
    Position, create_segment, list_segments, open_segment, segment_path, sync_dir,
};
use super::state::{FsyncPolicy, Recovered};
use crate::exporterhelper::{StorageError, Usage};
use crate::telemetry::Counter;

/// The files a writer needs, opened by recovery.
pub(super) struct Opened {
    pub recovered: Recovered,
    /// The segment to append to and where its data ends.
    pub active_file: File,
    pub active_end: u64,
    pub ledger: LedgerFiles,
    /// Held (locked) for as long as the queue is open.
    pub lock: File,
}

/// How often a locked queue directory is tried again while `lock_timeout` lasts.
const LOCK_RETRY: Duration = Duration::from_millis(20);

/// Opens the queue in `dir`, creating it if needed, and recovers its state. Waits up to
/// `lock_timeout` for another process to release the directory.
pub(super) fn open(
    dir: &Path,
    fsync: FsyncPolicy,
    lock_timeout: Duration,
    corrupt: &Counter,
) -> Result<Opened, StorageError> {
    let io = |context: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source: io::Error| StorageError::io(context, path, source)
    };
    fs::create_dir_all(dir).map_err(io("cannot create queue directory", dir))?;
    let lock_path = dir.join("LOCK");
    let lock = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(io("cannot open", &lock_path))?;
    let deadline = Instant::now() + lock_timeout;
    loop {
        match lock.try_lock() {
            Ok(()) => break,
            // A process that is exiting releases the lock soon: wait for it, up to the
            // `timeout` the configuration gives.
            Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(LOCK_RETRY);
            }
            Err(fs::TryLockError::WouldBlock) => {
                return Err(StorageError::InUse {
                    path: dir.to_path_buf(),
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(io("cannot lock", &lock_path)(e)),
        }
    }

    let (ledger, loaded) = LedgerFiles::open(dir).map_err(io("cannot open the ledger in", dir))?;
    let mut ids = list_segments(dir).map_err(io("cannot list", dir))?;
    let (start, done, seq_floor) = match loaded {
        Loaded::Valid(ledger) => (Some(ledger.position), ledger.done, ledger.seq_floor),
        Loaded::Missing => (None, Vec::new(), 0),
        Loaded::Corrupt => {
            tracing::error!(
                directory = %dir.display(),
                "the queue's ledger is unreadable; every record still on disk will be delivered again"
            );
            corrupt.inc();
            (None, Vec::new(), 0)
        }
    };

    // Segments wholly before the read position were delivered; a crash came between the
    // ledger update and their deletion.
    if let Some(start) = start {
        let delivered: Vec<u64> = ids
            .iter()
            .copied()
            .filter(|&id| id < start.segment)
            .collect();
        for &id in &delivered {
            let path = segment_path(dir, id);
            fs::remove_file(&path).map_err(io("cannot delete delivered segment", &path))?;
        }
        if !delivered.is_empty() {
            ids.retain(|&id| id >= start.segment);
            if fsync != FsyncPolicy::Never {
                sync_dir(dir).map_err(io("cannot sync", dir))?;
            }
        }
    }

    let mut segments = BTreeMap::new();
    let mut live = Usage::default();
    let mut max_seq = None;
    let mut known_corrupt = HashSet::new();
    let last = ids.last().copied();
    let mut active_end = 0;
    for &id in &ids {
        let path = segment_path(dir, id);
        let mut bytes = fs::read(&path).map_err(io("cannot read segment", &path))?;
        let is_last = Some(id) == last;
        if !is_segment_header(&bytes, id) {
            if is_last && bytes.len() < SEGMENT_HEADER_LEN as usize {
                // Created just before a crash: start it again.
                create_segment(dir, id, fsync != FsyncPolicy::Never)
                    .map_err(io("cannot rewrite segment", &path))?;
                bytes = fs::read(&path).map_err(io("cannot read segment", &path))?;
            } else {
                tracing::error!(file = %path.display(), "segment header damaged; reading its records anyway");
                corrupt.inc();
            }
        }
        let mut offset = match start {
            Some(start) if start.segment == id => start.offset.max(SEGMENT_HEADER_LEN),
            _ => SEGMENT_HEADER_LEN,
        };
        offset = offset.min(bytes.len() as u64);
        let end = loop {
            match scan(&bytes, offset) {
                Scanned::Record { end, header, .. } => {
                    // Records delivered out of order before the restart hold nothing.
                    if !in_ranges(&done, header.seq) {
                        live.requests += 1;
                        live.items += u64::from(header.items);
                        live.bytes += header.len as u64;
                    }
                    max_seq = max_seq.max(Some(header.seq));
                    offset = end;
                }
                Scanned::Corrupt { offset: at, resume } => {
                    tracing::error!(
                        file = %path.display(),
                        offset = at,
                        skipped_bytes = resume - at,
                        "skipping a corrupt record in the persistent queue"
                    );
                    corrupt.inc();
                    known_corrupt.insert(Position {
                        segment: id,
                        offset: at,
                    });
                    offset = resume;
                }
                Scanned::End {
                    offset: end,
                    trailing,
                } => {
                    if trailing && is_last {
                        tracing::warn!(
                            file = %path.display(),
                            offset = end,
                            truncated_bytes = bytes.len() as u64 - end,
                            "truncating a write torn by a crash at the end of the persistent queue"
                        );
                        let file =
                            open_segment(dir, id).map_err(io("cannot open segment", &path))?;
                        file.set_len(end)
                            .map_err(io("cannot truncate segment", &path))?;
                        if fsync != FsyncPolicy::Never {
                            file.sync_all().map_err(io("cannot sync segment", &path))?;
                        }
                    } else if trailing {
                        tracing::error!(
                            file = %path.display(),
                            offset = end,
                            skipped_bytes = bytes.len() as u64 - end,
                            "skipping damaged data at the end of a persistent queue segment"
                        );
                        corrupt.inc();
                    }
                    break end;
                }
            }
        };
        segments.insert(id, end);
        active_end = end;
    }

    // Append to the last segment, or start one after everything ever used.
    let (active, active_file) = match last {
        Some(id) => {
            let path = segment_path(dir, id);
            (
                id,
                open_segment(dir, id).map_err(io("cannot open segment", &path))?,
            )
        }
        None => {
            let id = start.map_or(1, |s| s.segment + 1);
            let path = segment_path(dir, id);
            let file = create_segment(dir, id, fsync != FsyncPolicy::Never)
                .map_err(io("cannot create segment", &path))?;
            active_end = SEGMENT_HEADER_LEN;
            segments.insert(id, SEGMENT_HEADER_LEN);
            (id, file)
        }
    };

    let cursor = match start {
        Some(start) if segments.contains_key(&start.segment) => Position {
            segment: start.segment,
            offset: start
                .offset
                .clamp(SEGMENT_HEADER_LEN, segments[&start.segment]),
        },
        _ => Position::start_of(*segments.keys().next().expect("the active segment exists")),
    };
    let next_seq = seq_floor.max(max_seq.map_or(0, |s| s + 1));
    if live.requests > 0 {
        tracing::info!(
            directory = %dir.display(),
            records = live.requests,
            items = live.items,
            bytes = live.bytes,
            "persistent queue recovered records to deliver"
        );
    }
    Ok(Opened {
        recovered: Recovered {
            segments,
            active,
            cursor,
            recovered_done: done,
            live,
            next_seq,
            known_corrupt,
        },
        active_file,
        active_end,
        ledger,
        lock,
    })
}

/// Whether `seq` is in one of the sorted, disjoint half-open `ranges`.
fn in_ranges(ranges: &[(u64, u64)], seq: u64) -> bool {
    let after = ranges.partition_point(|&(start, _)| start <= seq);
    after > 0 && seq < ranges[after - 1].1
}
