//! Zipkin with peers no one here wrote: the OpenTelemetry Python SDK's Zipkin exporters
//! (v2 JSON, v1 JSON, and v2 protobuf from the legacy environment) send to the gateway's
//! `zipkin` receiver; the gateway's `zipkin` exporters send JSON and protobuf to a stand-in Zipkin
//! that decodes them with Zipkin's own proto schema (`zipkin_pb2`, shipped by the Python
//! protobuf exporter) and `json.loads`, and protobuf to a second `zipkin` receiver of the
//! same gateway: what it gets back must be what came in.
//!
//! The Python stand-in is a child process killed when the test ends (its guard's `Drop`).

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::Value;

/// The stand-in Zipkin (tests/python/zipkin_sink.py), killed on drop.
struct ZipkinSink {
    child: Child,
    port: u16,
    out: PathBuf,
}

impl ZipkinSink {
    fn start(python: &Path, out: PathBuf) -> ZipkinSink {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/zipkin_sink.py");
        let mut child = Command::new(python)
            .arg(script)
            .args(["--out", out.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the Zipkin stand-in");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the stand-in's port");
        let port = line.trim().parse().expect("a port number");
        ZipkinSink { child, port, out }
    }

    /// The spans received so far, in Zipkin's v2 JSON form with their `format`.
    fn spans(&self) -> Vec<Value> {
        read_json_lines(&self.out)
    }
}

impl Drop for ZipkinSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn gateway_config(zipkin_in: u16, zipkin_back: u16, sink: u16, dir: &Path) -> String {
    format!(
        r#"
receivers:
  zipkin/in: {{ endpoint: "127.0.0.1:{zipkin_in}", parse_string_tags: true }}
  zipkin/back: {{ endpoint: "127.0.0.1:{zipkin_back}", parse_string_tags: true }}
exporters:
  file/in: {{ path: "{dir}/in.jsonl" }}
  file/back: {{ path: "{dir}/back.jsonl" }}
  zipkin/json: {{ endpoint: "http://127.0.0.1:{sink}/api/v2/spans" }}
  zipkin/proto: {{ endpoint: "http://127.0.0.1:{sink}/api/v2/spans", format: proto, compression: gzip }}
  zipkin/loop: {{ endpoint: "http://127.0.0.1:{zipkin_back}/api/v2/spans", format: proto }}
service:
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    traces/in:
      receivers: [zipkin/in]
      exporters: [file/in, zipkin/json, zipkin/proto, zipkin/loop]
    traces/back:
      receivers: [zipkin/back]
      exporters: [file/back]
"#,
        dir = dir.display()
    )
}

/// One span as the file exporter wrote it (OTLP/JSON), with its resource's service name.
#[derive(Clone, Debug, PartialEq)]
struct Written {
    service: String,
    scope: String,
    trace_id: String,
    parent_id: String,
    name: String,
    kind: i64,
    attributes: BTreeMap<String, Value>,
    events: Vec<String>,
    status: Value,
    start: String,
    end: String,
}

fn attributes(list: &Value) -> BTreeMap<String, Value> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|kv| (kv["key"].as_str().unwrap().to_string(), kv["value"].clone()))
        .collect()
}

/// The spans of a file exporter's output, by span ID.
fn written(path: &Path) -> BTreeMap<String, Written> {
    let mut spans = BTreeMap::new();
    for line in read_json_lines(path) {
        for resource in line["resourceSpans"].as_array().into_iter().flatten() {
            let service = attributes(&resource["resource"]["attributes"])
                .get("service.name")
                .and_then(|v| v["stringValue"].as_str())
                .unwrap_or_default()
                .to_string();
            for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                for span in scope["spans"].as_array().into_iter().flatten() {
                    let text = |key: &str| span[key].as_str().unwrap_or_default().to_string();
                    spans.insert(
                        text("spanId"),
                        Written {
                            service: service.clone(),
                            scope: scope["scope"]["name"].as_str().unwrap_or_default().into(),
                            trace_id: text("traceId"),
                            parent_id: text("parentSpanId"),
                            name: text("name"),
                            kind: span["kind"].as_i64().unwrap_or_default(),
                            attributes: attributes(&span["attributes"]),
                            events: span["events"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .map(|e| e["name"].as_str().unwrap_or_default().to_string())
                                .collect(),
                            status: span["status"].clone(),
                            start: text("startTimeUnixNano"),
                            end: text("endTimeUnixNano"),
                        },
                    );
                }
            }
        }
    }
    spans
}

