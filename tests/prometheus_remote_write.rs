//! Remote write against Debian's Prometheus 2.42, with the gateway binary:
//!
//! * **exporter**: OTLP/JSON metrics posted to the gateway's OTLP receiver leave through the
//!   `prometheusremotewrite` exporter into Prometheus (`--web.enable-remote-write-receiver`);
//!   its `/api/v1/query` returns the values under the names and labels the translation rules
//!   give (`_total`, unit suffixes, `_bucket{le}`, `target_info`, `job`/`instance`,
//!   `otel_scope_name`, external labels), and the delta sum Go drops arrives as cumulative.
//! * **receiver**: the same Prometheus scrapes itself every second and remote-writes to the
//!   gateway's `prometheusremotewrite` receiver, which writes OTLP/JSON lines with the `file`
//!   exporter. The comparison: at a fixed time `T0` a few seconds in the past, Prometheus's
//!   own samples of its job, the raw samples of `{job="prom",le="",quantile="",
//!   __name__!~".+_(sum|count)"}[1h]` at `T0` (plain series: counters and gauges; the
//!   `le`/`quantile`/`_sum`/`_count` series become histogram and summary points on our side,
//!   or gauges with a `quantile` attribute, so they are left out of both counts), equals the
//!   number of distinct (name, attributes, time) gauge and sum points of resource
//!   `service.name=prom`, without a `quantile` attribute, with a time ≤ `T0` in the
//!   file (points flagged "no recorded value", staleness markers, are not counted on either
//!   side). Checked again until equal, within a deadline, since remote write lags.
//! * **outage and crash**: a second Prometheus (its own data directory and port) is killed,
//!   metrics are posted while it is down, the gateway (exporter queue in `file_storage`) is
//!   `kill -9`ed and started again, more metrics are posted, Prometheus comes back: every
//!   point arrives, and a series written before and after the crash has both samples (in
//!   order: an overtaken older sample would have been refused as out of order).
//!
//! The shared Prometheus runs under a small shell holding the read end of a pipe this test
//! process keeps open: when the process exits, for whatever reason, the pipe closes and the
//! shell kills Prometheus and removes its directory. The outage test's Prometheus is a
//! [`Proc`], killed when the test ends.

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use serde_json::{Value, json};

/// The shared Prometheus: a remote-write receiver that scrapes itself and remote-writes to
/// `receiver_port` (where the receiver test's gateway listens).
struct Prometheus {
    http: SocketAddr,
    receiver_port: u16,
    /// Kept open for the life of the process: closing it stops the server.
    _lifeline: Mutex<(Child, ChildStdin)>,
}

fn prometheus() -> Option<&'static Prometheus> {
    static SERVER: OnceLock<Option<Prometheus>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let program = program("prometheus")?;
            Some(start_shared(&program))
        })
        .as_ref()
}

fn start_shared(program: &Path) -> Prometheus {
    let dir = temp_dir().keep();
    let (port, receiver_port) = (free_port(), free_port());
    std::fs::write(
        dir.join("prometheus.yml"),
        format!(
            r#"global: {{ scrape_interval: 1s, evaluation_interval: 1s }}
scrape_configs:
  - job_name: prom
    static_configs: [{{ targets: ["127.0.0.1:{port}"] }}]
remote_write:
  - url: http://127.0.0.1:{receiver_port}/api/v1/write
    queue_config: {{ batch_send_deadline: 1s, min_backoff: 50ms, max_backoff: 1s }}
"#
        ),
    )
    .unwrap();
    let child = Command::new("sh")
        .args([
            "-c",
            r#""$1" --config.file="$2/prometheus.yml" --storage.tsdb.path="$2/data" --web.listen-address="127.0.0.1:$3" --web.enable-remote-write-receiver --web.enable-lifecycle >"$2/prometheus.log" 2>&1 & server=$!; read -r _; kill $server; wait $server; rm -rf "$2""#,
            "sh",
        ])
        .arg(program)
        .arg(&dir)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .spawn();
    let mut child = child.expect("start prometheus");
    let stdin = child.stdin.take().expect("the lifeline pipe");
    let http: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    wait_ready(http, &dir.join("prometheus.log"));
    Prometheus {
        http,
        receiver_port,
        _lifeline: Mutex::new((child, stdin)),
    }
}

