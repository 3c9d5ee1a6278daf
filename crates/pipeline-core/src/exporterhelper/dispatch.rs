//! `Dispatcher`: the export workers between a queue and the sender chain.
//!
//! `num_consumers` workers take requests from the queue. Without batching each worker
//! sends its request through the chain and reports the outcome to the queue. With
//! batching, workers feed the [`Batcher`] and send the batches that fill up, while a
//! flush timer sends those whose `flush_timeout` passed; at most `num_consumers` requests
//! or batches are being exported at once either way, so a slow backend slows the
//! workers instead of draining the queue into memory.
//!
//! On shutdown ([`Running::drain`]) the queue is closed; a memory queue's remaining
//! requests and the batcher's pending batches get one attempt each (retries are already
//! stopped) until the drain deadline. What is still being exported then is abandoned:
//! a persistent queue keeps it, a memory queue's loss is counted and logged.
//!
//! A panic never costs a worker. An export that panics is already a retryable failure
//! (see [`ExportSender`](super::sender::ExportSender)); a panic anywhere else in the
//! sender chain ends that request's delivery as *interrupted* — a persistent queue
//! delivers it again, a memory queue's loss is counted and logged, and it is never
//! acknowledged as delivered — and a worker that panics outside an export is restarted.
//! Each panic is logged and reported as the exporter's status; the worker then pauses
//! for [`PANIC_PAUSE`], so a request that panics every time cannot spin the CPU.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::join_all;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::batch::{Batch, Batcher};
use super::queue::{Delivery, Outcome, Queue};
use super::sender::{SendError, Sender};
use super::timeout::deadline_in;
use crate::component::CreateSettings;
use crate::pdata::SignalData;
use crate::telemetry::Counter;

/// How long a worker waits after a panic before it takes the next request.
const PANIC_PAUSE: Duration = Duration::from_secs(1);

/// What every worker shares.
struct Context<T: SignalData> {
    queue: Arc<dyn Queue<T>>,
    chain: Arc<dyn Sender<T>>,
    batcher: Option<Arc<Batcher<T>>>,
    /// One per export that may run at once.
    permits: Arc<Semaphore>,
    /// Counts items a memory queue loses to shutdown or a panic.
    send_failed: Counter,
    /// Where panics are reported.
    settings: CreateSettings,
}

/// Whether the sender chain returned or panicked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sent {
    Returned,
    Panicked,
}

impl<T: SignalData> Context<T> {
    async fn send_request(&self, delivery: Delivery<T>) -> Sent {
        let items = delivery.data.item_count();
        let (outcome, sent) = self.send(delivery.data, items).await;
        delivery.done.complete(outcome);
        sent
    }

    async fn send_batch(&self, batch: Batch<T>) -> Sent {
        let items = batch.items();
        let (outcome, sent) = self.send(batch.data.clone(), items).await;
        batch.finish(outcome);
        sent
    }

    /// Sends `data` through the chain and says how its delivery ended.
    async fn send(&self, data: T, items: usize) -> (Outcome, Sent) {
        let guard = LossGuard::new(self, items);
        let result = AssertUnwindSafe(self.chain.send(data)).catch_unwind().await;
        guard.disarm();
        match result {
            Ok(result) => {
                self.report(&result, items);
                (outcome(&result), Sent::Returned)
            }
            Err(panic) => {
                self.settings.report_panic("export worker", &*panic);
                if self.queue.is_durable() {
                    tracing::warn!(
                        kept_items = items,
                        "the persistent queue keeps the data whose export panicked, to deliver it again"
                    );
                } else {
                    self.send_failed.add(items as u64);
                    tracing::error!(
                        dropped_items = items,
                        "exporting panicked; dropping the data held in memory"
                    );
                }
                (Outcome::Interrupted, Sent::Panicked)
            }
        }
    }

    fn report(&self, result: &Result<(), SendError>, items: usize) {
        match result {
            Ok(()) => {}
            Err(error) if error.interrupted && self.queue.is_durable() => {
                tracing::info!(error = %error.error, kept_items = items, "export interrupted by shutdown; the persistent queue keeps the data for the next start");
            }
            Err(error) if error.interrupted => {
                self.lost(items, &error.error.to_string());
            }
            Err(error) => {
                tracing::error!(error = %error.error, dropped_items = items, "exporting failed; dropping data");
            }
        }
    }

