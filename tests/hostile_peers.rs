//! Issue 11's hostile-input probe, replayed against the real gateway: silent clients that
//! announce large bodies and send nothing, and floods of connections that never send a
//! byte. The gateway must keep accepting real requests and keep its health and metrics
//! endpoints answering.

mod common;

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::*;
use prost::Message;

struct Gateway {
    process: Proc,
    http: SocketAddr,
    grpc: SocketAddr,
    health: SocketAddr,
    metrics: SocketAddr,
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Starts the gateway with extra keys for each OTLP protocol and the health check, and
/// `admission`.
fn gateway(
    dir: &Path,
    http_extra: &str,
    grpc_extra: &str,
    admission: &str,
    health_extra: &str,
) -> Gateway {
    let (http, grpc, health, metrics) = (free_port(), free_port(), free_port(), free_port());
    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:{grpc}" {grpc_extra} }}
      http: {{ endpoint: "127.0.0.1:{http}" {http_extra} }}
    admission: {admission}
exporters:
  file: {{ path: "{}" }}
extensions:
  health_check: {{ endpoint: "127.0.0.1:{health}" {health_extra} }}
service:
  extensions: [health_check]
  telemetry: {{ metrics: {{ address: "127.0.0.1:{metrics}" }} }}
  pipelines:
    traces: {{ receivers: [otlp], exporters: [file] }}
"#,
        dir.join("out.jsonl").display()
    );
    let path = dir.join("gateway.yaml");
    std::fs::write(&path, config).unwrap();
    let mut process = Proc::spawn(
        &example("gateway"),
        &["--config", path.to_str().unwrap()],
        &[],
    );
    for port in [http, grpc, health, metrics] {
        wait_serving(&mut process, addr(port), Duration::from_secs(20));
    }
    Gateway {
        process,
        http: addr(http),
        grpc: addr(grpc),
        health: addr(health),
        metrics: addr(metrics),
    }
}

fn traces(spans: usize) -> Vec<u8> {
    traces_request((0..spans as u64).map(span_name)).encode_to_vec()
}

fn post_traces(at: SocketAddr, body: &[u8]) -> HttpResponse {
    http(
        "POST",
        at,
        "/v1/traces",
        &[("Content-Type", "application/x-protobuf")],
        body,
    )
}

/// The status code a traces post gets, or `None` when the connection was refused or cut.
fn try_post_traces(at: SocketAddr, body: &[u8]) -> Option<String> {
    try_post_traces_encoded(at, body, "identity")
}

/// [`try_post_traces`] with a `Content-Encoding`.
fn try_post_traces_encoded(at: SocketAddr, body: &[u8], encoding: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = TcpStream::connect(at).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n\
         Content-Encoding: {encoding}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.split_whitespace().nth(1).map(str::to_string)
}

/// Opens `n` connections to `at` that send `prefix` (perhaps nothing) and then nothing.
fn silent_connections(at: SocketAddr, n: usize, prefix: &[u8]) -> Vec<TcpStream> {
    use std::io::Write;
    (0..n)
        .filter_map(|_| {
            let mut stream = TcpStream::connect(at).ok()?;
            stream.write_all(prefix).ok()?;
            Some(stream)
        })
        .collect()
}

/// Opens HTTP/2 calls to the gRPC traces `Export` that send only a length prefix announcing
/// `announced` bytes, then nothing; they stay open while the returned runtime lives.
fn grpc_calls_announcing(at: SocketAddr, calls: usize, announced: u32) -> tokio::runtime::Runtime {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let stream = tokio::net::TcpStream::connect(at).await.unwrap();
        let (sender, connection) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(stream),
        )
        .await
        .unwrap();
        tokio::spawn(connection);
        for _ in 0..calls {
            let mut prefix = vec![0u8];
            prefix.extend(announced.to_be_bytes());
            let request = http::Request::post(format!(
                "http://{at}/opentelemetry.proto.collector.trace.v1.TraceService/Export"
            ))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(StalledBody(Some(Bytes::from(prefix))))
            .unwrap();
            let mut sender = sender.clone();
            tokio::spawn(async move {
                let _ = sender.send_request(request).await;
            });
        }
    });
    runtime
}

