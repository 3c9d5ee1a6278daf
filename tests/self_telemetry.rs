//! The collector's own telemetry, end to end: a gateway ("the monitored") pushes its own
//! metrics (a periodic reader over OTLP/gRPC), spans (a batch processor over
//! OTLP/HTTP protobuf) and logs (a batch processor over OTLP/HTTP JSON) to a second
//! gateway ("the monitor"), which writes what it receives with file exporters. Data sent
//! to the monitored one with curl shows up as its receive and export spans and its
//! `otelcol_receiver_accepted_spans` count at the monitor. The metrics go over
//! `https://` with mutual TLS, the certificates generated here.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::pki::write_pki;
use common::*;

/// How long anything that should happen promptly may take on a busy 2-core machine.
const PATIENCE: Duration = Duration::from_secs(60);

fn monitor_config(grpc: u16, http: u16, pprof: u16, dir: &Path) -> String {
    let file = |signal: &str| {
        format!(
            "  file/{signal}:\n    path: \"{}\"\n    flush_interval: 100ms\n",
            dir.join(format!("{signal}.jsonl")).display()
        )
    };
    format!(
        r#"extensions:
  pprof:
    endpoint: "127.0.0.1:{pprof}"
    save_to_file: "{profile}"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: "127.0.0.1:{grpc}"
        tls: {{ cert_file: "{cert}", key_file: "{key}", client_ca_file: "{ca}" }}
      http: {{ endpoint: "127.0.0.1:{http}" }}
exporters:
{traces}{metrics_file}{logs}
service:
  extensions: [pprof]
  telemetry:
    metrics: {{ level: none }}
    traces: {{ level: none }}
  pipelines:
    traces: {{ receivers: [otlp], exporters: [file/traces] }}
    metrics: {{ receivers: [otlp], exporters: [file/metrics] }}
    logs: {{ receivers: [otlp], exporters: [file/logs] }}
"#,
        traces = file("traces"),
        metrics_file = file("metrics"),
        logs = file("logs"),
        profile = dir.join("whole-run.pprof").display(),
        cert = dir.join("monitor.pem").display(),
        key = dir.join("monitor.key").display(),
        ca = dir.join("ca.pem").display(),
    )
}

fn monitored_config(
    http: u16,
    zpages: u16,
    pprof: u16,
    monitor_grpc: u16,
    monitor_http: u16,
    dir: &Path,
) -> String {
    format!(
        r#"extensions:
  zpages:
    endpoint: "127.0.0.1:{zpages}"
  pprof:
    endpoint: "127.0.0.1:{pprof}"
receivers:
  otlp:
    protocols:
      http: {{ endpoint: "127.0.0.1:{http}" }}
exporters:
  file:
    path: "{out}"
service:
  extensions: [zpages, pprof]
  telemetry:
    resource: {{ deployment.environment: e2e }}
    logs:
      level: info
      processors:
        - batch:
            schedule_delay: 200
            exporter: {{ otlp: {{ protocol: http/json, endpoint: "http://127.0.0.1:{monitor_http}" }} }}
    metrics:
      level: normal
      readers:
        - periodic:
            interval: 300
            exporter:
              otlp_grpc:
                endpoint: "https://127.0.0.1:{monitor_grpc}"
                tls:
                  certificate_file: "{ca}"
                  client_certificate_file: "{cert}"
                  client_key_file: "{key}"
    traces:
      processors:
        - batch:
            schedule_delay: 200
            exporter: {{ otlp: {{ protocol: http/protobuf, endpoint: "http://127.0.0.1:{monitor_http}" }} }}
  pipelines:
    traces: {{ receivers: [otlp], exporters: [file] }}
"#,
        out = dir.join("monitored-out.jsonl").display(),
        ca = dir.join("ca.pem").display(),
        cert = dir.join("monitored.pem").display(),
        key = dir.join("monitored.key").display(),
    )
}

