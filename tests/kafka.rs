//! Kafka end to end, with a real Kafka-protocol broker and real gateway processes.
//!
//! The broker is **tansu** 0.6.0 (crates.io `tansu`, installed by `scripts/test` with
//! `cargo install --features dynostore,libsql`): an Apache-2.0 broker written in Rust
//! that speaks the Kafka protocol (produce, fetch, metadata, classic consumer groups with
//! offset commits, SASL/SCRAM), here with its in-memory storage, and with its SQLite
//! storage for the SASL test. No JVM Kafka is installable from this machine's
//! registries. What it does not give these tests:
//!
//! - replication (one broker: `required_acks: all` is answered by it alone);
//! - TLS: its `broker` command refuses `--cert` together with `--key` (both are in one
//!   clap argument group), so it cannot serve TLS itself. The TLS test puts a TLS
//!   terminator (rustls, in this test) in front of a second tansu that advertises the
//!   terminator's address, as a broker behind a TLS proxy is deployed: librdkafka's
//!   TLS (CA verification, host name check) is exercised for real, the broker's own TLS
//!   code is not;
//! - SASL PLAIN: its SASL library is built with SCRAM and OAUTHBEARER only, so PLAIN is
//!   tested as librdkafka configuration only (SCRAM-SHA-256 and -512 run for real);
//! - a correct fetch from an offset inside a record batch: it answers with the batches
//!   after it (see `Chain::new`), so the group test's producer writes one record per
//!   batch.
//!
//! The tests:
//!
//! - exporter → broker → receiver round trip of traces (OTLP protobuf, one record per
//!   trace, a batch over `max_message_bytes` split; and `jaeger_proto`, one record per
//!   span), metrics (OTLP/JSON) and logs (`raw` bodies read back as `text`);
//! - the same round trip of traces over TLS (the terminator above), and a client that
//!   does not trust the broker's CA getting nothing through;
//! - the same with SASL/SCRAM against a broker that requires it, and a wrong password
//!   getting nothing through;
//! - a consumer group of two collectors sharing a 4-partition topic while a producer
//!   sends: a second member joins mid-stream (a rebalance), one is killed with `kill -9`
//!   (another rebalance) and comes back. Every span the producing gateway acknowledged
//!   (its exporter answers only after the broker's ack: no sending queue) reaches the
//!   backend at least once; duplicates are counted and printed.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::lifeline::Lifeline;
use common::*;

/// The tansu broker shared by this binary's tests (each test uses its own topics and
/// group), started once and stopped when the test process exits. `None` when tansu is
/// not installed (a skip, or a failure under `scripts/test`).
fn shared_broker() -> Option<&'static str> {
    static BROKER: OnceLock<(Lifeline, String)> = OnceLock::new();
    let program = program("tansu")?;
    let (_, address) = BROKER.get_or_init(|| start_broker(&program));
    Some(address)
}

/// Starts `tansu broker` on a free port, in memory.
fn start_broker(program: &Path) -> (Lifeline, String) {
    start_tansu(program, &BrokerOptions::default())
}

/// Where and how a test's broker runs.
#[derive(Default)]
struct BrokerOptions<'a> {
    /// The `host:port` clients are told to connect to, when not the broker's own.
    advertised: Option<&'a str>,
    /// `--storage-engine`; tansu's in-memory engine when `None`.
    storage: Option<&'a str>,
    /// The broker's working directory: its SQLite engine opens its file relative to it.
    working_dir: Option<&'a Path>,
    /// Whether every client must authenticate with SASL (`--authentication`).
    authentication: bool,
}

