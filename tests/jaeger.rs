//! The `jaeger` receiver against real Jaeger clients: the OpenTelemetry Python SDK's
//! Jaeger Thrift exporter (the legacy environment) in agent mode (UDP, Thrift compact) and
//! in collector mode (Thrift binary over HTTP), and grpcio with the jaeger-idl api_v2
//! protos compiled at test time. Each test runs a gateway whose `jaeger` receiver feeds
//! the file exporter (OTLP/JSON), and checks what arrived: IDs, names, kinds, attributes,
//! events, links, status.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::time::Duration;

use common::*;
use serde_json::Value;

/// A gateway with every Jaeger protocol on free ports, writing what it receives to a file.
struct Gateway {
    _process: Proc,
    out: PathBuf,
    _dir: tempfile::TempDir,
    grpc: SocketAddr,
    http: SocketAddr,
    compact: SocketAddr,
    binary: SocketAddr,
    metrics: SocketAddr,
}

/// A UDP port free right now on 127.0.0.1.
fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0/udp")
}

fn local(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

impl Gateway {
    fn start() -> Gateway {
        let dir = temp_dir();
        let out = dir.path().join("traces.jsonl");
        let (grpc, http, metrics) = (free_port(), free_port(), free_port());
        let (compact, binary) = (free_udp_port(), free_udp_port());
        let config = format!(
            r#"
receivers:
  jaeger:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:{grpc}" }}
      thrift_http: {{ endpoint: "127.0.0.1:{http}" }}
      thrift_compact: {{ endpoint: "127.0.0.1:{compact}" }}
      thrift_binary: {{ endpoint: "127.0.0.1:{binary}" }}
exporters:
  file: {{ path: "{}" }}
service:
  telemetry: {{ metrics: {{ address: "127.0.0.1:{metrics}" }} }}
  pipelines:
    traces: {{ receivers: [jaeger], exporters: [file] }}
"#,
            out.display()
        );
        let config_path = dir.path().join("config.yaml");
        std::fs::write(&config_path, config).expect("write the config");
        let mut process = Proc::spawn(
            &example("gateway"),
            &["--config", config_path.to_str().unwrap()],
            &[],
        );
        for port in [grpc, http, metrics] {
            wait_serving(&mut process, local(port), Duration::from_secs(30));
        }
        Gateway {
            _process: process,
            out,
            _dir: dir,
            grpc: local(grpc),
            http: local(http),
            compact: local(compact),
            binary: local(binary),
            metrics: local(metrics),
        }
    }

    /// The spans of `trace_id` (hex) written so far, with their scope, by span ID.
    fn spans_of(&self, trace_id: &str) -> Vec<(Value, Value)> {
        let mut found = Vec::new();
        for line in read_json_lines(&self.out) {
            for resource in line["resourceSpans"].as_array().into_iter().flatten() {
                for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                    for span in scope["spans"].as_array().into_iter().flatten() {
                        if span["traceId"] == trace_id {
                            found.push((span.clone(), scope["scope"].clone()));
                        }
                    }
                }
            }
        }
        found
    }

    /// Waits until `count` spans of `trace_id` arrived.
    fn wait_for_spans(&mut self, trace_id: &str, count: usize) -> Vec<(Value, Value)> {
        let what = format!("{count} spans of trace {trace_id}");
        let spans = eventually(&what, Duration::from_secs(30), || {
            let spans = self.spans_of(trace_id);
            (spans.len() >= count).then_some(spans)
        });
        assert_eq!(spans.len(), count, "{spans:?}");
        spans
    }

    /// `otelcol_receiver_failed_spans` of `transport`.
    fn failed(&self, transport: &str) -> f64 {
        let page = get(self.metrics, "/metrics").text();
        metric(
            &page,
            "otelcol_receiver_failed_spans",
            &[("receiver", "jaeger"), ("transport", transport)],
        )
    }
}

fn attribute<'a>(item: &'a Value, key: &str) -> &'a Value {
    item["attributes"]
        .as_array()
        .and_then(|attributes| attributes.iter().find(|kv| kv["key"] == key))
        .map(|kv| &kv["value"])
        .unwrap_or(&Value::Null)
}

