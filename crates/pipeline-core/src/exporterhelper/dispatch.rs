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

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

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

/// What every worker shares.
struct Context<T: SignalData> {
    queue: Arc<dyn Queue<T>>,
    chain: Arc<dyn Sender<T>>,
    batcher: Option<Arc<Batcher<T>>>,
    /// One per export that may run at once.
    permits: Arc<Semaphore>,
    /// Counts items a memory queue loses to shutdown.
    send_failed: Counter,
}

impl<T: SignalData> Context<T> {
    async fn send_request(&self, delivery: Delivery<T>) {
        let items = delivery.data.item_count();
        let guard = LossGuard::new(self, items);
        let result = self.chain.send(delivery.data).await;
        guard.disarm();
        self.report(&result, items);
        delivery.done.complete(outcome(&result));
    }

    async fn send_batch(&self, batch: Batch<T>) {
        let items = batch.items();
        let guard = LossGuard::new(self, items);
        let result = self.chain.send(batch.data.clone()).await;
        guard.disarm();
        self.report(&result, items);
        batch.finish(outcome(&result));
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
    });
    let workers = (0..num_consumers)
        .map(|_| {
            let context = Arc::clone(&context);
            settings.spawn(work(context).instrument(settings.span().clone()))
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

/// One worker's loop.
async fn work<T: SignalData>(context: Arc<Context<T>>) {
    match &context.batcher {
        None => {
            while let Some(delivery) = context.queue.next().await {
                context.send_request(delivery).await;
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
                let Ok(_permit) = context.permits.acquire().await else {
                    return;
                };
                for batch in ready {
                    context.send_batch(batch).await;
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
