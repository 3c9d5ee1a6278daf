//! The two joints of a running graph that make reloads seamless: a pipeline's entry and a
//! receiver's switchable output.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use arc_swap::ArcSwap;
use async_trait::async_trait;
use futures_util::FutureExt;
use tokio::sync::Notify;

use crate::component::{
    ComponentStatus, InFlight, PipelineId, Progress, ProgressTracker, StatusReporter, panic_message,
};
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
    progress: ProgressTracker,
    closed: AtomicBool,
    drained: Notify,
    successor: OnceLock<Option<Next<T>>>,
}

/// A call in flight; when the last one ends, a reload waiting for the pipeline to drain is
/// woken.
struct Call<'a, T: SignalData> {
    entry: &'a PipelineEntry<T>,
    inflight: Option<InFlight<'a>>,
}

impl<T: SignalData> Call<'_, T> {
    fn complete(mut self) {
        if let Some(inflight) = self.inflight.take() {
            inflight.complete();
        }
    }
}

impl<T: SignalData> Drop for Call<'_, T> {
    fn drop(&mut self) {
        drop(self.inflight.take());
        if self.entry.progress.inflight() == 0 {
            self.entry.drained.notify_waiters();
        }
    }
}

impl<T: SignalData> PipelineEntry<T> {
    pub(crate) fn new(pipeline: PipelineId, consumer: Next<T>, status: StatusReporter) -> Self {
        PipelineEntry {
            pipeline,
            consumer,
            status,
            progress: ProgressTracker::new(),
            closed: AtomicBool::new(false),
            drained: Notify::new(),
            successor: OnceLock::new(),
        }
    }

    /// A call starts when a receiver hands the pipeline a batch and completes when the
    /// pipeline (its processors and the fanout to its exporters) returns, successfully or
    /// not.
    pub(crate) fn progress(&self) -> Progress {
        self.progress.snapshot()
    }

    fn enter(&self) -> Call<'_, T> {
        Call {
            entry: self,
            inflight: Some(self.progress.begin()),
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
                if self.progress.inflight() == 0 {
                    return;
                }
                drained.await;
            }
        };
        tokio::time::timeout(timeout, wait).await.is_ok()
    }

    async fn call(&self, data: T, previous: Option<&ConsumeError>) -> Result<(), ConsumeError> {
        let call = self.enter();
        if self.closed.load(Ordering::SeqCst) {
            drop(call);
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
        call.complete();
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