fn named<'a>(spans: &'a [(Value, Value)], name: &str) -> &'a (Value, Value) {
    spans
        .iter()
        .find(|(span, _)| span["name"] == name)
        .unwrap_or_else(|| panic!("no span {name} in {spans:?}"))
}

/// OTLP/JSON integers may be strings (64-bit) or numbers.
fn int(value: &Value) -> i64 {
    value
        .as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| value.as_i64())
        .unwrap_or_else(|| panic!("not an integer: {value}"))
}

/// Runs the Python Jaeger Thrift exporter and checks its three spans arrived translated.
fn check_thrift_client(gateway: &mut Gateway, mode: &str, port: u16) {
    let Some(python) = legacy_python() else {
        return;
    };
    let run = run_python(
        &python,
        "send_jaeger_thrift.py",
        &[
            "--mode",
            mode,
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ],
    );
    assert!(
        !run.stderr.contains("cannot be uploaded"),
        "the collector refused the batch: {}",
        run.stderr
    );
    let sent = &run.report["spans"];
    let trace = sent["parent"]["trace_id"].as_str().unwrap();
    let spans = gateway.wait_for_spans(trace, 2);

    let (parent, scope) = named(&spans, "parent");
    assert_eq!(parent["spanId"], sent["parent"]["span_id"]);
    assert_eq!(parent["parentSpanId"].as_str().unwrap_or(""), "");
    assert_eq!(parent["kind"], 2, "SPAN_KIND_SERVER");
    // The exporter tags both otel.library.* (kept as attributes, as Go keeps them) and
    // otel.scope.* (the scope).
    assert_eq!(scope["name"], "thrift.e2e");
    assert_eq!(scope["version"], "2.0");
    assert_eq!(attribute(parent, "otel.scope.name"), &Value::Null);
    assert_eq!(attribute(parent, "http.method")["stringValue"], "GET");
    assert_eq!(int(&attribute(parent, "count")["intValue"]), 7);
    assert_eq!(attribute(parent, "ratio")["doubleValue"], 0.25);
    assert_eq!(attribute(parent, "flag")["boolValue"], true);
    let events = parent["events"].as_array().expect("events");
    assert_eq!(events.len(), 1);
    // This exporter writes the event's name as the log field `message` (an older form of
    // the specification); the mapping names an event by its `event` field only, as Go
    // does, so the name stays an attribute.
    assert_eq!(events[0]["name"].as_str().unwrap_or(""), "");
    assert_eq!(
        attribute(&events[0], "message")["stringValue"],
        "checkpoint"
    );
    assert_eq!(attribute(&events[0], "step")["stringValue"], "one");
    assert!(int(&parent["endTimeUnixNano"]) >= int(&parent["startTimeUnixNano"]));

    let (child, _) = named(&spans, "child");
    assert_eq!(child["spanId"], sent["child"]["span_id"]);
    assert_eq!(child["parentSpanId"], sent["parent"]["span_id"]);
    assert_eq!(child["kind"], 3, "SPAN_KIND_CLIENT");
    assert_eq!(child["status"]["code"], 2, "STATUS_CODE_ERROR");
    assert_eq!(child["status"]["message"], "boom");
    let links = child["links"].as_array().expect("links");
    assert_eq!(links.len(), 1, "{links:?}");
    assert_eq!(links[0]["traceId"], sent["linked"]["trace_id"]);
    assert_eq!(links[0]["spanId"], sent["linked"]["span_id"]);
    assert_eq!(
        attribute(&links[0], "opentracing.ref_type")["stringValue"],
        "follows_from"
    );
    // The `linked` span, of its own trace, arrived too.
    gateway.wait_for_spans(sent["linked"]["trace_id"].as_str().unwrap(), 1);
}

