//! The persistent sending queue end to end, with real gateway processes: an `otlp`
//! receiver, an `otlp` exporter whose `sending_queue` lives in a `file_storage` extension,
//! and an OTLP/gRPC backend in the test that is healthy, refuses, flaps, hangs or is down.
//!
//! * `kill -9` at random moments, at least 20 times, on one data directory, through the
//!   `batch` processor and exporter-side batching or a bare pipeline: every span the
//!   gateway acknowledged reaches the backend (duplicates bounded by what was in flight),
//!   and once all is delivered the delivered segments are gone from the disk.
//!   `TRIBUTARY_CRASH_SEED=<seed>` replays a run; the seed is printed.
//!   `TRIBUTARY_CRASH_FSYNC=interval|never` runs it under another `fsync` policy (a
//!   process crash must lose nothing under any of them; the default is `batch`).
//! * A graceful shutdown with the backend down, or with exports in progress and no
//!   retries, exits 0 and keeps every queued span for the next start (the Go Collector
//!   deletes them: its #15677 and #6771).
//! * Damaged segments (a torn newest segment, a flipped byte in an older one) and an
//!   unreadable ledger: the gateway starts anyway, counts and locates the damage, and
//!   delivers every intact record.

mod common;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use prost::Message;
use tributary::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;

/// A gateway configuration: OTLP/gRPC in → `otlp` exporter with a persistent queue.
struct Setup {
    /// Holds the configurations and the storage directory.
    dir: tempfile::TempDir,
    config: PathBuf,
    backend: String,
    storage: String,
    grpc: SocketAddr,
    metrics: SocketAddr,
}

impl Setup {
    /// `exporter` and `storage` are extra YAML lines (indented four spaces) for the
    /// `otlp` exporter and the `file_storage` extension.
    fn new(backend: &str, exporter: &str, storage: &str) -> Setup {
        let dir = temp_dir();
        let grpc: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let metrics: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let mut setup = Setup {
            config: dir.path().join("gateway.yaml"),
            dir,
            backend: backend.to_string(),
            storage: storage.to_string(),
            grpc,
            metrics,
        };
        setup.config = setup.write_config("gateway.yaml", exporter, "");
        setup
    }

    /// Writes a configuration on the same ports and storage, with other exporter
    /// settings and `processors` (a YAML flow list) in the pipeline.
    fn write_config(&self, name: &str, exporter: &str, processors: &str) -> PathBuf {
        let (backend, storage, grpc, metrics) =
            (&self.backend, &self.storage, self.grpc, self.metrics);
        let storage_dir = self.dir.path().join("storage");
        let yaml = format!(
            r#"
extensions:
  file_storage:
    directory: "{storage_dir}"
    create_directory: true
{storage}
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "{grpc}" }}
processors:
  batch: {{ send_batch_size: 50, send_batch_max_size: 100, timeout: 20ms }}
exporters:
  otlp:
    endpoint: "{backend}"
{exporter}
service:
  extensions: [file_storage]
  telemetry:
    metrics: {{ address: "{metrics}" }}
  pipelines:
    traces: {{ receivers: [otlp], processors: [{processors}], exporters: [otlp] }}
"#,
            storage_dir = storage_dir.display(),
        );
        let path = self.dir.path().join(name);
        std::fs::write(&path, yaml).unwrap();
        path
    }

    /// The directory of the `otlp` exporter's traces queue.
    fn queue_dir(&self) -> PathBuf {
        self.dir.path().join("storage").join("exporter.otlp.traces")
    }

    fn spawn(&self) -> Proc {
        spawn_gateway(&self.config)
    }

    /// Starts the gateway and waits until it takes data.
    fn start(&self) -> Proc {
        let mut gateway = self.spawn();
        wait_serving(&mut gateway, self.grpc, Duration::from_secs(60));
        gateway
    }

    /// The value of an internal metric of the `otlp` exporter's traces.
    fn metric(&self, name: &str) -> f64 {
        let page = get(self.metrics, "/metrics").text();
        assert!(
            page.contains(name),
            "no metric {name} in the gateway's metrics:\n{page}"
        );
        metric(
            &page,
            name,
            &[("exporter", "otlp"), ("data_type", "traces")],
        )
    }

    /// Waits until the exporter's queue is empty (everything delivered and acknowledged).
    fn wait_queue_empty(&self) {
        eventually("an empty sending queue", Duration::from_secs(60), || {
            (self.metric("otelcol_exporter_queue_size") == 0.0).then_some(())
        });
    }
}

