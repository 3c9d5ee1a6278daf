//! A backend that refuses every request once, slowly, asking to be left alone for an
//! absurd time — the answers a hostile-backend probe used to panic the exporter helper's
//! workers with — and then accepts it. The OTLP exporters' tests put it behind HTTP and
//! gRPC.

use std::collections::{BTreeSet, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tributary_pipeline_core::pdata::Traces;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};

/// How long a refusal takes: over a second, so that adding the attempt's duration to the
/// absurd delay overflows a `Duration`, as it did in the retry stage.
pub(crate) const REFUSAL_TIME: Duration = Duration::from_millis(1500);

/// How the backend answers one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    /// Refuse it, with the longest retry-after the protocol can say.
    Refuse,
    /// Accept it.
    Accept,
}

/// The state behind a hostile test server: which requests it has seen, which it accepted.
#[derive(Default)]
pub(crate) struct HostileBackend {
    seen: Mutex<HashSet<u64>>,
    /// A set: an attempt that timed out on the exporter's side may still be accepted.
    delivered: Mutex<BTreeSet<u64>>,
    refused: AtomicUsize,
    in_flight: AtomicUsize,
    recovered: AtomicBool,
}

impl HostileBackend {
    /// Answers the request whose first span is named `id`: the first time, a refusal after
    /// [`REFUSAL_TIME`]; after that (or once [recovered](Self::recover)), acceptance after
    /// a second, long enough for the test to see how many requests are in flight at once.
    pub(crate) async fn answer(&self, request: &ExportTraceServiceRequest) -> Answer {
        let id = first_id(request);
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let _leave = Leave(&self.in_flight);
        let first = !self.recovered.load(Ordering::SeqCst) && self.seen.lock().unwrap().insert(id);
        if first {
            tokio::time::sleep(REFUSAL_TIME).await;
            self.refused.fetch_add(1, Ordering::SeqCst);
            return Answer::Refuse;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        self.delivered.lock().unwrap().insert(id);
        Answer::Accept
    }

    /// From now on, accept every request.
    pub(crate) fn recover(&self) {
        self.recovered.store(true, Ordering::SeqCst);
    }

    /// The IDs of the requests accepted, in order.
    pub(crate) fn delivered(&self) -> Vec<u64> {
        self.delivered.lock().unwrap().iter().copied().collect()
    }

    /// How many refusals were sent.
    pub(crate) fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }

    /// How many requests are being answered now.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }
}

struct Leave<'a>(&'a AtomicUsize);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One span named `id`, so the backend can tell requests apart.
pub(crate) fn numbered(id: u64) -> Traces {
    Traces::new(ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    name: id.to_string(),
                    trace_id: vec![1; 16],
                    span_id: vec![2; 8],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    })
}

fn first_id(request: &ExportTraceServiceRequest) -> u64 {
    request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .find_map(|s| s.name.parse().ok())
        .expect("a numbered span")
}

/// Polls `check` until it holds, failing the test if that takes longer than `limit` (of
/// tokio's time, which tests may pause).
pub(crate) async fn within(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within {limit:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The scenario both OTLP exporters run against a backend that refuses each request once
/// with an absurd retry delay: 25 requests (more than the 10 workers) are all delivered
/// in order after the capped wait, and then no worker is missing: ten requests are
/// exported at once. `exporter` is started, with the default sending queue; its metrics
/// are in `metrics`, under ID `id`.
pub(crate) async fn check_absurd_retry_delays_lose_neither_workers_nor_data(
    exporter: &std::sync::Arc<dyn tributary_pipeline_core::component::Exporter<Traces>>,
    backend: &HostileBackend,
    metrics: &tributary_pipeline_core::telemetry::MetricsRegistry,
    id: &str,
) {
    for id in 0..25 {
        exporter.consume(numbered(id)).await.unwrap();
    }
    // Each waits five minutes at most, not 2^64 seconds: three rounds of ten take about
    // 15 minutes.
    within(Duration::from_secs(1000), "all 25 delivered", || {
        backend.delivered().len() == 25
    })
    .await;
    assert_eq!(backend.delivered(), (0..25).collect::<Vec<_>>());
    assert_eq!(backend.refused(), 25);

    // No worker was lost: ten requests are exported at once.
    backend.recover();
    for id in 100..110 {
        exporter.consume(numbered(id)).await.unwrap();
    }
    within(Duration::from_secs(5), "ten exports at once", || {
        backend.in_flight() == 10
    })
    .await;
    within(Duration::from_secs(5), "all delivered", || {
        backend.delivered().len() == 35
    })
    .await;
    assert_eq!(
        metrics.value("otelcol_exporter_sent_spans", &[("exporter", id)]),
        Some(35.0)
    );
}
