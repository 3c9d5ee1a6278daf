//! The batch processor: requests go into their partition's pending batch; full batches
//! and batches whose time ran out are handed downstream by tasks of their own, and every
//! caller is answered with the outcome of the batches its data went out in.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;
use tokio_util::task::TaskTracker;
use tracing::Instrument;
use tributary_pipeline_core::component::{Component, ComponentError, CreateSettings};
use tributary_pipeline_core::consumer::{Capabilities, ConsumeError, Consumer, Next};
use tributary_pipeline_core::pdata::{ClientMetadata, OtlpRequest, Payload};

use super::Config;
use super::accumulator::{Accumulator, Batch};
use super::metrics::{BatchMetrics, Trigger};
use super::outcome::{self, Outcome, Waiter};
use super::partition::{Lookup, Partition, Partitions};

/// A partition unused for this many batch timeouts is removed...
const IDLE_TIMEOUTS: u32 = 10;
/// ... but never sooner than this, so a short timeout does not churn partitions...
const MIN_IDLE: Duration = Duration::from_secs(1);
/// ... nor later than this: only partitions holding no data are removed, so a very long
/// `timeout` need not keep empty ones.
const MAX_IDLE: Duration = Duration::from_secs(3600);

/// A pending request, cut into pieces of at most `send_batch_max_size` items, with their
/// item counts.
type Chunks<R> = Vec<(Payload<R>, usize)>;

/// The `batch` processor for one pipeline and one signal.
pub(crate) struct BatchProcessor<R: OtlpRequest> {
    batcher: Arc<Batcher<R>>,
}

impl<R: OtlpRequest> BatchProcessor<R> {
    pub fn new(settings: &CreateSettings, config: &Config, next: Next<Payload<R>>) -> Self {
        let mut keys: Vec<String> = config
            .metadata_keys
            .iter()
            .map(|k| k.to_ascii_lowercase())
            .collect();
        keys.sort();
        let metrics = BatchMetrics::new(settings.metrics(), settings.id());
        BatchProcessor {
            batcher: Arc::new(Batcher {
                next,
                send_batch_size: config.send_batch_size as usize,
                send_batch_max_size: config.send_batch_max_size as usize,
                timeout: config.timeout,
                flush_when_quiet: config.flush_when_quiet,
                idle_after: config
                    .timeout
                    .saturating_mul(IDLE_TIMEOUTS)
                    .clamp(MIN_IDLE, MAX_IDLE),
                partitions: Partitions::new(
                    keys,
                    config.metadata_cardinality_limit as usize,
                    metrics.cardinality.clone(),
                ),
                tasks: TaskTracker::new(),
                metrics,
                settings: settings.clone(),
            }),
        }
    }
}

#[async_trait]
impl<R: OtlpRequest> Component for BatchProcessor<R> {
    /// Sends everything pending and waits until every batch sent so far was answered
    /// downstream. Data arriving afterwards is passed straight through.
    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.batcher.shutdown().await;
        Ok(())
    }
}

#[async_trait]
impl<R: OtlpRequest> Consumer<Payload<R>> for BatchProcessor<R> {
    async fn consume(&self, data: Payload<R>) -> Result<(), ConsumeError> {
        self.batcher.consume(data).await
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { mutates_data: true }
    }
}

/// The state shared by a processor and its tasks.
struct Batcher<R: OtlpRequest> {
    next: Next<Payload<R>>,
    send_batch_size: usize,
    /// 0: no limit.
    send_batch_max_size: usize,
    timeout: Duration,
    /// Zero: off.
    flush_when_quiet: Duration,
    idle_after: Duration,
    partitions: Partitions<R>,
    /// Timer tasks and batches on their way downstream; shutdown waits for them.
    tasks: TaskTracker,
    metrics: BatchMetrics,
    settings: CreateSettings,
}

/// What a partition's timer task waits for.
#[derive(Clone, Copy)]
enum Wake {
    /// The open batch's deadline, or the moment it would have been quiet for
    /// `flush_when_quiet`, whichever comes first.
    Flush(Instant),
    /// The moment the partition counts as idle.
    Idle(Instant),
}

