//! The storage interface of the persistent sending queue.
//!
//! A storage extension (the built-in one is
//! [`file_storage`](crate::extensions::file_storage)) offers `dyn` [`QueueStorage`] among
//! its [capabilities](crate::component::Extension::capabilities). An exporter
//! whose `sending_queue::storage` names it opens one [`StoredQueue`] per (exporter,
//! signal) at start and keeps its items there instead of in memory.
//!
//! A stored queue is a durable FIFO of opaque records with acknowledgements:
//! [`append`](StoredQueue::append) returns once the record is stored (durably, per the
//! storage's policy), [`next`](StoredQueue::next) hands records to export workers,
//! [`ack`](StoredQueue::ack) removes one for good and [`release`](StoredQueue::release)
//! gives it back for delivery again. Anything neither acknowledged nor released when the
//! process dies is delivered again after a restart (at-least-once).

use std::any::Any;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use super::Sizer;
use crate::component::ComponentId;
use crate::pdata::Signal;

/// A storage extension's ability to keep persistent sending queues.
///
/// Implementations must not block the async runtime: file I/O belongs on a dedicated
/// thread or in `spawn_blocking`.
#[async_trait]
pub trait QueueStorage: Send + Sync {
    /// Opens the queue of `exporter`'s `signal` items, creating it if needed, and recovers
    /// what a previous run left in it. Each (exporter, signal) pair is its own namespace.
    ///
    /// Opening a queue that is already open in this process (an exporter rebuilt by a
    /// configuration reload while its predecessor still runs) returns the same queue, so
    /// the two instances hand its contents over without a gap.
    async fn open_queue(
        &self,
        exporter: &ComponentId,
        signal: Signal,
    ) -> Result<Arc<dyn StoredQueue>, StorageError>;
}

/// A durable FIFO of records with acknowledgements, as a persistent sending queue uses it.
///
/// Every method may be called concurrently. Records come out of [`next`](Self::next) in
/// the order they were appended, except that [released](Self::release) records come
/// first. A record handed out is *outstanding* until it is acknowledged or released; the
/// queue's [usage](Self::usage) counts it until then.
#[async_trait]
pub trait StoredQueue: Send + Sync + 'static {
    /// Stores `record` if the queue's usage stays within `limit`, and returns once it is
    /// stored as durably as the storage's policy promises. When the queue is full it
    /// returns [`AppendError::Full`] at once, or with `wait_for_room` waits until
    /// acknowledgements make room.
    async fn append(
        &self,
        record: NewRecord,
        limit: Limit,
        wait_for_room: bool,
    ) -> Result<(), AppendError>;

    /// The next record to deliver, waiting until there is one.
    ///
    /// Cancel-safe: dropping the future before it completes hands out nothing.
    async fn next(&self) -> Result<StoredRecord, StorageError>;

    /// The record was delivered, or given up on for good: it is never delivered again and
    /// its space is reclaimed.
    fn ack(&self, seq: u64);

    /// The record was not delivered (its export was interrupted by shutdown): it is
    /// delivered again, to the next reader in this process or after a restart.
    fn release(&self, seq: u64);

    /// What the queue holds: every record appended and not yet acknowledged, including
    /// those being exported.
    fn usage(&self) -> Usage;

    /// Makes every append and acknowledgement so far durable (as the storage's policy
    /// allows); called on graceful shutdown.
    async fn sync(&self) -> Result<(), StorageError>;
}

/// A record to append.
pub struct NewRecord {
    /// The first part of the stored bytes (the queue's framing).
    pub prefix: Bytes,
    /// The rest of the stored bytes (the data's protobuf encoding), written after `prefix`.
    pub body: Bytes,
    /// Items in the record (spans, data points, log records), for the `items` sizer.
    pub items: u32,
    /// The decoded value, kept in memory while the record is recent, so that a reader
    /// keeping up with the writers gets it back without reading and decoding the bytes.
    pub cached: Option<Arc<dyn Any + Send + Sync>>,
}

impl NewRecord {
    /// The size of the stored bytes: `prefix` and `body` together.
    pub fn len(&self) -> usize {
        self.prefix.len() + self.body.len()
    }

    /// Whether the record stores no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for NewRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewRecord")
            .field("len", &self.len())
            .field("items", &self.items)
            .field("cached", &self.cached.is_some())
            .finish()
    }
}

/// A record handed out by [`StoredQueue::next`].
pub struct StoredRecord {
    /// The record's sequence number, for [`StoredQueue::ack`] and [`StoredQueue::release`].
    pub seq: u64,
    /// Items in the record, as appended.
    pub items: u32,
    /// The record's content.
    pub content: RecordContent,
}

impl fmt::Debug for StoredRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredRecord")
            .field("seq", &self.seq)
            .field("items", &self.items)
            .field("content", &self.content)
            .finish()
    }
}

/// What a [`StoredRecord`] carries.
pub enum RecordContent {
    /// The value given as [`NewRecord::cached`], still in memory.
    Cached(Arc<dyn Any + Send + Sync>),
    /// The stored bytes (`prefix` followed by `body`), read back from storage.
    Stored(Bytes),
}

impl fmt::Debug for RecordContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordContent::Cached(_) => f.write_str("Cached"),
            RecordContent::Stored(bytes) => write!(f, "Stored({} bytes)", bytes.len()),
        }
    }
}

/// How much a queue holds, in each sizer's unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Records.
    pub requests: u64,
    /// Items.
    pub items: u64,
    /// Stored bytes.
    pub bytes: u64,
}

impl Usage {
    /// The amount in `sizer`'s unit.
    pub fn get(&self, sizer: Sizer) -> u64 {
        match sizer {
            Sizer::Requests => self.requests,
            Sizer::Items => self.items,
            Sizer::Bytes => self.bytes,
        }
    }
}

/// The capacity an append must respect: after it, the usage in `sizer`'s unit must not
/// exceed `capacity`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// The unit.
    pub sizer: Sizer,
    /// The capacity, in that unit.
    pub capacity: u64,
}

/// Why [`StoredQueue::append`] did not store a record.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The queue is at its limit.
    #[error("sending queue is full")]
    Full,
    /// The storage failed (disk full, I/O error) or is closed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// An I/O operation failed.
    #[error("{context} {}: {source}", path.display())]
    Io {
        /// What was being done (`"cannot write queue segment"`).
        context: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// Another process holds the queue's directory.
    #[error(
        "queue directory {} is in use by another process (or another collector of this process); each queue directory can be used by one collector at a time",
        path.display()
    )]
    InUse {
        /// The queue's directory.
        path: PathBuf,
    },
    /// A record is too large to store.
    #[error("a record of {len} bytes is larger than the storage allows ({max} bytes)")]
    TooLarge {
        /// The record's size.
        len: usize,
        /// The largest size stored.
        max: usize,
    },
    /// The queue was closed.
    #[error("the queue storage is closed")]
    Closed,
}

impl StorageError {
    /// An I/O error with what was being done and the path concerned.
    pub fn io(context: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        StorageError::Io {
            context,
            path: path.into(),
            source,
        }
    }
}
