//! The exporter helper: the delivery machinery every exporter gets by wrapping its
//! `export` function.
//!
//! An exporter implements [`Export`] (send one batch, say how it went) and its factory
//! calls [`build`] with the [`ExporterHelperConfig`] embedded in its own configuration.
//! The result is a complete [`Exporter`], a stack of small stages:
//!
//! ```text
//! consume → sending_queue → batch → (sent / send_failed counters) → retry_on_failure → timeout → export
//! ```
//!
//! # Configuration
//!
//! Every exporter's config squashes an [`ExporterHelperConfig`]
//! (`#[serde(rename = "helper,squash")] helper: ExporterHelperConfig`), so the keys below
//! sit at the exporter's top level, as in the Go Collector, without the exporter declaring,
//! defaulting or validating them itself: it calls [`ExporterHelperConfig::validate`] from
//! its own `validate`, and errors and unknown keys name their full path
//! (`exporters::otlp::sending_queue::queue_sise: unknown key`). An exporter whose defaults
//! differ (`debug` and `file` start with everything off, see
//! [`ExporterHelperConfig::disabled`]) decodes it over them with
//! [`ExporterHelperConfig::deserialize_over`]. The keys, with the Go Collector's defaults:
//!
//! ```yaml
//! exporters:
//!   otlp:
//!     endpoint: backend:4317
//!     timeout: 5s                 # per attempt
//!     retry_on_failure:
//!       enabled: true
//!       initial_interval: 5s
//!       randomization_factor: 0.5
//!       multiplier: 1.5
//!       max_interval: 30s
//!       max_elapsed_time: 300s    # 0: retry forever
//!     sending_queue:
//!       enabled: true
//!       queue_size: 1000
//!       sizer: requests           # requests | items | bytes
//!       num_consumers: 10
//!       block_on_overflow: false
//!       memory_limit_mib: 256      # memory queue: at most this much data, whatever the sizer
//!       wait_while_behind: true    # memory queue: push back instead of growing while the backend is healthy
//!       drain_timeout: 5s
//!       storage: file_storage     # optional: a persistent queue
//!       batch:                    # optional: exporter-side batching
//!         flush_timeout: 200ms
//!         min_size: 8192
//!         max_size: 0
//!         partition:              # optional: batch by these client metadata keys only
//!           metadata_keys: [tenant_id]
//! ```
//!
//! # The sending queue
//!
//! `consume` returns once the data is queued: `Ok` means accepted. A full queue refuses
//! with a retryable "sending queue is full" (receivers answer 503 / `UNAVAILABLE`), or with
//! `block_on_overflow: true` waits for room. The queue's size counts every request until
//! its delivery has ended — while queued, batched, exported and retried — in the
//! `sizer`'s unit; `otelcol_exporter_queue_size` and `otelcol_exporter_queue_capacity`
//! show it. `num_consumers` workers export concurrently. Every exporter (and signal) has
//! its own queue, so a dead backend fills its own queue and nobody else's. With
//! `enabled: false` there is no queue: `consume` exports in the caller's task (with
//! retries and timeout) and returns the outcome.
//!
//! ## How memory is bounded
//!
//! `queue_size` counts requests by default (the Go Collector's `sizer: requests`), and
//! 1000 requests of up to 20 MiB could hold 20 GiB. So a memory queue has a second bound,
//! whatever its sizer: `memory_limit_mib` (a Tributary key, default **256 MiB**; 0 turns
//! it off). The requests it holds — queued, batched, being exported or retried — may take
//! at most that much, measured as their protobuf encoding, which is exactly what they hold
//! when they came in over OTLP and were passed through untouched (the data a processor
//! decoded takes more). Passing it is refused like a full queue: a retryable "sending queue
//! is full", or with `block_on_overflow` a wait for room. A request larger than the whole
//! limit is admitted once the queue holds nothing else, so it is delayed, never refused
//! for good: a memory queue holds at most `memory_limit_mib` or one request, whichever is
//! more (and receivers bound a request's size). The limit is per queue, that is per
//! exporter and signal. Traffic from SDKs and agents (requests up to 256 KiB) meets
//! `queue_size` first, as in Go; large batches meet the memory limit.
//!
//! ## Under overload
//!
//! Those limits are there to ride out an outage. When the backend is healthy but this
//! process cannot export as fast as data arrives (it is out of CPU, or the backend is
//! slow), a FIFO would still fill them: memory spent on data that is only waiting for CPU.
//! So with `wait_while_behind` (a Tributary key, default on), a memory queue whose backlog
//! — requests queued and not yet taken by a consumer — reaches a sixteenth of `queue_size`,
//! or whose data held — queued or being exported — reaches a sixteenth of
//! `memory_limit_mib` (16 MiB by default), makes further offers wait while the backend
//! counts as healthy (the last delivery that ended was delivered, less than a second ago).
//! The callers hold their data meanwhile: the batch processor's callers wait, the
//! receivers stop admitting requests once their admission budget is spent, and clients get
//! a retryable throttling answer (429 / `RESOURCE_EXHAUSTED`) before their requests are
//! decoded. As soon as a delivery fails for good, or none ends for a second (exports
//! hanging, retries backing off), offers stop waiting and the queue fills to its limits as
//! above. `false` restores the plain FIFO (the Go Collector's behaviour). A persistent
//! queue ignores the key.
//!
//! A persistent queue keeps its requests on disk, bounded by `queue_size` (use `sizer:
//! bytes` to bound the disk in bytes), and ignores `memory_limit_mib`. In memory it holds
//! the most recent 8 MiB of records decoded (so workers that keep up need not read the
//! disk), the requests being exported (at most `num_consumers`, or their batches), and the
//! appends waiting for the disk.
//!
//! With `storage`, the queue lives in a storage extension
//! ([`file_storage`](crate::extensions::file_storage)) instead of memory, with the
//! guarantees documented there: at-least-once across restarts and crashes. Its size
//! counts every record from the oldest one not yet delivered, and with `sizer: bytes`
//! counts stored bytes (the protobuf encoding plus a few bytes of framing and the client
//! metadata). Each stored record is one request as received:
//!
//! ```text
//! format u8 (1) | signal u8 | flags u8 (bit 0: has metadata) | metadata_len u32 LE | metadata | OTLP protobuf
//! ```
//!
//! # Retries and timeout
//!
//! Each attempt has `timeout` (5s). Retryable failures are retried with exponential
//! backoff (5s × 1.5 per retry up to 30s, ±50% jitter); permanent errors are never
//! retried. Retrying gives up when the backoff's next attempt would start more than
//! `max_elapsed_time` after the first; the data is then dropped (and counted in
//! `otelcol_exporter_send_failed_*`).
//!
//! A backend's retry-after (HTTP `Retry-After`, gRPC `RetryInfo`) lengthens the wait
//! before the next attempt, up to a ceiling: **5 minutes**, and never past the
//! `max_elapsed_time` deadline. A backend asking for more gets its next attempt after 5
//! minutes, or at the deadline — one last attempt there instead of the data being dropped
//! at once on the backend's say-so (the Go Collector gives up at once). So no answer from
//! a backend, however absurd, parks a worker for longer than 5 minutes at a time.
//!
//! A panic in an export is a failed attempt, retried like any other; a panic elsewhere in
//! a worker never costs the worker (see the dispatcher). Either way the panic is logged
//! and the exporter's status becomes `PermanentError`: it is a bug to report.
//!
//! With a persistent queue, `max_elapsed_time` does not apply: retryable failures are
//! retried until the data is delivered or the exporter shuts down (the data then stays on
//! disk for the next start). A persistent queue exists to outlast outages, and dropping its
//! oldest data because an outage outlasted a timer defeats it (the Go Collector's #15324);
//! `queue_size` bounds what waits, and a full queue refuses new data with a retryable
//! error. Permanent errors still drop the data. (With `retry_on_failure: { enabled:
//! false }` a failed export is dropped, persistent queue or not.)
//!
//! # Batching
//!
//! With `batch` (present, even with no value: `batch:` means the defaults, as in the Go
//! Collector), queued requests are merged until `min_size` (or until they waited
//! `flush_timeout`) and split so no batch exceeds `max_size` (0: no limit), measured in
//! `batch::sizer` (`items` or `bytes`; default: the queue's sizer unless that is
//! `requests`, else `items`). Only requests with equal client metadata are merged, so
//! tenants stay apart and their headers are kept (the Go Collector merges regardless
//! unless told otherwise: here the safe choice is the default). With
//! `batch::partition::metadata_keys`, as in Go, only those keys' values (keys compared
//! case-insensitively) decide which requests share a batch, and a batch carries only those
//! keys' metadata. A request split across batches is acknowledged to its queue only when
//! every piece is done.
//!
//! `sending_queue::wait_for_result: true` (answer the caller only once exported) is refused
//! with the reason: a queued request is answered once queued, the Go Collector's default;
//! `enabled: false` answers after the export.
//!
//! # Shutdown
//!
//! In this order: retries stop (a request waiting for its next attempt ends
//! *interrupted*); the queue closes to new data; then
//!
//! * a **memory** queue drains: what it still holds gets one attempt each, and batches
//!   still pending are sent once, until `drain_timeout` (5s) has passed. Whatever is
//!   still in the queue, pending or being exported then is dropped, counted in
//!   `otelcol_exporter_send_failed_*` and logged. Shutdown never waits longer than
//!   `drain_timeout`.
//! * a **persistent** queue hands out nothing more: what it holds stays stored for the
//!   next start. Exports in progress, and batches already formed, get their one attempt
//!   within `drain_timeout`; those that fail, or are still running then, stay stored
//!   too. Nothing is deleted because shutdown interrupted its export, with or without
//!   `retry_on_failure` (the Go Collector deletes them: its #15677).
//!
//! Last, the exporter's own [`Export::shutdown`] runs.
//!
//! # Metrics
//!
//! Recorded under the exporter's ID with the Go Collector's names ([`ExporterMetrics`]):
//! `otelcol_exporter_sent_*`, `otelcol_exporter_send_failed_*`,
//! `otelcol_exporter_enqueue_failed_*`, `otelcol_exporter_queue_size`,
//! `otelcol_exporter_queue_capacity`.

