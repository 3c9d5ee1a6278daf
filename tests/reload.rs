//! Hot reload of a running gateway, done the way an operator does it: the configuration
//! file is rewritten in place (a temporary file renamed over it, as editors save) or the
//! process gets SIGHUP, while clients keep sending OTLP over gRPC.
//!
//! What must hold: an invalid configuration is refused and the running pipelines keep
//! delivering (the Go Collector exits instead, #11817); a valid one is applied without
//! losing data that was acknowledged — an unchanged exporter keeps its queue, an unchanged
//! receiver keeps its socket — and the reload counters and the health check say what
//! happened.

mod common;

use std::collections::BTreeSet;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use tonic::transport::Channel;
use tributary::pdata::proto::collector::trace::v1::trace_service_client::TraceServiceClient;

/// How long anything that should happen promptly may take on a busy 2-core machine.
const PATIENCE: Duration = Duration::from_secs(60);

/// The ports one gateway listens on.
#[derive(Clone, Copy)]
struct Ports {
    grpc: u16,
    metrics: u16,
    health: u16,
}

impl Ports {
    fn new() -> Ports {
        Ports {
            grpc: free_port(),
            metrics: free_port(),
            health: free_port(),
        }
    }
}

/// A configuration: the health check, an OTLP/gRPC receiver and the internal metrics
/// endpoint on `ports`, plus the given `processors` and `exporters` sections (indented
/// entries) and the `traces` pipeline (a flow mapping).
fn config(ports: &Ports, processors: &str, exporters: &str, traces: &str) -> String {
    format!(
        r#"extensions:
  health_check:
    endpoint: "127.0.0.1:{health}"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: "127.0.0.1:{grpc}"
processors:
{processors}
exporters:
{exporters}
service:
  extensions: [health_check]
  telemetry:
    metrics:
      address: "127.0.0.1:{metrics}"
  pipelines:
    traces: {traces}
"#,
        health = ports.health,
        grpc = ports.grpc,
        metrics = ports.metrics,
    )
}

/// A `file` exporter entry writing to `path`.
fn file_exporter(id: &str, path: &Path) -> String {
    format!("  {id}:\n    path: \"{}\"\n", path.display())
}

/// A gateway process running from a configuration file in its own directory.
struct Gateway {
    process: Proc,
    ports: Ports,
    config: PathBuf,
    /// Holds the configuration and outputs; removed after the process (declared after it).
    _dir: tempfile::TempDir,
}

impl Gateway {
    /// Writes `text` as the configuration and starts the gateway on it; returns once its
    /// receiver, health check and metrics endpoint listen.
    fn start(ports: Ports, dir: tempfile::TempDir, text: &str) -> Gateway {
        Gateway::start_with(ports, dir, text, &[])
    }

    /// [`start`](Self::start) with extra command-line flags.
    fn start_with(ports: Ports, dir: tempfile::TempDir, text: &str, flags: &[&str]) -> Gateway {
        let config = dir.path().join("gateway.yaml");
        std::fs::write(&config, text).expect("write the configuration");
        let mut args = vec!["--config", config.to_str().expect("UTF-8 path")];
        args.extend_from_slice(flags);
        let process = Proc::spawn(&example("gateway"), &args, &[]);
        let gateway = Gateway {
            process,
            ports,
            config,
            _dir: dir,
        };
        for port in [
            gateway.ports.grpc,
            gateway.ports.health,
            gateway.ports.metrics,
        ] {
            wait_listening(addr(port), PATIENCE);
        }
        gateway
    }

    /// Saves a new configuration over the watched file.
    fn rewrite(&self, text: &str) {
        replace_file(&self.config, text);
    }

    fn metric(&self, name: &str) -> u64 {
        metric(&get(addr(self.ports.metrics), "/metrics").text(), name, &[]) as u64
    }

    fn reloads(&self) -> u64 {
        self.metric("otelcol_config_reloads_total")
    }