impl<R: OtlpRequest> Batcher<R> {
    async fn consume(self: &Arc<Self>, data: Payload<R>) -> Outcome {
        let items = data.item_count();
        if items == 0 {
            // Nothing to batch (a request of empty resources): pass it on unchanged.
            return self.next.consume(data).await;
        }
        if self.timeout.is_zero() || self.send_batch_size == 0 {
            return self.forward(self.chunks(data, items)).await;
        }
        let key = self.partitions.key_of(data.metadata().map(|m| &**m));
        let mut chunks = self.chunks(data, items);
        loop {
            let partition = match self.partitions.get_or_create(&key, || {
                Accumulator::new(self.send_batch_size, self.send_batch_max_size)
            }) {
                Lookup::Found(partition) => partition,
                Lookup::Created(partition) => {
                    self.start_timer(&partition);
                    partition
                }
                Lookup::TooMany => {
                    return Err(ConsumeError::permanent(
                        "too many batcher metadata-value combinations",
                    ));
                }
                Lookup::ShutDown => return self.forward(chunks).await,
            };
            match self.add(&partition, chunks) {
                Ok(waiters) => return outcome::all(waiters).await,
                // The partition went idle and was removed just now: use its successor.
                Err(returned) => chunks = returned,
            }
        }
    }

    /// `data` in pieces of at most `send_batch_max_size` items.
    fn chunks(&self, data: Payload<R>, items: usize) -> Chunks<R> {
        if self.send_batch_max_size == 0 || items <= self.send_batch_max_size {
            return vec![(data, items)];
        }
        data.split(self.send_batch_max_size)
            .into_iter()
            .map(|piece| {
                let items = piece.item_count();
                (piece, items)
            })
            .collect()
    }

    /// Hands each chunk downstream as a batch of its own, concurrently: with a zero
    /// `timeout` or `send_batch_size`, and after shutdown.
    async fn forward(&self, chunks: Chunks<R>) -> Outcome {
        let sends = chunks.into_iter().map(|(chunk, items)| {
            self.metrics.record_send(items, Trigger::Size);
            self.next.consume(chunk)
        });
        outcome::worst(futures_util::future::join_all(sends).await)
    }

    /// Adds a request's chunks to `partition`, dispatching the batches they fill. Returns a
    /// waiter for every batch holding some of the request, or the chunks if the partition
    /// was closed meanwhile.
    fn add(&self, partition: &Partition<R>, chunks: Chunks<R>) -> Result<Vec<Waiter>, Chunks<R>> {
        let mut ready = Vec::new();
        let mut waiters = Vec::new();
        {
            let mut state = partition.state();
            if state.closed {
                return Err(chunks);
            }
            let opens_batch = state.pending.is_empty();
            // Items pending before this request's: a batch cut now holds some of this
            // request only if it is longer than that.
            let mut ahead = state.pending.items();
            for (chunk, items) in chunks {
                state.pending.push(chunk, items);
                while let Some(batch) = state.pending.take_full() {
                    if batch.items > ahead {
                        waiters.push(batch.completion.waiter());
                        ahead = 0;
                    } else {
                        ahead -= batch.items;
                    }
                    ready.push(batch);
                }
            }
            let now = Instant::now();
            state.last_used = now;
            if state.pending.is_empty() {
                state.deadline = None;
            } else {
                // The rest of this request waits for the next batch.
                waiters.push(state.pending.waiter());
                if opens_batch || !ready.is_empty() {
                    let had_deadline = state.deadline.is_some();
                    state.deadline = Some(now + self.timeout);
                    if !had_deadline {
                        partition.opened.notify_one();
                    }
                }
            }
        }
        for batch in ready {
            self.dispatch(partition, batch, Trigger::Size);
        }
        Ok(waiters)
    }

