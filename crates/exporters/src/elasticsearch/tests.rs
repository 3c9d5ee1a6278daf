//! The exporter against an Elasticsearch bulk stand-in written here (no Elasticsearch is
//! installable from the registries this project builds with): it implements the bulk
//! contract of Elastic's API docs — NDJSON action/source pairs, `200` with `errors` and
//! one item per action in order, whole-request `413` and `429` — so the document layouts,
//! per-item retries, drops and splitting are checked as a client of that contract.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tributary_pipeline_core::component::{CreateSettings, Host};
use tributary_pipeline_core::exporterhelper::Export;
use tributary_pipeline_core::pdata::builder::{
    HistogramValue, LogsBuilder, MetricsBuilder, Temporality,
};
use tributary_pipeline_core::pdata::{Logs, Metrics};
use tributary_pipeline_core::prelude::key_value;

use super::config::{Config, MappingMode};
use super::documents::{Routing, log_documents, metric_documents};
use super::exporter::ElasticsearchExporter;
use super::factory;
use crate::testing::server::{TestServer, closed_port, serve};
use crate::testing::{load, settings};

const T: u64 = 1_700_000_000_123_000_000;

fn sample() -> Metrics {
    let mut b = MetricsBuilder::new();
    b.resource(vec![
        key_value("service.name", "shop"),
        key_value("app", "demo"),
    ])
    .scope("meter", "1.0");
    b.gauge("jvm.mem.used", "")
        .double(vec![key_value("area", "heap")], T, 1.2e8);
    b.sum("requests", "", Temporality::Cumulative, true).int(
        vec![key_value("area", "heap")],
        0,
        T,
        7,
    );
    let _ = b.histogram("latency", "", Temporality::Cumulative).point(
        vec![],
        0,
        T,
        HistogramValue::new(vec![1.0, 3.0], vec![2, 0, 1]).sum(5.0),
    );
    b.build()
}

/// `n` gauge points, one document each.
fn gauges(n: usize) -> Metrics {
    let mut b = MetricsBuilder::new();
    for i in 0..n {
        b.gauge("g", "")
            .int(vec![key_value("i", i as i64)], T + i as u64, i as i64);
    }
    b.build()
}

fn docs(config: &Config, metrics: &Metrics) -> Vec<(String, Value)> {
    let routing = Routing {
        kind: "metrics",
        index: &config.metrics_index,
        dynamic: config.metrics_dynamic_index.enabled,
        config,
    };
    metric_documents(metrics, config.mode().unwrap(), &routing)
        .0
        .into_iter()
        .map(|d| (d.index, serde_json::from_str(&d.source).unwrap()))
        .collect()
}

#[test]
fn none_mode_groups_points_by_time_and_attributes() {
    let config: Config = load("endpoint: http://es:9200").unwrap();
    let docs = docs(&config, &sample());
    assert_eq!(docs.len(), 2);
    let (index, heap) = &docs
        .iter()
        .find(|(_, d)| d.get("Attributes").is_some())
        .unwrap();
    assert_eq!(index, "metrics-generic-default");
    assert_eq!(heap["@timestamp"], "2023-11-14T22:13:20.123Z");
    assert_eq!(heap["Attributes"]["area"], "heap");
    assert_eq!(heap["jvm"]["mem"]["used"], 1.2e8, "dedotted");
    assert_eq!(heap["requests"], 7);
    assert_eq!(heap["Resource"]["service"]["name"], "shop");
    assert_eq!(heap["Scope"]["name"], "meter");
    let (_, latency) = docs
        .iter()
        .find(|(_, d)| d.get("latency").is_some())
        .unwrap();
    assert_eq!(
        latency["latency"],
        json!({"counts": [2, 1], "values": [1.0, 3.0]})
    );
}

