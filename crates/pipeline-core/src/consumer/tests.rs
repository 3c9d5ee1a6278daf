use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::*;
use crate::pdata::Traces;
use crate::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use crate::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};

fn spans(n: usize) -> Traces {
    Traces::new(ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span::default(); n],
                ..Default::default()
            }],
            ..Default::default()
        }],
    })
}

/// Records what it received and answers with scripted results (then `Ok`).
#[derive(Default)]
struct Recorder {
    received: Mutex<Vec<Traces>>,
    script: Mutex<Vec<Result<(), ConsumeError>>>,
    calls: AtomicUsize,
}

impl Recorder {
    fn failing_with(errors: Vec<ConsumeError>) -> Arc<Self> {
        Arc::new(Recorder {
            script: Mutex::new(errors.into_iter().map(Err).rev().collect()),
            ..Default::default()
        })
    }
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Consumer<Traces> for Recorder {
    async fn consume(&self, data: Traces) -> Result<(), ConsumeError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.received.lock().unwrap().push(data);
        self.script.lock().unwrap().pop().unwrap_or(Ok(()))
    }
}

/// Never answers.
struct Stuck;

#[async_trait]
impl Consumer<Traces> for Stuck {
    async fn consume(&self, _data: Traces) -> Result<(), ConsumeError> {
        std::future::pending().await
    }
}

/// Edits every payload it receives: drops all spans.
#[derive(Default)]
struct Clearer {
    last: Mutex<Option<Traces>>,
}

#[async_trait]
impl Consumer<Traces> for Clearer {
    async fn consume(&self, mut data: Traces) -> Result<(), ConsumeError> {
        data.make_mut().resource_spans.clear();
        *self.last.lock().unwrap() = Some(data);
        Ok(())
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities { mutates_data: true }
    }
}

fn fanout(branches: Vec<(&str, Next<Traces>)>) -> Next<Traces> {
    Fanout::new(branches).into_consumer()
}

#[test]
fn error_classes_and_display() {
    let p = ConsumeError::permanent("bad span");
    assert!(p.is_permanent() && !p.is_retryable());
    assert_eq!(p.to_string(), "permanent error: bad span");

    let t = ConsumeError::throttled("slow down", Some(Duration::from_secs(2)));
    assert!(t.is_throttled() && t.is_retryable());
    assert_eq!(t.retry_after(), Some(Duration::from_secs(2)));
    assert_eq!(t.to_string(), "throttled: slow down (retry after 2s)");

    let r = ConsumeError::retryable("backend down").context("exporter otlp");
    assert_eq!(r.kind(), ErrorKind::Retryable);
    assert_eq!(r.message(), "exporter otlp: backend down");
}

#[tokio::test]
async fn a_single_branch_is_not_wrapped() {
    let only: Next<Traces> = Arc::new(Recorder::default());
    let consumer = fanout(vec![("a", only.clone())]);
    assert!(Arc::ptr_eq(&only, &consumer));
}

#[tokio::test]
async fn read_only_fanout_copies_nothing() {
    let (a, b, c) = (
        Arc::new(Recorder::default()),
        Arc::new(Recorder::default()),
        Arc::new(Recorder::default()),
    );
    let f = fanout(vec![("a", a.clone()), ("b", b.clone()), ("c", c.clone())]);
    let data = spans(3);
    f.consume(data.clone()).await.unwrap();
    for r in [&a, &b, &c] {
        let got = r.received.lock().unwrap();
        assert!(
            got[0].shares_request_with(&data),
            "every branch shares the original"
        );
    }
}

#[tokio::test]
async fn a_mutating_branch_does_not_affect_its_siblings() {
    let reader = Arc::new(Recorder::default());
    let writer = Arc::new(Clearer::default());
    let f = fanout(vec![("reader", reader.clone()), ("writer", writer.clone())]);
    assert!(f.capabilities().mutates_data);
    f.consume(spans(4)).await.unwrap();
    assert_eq!(reader.received.lock().unwrap()[0].item_count(), 4);
    assert_eq!(
        writer.last.lock().unwrap().as_ref().unwrap().item_count(),
        0
    );
}