fn spawn_gateway(config: &Path) -> Proc {
    Proc::spawn(
        &example("gateway"),
        &["--config", config.to_str().unwrap()],
        &[],
    )
}

/// Sends `requests` requests of `per_request` spans (numbered from `first`), each of
/// which must be accepted; returns the span names.
fn send_all(
    client: &mut OtlpClient,
    first: u64,
    requests: u64,
    per_request: u64,
    padding: usize,
) -> Vec<String> {
    let mut names = Vec::new();
    for r in 0..requests {
        let start = first + r * per_request;
        let ids = start..start + per_request;
        client
            .export(spans_request(ids.clone(), padding))
            .unwrap_or_else(|status| panic!("request {r} refused: {status:?}"));
        names.extend(ids.map(span_name));
    }
    names
}

/// Waits until every name in `expected` arrived at `backend`.
fn wait_delivered(backend: &OtlpBackend, expected: &[String], timeout: Duration) {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let missing: Vec<String> = backend.with_received(|received| {
            expected
                .iter()
                .filter(|name| !received.contains_key(*name))
                .cloned()
                .collect()
        });
        if missing.is_empty() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} of {} spans never arrived, e.g. {:?}",
            missing.len(),
            expected.len(),
            &missing[..missing.len().min(10)]
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Asserts that the gateway exits with status 0 after SIGTERM.
fn stop_gracefully(gateway: &mut Proc) {
    gateway.signal("TERM");
    let status = gateway.wait_exit(Duration::from_secs(60));
    assert!(
        status.success(),
        "the gateway exited with {status} after SIGTERM:\n{}",
        gateway.output()
    );
}

/// Asserts that nothing in a gateway's output says it panicked.
fn assert_no_panic(output: &str) {
    assert!(
        !output.contains("panicked"),
        "the gateway panicked:\n{output}"
    );
}

// ---------------------------------------------------------------- kill -9

const CYCLES: usize = 24;
const PRODUCERS: u64 = 3;
const NUM_CONSUMERS: u64 = 4;
const MAX_REQUEST_SPANS: u64 = 20;
const BATCH_MAX: u64 = 64;
/// The largest record: a batch of the batch processor (`send_batch_max_size`).
const RECORD_MAX: u64 = 100;

fn random_mode(rng: &mut Rng) -> BackendMode {
    match rng.below(10) {
        0..=2 => BackendMode::Down,
        3..=5 => BackendMode::Flapping,
        6 | 7 => BackendMode::Refusing,
        _ => BackendMode::Healthy,
    }
}