/// Starts `tansu broker` on a free port (tansu cannot bind port 0 and tell: another
/// process may take the port first, so a broker that does not come up is started again
/// on another).
fn start_tansu(program: &Path, options: &BrokerOptions) -> (Lifeline, String) {
    for _attempt in 0..5 {
        let port = free_port();
        let address = format!("127.0.0.1:{port}");
        let dir = tempfile::tempdir().expect("temp dir").keep();
        let url = format!("tcp://{address}");
        let advertised_url = options
            .advertised
            .map_or_else(|| url.clone(), |a| format!("tcp://{a}"));
        let mut args: Vec<String> = [
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &advertised_url,
            "--storage-engine",
            options.storage.unwrap_or("memory://tansu/"),
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        if options.authentication {
            args.push("--authentication".into());
        }
        let lifeline = match options.working_dir {
            // `sh -c 'cd D && exec tansu ...'`: the lifeline still kills the broker itself.
            Some(working_dir) => {
                let mut shell_args = vec![
                    "-c".to_string(),
                    r#"cd "$0" && exec "$@""#.to_string(),
                    working_dir.display().to_string(),
                    program.display().to_string(),
                ];
                shell_args.extend(args);
                Lifeline::start(Path::new("sh"), &shell_args, &dir, "tansu.log")
            }
            None => Lifeline::start(program, &args, &dir, "tansu.log"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        let log = dir.join("tansu.log");
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(&address).is_ok() {
                return (lifeline, address);
            }
            // tansu prints `Error:` and exits when it cannot start (a port taken).
            if std::fs::read_to_string(&log).is_ok_and(|text| text.contains("Error:")) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!(
            "tansu did not listen on {address}: {}",
            std::fs::read_to_string(dir.join("tansu.log")).unwrap_or_default()
        );
    }
    panic!("tansu never started");
}

/// A TLS terminator on `listener` in front of the plain TCP service at `backend`, with
/// the certificate and key in `dir/broker.pem` and `dir/broker.key`; it serves until
/// the test process exits.
fn tls_front(listener: std::net::TcpListener, backend: String, dir: &Path) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("broker.pem"))
        .expect("broker.pem")
        .collect::<Result<_, _>>()
        .expect("a certificate");
    let key = PrivateKeyDer::from_pem_file(dir.join("broker.key")).expect("broker.key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .expect("a certificate and its key");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let (acceptor, backend) = (acceptor.clone(), backend.clone());
                tokio::spawn(async move {
                    // A client that refuses our certificate ends here: nothing to forward.
                    let Ok(mut client) = acceptor.accept(client).await else {
                        return;
                    };
                    let Ok(mut broker) = tokio::net::TcpStream::connect(&backend).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut broker).await;
                });
            }
        });
    });
}

/// Creates `topic` with `partitions` partitions on the broker at `address`.
fn create_topic(address: &str, topic: &str, partitions: u32) {
    tansu_tool(
        address,
        &[
            "topic",
            "create",
            topic,
            "--partitions",
            &partitions.to_string(),
        ],
    );
}

/// Creates the SCRAM user `name` (`mechanism`: `scram256` or `scram512`) on the broker at
/// `address`.
fn create_user(address: &str, name: &str, password: &str, mechanism: &str) {
    tansu_tool(
        address,
        &["user", "create", name, password, "--mechanism", mechanism],
    );
}

