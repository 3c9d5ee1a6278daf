//! The transform processor end to end: the OpenTelemetry Python SDK sends spans, metrics
//! and logs to the gateway, a transform processor edits them with OTTL, and the file
//! exporter shows the edits.
mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use serde_json::Value;

fn gateway_config(grpc: u16, out: &Path) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:{grpc}" }}
processors:
  transform:
    error_mode: ignore
    trace_statements:
      - context: span
        statements:
          - set(attributes["renamed.from"], name)
          - set(name, ToUpperCase(name)) where attributes["index"] == 0
          - delete_key(attributes, "protocol")
      - set(resource.attributes["tier"], "gateway")
    metric_statements:
      - context: datapoint
        statements:
          - set(attributes["route"], Concat(["seen", attributes["route"]], ":"))
    log_statements:
      - set(log.body, Concat([log.body, "edited"], " ")) where IsString(log.body)
exporters:
  file: {{ path: "{}" }}
service:
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    traces: {{ receivers: [otlp], processors: [transform], exporters: [file] }}
    metrics: {{ receivers: [otlp], processors: [transform], exporters: [file] }}
    logs: {{ receivers: [otlp], processors: [transform], exporters: [file] }}
"#,
        out.display()
    )
}

fn attribute<'a>(attributes: &'a Value, key: &str) -> Option<&'a Value> {
    attributes
        .as_array()?
        .iter()
        .find(|kv| kv["key"] == key)
        .map(|kv| &kv["value"])
}

/// Every item (resource attributes, item) of a kind in the file.
fn items(out: &Path, resources: &str, scopes: &str, kind: &str) -> Vec<(Value, Value)> {
    let mut found = Vec::new();
    for line in read_json_lines(out) {
        for resource in line[resources].as_array().into_iter().flatten() {
            for scope in resource[scopes].as_array().into_iter().flatten() {
                for item in scope[kind].as_array().into_iter().flatten() {
                    found.push((resource["resource"]["attributes"].clone(), item.clone()));
                }
            }
        }
    }
    found
}

#[test]
fn python_sdk_data_is_edited_by_ottl_statements() {
    let Some(python) = python_sdk() else { return };
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let config = dir.path().join("gateway.yaml");
    let grpc = free_port();
    std::fs::write(&config, gateway_config(grpc, &out)).unwrap();
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
            "ottl",
            "--count",
            "3",
        ],
    );
    assert!(!stderr.contains("Failed to export"), "{stderr}");
    let span_count = sent["spans"].as_array().unwrap().len();
    let log_count = sent["logs"].as_array().unwrap().len();

    let spans = eventually("the spans in the file", Duration::from_secs(20), || {
        let spans = items(&out, "resourceSpans", "scopeSpans", "spans");
        (spans.len() >= span_count).then_some(spans)
    });
    for (resource, span) in &spans {
        assert_eq!(
            attribute(resource, "tier").unwrap()["stringValue"],
            "gateway"
        );
        let original = attribute(&span["attributes"], "renamed.from").unwrap()["stringValue"]
            .as_str()
            .unwrap();
        let index = attribute(&span["attributes"], "index").unwrap()["intValue"].to_string();
        let index = index.trim_matches('"');
        if index == "0" {
            assert_eq!(span["name"].as_str().unwrap(), original.to_uppercase());
        } else {
            assert_eq!(span["name"].as_str().unwrap(), original);
        }
        assert!(
            attribute(&span["attributes"], "protocol").is_none(),
            "deleted"
        );
    }

    let logs = eventually("the logs in the file", Duration::from_secs(20), || {
        let logs = items(&out, "resourceLogs", "scopeLogs", "logRecords");
        (logs.len() >= log_count).then_some(logs)
    });
    let mut bodies: Vec<String> = logs
        .iter()
        .map(|(_, l)| l["body"]["stringValue"].as_str().unwrap().to_string())
        .collect();
    bodies.sort();
    let mut want: Vec<String> = sent["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| format!("{} edited", b.as_str().unwrap()))
        .collect();
    want.sort();
    assert_eq!(bodies, want);

    let metrics = eventually("the metrics in the file", Duration::from_secs(20), || {
        let metrics = items(&out, "resourceMetrics", "scopeMetrics", "metrics");
        (!metrics.is_empty()).then_some(metrics)
    });
    for (_, metric) in &metrics {
        for point in metric["sum"]["dataPoints"].as_array().into_iter().flatten() {
            let route = attribute(&point["attributes"], "route").unwrap()["stringValue"]
                .as_str()
                .unwrap();
            assert!(route.starts_with("seen:/r"), "{route}");
        }
    }
    assert!(gateway.is_running());
}