/// Sends requests of random size until `stop`; records the spans of accepted requests.
async fn produce(
    addr: SocketAddr,
    seed: u64,
    next_id: Arc<AtomicU64>,
    acked: Arc<Mutex<Vec<u64>>>,
    stop: Arc<AtomicBool>,
) {
    use tributary::pdata::proto::collector::trace::v1::trace_service_client::TraceServiceClient;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_timeout(Duration::from_secs(1))
        .timeout(Duration::from_secs(30))
        .connect_lazy();
    let mut client = TraceServiceClient::new(channel);
    let mut rng = Rng::new(seed);
    while !stop.load(Ordering::SeqCst) {
        let n = 1 + rng.below(MAX_REQUEST_SPANS);
        let first = next_id.fetch_add(n, Ordering::SeqCst);
        match client.export(spans_request(first..first + n, 200)).await {
            Ok(_) => acked.lock().unwrap().extend(first..first + n),
            // Refused (the gateway is starting, stopping, or dead): not acknowledged.
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

#[test]
fn acknowledged_spans_survive_repeated_kill_9_of_the_gateway() {
    let seed = seed_from_env("TRIBUTARY_CRASH_SEED");
    let mut rng = Rng::new(seed);
    let backend = OtlpBackend::start(BackendMode::Down, seed);
    let retry = "    timeout: 10s
    retry_on_failure: { initial_interval: 20ms, max_interval: 200ms, max_elapsed_time: 0s }";
    // Two configurations, picked at random for each run: the batch processor in front
    // of an exporter that batches again, and a bare pipeline.
    let setup = Setup::new(
        &backend.endpoint(),
        &format!(
            "{retry}
    sending_queue: {{ storage: file_storage, num_consumers: {NUM_CONSUMERS}, queue_size: 100000 }}"
        ),
        &format!(
            "    segment_size_mib: 1\n    fsync: {}\n    fsync_interval: 200ms",
            std::env::var("TRIBUTARY_CRASH_FSYNC").unwrap_or_else(|_| "batch".into())
        ),
    );
    let batched = setup.write_config(
        "batched.yaml",
        &format!(
            "{retry}
    sending_queue:
      storage: file_storage
      num_consumers: {NUM_CONSUMERS}
      sizer: items
      queue_size: 10000000
      batch: {{ flush_timeout: 20ms, min_size: 40, max_size: {BATCH_MAX} }}"
        ),
        "batch",
    );
    let clients = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let next_id = Arc::new(AtomicU64::new(0));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut outputs = String::new();

    for cycle in 0..CYCLES {
        backend.set_mode(random_mode(&mut rng));
        let mut gateway = if rng.below(2) == 0 {
            spawn_gateway(&batched)
        } else {
            setup.spawn()
        };
        if rng.below(5) == 0 {
            // Killed while starting: recovering the queue, or delivering its backlog.
            let after = rng.millis(0, 400);
            std::thread::sleep(after);
            gateway.kill();
            println!("cycle {cycle}: killed {after:?} after its start");
            outputs.push_str(&gateway.output());
            continue;
        }
        wait_serving(&mut gateway, setup.grpc, Duration::from_secs(60));
        let stop = Arc::new(AtomicBool::new(false));
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                clients.spawn(produce(
                    setup.grpc,
                    seed ^ ((cycle as u64) << 8 | p),
                    Arc::clone(&next_id),
                    Arc::clone(&acked),
                    Arc::clone(&stop),
                ))
            })
            .collect();
        let lifetime = rng.millis(300, 1500);
        let flip_at = lifetime.mul_f64(rng.below(100) as f64 / 100.0);
        std::thread::sleep(flip_at);
        backend.set_mode(random_mode(&mut rng));
        std::thread::sleep(lifetime - flip_at);
        gateway.kill();
        stop.store(true, Ordering::SeqCst);
        for producer in producers {
            clients.block_on(producer).unwrap();
        }
        outputs.push_str(&gateway.output());
        println!(
            "cycle {cycle}: killed after {lifetime:?}; {} spans acknowledged, {} distinct received so far",
            acked.lock().unwrap().len(),
            backend.with_received(HashMap::len)
        );
    }

    // A last run with a healthy backend delivers the backlog.
    backend.set_mode(BackendMode::Healthy);
    let mut gateway = spawn_gateway(&batched);
    wait_serving(&mut gateway, setup.grpc, Duration::from_secs(60));
    let acked: Vec<String> = acked
        .lock()
        .unwrap()
        .iter()
        .map(|&id| span_name(id))
        .collect();
    assert!(
        acked.len() > 1000,
        "the test must exercise something: {} spans acknowledged",
        acked.len()
    );
    wait_delivered(&backend, &acked, Duration::from_secs(180));
    setup.wait_queue_empty();
    assert_eq!(
        setup.metric("tributary_file_storage_corrupt_records"),
        0.0,
        "kill -9 tears writes at the end of the log, it never damages a record"
    );
    // Space is reclaimed: once everything is delivered only the segment being appended
    // to is left (the Go Collector's #8115 left orphaned items on disk).
    eventually(
        "delivered segments deleted",
        Duration::from_secs(30),
        || (segments(&setup.queue_dir()).len() == 1).then_some(()),
    );
    stop_gracefully(&mut gateway);
    outputs.push_str(&gateway.output());
    assert_no_panic(&outputs);
    assert!(
        !outputs.contains("skipping a corrupt record") && !outputs.contains("ledger is unreadable"),
        "a crash left damage that recovery had to skip"
    );

    let received = backend.received();
    let sent = next_id.load(Ordering::SeqCst);
    let duplicates: u64 = received.values().map(|&n| u64::from(n - 1)).sum();
    let unacknowledged_delivered = received.len() - acked.len();
    // At a crash, what was exported and not yet acknowledged in the queue is exported
    // again: the records being exported (one per consumer), and the records that were
    // split across a sent batch and a pending one. The flapping backend adds the spans
    // whose answer it "lost".
    let per_crash = (NUM_CONSUMERS + 2) * RECORD_MAX;
    let bound = backend.lost_answer_spans() + 2 * CYCLES as u64 * per_crash;
    println!(
        "seed {seed}: {sent} spans sent, {} acknowledged, {} distinct delivered ({unacknowledged_delivered} of them never acknowledged), {duplicates} duplicates (bound {bound}; {} spans recorded with a lost answer)",
        acked.len(),
        received.len(),
        backend.lost_answer_spans()
    );
    assert!(
        duplicates <= bound,
        "{duplicates} duplicates is more than what can have been in flight ({bound}), seed {seed}"
    );
}

// ---------------------------------------------------------------- graceful shutdown

#[test]
fn graceful_shutdown_with_the_backend_down_keeps_every_queued_span() {
    let backend = OtlpBackend::start(BackendMode::Down, 1);
    // Defaults (retry 5s → 30s), so exports wait in their backoff at shutdown.
    let setup = Setup::new(
        &backend.endpoint(),
        "    sending_queue: { storage: file_storage }",
        "",
    );
    let mut gateway = setup.start();
    let mut client = OtlpClient::new(setup.grpc);
    let sent = send_all(&mut client, 0, 30, 10, 0);
    gateway.wait_for_output("exporting failed; will retry", Duration::from_secs(30));
    stop_gracefully(&mut gateway);
    let first_run = gateway.output();
    assert!(
        !first_run.contains("dropping"),
        "the gateway dropped data at shutdown:\n{first_run}"
    );

    backend.set_mode(BackendMode::Healthy);
    let mut gateway = setup.start();
    wait_delivered(&backend, &sent, Duration::from_secs(60));
    setup.wait_queue_empty();
    stop_gracefully(&mut gateway);
    assert_no_panic(&gateway.output());
    let received = backend.received();
    assert_eq!(received.len(), sent.len(), "only what was sent arrived");
    assert!(
        received.values().all(|&n| n == 1),
        "nothing was delivered before the restart, so nothing twice"
    );
}

#[test]
fn shutdown_during_an_export_keeps_the_data_even_without_retries() {
    // The backend takes the first exports and never answers; retries are off. The Go
    // Collector's drain gives every queued request one attempt and deletes it when that
    // fails (#15677); here the queued requests are not handed out, and the exports still
    // in progress when the drain times out stay stored.
    let backend = OtlpBackend::start(BackendMode::Hanging, 2);
    let setup = Setup::new(
        &backend.endpoint(),
        "    timeout: 120s
    retry_on_failure: { enabled: false }
    sending_queue: { storage: file_storage, num_consumers: 2, drain_timeout: 1s }",
        "",
    );
    let mut gateway = setup.start();
    let mut client = OtlpClient::new(setup.grpc);
    let sent = send_all(&mut client, 0, 30, 10, 0);
    eventually(
        "exports in progress at the backend",
        Duration::from_secs(30),
        || (backend.requests() >= 2).then_some(()),
    );
    stop_gracefully(&mut gateway);

    backend.set_mode(BackendMode::Healthy);
    let mut gateway = setup.start();
    wait_delivered(&backend, &sent, Duration::from_secs(60));
    setup.wait_queue_empty();
    stop_gracefully(&mut gateway);
    assert_no_panic(&gateway.output());
    let received = backend.received();
    assert_eq!(received.len(), sent.len(), "only what was sent arrived");
    assert!(
        received.values().all(|&n| n == 1),
        "the interrupted exports were never recorded, so nothing arrives twice"
    );
}

// ---------------------------------------------------------------- damaged files

const SEGMENT_HEADER_LEN: usize = 16;
const RECORD_HEADER_LEN: usize = 24;

/// A record of a segment file, as documented in `file_storage`'s on-disk format.
#[derive(Debug)]
struct StoredRecord {
    offset: u64,
    len: u64,
    spans: Vec<String>,
}

/// Reads every record of a segment and the spans each one holds.
fn read_segment(path: &Path) -> Vec<StoredRecord> {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"TRIBSEG1", "{}", path.display());
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let mut records = Vec::new();
    let mut at = SEGMENT_HEADER_LEN;
    while at + RECORD_HEADER_LEN <= bytes.len() {
        assert_eq!(&bytes[at..at + 4], b"TRQ1", "a record at {at}");
        let len = u32_at(at + 4);
        let payload = &bytes[at + RECORD_HEADER_LEN..at + RECORD_HEADER_LEN + len];
        // format, signal, flags, metadata length, metadata, then the OTLP protobuf.
        assert_eq!(payload[..2], [1, 1], "a traces record of format 1");
        let metadata_len = u32::from_le_bytes(payload[3..7].try_into().unwrap()) as usize;
        let request = ExportTraceServiceRequest::decode(&payload[7 + metadata_len..]).unwrap();
        records.push(StoredRecord {
            offset: at as u64,
            len: (RECORD_HEADER_LEN + len) as u64,
            spans: span_names(&request).map(String::from).collect(),
        });
        at += RECORD_HEADER_LEN + len;
    }
    assert_eq!(
        at,
        bytes.len(),
        "{} ends with a whole record",
        path.display()
    );
    records
}