/// Runs `tansu <command...> --broker tcp://<address>`, which must succeed.
fn tansu_tool(address: &str, command: &[&str]) {
    let program = program("tansu").expect("tansu");
    let output = Command::new(program)
        .args(command)
        .arg("--broker")
        .arg(format!("tcp://{address}"))
        .output()
        .unwrap_or_else(|e| panic!("run tansu {command:?}: {e}"));
    assert!(
        output.status.success(),
        "tansu {command:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn round_trip_of_every_signal() {
    let Some(broker) = shared_broker() else {
        return;
    };
    let prefix = "rt";
    for signal in ["spans", "metrics", "logs", "jaeger"] {
        create_topic(broker, &format!("{prefix}-{signal}"), 3);
    }
    let dir = temp_dir();
    let (otlp, metrics) = (free_address(), free_address());
    let out = dir.path().join("out.jsonl");
    let jaeger_out = dir.path().join("jaeger.jsonl");
    let config = write_config_file(
        dir.path(),
        "gateway.yaml",
        &format!(
            r#"
receivers:
  otlp:
    protocols:
      http: {{ endpoint: "{otlp}" }}
  kafka:
    brokers: ["{broker}"]
    group_id: {prefix}
    initial_offset: earliest
    traces: {{ topics: [{prefix}-spans] }}
    metrics: {{ topics: [{prefix}-metrics], encoding: otlp_json }}
    logs: {{ topics: [{prefix}-logs], encoding: text }}
  kafka/jaeger:
    brokers: ["{broker}"]
    group_id: {prefix}-jaeger
    initial_offset: earliest
    traces: {{ topics: [{prefix}-jaeger], encoding: jaeger_proto }}
exporters:
  kafka:
    brokers: ["{broker}"]
    traces: {{ topic: {prefix}-spans }}
    metrics: {{ topic: {prefix}-metrics, encoding: otlp_json }}
    logs: {{ topic: {prefix}-logs, encoding: raw }}
    partition_traces_by_id: true
    producer: {{ max_message_bytes: 4000, required_acks: all, compression: zstd }}
    sending_queue: {{ enabled: false }}
  kafka/jaeger:
    brokers: ["{broker}"]
    traces: {{ topic: {prefix}-jaeger, encoding: jaeger_proto }}
    sending_queue: {{ enabled: false }}
  file:
    path: "{out}"
  file/jaeger:
    path: "{jaeger_out}"
service:
  telemetry:
    metrics: {{ address: "{metrics}" }}
  pipelines:
    traces/in: {{ receivers: [otlp], exporters: [kafka, kafka/jaeger] }}
    metrics/in: {{ receivers: [otlp], exporters: [kafka] }}
    logs/in: {{ receivers: [otlp], exporters: [kafka] }}
    traces/out: {{ receivers: [kafka], exporters: [file] }}
    metrics/out: {{ receivers: [kafka], exporters: [file] }}
    logs/out: {{ receivers: [kafka], exporters: [file] }}
    traces/jaeger: {{ receivers: [kafka/jaeger], exporters: [file/jaeger] }}
"#,
            out = out.display(),
            jaeger_out = jaeger_out.display()
        ),
    );
    let mut gateway = spawn_gateway(&config);
    wait_gateway(&mut gateway, otlp);
    post_json_until_ok(
        otlp,
        "/v1/metrics",
        r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"kafka_metric","gauge":{"dataPoints":[{"asDouble":1.5,"timeUnixNano":"1"}]}}]}]}]}"#,
    );
    post_json_until_ok(
        otlp,
        "/v1/logs",
        r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"kafka log line"}}]}]}]}"#,
    );
    // Two traces in one batch over `max_message_bytes`: one record per trace, each split.
    let big: Vec<String> = (0..60)
        .map(|i| format!("big-{i:03}-{}", "p".repeat(150)))
        .collect();
    let spans: Vec<String> = big
        .iter()
        .enumerate()
        .map(|(i, name)| {
            format!(
                r#"{{"traceId":"0{}02030405060708090a0b0c0d0e0f10","spanId":"{:016x}","name":"{name}"}}"#,
                i % 2 + 1,
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
        "every signal back from Kafka",
        Duration::from_secs(90),
        || {
            let text = std::fs::read_to_string(&out).unwrap_or_default();
            ["kafka_metric", "kafka log line"]
                .iter()
                .map(|s| s.to_string())
                .chain(big.iter().cloned())
                .all(|needle| text.contains(&needle))
                .then_some(())
        },
    );
    // The file exporter writes a line per batch: the big batch came as several records,
    // each of one trace.
    let text = std::fs::read_to_string(&out).unwrap();
    let parts: Vec<&str> = text.lines().filter(|line| line.contains("big-")).collect();
    assert!(
        parts.len() >= 4,
        "the big batch arrived in {} record(s)",
        parts.len()
    );
    for part in &parts {
        let one_trace = part.contains("0102030405060708090a0b0c0d0e0f10")
            != part.contains("0202030405060708090a0b0c0d0e0f10");
        assert!(one_trace, "a record holds spans of both traces");
    }
    assert_eq!(
        span_name_counts(&out).values().filter(|n| **n > 1).count(),
        0,
        "no span twice"
    );
    // The same spans as Jaeger spans, one record each: every one back once, in its trace.
    eventually(
        "every span back through jaeger_proto",
        Duration::from_secs(60),
        || {
            let text = std::fs::read_to_string(&jaeger_out).unwrap_or_default();
            big.iter().all(|name| text.contains(name)).then_some(())
        },
    );
    let counts = span_name_counts(&jaeger_out);
    assert!(
        big.iter().all(|name| counts.get(name) == Some(&1)),
        "each span once through jaeger_proto: {counts:?}"
    );
    let jaeger_text = std::fs::read_to_string(&jaeger_out).unwrap();
    for line in jaeger_text.lines().filter(|line| line.contains("big-")) {
        assert_eq!(
            line.matches("big-").count(),
            1,
            "one span per record: {line}"
        );
    }
    assert!(gateway.is_running(), "{}", gateway.output());
    gateway.signal("TERM");
    gateway.wait_exit(Duration::from_secs(30));
}

/// Traces through a broker reachable only over TLS: a gateway exports to it and reads
/// back with the `kafka` exporter and receiver set up with `tls: {ca_file}`; another
/// exporter that trusts a different CA delivers nothing, and says why.
#[test]
fn round_trip_over_tls_and_an_untrusted_broker_refused() {
    let Some(program) = program("tansu") else {
        return;
    };
    let dir = temp_dir();
    common::pki::write_pki(dir.path(), "kafka test CA", &[("broker", "localhost")]);
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    common::pki::write_pki(&other, "another CA", &[]);
    let front = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let front_port = front.local_addr().unwrap().port();
    let advertised = format!("localhost:{front_port}");
    let (_broker, plain) = start_tansu(
        &program,
        &BrokerOptions {
            advertised: Some(&advertised),
            ..BrokerOptions::default()
        },
    );
    tls_front(front, plain.clone(), dir.path());
    create_topic(&plain, "tls-spans", 2);
    let ca = dir.path().join("ca.pem");
    let other_ca = other.join("ca.pem");
    round_trip_and_one_refused(
        dir.path(),
        &advertised,
        "tls-spans",
        &Clients {
            receiver: &format!("tls: {{ ca_file: \"{}\" }}", ca.display()),
            exporter: &format!("tls: {{ ca_file: \"{}\" }}", ca.display()),
            refused: &format!("tls: {{ ca_file: \"{}\" }}", other_ca.display()),
        },
        "certificate",
    );
}

/// The client settings (one line of YAML each, under a `kafka` component) of a
/// [`round_trip_and_one_refused`] gateway.
struct Clients<'a> {
    /// The receiver's.
    receiver: &'a str,
    /// The exporter's that delivers.
    exporter: &'a str,
    /// The exporter's that the broker (or the client itself) refuses.
    refused: &'a str,
}