    fn reload_failures(&self) -> u64 {
        self.metric("otelcol_config_reload_failures_total")
    }

    /// Waits until `otelcol_config_reloads_total` reaches `n`.
    fn wait_reloads(&self, n: u64) {
        eventually(&format!("{n} applied reloads"), PATIENCE, || {
            (self.reloads() >= n).then_some(())
        });
    }

    /// Waits until `otelcol_config_reload_failures_total` reaches `n`.
    fn wait_reload_failures(&self, n: u64) {
        eventually(&format!("{n} refused reloads"), PATIENCE, || {
            (self.reload_failures() >= n).then_some(())
        });
    }

    /// The health check's JSON answer.
    fn health(&self) -> serde_json::Value {
        let response = get(addr(self.ports.health), "/");
        serde_json::from_slice(&response.body)
            .unwrap_or_else(|e| panic!("health body is not JSON ({e}): {}", response.text()))
    }

    /// Stops the gateway with SIGTERM and expects a clean exit.
    fn stop(&mut self) {
        self.process.signal("TERM");
        let status = self.process.wait_exit(PATIENCE);
        assert!(
            status.success(),
            "exit status {status}:\n{}",
            self.process.output()
        );
    }

    fn assert_running(&mut self) {
        assert!(
            self.process.is_running(),
            "the gateway exited:\n{}",
            self.process.output()
        );
    }
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// A gRPC OTLP client of its own runtime, for sending from a test thread.
struct Client {
    runtime: tokio::runtime::Runtime,
    client: TraceServiceClient<Channel>,
}

impl Client {
    fn connect(port: u16) -> Client {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let client = runtime
            .block_on(TraceServiceClient::connect(format!(
                "http://127.0.0.1:{port}"
            )))
            .expect("connect to the gateway");
        Client { runtime, client }
    }

    /// Sends one request with one span per name; panics unless it is acknowledged.
    fn send(&mut self, names: &[String]) {
        let request = traces_request(names.iter().cloned());
        if let Err(status) = self.runtime.block_on(self.client.export(request)) {
            panic!("the gateway refused {names:?}: {status}");
        }
    }

