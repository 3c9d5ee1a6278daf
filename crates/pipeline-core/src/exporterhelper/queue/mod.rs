//! Sending queues: where accepted requests wait for an export worker.
//!
//! A queue's size counts every request it accepted until that request's
//! [`Completion`] fires — while it waits, while it is batched, and while it is exported
//! or retried — so a queue full of requests stuck in retries refuses new data, exactly
//! like the Go Collector's.
//!
//! * [`MemoryQueue`]: a bounded FIFO in memory. On shutdown it drains: what is left is
//!   exported (one attempt each, retries already stopped) until the drain deadline.
//! * [`PersistentQueue`]: a [`StoredQueue`](super::StoredQueue) from a storage extension.
//!   On shutdown nothing needs draining: queued and interrupted requests stay stored and
//!   are delivered after the next start.

mod memory;
mod persistent;
mod record;

use async_trait::async_trait;

use super::Sizer;
use crate::consumer::ConsumeError;
use crate::pdata::SignalData;

pub(crate) use memory::MemoryQueue;
pub(crate) use persistent::PersistentQueue;
pub(crate) use record::{decode_record, encode_record};

/// How the delivery of one queued request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Outcome {
    /// The backend accepted it.
    Delivered,
    /// Given up on for good (a permanent error, or retries exhausted).
    Dropped,
    /// Cut short by shutdown: a persistent queue delivers it again after the restart.
    Interrupted,
}

/// What must be done once a request's delivery ends: release its queue space, and for a
/// persistent queue, delete or keep its record. Dropping it unfired counts as
/// [`Outcome::Interrupted`], so a request abandoned by an aborted task is never lost
/// from a persistent queue.
pub(crate) struct Completion(Option<Box<dyn FnOnce(Outcome) + Send>>);

impl Completion {
    pub fn new(on_done: impl FnOnce(Outcome) + Send + 'static) -> Self {
        Completion(Some(Box::new(on_done)))
    }

    /// Reports how delivery ended.
    pub fn complete(mut self, outcome: Outcome) {
        if let Some(on_done) = self.0.take() {
            on_done(outcome);
        }
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        if let Some(on_done) = self.0.take() {
            on_done(Outcome::Interrupted);
        }
    }
}

/// A request taken from a queue, with what to do when its delivery ends.
pub(crate) struct Delivery<T> {
    pub data: T,
    pub done: Completion,
}

/// A sending queue.
#[async_trait]
pub(crate) trait Queue<T: SignalData>: Send + Sync + 'static {
    /// Accepts `data`, or refuses it: a retryable "queue full" error (or, when
    /// blocking on overflow, waits for room), a retryable error while shutting down or
    /// when storage fails, a permanent one if `data` alone exceeds the capacity.
    async fn offer(&self, data: T) -> Result<(), ConsumeError>;

    /// The next request to export; `None` once the queue is closed and has nothing more
    /// to hand out.
    async fn next(&self) -> Option<Delivery<T>>;

    /// Stops accepting data and wakes blocked offers. A memory queue still hands out what
    /// it holds; a persistent queue hands out nothing more.
    fn close(&self);

    /// Whether requests whose delivery was interrupted are kept for later.
    fn is_durable(&self) -> bool;

    /// Drops what the queue still holds after an abandoned drain; returns the number of
    /// items dropped (zero for a persistent queue, which keeps them).
    fn discard(&self) -> usize;
}

/// The size of `data` in `sizer`'s unit.
pub(crate) fn size_of<T: SignalData>(sizer: Sizer, data: &T) -> u64 {
    match sizer {
        Sizer::Requests => 1,
        Sizer::Items => data.item_count() as u64,
        Sizer::Bytes => data.encoded_len() as u64,
    }
}

/// The unit of `sizer`, for messages.
pub(crate) fn unit(sizer: Sizer) -> &'static str {
    match sizer {
        Sizer::Requests => "requests",
        Sizer::Items => "items",
        Sizer::Bytes => "bytes",
    }
}

/// The error for a request that can never fit.
pub(crate) fn too_large(size: u64, capacity: u64, sizer: Sizer) -> ConsumeError {
    ConsumeError::permanent(format!(
        "the request ({size} {unit}) is larger than the sending queue's whole capacity ({capacity} {unit})",
        unit = unit(sizer)
    ))
}

/// The error for a full queue: retryable, so receivers answer 503 / UNAVAILABLE.
pub(crate) fn queue_full() -> ConsumeError {
    ConsumeError::retryable("sending queue is full")
}

/// The error for data offered while the exporter shuts down.
pub(crate) fn shutting_down() -> ConsumeError {
    ConsumeError::retryable("the exporter is shutting down")
}
