//! `file_storage`: persistent sending queues on the local disk.
//!
//! An exporter whose `sending_queue::storage` names this extension keeps its queue here
//! instead of in memory, one subdirectory per (exporter, signal):
//!
//! ```yaml
//! extensions:
//!   file_storage:
//!     directory: /var/lib/otelcol/file_storage
//!     fsync: batch            # batch | interval | never
//! exporters:
//!   otlp:
//!     endpoint: backend:4317
//!     sending_queue:
//!       storage: file_storage
//!       sizer: bytes
//!       queue_size: 1073741824   # 1 GiB on disk at most (plus one segment)
//! service:
//!   extensions: [file_storage]
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `directory` | `/var/lib/otelcol/file_storage` | where queues live |
//! | `create_directory` | `false` | create `directory` if it is missing |
//! | `directory_permissions` | `"0750"` | mode (octal, less the umask) of what `create_directory` creates |
//! | `timeout` | `1s` | how long opening a queue waits for another process to release its directory |
//! | `fsync` | `batch` | when writes are forced to disk: `batch`, `interval`, `never` (`true`/`false` as in the Go Collector mean `batch`/`never`) |
//! | `fsync_interval` | `1s` | period of the `interval` policy |
//! | `segment_size_mib` | `16` | segment file size; space is reclaimed a segment at a time |
//! | `compaction` | off | the Go extension's compaction block: accepted and checked by Go's rules (`check_interval` > 0 with `on_rebound`, `max_transaction_size` ≥ 0); there is nothing to compact (see *Disk use*) |
//! | `recreate` | `false` | accepted: Go moves a corrupt database aside and starts empty; recovery here never refuses to start and keeps what is intact (see *Guarantees*) |
//!
//! # Component state
//!
//! The extension also offers key-value clients ([`KeyValueStorage`]), as Go's
//! `storage.Client`: the `filelog` receiver keeps its checkpoints there with
//! `storage: file_storage`. Each component has a directory
//! `<kind>.<type>[.<name>]` (escaped as above) holding one file per key; a value is
//! replaced atomically (written beside, synced unless `fsync: never`, renamed over, the
//! directory synced), so a crash leaves the old value or the new one.
//!
//! # Differences from the Go Collector
//!
//! * `fsync` defaults to `batch`, not Go's `false`: an acknowledged item survives a power
//!   loss unless the configuration says otherwise. `fsync: false` gives Go's behaviour.
//! * `timeout` bounds the wait for the queue directory's lock (Go: bbolt's file lock), so a
//!   collector restarted while the old process still exits waits for it instead of failing.
//! * The directories are checked and created when the extension starts, not at validation.
//!
//! # Guarantees
//!
//! When an exporter's `consume` returns `Ok`, the data is in the queue's files. From then
//! on it is delivered at least once, across graceful restarts and `kill -9` alike: an item
//! is removed only after its export succeeded or failed for good (a permanent error, or
//! retries exhausted) — never because shutdown interrupted its export. Items being
//! exported when the process dies are delivered again after the restart, so duplicates
//! are bounded by what was in flight.
//!
//! What survives a **power loss** (or kernel crash) depends on `fsync`:
//!
//! | `fsync` | an acknowledged item survives a power loss | cost |
//! |---|---|---|
//! | `batch` | always: each group of concurrent appends is fsynced before any of them is acknowledged | one fsync per group of appends, plus one ledger fsync per 100 ms of deliveries |
//! | `interval` | if it was acknowledged more than `fsync_interval` before the loss | one fsync of each file per interval |
//! | `never` | if the operating system happened to write it back | none |
//!
//! A power loss can also lose the latest ledger updates (up to 100 ms of them with
//! `batch`, an interval with `interval`); that only means items already delivered are
//! delivered again. A segment is deleted only after a durable ledger shows it delivered.
//!
//! Recovery never refuses to start: a torn write at the end of the log is truncated; a
//! damaged record is skipped, counted in `tributary_file_storage_corrupt_records` and
//! logged with its file and offset, and everything else is delivered; an unreadable
//! ledger makes every record still on disk be delivered again (duplicates, not loss).
//! When a write fails (disk full, I/O error) the append is refused with a retryable error,
//! the partial write is cut back, and what was queued before stays intact.
//!
//! Blocking file I/O runs on one writer thread per queue and, for reads, on tokio's
//! blocking pool; async tasks never wait on the disk. A queue's writer ends once every
//! exporter using the queue has shut down, and the extension's shutdown joins it (waiting
//! up to 10 s), so the queue's files are complete and unlocked when it returns.
//!
//! # On-disk format
//!
//! Each queue directory holds:
//!
//! * `LOCK` — locked (`flock`) while a process has the queue open;
//! * `NNNNNNNNNNNNNNNNNNNN.seg` — segment files, named by a 20-digit increasing id. A
//!   16-byte header (`TRIBSEG1`, the id as u64 LE) is followed by records
//!   `[magic "TRQ1"][len u32][crc32c u32][seq u64][items u32][payload]` (little-endian;
//!   the CRC-32C covers `len`, `seq`, `items` and the payload). Records are only appended;
//!   a segment is closed at `segment_size_mib` and deleted, whole, once every record in it
//!   was delivered;
//! * `ledger.0`, `ledger.1` — the ack ledger, written alternately: the read position
//!   (segment, offset) before which everything is delivered, the sequence numbers
//!   delivered out of order after it, and a sequence floor, with a CRC-32C.
//!
//! The payload of a record is the exporter helper's framing of one request: a format
//! byte, the signal, the client metadata, then the request's OTLP protobuf encoding (see
//! [`exporterhelper`](crate::exporterhelper)).
//!
//! # Disk use
//!
//! A persistent queue's size (what `queue_size` bounds, in the exporter's sizer) counts
//! every record from the oldest one not yet delivered: records delivered out of order
//! behind a slow one keep counting until it is done, because their segment cannot be
//! deleted before. So the disk holds at most `queue_size` (with `sizer: bytes`, in
//! stored bytes: the request's protobuf encoding plus its framing) plus one segment of
//! delivered records waiting for their segment to go. Space is reclaimed while the
//! queue runs, a whole segment at a time, with no compaction step.
//!
//! # Reloads
//!
//! A queue already open in this process is shared with the next exporter instance that
//! opens it (a configuration reload starts the new exporter before stopping the old
//! one), so the hand-over needs no second lock and loses nothing; what the old instance
//! was exporting when it stopped goes to the new one. A changed `fsync` policy or segment
//! size applies to the shared queue at once. Across processes, the `LOCK` file keeps two
//! collectors from using one queue directory.

