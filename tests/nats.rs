//! NATS JetStream end to end, with a real `nats-server -js` (Debian's package) and real
//! gateway processes:
//!
//! * exporter → server → receiver round trip, for traces, metrics and logs, in OTLP
//!   protobuf and OTLP/JSON;
//! * `kill -9` of the consuming gateway mid-stream, and its restart: every span the
//!   producing gateway acknowledged (its `nats` exporter answers only after the JetStream
//!   ack: no sending queue) reaches the backend at least once; duplicates are counted;
//! * a restart of `nats-server` itself mid-stream, with the same guarantee;
//! * the round trip over mutual TLS (a CA, server and client certificates made here);
//! * a persistent sending queue (`file_storage`) that keeps what the exporter accepted
//!   while NATS is down, across `kill -9` of the producing gateway.
//!
//! Every server binds a port it picks (`-p -1`), read back from its log.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use common::lifeline::Lifeline;
use common::pki::write_pki;
use common::*;

const LISTENING: &str = "Listening for client connections on ";

/// The client URL a nats-server logged in `log`, once it is ready.
fn wait_ready(log: &Path, since: usize) -> String {
    eventually("nats-server ready", Duration::from_secs(30), || {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let text = text.get(since..)?;
        let at = text.find(LISTENING)?;
        let addr = text[at + LISTENING.len()..].split_whitespace().next()?;
        text.contains("Server is ready")
            .then(|| format!("nats://{addr}"))
    })
}

/// The nats-server shared by this binary's tests (each test uses its own stream,
/// subjects and consumer), started once on a port it picks and stopped when the test
/// process exits.
fn shared_server() -> Option<&'static str> {
    static SERVER: OnceLock<(Lifeline, String)> = OnceLock::new();
    let program = program("nats-server")?;
    let (_, url) = SERVER.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir").keep();
        let args = ["-js", "-a", "127.0.0.1", "-p", "-1", "-sd"]
            .iter()
            .map(ToString::to_string)
            .chain([dir.join("store").display().to_string()])
            .collect::<Vec<_>>();
        let lifeline = Lifeline::start(&program, &args, &dir, "nats.log");
        let url = wait_ready(&dir.join("nats.log"), 0);
        (lifeline, url)
    });
    Some(url)
}

/// A nats-server of one test, which the test stops and starts again on the same port and
/// store.
struct OwnServer {
    program: PathBuf,
    dir: tempfile::TempDir,
    /// More options (TLS).
    extra: Vec<String>,
    process: Option<Proc>,
    url: String,
}

impl OwnServer {
    fn start() -> Option<OwnServer> {
        OwnServer::start_in(temp_dir(), Vec::new())
    }

    /// A server whose files live in `dir`, started with `extra` options.
    fn start_in(dir: tempfile::TempDir, extra: Vec<String>) -> Option<OwnServer> {
        let program = program("nats-server")?;
        let mut server = OwnServer {
            program,
            dir,
            extra,
            process: None,
            url: String::new(),
        };
        server.url = server.run("-1");
        Some(server)
    }

    /// Starts the server on `port` (`-1`: one it picks); returns its URL.
    fn run(&mut self, port: &str) -> String {
        let log = self.dir.path().join("nats.log");
        let since = std::fs::metadata(&log)
            .map(|m| m.len() as usize)
            .unwrap_or(0);
        let store = self.dir.path().join("store");
        let mut args = vec![
            "-js",
            "-a",
            "127.0.0.1",
            "-p",
            port,
            "-sd",
            store.to_str().unwrap(),
            "-l",
            log.to_str().unwrap(),
        ];
        args.extend(self.extra.iter().map(String::as_str));
        let process = Proc::spawn(&self.program, &args, &[]);
        self.process = Some(process);
        wait_ready(&log, since)
    }

    /// Kills the server (SIGKILL) and starts it again on the same port and store.
    fn restart(&mut self) {
        self.stop();
        self.resume();
    }