/// A request body that sends its first bytes and then nothing, never ending.
struct StalledBody(Option<Bytes>);

impl http_body::Body for StalledBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        match self.0.take() {
            Some(bytes) => std::task::Poll::Ready(Some(Ok(http_body::Frame::data(bytes)))),
            None => std::task::Poll::Pending,
        }
    }
}

/// Issue 11, defect 1: seven HTTP requests announcing 20 MiB bodies (about 900 bytes in
/// all) and 40 gRPC calls announcing 4 MiB messages used to take the whole admission
/// budget and stop every later request, while the health check said 200.
#[test]
fn announced_but_never_sent_bodies_do_not_stop_the_intake() {
    let dir = temp_dir();
    let gateway = gateway(dir.path(), "", "", "{}", "");
    let head = b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n\
                 Content-Length: 20971520\r\n\r\n";
    let _silent_http = silent_connections(gateway.http, 7, head);
    let _silent_grpc = grpc_calls_announcing(gateway.grpc, 40, 4 << 20);
    std::thread::sleep(Duration::from_millis(300));

    let started = Instant::now();
    let answer = post_traces(gateway.http, &traces(100));
    assert_eq!(answer.status, 200, "{}", answer.text());
    OtlpClient::new(gateway.grpc)
        .export(traces_request((100..200).map(span_name)))
        .expect("gRPC accepted");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "answered in {:?}",
        started.elapsed()
    );
    assert_eq!(get(gateway.health, "/").status, 200);
    eventually("both requests written", Duration::from_secs(10), || {
        let lines = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap_or_default();
        (lines.lines().count() >= 2).then_some(())
    });
}

/// Issue 11, defect 1, its last part: an intake that admits nothing while requests wait
/// for room makes the health check say so, naming the receiver, and recovers with it.
#[test]
fn an_intake_admitting_nothing_while_requests_wait_is_unhealthy() {
    use std::io::Write;
    let dir = temp_dir();
    let gateway = gateway(
        dir.path(),
        ", max_request_body_size: 1048576, read_timeout: 10m",
        ", max_recv_msg_size_mib: 1",
        "{ request_limit_mib: 1 }",
        ", stall_timeout: 1s",
    );
    // One client sends all but the last byte of a 1 MiB body, and so holds the whole budget.
    let mut hog = TcpStream::connect(gateway.http).unwrap();
    hog.set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    hog.write_all(
        b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n\
          Content-Length: 1048576\r\n\r\n",
    )
    .unwrap();
    hog.write_all(&vec![0u8; (1 << 20) - 1]).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(get(gateway.health, "/").status, 200);

    // A real request now waits for room; once it has waited a stall timeout, health fails.
    let http = gateway.http;
    let waiting = std::thread::spawn(move || try_post_traces(http, &traces(10)));
    let unhealthy = eventually("the health check fails", Duration::from_secs(10), || {
        let answer = get(gateway.health, "/");
        (answer.status == 503).then(|| answer.text())
    });
    assert!(
        unhealthy.contains("otlp") && unhealthy.contains("waiting for admission"),
        "{unhealthy}"
    );

    // The hog goes away: the waiting request is admitted and the health check recovers.
    drop(hog);
    assert_eq!(waiting.join().unwrap().as_deref(), Some("200"));
    eventually("the health check recovers", Duration::from_secs(10), || {
        (get(gateway.health, "/").status == 200).then_some(())
    });
}

