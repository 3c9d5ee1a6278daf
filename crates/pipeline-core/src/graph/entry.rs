//! The two joints of a running graph that make reloads seamless: a pipeline's entry and a
//! receiver's switchable output.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use async_trait::async_trait;
use futures_util::FutureExt;
use tokio::sync::Notify;

use crate::component::{ComponentStatus, PipelineId, StatusReporter, panic_message};
use crate::consumer::{Capabilities, ConsumeError, Consumer, Next};
use crate::pdata::SignalData;

/// The front of a pipeline: counts calls in flight (so a reload can wait for them before
/// shutting the pipeline's processors down), turns a panic below into an error and a
/// reported status instead of a dead connection, and, once closed by a reload, hands late
/// calls to the pipeline that replaced it.
pub(crate) struct PipelineEntry<T: SignalData> {
    pipeline: PipelineId,
    consumer: Next<T>,
    status: StatusReporter,
    inflight: AtomicUsize,
    closed: AtomicBool,
    drained: Notify,
    successor: OnceLock<Option<Next<T>>>,
    started: Instant,
    /// Milliseconds since `started` of the last call that completed.
    last_progress_ms: AtomicU64,
    /// Milliseconds since `started` at which the calls now in flight began to be in flight
    /// without a break (meaningful only while `inflight` is not zero).
    busy_since_ms: AtomicU64,
    completed: AtomicU64,
}

/// Decrements the in-flight count when a call ends, however it ends.
struct InflightGuard<'a, T: SignalData>(&'a PipelineEntry<T>);

impl<T: SignalData> Drop for InflightGuard<'_, T> {
    fn drop(&mut self) {
        if self.0.inflight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.drained.notify_waiters();
        }
    }
}

/// What a health check needs to know about a pipeline's progress.
///
/// A call starts when a receiver hands the pipeline a batch and completes when the
/// pipeline (its processors and the fanout to its exporters) returns, successfully or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PipelineProgress {
    /// Calls in flight now.
    pub inflight: usize,
    /// Calls completed since the pipeline started.
    pub completed: u64,
    /// Time since the last call completed (or since the pipeline started).
    pub idle_for: Duration,
    /// Time for which at least one call has been in flight without a break; zero when
    /// none is.
    pub busy_for: Duration,
}

impl PipelineProgress {
    /// How long the pipeline has had calls in flight while none completed: the shorter of
    /// [`busy_for`](Self::busy_for) and [`idle_for`](Self::idle_for), zero when nothing is
    /// in flight. An idle pipeline (nothing in flight) is not stalled, however long it
    /// waits for data; a pipeline that just received a batch after a long pause is not
    /// stalled either, because its call has only just begun.
    pub fn stalled_for(&self) -> Duration {
        if self.inflight == 0 {
            Duration::ZERO
        } else {
            self.busy_for.min(self.idle_for)
        }
    }
}

impl<T: SignalData> PipelineEntry<T> {
    pub(crate) fn new(pipeline: PipelineId, consumer: Next<T>, status: StatusReporter) -> Self {
        PipelineEntry {
            pipeline,
            consumer,
            status,
            inflight: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            drained: Notify::new(),
            successor: OnceLock::new(),
            started: Instant::now(),
            last_progress_ms: AtomicU64::new(0),
            busy_since_ms: AtomicU64::new(0),
            completed: AtomicU64::new(0),
        }
    }

    fn elapsed_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    pub(crate) fn progress(&self) -> PipelineProgress {
        let inflight = self.inflight.load(Ordering::SeqCst);
        let busy_since = Duration::from_millis(self.busy_since_ms.load(Ordering::SeqCst));
        let last = Duration::from_millis(self.last_progress_ms.load(Ordering::Relaxed));
        let now = self.started.elapsed();
        PipelineProgress {
            inflight,
            completed: self.completed.load(Ordering::Relaxed),
            idle_for: now.saturating_sub(last),
            busy_for: if inflight == 0 {
                Duration::ZERO
            } else {
                now.saturating_sub(busy_since)
            },
        }
    }