    /// Sends `batch` downstream on a task of its own and publishes the outcome to its
    /// waiters, so the partition keeps filling the next batch meanwhile.
    fn dispatch(&self, partition: &Partition<R>, batch: Batch<R>, trigger: Trigger) {
        self.metrics.record_send(batch.items, trigger);
        let next = Arc::clone(&self.next);
        let fallback = Arc::clone(&partition.metadata);
        let send = async move {
            let Batch {
                pieces,
                items,
                completion,
            } = batch;
            let outcome = next.consume(assemble(pieces, fallback)).await;
            if let Err(error) = &outcome {
                tracing::debug!(items, %error, "batch not accepted downstream");
            }
            completion.complete(outcome);
        };
        self.spawn(send);
    }

    fn start_timer(self: &Arc<Self>, partition: &Arc<Partition<R>>) {
        tracing::debug!(parent: self.settings.span(), "batcher partition created");
        self.spawn(Arc::clone(self).run_timer(Arc::clone(partition)));
    }

    /// A partition's timer: sends the open batch when its deadline passes, and removes the
    /// partition once it has been idle for `idle_after`.
    async fn run_timer(self: Arc<Self>, partition: Arc<Partition<R>>) {
        loop {
            let wake = {
                let state = partition.state();
                if state.closed {
                    return;
                }
                match state.deadline {
                    Some(deadline) if self.flush_when_quiet.is_zero() => Wake::Flush(deadline),
                    Some(deadline) => {
                        Wake::Flush(deadline.min(state.last_used + self.flush_when_quiet))
                    }
                    None => Wake::Idle(state.last_used + self.idle_after),
                }
            };
            let (Wake::Flush(at) | Wake::Idle(at)) = wake;
            tokio::select! {
                () = tokio::time::sleep_until(at) => {}
                () = partition.opened.notified() => continue,
            }
            match wake {
                Wake::Flush(_) => {
                    let (batches, trigger) = {
                        let mut state = partition.state();
                        if state.closed {
                            return;
                        }
                        let now = Instant::now();
                        let quiet = !self.flush_when_quiet.is_zero()
                            && state.last_used + self.flush_when_quiet <= now;
                        match state.deadline {
                            // Not moved later by a send meanwhile.
                            Some(deadline) if deadline <= now => {
                                state.deadline = None;
                                (state.pending.take_all(), Trigger::Timeout)
                            }
                            // No data arrived meanwhile.
                            Some(_) if quiet => {
                                state.deadline = None;
                                (state.pending.take_all(), Trigger::Quiet)
                            }
                            _ => (Vec::new(), Trigger::Timeout),
                        }
                    };
                    for batch in batches {
                        self.dispatch(&partition, batch, trigger);
                    }
                }
                Wake::Idle(_) => {
                    if self.partitions.remove_if_idle(&partition, self.idle_after) {
                        tracing::debug!("idle batcher partition removed");
                        return;
                    }
                }
            }
        }
    }

    async fn shutdown(&self) {
        for partition in self.partitions.shut_down() {
            let batches = {
                let mut state = partition.state();
                state.closed = true;
                state.deadline = None;
                state.pending.take_all()
            };
            partition.opened.notify_one();
            for batch in batches {
                self.dispatch(&partition, batch, Trigger::Timeout);
            }
        }
        self.tasks.close();
        self.tasks.wait().await;
    }

    /// Runs `task` on behalf of the processor: logged under its ID, reported if it
    /// panics, and awaited by shutdown.
    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let task = task.instrument(self.settings.span().clone());
        self.settings.spawn(self.tasks.track_future(task));
    }
}

/// Merges a batch's pieces into one request. The batch keeps its requests' client
/// metadata when they all arrived with the same; otherwise it carries `fallback` (the
/// partition's key values), so one client's metadata never travels with another's data.
fn assemble<R: OtlpRequest>(pieces: Vec<Payload<R>>, fallback: Arc<ClientMetadata>) -> Payload<R> {
    let first = pieces.first().and_then(|p| p.metadata().cloned());
    let shared = pieces
        .iter()
        .all(|p| same_metadata(p.metadata(), first.as_ref()));
    let payload = Payload::concat(pieces);
    if shared {
        payload
    } else {
        payload.with_metadata(fallback)
    }
}

fn same_metadata(a: Option<&Arc<ClientMetadata>>, b: Option<&Arc<ClientMetadata>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
        (None, None) => true,
        (Some(m), None) | (None, Some(m)) => m.is_empty(),
    }
}