/// The segment files of a queue directory, oldest first.
fn segments(queue: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(queue)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    paths.sort();
    paths
}

/// The log line containing `needle`, if any.
fn log_line<'a>(output: &'a str, needle: &str) -> Option<&'a str> {
    output.lines().find(|l| l.contains(needle))
}

#[test]
fn damaged_segments_are_counted_located_and_skipped_and_the_rest_delivered() {
    let backend = OtlpBackend::start(BackendMode::Down, 3);
    let setup = Setup::new(
        &backend.endpoint(),
        "    retry_on_failure: { initial_interval: 1s }
    sending_queue: { storage: file_storage, num_consumers: 2 }",
        "    segment_size_mib: 1",
    );
    let mut gateway = setup.start();
    let mut client = OtlpClient::new(setup.grpc);
    // About 40 KiB per request, 3 MiB in all: four segments of 1 MiB.
    let sent = send_all(&mut client, 0, 80, 40, 1000);
    stop_gracefully(&mut gateway);

    let queue = setup.queue_dir();
    let files = segments(&queue);
    assert!(files.len() >= 3, "several segments: {files:?}");
    let on_disk: usize = files
        .iter()
        .map(|f| read_segment(f).iter().map(|r| r.spans.len()).sum::<usize>())
        .sum();
    assert_eq!(on_disk, sent.len(), "every accepted span is on disk");

    // A flipped byte in the payload of a record in the middle of the oldest segment.
    let oldest = &files[0];
    let records = read_segment(oldest);
    let flipped = &records[records.len() / 2];
    let mut bytes = std::fs::read(oldest).unwrap();
    let at = (flipped.offset + flipped.len / 2) as usize;
    bytes[at] ^= 0xff;
    std::fs::write(oldest, &bytes).unwrap();
    // The newest segment cut in the middle of its last record.
    let newest = files.last().unwrap();
    let torn = read_segment(newest).pop().unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(newest)
        .unwrap()
        .set_len(torn.offset + torn.len / 2)
        .unwrap();
    let lost: HashSet<&String> = flipped.spans.iter().chain(&torn.spans).collect();
    let intact: Vec<String> = sent.iter().filter(|s| !lost.contains(s)).cloned().collect();

    backend.set_mode(BackendMode::Healthy);
    let mut gateway = setup.start();
    wait_delivered(&backend, &intact, Duration::from_secs(60));
    setup.wait_queue_empty();
    assert_eq!(
        setup.metric("tributary_file_storage_corrupt_records"),
        1.0,
        "the flipped record is counted once"
    );
    let output = gateway.output();
    let skipped = log_line(&output, "skipping a corrupt record")
        .unwrap_or_else(|| panic!("the damaged record is not logged:\n{output}"));
    let oldest_name = oldest.file_name().unwrap().to_str().unwrap();
    assert!(
        skipped.contains(oldest_name)
            && skipped.contains(&format!("\"offset\":{}", flipped.offset)),
        "the log locates the damaged record ({oldest_name} offset {}): {skipped}",
        flipped.offset
    );
    let truncated = log_line(&output, "truncating a write torn")
        .unwrap_or_else(|| panic!("the torn tail is not logged:\n{output}"));
    let newest_name = newest.file_name().unwrap().to_str().unwrap();
    assert!(
        truncated.contains(newest_name)
            && truncated.contains(&format!("\"offset\":{}", torn.offset)),
        "the log locates the torn record ({newest_name} offset {}): {truncated}",
        torn.offset
    );
    stop_gracefully(&mut gateway);
    assert_no_panic(&gateway.output());

    let received = backend.received();
    assert_eq!(
        received.len(),
        intact.len(),
        "the damaged records' spans cannot arrive: {:?}",
        lost.iter()
            .filter(|s| received.contains_key(**s))
            .collect::<Vec<_>>()
    );
    assert!(
        received.values().all(|&n| n == 1),
        "each intact span arrived once"
    );
    println!(
        "{} spans sent, {} in damaged records, {} delivered",
        sent.len(),
        lost.len(),
        received.len()
    );
}

