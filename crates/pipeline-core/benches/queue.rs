//! Sending-queue throughput: the persistent queue under each fsync policy, and the whole
//! exporter helper with a memory queue versus a persistent one.
//!
//! `cargo bench -p tributary-pipeline-core --bench queue`
//!
//! * `stored_enqueue` — 16 tasks append records concurrently (group commit) until the
//!   queue holds them all; small (1 KiB) and large (256 KiB) records.
//! * `stored_dequeue` — one reader takes and acknowledges every record of a queue that was
//!   just reopened, so every record comes from disk (the slow path).
//! * `exporter_consume` — 8 tasks push requests of 100 spans through `consume` of a helper
//!   with a no-op backend, until every span is sent: the cost of queueing end to end
//!   (memory versus persistent, where readers keeping up get the in-memory copy).

use std::path::Path;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use divan::Bencher;
use divan::counter::{BytesCount, ItemsCount};
use futures_util::future::join_all;
use tempfile::TempDir;
use tokio::runtime::Runtime;
use tributary_pipeline_core::component::{
    ComponentId, CreateSettings, Exporter, Extension, Host, Kind,
};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::exporterhelper::{
    self, Export, ExporterHelperConfig, Limit, NewRecord, QueueConfig, Sizer, StoredQueue,
};
use tributary_pipeline_core::extensions::file_storage::{FileStorage, FileStorageConfig, Fsync};
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, KeyValue, any_value};
use tributary_pipeline_core::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use tributary_pipeline_core::pdata::{Signal, Traces};

fn main() {
    divan::main();
    let cpu = CPU.lock().unwrap();
    if !cpu.is_empty() {
        println!("\nexporter_consume: process CPU-seconds per million spans (all threads)");
        for (queue, (seconds, spans)) in cpu.iter() {
            println!("  {queue:>8}: {:.2}", seconds / *spans as f64 * 1e6);
        }
    }
}

/// Process CPU time (user + system, every thread), from `/proc/self/stat`.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at ")".
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 (11 and 12 after the state field), in ticks
    // of 1/100 s on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU seconds and spans measured per `exporter_consume` queue kind.
static CPU: std::sync::Mutex<std::collections::BTreeMap<&'static str, (f64, u64)>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
});

const POLICIES: [&str; 3] = ["batch", "interval", "never"];

fn fsync(policy: &str) -> Fsync {
    match policy {
        "batch" => Fsync::Batch,
        "interval" => Fsync::Interval,
        _ => Fsync::Never,
    }
}

fn storage(dir: &Path, policy: &str) -> FileStorage {
    let settings =
        CreateSettings::standalone(Kind::Extension, "file_storage".parse().unwrap(), None);
    FileStorage::new(
        &settings,
        FileStorageConfig {
            directory: dir.to_path_buf(),
            fsync: fsync(policy),
            fsync_interval: Duration::from_millis(200),
            ..FileStorageConfig::default()
        },
    )
}

async fn open(dir: &Path, policy: &str) -> Arc<dyn StoredQueue> {
    use tributary_pipeline_core::exporterhelper::QueueStorage as _;
    storage(dir, policy)
        .open_queue(&"bench".parse().unwrap(), Signal::Traces)
        .await
        .unwrap()
}

fn record(len: usize) -> NewRecord {
    NewRecord {
        prefix: Bytes::new(),
        body: Bytes::from(vec![7u8; len]),
        items: 1,
        cached: None,
    }
}

const NO_LIMIT: Limit = Limit {
    sizer: Sizer::Requests,
    capacity: u64::MAX,
};

fn records_for(len: usize) -> usize {
    if len >= 64 * 1024 { 200 } else { 5000 }
}

async fn fill(queue: &Arc<dyn StoredQueue>, len: usize, count: usize) {
    join_all((0..16).map(|worker| {
        let queue = Arc::clone(queue);
        async move {
            for _ in (worker..count).step_by(16) {
                queue.append(record(len), NO_LIMIT, false).await.unwrap();
            }
        }
    }))
    .await;
}

#[divan::bench(args = POLICIES, consts = [1024, 262144], sample_count = 5, sample_size = 1)]
fn stored_enqueue<const LEN: usize>(bencher: Bencher, policy: &str) {
    let count = records_for(LEN);
    bencher
        .counter(BytesCount::new(LEN * count))
        .with_inputs(|| {
            let dir = TempDir::new().unwrap();
            let queue = RUNTIME.block_on(open(dir.path(), policy));
            (dir, queue)
        })
        .bench_local_values(|(dir, queue)| {
            RUNTIME.block_on(async {
                fill(&queue, LEN, count).await;
                queue.sync().await.unwrap();
            });
            (dir, queue)
        });
}