#[test]
fn raw_and_lookout_modes() {
    let raw: Config =
        load("endpoint: http://es:9200\nmapping: { mode: raw, dedot: false }").unwrap();
    let docs_raw = docs(&raw, &sample());
    let heap = &docs_raw
        .iter()
        .find(|(_, d)| d.get("area").is_some())
        .unwrap()
        .1;
    assert_eq!(heap["jvm.mem.used"], 1.2e8);
    assert!(heap.get("Attributes").is_none());

    let lookout: Config = load(
        "endpoint: http://es:9200\nmetrics_index: lookout-active-metrics\nmetrics_dynamic_index: { enabled: false }\nmapping: { mode: lookout }",
    )
    .unwrap();
    let docs = docs(&lookout, &sample());
    let (index, doc) = &docs[0];
    assert_eq!(index, "lookout-active-metrics");
    assert_eq!(
        doc,
        &json!({
            "time": "2023-11-14T22:13:20.123+00:00",
            "id": "jvm.mem.used",
            "value": 1.2e8,
            "tags": ["service.name=shop", "app=demo", "area=heap"],
        })
    );
    let ids: Vec<&str> = docs
        .iter()
        .map(|(_, d)| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["jvm.mem.used", "requests", "latency.count", "latency.sum"]
    );
}

#[test]
fn dynamic_and_logstash_index_names() {
    let config: Config =
        load("endpoint: http://es:9200\nlogstash_format: { enabled: true }").unwrap();
    let mut b = MetricsBuilder::new();
    b.resource(vec![key_value("data_stream.dataset", "nginx")]);
    b.gauge("a", "")
        .int(vec![key_value("data_stream.namespace", "prod")], T, 1);
    b.resource(vec![key_value("elasticsearch.index.prefix", "p-")]);
    b.gauge("b", "").int(vec![], T, 1);
    let indices: Vec<String> = docs(&config, &b.build())
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        indices,
        [
            "metrics-nginx-prod-2023.11.14",
            "p-metrics-generic-default-2023.11.14"
        ]
    );
}

#[test]
fn log_documents_layout() {
    let config: Config = load("endpoint: http://es:9200").unwrap();
    let mut b = LogsBuilder::new();
    b.resource(vec![key_value("service.name", "api")])
        .scope("app", "2");
    b.record("user logged in")
        .time(T)
        .severity_text("INFO")
        .attribute("user.id", "ana")
        .trace_context([1; 16], [2; 8], 1);
    let routing = Routing {
        kind: "logs",
        index: config.logs_index(),
        dynamic: false,
        config: &config,
    };
    let docs = log_documents(&b.build(), MappingMode::None, &routing);
    assert_eq!(docs[0].index, "logs-generic-default");
    let doc: Value = serde_json::from_str(&docs[0].source).unwrap();
    assert_eq!(doc["Body"], "user logged in");
    assert_eq!(doc["SeverityText"], "INFO");
    assert_eq!(doc["Attributes"]["user"]["id"], "ana");
    assert_eq!(doc["TraceId"], "01".repeat(16));
    assert_eq!(doc["Resource"]["service"]["name"], "api");
}

/// What the stand-in answers one request with.
#[derive(Clone, Debug)]
enum Answer {
    /// `200` with these item statuses (the rest `201`).
    Items(Vec<u16>),
    /// The whole request gets this status.
    Whole(u16),
}

/// A request seen: its URI, headers and `(action, index, source)` pairs.
type Request = (String, HeaderMap, Vec<(String, String, Value)>);

#[derive(Clone, Default)]
struct Bulk {
    /// Every request: its URI, headers and `(action, index, source)` pairs.
    requests: Arc<Mutex<Vec<Request>>>,
    /// Sources stored (answered 2xx).
    stored: Arc<Mutex<Vec<Value>>>,
    script: Arc<Mutex<VecDeque<Answer>>>,
    /// Requests with more documents than this get `413`.
    max_docs: Arc<Mutex<usize>>,
}