#[test]
fn an_unreadable_ledger_delivers_everything_again() {
    let backend = OtlpBackend::start(BackendMode::Healthy, 4);
    let setup = Setup::new(
        &backend.endpoint(),
        "    retry_on_failure: { initial_interval: 1s }
    sending_queue: { storage: file_storage, num_consumers: 2 }",
        "",
    );
    let mut gateway = setup.start();
    let mut client = OtlpClient::new(setup.grpc);
    let delivered = send_all(&mut client, 0, 20, 10, 0);
    wait_delivered(&backend, &delivered, Duration::from_secs(60));
    setup.wait_queue_empty();
    backend.set_mode(BackendMode::Down);
    let queued = send_all(&mut client, 1000, 20, 10, 0);
    stop_gracefully(&mut gateway);

    // Both copies of the ledger damaged.
    let queue = setup.queue_dir();
    let mut damaged = 0;
    for name in ["ledger.0", "ledger.1"] {
        let path = queue.join(name);
        let mut bytes = std::fs::read(&path).unwrap();
        if bytes.is_empty() {
            continue;
        }
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
        damaged += 1;
    }
    assert!(damaged > 0, "the first run wrote a ledger");

    backend.set_mode(BackendMode::Healthy);
    let mut gateway = setup.start();
    wait_delivered(&backend, &queued, Duration::from_secs(60));
    setup.wait_queue_empty();
    assert_eq!(
        setup.metric("tributary_file_storage_corrupt_records"),
        1.0,
        "the unreadable ledger is counted"
    );
    let output = gateway.output();
    let line = log_line(&output, "ledger is unreadable")
        .unwrap_or_else(|| panic!("the unreadable ledger is not logged:\n{output}"));
    assert!(
        line.contains(queue.file_name().unwrap().to_str().unwrap()),
        "the log names the queue's directory: {line}"
    );
    stop_gracefully(&mut gateway);
    assert_no_panic(&gateway.output());

    let received = backend.received();
    assert!(
        queued.iter().all(|s| received[s] == 1),
        "what was queued arrives once"
    );
    assert!(
        delivered.iter().all(|s| received[s] == 2),
        "without a ledger, what was delivered before but is still on disk is delivered again (duplicates, never loss)"
    );
}
