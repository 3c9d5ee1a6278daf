//! The `elasticsearch` exporter end to end: the Python OpenTelemetry SDK sends metrics and
//! logs over OTLP/HTTP to the gateway binary, which writes them with the bulk API to an
//! Elasticsearch stand-in implementing Elastic's bulk contract (`es_bulk_stub`: no
//! Elasticsearch is installable from the registries here), scripted to refuse one
//! document (`400`) and throttle another (`429`) in the first request.

mod common;

#[path = "es_bulk_stub/mod.rs"]
mod es_bulk_stub;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use es_bulk_stub::{BulkStub, Script};

#[test]
fn sdk_metrics_and_logs_reach_elasticsearch_with_per_item_handling() {
    let Some(python) = python_sdk() else { return };
    let dir = temp_dir();
    let es = BulkStub::start();
    // First bulk request (the metrics): the first document refused, the second throttled.
    es.script([Script::Items(vec![400, 429])]);
    let port = free_port();
    let config = dir.path().join("gateway.yaml");
    std::fs::write(
        &config,
        format!(
            r#"
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{port}
exporters:
  debug: {{ verbosity: basic }}
  elasticsearch:
    endpoint: http://{es}
    metrics_index: metrics-tributary-e2e
    metrics_dynamic_index: {{ enabled: false }}
    logs_index: logs-tributary-e2e
    retry: {{ initial_interval: 10ms }}
service:
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    traces: {{ receivers: [otlp], exporters: [debug] }}
    metrics: {{ receivers: [otlp], exporters: [elasticsearch] }}
    logs: {{ receivers: [otlp], exporters: [elasticsearch] }}
"#,
            es = es.addr
        ),
    )
    .unwrap();
    let mut gateway = Proc::spawn(
        &example("gateway"),
        &["--config", config.to_str().unwrap()],
        &[],
    );
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    wait_serving(&mut gateway, addr, Duration::from_secs(60));

    let run = "es-e2e";
    let sent = run_python(
        &python,
        "send_otlp.py",
        &[
            "--protocol",
            "http",
            "--endpoint",
            &addr.to_string(),
            "--run-id",
            run,
        ],
    )
    .report;
    let logs: Vec<String> = sent["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_owned())
        .collect();
    let routes = |stored: &[es_bulk_stub::Stored]| {
        let mut routes: Vec<String> = stored
            .iter()
            .filter(|d| d.index == "metrics-tributary-e2e")
            .map(|d| {
                d.source["Attributes"]["route"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        routes.sort();
        routes.dedup();
        routes
    };
    // The SDK exports its cumulative counter at the flush and again at shutdown: every
    // route arrives, the refused document of the first request notwithstanding.
    let stored = eventually("every log and every route", Duration::from_secs(30), || {
        let stored = es.stored();
        let log_docs = stored
            .iter()
            .filter(|d| d.index == "logs-tributary-e2e")
            .count();
        (routes(&stored).len() == 5 && log_docs == logs.len()).then_some(stored)
    });
    assert!(
        gateway.output().contains("Elasticsearch refused documents"),
        "the 400 document is dropped and reported"
    );
    // The throttled document was sent again in a request of its own.
    assert!(es.requests() >= 3, "{} requests", es.requests());
    for doc in &stored {
        assert_eq!(doc.action, "create", "data streams take create only");
    }
    let metric = stored
        .iter()
        .find(|d| d.index == "metrics-tributary-e2e")
        .unwrap();
    assert!(
        metric.source[run]["requests"].is_number(),
        "{}",
        metric.source
    );
    assert_eq!(metric.source["Resource"]["service"]["name"], "interop-test");
    let bodies: Vec<&str> = stored
        .iter()
        .filter(|d| d.index == "logs-tributary-e2e")
        .map(|d| d.source["Body"].as_str().unwrap())
        .collect();
    for body in &logs {
        assert!(
            bodies.contains(&body.as_str()),
            "{body} missing from {bodies:?}"
        );
    }
}