    /// Sends `count` spans named `{prefix}-{i}` in requests of 10 and returns their names.
    fn send_named(&mut self, prefix: &str, count: usize) -> Vec<String> {
        let names: Vec<String> = (0..count).map(|i| format!("{prefix}-{i}")).collect();
        for chunk in names.chunks(10) {
            self.send(chunk);
        }
        names
    }
}

/// Waits until every span in `names` is in the file exporter's output at `path`.
fn wait_in_file(path: &Path, names: &[String]) {
    eventually(
        &format!("{} spans in {}", names.len(), path.display()),
        PATIENCE,
        || {
            let written = span_name_counts(path);
            names
                .iter()
                .all(|name| written.contains_key(name))
                .then_some(())
        },
    );
}

const BATCH: &str = "  batch:\n    timeout: 20ms\n";

#[test]
fn an_invalid_configuration_is_refused_and_the_running_pipelines_keep_delivering() {
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let ports = Ports::new();
    let good = config(
        &ports,
        BATCH,
        &file_exporter("file", &out),
        "{ receivers: [otlp], processors: [batch], exporters: [file] }",
    );
    let mut gateway = Gateway::start(ports, dir, &good);
    let mut client = Client::connect(gateway.ports.grpc);
    let sent = client.send_named("before", 20);
    wait_in_file(&out, &sent);
    assert_eq!(gateway.health()["last_reload"], serde_json::Value::Null);

    // 1. An unknown exporter type: decoding refuses it.
    let unknown_type = config(
        &gateway.ports,
        BATCH,
        &format!("{}  nosuchexporter/x: {{}}\n", file_exporter("file", &out)),
        "{ receivers: [otlp], processors: [batch], exporters: [file, nosuchexporter/x] }",
    );
    gateway.rewrite(&unknown_type);
    gateway.wait_reload_failures(1);
    gateway.assert_running();
    let health = gateway.health();
    let last = &health["last_reload"];
    assert_eq!(last["ok"], false, "{health}");
    let error = last["error"].as_str().expect("the refusal's error");
    assert!(
        error.contains("exporters::nosuchexporter/x") && error.contains("unknown exporter type"),
        "the error names the configuration path: {error}"
    );
    assert_eq!(health["status"], "Server available", "{health}");
    let sent = client.send_named("after-unknown-type", 20);
    wait_in_file(&out, &sent);

    // 2. A YAML syntax error: the file does not even parse.
    gateway.rewrite("receivers:\n  otlp: { protocols: { grpc: {\nexporters: [\n");
    gateway.wait_reload_failures(2);
    gateway.assert_running();
    let health = gateway.health();
    let error = health["last_reload"]["error"].as_str().expect("error");
    let config_path = gateway.config.display().to_string();
    assert!(
        error.contains(&config_path) && error.contains("invalid YAML"),
        "the error names the file {config_path}: {error}"
    );
    let sent = client.send_named("after-syntax-error", 20);
    wait_in_file(&out, &sent);

    // 3. Valid, but a new receiver cannot start: its port is taken by another process.
    //    The half-built configuration is stopped again and the old one keeps running.
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken_port = taken.local_addr().expect("address").port();
    let unstartable = good.replace(
        "receivers:\n  otlp:\n",
        &format!(
            "receivers:\n  otlp/second:\n    protocols:\n      grpc:\n        endpoint: \"127.0.0.1:{taken_port}\"\n  otlp:\n"
        ),
    );
    let unstartable = unstartable.replace("receivers: [otlp]", "receivers: [otlp, otlp/second]");
    gateway.rewrite(&unstartable);
    gateway.wait_reload_failures(3);
    gateway.assert_running();
    let error = gateway.health()["last_reload"]["error"]
        .as_str()
        .expect("error")
        .to_string();
    assert!(
        error.contains("otlp/second"),
        "the error names the receiver: {error}"
    );
    let health = gateway.health();
    assert_eq!(
        health["healthy"], true,
        "only the refused reload failed: {health}"
    );
    assert_eq!(
        health["components"]["receivers"].get("otlp/second"),
        None,
        "a receiver that never ran has no status: {health}"
    );
    let sent = client.send_named("after-start-failure", 20);
    wait_in_file(&out, &sent);
    drop(taken);

    // Fixed: the next save applies.
    assert_eq!(gateway.reloads(), 0);
    let fixed = good.replace("timeout: 20ms", "timeout: 30ms");
    gateway.rewrite(&fixed);
    gateway.wait_reloads(1);
    let health = gateway.health();
    assert_eq!(health["last_reload"]["ok"], true, "{health}");
    assert_eq!(health["last_reload"].get("error"), None, "{health}");
    assert_eq!(health["healthy"], true, "{health}");
    assert_eq!(health["warnings"], serde_json::json!([]), "{health}");
    let sent = client.send_named("after-fix", 20);
    wait_in_file(&out, &sent);
    assert_eq!(gateway.reloads(), 1, "one save, one reload");
    assert_eq!(gateway.reload_failures(), 3);
    gateway.assert_running();
}

#[test]
fn a_refused_reload_is_reported_without_the_secrets_it_contains() {
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "TOKENFILESECRET777\n").expect("write the secret");
    let ports = Ports::new();
    let good = config(
        &ports,
        BATCH,
        &file_exporter("file", &out),
        "{ receivers: [otlp], processors: [batch], exporters: [file] }",
    );
    let mut gateway = Gateway::start(ports, dir, &good);

