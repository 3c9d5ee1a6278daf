//! The `filelog` receiver end to end, with real gateway processes reading real files and
//! an OTLP/gRPC logs backend in the test:
//!
//! * lines written while the file is rotated by rename and by copytruncate, truncated,
//!   and replaced under its name each arrive exactly once;
//! * `kill -9` of the collector at random moments, 12 times, while lines are written
//!   (with rename rotations) and the backend flaps: every line arrives at least once,
//!   and duplicates stay within the stated bound. Checkpoints go through `file_storage`
//!   and the exporter's sending queue is persistent in the same extension.
//!   `TRIBUTARY_CRASH_SEED=<seed>` replays a run; the seed is printed. The same with a
//!   `recombine` operator joining each line with the next: the group an operator holds
//!   when the collector dies is read again, not lost.
//!
//! * The agent's built-in configuration (no `--config`) follows a log directory and
//!   forwards to a gateway writing a file: lines arrive, and after a `kill -9` of the
//!   agent and a restart, lines written meanwhile arrive too.
//!
//! Every collector is a child process ([`Proc`]) killed when its handle drops, so none
//! outlives its test; the backend runs on a runtime owned by the test.

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{
    Proc, Rng, example, free_port, read_json_lines, seed_from_env, temp_dir, wait_listening,
};
use tributary::pdata::proto::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use tributary::pdata::proto::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use tributary::pdata::proto::common::v1::any_value;

/// The receiver's largest batch (`tributary_receivers::filelog::MAX_BATCH_RECORDS`).
const MAX_BATCH_RECORDS: u64 = 1000;
/// The exporter's `num_consumers` in the crash test: requests in flight at once.
const NUM_CONSUMERS: u64 = 2;

struct Shared {
    flapping: AtomicBool,
    rng: Mutex<Rng>,
    /// Body → how many times it arrived.
    received: Mutex<HashMap<String, u32>>,
    /// Records recorded and then refused (the sender sends them again).
    lost_answers: AtomicU64,
}

struct Backend(Arc<Shared>);

