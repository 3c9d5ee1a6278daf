//! Test doubles for the exporter helper's tests: payloads and a scripted backend.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::Export;
use super::sender::{SendError, Sender};
use crate::consumer::ConsumeError;
use crate::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use crate::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use crate::pdata::{ClientMetadata, Traces};

/// `n` spans, named `0`, `1`, ...
pub(crate) fn spans(n: usize) -> Traces {
    numbered(0..n as u64)
}

/// One span per number, named by it, so tests can tell which arrived.
pub(crate) fn numbered(ids: impl IntoIterator<Item = u64>) -> Traces {
    Traces::new(ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: ids
                    .into_iter()
                    .map(|id| Span {
                        name: id.to_string(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    })
}

/// The span names of a payload, as numbers.
pub(crate) fn ids(data: &Traces) -> Vec<u64> {
    data.request()
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .filter_map(|s| s.name.parse().ok())
        .collect()
}

/// Client metadata with one `tenant` value.
pub(crate) fn tenant(name: &str) -> Arc<ClientMetadata> {
    let mut metadata = ClientMetadata::new();
    metadata.insert("tenant", name);
    metadata.insert("x-other", "1");
    Arc::new(metadata)
}

/// A backend that answers from a script, then with a fallback answer; it records what it
/// received and when.
pub(crate) struct Script {
    script: Mutex<VecDeque<Result<(), ConsumeError>>>,
    fallback: Mutex<Option<Result<(), ConsumeError>>>,
    fallback_changed: tokio::sync::Notify,
    delay: Mutex<Option<Duration>>,
    calls: AtomicUsize,
    received: Mutex<Vec<Traces>>,
    call_times: Mutex<Vec<Instant>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Calls still to panic, before anything else.
    panics: AtomicUsize,
}

impl Script {
    fn new(
        script: Vec<Result<(), ConsumeError>>,
        fallback: Option<Result<(), ConsumeError>>,
        delay: Option<Duration>,
    ) -> Arc<Script> {
        Arc::new(Script {
            script: Mutex::new(script.into()),
            fallback: Mutex::new(fallback),
            fallback_changed: tokio::sync::Notify::new(),
            delay: Mutex::new(delay),
            calls: AtomicUsize::new(0),
            received: Mutex::new(Vec::new()),
            call_times: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            panics: AtomicUsize::new(0),
        })
    }

    /// Answers from `script` in turn, then with `fallback` (`None`: never answer).
    pub fn sequence(
        script: Vec<Result<(), ConsumeError>>,
        fallback: Option<Result<(), ConsumeError>>,
    ) -> Arc<Script> {
        Self::new(script, fallback, None)
    }

    /// Accepts everything.
    pub fn ok() -> Arc<Script> {
        Self::new(Vec::new(), Some(Ok(())), None)
    }

    /// Fails with `errors` in turn, then accepts.
    pub fn failing(errors: Vec<ConsumeError>) -> Arc<Script> {
        Self::new(errors.into_iter().map(Err).collect(), Some(Ok(())), None)
    }

    /// Always fails with `error` (until [`set_fallback`](Self::set_fallback)).
    pub fn always(error: ConsumeError) -> Arc<Script> {
        Self::new(Vec::new(), Some(Err(error)), None)
    }

    /// Never answers (until [`set_fallback`](Self::set_fallback)).
    pub fn hanging() -> Arc<Script> {
        Self::new(Vec::new(), None, None)
    }

    /// Accepts everything after `delay`.
    pub fn delayed(delay: Duration) -> Arc<Script> {
        Self::new(Vec::new(), Some(Ok(())), Some(delay))
    }

    /// Changes the answer given once the script is used up (`None`: never answer); calls
    /// hanging for an answer get the new one.
    pub fn set_fallback(&self, answer: Option<Result<(), ConsumeError>>) {
        *self.fallback.lock().unwrap() = answer;
        self.fallback_changed.notify_waiters();
    }

    /// Changes how long each call takes.
    pub fn set_delay(&self, delay: Option<Duration>) {
        *self.delay.lock().unwrap() = delay;
    }

    /// Makes the next `calls` calls panic (after their delay) instead of answering.
    pub fn panic_next(&self, calls: usize) {
        self.panics.store(calls, Ordering::SeqCst);
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    pub fn received(&self) -> Vec<Traces> {
        self.received.lock().unwrap().clone()
    }

    /// The ids of every span received, in arrival order.
    pub fn received_ids(&self) -> Vec<u64> {
        self.received().iter().flat_map(ids).collect()
    }

    pub fn call_times(&self) -> Vec<Instant> {
        self.call_times.lock().unwrap().clone()
    }

    /// The calls in progress now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// The most calls that were in progress at once.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    async fn answer(&self, data: Traces) -> Result<(), ConsumeError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.call_times.lock().unwrap().push(Instant::now());
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let _leave = Leave(&self.in_flight);
        let delay = *self.delay.lock().unwrap();
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        let panics = self
            .panics
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if panics.is_ok() {
            panic!("scripted panic");
        }
        if let Some(answer) = self.script.lock().unwrap().pop_front() {
            return self.give(answer, data);
        }
        // No scripted answer: the fallback, or hang until one is set.
        loop {
            let changed = self.fallback_changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if let Some(answer) = self.fallback.lock().unwrap().clone() {
                return self.give(answer, data);
            }
            changed.await;
        }
    }

    fn give(&self, answer: Result<(), ConsumeError>, data: Traces) -> Result<(), ConsumeError> {
        if answer.is_ok() {
            self.received.lock().unwrap().push(data);
        }
        answer
    }
}

struct Leave<'a>(&'a AtomicUsize);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl Sender<Traces> for Script {
    async fn send(&self, data: Traces) -> Result<(), SendError> {
        self.answer(data).await.map_err(SendError::failed)
    }
}

#[async_trait]
impl Export<Traces> for Script {
    async fn export(&self, data: Traces) -> Result<(), ConsumeError> {
        self.answer(data).await
    }
}

/// An [`Export`] that forwards to a shared [`Script`].
pub(crate) struct Backend(pub Arc<Script>);

#[async_trait]
impl Export<Traces> for Backend {
    async fn export(&self, data: Traces) -> Result<(), ConsumeError> {
        self.0.answer(data).await
    }
}
