//! The whole helper, built as exporters build it: queueing, concurrency, isolation,
//! batching, shutdown, and the persistent queue.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::testing::{Backend, Script, ids, numbered, spans, tenant};
use super::*;
use crate::component::{ComponentId, Extension, Kind};
use crate::extensions::file_storage::{FileStorage, FileStorageConfig};
use crate::pdata::{Signal, Traces};

fn down() -> ConsumeError {
    ConsumeError::retryable("backend down")
}

fn config(queue: QueueConfig) -> ExporterHelperConfig {
    ExporterHelperConfig {
        sending_queue: queue,
        ..ExporterHelperConfig::default()
    }
}

fn queue(size: usize, consumers: usize) -> QueueConfig {
    QueueConfig {
        queue_size: size,
        num_consumers: consumers,
        ..QueueConfig::default()
    }
}

/// An exporter `id` over `backend`, and the settings its metrics are in.
fn exporter(
    id: &str,
    config: &ExporterHelperConfig,
    backend: &Arc<Script>,
) -> (Arc<dyn Exporter<Traces>>, CreateSettings) {
    let settings =
        CreateSettings::standalone(Kind::Exporter, id.parse().unwrap(), Some(Signal::Traces));
    let exporter = build(&settings, config, Backend(Arc::clone(backend))).unwrap();
    (exporter, settings)
}

fn metric(settings: &CreateSettings, name: &str) -> f64 {
    let id = settings.id().to_string();
    settings.metrics().sum(name, &[("exporter", id.as_str())])
}