#[test]
fn the_python_jaeger_agent_exporter_reaches_the_pipeline_over_udp_compact() {
    let mut gateway = Gateway::start();
    // A malformed datagram first: counted, and the next datagrams still arrive.
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .send_to(b"\x82\x21\x01\x09emitBatch\xff\xff", gateway.compact)
        .unwrap();
    eventually(
        "the malformed datagram to be counted",
        Duration::from_secs(30),
        || (gateway.failed("udp_thrift_compact") >= 1.0).then_some(()),
    );
    let port = gateway.compact.port();
    check_thrift_client(&mut gateway, "agent", port);
    assert_eq!(gateway.failed("udp_thrift_compact"), 1.0);
    // The binary port reads the binary protocol only: a compact call is malformed there.
    socket
        .send_to(b"\x82\x81\x01\x09emitBatch\x1c\x00\x00", gateway.binary)
        .unwrap();
    eventually(
        "the compact datagram on the binary port to be counted",
        Duration::from_secs(30),
        || (gateway.failed("udp_thrift_binary") >= 1.0).then_some(()),
    );
}

#[test]
fn the_python_jaeger_collector_exporter_reaches_the_pipeline_over_thrift_http() {
    let mut gateway = Gateway::start();
    let port = gateway.http.port();
    check_thrift_client(&mut gateway, "collector", port);
    // A body that is not Thrift: 400, and the receiver keeps serving.
    let response = http(
        "POST",
        gateway.http,
        "/api/traces",
        &[("Content-Type", "application/x-thrift")],
        b"\x80\x01\x00\x01 definitely not a batch",
    );
    assert_eq!(response.status, 400, "{}", response.text());
    assert!(response.text().contains("Unable to process request body"));
    let response = http(
        "POST",
        gateway.http,
        "/api/traces",
        &[("Content-Type", "application/json")],
        b"{}",
    );
    assert_eq!(response.status, 400, "{}", response.text());
    check_thrift_client(&mut gateway, "collector", port);
}

#[test]
fn grpcio_posts_spans_to_the_api_v2_collector_service() {
    let Some(python) = python_sdk() else {
        return;
    };
    let mut gateway = Gateway::start();
    let endpoint = gateway.grpc.to_string();
    let sent = run_python(
        &python,
        "send_jaeger_grpc.py",
        &["--endpoint", &endpoint, "--run", "grpc"],
    )
    .report;
    assert_eq!(sent["code"], "OK", "{sent}");
    let trace = sent["trace_id"].as_str().unwrap();
    let spans = gateway.wait_for_spans(trace, 2);

    let (parent, scope) = named(&spans, "grpc-parent");
    assert_eq!(parent["spanId"], sent["parent_id"]);
    assert_eq!(scope["name"], "grpc.e2e");
    assert_eq!(scope["version"], "3.1");
    assert_eq!(parent["kind"], 2);
    assert_eq!(parent["flags"], 1);
    assert_eq!(int(&parent["startTimeUnixNano"]), int(&sent["start_ns"]));
    assert_eq!(
        int(&parent["endTimeUnixNano"]),
        int(&sent["start_ns"]) + 5_000_000
    );
    assert_eq!(int(&attribute(parent, "count")["intValue"]), 42);
    assert_eq!(attribute(parent, "ratio")["doubleValue"], 0.75);
    assert_eq!(attribute(parent, "cached")["boolValue"], true);
    assert_eq!(attribute(parent, "blob")["bytesValue"], "AAE=");
    let events = parent["events"].as_array().expect("events");
    assert_eq!(events[0]["name"], "cache-miss");
    assert_eq!(attribute(&events[0], "key")["stringValue"], "user:1");

    let (child, _) = named(&spans, "grpc-child");
    assert_eq!(child["parentSpanId"], sent["parent_id"]);
    assert_eq!(child["status"]["code"], 2);
    assert_eq!(child["status"]["message"], "upstream failed");
    let links = child["links"].as_array().expect("links");
    assert_eq!(links.len(), 1);
    assert_eq!(links[0]["traceId"], sent["linked_trace_id"]);
    assert_eq!(links[0]["spanId"], sent["linked_span_id"]);

    // A trace ID of 3 bytes: refused as invalid, nothing delivered.
    let refused = run_python(
        &python,
        "send_jaeger_grpc.py",
        &["--endpoint", &endpoint, "--run", "bad", "--bad-ids"],
    )
    .report;
    assert_eq!(refused["code"], "INVALID_ARGUMENT", "{refused}");
}