    // A secret read from a file lands in a duration; a URL with a password is invalid.
    let leaky = config(
        &gateway.ports,
        &format!("  batch:\n    timeout: ${{file:{}}}\n", secret.display()),
        &format!(
            "{}  otlp_http:\n    endpoint: \"http://user:URL-PASSW0RD@127.0.0.1:99999\"\n",
            file_exporter("file", &out)
        ),
        "{ receivers: [otlp], processors: [batch], exporters: [file, otlp_http] }",
    );
    gateway.rewrite(&leaky);
    gateway.wait_reload_failures(1);
    gateway.assert_running();
    let health = gateway.health();
    let error = health["last_reload"]["error"]
        .as_str()
        .expect("the refusal's error");
    for problem in [
        "processors::batch::timeout: invalid duration (value from a ${file:...} reference not shown)",
        "exporters::otlp_http::endpoint: invalid URL \"http://[REDACTED]@127.0.0.1:99999\"",
    ] {
        assert!(error.contains(problem), "{problem} missing: {error}");
    }
    for secret in ["TOKENFILESECRET777", "URL-PASSW0RD"] {
        assert!(!health.to_string().contains(secret), "{secret} in {health}");
        let log = gateway.process.output();
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
    }
    gateway.stop();
}

#[test]
fn a_reload_keeps_the_queue_of_an_unchanged_exporter_and_feeds_a_new_one() {
    let dir = temp_dir();
    let b_out = dir.path().join("b.jsonl");
    let ports = Ports::new();
    // The backend is down: its port refuses connections.
    let down = OtlpBackend::start(BackendMode::Down, 0);
    let backend_endpoint = down.endpoint();
    let backend = format!(
        "  otlp/backend:
    endpoint: \"{backend_endpoint}\"
    compression: none
    sending_queue:
      enabled: true
      queue_size: 1000
    retry_on_failure:
      enabled: true
      initial_interval: 100ms
      max_interval: 500ms
      max_elapsed_time: 0s
"
    );
    let before = config(
        &ports,
        BATCH,
        &backend,
        "{ receivers: [otlp], processors: [batch], exporters: [otlp/backend] }",
    );
    let gateway = Gateway::start(ports, dir, &before);
    let mut client = Client::connect(gateway.ports.grpc);

    // Acknowledged: queued in the exporter, which keeps retrying.
    let queued = client.send_named("queued", 200);
    eventually("queued spans being retried", PATIENCE, || {
        let page = get(addr(gateway.ports.metrics), "/metrics").text();
        (metric(
            &page,
            "otelcol_exporter_queue_size",
            &[("exporter", "otlp/backend")],
        ) > 0.0)
            .then_some(())
    });

    // A change elsewhere: a second exporter in the same pipeline.
    let after = config(
        &gateway.ports,
        BATCH,
        &format!("{backend}{}", file_exporter("file/b", &b_out)),
        "{ receivers: [otlp], processors: [batch], exporters: [otlp/backend, file/b] }",
    );
    gateway.rewrite(&after);
    gateway.wait_reloads(1);
    assert_eq!(gateway.reload_failures(), 0);

    // The new exporter gets what is sent now.
    let fresh = client.send_named("fresh", 50);
    wait_in_file(&b_out, &fresh);
    let in_b = span_name_counts(&b_out);
    assert!(
        queued.iter().all(|name| !in_b.contains_key(name)),
        "spans sent before file/b existed are not replayed to it"
    );

    // The backend comes up: everything queued before the reload arrives, and so does what
    // was sent after it.
    down.set_mode(BackendMode::Healthy);
    let backend = down;
    let expected: BTreeSet<&String> = queued.iter().chain(&fresh).collect();
    eventually(
        "every queued span at the backend",
        Duration::from_secs(120),
        || {
            backend
                .with_received(|received| expected.iter().all(|name| received.contains_key(*name)))
                .then_some(())
        },
    );
}

/// What a continuously sending client saw.
#[derive(Default)]
struct SenderReport {
    /// Names of the spans the gateway acknowledged.
    acknowledged: Vec<String>,
    /// Requests answered UNAVAILABLE (and sent again).
    refused: usize,
    /// Every other failure: connection errors, other status codes.
    errors: Vec<String>,
}