/// Issue 11, defect 3: connections that never send a byte were never closed, and enough of
/// them exhausted the file descriptors so that the OTLP ports, /health and /metrics all
/// stopped accepting while the log filled with "Too many open files".
#[test]
fn a_flood_of_silent_connections_is_capped_closed_when_idle_and_logged_sparingly() {
    let dir = temp_dir();
    let mut gateway = gateway(
        dir.path(),
        ", max_connections: 100, idle_timeout: 8s",
        ", max_connections: 100, keepalive: { server_parameters: { max_connection_idle: 8s } }",
        "{}",
        "",
    );
    let flood_started = Instant::now();
    let flood_http = silent_connections(gateway.http, 600, b"");
    let flood_grpc = silent_connections(gateway.grpc, 600, b"");
    assert!(flood_http.len() + flood_grpc.len() > 1000);

    // Over the limit: refused at once, and the health and metrics endpoints still answer.
    let refused = {
        use std::io::Read;
        let mut stream = TcpStream::connect(gateway.http).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    };
    assert!(
        flood_started.elapsed() < Duration::from_secs(8),
        "the flood outlasted the idle timeout"
    );
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert_eq!(get(gateway.health, "/").status, 200);
    assert_eq!(get(gateway.metrics, "/metrics").status, 200);

    // The silent connections are closed once idle, and the ports serve again.
    eventually(
        "the OTLP/HTTP port serves again",
        Duration::from_secs(30),
        || (try_post_traces(gateway.http, &traces(1)).as_deref() == Some("200")).then_some(()),
    );
    eventually(
        "the OTLP/gRPC port serves again",
        Duration::from_secs(30),
        || {
            OtlpClient::new(gateway.grpc)
                .export(traces_request([span_name(1)]))
                .ok()
        },
    );
    let refusals = gateway
        .process
        .output()
        .matches("refusing a connection")
        .count();
    assert!(
        (1..=8).contains(&refusals),
        "{refusals} log lines for 1000 refused connections:\n{}",
        gateway.process.output()
    );
    assert!(gateway.process.is_running());
    drop((flood_http, flood_grpc));
}

/// A gzip body of about 256 KiB that decompresses to 256 MiB: many copies of one small
/// gzip member, which a gzip reader takes as one stream.
fn gzip_bomb() -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&vec![0u8; 1 << 20]).unwrap();
    let member = encoder.finish().unwrap();
    member.repeat(256)
}

fn memory_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Issue 11, defect 7: under a stream of decompression bombs the resident size settled at
/// 3.7× the admission budget (glibc kept the freed request buffers). Now the peak stays
/// within a small multiple of the budget and the memory is given back afterwards.
#[test]
fn decompression_bombs_leave_memory_near_the_admission_budget() {
    const BUDGET_MIB: u64 = 32;
    let dir = temp_dir();
    let gateway = gateway(
        dir.path(),
        "",
        "",
        &format!("{{ request_limit_mib: {BUDGET_MIB} }}"),
        "",
    );
    let pid = gateway.process.pid();
    let idle = memory_kib(pid, "VmRSS:");
    // Heap and other anonymous memory: the code paged in by the storm is not retention.
    let idle_anonymous = memory_kib(pid, "RssAnon:");
    let bomb = gzip_bomb();
    let until = Instant::now() + Duration::from_secs(8);
    let codes: Vec<Vec<String>> = std::thread::scope(|scope| {
        let senders: Vec<_> = (0..16)
            .map(|_| {
                scope.spawn(|| {
                    let mut codes = Vec::new();
                    while Instant::now() < until {
                        let code = try_post_traces_encoded(gateway.http, &bomb, "gzip");
                        codes.push(code.unwrap_or_else(|| "cut".into()));
                    }
                    codes
                })
            })
            .collect();
        senders.into_iter().map(|s| s.join().unwrap()).collect()
    });
    let mut answers = std::collections::BTreeMap::<String, usize>::new();
    for code in codes.into_iter().flatten() {
        *answers.entry(code).or_default() += 1;
    }
    // Decompressed up to the limit and refused, or refused for want of budget.
    assert!(answers.contains_key("413"), "{answers:?}");
    assert!(
        answers
            .keys()
            .all(|c| ["413", "429", "cut"].contains(&c.as_str())),
        "{answers:?}"
    );
    let peak = memory_kib(pid, "VmHWM:");
    let budget = BUDGET_MIB * 1024;
    assert!(
        peak <= idle + 3 * budget,
        "peak {peak} KiB for an idle size of {idle} KiB and a budget of {budget} KiB"
    );
    // Within a trim interval (10 s) or two.
    eventually("the memory is given back", Duration::from_secs(25), || {
        (memory_kib(pid, "RssAnon:") <= idle_anonymous + budget / 4).then_some(())
    });
    assert_eq!(post_traces(gateway.http, &traces(1)).status, 200);
}
