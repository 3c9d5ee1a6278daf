//! The filter processor end to end: the OpenTelemetry Python SDK sends spans, metrics
//! and logs to the gateway; an OTTL filter, a legacy (`include`/`exclude`) filter and a
//! transform processor run in turn, and the file exporter shows what is left. The
//! gateway's own metrics count what the filters dropped.
mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use common::*;
use serde_json::Value;

fn gateway_config(grpc: u16, metrics: u16, out: &Path) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:{grpc}" }}
processors:
  filter/ottl:
    error_mode: ignore
    traces:
      span:
        - 'attributes["index"] == 1'
    metrics:
      datapoint:
        - 'attributes["route"] == "/r2"'
    logs:
      log_record:
        - 'IsMatch(body, "-log-3$")'
  filter/legacy:
    spans:
      exclude:
        match_type: regexp
        span_names: ['-span-3$']
    logs:
      exclude:
        match_type: strict
        bodies: [filtered-log-0]
  transform:
    metric_statements:
      - context: metric
        statements:
          - copy_metric(name = "copied.requests") where name == "filtered.requests"
exporters:
  file: {{ path: "{}" }}
service:
  telemetry: {{ metrics: {{ address: "127.0.0.1:{metrics}" }} }}
  pipelines:
    traces: {{ receivers: [otlp], processors: [filter/ottl, filter/legacy], exporters: [file] }}
    metrics: {{ receivers: [otlp], processors: [filter/ottl, transform], exporters: [file] }}
    logs: {{ receivers: [otlp], processors: [filter/ottl, filter/legacy], exporters: [file] }}
"#,
        out.display()
    )
}

/// Every item of a kind in the file, with its metric name for data points.
fn items(out: &Path, resources: &str, scopes: &str, kind: &str) -> Vec<Value> {
    let mut found = Vec::new();
    for line in read_json_lines(out) {
        for resource in line[resources].as_array().into_iter().flatten() {
            for scope in resource[scopes].as_array().into_iter().flatten() {
                found.extend(scope[kind].as_array().into_iter().flatten().cloned());
            }
        }
    }
    found
}

fn routes(metric: &Value) -> Vec<String> {
    let mut routes: Vec<String> = metric["sum"]["dataPoints"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["attributes"].as_array().into_iter().flatten())
        .filter(|kv| kv["key"] == "route")
        .filter_map(|kv| kv["value"]["stringValue"].as_str().map(String::from))
        .collect();
    routes.sort();
    routes
}

#[test]
fn python_sdk_data_is_filtered_by_ottl_and_match_properties() {
    let Some(python) = python_sdk() else { return };
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let config = dir.path().join("gateway.yaml");
    let (grpc, metrics) = (free_port(), free_port());
    std::fs::write(&config, gateway_config(grpc, metrics, &out)).unwrap();
    let mut gateway = Proc::spawn(
        &example("gateway"),
        &["--config", config.to_str().unwrap()],
        &[],
    );
    wait_listening(
        format!("127.0.0.1:{grpc}").parse().unwrap(),
        Duration::from_secs(20),
    );
    let endpoint = format!("127.0.0.1:{grpc}");
    let PythonRun {
        report: sent,
        stderr,
    } = run_python(
        &python,
        "send_otlp.py",
        &[
            "--protocol",
            "grpc",
            "--endpoint",
            &endpoint,
            "--run-id",
            "filtered",
            "--count",
            "5",
        ],
    );
    assert!(!stderr.contains("Failed to export"), "{stderr}");
    assert_eq!(sent["spans"].as_array().unwrap().len(), 5);

    // Spans 1 (OTTL) and 3 (legacy regexp) are dropped.
    let spans = eventually("the spans in the file", Duration::from_secs(20), || {
        let spans = items(&out, "resourceSpans", "scopeSpans", "spans");
        (spans.len() >= 3).then_some(spans)
    });
    let mut names: Vec<&str> = spans.iter().filter_map(|s| s["name"].as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        ["filtered-span-0", "filtered-span-2", "filtered-span-4"]
    );

    // Logs 3 (OTTL) and 0 (legacy strict body) are dropped.
    let logs = eventually("the logs in the file", Duration::from_secs(20), || {
        let logs = items(&out, "resourceLogs", "scopeLogs", "logRecords");
        (logs.len() >= 3).then_some(logs)
    });
    let mut bodies: Vec<&str> = logs
        .iter()
        .filter_map(|l| l["body"]["stringValue"].as_str())
        .collect();
    bodies.sort();
    assert_eq!(
        bodies,
        ["filtered-log-1", "filtered-log-2", "filtered-log-4"]
    );

    // The data point of route /r2 is dropped; transform then copies the metric.
    let metrics_out = eventually("the metrics in the file", Duration::from_secs(20), || {
        let metrics = items(&out, "resourceMetrics", "scopeMetrics", "metrics");
        (metrics.len() >= 2).then_some(metrics)
    });
    let want = ["/r0", "/r1", "/r3", "/r4"];
    for name in ["filtered.requests", "copied.requests"] {
        let metric = metrics_out
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {metrics_out:?}"));
        assert_eq!(routes(metric), want, "{name}");
    }

    // The filters counted what they dropped.
    let addr: SocketAddr = format!("127.0.0.1:{metrics}").parse().unwrap();
    let counted = |name: &str, filter: &str| {
        metric(&get(addr, "/metrics").text(), name, &[("filter", filter)])
    };
    eventually("the drop counters", Duration::from_secs(20), || {
        let one_each = [
            counted("otelcol_processor_filter_spans_filtered", "filter/ottl"),
            counted("otelcol_processor_filter_spans_filtered", "filter/legacy"),
            counted("otelcol_processor_filter_logs_filtered", "filter/ottl"),
            counted("otelcol_processor_filter_logs_filtered", "filter/legacy"),
        ];
        // The SDK exports its cumulative counter at flush and again at shutdown: the
        // /r2 point is dropped from each export.
        let points = counted(
            "otelcol_processor_filter_datapoints_filtered",
            "filter/ottl",
        );
        (one_each == [1.0; 4] && points >= 1.0).then_some(())
    });
    assert!(gateway.is_running());
}