/// A gateway whose `kafka` exporter and receiver, set up with `clients`, take a span
/// around through `topic` on `broker`, while a second exporter set up with
/// `clients.refused` (no queue, no retries) fails the request sent to it, delivers
/// nothing and says why: its failure in the gateway's log contains `why`.
fn round_trip_and_one_refused(dir: &Path, broker: &str, topic: &str, clients: &Clients, why: &str) {
    let (otlp, refused_otlp, metrics) = (free_address(), free_address(), free_address());
    let out = dir.join("out.jsonl");
    let Clients {
        receiver,
        exporter,
        refused,
    } = clients;
    let config = write_config_file(
        dir,
        "gateway.yaml",
        &format!(
            r#"
receivers:
  otlp:
    protocols:
      http: {{ endpoint: "{otlp}" }}
  otlp/refused:
    protocols:
      http: {{ endpoint: "{refused_otlp}" }}
  kafka:
    brokers: ["{broker}"]
    {receiver}
    group_id: {topic}
    initial_offset: earliest
    traces: {{ topics: [{topic}] }}
exporters:
  kafka:
    brokers: ["{broker}"]
    {exporter}
    traces: {{ topic: {topic} }}
    sending_queue: {{ enabled: false }}
  kafka/refused:
    brokers: ["{broker}"]
    {refused}
    traces: {{ topic: {topic} }}
    timeout: 3s
    sending_queue: {{ enabled: false }}
    retry_on_failure: {{ enabled: false }}
  file:
    path: "{out}"
service:
  telemetry:
    metrics: {{ address: "{metrics}" }}
  pipelines:
    traces/in: {{ receivers: [otlp], exporters: [kafka] }}
    traces/refused: {{ receivers: [otlp/refused], exporters: [kafka/refused] }}
    traces/out: {{ receivers: [kafka], exporters: [file] }}
"#,
            out = out.display(),
        ),
    );
    let mut gateway = spawn_gateway(&config);
    wait_gateway(&mut gateway, otlp);
    post_json_until_ok(
        otlp,
        "/v1/traces",
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"delivered"}]}]}]}"#,
    );
    eventually(
        "the span back through the broker",
        Duration::from_secs(60),
        || {
            std::fs::read_to_string(&out)
                .unwrap_or_default()
                .contains("delivered")
                .then_some(())
        },
    );
    let answer = http(
        "POST",
        refused_otlp,
        "/v1/traces",
        &[("Content-Type", "application/json")],
        br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0202030405060708090a0b0c0d0e0f10","spanId":"0202030405060708","name":"must-not-arrive"}]}]}]}"#,
    );
    assert_ne!(
        answer.status, 200,
        "the exporter meant to be refused took data"
    );
    eventually(
        &format!("the failure ({why}) in the gateway's log"),
        Duration::from_secs(30),
        || gateway.output().to_lowercase().contains(why).then_some(()),
    );
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    assert!(
        !text.contains("must-not-arrive"),
        "the exporter meant to be refused delivered"
    );
    assert!(gateway.is_running(), "{}", gateway.output());
    gateway.signal("TERM");
    gateway.wait_exit(Duration::from_secs(30));
}