fn record(report: &Mutex<SenderReport>, update: impl FnOnce(&mut SenderReport)) {
    update(&mut report.lock().unwrap_or_else(|e| e.into_inner()));
}

/// Sends uniquely named spans (`{name}-t{task}-r{request}-s{span}`) from `tasks` concurrent
/// tasks until `stop` is set. With
/// `fresh_connections`, every request opens a new connection, so a refused connection
/// shows as an error; otherwise each task keeps one connection. A request answered
/// UNAVAILABLE is retried with the same spans until it is acknowledged.
fn spawn_sender(
    name: &'static str,
    port: u16,
    tasks: usize,
    fresh_connections: bool,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<SenderReport> {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let report = Arc::new(Mutex::new(SenderReport::default()));
        runtime.block_on(async {
            let endpoint = format!("http://127.0.0.1:{port}");
            let mut handles = Vec::new();
            for task in 0..tasks {
                let (endpoint, stop, report) =
                    (endpoint.clone(), Arc::clone(&stop), Arc::clone(&report));
                handles.push(tokio::spawn(async move {
                    let mut shared = None;
                    let mut seq = 0usize;
                    while !stop.load(Ordering::SeqCst) {
                        let names: Vec<String> = (0..10)
                            .map(|i| format!("{name}-t{task}-r{seq}-s{i}"))
                            .collect();
                        seq += 1;
                        loop {
                            let client = match (&shared, fresh_connections) {
                                (Some(client), false) => Ok(TraceServiceClient::clone(client)),
                                _ => TraceServiceClient::connect(endpoint.clone()).await,
                            };
                            let mut client = match client {
                                Ok(client) => client,
                                Err(error) => {
                                    record(&report, |r| {
                                        r.errors.push(format!("connect: {error:?}"))
                                    });
                                    tokio::time::sleep(Duration::from_millis(50)).await;
                                    continue;
                                }
                            };
                            if !fresh_connections {
                                shared = Some(client.clone());
                            }
                            match client.export(traces_request(names.clone())).await {
                                Ok(_) => {
                                    record(&report, |r| r.acknowledged.extend(names));
                                    break;
                                }
                                Err(status) if status.code() == tonic::Code::Unavailable => {
                                    record(&report, |r| r.refused += 1);
                                }
                                Err(status) => {
                                    record(&report, |r| r.errors.push(format!("{status}")));
                                }
                            }
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }));
            }
            for handle in handles {
                handle.await.expect("sender task");
            }
        });
        Arc::try_unwrap(report)
            .ok()
            .expect("every task ended")
            .into_inner()
            .unwrap()
    })
}

/// Asserts every acknowledged span is in the output exactly once; reports duplicates.
fn assert_delivered_once(out: &Path, report: &SenderReport) {
    let written = span_name_counts(out);
    let missing: Vec<&String> = report
        .acknowledged
        .iter()
        .filter(|name| !written.contains_key(*name))
        .collect();
    let duplicated: Vec<(&String, &usize)> = written.iter().filter(|(_, n)| **n > 1).collect();
    eprintln!(
        "{} spans acknowledged, {} requests refused and retried, {} missing, {} duplicated",
        report.acknowledged.len(),
        report.refused,
        missing.len(),
        duplicated.len()
    );
    assert!(
        missing.is_empty(),
        "{} acknowledged spans are not in the output, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    assert!(
        duplicated.is_empty(),
        "spans written more than once: {:?}",
        &duplicated[..duplicated.len().min(10)]
    );
}

#[test]
fn an_unchanged_receiver_keeps_serving_across_reloads() {
    serve_across_reloads(&[]);
}

#[test]
fn a_rebuilt_receiver_takes_over_its_socket_without_refusing_connections() {
    // With the gate off every component is rebuilt on reload, the receiver included: its
    // successor takes over the listening socket.
    serve_across_reloads(&["--feature-gates=-service.reloadKeepsUnchangedComponents"]);
}

/// Clients send continuously, on long-lived connections and on a new connection per
/// request, while the configuration is saved three times; none of them sees an error, and
/// every acknowledged span is written once.
fn serve_across_reloads(flags: &[&str]) {
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let extra = dir.path().join("extra.jsonl");
    let ports = Ports::new();
    let variant = |timeout_ms: u32, with_extra: bool| {
        // `append`: a rebuilt file exporter must not truncate what its predecessor wrote.
        let mut exporters = format!("{}    append: true\n", file_exporter("file", &out));
        let mut list = "file".to_string();
        if with_extra {
            exporters.push_str(&file_exporter("file/extra", &extra));
            list.push_str(", file/extra");
        }
        config(
            &ports,
            &format!("  batch:\n    timeout: {timeout_ms}ms\n"),
            &exporters,
            &format!("{{ receivers: [otlp], processors: [batch], exporters: [{list}] }}"),
        )
    };
    let variants = [
        variant(20, false),
        variant(40, false),
        variant(40, true),
        variant(20, false),
    ];
    let mut gateway = Gateway::start_with(ports, dir, &variants[0], flags);
    let stop_sending = Arc::new(AtomicBool::new(false));
    let fresh = spawn_sender(
        "fresh",
        gateway.ports.grpc,
        2,
        true,
        Arc::clone(&stop_sending),
    );
    let kept = spawn_sender(
        "kept",
        gateway.ports.grpc,
        2,
        false,
        Arc::clone(&stop_sending),
    );
    for (n, text) in variants.iter().enumerate().skip(1) {
        let acknowledged_before = gateway.metric("otelcol_receiver_accepted_spans");
        gateway.rewrite(text);
        gateway.wait_reloads(n as u64);
        // Traffic flowed across the reload.
        eventually("more spans accepted", PATIENCE, || {
            (gateway.metric("otelcol_receiver_accepted_spans") > acknowledged_before).then_some(())
        });
    }
    stop_sending.store(true, Ordering::SeqCst);
    let fresh = fresh.join().expect("sender");
    let kept = kept.join().expect("sender");
    assert_eq!(gateway.reload_failures(), 0);
    gateway.stop();

    for report in [&fresh, &kept] {
        assert!(
            report.errors.is_empty(),
            "a client saw errors across the reloads: {:?}",
            &report.errors[..report.errors.len().min(10)]
        );
        assert_eq!(
            report.refused, 0,
            "requests were refused during the reloads"
        );
        assert!(!report.acknowledged.is_empty());
    }
    let mut both = SenderReport::default();
    both.acknowledged.extend(fresh.acknowledged);
    both.acknowledged.extend(kept.acknowledged);
    assert_delivered_once(&out, &both);
}

#[test]
fn fifty_reloads_under_steady_load_lose_no_acknowledged_span() {
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let extra = dir.path().join("extra.jsonl");
    let ports = Ports::new();
    // Alternating variations, each saved as a new revision of the file.
    let revision = |n: usize| {
        let mut processors = format!(
            "  batch:\n    timeout: {}ms\n    send_batch_size: 200\n",
            10 + 10 * (n % 3)
        );
        processors.push_str("  memory_limiter:\n    check_interval: 1s\n    limit_mib: 4000\n    spike_limit_mib: 500\n");
        let mut exporters = file_exporter("file", &out);
        let mut list = "file".to_string();
        if n % 4 >= 2 {
            exporters.push_str(&file_exporter("file/extra", &extra));
            list.push_str(", file/extra");
        }
        let chain = if n % 5 >= 3 {
            "memory_limiter, batch"
        } else {
            "batch"
        };
        format!(
            "# revision {n}\n{}",
            config(
                &ports,
                &processors,
                &exporters,
                &format!("{{ receivers: [otlp], processors: [{chain}], exporters: [{list}] }}"),
            )
        )
    };
    let mut gateway = Gateway::start(ports, dir, &revision(0));
    let stop_sending = Arc::new(AtomicBool::new(false));
    let sender = spawn_sender(
        "steady",
        gateway.ports.grpc,
        4,
        false,
        Arc::clone(&stop_sending),
    );
    for n in 1..=50 {
        gateway.rewrite(&revision(n));
        gateway.wait_reloads(n as u64);
    }
    stop_sending.store(true, Ordering::SeqCst);
    let report = sender.join().expect("sender");
    assert_eq!(gateway.reloads(), 50, "one reload per save");
    assert_eq!(gateway.reload_failures(), 0);
    gateway.stop();

    assert!(
        report.errors.is_empty(),
        "the sender saw errors: {:?}",
        &report.errors[..report.errors.len().min(10)]
    );
    let requests = report.acknowledged.len() / 10;
    assert!(
        report.refused * 20 <= requests,
        "{} of {requests} requests were refused: refusals during a reload must be rare",
        report.refused
    );
    assert_delivered_once(&out, &report);
}

#[test]
fn sighup_reloads_the_configuration() {
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let ports = Ports::new();
    let text = config(
        &ports,
        BATCH,
        &file_exporter("file", &out),
        "{ receivers: [otlp], processors: [batch], exporters: [file] }",
    );
    let mut gateway = Gateway::start(ports, dir, &text);
    let mut client = Client::connect(gateway.ports.grpc);
    let sent = client.send_named("before", 10);
    wait_in_file(&out, &sent);

    gateway.process.signal("HUP");
    gateway.wait_reloads(1);
    gateway.process.signal("HUP");
    gateway.wait_reloads(2);
    gateway.assert_running();
    assert_eq!(gateway.reload_failures(), 0);
    assert_eq!(gateway.health()["last_reload"]["ok"], true);

    let sent = client.send_named("after", 10);
    wait_in_file(&out, &sent);
    // The file exporter was kept: nothing written before the reloads was lost.
    let written = span_name_counts(&out);
    assert!(written.contains_key("before-0"));
    assert_eq!(written.values().sum::<usize>(), 20);
}

#[test]
fn sigterm_drains_what_was_acknowledged_and_exits_zero() {
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let ports = Ports::new();
    // The file exporter acknowledges once a batch is in its queue; the batch processor
    // (with no early send when quiet) holds its callers for up to 3s, so calls are in
    // flight when SIGTERM comes. (Calls
    // held longer than the receiver's 10s drain are cut off at shutdown: their data is
    // still flushed and written, but the client sees a transport error.)
    let text = config(
        &ports,
        "  batch:\n    timeout: 3s\n    send_batch_size: 100000\n    flush_when_quiet: 0s\n",
        &format!(
            "{}    sending_queue:\n      enabled: true\n",
            file_exporter("file", &out)
        ),
        "{ receivers: [otlp], processors: [batch], exporters: [file] }",
    );
    let mut gateway = Gateway::start(ports, dir, &text);
    let port = gateway.ports.grpc;
    let mut acknowledged = Client::connect(port).send_named("acknowledged", 50);
    let waiting: Vec<_> = (0..4)
        .map(|n| {
            std::thread::spawn(move || {
                let mut client = Client::connect(port);
                let names: Vec<String> = (0..25).map(|i| format!("in-flight-{n}-{i}")).collect();
                let request = traces_request(names.clone());
                client
                    .runtime
                    .block_on(client.client.export(request))
                    .map(|_| names)
            })
        })
        .collect();
    eventually("4 calls waiting in the pipeline", PATIENCE, || {
        (gateway.health()["pipelines"]["traces"]["inflight"] == 4).then_some(())
    });

    gateway.stop();
    for call in waiting {
        match call.join().expect("client thread") {
            Ok(names) => acknowledged.extend(names),
            Err(status) => panic!("a call in flight at SIGTERM failed: {status}"),
        }
    }
    assert_eq!(acknowledged.len(), 150);
    let written = span_name_counts(&out);
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|name| !written.contains_key(*name))
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not written: {missing:?}"
    );
    assert_eq!(
        written.values().sum::<usize>(),
        150,
        "each span written once"
    );
}
