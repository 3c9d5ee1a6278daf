//! Interop with a real OTLP client no one here wrote: the OpenTelemetry Python SDK sends
//! traces, metrics and logs over gRPC and over HTTP/protobuf to the gateway, and the file
//! exporter shows exactly what was sent.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use common::*;
use serde_json::Value;

/// A gateway config: OTLP in on the given ports → batch → file.
fn gateway_config(grpc: u16, http: u16, out: &Path) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:{grpc}" }}
      http: {{ endpoint: "127.0.0.1:{http}" }}
processors:
  batch: {{ timeout: 50ms }}
exporters:
  file: {{ path: "{}" }}
service:
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    traces: {{ receivers: [otlp], processors: [batch], exporters: [file] }}
    metrics: {{ receivers: [otlp], processors: [batch], exporters: [file] }}
    logs: {{ receivers: [otlp], processors: [batch], exporters: [file] }}
"#,
        out.display()
    )
}

/// What the collector wrote for one run: span names, counter values by route, log bodies.
#[derive(Debug, Default, PartialEq)]
struct Seen {
    spans: Vec<String>,
    metrics: BTreeMap<String, BTreeMap<String, i64>>,
    logs: Vec<String>,
}

fn attribute<'a>(attributes: &'a Value, key: &str) -> Option<&'a Value> {
    attributes
        .as_array()?
        .iter()
        .find(|kv| kv["key"] == key)
        .map(|kv| &kv["value"])
}

fn string_value(value: &Value) -> Option<String> {
    value["stringValue"].as_str().map(String::from)
}

/// Collects everything tagged `test.run = run` from the file exporter's output.
fn seen(out: &Path, run: &str) -> Seen {
    let mut seen = Seen::default();
    for line in read_json_lines(out) {
        for (resources, scopes, items) in [
            ("resourceSpans", "scopeSpans", "spans"),
            ("resourceMetrics", "scopeMetrics", "metrics"),
            ("resourceLogs", "scopeLogs", "logRecords"),
        ] {
            for resource in line[resources].as_array().into_iter().flatten() {
                let tagged = attribute(&resource["resource"]["attributes"], "test.run")
                    .and_then(string_value);
                if tagged.as_deref() != Some(run) {
                    continue;
                }
                for scope in resource[scopes].as_array().into_iter().flatten() {
                    for item in scope[items].as_array().into_iter().flatten() {
                        match items {
                            "spans" => seen
                                .spans
                                .push(item["name"].as_str().unwrap_or_default().into()),
                            "logRecords" => seen
                                .logs
                                .push(string_value(&item["body"]).unwrap_or_default()),
                            _ => {
                                let name = item["name"].as_str().unwrap_or_default().to_string();
                                for point in
                                    item["sum"]["dataPoints"].as_array().into_iter().flatten()
                                {
                                    let route = attribute(&point["attributes"], "route")
                                        .and_then(string_value)
                                        .unwrap_or_default();
                                    let value = point["asInt"]
                                        .as_str()
                                        .and_then(|v| v.parse().ok())
                                        .or_else(|| point["asInt"].as_i64())
                                        .unwrap_or_default();
                                    seen.metrics
                                        .entry(name.clone())
                                        .or_default()
                                        .insert(route, value);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    seen.spans.sort();
    seen.logs.sort();
    seen
}

fn expected(sent: &Value) -> Seen {
    let strings = |key: &str| {
        let mut v: Vec<String> = sent[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let metrics = sent["metrics"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, routes)| {
            let routes = routes
                .as_object()
                .unwrap()
                .iter()
                .map(|(r, v)| (r.clone(), v.as_i64().unwrap()))
                .collect();
            (name.clone(), routes)
        })
        .collect();
    Seen {
        spans: strings("spans"),
        metrics,
        logs: strings("logs"),
    }
}

#[test]
fn the_python_sdk_over_grpc_and_http_arrives_exactly_once() {
    let Some(python) = python_sdk() else { return };
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let config = dir.path().join("gateway.yaml");
    let (grpc, http) = (free_port(), free_port());
    std::fs::write(&config, gateway_config(grpc, http, &out)).unwrap();
    let mut gateway = Proc::spawn(
        &example("gateway"),
        &["--config", config.to_str().unwrap()],
        &[],
    );
    wait_listening(
        format!("127.0.0.1:{grpc}").parse().unwrap(),
        Duration::from_secs(20),
    );
    wait_listening(
        format!("127.0.0.1:{http}").parse().unwrap(),
        Duration::from_secs(20),
    );

    for (protocol, port) in [("grpc", grpc), ("http", http)] {
        let run = format!("run-{protocol}");
        let endpoint = format!("127.0.0.1:{port}");
        let PythonRun {
            report: sent,
            stderr,
        } = run_python(
            &python,
            "send_otlp.py",
            &[
                "--protocol",
                protocol,
                "--endpoint",
                &endpoint,
                "--run-id",
                &run,
                "--count",
                "7",
            ],
        );
        let want = expected(&sent);
        let got = eventually(
            &format!("every {protocol} item in the file"),
            Duration::from_secs(20),
            || {
                let got = seen(&out, &run);
                (got.spans.len() >= want.spans.len()
                    && got.logs.len() >= want.logs.len()
                    && got.metrics.len() >= want.metrics.len())
                .then_some(got)
            },
        );
        // Let stragglers (duplicates would be a bug) land before comparing exactly.
        std::thread::sleep(Duration::from_millis(300));
        let got = if got == want { got } else { seen(&out, &run) };
        assert_eq!(
            got, want,
            "over {protocol}, what was written differs from what was sent"
        );
        assert!(
            !stderr.contains("Failed to export"),
            "the SDK reported an export failure over {protocol}:\n{stderr}"
        );
    }
    assert!(gateway.is_running());
}