/// Traces through a broker that requires SASL: the exporter authenticates with
/// SCRAM-SHA-256, the receiver with SCRAM-SHA-512, and an exporter with a wrong password
/// delivers nothing and says why.
///
/// tansu keeps SCRAM credentials only in its SQL engines (its in-memory one answers every
/// user as unknown), and its own tools cannot authenticate. So a broker without
/// authentication creates the topic and the users in a SQLite file and is stopped, and a
/// broker requiring authentication then serves the same file.
#[test]
fn round_trip_with_sasl_scram_and_a_wrong_password_refused() {
    let Some(program) = program("tansu") else {
        return;
    };
    let dir = temp_dir();
    let storage = BrokerOptions {
        storage: Some("sqlite://tansu.db"),
        working_dir: Some(dir.path()),
        ..BrokerOptions::default()
    };
    let (setup, open) = start_tansu(&program, &storage);
    create_topic(&open, "sasl-spans", 2);
    create_user(&open, "producer", "secret-256", "scram256");
    create_user(&open, "consumer", "secret-512", "scram512");
    drop(setup);
    eventually("the setup broker stopped", Duration::from_secs(30), || {
        std::net::TcpStream::connect(&open).is_err().then_some(())
    });
    let (_broker, broker) = start_tansu(
        &program,
        &BrokerOptions {
            authentication: true,
            ..storage
        },
    );
    round_trip_and_one_refused(
        dir.path(),
        &broker,
        "sasl-spans",
        &Clients {
            receiver: "auth: { sasl: { mechanism: SCRAM-SHA-512, username: consumer, password: secret-512 } }",
            exporter: "auth: { sasl: { mechanism: SCRAM-SHA-256, username: producer, password: secret-256 } }",
            refused: "auth: { sasl: { mechanism: SCRAM-SHA-256, username: producer, password: not-it } }",
        },
        "authentication",
    );
}

/// A producing gateway (OTLP/gRPC → `kafka` exporter, no sending queue: an OTLP answer
/// of success means the broker acknowledged) and the configuration of the consuming
/// gateways (`kafka` receiver in one group → `otlp` exporter without a queue, to
/// `backend`).
struct Chain {
    dir: tempfile::TempDir,
    grpc: SocketAddr,
    producer: Proc,
    consumer_configs: Vec<PathBuf>,
}