async fn handle(State(bulk): State<Bulk>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let text = String::from_utf8(body.to_vec()).unwrap();
    assert!(
        text.ends_with('\n'),
        "every line ends with a newline, the last included"
    );
    let lines: Vec<&str> = text.lines().collect();
    let mut pairs = Vec::new();
    for pair in lines.chunks(2) {
        let action: Value = serde_json::from_str(pair[0]).unwrap();
        let (name, meta) = action.as_object().unwrap().iter().next().unwrap();
        pairs.push((
            name.clone(),
            meta["_index"].as_str().unwrap().to_owned(),
            serde_json::from_str::<Value>(pair[1]).unwrap(),
        ));
    }
    bulk.requests
        .lock()
        .unwrap()
        .push((uri.to_string(), headers, pairs.clone()));
    if pairs.len() > *bulk.max_docs.lock().unwrap() {
        return (StatusCode::PAYLOAD_TOO_LARGE, "").into_response();
    }
    let answer = bulk
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(Answer::Items(vec![]));
    let statuses = match answer {
        Answer::Whole(status) => {
            let error = json!({"error": {"type": "es_rejected_execution_exception", "reason": "busy"}, "status": status});
            return (StatusCode::from_u16(status).unwrap(), error.to_string()).into_response();
        }
        Answer::Items(statuses) => statuses,
    };
    let mut items = Vec::new();
    for (i, (action, index, source)) in pairs.into_iter().enumerate() {
        let status = statuses.get(i).copied().unwrap_or(201);
        let mut result = json!({"_index": index, "status": status});
        if status < 300 {
            bulk.stored.lock().unwrap().push(source);
            result["result"] = "created".into();
        } else {
            let kind = match status {
                429 => "es_rejected_execution_exception",
                400 => "mapper_parsing_exception",
                _ => "internal_server_error",
            };
            result["error"] = json!({"type": kind, "reason": "scripted"});
        }
        items.push(json!({ action: result }));
    }
    let errors = statuses.iter().any(|s| *s >= 300);
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        json!({"took": 3, "errors": errors, "items": items}).to_string(),
    )
        .into_response()
}

async fn stand_in() -> (Bulk, TestServer) {
    let bulk = Bulk {
        max_docs: Arc::new(Mutex::new(usize::MAX)),
        ..Bulk::default()
    };
    let router = Router::new().fallback(handle).with_state(bulk.clone());
    (bulk, serve(router, None).await)
}

impl Bulk {
    fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.script.lock().unwrap().extend(answers);
    }
    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
    fn stored_values(&self) -> Vec<i64> {
        let mut values: Vec<i64> = self
            .stored
            .lock()
            .unwrap()
            .iter()
            .map(|d| d["g"].as_i64().unwrap())
            .collect();
        values.sort();
        values
    }
}

struct Started {
    exporter: ElasticsearchExporter,
    settings: CreateSettings,
}

impl Started {
    fn dropped(&self, reason: &str) -> f64 {
        self.settings.metrics().sum(
            "otelcol_exporter_elasticsearch_dropped_documents",
            &[("reason", reason)],
        )
    }
}

async fn exporter(yaml: &str) -> Started {
    let config: Config = load(yaml).unwrap();
    let settings = settings::<Metrics>("elasticsearch");
    let exporter = ElasticsearchExporter::new(&settings, &config).unwrap();
    Export::<Metrics>::start(&exporter, &Host::default())
        .await
        .unwrap();
    Started { exporter, settings }
}

fn fast(addr: std::net::SocketAddr) -> String {
    format!("endpoint: http://{addr}\nretry: {{ initial_interval: 1ms, max_interval: 5ms }}")
}

#[tokio::test]
async fn partial_failures_retry_only_429_and_5xx_items() {
    let (bulk, server) = stand_in().await;
    let es = exporter(&fast(server.addr)).await;
    bulk.script([Answer::Items(vec![201, 400, 429, 503, 409])]);
    es.exporter.export(gauges(5)).await.unwrap();
    let requests = bulk.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].0, "/_bulk");
    assert_eq!(requests[0].1["content-type"], "application/x-ndjson");
    assert!(
        requests[0]
            .2
            .iter()
            .all(|(a, i, _)| a == "create" && i == "metrics-generic-default")
    );
    let retried: Vec<i64> = requests[1]
        .2
        .iter()
        .map(|(_, _, d)| d["g"].as_i64().unwrap())
        .collect();
    assert_eq!(
        retried,
        [2, 3],
        "only the 429 and 503 documents are sent again"
    );
    assert_eq!(bulk.stored_values(), [0, 2, 3]);
    assert_eq!(es.dropped("rejected"), 1.0);
}