    /// Counts and logs items a memory queue drops at shutdown.
    fn lost(&self, items: usize, reason: &str) {
        if items == 0 || self.queue.is_durable() {
            return;
        }
        self.send_failed.add(items as u64);
        tracing::error!(
            dropped_items = items,
            reason,
            "exporter shut down before delivering data held in memory; dropping it"
        );
    }
}

fn outcome(result: &Result<(), SendError>) -> Outcome {
    match result {
        Ok(()) => Outcome::Delivered,
        Err(error) if error.interrupted => Outcome::Interrupted,
        Err(_) => Outcome::Dropped,
    }
}

/// Counts an export abandoned mid-way (its task aborted at the drain deadline).
struct LossGuard<'a, T: SignalData> {
    context: &'a Context<T>,
    items: usize,
    armed: bool,
}

impl<'a, T: SignalData> LossGuard<'a, T> {
    fn new(context: &'a Context<T>, items: usize) -> Self {
        LossGuard {
            context,
            items,
            armed: true,
        }
    }

    fn disarm(mut self) {
        self.armed = false;
    }
}

impl<T: SignalData> Drop for LossGuard<'_, T> {
    fn drop(&mut self) {
        if self.armed {
            self.context
                .lost(self.items, "the drain deadline passed during its export");
        }
    }
}

/// The running workers of one exporter.
pub(crate) struct Running<T: SignalData> {
    context: Arc<Context<T>>,
    workers: Vec<JoinHandle<()>>,
    flusher: Option<(JoinHandle<()>, CancellationToken)>,
    /// Exports started by the flush timer.
    flushes: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

/// Starts `num_consumers` workers reading `queue` and sending through `chain`, batching
/// with `batcher` if given. Tasks are spawned with `settings` (named, panics reported).
pub(crate) fn start<T: SignalData>(
    settings: &CreateSettings,
    queue: Arc<dyn Queue<T>>,
    chain: Arc<dyn Sender<T>>,
    batcher: Option<Arc<Batcher<T>>>,
    num_consumers: usize,
    send_failed: Counter,
) -> Running<T> {
    use tracing::Instrument;
    let context = Arc::new(Context {
        queue,
        chain,
        batcher,
        permits: Arc::new(Semaphore::new(num_consumers)),
        send_failed,
        settings: settings.clone(),
    });
    let workers = (0..num_consumers)
        .map(|_| {
            let context = Arc::clone(&context);
            settings.spawn(supervise(context).instrument(settings.span().clone()))
        })
        .collect();
    let flushes = Arc::new(Mutex::new(Vec::new()));
    let flusher = context.batcher.as_ref().map(|batcher| {
        let stop = CancellationToken::new();
        let task = flush_on_timeout(
            Arc::clone(&context),
            Arc::clone(batcher),
            Arc::clone(&flushes),
            stop.clone(),
            settings.clone(),
        );
        (
            settings.spawn(task.instrument(settings.span().clone())),
            stop,
        )
    });
    Running {
        context,
        workers,
        flusher,
        flushes,
    }
}

/// One worker: runs [`work`] until the queue ends, restarting it after a panic, so the
/// exporter never has fewer than `num_consumers` workers.
async fn supervise<T: SignalData>(context: Arc<Context<T>>) {
    while let Err(panic) = AssertUnwindSafe(work(Arc::clone(&context)))
        .catch_unwind()
        .await
    {
        // What the worker held (a request taken from the queue) was dropped with it,
        // which hands it back to a persistent queue and frees its room in a memory one.
        context.settings.report_panic("export worker", &*panic);
        tokio::time::sleep(PANIC_PAUSE).await;
    }
}

/// One worker's loop.
async fn work<T: SignalData>(context: Arc<Context<T>>) {
    match &context.batcher {
        None => {
            while let Some(delivery) = context.queue.next().await {
                if context.send_request(delivery).await == Sent::Panicked {
                    tokio::time::sleep(PANIC_PAUSE).await;
                }
            }
        }
        Some(batcher) => {
            while let Some(delivery) = context.queue.next().await {
                let ready = batcher.add(delivery.data, delivery.done);
                if ready.is_empty() {
                    continue;
                }
                // A permit only to send: an idle worker waiting on the queue must not
                // hold one the flush timer needs. While exports are saturated, workers
                // block here, so at most a batch per partition piles up in memory.
                let Ok(permit) = context.permits.acquire().await else {
                    return;
                };
                let mut panicked = false;
                for batch in ready {
                    panicked |= context.send_batch(batch).await == Sent::Panicked;
                }
                drop(permit);
                if panicked {
                    tokio::time::sleep(PANIC_PAUSE).await;
                }
            }
        }
    }
}

/// Sends batches whose flush timeout passed.
async fn flush_on_timeout<T: SignalData>(
    context: Arc<Context<T>>,
    batcher: Arc<Batcher<T>>,
    flushes: Arc<Mutex<Vec<JoinHandle<()>>>>,
    stop: CancellationToken,
    settings: CreateSettings,
) {
    use tracing::Instrument;
    loop {
        // Without a partition, a deadline far enough never to fire; recomputed whenever a
        // partition starts.
        let deadline = batcher
            .next_deadline()
            .unwrap_or_else(|| deadline_in(Duration::MAX));
        tokio::select! {
            () = stop.cancelled() => return,
            () = batcher.partition_started() => continue,
            () = tokio::time::sleep_until(deadline) => {}
        }
        for batch in batcher.take_due(Instant::now()) {
            let Ok(permit) = Arc::clone(&context.permits).acquire_owned().await else {
                return;
            };
            let context = Arc::clone(&context);
            let task = settings.spawn(
                async move {
                    context.send_batch(batch).await;
                    drop(permit);
                }
                .instrument(settings.span().clone()),
            );
            let mut flushes = flushes.lock().unwrap_or_else(PoisonError::into_inner);
            flushes.retain(|handle| !handle.is_finished());
            flushes.push(task);
        }
    }
}

impl<T: SignalData> Drop for Running<T> {
    /// Workers never outlive their exporter: dropped without a drain (the exporter was
    /// dropped without shutdown), they are aborted.
    fn drop(&mut self) {
        for worker in &self.workers {
            worker.abort();
        }
        if let Some((flusher, stop)) = &self.flusher {
            stop.cancel();
            flusher.abort();
        }
        for flush in self
            .flushes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            flush.abort();
        }
    }
}