    /// Counts a call in. When it is the only one, the busy period's start is recorded
    /// *before* the count makes the call visible, so a reader that sees calls in flight
    /// never pairs them with the start of an earlier busy period (which would make a
    /// pipeline that just received a batch after a long pause look stalled).
    fn enter(&self) {
        let mut current = self.inflight.load(Ordering::SeqCst);
        loop {
            if current == 0 {
                self.busy_since_ms
                    .store(self.elapsed_ms(), Ordering::SeqCst);
            }
            match self.inflight.compare_exchange_weak(
                current,
                current + 1,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return,
                Err(actual) => current = actual,
            }
        }
    }

    /// Stops taking calls (late ones go to `successor`, or are refused as retryable if the
    /// pipeline was removed) and waits up to `timeout` for the calls in flight to finish.
    /// Returns whether they all did.
    pub(crate) async fn close(&self, successor: Option<Next<T>>, timeout: Duration) -> bool {
        let _ = self.successor.set(successor);
        self.closed.store(true, Ordering::SeqCst);
        let wait = async {
            loop {
                let drained = self.drained.notified();
                if self.inflight.load(Ordering::SeqCst) == 0 {
                    return;
                }
                drained.await;
            }
        };
        tokio::time::timeout(timeout, wait).await.is_ok()
    }

    async fn call(&self, data: T, previous: Option<&ConsumeError>) -> Result<(), ConsumeError> {
        self.enter();
        let guard = InflightGuard(self);
        if self.closed.load(Ordering::SeqCst) {
            drop(guard);
            return match self.successor.get().cloned().flatten() {
                Some(next) => next.consume(data).await,
                None => Err(ConsumeError::retryable(format!(
                    "pipeline {} was removed by a configuration reload",
                    self.pipeline
                ))),
            };
        }
        let attempt = match previous {
            Some(previous) => self.consumer.retry(data, previous),
            None => self.consumer.consume(data),
        };
        let outcome = match AssertUnwindSafe(attempt).catch_unwind().await {
            Ok(outcome) => outcome,
            Err(panic) => {
                let message = panic_message(&*panic);
                tracing::error!(otelcol.pipeline.id = %self.pipeline, panic = %message, "pipeline component panicked");
                self.status.report(ComponentStatus::PermanentError(format!(
                    "panicked: {message}"
                )));
                Err(ConsumeError::permanent(format!(
                    "pipeline {} failed: a component panicked: {message}",
                    self.pipeline
                )))
            }
        };
        self.completed.fetch_add(1, Ordering::Relaxed);
        self.last_progress_ms
            .store(self.elapsed_ms(), Ordering::Relaxed);
        drop(guard);
        outcome
    }
}

#[async_trait]
impl<T: SignalData> Consumer<T> for PipelineEntry<T> {
    async fn consume(&self, data: T) -> Result<(), ConsumeError> {
        self.call(data, None).await
    }

    async fn retry(&self, data: T, previous: &ConsumeError) -> Result<(), ConsumeError> {
        self.call(data, Some(previous)).await
    }

    fn capabilities(&self) -> Capabilities {
        self.consumer.capabilities()
    }
}

/// A receiver's output: the consumer it was created with, whose target (the fanout to the
/// pipelines it feeds) a reload can replace while the receiver keeps running.
pub(crate) struct Switch<T: SignalData> {
    target: ArcSwap<Next<T>>,
}

impl<T: SignalData> Switch<T> {
    pub(crate) fn new(target: Next<T>) -> Self {
        Switch {
            target: ArcSwap::from_pointee(target),
        }
    }

    pub(crate) fn set(&self, target: Next<T>) {
        self.target.store(Arc::new(target));
    }
}

#[async_trait]
impl<T: SignalData> Consumer<T> for Switch<T> {
    async fn consume(&self, data: T) -> Result<(), ConsumeError> {
        let target = self.target.load_full();
        target.consume(data).await
    }

    async fn retry(&self, data: T, previous: &ConsumeError) -> Result<(), ConsumeError> {
        let target = self.target.load_full();
        target.retry(data, previous).await
    }

    fn capabilities(&self) -> Capabilities {
        self.target.load().capabilities()
    }
}