mod backoff;
pub use backoff::Backoff;
mod batch;
mod config;
mod counting;
mod dispatch;
mod queue;
mod retry;
mod sender;
mod storage;
mod timeout;

#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::component::{Component, ComponentError, CreateError, CreateSettings, Exporter, Host};
use crate::consumer::{Capabilities, ConsumeError, Consumer};
use crate::pdata::SignalData;
use crate::telemetry::ExporterMetrics;

pub use config::{
    BatchConfig, DEFAULT_MEMORY_LIMIT_MIB, DEFAULT_TIMEOUT, ExporterHelperConfig, PartitionConfig,
    QueueConfig, RetryConfig, Sizer,
};
pub use storage::{
    AppendError, Limit, NewRecord, QueueStorage, RecordContent, StorageError, StoredQueue,
    StoredRecord, Usage,
};

use batch::Batcher;
use counting::CountingSender;
use queue::{MemoryQueue, PersistentQueue, Queue};
use retry::RetrySender;
use sender::{ExportSender, Sender};
use timeout::TimeoutSender;

/// The part of an exporter that talks to its backend: send one batch, report the outcome.
///
/// Errors must be classified: [`ConsumeError::permanent`] for what a retry cannot fix
/// (the backend rejected the data), [`ConsumeError::retryable`] or
/// [`ConsumeError::throttled`] (with the backend's retry-after) for the rest.
#[async_trait]
pub trait Export<T: SignalData>: Send + Sync + 'static {
    /// Connects or prepares; called once before the first export.
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        let _ = host;
        Ok(())
    }

    /// Sends one batch.
    async fn export(&self, data: T) -> Result<(), ConsumeError>;

    /// Releases connections; called once after the last export.
    async fn shutdown(&self) -> Result<(), ComponentError> {
        Ok(())
    }
}