#[divan::bench(args = POLICIES, consts = [1024, 262144], sample_count = 5, sample_size = 1)]
fn stored_dequeue<const LEN: usize>(bencher: Bencher, policy: &str) {
    let count = records_for(LEN);
    bencher
        .counter(BytesCount::new(LEN * count))
        .with_inputs(|| {
            let dir = TempDir::new().unwrap();
            let queue = RUNTIME.block_on(async {
                let queue = open(dir.path(), policy).await;
                fill(&queue, LEN, count).await;
                drop(queue);
                // Reopened: nothing cached, every record is read from disk.
                open(dir.path(), policy).await
            });
            (dir, queue)
        })
        .bench_local_values(|(dir, queue)| {
            RUNTIME.block_on(async {
                for _ in 0..count {
                    let record = queue.next().await.unwrap();
                    queue.ack(record.seq);
                }
                queue.sync().await.unwrap();
            });
            (dir, queue)
        });
}

/// A backend that accepts everything at once and says when it has seen `target` spans.
struct Discard {
    spans: Arc<std::sync::atomic::AtomicU64>,
    target: u64,
    reached: Arc<tokio::sync::Notify>,
}

#[async_trait]
impl Export<Traces> for Discard {
    async fn export(&self, data: Traces) -> Result<(), ConsumeError> {
        use std::sync::atomic::Ordering;
        let total = self
            .spans
            .fetch_add(data.item_count() as u64, Ordering::SeqCst)
            + data.item_count() as u64;
        if total >= self.target {
            self.reached.notify_one();
        }
        Ok(())
    }
}

/// A request of 100 spans with 10 attributes each.
fn request() -> Traces {
    let attributes: Vec<KeyValue> = (0..10)
        .map(|i| KeyValue {
            key: format!("attribute.{i}"),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(format!("value-{i}"))),
            }),
            ..Default::default()
        })
        .collect();
    let spans = (0..100)
        .map(|i| Span {
            name: format!("span-{i}"),
            trace_id: vec![i as u8; 16],
            span_id: vec![i as u8; 8],
            attributes: attributes.clone(),
            ..Default::default()
        })
        .collect();
    Traces::new(ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    })
}

const REQUESTS: usize = 2000;

#[divan::bench(args = ["memory", "batch", "interval", "never"], sample_count = 5, sample_size = 1)]
fn exporter_consume(bencher: Bencher, queue: &'static str) {
    let template = request();
    let _ = template.encoded();
    bencher
        .counter(ItemsCount::new(REQUESTS * 100))
        .with_inputs(|| {
            let dir = TempDir::new().unwrap();
            let storage_id: ComponentId = "file_storage".parse().unwrap();
            let persistent = queue != "memory";
            let host = if persistent {
                let extension: Arc<dyn Extension> = Arc::new(storage(dir.path(), queue));
                Host::new([(storage_id.clone(), extension)])
            } else {
                Host::default()
            };
            let config = ExporterHelperConfig {
                sending_queue: QueueConfig {
                    storage: persistent.then_some(storage_id),
                    queue_size: REQUESTS,
                    ..QueueConfig::default()
                },
                ..ExporterHelperConfig::default()
            };
            let settings = CreateSettings::standalone(
                Kind::Exporter,
                "otlp".parse().unwrap(),
                Some(Signal::Traces),
            );
            let reached = Arc::new(tokio::sync::Notify::new());
            let exported = Arc::new(std::sync::atomic::AtomicU64::new(0));
            let backend = Discard {
                spans: Arc::clone(&exported),
                target: (REQUESTS * 100) as u64,
                reached: Arc::clone(&reached),
            };
            let exporter: Arc<dyn Exporter<Traces>> =
                exporterhelper::build(&settings, &config, backend).unwrap();
            RUNTIME.block_on(exporter.start(&host)).unwrap();
            (dir, reached, exporter, exported)
        })
        .bench_local_values(|(dir, reached, exporter, exported)| {
            let cpu_before = cpu_seconds();
            RUNTIME.block_on(async {
                join_all((0..8).map(|worker| {
                    let exporter = Arc::clone(&exporter);
                    let template = template.clone();
                    async move {
                        for _ in (worker..REQUESTS).step_by(8) {
                            exporter.consume(template.clone()).await.unwrap();
                        }
                    }
                }))
                .await;
                // A deadline rather than a hang if accepted spans go missing (records
                // published after their segment was left once did, under `never`).
                if tokio::time::timeout(Duration::from_secs(60), reached.notified())
                    .await
                    .is_err()
                {
                    panic!(
                        "{queue}: {} of {} accepted spans reached the backend within 60 s",
                        exported.load(std::sync::atomic::Ordering::SeqCst),
                        REQUESTS * 100
                    );
                }
            });
            RUNTIME.block_on(exporter.shutdown()).unwrap();
            let used = cpu_seconds() - cpu_before;
            let mut cpu = CPU.lock().unwrap();
            let entry = cpu.entry(queue).or_default();
            entry.0 += used;
            entry.1 += (REQUESTS * 100) as u64;
            (dir, exporter)
        });
}