    /// Kills the server (SIGKILL).
    fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill();
        }
    }

    /// Starts the stopped server again on its port and store.
    fn resume(&mut self) {
        let port = self.url.rsplit(':').next().unwrap().to_string();
        let url = self.run(&port);
        assert_eq!(url, self.url);
    }
}

/// The `nats` blocks naming one test's stream, subjects and consumer.
fn subjects(prefix: &str) -> String {
    format!(
        "traces: {{ subject: {prefix}.traces }}\n    metrics: {{ subject: {prefix}.metrics }}\n    logs: {{ subject: {prefix}.logs }}\n    stream: {{ name: {prefix} }}"
    )
}

#[test]
fn round_trip_of_every_signal_in_both_encodings() {
    let Some(url) = shared_server() else { return };
    for encoding in ["otlp_proto", "otlp_json"] {
        let dir = temp_dir();
        let (otlp, metrics) = (free_address(), free_address());
        let out = dir.path().join("out.jsonl");
        let prefix = format!("rt_{encoding}");
        let subjects = subjects(&prefix);
        let config = write_config_file(
            dir.path(),
            "gateway.yaml",
            &format!(
                r#"
receivers:
  otlp:
    protocols:
      http: {{ endpoint: "{otlp}" }}
  nats:
    endpoint: "{url}"
    {subjects}
    consumer: {{ durable_name: {prefix} }}
exporters:
  nats:
    endpoint: "{url}"
    encoding: {encoding}
    {subjects}
    max_payload: 4000
    sending_queue: {{ enabled: false }}
  file:
    path: "{out}"
service:
  telemetry:
    metrics: {{ address: "{metrics}" }}
  pipelines:
    traces/in: {{ receivers: [otlp], exporters: [nats] }}
    metrics/in: {{ receivers: [otlp], exporters: [nats] }}
    logs/in: {{ receivers: [otlp], exporters: [nats] }}
    traces/out: {{ receivers: [nats], exporters: [file] }}
    metrics/out: {{ receivers: [nats], exporters: [file] }}
    logs/out: {{ receivers: [nats], exporters: [file] }}
"#,
                out = out.display()
            ),
        );
        let mut gateway = spawn_gateway(&config);
        wait_gateway(&mut gateway, otlp);
        let span = format!("span-{encoding}");
        let metric = format!("metric_{encoding}");
        let log = format!("log {encoding}");
        post_json_until_ok(
            otlp,
            "/v1/traces",
            &format!(
                r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"{span}"}}]}}]}}]}}"#
            ),
        );
        post_json_until_ok(
            otlp,
            "/v1/metrics",
            &format!(
                r#"{{"resourceMetrics":[{{"scopeMetrics":[{{"metrics":[{{"name":"{metric}","gauge":{{"dataPoints":[{{"asDouble":1.5,"timeUnixNano":"1"}}]}}}}]}}]}}]}}"#
            ),
        );
        post_json_until_ok(
            otlp,
            "/v1/logs",
            &format!(
                r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{{"body":{{"stringValue":"{log}"}}}}]}}]}}]}}"#
            ),
        );
        // A batch over `max_payload` is split into several messages, and all arrive.
        let big: Vec<String> = (0..40)
            .map(|i| format!("big-{encoding}-{i:03}-{}", "p".repeat(150)))
            .collect();
        let spans: Vec<String> = big
            .iter()
            .enumerate()
            .map(|(i, name)| {
                format!(
                    r#"{{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"{:016x}","name":"{name}"}}"#,
                    i + 1
                )
            })
            .collect();
        post_json_until_ok(
            otlp,
            "/v1/traces",
            &format!(
                r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
                spans.join(",")
            ),
        );
        eventually(
            &format!("every signal back from NATS ({encoding})"),
            Duration::from_secs(60),
            || {
                let text = std::fs::read_to_string(&out).unwrap_or_default();
                [&span, &metric, &log]
                    .into_iter()
                    .chain(&big)
                    .all(|needle| text.contains(needle.as_str()))
                    .then_some(())
            },
        );
        // The file exporter writes a line per batch: the big batch came as several.
        let text = std::fs::read_to_string(&out).unwrap();
        let marker = format!("big-{encoding}-");
        let parts = text.lines().filter(|line| line.contains(&marker)).count();
        assert!(parts >= 2, "the big batch arrived in {parts} message(s)");
        assert!(gateway.is_running(), "{}", gateway.output());
        gateway.signal("TERM");
        gateway.wait_exit(Duration::from_secs(30));
    }
}