/// Wraps `export` in the delivery machinery configured by `config`.
///
/// A persistent queue (`sending_queue::storage`) is opened when the exporter starts; the
/// storage extension must be configured and offer `dyn` [`QueueStorage`] (see
/// [`Host::capability`](crate::component::Host::capability)).
pub fn build<T: SignalData>(
    settings: &CreateSettings,
    config: &ExporterHelperConfig,
    export: impl Export<T>,
) -> Result<Arc<dyn Exporter<T>>, CreateError> {
    config
        .validate()
        .map_err(|e| CreateError::with_source("invalid exporter helper configuration", e))?;
    let export: Arc<dyn Export<T>> = Arc::new(export);
    let metrics = ExporterMetrics::new(settings.metrics(), settings.id(), T::SIGNAL);
    let stop_retries = CancellationToken::new();
    let mut retry = config.retry_on_failure.clone();
    if config.sending_queue.enabled && config.sending_queue.storage.is_some() {
        // A persistent queue exists to outlast outages: deleting data because the outage
        // outlasted `max_elapsed_time` would defeat it (Go Collector #15324). Its capacity,
        // not time, bounds what waits.
        retry.max_elapsed_time = std::time::Duration::ZERO;
    }
    let chain: Arc<dyn Sender<T>> = Arc::new(CountingSender::new(
        RetrySender::new(
            TimeoutSender::new(
                ExportSender::new(Arc::clone(&export), settings.clone()),
                config.timeout,
            ),
            retry,
            stop_retries.clone(),
        ),
        metrics.clone(),
    ));
    let queue_config = &config.sending_queue;
    let queue = OnceLock::new();
    if queue_config.enabled {
        metrics
            .queue_capacity
            .set(i64::try_from(queue_config.queue_size).unwrap_or(i64::MAX));
        if queue_config.storage.is_none() {
            let memory: Arc<dyn Queue<T>> = Arc::new(MemoryQueue::new(
                Limit {
                    sizer: queue_config.sizer,
                    capacity: queue_config.queue_size as u64,
                },
                queue_config.memory_limit_bytes(),
                queue_config.block_on_overflow,
                queue_config.wait_while_behind,
                metrics.queue_size.clone(),
                metrics.enqueue_failed.clone(),
            ));
            let _ = queue.set(QueueKind::Memory(memory));
        }
    }
    Ok(Arc::new(HelperExporter {
        settings: settings.clone(),
        config: config.clone(),
        export,
        chain,
        stop_retries,
        metrics,
        queue,
        running: tokio::sync::Mutex::new(None),
    }))
}