impl Chain {
    fn new(broker: &str, topic: &str, backend: &OtlpBackend) -> Chain {
        create_topic(broker, topic, 4);
        let dir = temp_dir();
        let grpc = free_address();
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
  kafka:
    brokers: ["{broker}"]
    traces: {{ topic: {topic} }}
    partition_traces_by_id: true
    # One record per produce batch: tansu's in-memory engine answers a fetch from an
    # offset inside a batch with the batches after it (tansu-storage 0.6.0,
    # dynostore.rs `fetch`: `offsets.split_off(&offset)` keeps batches whose base offset
    # is at or above the one asked for), so a consumer resuming from a committed offset
    # in the middle of a batch never sees the rest of that batch. Kafka returns the
    # batch holding the offset. Found by this test: one span lost per such resume.
    producer: {{ flush_max_messages: 1 }}
    timeout: 5s
    sending_queue: {{ enabled: false }}
    retry_on_failure: {{ enabled: false }}
service:
  telemetry:
    metrics: {{ address: "{metrics}" }}
  pipelines:
    traces: {{ receivers: [otlp], exporters: [kafka] }}
"#,
                metrics = free_address()
            ),
        );
        let consumer_configs = (0..2)
            .map(|member| {
                write_config_file(
                    dir.path(),
                    &format!("consumer-{member}.yaml"),
                    &format!(
                        r#"
receivers:
  kafka:
    brokers: ["{broker}"]
    client_id: member-{member}
    group_id: {topic}-group
    initial_offset: earliest
    session_timeout: 6s
    heartbeat_interval: 1s
    traces: {{ topics: [{topic}] }}
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
    traces: {{ receivers: [kafka], exporters: [otlp] }}
"#,
                        backend = backend.endpoint(),
                        metrics = free_address()
                    ),
                )
            })
            .collect();
        let mut producer = spawn_gateway(&producer_config);
        wait_gateway(&mut producer, grpc);
        Chain {
            dir,
            grpc,
            producer,
            consumer_configs,
        }
    }

    fn consumer(&self, member: usize) -> Proc {
        spawn_gateway(&self.consumer_configs[member])
    }

    /// Sends `requests` requests of 10 spans (each its own trace), 20 ms apart: a steady
    /// stream rather than a burst, so the group changes happen mid-stream.
    fn produce(&self, requests: u64) -> (Arc<Mutex<Vec<String>>>, Arc<AtomicBool>) {
        produce_spans(self.grpc, requests, Duration::from_millis(20))
    }
}

fn delivered(backend: &OtlpBackend) -> usize {
    backend.with_received(|received| received.len())
}

#[test]
fn a_consumer_group_loses_nothing_across_rebalances_and_kill_9() {
    let Some(broker) = shared_broker() else {
        return;
    };
    let backend = OtlpBackend::start(BackendMode::Healthy, 1);
    let mut chain = Chain::new(broker, "group-spans", &backend);
    let (acknowledged, done) = chain.produce(400);
    let mut first = chain.consumer(0);
    let wait_delivered = |target: usize| {
        eventually(
            &format!("{target} spans delivered"),
            Duration::from_secs(120),
            || (delivered(&backend) >= target || done.load(Ordering::SeqCst)).then_some(()),
        );
        !done.load(Ordering::SeqCst)
    };
    let mut mid_stream = 0;
    // A second member joins: the partitions are shared out again.
    mid_stream += usize::from(wait_delivered(500));
    let mut second = chain.consumer(1);
    // The first member dies without leaving: the group notices after session_timeout.
    mid_stream += usize::from(wait_delivered(1500));
    first.kill();
    let killed_output = first.output();
    // And comes back.
    mid_stream += usize::from(wait_delivered(2500));
    first = chain.consumer(0);
    eventually("the producer done", Duration::from_secs(240), || {
        done.load(Ordering::SeqCst).then_some(())
    });
    let expected = acknowledged.lock().unwrap().clone();
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let missing: Vec<String> = backend.with_received(|received| {
            expected
                .iter()
                .filter(|n| !received.contains_key(*n))
                .cloned()
                .collect()
        });
        if missing.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} acknowledged spans never delivered (first: {:?})\nkilled member:\n{}\nfirst member:\n{}\nsecond member:\n{}\nproducer:\n{}",
            missing.len(),
            expected.len(),
            &missing[..missing.len().min(5)],
            killed_output,
            first.output(),
            second.output(),
            chain.producer.output()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let duplicates =
        backend.with_received(|received| received.values().filter(|count| **count > 1).count());
    println!(
        "{} spans acknowledged, all delivered; {duplicates} delivered more than once; \
         {mid_stream} of 3 group changes while the producer was sending",
        expected.len()
    );
    assert!(mid_stream > 0, "no group change happened mid-stream");
    assert!(first.is_running(), "{}", first.output());
    assert!(second.is_running(), "{}", second.output());
    assert!(chain.producer.is_running(), "{}", chain.producer.output());
    drop(chain.dir);
}
