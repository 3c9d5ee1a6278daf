//! [`Sink`]: the next consumer of a component under test.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Semaphore;

use crate::component::Component;
use crate::consumer::{ConsumeError, Consumer, Next};
use crate::pdata::SignalData;

/// How a [`Sink`] answers one call.
#[derive(Debug)]
pub enum Reply {
    /// Accept the data.
    Accept,
    /// Refuse it with this error (permanent, retryable or throttled).
    Refuse(ConsumeError),
    /// Accept once the semaphore gives a permit: the call waits until the test opens it.
    AcceptWhenOpened(Arc<Semaphore>),
}

/// A consumer that records what it is given and answers as the test scripts it: the next
/// stage of a receiver or processor under test, or a stand-in exporter (it is a
/// [`Component`] too).
///
/// Answers come from the one-shot script ([`then`](Sink::then)) first, then from the
/// standing answer ([`refuse_with`](Sink::refuse_with), [`hold`](Sink::hold)); with
/// neither, it accepts.
///
/// ```
/// use tributary_pipeline_core::consumer::{ConsumeError, Consumer};
/// use tributary_pipeline_core::pdata::Traces;
/// use tributary_pipeline_core::testing::{Reply, Sink};
///
/// # tokio_test_block_on(async {
/// let sink = Sink::<Traces>::new();
/// sink.then(Reply::Refuse(ConsumeError::retryable("backend down")));
/// assert!(sink.consume(Traces::default()).await.is_err());
/// assert!(sink.consume(Traces::default()).await.is_ok());
/// assert_eq!((sink.received().len(), sink.accepted().len()), (2, 1));
/// # });
/// # fn tokio_test_block_on(f: impl std::future::Future<Output = ()>) {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
pub struct Sink<T> {
    received: Mutex<Vec<T>>,
    accepted: Mutex<Vec<T>>,
    script: Mutex<VecDeque<Reply>>,
    refusal: Mutex<Option<ConsumeError>>,
    gate: Mutex<Option<Arc<Semaphore>>>,
    calls: AtomicUsize,
    changed: tokio::sync::Notify,
}

impl<T: SignalData> Sink<T> {
    /// A sink that accepts everything, shared as the next consumer is.
    pub fn new() -> Arc<Self> {
        Arc::new(Sink {
            received: Mutex::new(Vec::new()),
            accepted: Mutex::new(Vec::new()),
            script: Mutex::new(VecDeque::new()),
            refusal: Mutex::new(None),
            gate: Mutex::new(None),
            calls: AtomicUsize::new(0),
            changed: tokio::sync::Notify::new(),
        })
    }

    /// The sink as the next consumer of a component.
    pub fn next(self: &Arc<Self>) -> Next<T> {
        Arc::clone(self) as Next<T>
    }

    /// Answers the next call not yet scripted with `reply`.
    pub fn then(&self, reply: Reply) {
        self.script.lock().unwrap().push_back(reply);
    }

    /// Answers every later unscripted call with `error`; `None` accepts again.
    pub fn refuse_with(&self, error: Option<ConsumeError>) {
        *self.refusal.lock().unwrap() = error;
    }

    /// Makes every later unscripted call wait for a permit of the returned semaphore
    /// before it is answered.
    pub fn hold(&self) -> Arc<Semaphore> {
        let gate = Arc::new(Semaphore::new(0));
        *self.gate.lock().unwrap() = Some(Arc::clone(&gate));
        gate
    }

    /// Every batch that arrived, in order, whatever it was answered.
    pub fn received(&self) -> Vec<T> {
        self.received.lock().unwrap().clone()
    }

    /// The batches that were accepted, in order.
    pub fn accepted(&self) -> Vec<T> {
        self.accepted.lock().unwrap().clone()
    }

    /// Items (spans, data points, log records) in the accepted batches.
    pub fn accepted_items(&self) -> usize {
        self.accepted
            .lock()
            .unwrap()
            .iter()
            .map(SignalData::item_count)
            .sum()
    }

    /// How many calls arrived (accepted, refused or still waiting).
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Waits until at least `items` items were accepted; panics after `timeout`.
    pub async fn wait_for_items(&self, items: usize, timeout: Duration) {
        let waited = tokio::time::timeout(timeout, async {
            loop {
                let changed = self.changed.notified();
                if self.accepted_items() >= items {
                    return;
                }
                changed.await;
            }
        })
        .await;
        assert!(
            waited.is_ok(),
            "{} items accepted after {timeout:?}, expected {items}",
            self.accepted_items()
        );
    }

    fn reply(&self) -> Reply {
        if let Some(reply) = self.script.lock().unwrap().pop_front() {
            return reply;
        }
        if let Some(error) = self.refusal.lock().unwrap().clone() {
            return Reply::Refuse(error);
        }
        match self.gate.lock().unwrap().clone() {
            Some(gate) => Reply::AcceptWhenOpened(gate),
            None => Reply::Accept,
        }
    }
}

#[async_trait]
impl<T: SignalData> Consumer<T> for Sink<T> {
    async fn consume(&self, data: T) -> Result<(), ConsumeError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.received.lock().unwrap().push(data.clone());
        let answer = match self.reply() {
            Reply::Accept => Ok(()),
            Reply::Refuse(error) => Err(error),
            Reply::AcceptWhenOpened(gate) => {
                gate.acquire()
                    .await
                    .expect("the gate is never closed")
                    .forget();
                Ok(())
            }
        };
        if answer.is_ok() {
            self.accepted.lock().unwrap().push(data);
        }
        self.changed.notify_waiters();
        answer
    }
}

impl<T: SignalData> Component for Sink<T> {}

/// A consumer that accepts and drops everything: the next stage of a component whose
/// output the test does not look at.
#[derive(Clone, Copy, Debug, Default)]
pub struct Discard;

#[async_trait]
impl<T: SignalData> Consumer<T> for Discard {
    async fn consume(&self, _data: T) -> Result<(), ConsumeError> {
        Ok(())
    }
}

impl Component for Discard {}

/// [`Discard`] as a next consumer.
pub fn discard<T: SignalData>() -> Next<T> {
    Arc::new(Discard)
}