/// The queue an exporter uses, once known.
enum QueueKind<T: SignalData> {
    Memory(Arc<dyn Queue<T>>),
    Persistent(Arc<PersistentQueue<T>>),
}

impl<T: SignalData> QueueKind<T> {
    fn queue(&self) -> Arc<dyn Queue<T>> {
        match self {
            QueueKind::Memory(queue) => Arc::clone(queue),
            QueueKind::Persistent(queue) => Arc::clone(queue) as Arc<dyn Queue<T>>,
        }
    }
}

struct HelperExporter<T: SignalData> {
    settings: CreateSettings,
    config: ExporterHelperConfig,
    export: Arc<dyn Export<T>>,
    /// counters → retry → timeout → export.
    chain: Arc<dyn Sender<T>>,
    stop_retries: CancellationToken,
    metrics: ExporterMetrics,
    /// Set at build (memory) or start (persistent); unset when the queue is disabled.
    queue: OnceLock<QueueKind<T>>,
    running: tokio::sync::Mutex<Option<dispatch::Running<T>>>,
}

impl<T: SignalData> HelperExporter<T> {
    /// Opens the persistent queue in the storage extension the config names.
    async fn open_persistent(&self, host: &Host) -> Result<(), ComponentError> {
        let queue_config = &self.config.sending_queue;
        let Some(storage_id) = &queue_config.storage else {
            return Ok(());
        };
        if host.extension(storage_id).is_none() {
            return Err(ComponentError::new(format!(
                "sending_queue::storage: extension {storage_id} is not configured (add it under extensions and service::extensions)"
            )));
        }
        let storage = host
            .capability::<dyn QueueStorage>(storage_id)
            .ok_or_else(|| {
                ComponentError::new(format!(
                    "sending_queue::storage: extension {storage_id} does not offer queue storage"
                ))
            })?;
        let stored = storage
            .open_queue(self.settings.id(), T::SIGNAL)
            .await
            .map_err(|e| {
                ComponentError::with_source(
                    format!("cannot open the persistent queue in {storage_id}"),
                    e,
                )
            })?;
        let persistent = Arc::new(PersistentQueue::new(
            stored,
            Limit {
                sizer: queue_config.sizer,
                capacity: queue_config.queue_size as u64,
            },
            queue_config.block_on_overflow,
            self.metrics.queue_size.clone(),
            self.metrics.enqueue_failed.clone(),
        ));
        self.queue
            .set(QueueKind::Persistent(persistent))
            .map_err(|_| ComponentError::new("the exporter was started twice"))
    }
}