impl<T: SignalData> Running<T> {
    /// Closes the queue and finishes what it holds within `timeout`; abandons the rest.
    pub async fn drain(mut self, timeout: Duration) {
        let deadline = deadline_in(timeout);
        let context = Arc::clone(&self.context);
        context.queue.close();
        let finished = tokio::time::timeout_at(deadline, async {
            for worker in self.workers.iter_mut() {
                let _ = worker.await;
            }
            if let Some((flusher, stop)) = self.flusher.as_mut() {
                stop.cancel();
                let _ = flusher.await;
            }
            if let Some(batcher) = &context.batcher {
                let permits = &context.permits;
                join_all(batcher.take_all().into_iter().map(|batch| async {
                    let _permit = permits.acquire().await;
                    context.send_batch(batch).await;
                }))
                .await;
            }
            loop {
                let pending: Vec<JoinHandle<()>> = std::mem::take(
                    &mut *self.flushes.lock().unwrap_or_else(PoisonError::into_inner),
                );
                if pending.is_empty() {
                    break;
                }
                for handle in pending {
                    let _ = handle.await;
                }
            }
        })
        .await
        .is_ok();
        if finished {
            return;
        }
        tracing::warn!(
            ?timeout,
            "the sending queue did not drain within its drain_timeout; abandoning what is left"
        );
        let flushes =
            std::mem::take(&mut *self.flushes.lock().unwrap_or_else(PoisonError::into_inner));
        let flusher = self.flusher.take().map(|(handle, _)| handle);
        let handles: Vec<JoinHandle<()>> = self
            .workers
            .drain(..)
            .chain(flusher)
            .chain(flushes)
            .collect();
        for handle in &handles {
            handle.abort();
        }
        for handle in handles {
            let _ = handle.await;
        }
        if let Some(batcher) = &context.batcher {
            let pending = batcher.take_all();
            let items = pending.iter().map(Batch::items).sum();
            drop(pending);
            context.lost(items, "still being batched when the drain deadline passed");
        }
        let left = context.queue.discard();
        context.lost(left, "still queued when the drain deadline passed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::{ComponentId, Kind};
    use crate::exporterhelper::QueueStorage;
    use crate::exporterhelper::queue::{MemoryQueue, PersistentQueue};
    use crate::exporterhelper::testing::{Script, numbered};
    use crate::exporterhelper::{Limit, Sizer};
    use crate::extensions::file_storage::{FileStorage, FileStorageConfig};
    use crate::pdata::{Signal, Traces};
    use crate::telemetry::Gauge;

    fn settings() -> CreateSettings {
        CreateSettings::standalone(
            Kind::Exporter,
            "otlp".parse().unwrap(),
            Some(Signal::Traces),
        )
    }

    /// Waits (in virtual or real time) until `check` holds.
    async fn eventually(mut check: impl FnMut() -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while !check() {
            assert!(
                std::time::Instant::now() < deadline,
                "condition not reached"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_panic_in_the_chain_costs_no_worker_and_a_memory_queue_counts_the_loss() {
        let queue = Arc::new(MemoryQueue::<Traces>::new(
            Limit {
                sizer: Sizer::Requests,
                capacity: 100,
            },
            None,
            false,
            false,
            Gauge::default(),
            Counter::default(),
        ));
        let chain = Script::delayed(Duration::from_secs(1));
        chain.panic_next(2);
        let send_failed = Counter::default();
        let running = start(
            &settings(),
            Arc::clone(&queue) as Arc<dyn Queue<Traces>>,
            Arc::clone(&chain) as Arc<dyn Sender<Traces>>,
            None,
            2,
            send_failed.clone(),
        );
        queue.offer(numbered([0, 1])).await.unwrap();
        queue.offer(numbered([2, 3, 4])).await.unwrap();
        eventually(|| chain.calls() == 2 && chain.in_flight() == 0).await;
        // Never reported delivered: counted as lost, and their room in the queue freed.
        assert!(chain.received().is_empty());
        assert_eq!(send_failed.get(), 5);
        assert_eq!(queue.size(), 0);

        // Both workers are back: two requests are exported at once.
        queue.offer(numbered([5])).await.unwrap();
        queue.offer(numbered([6])).await.unwrap();
        eventually(|| chain.in_flight() == 2).await;
        eventually(|| chain.received().len() == 2).await;
        running.drain(Duration::from_secs(5)).await;
    }

    #[tokio::test]
    async fn a_request_whose_export_panicked_stays_in_a_persistent_queue_and_is_delivered() {
        let dir = tempfile::tempdir().unwrap();
        let storage = FileStorage::new(
            &CreateSettings::standalone(Kind::Extension, "file_storage".parse().unwrap(), None),
            FileStorageConfig {
                directory: dir.path().to_path_buf(),
                ..FileStorageConfig::default()
            },
        );
        let exporter: ComponentId = "otlp".parse().unwrap();
        let stored = storage.open_queue(&exporter, Signal::Traces).await.unwrap();
        let queue = Arc::new(PersistentQueue::<Traces>::new(
            stored,
            Limit {
                sizer: Sizer::Requests,
                capacity: 100,
            },
            false,
            Gauge::default(),
            Counter::default(),
        ));
        let chain = Script::ok();
        chain.panic_next(1);
        let send_failed = Counter::default();
        let running = start(
            &settings(),
            Arc::clone(&queue) as Arc<dyn Queue<Traces>>,
            Arc::clone(&chain) as Arc<dyn Sender<Traces>>,
            None,
            1,
            send_failed.clone(),
        );
        queue.offer(numbered([7])).await.unwrap();
        eventually(|| chain.received().len() == 1).await;
        assert_eq!(chain.received_ids(), [7]);
        assert_eq!(
            chain.calls(),
            2,
            "the panicked attempt, then the redelivery"
        );
        assert_eq!(send_failed.get(), 0);
        running.drain(Duration::from_secs(5)).await;
    }
}