/// A producing gateway (OTLP/gRPC → `nats` exporter, no sending queue: an OTLP answer of
/// success means JetStream acknowledged) and the configuration of a consuming gateway
/// (`nats` receiver → `otlp` exporter without a queue, to `backend`).
struct Chain {
    dir: tempfile::TempDir,
    grpc: SocketAddr,
    producer: Proc,
    consumer_config: PathBuf,
}

impl Chain {
    fn new(url: &str, prefix: &str, backend: &OtlpBackend) -> Chain {
        let dir = temp_dir();
        let grpc = free_address();
        let subjects = subjects(prefix);
        let producer_config = write_config_file(
            dir.path(),
            "producer.yaml",
            &format!(
                r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "{grpc}" }}
exporters:
  nats:
    endpoint: "{url}"
    {subjects}
    timeout: 3s
    sending_queue: {{ enabled: false }}
    retry_on_failure: {{ enabled: false }}
service:
  telemetry:
    metrics: {{ address: "{metrics}" }}
  pipelines:
    traces: {{ receivers: [otlp], exporters: [nats] }}
"#,
                metrics = free_address()
            ),
        );
        let consumer_config = write_config_file(
            dir.path(),
            "consumer.yaml",
            &format!(
                r#"
receivers:
  nats:
    endpoint: "{url}"
    {subjects}
    consumer: {{ durable_name: {prefix}, ack_wait: 2s, max_ack_pending: 50 }}
exporters:
  otlp:
    endpoint: "{backend}"
    tls: {{ insecure: true }}
    sending_queue: {{ enabled: false }}
    retry_on_failure: {{ initial_interval: 100ms, max_interval: 500ms }}
service:
  telemetry:
    metrics: {{ address: "{metrics}" }}
  pipelines:
    traces: {{ receivers: [nats], exporters: [otlp] }}
"#,
                backend = backend.endpoint(),
                metrics = free_address()
            ),
        );
        let mut producer = spawn_gateway(&producer_config);
        wait_gateway(&mut producer, grpc);
        Chain {
            dir,
            grpc,
            producer,
            consumer_config,
        }
    }

    fn consumer(&self) -> Proc {
        spawn_gateway(&self.consumer_config)
    }

    /// Sends `requests` requests of 10 spans; see [`produce_spans`].
    fn produce(&self, requests: u64) -> (Arc<Mutex<Vec<String>>>, Arc<AtomicBool>) {
        produce_spans(self.grpc, requests, Duration::ZERO)
    }
}

/// Waits until every acknowledged name reached `backend`; returns how many arrived more
/// than once.
fn wait_all_delivered(backend: &OtlpBackend, acknowledged: &Mutex<Vec<String>>) -> usize {
    let expected = acknowledged.lock().unwrap().clone();
    eventually(
        &format!("all {} acknowledged spans delivered", expected.len()),
        Duration::from_secs(120),
        || {
            backend
                .with_received(|received| expected.iter().all(|n| received.contains_key(n)))
                .then_some(())
        },
    );
    backend.with_received(|received| received.values().filter(|count| **count > 1).count())
}

fn delivered(backend: &OtlpBackend) -> usize {
    backend.with_received(|received| received.len())
}