/// Every item of `signal` (`resourceSpans`, ...) in a file exporter's output, flattened to
/// the records under their scopes.
fn records<'a>(
    lines: &'a [serde_json::Value],
    resource_key: &str,
    scope_key: &str,
    record_key: &str,
) -> Vec<(&'a serde_json::Value, &'a serde_json::Value)> {
    let mut out = Vec::new();
    for line in lines {
        for resource in line[resource_key].as_array().into_iter().flatten() {
            for scope in resource[scope_key].as_array().into_iter().flatten() {
                for record in scope[record_key].as_array().into_iter().flatten() {
                    out.push((&resource["resource"], record));
                }
            }
        }
    }
    out
}

fn attribute<'a>(attributes: &'a serde_json::Value, key: &str) -> Option<&'a serde_json::Value> {
    attributes
        .as_array()?
        .iter()
        .find(|kv| kv["key"] == key)
        .map(|kv| &kv["value"])
}

fn post_spans_with_curl(addr: SocketAddr) {
    let body = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[
        {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"a","kind":1,"startTimeUnixNano":"1","endTimeUnixNano":"2"},
        {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175","name":"b","kind":1,"startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}"#;
    let output = Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            body,
            &format!("http://{addr}/v1/traces"),
        ])
        .output()
        .expect("run curl");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "200", "{output:?}");
}