#[tonic::async_trait]
impl LogsService for Backend {
    async fn export(
        &self,
        request: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        let request = request.into_inner();
        let bodies: Vec<String> = request
            .resource_logs
            .iter()
            .flat_map(|r| &r.scope_logs)
            .flat_map(|s| &s.log_records)
            .filter_map(|r| match r.body.as_ref()?.value.as_ref()? {
                any_value::Value::StringValue(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        let fate = if self.0.flapping.load(Ordering::SeqCst) {
            self.0.rng.lock().unwrap().below(8)
        } else {
            0
        };
        if fate == 4 || fate == 5 {
            return Err(tonic::Status::unavailable("the test backend refuses"));
        }
        let mut received = self.0.received.lock().unwrap();
        for body in &bodies {
            *received.entry(body.clone()).or_default() += 1;
        }
        if fate >= 6 {
            self.0
                .lost_answers
                .fetch_add(bodies.len() as u64, Ordering::SeqCst);
            return Err(tonic::Status::unavailable(
                "recorded, but the answer is lost",
            ));
        }
        Ok(tonic::Response::new(ExportLogsServiceResponse::default()))
    }
}

/// An OTLP/gRPC logs backend on 127.0.0.1 that records bodies; it may flap.
struct LogsBackend {
    endpoint: String,
    shared: Arc<Shared>,
    _runtime: tokio::runtime::Runtime,
}

impl LogsBackend {
    fn start(seed: u64) -> LogsBackend {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let shared = Arc::new(Shared {
            flapping: AtomicBool::new(false),
            rng: Mutex::new(Rng::new(seed)),
            received: Mutex::new(HashMap::new()),
            lost_answers: AtomicU64::new(0),
        });
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let service = LogsServiceServer::new(Backend(Arc::clone(&shared)))
            .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
            .max_decoding_message_size(256 << 20);
        runtime.spawn(async move {
            let incoming = tonic::transport::server::TcpIncoming::from(listener);
            let _ = tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(incoming)
                .await;
        });
        LogsBackend {
            endpoint,
            shared,
            _runtime: runtime,
        }
    }

    fn received(&self) -> HashMap<String, u32> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Waits until every line `0..count` arrived; panics naming the missing ones.
    fn wait_for(&self, count: usize, timeout: Duration) -> HashMap<String, u32> {
        self.wait_for_bodies(count, timeout, line)
    }

    /// Waits until every body `body(0..count)` arrived; panics naming the missing ones.
    fn wait_for_bodies(
        &self,
        count: usize,
        timeout: Duration,
        body: fn(usize) -> String,
    ) -> HashMap<String, u32> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let received = self.received();
            let missing: Vec<usize> = (0..count)
                .filter(|i| !received.contains_key(&body(*i)))
                .collect();
            if missing.is_empty() {
                return received;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{} of {count} lines missing at the backend after {timeout:?}, the first: {:?}",
                missing.len(),
                &missing[..missing.len().min(10)]
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn line(i: usize) -> String {
    format!("line {i:07} of the application's log, written by the test")
}

/// The line after `line(i)` in grouped files: `recombine` joins the two.
fn detail(i: usize) -> String {
    format!("+ detail of line {i:07}")
}

/// The record `recombine` makes of `line(i)` and `detail(i)`.
fn group(i: usize) -> String {
    format!("{}\n{}", line(i), detail(i))
}

fn append(path: &Path, from: usize, to: usize) {
    append_lines(path, from, to, false);
}

/// Appends `line(i)` for `from..to`, each followed by `detail(i)` when `grouped`; one
/// write per line, so a reader may see a group's first line alone.
fn append_lines(path: &Path, from: usize, to: usize, grouped: bool) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for i in from..to {
        file.write_all(format!("{}\n", line(i)).as_bytes()).unwrap();
        if grouped {
            file.write_all(format!("{}\n", detail(i)).as_bytes())
                .unwrap();
        }
    }
}

/// The receiver's `operators` joining `line(i)` with `detail(i)`.
const RECOMBINE: &str = r#"    operators:
      - type: recombine
        combine_field: body
        is_first_entry: body startsWith "line "
"#;

/// A collector config: filelog over `logs/*.log*` (through `operators`, a YAML block
/// indented for the receiver, or "") → otlp to the backend.
fn write_config(dir: &Path, backend: &str, storage: bool, operators: &str) -> PathBuf {
    let state = dir.join("state");
    let (extension, uses, receiver_storage, queue) = if storage {
        (
            format!(
                "extensions:\n  file_storage:\n    directory: \"{}\"\n    create_directory: true\n",
                state.display()
            ),
            "  extensions: [file_storage]\n",
            "    storage: file_storage\n",
            format!(
                "    sending_queue: {{ storage: file_storage, num_consumers: {NUM_CONSUMERS}, queue_size: 100000 }}\n"
            ),
        )
    } else {
        (String::new(), "", "", String::new())
    };
    let yaml = format!(
        r#"{extension}
receivers:
  filelog:
    include: ["{logs}/*.log*"]
    start_at: beginning
    poll_interval: 20ms
    fingerprint_size: 64
{receiver_storage}{operators}
exporters:
  otlp:
    endpoint: "{backend}"
    timeout: 5s
    retry_on_failure: {{ initial_interval: 20ms, max_interval: 200ms, max_elapsed_time: 0s }}
{queue}
service:
{uses}  telemetry:
    metrics: {{ address: "127.0.0.1:{metrics}" }}
  pipelines:
    logs: {{ receivers: [filelog], exporters: [otlp] }}
"#,
        logs = dir.join("logs").display(),
        metrics = free_port(),
    );
    let path = dir.join("collector.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

fn spawn(config: &Path) -> Proc {
    let config = config.display().to_string();
    Proc::spawn(&example("gateway"), &["--config", &config], &[])
}

#[test]
fn rotation_truncation_and_replacement_deliver_each_line_once() {
    let dir = temp_dir();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let backend = LogsBackend::start(1);
    let config = write_config(dir.path(), &backend.endpoint, false, "");
    let app = logs.join("app.log");
    append(&app, 0, 100);
    let _collector = spawn(&config);
    append(&app, 100, 200);
    // Rotation by rename: the old file is read on under its new name.
    std::fs::rename(&app, logs.join("app.log.1")).unwrap();
    append(&app, 200, 400);
    // copytruncate: the copy keeps the fingerprint, the original starts over.
    std::fs::copy(&app, logs.join("app.log.2")).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&app)
        .unwrap();
    append(&app, 400, 600);
    // Truncation once read: what follows is new.
    backend.wait_for(600, Duration::from_secs(60));
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&app)
        .unwrap();
    append(&app, 600, 700);
    // Replaced under the same name while its last lines are unread: the old file,
    // open since the poll that saw it, is read to its end.
    backend.wait_for(700, Duration::from_secs(60));
    append(&app, 700, 800);
    std::fs::remove_file(&app).unwrap();
    append(&app, 800, 1000);
    let received = backend.wait_for(1000, Duration::from_secs(60));
    // Nothing more comes later (a poll or two).
    std::thread::sleep(Duration::from_millis(300));
    let received_after = backend.received();
    assert_eq!(received, received_after, "late duplicates");
    let duplicated: Vec<_> = received.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicated.is_empty(), "duplicates: {duplicated:?}");
    assert_eq!(received.len(), 1000, "only the lines written arrive");
}

#[test]
fn kill_9_in_a_loop_while_lines_are_written_and_the_backend_flaps_loses_no_line() {
    kill_9_loop(false);
}

/// As above, through a `recombine` that holds each group until the next one starts: a
/// `kill -9` nearly always finds a group held, which must be read again after restart.
#[test]
fn kill_9_loses_no_line_a_recombine_operator_held() {
    kill_9_loop(true);
}

/// `kill -9` of the collector 12 times at random moments while lines (or groups of two
/// lines, joined by `recombine`, when `grouped`) are written with rename rotations and the
/// backend flaps; then every line or group arrives, with duplicates within the bound.
fn kill_9_loop(grouped: bool) {
    const CYCLES: usize = 12;
    let seed = seed_from_env("TRIBUTARY_CRASH_SEED");
    let dir = temp_dir();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let backend = LogsBackend::start(seed);
    let operators = if grouped { RECOMBINE } else { "" };
    let config = write_config(dir.path(), &backend.endpoint, true, operators);

    // The writer appends lines in bursts and rotates by rename every few thousand.
    let written = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (written, stop, logs) = (Arc::clone(&written), Arc::clone(&stop), logs.clone());
        std::thread::spawn(move || {
            let mut rng = Rng::new(seed ^ 0x5eed);
            let (mut next, mut rotations) = (0usize, 0usize);
            while !stop.load(Ordering::SeqCst) {
                let burst = 1 + rng.below(200) as usize;
                append_lines(&logs.join("app.log"), next, next + burst, grouped);
                next += burst;
                written.store(next as u64, Ordering::SeqCst);
                if rng.below(20) == 0 {
                    rotations += 1;
                    let rotated = logs.join(format!("app.log.{rotations}"));
                    std::fs::rename(logs.join("app.log"), rotated).unwrap();
                }
                std::thread::sleep(rng.millis(1, 20));
            }
        })
    };

    let mut rng = Rng::new(seed);
    backend.shared.flapping.store(true, Ordering::SeqCst);
    for cycle in 0..CYCLES {
        let mut collector = spawn(&config);
        std::thread::sleep(rng.millis(300, 1500));
        assert!(
            collector.is_running(),
            "cycle {cycle}: the collector exited:\n{}",
            collector.output()
        );
        collector.kill();
    }
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    let total = written.load(Ordering::SeqCst) as usize;
    backend.shared.flapping.store(false, Ordering::SeqCst);
    let _collector = spawn(&config);
    let body = if grouped { group } else { line };
    let received = backend.wait_for_bodies(total, Duration::from_secs(120), body);
    let extra: u64 = received.values().map(|n| u64::from(*n) - 1).sum();
    let lost_answers = backend.shared.lost_answers.load(Ordering::SeqCst);
    // Per kill: the receiver's batch not yet checkpointed, and the queue's requests in
    // flight (each at most one receiver batch); plus what the backend recorded and then
    // refused, which the exporter sends again.
    let bound = lost_answers + CYCLES as u64 * MAX_BATCH_RECORDS * (1 + NUM_CONSUMERS);
    println!(
        "seed {seed}: {total} lines written, all arrived; {extra} duplicates \
         (bound {bound}: {lost_answers} answers lost by the flapping backend)"
    );
    assert_eq!(received.len(), total, "only the lines written arrive");
    assert!(
        extra <= bound,
        "{extra} duplicates exceed the bound {bound}"
    );
}

/// Log bodies in the gateway's OTLP/JSON output, with how many times each arrived.
fn bodies_in(out: &Path) -> HashMap<String, u32> {
    let mut counts = HashMap::new();
    for line in read_json_lines(out) {
        for rl in line["resourceLogs"].as_array().into_iter().flatten() {
            for sl in rl["scopeLogs"].as_array().into_iter().flatten() {
                for record in sl["logRecords"].as_array().into_iter().flatten() {
                    if let Some(body) = record["body"]["stringValue"].as_str() {
                        *counts.entry(body.to_string()).or_default() += 1;
                    }
                }
            }
        }
    }
    counts
}

/// Waits until the gateway wrote every body `0..count` of `prefix`; returns the counts.
fn wait_bodies(out: &Path, prefix: &str, count: usize) -> HashMap<String, u32> {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let counts = bodies_in(out);
        let missing = (0..count)
            .filter(|i| !counts.contains_key(&format!("{prefix} {i}")))
            .count();
        if missing == 0 {
            return counts;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{missing} of {count} '{prefix}' lines never reached the gateway"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_default_agent_follows_log_files_to_the_gateway_across_a_kill_9() {
    let dir = temp_dir();
    let (logs, state, out) = (
        dir.path().join("logs"),
        dir.path().join("state"),
        dir.path().join("gateway-out.jsonl"),
    );
    std::fs::create_dir_all(&logs).unwrap();
    let configs = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/configs");
    let gateway_grpc = free_port();
    let gateway_args = [
        "--config".to_string(),
        format!("{configs}/gateway-to-file.yaml"),
        "--set".into(),
        format!("receivers.otlp.protocols.grpc.endpoint=127.0.0.1:{gateway_grpc}"),
        "--set".into(),
        format!(
            "receivers.otlp.protocols.http.endpoint=127.0.0.1:{}",
            free_port()
        ),
        "--set".into(),
        "service.telemetry.metrics.level=none".into(),
    ];
    let gateway_args: Vec<&str> = gateway_args.iter().map(String::as_str).collect();
    let out_env = out.display().to_string();
    let _gateway = Proc::spawn(
        &example("gateway"),
        &gateway_args,
        &[("TRIBUTARY_OUT", out_env.as_str())],
    );
    let gateway_address = format!("127.0.0.1:{gateway_grpc}");
    wait_listening(gateway_address.parse().unwrap(), Duration::from_secs(20));

    // No --config: the built-in configuration, pointed at the test's directories.
    let agent_grpc = free_port();
    let agent_args = [
        "--set".to_string(),
        format!("receivers.otlp.protocols.grpc.endpoint=127.0.0.1:{agent_grpc}"),
        "--set".into(),
        format!(
            "receivers.otlp.protocols.http.endpoint=127.0.0.1:{}",
            free_port()
        ),
        "--set".into(),
        format!("extensions.health_check.endpoint=127.0.0.1:{}", free_port()),
        "--set".into(),
        "service.telemetry.metrics.level=none".into(),
    ];
    let agent_args: Vec<&str> = agent_args.iter().map(String::as_str).collect();
    let (logs_env, state_env) = (logs.display().to_string(), state.display().to_string());
    let envs = [
        ("TRIBUTARY_GATEWAY", gateway_address.as_str()),
        ("TRIBUTARY_LOG_DIR", logs_env.as_str()),
        ("TRIBUTARY_STORAGE_DIR", state_env.as_str()),
    ];
    // A file that exists when the agent starts (start_at: end skips its content).
    std::fs::write(logs.join("app.log"), "written before the agent started\n").unwrap();
    let mut agent = Proc::spawn(&example("agent"), &agent_args, &envs);
    wait_listening(
        format!("127.0.0.1:{agent_grpc}").parse().unwrap(),
        Duration::from_secs(20),
    );

    // start_at: end: what the file holds at the agent's first poll is skipped; probes
    // appended until one arrives show that the agent follows the file.
    let app = logs.join("app.log");
    let write = |prefix: &str, count: usize| {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&app)
            .unwrap();
        for i in 0..count {
            writeln!(file, "{prefix} {i}").unwrap();
        }
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut probes = 0;
    while !bodies_in(&out).keys().any(|body| body.starts_with("probe")) {
        assert!(
            std::time::Instant::now() < deadline,
            "no probe line reached the gateway:\n{}",
            agent.output()
        );
        write(&format!("probe {probes}"), 1);
        probes += 1;
        std::thread::sleep(Duration::from_millis(200));
    }
    write("before", 300);
    wait_bodies(&out, "before", 300);
    agent.kill();
    write("while-down", 300);
    let _agent = Proc::spawn(&example("agent"), &agent_args, &envs);
    let counts = wait_bodies(&out, "while-down", 300);
    // Every line arrives; one may arrive again when the agent was killed before the
    // queue recorded the gateway's answer, or when an export timed out on a loaded
    // machine after the gateway took it (the exporter retries: at least once).
    let extra: u32 = counts.values().map(|n| n - 1).sum();
    let mut twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    twice.sort();
    println!(
        "{} lines at the gateway, {extra} duplicates: {twice:?}",
        counts.len()
    );
    assert!(!counts.contains_key("written before the agent started"));
}