mod config;
mod format;
mod kv;
mod ledger;
mod queue;
mod recovery;
mod registry;
mod segments;
mod state;
mod writer;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tracing::Instrument;

use crate::component::{
    Component, ComponentError, ComponentId, CreateSettings, Extension, ExtensionCapabilities,
    ExtensionFactory, Host, KeyValueStorage, Kind, Stability, StorageClient,
};
use crate::exporterhelper::{QueueStorage, StorageError, StoredQueue};
use crate::pdata::Signal;
use crate::telemetry::MetricsRegistry;

pub use config::{CompactionConfig, FileStorageConfig, Fsync};
pub use queue::FileQueue;
pub use state::FsyncPolicy;

/// The type name, `file_storage`.
pub const TYPE: &str = "file_storage";

/// How much of the most recently appended data each queue keeps decoded in memory, so
/// workers that keep up never read it back from disk.
const CACHE_BYTES: usize = 8 << 20;

/// How long shutdown waits for the writers of closed queues to finish (write what was
/// accepted, sync, release the directory) before abandoning them.
const WRITER_WAIT: Duration = Duration::from_secs(10);

/// The `file_storage` factory, to register on a collector builder.
pub fn factory() -> ExtensionFactory<FileStorageConfig> {
    ExtensionFactory::new(
        TYPE,
        |settings, config: &FileStorageConfig| {
            Ok(Arc::new(FileStorage::new(settings, config.clone())) as Arc<dyn Extension>)
        },
        Stability::Beta,
    )
}

/// The `file_storage` extension: keeps persistent sending queues in a directory.
pub struct FileStorage {
    id: ComponentId,
    config: FileStorageConfig,
    metrics: MetricsRegistry,
    span: tracing::Span,
}

impl std::fmt::Debug for FileStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStorage")
            .field("id", &self.id)
            .field("config", &self.config)
            .finish()
    }
}

impl FileStorage {
    /// The extension for `config`, reporting under `settings`' ID and metrics.
    pub fn new(settings: &CreateSettings, config: FileStorageConfig) -> Self {
        FileStorage {
            id: settings.id().clone(),
            config,
            metrics: settings.metrics().clone(),
            span: settings.span().clone(),
        }
    }