#[test]
fn every_acknowledged_span_survives_kill_9_of_the_consuming_gateway() {
    let Some(url) = shared_server() else { return };
    let backend = OtlpBackend::start(BackendMode::Healthy, 1);
    let mut chain = Chain::new(url, "crash", &backend);
    let (acknowledged, done) = chain.produce(300);
    let mut consumer = chain.consumer();
    let mut mid_stream = 0;
    for round in 1..=3 {
        let target = round * 400;
        eventually(
            &format!("{target} spans delivered"),
            Duration::from_secs(120),
            || (delivered(&backend) >= target || done.load(Ordering::SeqCst)).then_some(()),
        );
        mid_stream += usize::from(!done.load(Ordering::SeqCst));
        consumer.kill();
        consumer = chain.consumer();
    }
    eventually("the producer done", Duration::from_secs(180), || {
        done.load(Ordering::SeqCst).then_some(())
    });
    let duplicates = wait_all_delivered(&backend, &acknowledged);
    println!(
        "{} spans acknowledged, all delivered; {duplicates} delivered more than once; \
         {mid_stream} interruptions while the producer was sending",
        acknowledged.lock().unwrap().len()
    );
    assert!(mid_stream > 0, "no interruption happened mid-stream");
    assert!(consumer.is_running(), "{}", consumer.output());
    assert!(chain.producer.is_running(), "{}", chain.producer.output());
    drop(chain.dir);
}

#[test]
fn every_acknowledged_span_survives_a_restart_of_nats_server() {
    let Some(mut server) = OwnServer::start() else {
        return;
    };
    let backend = OtlpBackend::start(BackendMode::Healthy, 2);
    let mut chain = Chain::new(&server.url, "restart", &backend);
    let mut consumer = chain.consumer();
    let (acknowledged, done) = chain.produce(300);
    let mut mid_stream = 0;
    for round in 1..=2 {
        let target = round * 800;
        eventually(
            &format!("{target} spans delivered"),
            Duration::from_secs(120),
            || (delivered(&backend) >= target || done.load(Ordering::SeqCst)).then_some(()),
        );
        mid_stream += usize::from(!done.load(Ordering::SeqCst));
        server.restart();
    }
    eventually("the producer done", Duration::from_secs(180), || {
        done.load(Ordering::SeqCst).then_some(())
    });
    let duplicates = wait_all_delivered(&backend, &acknowledged);
    println!(
        "{} spans acknowledged, all delivered; {duplicates} delivered more than once; \
         {mid_stream} interruptions while the producer was sending",
        acknowledged.lock().unwrap().len()
    );
    assert!(mid_stream > 0, "no interruption happened mid-stream");
    assert!(consumer.is_running(), "{}", consumer.output());
    assert!(chain.producer.is_running(), "{}", chain.producer.output());
    consumer.kill();
}

#[test]
fn round_trip_over_mutual_tls() {
    let dir = temp_dir();
    let pki = dir.path().to_path_buf();
    write_pki(
        &pki,
        "nats e2e CA",
        &[("server", "127.0.0.1"), ("client", "collector")],
    );
    let file = |name: &str| pki.join(name).display().to_string();
    let extra = [
        "--tls",
        "--tlscert",
        &file("server.pem"),
        "--tlskey",
        &file("server.key"),
        "--tlsverify",
        "--tlscacert",
        &file("ca.pem"),
    ]
    .map(String::from)
    .to_vec();
    let Some(server) = OwnServer::start_in(dir, extra) else {
        return;
    };
    let (otlp, metrics) = (free_address(), free_address());
    let work = temp_dir();
    let out = work.path().join("out.jsonl");
    let subjects = subjects("tls");
    let tls = format!(
        "tls: {{ ca_file: \"{}\", cert_file: \"{}\", key_file: \"{}\" }}",
        file("ca.pem"),
        file("client.pem"),
        file("client.key")
    );
    let url = &server.url;
    let config = write_config_file(
        work.path(),
        "gateway.yaml",
        &format!(
            r#"
receivers:
  otlp:
    protocols:
      http: {{ endpoint: "{otlp}" }}
  nats:
    endpoint: "{url}"
    {subjects}
    {tls}
exporters:
  nats:
    endpoint: "{url}"
    {subjects}
    {tls}
    sending_queue: {{ enabled: false }}
  file:
    path: "{out}"
service:
  telemetry:
    metrics: {{ address: "{metrics}" }}
  pipelines:
    logs/in: {{ receivers: [otlp], exporters: [nats] }}
    logs/out: {{ receivers: [nats], exporters: [file] }}
"#,
            out = out.display()
        ),
    );
    let mut gateway = spawn_gateway(&config);
    wait_gateway(&mut gateway, otlp);
    post_json_until_ok(
        otlp,
        "/v1/logs",
        r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"over tls"}}]}]}]}"#,
    );
    eventually("the log back over TLS", Duration::from_secs(60), || {
        std::fs::read_to_string(&out)
            .unwrap_or_default()
            .contains("over tls")
            .then_some(())
    });
    assert!(gateway.is_running(), "{}", gateway.output());
    gateway.signal("TERM");
    gateway.wait_exit(Duration::from_secs(30));
}

