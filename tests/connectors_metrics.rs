//! The spanmetrics and count connectors end to end: the OpenTelemetry Python SDK sends
//! spans with exact durations to the gateway's OTLP receiver; the traces pipeline exports
//! them to `spanmetrics` and `count`, which feed a metrics pipeline ending in the file
//! exporter. The file must show the call counts per service, span name, kind and status,
//! the histogram bucket counts of the known durations, and the span counts.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;
use serde_json::Value;

/// Go's default bucket bounds in seconds (the default unit).
const BOUNDS_S: [f64; 16] = [
    0.002, 0.004, 0.006, 0.008, 0.01, 0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.4, 2.0, 5.0, 10.0, 15.0,
];

/// Runs `tests/python/send_timed_spans.py` against `port`; returns what it sent.
fn send_timed_spans(python: &Path, protocol: &str, port: u16, run: &str) -> Value {
    let endpoint = format!("127.0.0.1:{port}");
    run_python(
        python,
        "send_timed_spans.py",
        &[
            "--protocol",
            protocol,
            "--endpoint",
            &endpoint,
            "--run-id",
            run,
        ],
    )
    .report
}

fn config(grpc: u16, http: u16, out: &Path) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:{grpc}" }}
      http: {{ endpoint: "127.0.0.1:{http}" }}
connectors:
  spanmetrics:
    metrics_flush_interval: 100ms
  count:
exporters:
  file: {{ path: "{}" }}
service:
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    traces: {{ receivers: [otlp], exporters: [spanmetrics, count] }}
    metrics: {{ receivers: [spanmetrics, count], exporters: [file] }}
"#,
        out.display()
    )
}

/// One series: service, span name, kind, status.
type Series = (String, String, String, String);

/// Calls and duration buckets per series.
#[derive(Debug, Default, PartialEq)]
struct SpanMetrics {
    calls: BTreeMap<Series, u64>,
    buckets: BTreeMap<Series, Vec<u64>>,
}

fn attribute<'a>(attributes: &'a Value, key: &str) -> Option<&'a str> {
    attributes.as_array()?.iter().find(|kv| kv["key"] == key)?["value"]["stringValue"].as_str()
}

/// OTLP/JSON writes 64-bit integers as strings.
fn int(value: &Value) -> u64 {
    value
        .as_str()
        .and_then(|v| v.parse().ok())
        .or_else(|| value.as_u64())
        .unwrap_or_default()
}

fn series(point: &Value) -> Series {
    let get = |key| {
        attribute(&point["attributes"], key)
            .unwrap_or_default()
            .to_owned()
    };
    (
        get("service.name"),
        get("span.name"),
        get("span.kind"),
        get("status.code"),
    )
}