    /// The directory of the queue of `exporter`'s `signal` items:
    /// `exporter.<type>[.<name>].<signal>` under `directory`, with characters other than
    /// ASCII letters, digits, `_` and `-` in the name written as `%XX`.
    pub fn queue_directory(&self, exporter: &ComponentId, signal: Signal) -> PathBuf {
        queue_directory(&self.config.directory, exporter, signal)
    }
}

fn queue_directory(root: &Path, exporter: &ComponentId, signal: Signal) -> PathBuf {
    let mut name = format!("exporter.{}", exporter.component_type());
    if let Some(instance) = exporter.name() {
        name.push('.');
        for byte in instance.bytes() {
            if byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-' {
                name.push(byte as char);
            } else {
                name.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    name.push('.');
    name.push_str(signal.as_str());
    root.join(name)
}

#[async_trait]
impl Component for FileStorage {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        let directory = self.config.directory.clone();
        let create = self.config.create_directory;
        // Validated already; the default mode stands in for the impossible error.
        let mode = self.config.directory_mode().unwrap_or(0o750);
        tokio::task::spawn_blocking(move || {
            if create {
                create_directory(&directory, mode).map_err(|e| {
                    ComponentError::with_source(
                        format!("cannot create directory {}", directory.display()),
                        e,
                    )
                })
            } else if directory.is_dir() {
                Ok(())
            } else {
                Err(ComponentError::new(format!(
                    "directory {} does not exist; create it or set create_directory: true",
                    directory.display()
                )))
            }
        })
        .await
        .map_err(|e| ComponentError::with_source("cannot check the storage directory", e))?
    }

    /// Joins the writer threads of the queues under `directory` that closed (their
    /// exporters shut down before this extension), so the files are written, synced and
    /// unlocked when shutdown returns. A queue an exporter of a newer configuration still
    /// uses is left to that configuration's storage extension.
    async fn shutdown(&self) -> Result<(), ComponentError> {
        let root = registry::key(&self.config.directory);
        let failures = registry::join_closed(|key| key.starts_with(&root), WRITER_WAIT)
            .instrument(self.span.clone())
            .await;
        if failures.is_empty() {
            return Ok(());
        }
        let failures: Vec<String> = failures.iter().map(ToString::to_string).collect();
        Err(ComponentError::new(format!(
            "persistent queues did not close cleanly: {}",
            failures.join("; ")
        )))
    }
}

/// Creates `directory` and its missing parents with `mode` (less the umask), as Go's
/// `create_directory` does with `directory_permissions`.
fn create_directory(directory: &Path, mode: u32) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, mode);
    #[cfg(not(unix))]
    let _ = mode;
    builder.create(directory)
}

impl Extension for FileStorage {
    fn capabilities(self: Arc<Self>, offers: &mut ExtensionCapabilities) {
        offers.offer::<dyn QueueStorage>(Arc::clone(&self) as Arc<dyn QueueStorage>);
        offers.offer::<dyn KeyValueStorage>(self);
    }
}

#[async_trait]
impl KeyValueStorage for FileStorage {
    async fn open_client(
        &self,
        kind: Kind,
        component: &ComponentId,
        name: &str,
    ) -> std::io::Result<Arc<dyn StorageClient>> {
        let fsync = self.config.fsync_policy();
        kv::open(&self.config.directory, kind, component, name, fsync).await
    }
}

#[async_trait]
impl QueueStorage for FileStorage {
    async fn open_queue(
        &self,
        exporter: &ComponentId,
        signal: Signal,
    ) -> Result<Arc<dyn StoredQueue>, StorageError> {
        let extension = self.id.to_string();
        let exporter_label = exporter.to_string();
        let corrupt = self.metrics.counter(
            "tributary_file_storage_corrupt_records",
            "Number of damaged records (or unreadable ledgers) a persistent queue skipped.",
            &[
                ("extension", extension.as_str()),
                ("exporter", exporter_label.as_str()),
                ("data_type", signal.as_str()),
            ],
        );
        let tuning = state::Tuning {
            fsync: self.config.fsync_policy(),
            segment_size: self.config.segment_size_mib << 20,
            cache_bytes: CACHE_BYTES,
            lock_timeout: self.config.timeout,
        };
        let dir = self.queue_directory(exporter, signal);
        let queue = registry::open(&dir, tuning, corrupt)
            .instrument(self.span.clone())
            .await?;
        Ok(queue)
    }
}