#[async_trait]
impl<T: SignalData> Component for HelperExporter<T> {
    // Both run in the exporter's span, so what they log (a drain that timed out, data
    // abandoned at shutdown) names the exporter, as its workers' logs do.
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        self.start_in_span(host)
            .instrument(self.settings.span().clone())
            .await
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.shutdown_in_span()
            .instrument(self.settings.span().clone())
            .await
    }
}

impl<T: SignalData> HelperExporter<T> {
    async fn start_in_span(&self, host: &Host) -> Result<(), ComponentError> {
        self.export.start(host).await?;
        if let Err(error) = self.open_persistent(host).await {
            if let Err(e) = self.export.shutdown().await {
                tracing::warn!(error = %e, "exporter shutdown after a failed start failed");
            }
            return Err(error);
        }
        let Some(queue) = self.queue.get() else {
            return Ok(());
        };
        let queue_config = &self.config.sending_queue;
        let batcher = queue_config.batch.as_ref().map(|batch| {
            let sizer = batch.sizer.unwrap_or(match queue_config.sizer {
                Sizer::Requests => Sizer::Items,
                other => other,
            });
            Arc::new(Batcher::new(batch, sizer))
        });
        let running = dispatch::start(
            &self.settings,
            queue.queue(),
            Arc::clone(&self.chain),
            batcher,
            queue_config.num_consumers,
            self.metrics.send_failed.clone(),
        );
        *self.running.lock().await = Some(running);
        Ok(())
    }

    async fn shutdown_in_span(&self) -> Result<(), ComponentError> {
        // 1. Retries stop: requests waiting for another attempt end interrupted.
        self.stop_retries.cancel();
        // 2. The queue closes and drains (memory) or keeps what it holds (persistent).
        let running = self.running.lock().await.take();
        match running {
            Some(running) => running.drain(self.config.sending_queue.drain_timeout).await,
            None => {
                if let Some(queue) = self.queue.get() {
                    queue.queue().close();
                }
            }
        }
        if let Some(QueueKind::Persistent(queue)) = self.queue.get()
            && let Err(error) = queue.release_storage().await
        {
            tracing::error!(%error, "cannot sync the persistent queue at shutdown");
        }
        // 3. The exporter itself.
        self.export.shutdown().await
    }
}

#[async_trait]
impl<T: SignalData> Consumer<T> for HelperExporter<T> {
    async fn consume(&self, data: T) -> Result<(), ConsumeError> {
        if self.config.sending_queue.enabled {
            return match self.queue.get() {
                Some(queue) => queue.queue().offer(data).await,
                None => {
                    self.metrics.enqueue_failed.add(data.item_count() as u64);
                    Err(ConsumeError::retryable(
                        "the exporter has not started: its persistent queue is not open yet",
                    ))
                }
            };
        }
        let items = data.item_count() as u64;
        match self.chain.send(data).await {
            Ok(()) => Ok(()),
            Err(error) if error.interrupted => {
                self.metrics.send_failed.add(items);
                Err(ConsumeError::retryable(format!(
                    "the exporter is shutting down: {}",
                    error.error.message()
                )))
            }
            Err(error) => Err(error.error),
        }
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            mutates_data: false,
        }
    }
}