#[tokio::test]
async fn whole_request_429_and_5xx_are_retried() {
    let (bulk, server) = stand_in().await;
    let es = exporter(&fast(server.addr)).await;
    bulk.script([Answer::Whole(429), Answer::Whole(502)]);
    es.exporter.export(gauges(3)).await.unwrap();
    assert_eq!(bulk.requests().len(), 3);
    assert_eq!(bulk.stored_values(), [0, 1, 2]);
}

#[tokio::test]
async fn too_large_requests_are_split() {
    let (bulk, server) = stand_in().await;
    *bulk.max_docs.lock().unwrap() = 2;
    let es = exporter(&fast(server.addr)).await;
    es.exporter.export(gauges(5)).await.unwrap();
    assert_eq!(bulk.stored_values(), [0, 1, 2, 3, 4]);
    *bulk.max_docs.lock().unwrap() = 0;
    es.exporter.export(gauges(1)).await.unwrap();
    assert_eq!(es.dropped("too_large"), 1.0);
}

#[tokio::test]
async fn flush_bytes_cuts_requests() {
    let (bulk, server) = stand_in().await;
    let es = exporter(&format!("{}\nflush: {{ bytes: 300 }}", fast(server.addr))).await;
    es.exporter.export(gauges(6)).await.unwrap();
    let requests = bulk.requests();
    assert!(requests.len() >= 3, "{} requests", requests.len());
    assert_eq!(bulk.stored_values(), [0, 1, 2, 3, 4, 5]);
}

#[tokio::test]
async fn exhausted_retries() {
    let (bulk, server) = stand_in().await;
    let es = exporter(&format!(
        "{}\nretry: {{ max_requests: 1, initial_interval: 1ms, max_interval: 5ms }}",
        format_args!("endpoint: http://{}", server.addr)
    ))
    .await;
    // Part stored, the rest always refused: dropped and counted, never the batch again.
    bulk.script([Answer::Items(vec![201, 429]), Answer::Items(vec![429])]);
    es.exporter.export(gauges(2)).await.unwrap();
    assert_eq!(es.dropped("retries_exhausted"), 1.0);
    // Nothing stored: the export fails, retryable, for the queue to keep the batch.
    bulk.script([Answer::Whole(503), Answer::Whole(503)]);
    let error = es.exporter.export(gauges(1)).await.unwrap_err();
    assert!(!error.is_permanent(), "{error:?}");
    // Unauthorised: permanent at once.
    bulk.script([Answer::Whole(401)]);
    let requests_before = bulk.requests().len();
    let error = es.exporter.export(gauges(1)).await.unwrap_err();
    assert!(error.is_permanent());
    assert_eq!(bulk.requests().len(), requests_before + 1);
    // retry disabled: one request.
    let once = exporter(&format!(
        "endpoint: http://{}\nretry: {{ enabled: false }}",
        server.addr
    ))
    .await;
    bulk.script([Answer::Whole(503)]);
    assert!(once.exporter.export(gauges(1)).await.is_err());
}

#[tokio::test]
async fn credentials_pipeline_and_endpoints_in_turn() {
    let (bulk, server) = stand_in().await;
    let (_, other) = stand_in().await;
    let basic = exporter(&format!(
        "endpoint: http://{}\nendpoints: [http://{}/es]\nuser: elastic\npassword: changeme\npipeline: p1",
        server.addr, other.addr
    ))
    .await;
    basic.exporter.export(gauges(1)).await.unwrap();
    basic.exporter.export(gauges(1)).await.unwrap();
    basic.exporter.export(gauges(1)).await.unwrap();
    let requests = bulk.requests();
    assert_eq!(
        requests.len(),
        2,
        "the second request went to the other endpoint"
    );
    assert_eq!(requests[0].0, "/_bulk?pipeline=p1");
    assert_eq!(
        requests[0].1["authorization"],
        "Basic ZWxhc3RpYzpjaGFuZ2VtZQ=="
    );
    let key = exporter(&format!("endpoint: http://{}\napi_key: abc==", server.addr)).await;
    key.exporter.export(gauges(1)).await.unwrap();
    assert_eq!(bulk.requests()[2].1["authorization"], "ApiKey abc==");
}

