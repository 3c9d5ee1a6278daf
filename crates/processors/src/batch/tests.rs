//! The batch processor's behaviour, as a pipeline sees it: a receiver calls `consume`, the
//! next stage records what arrives and answers as each test scripts it.

use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tributary_pipeline_core::component::{ComponentConfig, CreateSettings, Kind, Processor};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use tributary_pipeline_core::pdata::proto::metrics::v1::metric::Data;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
};
use tributary_pipeline_core::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use tributary_pipeline_core::pdata::{ClientMetadata, Logs, Metrics, SignalData, Traces};

use super::{Config, factory};
use tributary_pipeline_core::testing::{Reply, Sink};

// ---- Data ----

/// Spans named by the numbers in `range`, in one resource and scope.
pub(super) fn spans(range: Range<usize>) -> Traces {
    Traces::new(ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: range
                    .map(|i| Span {
                        name: i.to_string(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    })
}

/// The numbers of the spans in a batch, in order.
fn numbers(batch: &Traces) -> Vec<usize> {
    batch
        .request()
        .resource_spans
        .iter()
        .flat_map(|rs| &rs.scope_spans)
        .flat_map(|ss| &ss.spans)
        .map(|s| s.name.parse().unwrap())
        .collect()
}

fn sizes<T: SignalData>(batches: &[T]) -> Vec<usize> {
    batches.iter().map(SignalData::item_count).collect()
}

fn from_client(data: Traces, pairs: &[(&str, &str)]) -> Traces {
    let mut metadata = ClientMetadata::new();
    for (key, value) in pairs {
        metadata.insert(key, *value);
    }
    data.with_metadata(Arc::new(metadata))
}

// ---- The processor ----

struct Harness {
    processor: Arc<dyn Processor<Traces>>,
    sink: Arc<Sink<Traces>>,
    settings: CreateSettings,
}

/// A configuration that sends on size and timeout only (no early send when quiet), so
/// tests of those triggers see exactly them.
fn config(send_batch_size: u32, timeout: Duration, send_batch_max_size: u32) -> Config {
    Config {
        send_batch_size,
        timeout,
        send_batch_max_size,
        flush_when_quiet: Duration::ZERO,
        ..Config::default()
    }
}

fn settings() -> CreateSettings {
    CreateSettings::standalone(Kind::Processor, "batch".parse().unwrap(), None)
}

fn harness(config: Config) -> Harness {
    config.validate().expect("test config is valid");
    let settings = settings();
    let sink = Sink::new();
    let processor = factory().create(&settings, &config, sink.clone()).unwrap();
    Harness {
        processor,
        sink,
        settings,
    }
}

impl Harness {
    /// Calls `consume` on a task of its own, as a receiver serving a client would.
    fn send(&self, data: Traces) -> JoinHandle<Result<(), ConsumeError>> {
        let processor = Arc::clone(&self.processor);
        tokio::spawn(async move { processor.consume(data).await })
    }

    fn metric(&self, name: &str) -> f64 {
        self.settings
            .metrics()
            .value(name, &[("processor", "batch")])
            .unwrap_or(0.0)
    }
}

/// Lets every runnable task run, without moving the (paused) clock.
async fn settle() {
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
}

const LONG: Duration = Duration::from_secs(3600);

// ---- Triggers ----

#[tokio::test(start_paused = true)]
async fn a_lone_request_is_sent_once_no_more_data_arrives() {
    let h = harness(Config {
        flush_when_quiet: Duration::from_millis(5),
        ..config(8192, Duration::from_millis(200), 0)
    });
    let started = Instant::now();
    h.processor.consume(spans(0..3)).await.unwrap();
    assert_eq!(
        started.elapsed(),
        Duration::from_millis(5),
        "answered after the quiet period, not the timeout"
    );
    assert_eq!(sizes(&h.sink.received()), [3]);
}

#[tokio::test(start_paused = true)]
async fn data_arriving_steadily_keeps_filling_one_batch() {
    let h = harness(Config {
        flush_when_quiet: Duration::from_millis(5),
        ..config(8192, Duration::from_millis(200), 0)
    });
    let started = Instant::now();
    let mut callers = Vec::new();
    for i in 0..20 {
        callers.push(h.send(spans(i..i + 1)));
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    for caller in callers {
        caller.await.unwrap().unwrap();
    }
    assert_eq!(
        sizes(&h.sink.received()),
        [20],
        "one batch: the gaps were shorter than the quiet period"
    );
    // The last request arrived at 38ms; the batch went 5ms later.
    assert_eq!(started.elapsed(), Duration::from_millis(43));
}

#[tokio::test(start_paused = true)]
async fn the_timeout_still_bounds_a_batch_that_never_goes_quiet() {
    let h = harness(Config {
        flush_when_quiet: Duration::from_millis(5),
        ..config(8192, Duration::from_millis(20), 0)
    });
    let mut callers = Vec::new();
    for i in 0..30 {
        callers.push(h.send(spans(i..i + 1)));
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    for caller in callers {
        caller.await.unwrap().unwrap();
    }
    let batches = sizes(&h.sink.received());
    assert_eq!(batches.iter().sum::<usize>(), 30);
    assert!(
        batches[0] >= 19,
        "the first batch went on its 20ms timeout: {batches:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn reaching_send_batch_size_sends_everything_pending() {
    let h = harness(config(10, LONG, 0));
    let first = h.send(spans(0..4));
    let second = h.send(spans(4..8));
    settle().await;
    assert!(
        h.sink.received().is_empty(),
        "8 items are below the trigger"
    );
    assert!(!first.is_finished(), "a caller waits for its batch");

    h.processor.consume(spans(8..12)).await.unwrap();
    first.await.unwrap().unwrap();
    second.await.unwrap().unwrap();

    let received = h.sink.received();
    assert_eq!(received.len(), 1);
    assert_eq!(numbers(&received[0]), (0..12).collect::<Vec<_>>());
    assert_eq!(
        h.metric("otelcol_processor_batch_batch_size_trigger_send"),
        1.0
    );
    assert_eq!(
        h.metric("otelcol_processor_batch_timeout_trigger_send"),
        0.0
    );
    assert_eq!(
        h.metric("otelcol_processor_batch_batch_send_size_sum"),
        12.0
    );
    assert_eq!(
        h.metric("otelcol_processor_batch_batch_send_size_count"),
        1.0
    );
}

/// Received payloads are only bytes; batching them must not decode them (the batch is
/// their encodings joined), so a pass-through pipeline never decodes a span.
#[tokio::test(start_paused = true)]
async fn received_payloads_are_batched_without_decoding() {
    let h = harness(config(10, LONG, 0));
    let received = |range| Traces::decode(spans(range).encoded()).expect("valid request");
    let first = h.send(received(0..6));
    settle().await;
    h.processor.consume(received(6..12)).await.unwrap();
    first.await.unwrap().unwrap();

    let batches = h.sink.received();
    assert_eq!(sizes(&batches), [12]);
    assert!(!batches[0].is_decoded(), "batching decoded the payloads");
    assert_eq!(numbers(&batches[0]), (0..12).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn the_timeout_sends_a_partial_batch() {
    let h = harness(config(100, Duration::from_millis(200), 0));
    let start = Instant::now();
    let first = h.send(spans(0..3));
    tokio::time::sleep(Duration::from_millis(150)).await;
    let second = h.send(spans(3..5));
    first.await.unwrap().unwrap();
    second.await.unwrap().unwrap();
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(200),
        "the batch goes when its first data has waited `timeout`"
    );
    let received = h.sink.received();
    assert_eq!(sizes(&received), [5]);
    assert_eq!(
        h.metric("otelcol_processor_batch_timeout_trigger_send"),
        1.0
    );
    assert_eq!(
        h.metric("otelcol_processor_batch_batch_size_trigger_send"),
        0.0
    );
}

#[tokio::test(start_paused = true)]
async fn a_zero_timeout_sends_each_request_at_once_divided_only_by_the_maximum() {
    let h = harness(config(8192, Duration::ZERO, 8192));
    let start = Instant::now();
    h.processor.consume(spans(0..10)).await.unwrap();
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(sizes(&h.sink.received()), [10]);

    let h = harness(config(3, Duration::ZERO, 4));
    h.processor.consume(spans(0..10)).await.unwrap();
    let received = h.sink.received();
    assert_eq!(sizes(&received), [4, 4, 2]);
    let all: Vec<usize> = received.iter().flat_map(numbers).collect();
    assert_eq!(all, (0..10).collect::<Vec<_>>());
    assert_eq!(
        h.metric("otelcol_processor_batch_metadata_cardinality"),
        0.0,
        "nothing is held, so no partition exists"
    );
}

#[tokio::test(start_paused = true)]
async fn requests_without_items_pass_straight_through() {
    let h = harness(config(10, LONG, 0));
    let empty = Traces::new(ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans::default()],
    });
    h.processor.consume(empty.clone()).await.unwrap();
    assert_eq!(h.sink.received(), [empty]);
}

// ---- Splitting ----

#[tokio::test(start_paused = true)]
async fn batches_over_the_maximum_are_divided_and_keep_their_order() {
    let h = harness(config(5, Duration::from_secs(1), 7));
    let mut next = 0;
    let mut callers = Vec::new();
    for size in [3, 9, 14, 2, 6, 1] {
        callers.push(h.send(spans(next..next + size)));
        next += size;
        settle().await;
    }
    for caller in callers {
        caller.await.unwrap().unwrap();
    }
    let received = h.sink.received();
    assert!(
        received.iter().all(|b| b.item_count() <= 7),
        "{:?}",
        sizes(&received)
    );
    // As the Go processor cuts them: a batch goes once 5 items are pending, at most 7.
    assert_eq!(sizes(&received), [7, 5, 7, 7, 7, 2]);
    let all: Vec<usize> = received.iter().flat_map(numbers).collect();
    assert_eq!(all, (0..35).collect::<Vec<_>>());
}

// ---- Errors ----

#[tokio::test(start_paused = true)]
async fn every_caller_in_a_failed_batch_gets_its_error() {
    let h = harness(config(4, LONG, 0));
    h.sink
        .then(Reply::Refuse(ConsumeError::permanent("malformed")));
    let first = h.send(spans(0..2));
    settle().await;
    let second = h.processor.consume(spans(2..4)).await;
    let first = first.await.unwrap();
    for outcome in [first, second] {
        let error = outcome.unwrap_err();
        assert!(error.is_permanent());
        assert_eq!(error.message(), "malformed");
    }

    let wait = Some(Duration::from_secs(3));
    h.sink.then(Reply::Refuse(
        ConsumeError::retryable("backend down").with_retry_after(wait),
    ));
    let first = h.send(spans(4..6));
    settle().await;
    let second = h.processor.consume(spans(6..8)).await;
    let first = first.await.unwrap();
    for outcome in [first, second] {
        let error = outcome.unwrap_err();
        assert!(error.is_retryable() && !error.is_permanent());
        assert_eq!(error.retry_after(), wait);
    }
}

#[tokio::test(start_paused = true)]
async fn a_request_spread_over_batches_succeeds_only_if_every_piece_does() {
    // Batches of 2: [a0 b0] [b1 b2]. Only the second fails: `a` succeeded, `b` did not.
    let h = harness(config(2, LONG, 2));
    h.sink.then(Reply::Accept);
    h.sink
        .then(Reply::Refuse(ConsumeError::retryable("backend down")));
    let a = h.send(spans(0..1));
    settle().await;
    let b = h.processor.consume(spans(1..4)).await;
    assert_eq!(sizes(&h.sink.received()), [2, 2]);
    assert!(a.await.unwrap().is_ok());
    assert!(b.unwrap_err().is_retryable());

    // Now the first fails permanently: both had data in it.
    let h = harness(config(2, LONG, 2));
    h.sink
        .then(Reply::Refuse(ConsumeError::permanent("rejected")));
    let a = h.send(spans(0..1));
    settle().await;
    let b = h.processor.consume(spans(1..4)).await;
    assert!(a.await.unwrap().unwrap_err().is_permanent());
    assert!(
        b.unwrap_err().is_permanent(),
        "the worst error of the pieces is reported"
    );
}

// ---- Concurrency ----

#[tokio::test(start_paused = true)]
async fn a_batch_stuck_downstream_does_not_hold_up_the_next() {
    let h = harness(config(2, LONG, 0));
    let gate = Arc::new(Semaphore::new(0));
    h.sink.then(Reply::AcceptWhenOpened(gate.clone()));
    let stuck = h.send(spans(0..2));
    settle().await;
    assert_eq!(h.sink.received().len(), 1, "the first batch is downstream");

    h.processor.consume(spans(2..4)).await.unwrap();
    assert_eq!(h.sink.received().len(), 2);
    assert!(!stuck.is_finished(), "the first batch is still in flight");

    let shutdown = {
        let processor = Arc::clone(&h.processor);
        tokio::spawn(async move { processor.shutdown().await })
    };
    settle().await;
    assert!(
        !shutdown.is_finished(),
        "shutdown waits for batches in flight"
    );
    gate.add_permits(1);
    stuck.await.unwrap().unwrap();
    shutdown.await.unwrap().unwrap();
}

// ---- Partitions ----

#[tokio::test(start_paused = true)]
async fn metadata_keys_keep_tenants_apart() {
    let h = harness(Config {
        metadata_keys: vec!["Tenant".into()],
        ..config(4, LONG, 0)
    });
    let mut callers = Vec::new();
    for i in 0..8 {
        let tenant = if i % 2 == 0 { "a" } else { "b" };
        let data = from_client(
            spans(i..i + 1),
            &[("TENANT", tenant), ("authorization", &format!("token {i}"))],
        );
        callers.push(h.send(data));
    }
    for caller in callers {
        caller.await.unwrap().unwrap();
    }
    let received = h.sink.received();
    assert_eq!(received.len(), 2);
    for batch in &received {
        let metadata = batch
            .metadata()
            .expect("a batch carries its partition's values");
        let tenant = &metadata.get("tenant")[0];
        let expected: Vec<usize> = if tenant == "a" {
            vec![0, 2, 4, 6]
        } else {
            vec![1, 3, 5, 7]
        };
        assert_eq!(numbers(batch), expected);
        assert!(
            metadata.get("authorization").is_empty(),
            "metadata that differs within the batch is not carried"
        );
    }
    assert_eq!(
        h.metric("otelcol_processor_batch_metadata_cardinality"),
        2.0
    );
}

#[tokio::test(start_paused = true)]
async fn a_combination_over_the_cardinality_limit_is_refused_permanently() {
    let h = harness(Config {
        metadata_keys: vec!["tenant".into()],
        metadata_cardinality_limit: 2,
        ..config(100, LONG, 0)
    });
    let a = h.send(from_client(spans(0..1), &[("tenant", "a")]));
    let b = h.send(from_client(spans(1..2), &[("tenant", "b")]));
    settle().await;
    let error = h
        .processor
        .consume(from_client(spans(2..3), &[("tenant", "c")]))
        .await
        .unwrap_err();
    assert!(error.is_permanent());
    assert_eq!(
        error.message(),
        "too many batcher metadata-value combinations"
    );
    assert_eq!(
        h.metric("otelcol_processor_batch_metadata_cardinality"),
        2.0
    );

    // Known combinations are still batched.
    let a_again = h.send(from_client(spans(3..4), &[("tenant", "a")]));
    h.processor.shutdown().await.unwrap();
    for caller in [a, b, a_again] {
        caller.await.unwrap().unwrap();
    }
    let delivered: Vec<usize> = h.sink.received().iter().flat_map(numbers).collect();
    assert_eq!(delivered.len(), 3);
    assert!(!delivered.contains(&2));
}

#[tokio::test(start_paused = true)]
async fn idle_partitions_are_removed() {
    let h = harness(Config {
        metadata_keys: vec!["tenant".into()],
        metadata_cardinality_limit: 1,
        ..config(100, Duration::from_millis(50), 0)
    });
    h.processor
        .consume(from_client(spans(0..1), &[("tenant", "a")]))
        .await
        .unwrap();
    let refused = h
        .processor
        .consume(from_client(spans(1..2), &[("tenant", "b")]))
        .await;
    assert!(refused.is_err(), "tenant a still holds the only slot");

    // Idle after max(10 × timeout, 1s) without data.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        h.metric("otelcol_processor_batch_metadata_cardinality"),
        0.0
    );
    h.processor
        .consume(from_client(spans(1..2), &[("tenant", "b")]))
        .await
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_batch_keeps_client_metadata_only_if_all_its_requests_share_it() {
    let h = harness(config(2, LONG, 0));
    let same = Arc::new({
        let mut m = ClientMetadata::new();
        m.insert("authorization", "token");
        m
    });
    let first = h.send(spans(0..1).with_metadata(same.clone()));
    settle().await;
    h.processor
        .consume(spans(1..2).with_metadata(same.clone()))
        .await
        .unwrap();
    first.await.unwrap().unwrap();

    let first = h.send(from_client(spans(2..3), &[("authorization", "token a")]));
    settle().await;
    h.processor
        .consume(from_client(spans(3..4), &[("authorization", "token b")]))
        .await
        .unwrap();
    first.await.unwrap().unwrap();

    let received = h.sink.received();
    assert_eq!(received[0].metadata(), Some(&same));
    assert!(
        received[1].metadata().is_none_or(|m| m.is_empty()),
        "a batch mixing clients carries no client's metadata"
    );
}

// ---- Shutdown and cancellation ----

#[tokio::test(start_paused = true)]
async fn shutdown_flushes_pending_data_and_answers_its_callers() {
    let h = harness(config(100, LONG, 0));
    let start = Instant::now();
    let waiting = h.send(spans(0..3));
    settle().await;
    h.processor.shutdown().await.unwrap();
    waiting.await.unwrap().unwrap();
    assert_eq!(start.elapsed(), Duration::ZERO, "no wait for the timeout");
    assert_eq!(sizes(&h.sink.received()), [3]);
    assert_eq!(
        h.metric("otelcol_processor_batch_timeout_trigger_send"),
        1.0
    );

    // Data arriving after shutdown is passed through, not held or lost.
    h.processor.consume(spans(3..5)).await.unwrap();
    assert_eq!(sizes(&h.sink.received()), [3, 2]);
    h.processor.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn data_after_shutdown_is_still_divided_by_the_maximum() {
    let h = harness(config(2, LONG, 2));
    h.processor.shutdown().await.unwrap();
    h.sink
        .then(Reply::Refuse(ConsumeError::retryable("backend down")));
    let error = h.processor.consume(spans(0..5)).await.unwrap_err();
    assert!(error.is_retryable());
    assert_eq!(sizes(&h.sink.received()), [2, 2, 1]);
}

#[tokio::test(start_paused = true)]
async fn a_caller_that_gives_up_does_not_take_its_data_back() {
    let h = harness(config(100, Duration::from_millis(200), 0));
    let gave_up =
        tokio::time::timeout(Duration::from_millis(10), h.processor.consume(spans(0..3))).await;
    assert!(gave_up.is_err());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sizes(&h.sink.received()), [3]);
}

#[tokio::test(start_paused = true)]
async fn the_longest_timeout_a_config_can_hold_works() {
    let longest = Duration::from_nanos(i64::MAX as u64);
    let h = harness(config(100, longest, 0));
    let waiting = h.send(spans(0..1));
    settle().await;
    h.processor.shutdown().await.unwrap();
    waiting.await.unwrap().unwrap();
    assert_eq!(sizes(&h.sink.received()), [1]);
}

// ---- Other signals ----

#[tokio::test(start_paused = true)]
async fn metrics_are_batched_by_data_point_dividing_metrics_at_the_maximum() {
    let settings = settings();
    let sink = Sink::<Metrics>::new();
    let processor = factory()
        .create(
            &settings,
            &config(4, Duration::from_millis(100), 4),
            sink.clone(),
        )
        .unwrap();
    let request = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "queue_length".into(),
                    data: Some(Data::Gauge(Gauge {
                        data_points: (0..10)
                            .map(|i| NumberDataPoint {
                                time_unix_nano: i,
                                ..Default::default()
                            })
                            .collect(),
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    processor.consume(Metrics::new(request)).await.unwrap();
    let received = sink.received();
    assert_eq!(sizes(&received), [4, 4, 2]);
    let times: Vec<u64> = received
        .iter()
        .flat_map(|b| b.request().resource_metrics.clone())
        .flat_map(|rm| rm.scope_metrics)
        .flat_map(|sm| sm.metrics)
        .inspect(|m| assert_eq!(m.name, "queue_length"))
        .flat_map(|m| match m.data {
            Some(Data::Gauge(g)) => g.data_points,
            _ => panic!("a gauge stays a gauge"),
        })
        .map(|p| p.time_unix_nano)
        .collect();
    assert_eq!(times, (0..10).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn logs_are_batched_by_record() {
    let settings = settings();
    let sink = Sink::<Logs>::new();
    let processor = factory()
        .create(&settings, &config(3, LONG, 0), sink.clone())
        .unwrap();
    let logs = |n: usize| {
        Logs::new(ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord::default(); n],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        })
    };
    let first = {
        let processor = Arc::clone(&processor);
        tokio::spawn(async move { processor.consume(logs(2)).await })
    };
    settle().await;
    processor.consume(logs(2)).await.unwrap();
    first.await.unwrap().unwrap();
    assert_eq!(sizes(&sink.received()), [4]);
    assert_eq!(
        settings.metrics().value(
            "otelcol_processor_batch_batch_size_trigger_send",
            &[("processor", "batch")]
        ),
        Some(1.0)
    );
}

// ---- Property: nothing lost, nothing duplicated, nothing too large ----

/// Sends requests of the given sizes concurrently and returns what arrived downstream.
fn run_batches(sizes: &[usize], config: Config) -> Vec<Traces> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async {
        let h = harness(config);
        let mut next = 0;
        let callers: Vec<_> = sizes
            .iter()
            .map(|&size| {
                let caller = h.send(spans(next..next + size));
                next += size;
                caller
            })
            .collect();
        for caller in callers {
            caller.await.unwrap().unwrap();
        }
        h.processor.shutdown().await.unwrap();
        h.sink.received()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn every_item_arrives_once_in_order_and_no_batch_exceeds_the_maximum(
        sizes in prop::collection::vec(0usize..40, 1..12),
        send_batch_size in 1u32..30,
        headroom in prop::option::of(0u32..30),
        timeout_ms in 0u64..3,
    ) {
        let max = headroom.map_or(0, |h| send_batch_size + h);
        let config = config(send_batch_size, Duration::from_millis(timeout_ms * 100), max);
        let received = run_batches(&sizes, config);
        let total: usize = sizes.iter().sum();
        let delivered: Vec<usize> = received.iter().flat_map(numbers).collect();
        prop_assert_eq!(delivered, (0..total).collect::<Vec<_>>());
        if max > 0 {
            for batch in &received {
                prop_assert!(batch.item_count() <= max as usize, "batch of {} > {}", batch.item_count(), max);
            }
        }
    }
}

#[tokio::test]
async fn the_batch_processor_passes_the_conformance_suite() {
    tributary_pipeline_core::testing::check_processor(factory(), "").await;
}