fn kind_number(name: &str) -> i64 {
    match name {
        "INTERNAL" => 1,
        "SERVER" => 2,
        "CLIENT" => 3,
        "PRODUCER" => 4,
        "CONSUMER" => 5,
        other => panic!("unexpected kind {other}"),
    }
}

#[test]
fn python_zipkin_exporters_reach_the_receiver_and_the_exporter_speaks_zipkin() {
    let (Some(python), Some(legacy)) = (python_sdk(), legacy_python()) else {
        return;
    };
    let dir = temp_dir();
    let sink = ZipkinSink::start(&legacy, dir.path().join("sink.jsonl"));
    let (zipkin_in, zipkin_back) = (free_port(), free_port());
    let config = dir.path().join("gateway.yaml");
    std::fs::write(
        &config,
        gateway_config(zipkin_in, zipkin_back, sink.port, dir.path()),
    )
    .unwrap();
    let _gateway = Proc::spawn(
        &example("gateway"),
        &["--config", config.to_str().unwrap()],
        &[],
    );
    for port in [zipkin_in, zipkin_back] {
        wait_listening(
            format!("127.0.0.1:{port}").parse().unwrap(),
            Duration::from_secs(30),
        );
    }
    let endpoint = format!("http://127.0.0.1:{zipkin_in}/api/v2/spans");

    for (python, format) in [(&python, "json"), (&legacy, "proto")] {
        let run = format!("run-{format}");
        let report = run_python(
            python,
            "send_zipkin.py",
            &[
                "--format",
                format,
                "--endpoint",
                &endpoint,
                "--run-id",
                &run,
            ],
        )
        .report;
        assert_eq!(report["result"], "SUCCESS", "{format}: {report}");
        let sent = report["spans"].as_array().unwrap();
        assert_eq!(sent.len(), 2);

        // What the receiver made of the Python client's spans.
        let got = eventually(
            &format!("the {format} spans in the file"),
            Duration::from_secs(20),
            || {
                let got = written(&dir.path().join("in.jsonl"));
                sent.iter()
                    .all(|s| got.contains_key(s["span_id"].as_str().unwrap()))
                    .then_some(got)
            },
        );
        for s in sent {
            let span = &got[s["span_id"].as_str().unwrap()];
            assert_eq!(span.trace_id, s["trace_id"].as_str().unwrap(), "{format}");
            assert_eq!(span.name, s["name"].as_str().unwrap());
            assert_eq!(span.kind, kind_number(s["kind"].as_str().unwrap()));
            assert_eq!(span.service, format!("shop-{run}"));
            assert_eq!(span.scope, "shop.http");
            assert_eq!(span.attributes["run"]["stringValue"], run.as_str());
            assert_eq!(span.parent_id, s["parent_id"].as_str().unwrap_or_default());
        }
        let parent = sent.iter().find(|s| s["kind"] == "SERVER").unwrap();
        let span = &got[parent["span_id"].as_str().unwrap()];
        // parse_string_tags: the tags' text is typed again.
        assert_eq!(span.attributes["http.status_code"]["intValue"], "503");
        assert_eq!(span.attributes["retry"]["boolValue"], true);
        assert_eq!(span.attributes["ratio"]["doubleValue"], 0.5);
        assert_eq!(span.status["code"], 2);
        assert_eq!(span.status["message"], "upstream unavailable");
        assert!(
            span.events.iter().any(|e| e.contains("retrying")),
            "{:?}",
            span.events
        );

        // What the exporter sent, decoded by Zipkin's own schema: both formats.
        let decoded = eventually(
            &format!("the {format} run's spans at the stand-in, in JSON and protobuf"),
            Duration::from_secs(20),
            || {
                let spans: Vec<Value> = sink
                    .spans()
                    .into_iter()
                    .filter(|s| s["localEndpoint"]["serviceName"] == format!("shop-{run}"))
                    .collect();
                (spans.len() >= 4).then_some(spans)
            },
        );
        for wire in ["json", "proto"] {
            let zipkin = decoded
                .iter()
                .find(|s| s["format"] == wire && s["id"] == parent["span_id"])
                .unwrap_or_else(|| panic!("no {wire} copy of the parent span: {decoded:?}"));
            assert_eq!(zipkin["traceId"], parent["trace_id"]);
            assert_eq!(zipkin["name"], parent["name"]);
            assert_eq!(zipkin["kind"], "SERVER");
            assert_eq!(zipkin["tags"]["http.status_code"], "503");
            assert_eq!(zipkin["tags"]["otel.status_code"], "ERROR");
            assert_eq!(zipkin["tags"]["error"], "upstream unavailable");
            assert_eq!(zipkin["tags"]["otel.scope.name"], "shop.http");
        }

        // Exporter → receiver: the same spans come back.
        let back = eventually(
            &format!("the {format} spans back through our exporter and receiver"),
            Duration::from_secs(20),
            || {
                let back = written(&dir.path().join("back.jsonl"));
                sent.iter()
                    .all(|s| back.contains_key(s["span_id"].as_str().unwrap()))
                    .then_some(back)
            },
        );
        for s in sent {
            let id = s["span_id"].as_str().unwrap();
            assert_eq!(
                back[id], got[id],
                "{format} span {id} changed on the round trip"
            );
        }
    }

    // Zipkin v1 JSON from the same client: no core annotations, so no kind; the service
    // comes from the binary annotations' endpoint.
    let run = "run-v1";
    let report = run_python(
        &python,
        "send_zipkin.py",
        &[
            "--format",
            "json-v1",
            "--endpoint",
            &format!("http://127.0.0.1:{zipkin_in}/api/v1/spans"),
            "--run-id",
            run,
        ],
    )
    .report;
    assert_eq!(report["result"], "SUCCESS", "v1: {report}");
    let sent = report["spans"].as_array().unwrap();
    let got = eventually("the v1 spans in the file", Duration::from_secs(20), || {
        let got = written(&dir.path().join("in.jsonl"));
        sent.iter()
            .all(|s| got.contains_key(s["span_id"].as_str().unwrap()))
            .then_some(got)
    });
    for s in sent {
        let span = &got[s["span_id"].as_str().unwrap()];
        assert_eq!(span.trace_id, s["trace_id"].as_str().unwrap());
        assert_eq!(span.parent_id, s["parent_id"].as_str().unwrap_or_default());
        assert_eq!(span.name, s["name"].as_str().unwrap());
        assert_eq!(span.service, format!("shop-{run}"));
        assert_eq!(span.attributes["run"]["stringValue"], run);
        if s["kind"] == "SERVER" {
            assert_eq!(span.attributes["http.status_code"]["intValue"], "503");
            assert_eq!(span.status["code"], 2);
            assert_eq!(span.status["message"], "upstream unavailable");
        }
    }

    // A malformed body is refused with 400 and breaks nothing.
    let addr = format!("127.0.0.1:{zipkin_in}").parse().unwrap();
    for (content_type, body) in [
        ("application/json", &b"[{\"traceId\": 12"[..]),
        ("application/x-protobuf", b"\x0a\x05\x0a\x01"),
    ] {
        let response = http(
            "POST",
            addr,
            "/api/v2/spans",
            &[("Content-Type", content_type)],
            body,
        );
        assert_eq!(response.status, 400, "{}", response.text());
    }
    let response = http(
        "POST",
        addr,
        "/api/v1/spans",
        &[("Content-Type", "application/x-thrift")],
        b"\x0c\x00",
    );
    assert_eq!(response.status, 415, "{}", response.text());
}