/// The metrics of resources tagged `test.run = run`: each cumulative series' latest point,
/// and the sum of the delta span counts.
fn read(out: &Path, run: &str) -> (SpanMetrics, u64) {
    let mut seen = SpanMetrics::default();
    let mut span_count = 0;
    for line in read_json_lines(out) {
        for resource in line["resourceMetrics"].as_array().into_iter().flatten() {
            if attribute(&resource["resource"]["attributes"], "test.run") != Some(run) {
                continue;
            }
            for scope in resource["scopeMetrics"].as_array().into_iter().flatten() {
                for metric in scope["metrics"].as_array().into_iter().flatten() {
                    let points = |kind: &str| {
                        metric[kind]["dataPoints"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default()
                    };
                    match metric["name"].as_str().unwrap_or_default() {
                        "traces.span.metrics.calls" => {
                            for point in points("sum") {
                                seen.calls.insert(series(&point), int(&point["asInt"]));
                            }
                        }
                        "traces.span.metrics.duration" => {
                            assert_eq!(metric["unit"], "s");
                            for point in points("histogram") {
                                let bounds: Vec<f64> = point["explicitBounds"]
                                    .as_array()
                                    .unwrap()
                                    .iter()
                                    .map(|b| b.as_f64().unwrap())
                                    .collect();
                                assert_eq!(bounds, BOUNDS_S);
                                let counts = point["bucketCounts"]
                                    .as_array()
                                    .unwrap()
                                    .iter()
                                    .map(int)
                                    .collect();
                                seen.buckets.insert(series(&point), counts);
                            }
                        }
                        "trace.span.count" => {
                            span_count +=
                                points("sum").iter().map(|p| int(&p["asInt"])).sum::<u64>();
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    (seen, span_count)
}

/// What the spans sent must add up to, with the bucket of each duration computed here
/// independently: the first bound at or above it (bounds are inclusive upper bounds).
fn expected(sent: &Value) -> SpanMetrics {
    let mut want = SpanMetrics::default();
    for span in sent["spans"].as_array().unwrap() {
        let text = |key: &str| span[key].as_str().unwrap().to_owned();
        let key = (text("service"), text("name"), text("kind"), text("status"));
        *want.calls.entry(key.clone()).or_default() += 1;
        let seconds = span["duration_ns"].as_u64().unwrap() as f64 / 1e9;
        let bucket = BOUNDS_S
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BOUNDS_S.len());
        want.buckets
            .entry(key)
            .or_insert_with(|| vec![0; BOUNDS_S.len() + 1])[bucket] += 1;
    }
    want
}

#[test]
fn python_sdk_spans_become_span_metrics_and_counts() {
    let Some(python) = python_sdk() else { return };
    let dir = temp_dir();
    let out = dir.path().join("metrics.jsonl");
    let config_path = dir.path().join("gateway.yaml");
    let (grpc, http) = (free_port(), free_port());
    std::fs::write(&config_path, config(grpc, http, &out)).unwrap();
    let _gateway = Proc::spawn(
        &example("gateway"),
        &["--config", config_path.to_str().unwrap()],
        &[],
    );
    for port in [grpc, http] {
        wait_listening(
            format!("127.0.0.1:{port}").parse().unwrap(),
            Duration::from_secs(20),
        );
    }

    for (protocol, port) in [("grpc", grpc), ("http", http)] {
        let run = format!("spanmetrics-{protocol}");
        let sent = send_timed_spans(&python, protocol, port, &run);
        let want = expected(&sent);
        let spans = sent["spans"].as_array().unwrap().len() as u64;
        assert_eq!(want.calls.len(), 5, "the plan has five series");

        // Cumulative points repeat every flush: wait until the latest ones add up.
        let (got, counted) = eventually(
            &format!("span metrics of every {protocol} span"),
            Duration::from_secs(20),
            || {
                let (got, counted) = read(&out, &run);
                (got.calls.values().sum::<u64>() >= spans && counted >= spans)
                    .then_some((got, counted))
            },
        );
        assert_eq!(got.calls, want.calls, "calls per series ({protocol})");
        assert_eq!(
            got.buckets, want.buckets,
            "duration buckets per series ({protocol})"
        );
        assert_eq!(counted, spans, "trace.span.count ({protocol})");
    }
}

#[test]
fn spans_aggregated_since_the_last_flush_are_sent_at_shutdown() {
    let Some(python) = python_sdk() else { return };
    let dir = temp_dir();
    let out = dir.path().join("metrics.jsonl");
    let config_path = dir.path().join("gateway.yaml");
    let grpc = free_port();
    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:{grpc}" }}
connectors:
  spanmetrics:
    metrics_flush_interval: 1h
    aggregation_temporality: AGGREGATION_TEMPORALITY_DELTA
exporters:
  file: {{ path: "{}" }}
service:
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    traces: {{ receivers: [otlp], exporters: [spanmetrics] }}
    metrics: {{ receivers: [spanmetrics], exporters: [file] }}
"#,
        out.display()
    );
    std::fs::write(&config_path, config).unwrap();
    let mut gateway = Proc::spawn(
        &example("gateway"),
        &["--config", config_path.to_str().unwrap()],
        &[],
    );
    wait_listening(
        format!("127.0.0.1:{grpc}").parse().unwrap(),
        Duration::from_secs(20),
    );
    // The SDK's flush returns once the receiver answered, which it does once the
    // connector has aggregated the spans.
    let sent = send_timed_spans(&python, "grpc", grpc, "at-shutdown");
    assert!(
        read(&out, "at-shutdown").0.calls.is_empty(),
        "nothing before the hour is up"
    );
    gateway.signal("TERM");
    assert!(
        gateway.wait_exit(Duration::from_secs(30)).success(),
        "{}",
        gateway.output()
    );
    let (got, _) = read(&out, "at-shutdown");
    let want = expected(&sent);
    assert_eq!(got.calls, want.calls);
    assert_eq!(got.buckets, want.buckets);
}

fn count_config(grpc: u16, out: &Path) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:{grpc}" }}
connectors:
  count:
    spans:
      spans.by_protocol:
        description: Spans per protocol.
        attributes: [{{ key: protocol }}]
exporters:
  file: {{ path: "{}" }}
service:
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    traces: {{ receivers: [otlp], exporters: [count] }}
    metrics: {{ receivers: [otlp], exporters: [count] }}
    logs: {{ receivers: [otlp], exporters: [count] }}
    metrics/counts: {{ receivers: [count], exporters: [file] }}
"#,
        out.display()
    )
}

/// The delta counts of resources tagged `test.run = run`, summed per metric name and
/// data point attributes (`name` or `name{k=v}`).
fn counts(out: &Path, run: &str) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for line in read_json_lines(out) {
        for resource in line["resourceMetrics"].as_array().into_iter().flatten() {
            if attribute(&resource["resource"]["attributes"], "test.run") != Some(run) {
                continue;
            }
            for scope in resource["scopeMetrics"].as_array().into_iter().flatten() {
                for metric in scope["metrics"].as_array().into_iter().flatten() {
                    assert_eq!(metric["sum"]["isMonotonic"], true);
                    for point in metric["sum"]["dataPoints"].as_array().into_iter().flatten() {
                        let mut name = metric["name"].as_str().unwrap_or_default().to_owned();
                        if let Some(protocol) = attribute(&point["attributes"], "protocol") {
                            name = format!("{name}{{protocol={protocol}}}");
                        }
                        *counts.entry(name).or_default() += int(&point["asInt"]);
                    }
                }
            }
        }
    }
    counts
}

#[test]
fn the_count_connector_counts_spans_metrics_and_logs_from_the_python_sdk() {
    let Some(python) = python_sdk() else { return };
    let dir = temp_dir();
    let out = dir.path().join("counts.jsonl");
    let config_path = dir.path().join("gateway.yaml");
    let grpc = free_port();
    std::fs::write(&config_path, count_config(grpc, &out)).unwrap();
    let _gateway = Proc::spawn(
        &example("gateway"),
        &["--config", config_path.to_str().unwrap()],
        &[],
    );
    wait_listening(
        format!("127.0.0.1:{grpc}").parse().unwrap(),
        Duration::from_secs(20),
    );
    let endpoint = format!("127.0.0.1:{grpc}");
    run_python(
        &python,
        "send_otlp.py",
        &[
            "--protocol",
            "grpc",
            "--endpoint",
            &endpoint,
            "--run-id",
            "count-run",
            "--count",
            "7",
        ],
    );

    let counts = eventually(
        "the counts of spans, logs and metrics",
        Duration::from_secs(20),
        || {
            let counts = counts(&out, "count-run");
            (counts.get("spans.by_protocol{protocol=grpc}") == Some(&7)
                && counts.get("log.record.count") == Some(&7)
                && counts.contains_key("metric.datapoint.count"))
            .then_some(counts)
        },
    );
    // The SDK may export its cumulative counter more than once (at flush and at shutdown):
    // every export is one metric with one point per route.
    let metrics = counts["metric.count"];
    assert!(metrics >= 1, "{counts:?}");
    assert_eq!(counts["metric.datapoint.count"], 7 * metrics, "{counts:?}");
    assert!(
        !counts.contains_key("trace.span.count"),
        "a given spans section replaces the default: {counts:?}"
    );
    assert!(
        !counts.contains_key("trace.span.event.count"),
        "the spans had no events: {counts:?}"
    );
}

/// The Go README's spanmetrics example (with the connector's other documented keys) and a
/// count connector, wired as in Go.
const README_CONFIG: &str = r#"
receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:4317" }
exporters:
  debug: {}
connectors:
  spanmetrics:
    histogram:
      explicit:
        buckets: [100us, 1ms, 2ms, 6ms, 10ms, 100ms, 250ms]
    dimensions:
      - name: http.method
        default: GET
      - name: http.status_code
    exemplars:
      enabled: true
    exclude_dimensions: ['status.code']
    dimensions_cache_size: 1000
    aggregation_temporality: "AGGREGATION_TEMPORALITY_CUMULATIVE"
    metrics_flush_interval: 15s
    metrics_expiration: 5m
    events:
      enabled: true
      dimensions:
        - name: exception.type
        - name: exception.message
    resource_metrics_key_attributes:
      - service.name
      - telemetry.sdk.language
      - telemetry.sdk.name
  count:
    logs:
      my.log.count:
        description: The number of logs from each environment.
        attributes:
          - key: env
            default_value: unspecified_environment
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [spanmetrics, count]
    logs:
      receivers: [otlp]
      exporters: [count]
    metrics:
      receivers: [spanmetrics, count]
      exporters: [debug]
"#;

fn validate(dir: &Path, config: &str) -> std::process::Output {
    std::fs::write(dir.join("config.yaml"), config).unwrap();
    Command::new(example("gateway"))
        .args(["validate", "--config", "config.yaml"])
        .current_dir(dir)
        .output()
        .expect("run the gateway")
}

#[test]
fn validate_accepts_go_configurations_and_names_what_it_cannot_run() {
    let dir = temp_dir();
    let run = validate(dir.path(), README_CONFIG);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );

    let mistakes = README_CONFIG
        .replace(
            "    metrics_flush_interval: 15s\n",
            "    metrics_flush_interval: 15s\n    latency_histogram_buckets: [2ms]\n",
        )
        .replace(
            "        description: The number of logs from each environment.\n",
            "        conditions: ['severity_number >= SEVERITY_NUMBER_ERROR']\n",
        );
    let run = validate(dir.path(), &mistakes);
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    for want in [
        "connectors::spanmetrics::latency_histogram_buckets: removed with the spanmetrics processor: use histogram::explicit::buckets",
        "connectors::count::logs::my.log.count::conditions::0: cannot parse",
    ] {
        assert!(stderr.contains(want), "missing {want}\nin:\n{stderr}");
    }
}