/// Waits (in virtual or real time) until `check` holds.
async fn eventually(mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(
            std::time::Instant::now() < deadline,
            "condition not reached"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn queued_data_is_exported_and_counted() {
    let backend = Script::ok();
    let (exporter, settings) = exporter("otlp", &config(queue(10, 2)), &backend);
    exporter.start(&Host::default()).await.unwrap();
    exporter.consume(spans(3)).await.unwrap();
    exporter.consume(spans(4)).await.unwrap();
    eventually(|| backend.calls() == 2).await;
    exporter.shutdown().await.unwrap();
    assert_eq!(metric(&settings, "otelcol_exporter_sent_spans"), 7.0);
    assert_eq!(metric(&settings, "otelcol_exporter_queue_capacity"), 10.0);
    assert_eq!(metric(&settings, "otelcol_exporter_queue_size"), 0.0);
}

#[tokio::test(start_paused = true)]
async fn a_full_queue_refuses_at_once_with_a_retryable_error() {
    let backend = Script::hanging();
    let (exporter, settings) = exporter("otlp", &config(queue(2, 1)), &backend);
    exporter.start(&Host::default()).await.unwrap();
    exporter.consume(spans(1)).await.unwrap();
    exporter.consume(spans(1)).await.unwrap();
    eventually(|| backend.calls() == 1).await;
    // One being exported, one queued: both count.
    let error = exporter.consume(spans(5)).await.unwrap_err();
    assert!(error.is_retryable() && !error.is_permanent());
    assert_eq!(error.message(), "sending queue is full");
    assert_eq!(
        metric(&settings, "otelcol_exporter_enqueue_failed_spans"),
        5.0
    );
    assert_eq!(metric(&settings, "otelcol_exporter_queue_size"), 2.0);
}

/// A request of about 4 MiB, kept as its encoding: clones share the bytes, so a test can
/// queue hundreds of MiB of them without holding that much.
fn four_mib(id: u64) -> Traces {
    let mut request = numbered([id]).into_request();
    request.resource_spans[0].scope_spans[0].spans[0].attributes =
        vec![crate::pdata::proto::common::v1::KeyValue {
            key: "blob".into(),
            value: Some(crate::pdata::proto::common::v1::AnyValue {
                value: Some(
                    crate::pdata::proto::common::v1::any_value::Value::StringValue(
                        "x".repeat(4 << 20),
                    ),
                ),
            }),
            ..Default::default()
        }];
    Traces::decode(Traces::new(request).encoded()).unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_default_memory_queue_holds_256_mib_at_most_and_accepts_again_once_drained() {
    let backend = Script::hanging();
    let (exporter, settings) = exporter("otlp", &ExporterHelperConfig::default(), &backend);
    exporter.start(&Host::default()).await.unwrap();
    let blob = four_mib(0);
    let fitting = (256 << 20) / blob.encoded_len() as u64;
    assert_eq!(fitting, 63, "a little over 4 MiB each");
    for _ in 0..fitting {
        exporter.consume(blob.clone()).await.unwrap();
    }
    // Far from queue_size (1000 requests), but at the memory limit.
    let error = exporter.consume(blob.clone()).await.unwrap_err();
    assert!(error.is_retryable() && !error.is_permanent(), "{error}");
    assert!(
        error.message().starts_with("sending queue is full"),
        "{error}"
    );
    assert_eq!(
        metric(&settings, "otelcol_exporter_enqueue_failed_spans"),
        1.0
    );

    // Once the backend takes what is queued, there is room again.
    backend.set_fallback(Some(Ok(())));
    eventually(|| backend.received().len() == fitting as usize).await;
    exporter.consume(blob.clone()).await.unwrap();
    exporter.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn blocking_on_overflow_waits_until_an_export_ends() {
    let backend = Script::delayed(Duration::from_secs(3));
    let blocking = QueueConfig {
        block_on_overflow: true,
        ..queue(1, 1)
    };
    let (exporter, _) = exporter("otlp", &config(blocking), &backend);
    exporter.start(&Host::default()).await.unwrap();
    exporter.consume(numbered([1])).await.unwrap();
    let started = Instant::now();
    exporter.consume(numbered([2])).await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_secs(3));
    eventually(|| backend.calls() == 2).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(backend.received_ids(), [1, 2]);
}

#[tokio::test(start_paused = true)]
async fn num_consumers_exports_run_at_once_and_no_more() {
    let backend = Script::delayed(Duration::from_secs(1));
    let (exporter, _) = exporter("otlp", &config(queue(100, 3)), &backend);
    exporter.start(&Host::default()).await.unwrap();
    for id in 0..12 {
        exporter.consume(numbered([id])).await.unwrap();
    }
    eventually(|| backend.received().len() == 12).await;
    assert_eq!(backend.max_in_flight(), 3);
}

#[tokio::test(start_paused = true)]
async fn one_consumer_exports_in_fifo_order() {
    let backend = Script::delayed(Duration::from_millis(10));
    let (exporter, _) = exporter("otlp", &config(queue(100, 1)), &backend);
    exporter.start(&Host::default()).await.unwrap();
    for id in 0..20 {
        exporter.consume(numbered([id])).await.unwrap();
    }
    eventually(|| backend.received().len() == 20).await;
    assert_eq!(backend.received_ids(), (0..20).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn without_a_queue_export_happens_in_the_callers_task_with_retries() {
    let backend = Script::failing(vec![down(), down()]);
    let no_queue = QueueConfig {
        enabled: false,
        ..QueueConfig::default()
    };
    let (exporter, settings) = exporter("otlp", &config(no_queue), &backend);
    exporter.start(&Host::default()).await.unwrap();
    let started = Instant::now();
    exporter.consume(spans(2)).await.unwrap();
    assert_eq!(backend.calls(), 3);
    assert!(
        started.elapsed() >= Duration::from_millis(2500),
        "waited for the retries"
    );
    backend.set_fallback(Some(Err(ConsumeError::permanent("rejected"))));
    let error = exporter.consume(spans(1)).await.unwrap_err();
    assert!(
        error.is_permanent(),
        "the caller gets the backend's verdict"
    );
    assert_eq!(metric(&settings, "otelcol_exporter_send_failed_spans"), 1.0);
}

#[tokio::test(start_paused = true)]
async fn a_dead_backend_fills_only_its_own_exporters_queue() {
    let dead = Script::always(down());
    let alive = Script::ok();
    let (stuck, stuck_settings) = exporter("otlp/dead", &config(queue(5, 2)), &dead);
    let (fine, _) = exporter("otlp/alive", &config(queue(5, 2)), &alive);
    stuck.start(&Host::default()).await.unwrap();
    fine.start(&Host::default()).await.unwrap();
    let mut refused = 0;
    for id in 0..50 {
        if stuck.consume(numbered([id])).await.is_err() {
            refused += 1;
        }
        fine.consume(numbered([id])).await.unwrap();
        tokio::task::yield_now().await;
    }
    assert_eq!(refused, 45, "the dead backend's queue holds 5");
    assert_eq!(metric(&stuck_settings, "otelcol_exporter_queue_size"), 5.0);
    eventually(|| alive.received().len() == 50).await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_stops_retries_first_then_gives_each_queued_request_one_attempt() {
    let backend = Script::always(down());
    let (exporter, settings) = exporter("otlp", &config(queue(100, 2)), &backend);
    exporter.start(&Host::default()).await.unwrap();
    for id in 0..6 {
        exporter.consume(numbered([id])).await.unwrap();
    }
    // Two requests are in their retry backoff, four wait in the queue.
    eventually(|| backend.calls() == 2).await;
    let started = Instant::now();
    exporter.shutdown().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "retries stopped at once"
    );
    assert_eq!(backend.calls(), 6, "one attempt each for the four queued");
    assert_eq!(metric(&settings, "otelcol_exporter_send_failed_spans"), 6.0);
    let error = exporter.consume(spans(1)).await.unwrap_err();
    assert!(
        error.is_retryable(),
        "after shutdown data is refused, retryably"
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_never_waits_longer_than_the_drain_timeout() {
    let backend = Script::hanging();
    let hanging = ExporterHelperConfig {
        timeout: Duration::ZERO,
        sending_queue: QueueConfig {
            drain_timeout: Duration::from_secs(3),
            ..queue(100, 1)
        },
        ..ExporterHelperConfig::default()
    };
    let (exporter, settings) = exporter("otlp", &hanging, &backend);
    exporter.start(&Host::default()).await.unwrap();
    exporter.consume(spans(2)).await.unwrap();
    exporter.consume(spans(3)).await.unwrap();
    eventually(|| backend.calls() == 1).await;
    let started = Instant::now();
    exporter.shutdown().await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_secs(3));
    assert_eq!(
        metric(&settings, "otelcol_exporter_send_failed_spans"),
        5.0,
        "the abandoned and the never-sent are counted"
    );
    assert_eq!(metric(&settings, "otelcol_exporter_queue_size"), 0.0);
}

/// Log lines written while it is in scope (this thread's tasks only).
#[derive(Clone, Default)]
struct CapturedLogs(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        let logs = self.clone();
        tracing::subscriber::set_default(
            tracing_subscriber::fmt()
                .with_writer(move || logs.clone())
                .with_ansi(false)
                .finish(),
        )
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test(start_paused = true)]
async fn what_shutdown_abandons_is_logged_under_the_exporters_id() {
    // Several exporters shut down in turn; a loss must say whose it is.
    let logs = CapturedLogs::default();
    let _logging = logs.install();
    let backend = Script::hanging();
    let hanging = ExporterHelperConfig {
        timeout: Duration::ZERO,
        sending_queue: QueueConfig {
            drain_timeout: Duration::from_secs(1),
            ..queue(100, 1)
        },
        ..ExporterHelperConfig::default()
    };
    let (exporter, _) = exporter("otlp/dead", &hanging, &backend);
    exporter.start(&Host::default()).await.unwrap();
    exporter.consume(spans(2)).await.unwrap();
    exporter.consume(spans(3)).await.unwrap();
    eventually(|| backend.calls() == 1).await;
    exporter.shutdown().await.unwrap();
    let text = logs.text();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("drain_timeout") || l.contains("dropped_items"))
        .collect();
    assert_eq!(lines.len(), 3, "the timeout and two losses:\n{text}");
    for line in lines {
        assert!(
            line.contains("otelcol.component.id=otlp/dead"),
            "logged without the exporter's ID: {line}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_panicking_export_is_retried_and_costs_no_worker() {
    let logs = CapturedLogs::default();
    let _logging = logs.install();
    let backend = Script::delayed(Duration::from_secs(1));
    backend.panic_next(3);
    let (exporter, settings) = exporter("otlp/panicky", &config(queue(100, 3)), &backend);
    exporter.start(&Host::default()).await.unwrap();
    for id in 0..3 {
        exporter.consume(numbered([id])).await.unwrap();
    }
    // Every worker's export panicked; none of it counts as sent.
    eventually(|| backend.calls() == 3 && backend.in_flight() == 0).await;
    assert_eq!(metric(&settings, "otelcol_exporter_sent_spans"), 0.0);
    // A failed attempt like any other: retried after the backoff, then delivered.
    eventually(|| backend.received().len() == 3).await;
    let mut received = backend.received_ids();
    received.sort_unstable();
    assert_eq!(received, [0, 1, 2]);
    assert_eq!(metric(&settings, "otelcol_exporter_sent_spans"), 3.0);
    assert_eq!(metric(&settings, "otelcol_exporter_send_failed_spans"), 0.0);

    // All three workers are still there: three requests are exported at once.
    for id in 3..6 {
        exporter.consume(numbered([id])).await.unwrap();
    }
    eventually(|| backend.in_flight() == 3).await;
    eventually(|| backend.received().len() == 6).await;
    exporter.shutdown().await.unwrap();

    let text = logs.text();
    let panics: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("export panicked") && l.contains("ERROR"))
        .collect();
    assert_eq!(panics.len(), 3, "each panic logged once:\n{text}");
    assert!(
        panics[0].contains("otelcol.component.id=otlp/panicky"),
        "{}",
        panics[0]
    );
    assert!(
        text.contains("PermanentError: export panicked: scripted panic"),
        "reported as the exporter's status:\n{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn batches_merge_up_to_min_size_and_flush_after_the_timeout() {
    let backend = Script::ok();
    let batching = QueueConfig {
        batch: Some(BatchConfig {
            min_size: 10,
            ..BatchConfig::default()
        }),
        ..queue(100, 2)
    };
    let (exporter, settings) = exporter("otlp", &config(batching), &backend);
    exporter.start(&Host::default()).await.unwrap();
    for first in [0, 2, 4, 6, 8] {
        exporter
            .consume(numbered([first, first + 1]))
            .await
            .unwrap();
    }
    eventually(|| backend.calls() == 1).await;
    assert_eq!(ids(&backend.received()[0]), (0..10).collect::<Vec<_>>());
    exporter.consume(numbered([10, 11, 12])).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(backend.calls(), 1, "not yet due");
    tokio::time::sleep(Duration::from_millis(100)).await;
    eventually(|| backend.calls() == 2).await;
    assert_eq!(ids(&backend.received()[1]), [10, 11, 12]);
    assert_eq!(metric(&settings, "otelcol_exporter_queue_size"), 0.0);
}

#[tokio::test(start_paused = true)]
async fn batches_keep_client_metadata_apart() {
    let backend = Script::ok();
    let batching = QueueConfig {
        batch: Some(BatchConfig {
            min_size: 4,
            ..BatchConfig::default()
        }),
        ..queue(100, 1)
    };
    let (exporter, _) = exporter("otlp", &config(batching), &backend);
    exporter.start(&Host::default()).await.unwrap();
    for (i, who) in ["a", "b", "a", "b"].into_iter().enumerate() {
        let first = i as u64 * 2;
        let data = numbered([first, first + 1]).with_metadata(tenant(who));
        exporter.consume(data).await.unwrap();
    }
    eventually(|| backend.calls() == 2).await;
    for batch in backend.received() {
        let who = batch.metadata().unwrap().get("tenant")[0].clone();
        let expected: Vec<u64> = if who == "a" {
            vec![0, 1, 4, 5]
        } else {
            vec![2, 3, 6, 7]
        };
        assert_eq!(ids(&batch), expected);
        assert_eq!(batch.metadata().unwrap().get("x-other"), ["1"]);
    }
}

/// `sending_queue::batch::partition::metadata_keys`, through a whole exporter: batches
/// per tenant, forwarding only the tenant.
#[tokio::test(start_paused = true)]
async fn partition_metadata_keys_batch_per_key_and_forward_only_those_keys() {
    let backend = Script::ok();
    let batching = QueueConfig {
        batch: Some(BatchConfig {
            min_size: 4,
            partition: Some(crate::exporterhelper::PartitionConfig {
                metadata_keys: vec!["tenant".into()],
            }),
            ..BatchConfig::default()
        }),
        ..queue(100, 1)
    };
    let (exporter, _) = exporter("otlp", &config(batching), &backend);
    exporter.start(&Host::default()).await.unwrap();
    for (i, who) in ["a", "b", "a", "b"].into_iter().enumerate() {
        let first = i as u64 * 2;
        let data = numbered([first, first + 1]).with_metadata(tenant(who));
        exporter.consume(data).await.unwrap();
    }
    eventually(|| backend.calls() == 2).await;
    for batch in backend.received() {
        let metadata = batch.metadata().unwrap();
        let expected: Vec<u64> = if metadata.get("tenant") == ["a"] {
            vec![0, 1, 4, 5]
        } else {
            vec![2, 3, 6, 7]
        };
        assert_eq!(ids(&batch), expected);
        assert!(metadata.get("x-other").is_empty(), "{metadata:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_request_split_across_batches_holds_its_queue_space_until_all_are_sent() {
    let backend = Script::ok();
    let batching = QueueConfig {
        sizer: Sizer::Items,
        batch: Some(BatchConfig {
            min_size: 4,
            max_size: 4,
            ..BatchConfig::default()
        }),
        ..queue(100, 1)
    };
    let (exporter, settings) = exporter("otlp", &config(batching), &backend);
    exporter.start(&Host::default()).await.unwrap();
    backend.set_delay(Some(Duration::from_secs(1)));
    exporter.consume(numbered(0..10)).await.unwrap();
    eventually(|| backend.calls() >= 1).await;
    assert_eq!(metric(&settings, "otelcol_exporter_queue_size"), 10.0);
    eventually(|| backend.received().len() == 3).await;
    assert_eq!(
        backend
            .received()
            .iter()
            .map(SignalData::item_count)
            .collect::<Vec<_>>(),
        [4, 4, 2]
    );
    eventually(|| metric(&settings, "otelcol_exporter_queue_size") == 0.0).await;
}

// ---- The persistent queue ----

fn storage_host(dir: &std::path::Path) -> Host {
    let id: ComponentId = "file_storage".parse().unwrap();
    let settings = CreateSettings::standalone(Kind::Extension, id.clone(), None);
    let storage = FileStorage::new(
        &settings,
        FileStorageConfig {
            directory: dir.to_path_buf(),
            ..FileStorageConfig::default()
        },
    );
    Host::new([(id, Arc::new(storage) as Arc<dyn Extension>)])
}

fn persistent(size: usize) -> ExporterHelperConfig {
    config(QueueConfig {
        storage: Some("file_storage".parse().unwrap()),
        ..queue(size, 2)
    })
}

#[tokio::test]
async fn graceful_shutdown_with_the_backend_down_keeps_every_queued_item() {
    let dir = tempfile::tempdir().unwrap();
    let host = storage_host(dir.path());
    let down_backend = Script::always(down());
    let (first, settings) = exporter("otlp", &persistent(100), &down_backend);
    first.start(&host).await.unwrap();
    for id in 0..10 {
        first.consume(numbered([id])).await.unwrap();
    }
    eventually(|| down_backend.calls() >= 2).await;
    first.shutdown().await.unwrap();
    drop(first);
    assert_eq!(
        metric(&settings, "otelcol_exporter_send_failed_spans"),
        0.0,
        "nothing was given up on"
    );

    let up = Script::ok();
    let (second, _) = exporter("otlp", &persistent(100), &up);
    second.start(&host).await.unwrap();
    eventually(|| up.received().len() == 10).await;
    let mut received = up.received_ids();
    received.sort_unstable();
    assert_eq!(received, (0..10).collect::<Vec<_>>());
    second.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_outage_longer_than_max_elapsed_time_loses_nothing_from_a_persistent_queue() {
    let dir = tempfile::tempdir().unwrap();
    let host = storage_host(dir.path());
    let mut config = persistent(100);
    config.retry_on_failure.initial_interval = Duration::from_millis(5);
    config.retry_on_failure.max_interval = Duration::from_millis(10);
    config.retry_on_failure.max_elapsed_time = Duration::from_millis(20);
    let backend = Script::always(down());
    let (exporter, settings) = exporter("otlp", &config, &backend);
    exporter.start(&host).await.unwrap();
    for id in 0..5 {
        exporter.consume(numbered([id])).await.unwrap();
    }
    // Well past max_elapsed_time: a memory queue would have given up by now.
    eventually(|| backend.calls() >= 40).await;
    assert_eq!(
        metric(&settings, "otelcol_exporter_send_failed_spans"),
        0.0,
        "nothing given up on"
    );
    backend.set_fallback(Some(Ok(())));
    eventually(|| backend.received_ids().len() >= 5).await;
    let mut received = backend.received_ids();
    received.sort_unstable();
    received.dedup();
    assert_eq!(received, (0..5).collect::<Vec<_>>());
    exporter.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_keeps_items_even_with_retries_disabled() {
    let dir = tempfile::tempdir().unwrap();
    let host = storage_host(dir.path());
    let mut no_retry = persistent(100);
    no_retry.retry_on_failure.enabled = false;
    let backend = Script::hanging();
    let (first, settings) = exporter("otlp", &no_retry, &backend);
    first.start(&host).await.unwrap();
    for id in 0..4 {
        first.consume(numbered([id])).await.unwrap();
    }
    eventually(|| backend.calls() == 2).await;
    // Shutdown begins while two exports hang; once it has (new data is refused), they
    // fail. Those failures must keep the items (the Go Collector deletes them: #15677).
    let stopping = tokio::spawn({
        let first = Arc::clone(&first);
        async move { first.shutdown().await }
    });
    while first.consume(numbered([99])).await.is_ok() {
        tokio::task::yield_now().await;
    }
    backend.set_fallback(Some(Err(down())));
    stopping.await.unwrap().unwrap();
    drop(first);
    assert_eq!(metric(&settings, "otelcol_exporter_send_failed_spans"), 0.0);

    let up = Script::ok();
    let (second, _) = exporter("otlp", &no_retry, &up);
    second.start(&host).await.unwrap();
    eventually(|| {
        let received = up.received_ids();
        (0..4).all(|id| received.contains(&id))
    })
    .await;
}

#[tokio::test]
async fn items_given_up_on_are_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let host = storage_host(dir.path());
    let backend = Script::always(ConsumeError::permanent("rejected"));
    let (first, settings) = exporter("otlp", &persistent(100), &backend);
    first.start(&host).await.unwrap();
    first.consume(spans(3)).await.unwrap();
    eventually(|| metric(&settings, "otelcol_exporter_send_failed_spans") == 3.0).await;
    eventually(|| metric(&settings, "otelcol_exporter_queue_size") == 0.0).await;
    first.shutdown().await.unwrap();
    drop(first);

    let up = Script::ok();
    let (second, _) = exporter("otlp", &persistent(100), &up);
    second.start(&host).await.unwrap();
    second.consume(numbered([42])).await.unwrap();
    eventually(|| up.calls() == 1).await;
    assert_eq!(up.received_ids(), [42], "the rejected items are gone");
}

#[tokio::test]
async fn a_full_persistent_queue_refuses_like_a_memory_one() {
    let dir = tempfile::tempdir().unwrap();
    let host = storage_host(dir.path());
    let backend = Script::hanging();
    let (exporter, settings) = exporter("otlp", &persistent(3), &backend);
    exporter.start(&host).await.unwrap();
    for _ in 0..3 {
        exporter.consume(spans(1)).await.unwrap();
    }
    let error = exporter.consume(spans(2)).await.unwrap_err();
    assert!(error.is_retryable());
    assert_eq!(error.message(), "sending queue is full");
    assert_eq!(
        metric(&settings, "otelcol_exporter_enqueue_failed_spans"),
        2.0
    );
    assert_eq!(metric(&settings, "otelcol_exporter_queue_size"), 3.0);
}

#[tokio::test]
async fn a_reloaded_exporter_takes_over_the_queue_of_its_predecessor() {
    let dir = tempfile::tempdir().unwrap();
    let host = storage_host(dir.path());
    let old_backend = Script::always(down());
    let (old, _) = exporter("otlp", &persistent(100), &old_backend);
    old.start(&host).await.unwrap();
    for id in 0..5 {
        old.consume(numbered([id])).await.unwrap();
    }
    eventually(|| old_backend.calls() >= 2).await;
    // The new instance starts while the old one still runs, as in a reload.
    let new_backend = Script::ok();
    let (new, _) = exporter("otlp", &persistent(100), &new_backend);
    new.start(&host).await.unwrap();
    new.consume(numbered([5])).await.unwrap();
    old.shutdown().await.unwrap();
    eventually(|| new_backend.received().len() == 6).await;
    let mut received = new_backend.received_ids();
    received.sort_unstable();
    assert_eq!(received, (0..6).collect::<Vec<_>>());
}

#[tokio::test]
async fn batching_over_a_persistent_queue_deletes_a_request_only_when_all_of_it_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let host = storage_host(dir.path());
    let mut batching = persistent(1000);
    batching.sending_queue.sizer = Sizer::Items;
    batching.sending_queue.batch = Some(BatchConfig {
        min_size: 4,
        max_size: 4,
        ..BatchConfig::default()
    });
    // The second piece of the request fails until shutdown: the request must survive.
    let backend = Script::sequence(vec![Ok(())], Some(Err(down())));
    let (first, _) = exporter("otlp", &batching, &backend);
    first.start(&host).await.unwrap();
    first.consume(numbered(0..8)).await.unwrap();
    eventually(|| backend.calls() >= 2).await;
    first.shutdown().await.unwrap();
    drop(first);

    let up = Script::ok();
    let (second, _) = exporter("otlp", &batching, &up);
    second.start(&host).await.unwrap();
    eventually(|| up.received_ids().len() == 8).await;
    let mut received = up.received_ids();
    received.sort_unstable();
    assert_eq!(received, (0..8).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_missing_storage_extension_fails_the_start_and_says_why() {
    let backend = Script::ok();
    let (exporter, _) = exporter("otlp", &persistent(10), &backend);
    let error = exporter.consume(spans(1)).await.unwrap_err();
    assert!(error.is_retryable(), "not started yet");
    let error = exporter.start(&Host::default()).await.unwrap_err();
    assert!(
        error.to_string().contains("file_storage is not configured"),
        "{error}"
    );
}