#[test]
fn a_persistent_queue_keeps_spans_across_kill_9_while_nats_is_down() {
    let Some(mut server) = OwnServer::start() else {
        return;
    };
    let backend = OtlpBackend::start(BackendMode::Healthy, 3);
    let dir = temp_dir();
    let grpc = free_address();
    let url = server.url.clone();
    let subjects = subjects("persist");
    let storage = dir.path().join("storage");
    let producer_config = write_config_file(
        dir.path(),
        "producer.yaml",
        &format!(
            r#"
extensions:
  file_storage:
    directory: "{storage}"
    create_directory: true
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "{grpc}" }}
exporters:
  nats:
    endpoint: "{url}"
    {subjects}
    timeout: 2s
    sending_queue: {{ storage: file_storage }}
    retry_on_failure: {{ initial_interval: 100ms, max_interval: 500ms, max_elapsed_time: 0s }}
service:
  extensions: [file_storage]
  telemetry:
    metrics: {{ address: "{metrics}" }}
  pipelines:
    traces: {{ receivers: [otlp], exporters: [nats] }}
"#,
            storage = storage.display(),
            metrics = free_address()
        ),
    );
    let consumer_config = write_config_file(
        dir.path(),
        "consumer.yaml",
        &format!(
            r#"
receivers:
  nats:
    endpoint: "{url}"
    {subjects}
    consumer: {{ durable_name: persist }}
exporters:
  otlp:
    endpoint: "{backend}"
    tls: {{ insecure: true }}
    sending_queue: {{ enabled: false }}
service:
  telemetry:
    metrics: {{ address: "{metrics}" }}
  pipelines:
    traces: {{ receivers: [nats], exporters: [otlp] }}
"#,
            backend = backend.endpoint(),
            metrics = free_address()
        ),
    );
    // NATS is down: the producer queues on disk what it accepts, and dies.
    server.stop();
    let mut producer = spawn_gateway(&producer_config);
    wait_gateway(&mut producer, grpc);
    let mut client = OtlpClient::new(grpc);
    let mut names = Vec::new();
    for r in 0..50u64 {
        let ids = r * 10..r * 10 + 10;
        client
            .export(spans_request(ids.clone(), 32))
            .unwrap_or_else(|status| panic!("request {r} refused: {status:?}"));
        names.extend(ids.map(span_name));
    }
    producer.kill();
    // It comes back, then NATS does, then a consumer: everything arrives.
    let mut producer = spawn_gateway(&producer_config);
    server.resume();
    let mut consumer = spawn_gateway(&consumer_config);
    let delivered = Mutex::new(names);
    let duplicates = wait_all_delivered(&backend, &delivered);
    println!("500 queued spans delivered after kill -9; {duplicates} more than once");
    assert!(producer.is_running(), "{}", producer.output());
    assert!(consumer.is_running(), "{}", consumer.output());
}
