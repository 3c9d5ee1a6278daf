//! The `prometheus` exporter against real peers: the OpenTelemetry Python SDK sends
//! metrics over OTLP/HTTP to the gateway, whose `prometheus` exporter Debian's Prometheus
//! 2.42 scrapes; Prometheus's query API then returns the names, labels and values the
//! OTLP → Prometheus translation rules say. `promtool check metrics` reads the text
//! exposition, and Prometheus's own scrape negotiates OpenMetrics (exemplars included).
//!
//! One Prometheus serves the whole test binary, on free ports, with its configuration and
//! TSDB in a temporary directory. Its scrape targets are fixed when it starts: one port per
//! test, which that test's gateway then serves. It runs under a small shell that holds
//! the read end of a pipe this process keeps open: when the test process exits, for
//! whatever reason, the pipe closes and the shell stops Prometheus and removes the
//! directory.

mod common;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use common::lifeline::Lifeline;
use common::*;
use serde_json::Value;

/// The shared Prometheus and the target ports it scrapes.
struct Prometheus {
    web: SocketAddr,
    /// Scraped as job `tributary-text` (the exporter answers text 0.0.4).
    text_target: u16,
    /// Scraped as job `tributary-om` (the exporter answers OpenMetrics).
    open_metrics_target: u16,
    /// Kept open for the life of the process: closing it stops the server.
    _lifeline: Lifeline,
}

fn prometheus() -> Option<&'static Prometheus> {
    static SERVER: OnceLock<Option<Prometheus>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let program = program("prometheus")?;
            Some(start_prometheus(&program))
        })
        .as_ref()
}

fn start_prometheus(program: &Path) -> Prometheus {
    let dir = temp_dir().keep();
    let (web, text_target, open_metrics_target) = (free_port(), free_port(), free_port());
    // honor_labels: the exporter's own job and instance (from the OTLP resource) are kept,
    // as the Go exporter's documentation advises.
    std::fs::write(
        dir.join("prometheus.yml"),
        format!(
            r#"global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: tributary-text
    honor_labels: true
    static_configs: [{{ targets: ["127.0.0.1:{text_target}"] }}]
  - job_name: tributary-om
    honor_labels: true
    static_configs: [{{ targets: ["127.0.0.1:{open_metrics_target}"] }}]
"#
        ),
    )
    .unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{web}").parse().unwrap();
    let args = vec![
        format!("--config.file={}", dir.join("prometheus.yml").display()),
        format!("--storage.tsdb.path={}", dir.join("data").display()),
        format!("--web.listen-address={addr}"),
        "--enable-feature=exemplar-storage".to_string(),
    ];
    let lifeline = Lifeline::start(program, &args, &dir, "prometheus.log");
    wait_http(addr, "/-/ready", 200);
    Prometheus {
        web: addr,
        text_target,
        open_metrics_target,
        _lifeline: lifeline,
    }
}

/// `text` with everything but ASCII letters and digits percent-encoded.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The instant vector Prometheus returns for `query`: each series' labels and value.
fn query(prometheus: &Prometheus, query: &str) -> Vec<(serde_json::Map<String, Value>, f64)> {
    let response = get(
        prometheus.web,
        &format!("/api/v1/query?query={}", encode(query)),
    );
    let json: Value = serde_json::from_slice(&response.body)
        .unwrap_or_else(|e| panic!("{e}: {}", response.text()));
    assert_eq!(json["status"], "success", "{json}");
    json["data"]["result"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|series| {
            let labels = series["metric"].as_object().cloned().unwrap_or_default();
            let value = series["value"][1].as_str().unwrap().parse().unwrap();
            (labels, value)
        })
        .collect()
}

/// The value of the one series `promql` selects, once Prometheus has it and it is `want`.
fn value_becomes(
    prometheus: &Prometheus,
    promql: &str,
    want: f64,
) -> serde_json::Map<String, Value> {
    eventually(
        &format!("{promql} == {want}"),
        Duration::from_secs(60),
        || {
            let result = query(prometheus, promql);
            match result.as_slice() {
                [(labels, value)] if *value == want => Some(labels.clone()),
                _ => None,
            }
        },
    )
}

/// Starts the gateway: OTLP/HTTP in, the `prometheus` exporter (with `exporter_yaml`
/// keys) out on `port`. Returns it and the OTLP endpoint.
fn gateway(port: u16, exporter_yaml: &str) -> (Proc, String, tempfile::TempDir) {
    let dir = temp_dir();
    let otlp = free_port();
    let config = dir.path().join("gateway.yaml");
    std::fs::write(
        &config,
        format!(
            r#"
receivers:
  otlp:
    protocols:
      http: {{ endpoint: "127.0.0.1:{otlp}" }}
exporters:
  prometheus:
    endpoint: "127.0.0.1:{port}"
{exporter_yaml}
service:
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    metrics: {{ receivers: [otlp], exporters: [prometheus] }}
"#
        ),
    )
    .unwrap();
    let mut process = Proc::spawn(
        &example("gateway"),
        &["--config", config.to_str().unwrap()],
        &[],
    );
    let endpoint = format!("127.0.0.1:{otlp}");
    wait_serving(
        &mut process,
        endpoint.parse().unwrap(),
        Duration::from_secs(60),
    );
    wait_serving(
        &mut process,
        format!("127.0.0.1:{port}").parse().unwrap(),
        Duration::from_secs(10),
    );
    (process, endpoint, dir)
}