#[tokio::test]
async fn unreachable_servers_are_retryable() {
    let es = exporter(&format!(
        "endpoint: http://{}\nretry: {{ max_requests: 1, initial_interval: 1ms, max_interval: 2ms }}",
        closed_port().await
    ))
    .await;
    let error = es.exporter.export(gauges(1)).await.unwrap_err();
    assert!(!error.is_permanent());
}

#[tokio::test]
async fn logs_are_exported() {
    let (bulk, server) = stand_in().await;
    let config: Config = load(&format!(
        "endpoint: http://{}\nlogs_index: logs-app-default",
        server.addr
    ))
    .unwrap();
    let exporter = ElasticsearchExporter::new(&settings::<Logs>("elasticsearch"), &config).unwrap();
    Export::<Logs>::start(&exporter, &Host::default())
        .await
        .unwrap();
    let mut b = LogsBuilder::new();
    b.record("hello").time(T);
    exporter.export(b.build()).await.unwrap();
    let requests = bulk.requests();
    assert_eq!(requests[0].2[0].1, "logs-app-default");
    assert_eq!(requests[0].2[0].2["Body"], "hello");
}

#[test]
fn config_defaults_and_refusals() {
    let config: Config = load("endpoint: http://es:9200").unwrap();
    assert_eq!(config.timeout(), Duration::from_secs(90));
    assert_eq!(config.flush.bytes, 5_000_000);
    assert_eq!(config.retry.max_requests, 3);
    assert_eq!(config.retry.retry_on_status, [429]);
    assert!(config.metrics_dynamic_index.enabled);
    assert!(!config.helper().sending_queue.enabled);
    let queued: Config =
        load("endpoint: http://es:9200\nsending_queue: { enabled: true }\nflush: { interval: 2s }")
            .unwrap();
    let batch = queued.helper().sending_queue.batch.unwrap();
    assert_eq!(batch.flush_timeout, Duration::from_secs(2));
    assert_eq!(batch.min_size, 5_000_000);
    for (yaml, key) in [
        ("", "endpoint"),
        ("endpoint: http://es:9200\ncloudid: x:y", "cloudid"),
        (
            "endpoint: http://es:9200\nmapping: { mode: ecs }",
            "mapping::mode",
        ),
        ("endpoint: http://es:9200\nnum_workers: 4", "num_workers"),
        ("endpoint: http://es:9200\nuser: u", "user"),
        (
            "endpoint: http://es:9200\nmetrics_index: 'a b'",
            "metrics_index",
        ),
        (
            "endpoint: http://es:9200\ndiscover: { on_start: true }",
            "discover",
        ),
    ] {
        let error = load::<Config>(yaml).unwrap_err().to_string();
        assert!(error.contains(key), "{yaml}: {error}");
    }
}

#[test]
fn lookout_mode_refuses_logs() {
    let config: Config = load("endpoint: http://es:9200\nmapping: { mode: lookout }").unwrap();
    let factory = factory();
    let logs = factory.create::<Logs>(&settings::<Logs>("elasticsearch"), &config);
    assert!(logs.is_err());
    assert!(
        factory
            .create::<Metrics>(&settings::<Metrics>("elasticsearch"), &config)
            .is_ok()
    );
}

#[tokio::test]
async fn conformance() {
    tributary_pipeline_core::testing::check_exporter(
        factory(),
        "endpoint: http://127.0.0.1:{port}",
    )
    .await;
}