#[test]
fn own_metrics_spans_and_logs_reach_a_second_collector_over_otlp() {
    let dir = temp_dir();
    write_pki(
        dir.path(),
        "self telemetry e2e CA",
        &[("monitor", "127.0.0.1"), ("monitored", "monitored.test")],
    );
    let gateway = example("gateway");
    let (monitor_grpc, monitor_http) = (free_port(), free_port());
    let monitor_path = dir.path().join("monitor.yaml");
    std::fs::write(
        &monitor_path,
        monitor_config(monitor_grpc, monitor_http, free_port(), dir.path()),
    )
    .unwrap();
    let mut monitor = Proc::spawn(&gateway, &["--config", monitor_path.to_str().unwrap()], &[]);
    wait_listening(([127, 0, 0, 1], monitor_grpc).into(), PATIENCE);
    wait_listening(([127, 0, 0, 1], monitor_http).into(), PATIENCE);

    let (http, zpages, pprof) = (free_port(), free_port(), free_port());
    let monitored_path = dir.path().join("monitored.yaml");
    std::fs::write(
        &monitored_path,
        monitored_config(http, zpages, pprof, monitor_grpc, monitor_http, dir.path()),
    )
    .unwrap();
    let mut monitored = Proc::spawn(
        &gateway,
        &["--config", monitored_path.to_str().unwrap()],
        &[],
    );
    let addr: SocketAddr = ([127, 0, 0, 1], http).into();
    wait_listening(addr, PATIENCE);
    post_spans_with_curl(addr);

    // Metrics: the accepted spans, counted by the monitored collector, at the monitor.
    let metrics_file = dir.path().join("metrics.jsonl");
    let accepted_at_monitor = || {
        let lines = read_json_lines(&metrics_file);
        let metrics = records(&lines, "resourceMetrics", "scopeMetrics", "metrics");
        metrics
            .iter()
            .filter(|(resource, metric)| {
                metric["name"] == "otelcol_receiver_accepted_spans"
                    && metric["sum"]["isMonotonic"] == true
                    && attribute(&resource["attributes"], "deployment.environment")
                        == Some(&serde_json::json!({"stringValue": "e2e"}))
            })
            .flat_map(|(_, metric)| {
                metric["sum"]["dataPoints"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .filter(|p| {
                attribute(&p["attributes"], "receiver")
                    == Some(&serde_json::json!({"stringValue": "otlp"}))
            })
            .filter_map(|p| p["asInt"].as_str()?.parse::<u64>().ok())
            .max()
    };
    eventually(
        "the monitored collector's metrics at the monitor",
        PATIENCE,
        || (accepted_at_monitor() == Some(2)).then_some(()),
    );

    // Spans: one per receive and one per export, named and attributed as Go's obsreport.
    let traces_file = dir.path().join("traces.jsonl");
    eventually(
        "the monitored collector's spans at the monitor",
        PATIENCE,
        || {
            let lines = read_json_lines(&traces_file);
            let spans = records(&lines, "resourceSpans", "scopeSpans", "spans");
            let received = spans.iter().any(|(_, s)| {
                s["name"] == "receiver/otlp/TraceDataReceived"
                    && attribute(&s["attributes"], "accepted_spans")
                        == Some(&serde_json::json!({"intValue": "2"}))
                    && attribute(&s["attributes"], "transport")
                        == Some(&serde_json::json!({"stringValue": "http"}))
            });
            let exported = spans.iter().any(|(_, s)| {
                s["name"] == "exporter/file/traces"
                    && attribute(&s["attributes"], "sent_spans")
                        == Some(&serde_json::json!({"intValue": "2"}))
            });
            (received && exported).then_some(())
        },
    );

    // Logs: the monitored collector's start-up entry.
    let logs_file = dir.path().join("logs.jsonl");
    eventually(
        "the monitored collector's logs at the monitor",
        PATIENCE,
        || {
            let lines = read_json_lines(&logs_file);
            let logs = records(&lines, "resourceLogs", "scopeLogs", "logRecords");
            logs.iter()
                .any(|(_, r)| {
                    r["body"]["stringValue"]
                        .as_str()
                        .is_some_and(|b| b.contains("everything is ready"))
                        && r["severityText"] == "info"
                })
                .then_some(())
        },
    );

    // zpages: the pipelines with their components, the extension, the gates, the spans.
    let zpages: SocketAddr = ([127, 0, 0, 1], zpages).into();
    let page = |path: &str| {
        let response = get(zpages, path);
        assert_eq!(response.status, 200, "{path}");
        assert!(
            response
                .header("content-type")
                .is_some_and(|t| t.starts_with("text/html")),
            "{path}"
        );
        response.text()
    };
    let pipelinez = page("/debug/pipelinez");
    assert!(
        pipelinez.contains("<td>traces</td>")
            && pipelinez.contains("otlp (OK)")
            && pipelinez.contains("file (OK)"),
        "{pipelinez}"
    );
    assert!(page("/debug/extensionz").contains("<td>zpages</td>"));
    assert!(page("/debug/servicez").contains("tributary-gateway"));
    assert!(page("/debug/featurez").contains("<td>"));
    let tracez = page("/debug/tracez");
    assert!(
        tracez.contains("receiver/otlp/TraceDataReceived"),
        "{tracez}"
    );
    let samples = page("/debug/tracez?zspanname=exporter%2Ffile%2Ftraces&ztype=1&zlatencybucket=0");
    assert!(
        samples.contains("exporter/file/traces: latency"),
        "{samples}"
    );
    assert_eq!(
        get(zpages, "/debug/expvarz").status,
        404,
        "expvar is off by default"
    );

    monitored.signal("TERM");
    assert!(
        monitored.wait_exit(PATIENCE).success(),
        "{}",
        monitored.output()
    );
    monitor.signal("TERM");
    assert!(
        monitor.wait_exit(PATIENCE).success(),
        "{}",
        monitor.output()
    );
}

#[test]
fn a_missing_tls_file_fails_the_start_naming_its_key() {
    let dir = temp_dir();
    let missing = dir.path().join("no-such-ca.pem");
    let config = dir.path().join("collector.yaml");
    std::fs::write(
        &config,
        format!(
            r#"receivers:
  otlp:
    protocols:
      http: {{ endpoint: "127.0.0.1:{http}" }}
exporters:
  debug:
service:
  telemetry:
    metrics:
      readers:
        - periodic:
            exporter:
              otlp: {{ protocol: grpc, endpoint: "https://127.0.0.1:{grpc}", certificate: "{ca}" }}
  pipelines:
    traces: {{ receivers: [otlp], exporters: [debug] }}
"#,
            http = free_port(),
            grpc = free_port(),
            ca = missing.display(),
        ),
    )
    .unwrap();
    let mut collector = Proc::spawn(
        &example("gateway"),
        &["--config", config.to_str().unwrap()],
        &[],
    );
    assert!(!collector.wait_exit(PATIENCE).success());
    let output = collector.output();
    assert!(
        output.contains(
            "service::telemetry::metrics::readers::0::periodic::exporter::otlp::certificate"
        ) && output.contains("no-such-ca.pem"),
        "{output}"
    );
}