#[tokio::test]
async fn a_branch_that_never_returns_does_not_stop_its_sibling() {
    let live = Arc::new(Recorder::default());
    let f = fanout(vec![
        ("stuck", Arc::new(Stuck) as Next<Traces>),
        ("live", live.clone()),
    ]);
    let delivery = tokio::spawn(async move { f.consume(spans(1)).await });
    tokio::time::timeout(Duration::from_secs(5), async {
        while live.calls() == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the live branch received the data while its sibling hung");
    assert!(!delivery.is_finished());
    delivery.abort();
}

#[tokio::test]
async fn partial_failure_names_the_failed_branch() {
    let ok = Arc::new(Recorder::default());
    let down = Recorder::failing_with(vec![ConsumeError::retryable("connection refused")]);
    let f = fanout(vec![("otlp/ok", ok.clone()), ("otlp/down", down.clone())]);
    let err = f.consume(spans(2)).await.unwrap_err();
    assert!(err.is_retryable());
    let failed: Vec<_> = err
        .failed_branches()
        .map(|(name, _)| name.to_string())
        .collect();
    assert_eq!(failed, ["otlp/down"]);
    assert!(
        err.message().contains("1 of 2 destinations failed"),
        "{err}"
    );
    assert!(
        err.message()
            .contains("otlp/down: retryable error: connection refused"),
        "{err}"
    );
}

#[tokio::test]
async fn retry_after_partial_failure_skips_branches_that_succeeded() {
    let ok = Arc::new(Recorder::default());
    let flaky = Recorder::failing_with(vec![
        ConsumeError::retryable("down"),
        ConsumeError::retryable("still down"),
    ]);
    let f = fanout(vec![("ok", ok.clone()), ("flaky", flaky.clone())]);
    let data = spans(1);

    let first = f.consume(data.clone()).await.unwrap_err();
    let second = f.retry(data.clone(), &first).await.unwrap_err();
    assert_eq!(second.failed_branches().count(), 1);
    f.retry(data, &second).await.unwrap();

    assert_eq!(ok.calls(), 1, "the branch that succeeded is never re-sent");
    assert_eq!(flaky.calls(), 3);
}

#[tokio::test]
async fn retry_does_not_resend_to_permanently_failed_branches() {
    let bad = Recorder::failing_with(vec![ConsumeError::permanent("rejected")]);
    let flaky = Recorder::failing_with(vec![ConsumeError::retryable("down")]);
    let f = fanout(vec![("bad", bad.clone()), ("flaky", flaky.clone())]);
    let data = spans(1);
    let first = f.consume(data.clone()).await.unwrap_err();
    assert!(first.is_retryable(), "one branch may still succeed");
    let second = f.retry(data, &first).await.unwrap_err();
    assert!(
        second.is_permanent(),
        "only the permanent failure is left: {second}"
    );
    assert_eq!(bad.calls(), 1);
    assert_eq!(flaky.calls(), 2);
}

#[tokio::test]
async fn nested_fanouts_retry_only_the_failed_leaf() {
    let (a, b) = (Arc::new(Recorder::default()), Arc::new(Recorder::default()));
    let c = Recorder::failing_with(vec![ConsumeError::retryable("down")]);
    let inner = fanout(vec![("b", b.clone()), ("c", c.clone())]);
    let outer = fanout(vec![("a", a.clone()), ("inner", inner)]);
    let data = spans(1);
    let err = outer.consume(data.clone()).await.unwrap_err();
    outer.retry(data, &err).await.unwrap();
    assert_eq!((a.calls(), b.calls(), c.calls()), (1, 1, 2));
}

#[tokio::test]
async fn throttling_wins_and_the_longest_delay_is_kept() {
    let slow = Recorder::failing_with(vec![ConsumeError::throttled(
        "memory",
        Some(Duration::from_secs(3)),
    )]);
    let down = Recorder::failing_with(vec![
        ConsumeError::retryable("down").with_retry_after(Some(Duration::from_secs(1))),
    ]);
    let f = fanout(vec![("slow", slow as Next<Traces>), ("down", down)]);
    let err = f.consume(spans(1)).await.unwrap_err();
    assert!(err.is_throttled());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
}