#[test]
fn prometheus_stores_what_the_sdk_sent_by_the_translation_rules() {
    let Some(python) = python_sdk() else { return };
    let Some(prometheus) = prometheus() else {
        return;
    };
    let (_gateway, endpoint, _dir) = gateway(prometheus.text_target, "");
    let sent = run_python(
        &python,
        "send_prom_metrics.py",
        &["--endpoint", &endpoint, "--instance", "inst-text"],
    )
    .report;

    // A monotonic sum of unit `1`: `_total`, no unit; job and instance from the resource,
    // the scope as labels.
    for route in ["/a", "/b"] {
        let want = sent["requests"][route].as_f64().unwrap();
        let labels = value_becomes(
            prometheus,
            &format!(r#"e2e_requests_total{{instance="inst-text",route="{route}"}}"#),
            want,
        );
        assert_eq!(labels["job"], "shop/checkout", "{labels:?}");
        assert_eq!(labels["otel_scope_name"], "e2e.meter", "{labels:?}");
        assert_eq!(labels["otel_scope_version"], "0.1", "{labels:?}");
    }
    // Unit `By` → `_bytes`, before `_total`.
    value_becomes(
        prometheus,
        r#"e2e_sent_bytes_total{instance="inst-text"}"#,
        sent["sent"].as_f64().unwrap(),
    );
    // A histogram in seconds: cumulative `_bucket{le}` ending at +Inf, `_count`, `_sum`.
    for (le, want) in [("0.1", 1.0), ("0.5", 1.0), ("1", 2.0), ("+Inf", 3.0)] {
        value_becomes(
            prometheus,
            &format!(r#"e2e_latency_seconds_bucket{{instance="inst-text",route="/b",le="{le}"}}"#),
            want,
        );
    }
    value_becomes(
        prometheus,
        r#"e2e_latency_seconds_count{instance="inst-text",route="/a"}"#,
        3.0,
    );
    let sum_b: f64 = [0.7, 2.0, 0.09].iter().sum();
    let got = eventually("the /b latency sum", Duration::from_secs(30), || {
        query(
            prometheus,
            r#"e2e_latency_seconds_sum{instance="inst-text",route="/b"}"#,
        )
        .first()
        .map(|(_, v)| *v)
    });
    assert!((got - sum_b).abs() < 1e-9, "{got} != {sum_b}");
    // A gauge of unit `1`: `_ratio`. An up-down counter: a gauge, `{item}` dropped.
    value_becomes(
        prometheus,
        r#"e2e_load_ratio{instance="inst-text",cpu="0"}"#,
        0.75,
    );
    value_becomes(
        prometheus,
        r#"e2e_queue{instance="inst-text"}"#,
        sent["queue"].as_f64().unwrap(),
    );
    // The resource's other attributes: target_info.
    let info = value_becomes(prometheus, r#"target_info{instance="inst-text"}"#, 1.0);
    assert_eq!(info["host_name"], "e2e-host", "{info:?}");
    assert_eq!(info["job"], "shop/checkout", "{info:?}");
    value_becomes(prometheus, r#"up{job="tributary-text"}"#, 1.0);

    // promtool accepts the exposition as it is served.
    let page = get(
        format!("127.0.0.1:{}", prometheus.text_target)
            .parse()
            .unwrap(),
        "/metrics",
    );
    assert_eq!(
        page.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let promtool = program("promtool").expect("promtool beside prometheus");
    let mut check = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool");
    check.stdin.take().unwrap().write_all(&page.body).unwrap();
    let output = check.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && said.trim().is_empty(),
        "promtool: {said}\n{}",
        page.text()
    );
}

#[test]
fn open_metrics_is_negotiated_and_delta_sums_add_up() {
    let Some(python) = python_sdk() else { return };
    let Some(prometheus) = prometheus() else {
        return;
    };
    let (_gateway, endpoint, _dir) = gateway(
        prometheus.open_metrics_target,
        "    enable_open_metrics: true",
    );
    let sent = run_python(
        &python,
        "send_prom_metrics.py",
        &["--endpoint", &endpoint, "--instance", "inst-om", "--delta"],
    )
    .report;

    // Two delta exports per series, added up into one cumulative counter.
    for route in ["/a", "/b"] {
        value_becomes(
            prometheus,
            &format!(r#"e2e_requests_total{{instance="inst-om",route="{route}"}}"#),
            sent["requests"][route].as_f64().unwrap(),
        );
    }
    value_becomes(
        prometheus,
        r#"e2e_latency_seconds_count{instance="inst-om",route="/b"}"#,
        3.0,
    );

    // The answer Prometheus's own Accept header gets is OpenMetrics.
    let accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let page = http(
        "GET",
        format!("127.0.0.1:{}", prometheus.open_metrics_target)
            .parse()
            .unwrap(),
        "/metrics",
        &[("Accept", accept)],
        b"",
    );
    assert_eq!(
        page.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    let text = page.text();
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(text.contains("# TYPE e2e_requests counter"), "{text}");
    assert!(
        text.contains("# UNIT e2e_latency_seconds seconds"),
        "{text}"
    );
    assert!(text.contains("e2e_requests_created{"), "{text}");

    // Exemplars reached Prometheus's exemplar storage with the SDK's trace IDs.
    let trace_ids: Vec<&str> = sent["trace_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let exemplar_trace = eventually("an exemplar in Prometheus", Duration::from_secs(60), || {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let path = format!(
            "/api/v1/query_exemplars?query={}&start={}&end={}",
            encode(r#"e2e_latency_seconds_bucket{instance="inst-om"}"#),
            now - 600,
            now + 60
        );
        let json: Value = serde_json::from_slice(&get(prometheus.web, &path).body).ok()?;
        json["data"]
            .as_array()?
            .iter()
            .flat_map(|series| series["exemplars"].as_array().cloned().unwrap_or_default())
            .find_map(|e| e["labels"]["trace_id"].as_str().map(str::to_string))
    });
    assert!(
        trace_ids.contains(&exemplar_trace.as_str()),
        "{exemplar_trace} not in {trace_ids:?}"
    );
}