/// Waits until Prometheus answers `/-/ready`.
fn wait_ready(http: SocketAddr, log: &Path) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let ready = std::net::TcpStream::connect_timeout(&http, Duration::from_millis(200)).is_ok()
            && get(http, "/-/ready").status == 200;
        if ready {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "prometheus not ready on {http}: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Percent-encodes a query parameter.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The result vector of an instant query (at `time`, seconds, when given).
fn query(http: SocketAddr, promql: &str, time: Option<f64>) -> Vec<Value> {
    let mut path = format!("/api/v1/query?query={}", encode(promql));
    if let Some(time) = time {
        path.push_str(&format!("&time={time:.3}"));
    }
    let response = get(http, &path);
    let json: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    assert_eq!(json["status"], "success", "{promql}: {}", response.text());
    json["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The value of the single series `promql` selects, once there is exactly one.
fn single_value(http: SocketAddr, promql: &str) -> Option<(serde_json::Map<String, Value>, f64)> {
    let result = query(http, promql, None);
    if result.len() != 1 {
        return None;
    }
    let labels = result[0]["metric"].as_object().cloned().unwrap_or_default();
    let value = result[0]["value"][1].as_str()?.parse().ok()?;
    Some((labels, value))
}

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn attr(key: &str, value: &str) -> Value {
    json!({"key": key, "value": {"stringValue": value}})
}

/// Posts an OTLP/JSON metrics request, as `curl` would; it must be accepted.
fn post_metrics(otlp: SocketAddr, request: &Value) {
    let body = serde_json::to_vec(request).unwrap();
    let response = http(
        "POST",
        otlp,
        "/v1/metrics",
        &[("Content-Type", "application/json")],
        &body,
    );
    assert_eq!(response.status, 200, "{}", response.text());
}

fn spawn_gateway(config: &Path) -> Proc {
    Proc::spawn(
        &example("gateway"),
        &["--config", config.to_str().unwrap()],
        &[],
    )
}

#[test]
fn exporter_writes_what_prometheus_returns() {
    let Some(prometheus) = prometheus() else {
        return;
    };
    let dir = temp_dir();
    let otlp: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let config = dir.path().join("gateway.yaml");
    std::fs::write(
        &config,
        format!(
            r#"receivers:
  otlp:
    protocols:
      http: {{ endpoint: "{otlp}" }}
exporters:
  prometheusremotewrite:
    endpoint: "http://{prom}/api/v1/write"
    external_labels: {{ e2e: exporter }}
    send_metadata: true
service:
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    metrics: {{ receivers: [otlp], exporters: [prometheusremotewrite] }}
"#,
            prom = prometheus.http
        ),
    )
    .unwrap();
    let mut gateway = spawn_gateway(&config);
    wait_serving(&mut gateway, otlp, Duration::from_secs(60));
    let t = now_ns();
    let start = t - 10_000_000_000;
    let request = json!({"resourceMetrics": [{
    "resource": {"attributes": [
        attr("service.name", "shop"), attr("service.namespace", "e2e"),
        attr("service.instance.id", "i-1"), attr("host.name", "box")]},
    "scopeMetrics": [{
        "scope": {"name": "e2e.scope", "version": "1.0"},
        "metrics": [
            {"name": "e2e.requests", "unit": "1", "sum": {"aggregationTemporality": 2, "isMonotonic": true,
                "dataPoints": [{"attributes": [attr("http.method", "GET")],
                    "startTimeUnixNano": start.to_string(), "timeUnixNano": t.to_string(), "asInt": "42"}]}},
            {"name": "e2e.temperature", "unit": "Cel", "gauge": {
                "dataPoints": [{"timeUnixNano": t.to_string(), "asDouble": 21.5}]}},
            {"name": "e2e.latency", "unit": "s", "histogram": {"aggregationTemporality": 2,
                "dataPoints": [{"startTimeUnixNano": start.to_string(), "timeUnixNano": t.to_string(),
                    "count": "6", "sum": 3.5, "bucketCounts": ["2", "3", "1"], "explicitBounds": [0.1, 1.0]}]}},
            {"name": "e2e.deltas", "sum": {"aggregationTemporality": 1, "isMonotonic": true,
                "dataPoints": [{"startTimeUnixNano": start.to_string(), "timeUnixNano": t.to_string(), "asInt": "1"}]}}
        ]}]}]});
    post_metrics(otlp, &request);

    let http = prometheus.http;
    let (labels, value) = eventually("the counter in Prometheus", Duration::from_secs(30), || {
        single_value(http, r#"e2e_requests_total{e2e="exporter"}"#)
    });
    assert_eq!(value, 42.0);
    assert_eq!(labels["job"], "e2e/shop");
    assert_eq!(labels["instance"], "i-1");
    assert_eq!(labels["http_method"], "GET");
    assert_eq!(labels["otel_scope_name"], "e2e.scope");
    assert_eq!(labels["otel_scope_version"], "1.0");

    let gauge = single_value(http, r#"e2e_temperature_celsius{job="e2e/shop"}"#);
    assert_eq!(gauge.map(|g| g.1), Some(21.5));
    for (le, count) in [("0.1", 2.0), ("1", 5.0), ("+Inf", 6.0)] {
        let bucket = single_value(
            http,
            &format!(r#"e2e_latency_seconds_bucket{{job="e2e/shop",le="{le}"}}"#),
        );
        assert_eq!(bucket.map(|b| b.1), Some(count), "le={le}");
    }
    assert_eq!(
        single_value(http, r#"e2e_latency_seconds_sum{job="e2e/shop"}"#).map(|s| s.1),
        Some(3.5)
    );
    assert_eq!(
        single_value(http, r#"e2e_latency_seconds_count{job="e2e/shop"}"#).map(|s| s.1),
        Some(6.0)
    );
    let (info, one) = single_value(http, r#"target_info{job="e2e/shop"}"#).expect("target_info");
    assert_eq!(one, 1.0);
    assert_eq!(info["host_name"], "box");
    // The delta sum Go drops goes as cumulative, and the gateway says so.
    assert_eq!(
        single_value(http, r#"e2e_deltas_total{job="e2e/shop"}"#).map(|d| d.1),
        Some(1.0)
    );
    gateway.wait_for_output("sent as cumulative", Duration::from_secs(10));
    // The metadata Prometheus 2.42 keeps is per scrape target only (remote-written
    // metadata is not stored), so it is checked in the exporter's unit tests.
}

/// Points of the `file` exporter's OTLP/JSON lines: (name, attributes, time in ns) of gauge
/// and sum points of resource `service.name=service` that are not flagged "no recorded
/// value", and the names of histograms and summaries seen.
fn plain_points(path: &Path, service: &str) -> (HashSet<(String, String, u64)>, HashSet<String>) {
    let mut points = HashSet::new();
    let mut compound = HashSet::new();
    for line in read_json_lines(path) {
        for resource in line["resourceMetrics"].as_array().into_iter().flatten() {
            let name_attr = resource["resource"]["attributes"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|kv| kv["key"] == "service.name")
                .and_then(|kv| kv["value"]["stringValue"].as_str().map(str::to_string));
            if name_attr.as_deref() != Some(service) {
                continue;
            }
            for scope in resource["scopeMetrics"].as_array().into_iter().flatten() {
                for metric in scope["metrics"].as_array().into_iter().flatten() {
                    let name = metric["name"].as_str().unwrap_or_default().to_string();
                    let data = if metric.get("gauge").is_some() {
                        &metric["gauge"]
                    } else if metric.get("sum").is_some() {
                        &metric["sum"]
                    } else {
                        compound.insert(name);
                        continue;
                    };
                    for point in data["dataPoints"].as_array().into_iter().flatten() {
                        if point["flags"].as_u64().unwrap_or(0) & 1 == 1 {
                            continue;
                        }
                        let time: u64 = point["timeUnixNano"]
                            .as_str()
                            .and_then(|t| t.parse().ok())
                            .or_else(|| point["timeUnixNano"].as_u64())
                            .unwrap_or(0);
                        let attributes = point["attributes"].to_string();
                        points.insert((name.clone(), attributes, time));
                    }
                }
            }
        }
    }
    (points, compound)
}

#[test]
fn prometheus_remote_writes_into_the_receiver() {
    let Some(prometheus) = prometheus() else {
        return;
    };
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let config = dir.path().join("gateway.yaml");
    let receiver: SocketAddr = format!("127.0.0.1:{}", prometheus.receiver_port)
        .parse()
        .unwrap();
    std::fs::write(
        &config,
        format!(
            r#"receivers:
  prometheusremotewrite:
    endpoint: "{receiver}"
exporters:
  file: {{ path: "{out}", flush_interval: 0s }}
service:
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    metrics: {{ receivers: [prometheusremotewrite], exporters: [file] }}
"#,
            out = out.display()
        ),
    )
    .unwrap();
    let mut gateway = spawn_gateway(&config);
    wait_serving(&mut gateway, receiver, Duration::from_secs(60));
    // A few scrapes of its own metrics arrive...
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while plain_points(&out, "prom")
        .0
        .iter()
        .filter(|p| p.0 == "up")
        .count()
        < 3
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no `up` of job prom in the file after 60s; gateway:\n{}\nfile (start):\n{}",
            gateway.output(),
            std::fs::read_to_string(&out)
                .unwrap_or_default()
                .chars()
                .take(3000)
                .collect::<String>()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // ... and every sample up to T0, the third scrape, is compared once remote write has
    // caught up.
    let mut scrapes: Vec<u64> = plain_points(&out, "prom")
        .0
        .into_iter()
        .filter(|p| p.0 == "up")
        .map(|p| p.2 / 1_000_000)
        .collect();
    scrapes.sort_unstable();
    let t0_ms = scrapes[2];
    let selector = r#"{job="prom",le="",quantile="",__name__!~".+_(sum|count)"}"#;
    // The raw samples of a range selector (`count_over_time` would drop the names and
    // collide).
    let promql = format!("{selector}[1h]");
    let mut last = (0, 0);
    let (ours, theirs) = eventually(
        "the receiver's samples to match Prometheus's TSDB",
        Duration::from_secs(60),
        || {
            let result = query(prometheus.http, &promql, Some(t0_ms as f64 / 1000.0));
            let theirs: usize = result
                .iter()
                .map(|series| series["values"].as_array().map_or(0, Vec::len))
                .sum();
            let (points, _) = plain_points(&out, "prom");
            let ours = points
                .iter()
                .filter(|(name, attributes, time)| {
                    // Summary quantiles whose `_count` came in another request stay
                    // gauges with a `quantile` attribute: left out, as on Prometheus's side.
                    *time <= t0_ms * 1_000_000
                        && !name.ends_with("_sum")
                        && !name.ends_with("_count")
                        && !attributes.contains("\"quantile\"")
                })
                .count();
            if last != (ours, theirs) {
                eprintln!("samples up to T0: ours {ours}, Prometheus's {theirs}");
                last = (ours, theirs);
            }
            (ours == theirs && ours > 0).then_some(last)
        },
    );
    assert_eq!(ours, theirs, "last seen: {last:?}");
    let (_, compound) = plain_points(&out, "prom");
    assert!(
        compound.contains("prometheus_http_request_duration_seconds"),
        "Prometheus's request histogram arrives as a histogram: {compound:?}"
    );
}

/// The outage test's Prometheus: a remote-write receiver on `port` with its data in `dir`.
fn start_backend(program: &Path, dir: &Path, port: u16) -> Proc {
    std::fs::write(
        dir.join("prometheus.yml"),
        "global: { scrape_interval: 1m }\n",
    )
    .unwrap();
    let backend = Proc::spawn(
        program,
        &[
            &format!("--config.file={}", dir.join("prometheus.yml").display()),
            &format!("--storage.tsdb.path={}", dir.join("data").display()),
            &format!("--web.listen-address=127.0.0.1:{port}"),
            "--web.enable-remote-write-receiver",
        ],
        &[],
    );
    let http: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    wait_ready(http, Path::new("/dev/null"));
    backend
}

/// A batch of `n` gauge points `e2e_outage{batch, n}` = n, and one point of the series
/// `e2e_ordered` valued `batch`.
fn outage_batch(batch: &str, n: usize) -> Value {
    let t = now_ns().to_string();
    let mut points: Vec<Value> = (0..n)
        .map(|i| {
            json!({"attributes": [attr("batch", batch), attr("n", &i.to_string())],
                   "timeUnixNano": t, "asDouble": i as f64})
        })
        .collect();
    points.truncate(n);
    json!({"resourceMetrics": [{
    "resource": {"attributes": [attr("service.name", "outage")]},
    "scopeMetrics": [{"metrics": [
        {"name": "e2e_outage", "gauge": {"dataPoints": points}},
        {"name": "e2e_ordered", "gauge": {"dataPoints": [
            {"timeUnixNano": t, "asDouble": batch.len() as f64}]}}
    ]}]}]})
}

#[test]
fn an_outage_and_a_crash_lose_nothing() {
    let Some(program) = program("prometheus") else {
        return;
    };
    let dir = temp_dir();
    let backend_dir: PathBuf = dir.path().join("backend");
    std::fs::create_dir_all(&backend_dir).unwrap();
    let port = free_port();
    let http: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut backend = start_backend(&program, &backend_dir, port);

    let otlp: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let config = dir.path().join("gateway.yaml");
    std::fs::write(
        &config,
        format!(
            r#"extensions:
  file_storage: {{ directory: "{storage}", create_directory: true }}
receivers:
  otlp:
    protocols:
      http: {{ endpoint: "{otlp}" }}
exporters:
  prometheusremotewrite:
    endpoint: "http://{http}/api/v1/write"
    target_info: {{ enabled: false }}
    remote_write_queue: {{ storage: file_storage }}
    retry_on_failure: {{ initial_interval: 50ms, max_interval: 200ms }}
service:
  extensions: [file_storage]
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    metrics: {{ receivers: [otlp], exporters: [prometheusremotewrite] }}
"#,
            storage = dir.path().join("storage").display()
        ),
    )
    .unwrap();
    let mut gateway = spawn_gateway(&config);
    wait_serving(&mut gateway, otlp, Duration::from_secs(60));
    const N: usize = 50;
    let count = |batch: &str| -> usize {
        query(
            http,
            &format!(r#"count(e2e_outage{{batch="{batch}"}})"#),
            None,
        )
        .first()
        .and_then(|r| r["value"][1].as_str()?.parse::<f64>().ok())
        .unwrap_or(0.0) as usize
    };

    post_metrics(otlp, &outage_batch("one", N));
    eventually("batch one in Prometheus", Duration::from_secs(30), || {
        (count("one") == N).then_some(())
    });

    // The backend goes away; a batch is accepted (stored) while it is down; the gateway
    // is killed without a chance to flush anything.
    backend.kill();
    post_metrics(otlp, &outage_batch("two", N));
    gateway.kill();

    // The gateway comes back first, takes a third batch, and keeps retrying.
    let mut gateway = spawn_gateway(&config);
    wait_serving(&mut gateway, otlp, Duration::from_secs(60));
    post_metrics(otlp, &outage_batch("three", N));

    let _backend = start_backend(&program, &backend_dir, port);
    eventually(
        "batches two and three in Prometheus",
        Duration::from_secs(60),
        || (count("one") == N && count("two") == N && count("three") == N).then_some(()),
    );
    let ordered = query(http, r#"count_over_time(e2e_ordered[10m])"#, None);
    assert_eq!(
        ordered[0]["value"][1], "3",
        "the series written across the crash has all its samples, in order"
    );
    let sum = query(http, r#"sum(e2e_outage)"#, None);
    let expected = 3 * (0..N).sum::<usize>();
    assert_eq!(sum[0]["value"][1], expected.to_string());
}
