//! The exporter against a TSD written here from OpenTSDB's documented `/api/put` contract
//! (no TSD is installable): the mapping, request cutting, `details` with only the failed
//! points sent again, each answer's class, and the telnet form.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tributary_pipeline_core::component::{ComponentConfig, Host};
use tributary_pipeline_core::exporterhelper::Export;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::builder::{
    HistogramValue, MetricsBuilder, SummaryValue, Temporality,
};
use tributary_pipeline_core::prelude::key_value;

use super::config::Config;
use super::exporter::OpenTsdbExporter;
use super::points::{TsdbValue, to_points};
use super::*;
use crate::testing::server::{TestServer, closed_port, serve};
use crate::testing::{load, settings};

/// The TSD stand-in: what it stored, what each request held, and what it is told to do.
#[derive(Default)]
struct Tsd {
    stored: Mutex<Vec<Value>>,
    requests: Mutex<Vec<(String, usize)>>,
    /// Statuses to answer with before looking at the points, in order.
    script: Mutex<VecDeque<StatusCode>>,
    /// How many more times a point tagged `flaky=yes` fails with a storage error.
    flaky: Mutex<usize>,
}

async fn put(State(tsd): State<Arc<Tsd>>, uri: Uri, body: Bytes) -> Response {
    let query = uri.query().unwrap_or_default().to_string();
    let points: Vec<Value> = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(points)) => points,
        Ok(point @ Value::Object(_)) => vec![point],
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                json!({"error":{"code":400,"message":"Unable to parse the given JSON"}})
                    .to_string(),
            )
                .into_response();
        }
    };
    tsd.requests
        .lock()
        .unwrap()
        .push((query.clone(), points.len()));
    if let Some(status) = tsd.script.lock().unwrap().pop_front() {
        return (status, "scripted").into_response();
    }
    let mut errors = Vec::new();
    for point in points {
        let metric = point["metric"].as_str().unwrap_or_default();
        if metric.starts_with("bad") {
            errors.push(
                json!({"datapoint": point, "error": "Invalid metric name (\"bad\"): illegal"}),
            );
            continue;
        }
        if point["tags"]["flaky"] == "yes" {
            let mut flaky = tsd.flaky.lock().unwrap();
            if *flaky > 0 {
                *flaky -= 1;
                errors
                    .push(json!({"datapoint": point, "error": "HBase error: region unavailable"}));
                continue;
            }
        }
        tsd.stored.lock().unwrap().push(point);
    }
    let success = tsd.stored.lock().unwrap().len();
    let details = query.split('&').any(|p| p == "details");
    match (errors.is_empty(), details) {
        (true, false) => StatusCode::NO_CONTENT.into_response(),
        (true, true) => (
            StatusCode::OK,
            json!({"success": success, "failed": 0, "errors": []}).to_string(),
        )
            .into_response(),
        (false, _) => (
            StatusCode::BAD_REQUEST,
            json!({"success": success, "failed": errors.len(), "errors": errors}).to_string(),
        )
            .into_response(),
    }
}

async fn tsd() -> (Arc<Tsd>, TestServer) {
    let tsd = Arc::new(Tsd::default());
    let router = Router::new()
        .route("/api/put", axum::routing::post(put))
        .with_state(Arc::clone(&tsd));
    (tsd, serve(router, None).await)
}

async fn exporter(yaml: &str) -> OpenTsdbExporter {
    let config: Config = load(yaml).unwrap();
    let exporter = OpenTsdbExporter::new(&settings::<Metrics>("opentsdb"), &config).unwrap();
    Export::<Metrics>::start(&exporter, &Host::default())
        .await
        .unwrap();
    exporter
}

/// `n` gauges at whole seconds, tagged `i`, plus the `extra` tag when given.
fn gauges(n: usize, extra: Option<(&str, &str)>) -> Metrics {
    let mut b = MetricsBuilder::new();
    for i in 0..n {
        let mut attributes = vec![key_value("i", i as i64)];
        if let Some((k, v)) = extra {
            attributes.push(key_value(k, v));
        }
        b.gauge("sys.load", "").int(
            attributes,
            1_700_000_000_000_000_000 + i as u64 * 1_000_000_000,
            i as i64,
        );
    }
    b.build()
}

#[test]
fn mapping_of_each_metric_kind() {
    let mut b = MetricsBuilder::new();
    b.resource(vec![key_value("service.name", "shop api")]);
    b.gauge("cpu temp", "").double(
        vec![key_value("core", 1i64), key_value("empty", "")],
        1_500_000_000,
        87.5,
    );
    b.sum("requests", "", Temporality::Cumulative, true).int(
        vec![key_value("code", "200")],
        0,
        2_000_000_000,
        1027,
    );
    let _ = b.histogram("latency", "", Temporality::Cumulative).point(
        vec![key_value("route", "/a b")],
        0,
        3_000_000_000,
        HistogramValue::new(vec![0.1, 0.5], vec![3, 4, 2]).sum(2.5),
    );
    let _ = b.summary("rpc", "").point(
        vec![],
        0,
        3_000_000_000,
        SummaryValue::new(9, 3.5).quantile(0.99, 1.5),
    );
    b.gauge("nan", "").double(vec![], 1_000_000_000, f64::NAN);
    b.gauge("untimed", "").double(vec![], 0, 1.0);
    let converted = to_points(b.build().request(), false);
    assert_eq!(converted.dropped, 2);
    let lines: Vec<String> = converted
        .points
        .iter()
        .map(|p| p.to_telnet_line())
        .collect();
    assert_eq!(
        lines,
        [
            "put cpu_temp 1500 87.5 core=1\n",
            "put requests 2 1027 code=200\n",
            "put latency.count 3 9 route=/a_b\n",
            "put latency.sum 3 2.5 route=/a_b\n",
            "put latency.bucket 3 3 le=0.1 route=/a_b\n",
            "put latency.bucket 3 7 le=0.5 route=/a_b\n",
            "put latency.bucket 3 9 le=inf route=/a_b\n",
            "put rpc.count 3 9 service.name=shop_api\n",
            "put rpc.sum 3 3.5 service.name=shop_api\n",
            "put rpc 3 1.5 quantile=0.99 service.name=shop_api\n",
        ]
    );
    assert_eq!(converted.points[1].value, TsdbValue::Int(1027));
    assert_eq!(
        converted.points[0].to_json(),
        json!({"metric":"cpu_temp","timestamp":1500,"value":87.5,"tags":{"core":"1"}})
    );
    // Resource attributes as tags, when asked.
    let mut b = MetricsBuilder::new();
    b.resource(vec![key_value("host.name", "web01")]);
    b.gauge("g", "").int(vec![], 1_000_000_000, 1);
    let points = to_points(b.build().request(), true).points;
    assert_eq!(points[0].to_telnet_line(), "put g 1 1 host.name=web01\n");
    let points = to_points(gauges(1, None).request(), false).points;
    assert_eq!(points[0].tags.len(), 1);
    assert_eq!(sanitize("a b:c/d.é"), "a_b_c/d.é");
}

#[tokio::test]
async fn requests_hold_at_most_max_points_and_ask_for_details() {
    let (tsd, server) = tsd().await;
    let exporter = exporter(&format!(
        "endpoint: http://{}\nmax_points_per_request: 4",
        server.addr
    ))
    .await;
    exporter.export(gauges(10, None)).await.unwrap();
    let requests = tsd.requests.lock().unwrap().clone();
    assert_eq!(
        requests,
        [
            ("details".to_string(), 4),
            ("details".to_string(), 4),
            ("details".to_string(), 2)
        ]
    );
    assert_eq!(tsd.stored.lock().unwrap().len(), 10);
    let first = &tsd.stored.lock().unwrap()[0];
    assert_eq!(
        *first,
        json!({"metric":"sys.load","timestamp":1_700_000_000,"value":0,"tags":{"i":"0"}})
    );
}

#[tokio::test]
async fn only_the_points_that_failed_are_sent_again() {
    let (tsd, server) = tsd().await;
    let exporter = exporter(&format!("endpoint: http://{}", server.addr)).await;
    // Three points of five fail with a storage error, then two of them again.
    let mut b = MetricsBuilder::new();
    for i in 0..5i64 {
        let flaky = if i % 2 == 0 { "yes" } else { "no" };
        b.gauge("m", "").int(
            vec![key_value("i", i), key_value("flaky", flaky)],
            1_000_000_000,
            i,
        );
    }
    let batch = b.build();
    *tsd.flaky.lock().unwrap() = 5;
    let error = exporter.export(batch.clone()).await.unwrap_err();
    assert!(!error.is_permanent(), "{error}");
    assert_eq!(tsd.stored.lock().unwrap().len(), 2);
    // The helper's retry hands the same batch again: only what failed is sent.
    let error = exporter.export(batch.clone()).await.unwrap_err();
    assert!(!error.is_permanent());
    exporter.export(batch.clone()).await.unwrap();
    let sizes: Vec<usize> = tsd.requests.lock().unwrap().iter().map(|r| r.1).collect();
    assert_eq!(sizes, [5, 3, 2]);
    assert_eq!(
        tsd.stored.lock().unwrap().len(),
        5,
        "each point stored once"
    );
    // A new batch of the same content is a new batch: sent whole.
    exporter.export(gauges(2, None)).await.unwrap();
    assert_eq!(tsd.requests.lock().unwrap().last().unwrap().1, 2);
}

#[tokio::test]
async fn points_the_tsd_refuses_are_dropped_the_rest_stored() {
    let (tsd, server) = tsd().await;
    let exporter = exporter(&format!("endpoint: http://{}", server.addr)).await;
    let mut b = MetricsBuilder::new();
    b.gauge("bad.metric", "")
        .int(vec![key_value("a", "b")], 1_000_000_000, 1);
    b.gauge("good", "")
        .int(vec![key_value("a", "b")], 1_000_000_000, 1);
    exporter.export(b.build()).await.unwrap();
    assert_eq!(tsd.stored.lock().unwrap().len(), 1);
    // Nothing of the batch could be stored: a permanent error.
    let mut b = MetricsBuilder::new();
    b.gauge("bad.metric", "")
        .int(vec![key_value("a", "b")], 1_000_000_000, 1);
    tsd.script.lock().unwrap().push_back(StatusCode::FORBIDDEN);
    let error = exporter.export(b.build()).await.unwrap_err();
    assert!(error.is_permanent(), "{error}");
}

#[tokio::test]
async fn server_errors_and_throttling_are_retryable() {
    let (tsd, server) = tsd().await;
    let exporter = exporter(&format!("endpoint: http://{}", server.addr)).await;
    tsd.script
        .lock()
        .unwrap()
        .push_back(StatusCode::SERVICE_UNAVAILABLE);
    let batch = gauges(3, None);
    let error = exporter.export(batch.clone()).await.unwrap_err();
    assert!(!error.is_permanent());
    exporter.export(batch).await.unwrap();
    tsd.script
        .lock()
        .unwrap()
        .push_back(StatusCode::TOO_MANY_REQUESTS);
    let error = exporter.export(gauges(1, None)).await.unwrap_err();
    assert!(error.is_throttled());
    let down = exporter_to_closed().await;
    assert!(
        !down
            .export(gauges(1, None))
            .await
            .unwrap_err()
            .is_permanent()
    );
}

async fn exporter_to_closed() -> OpenTsdbExporter {
    exporter(&format!("endpoint: http://{}", closed_port().await)).await
}

#[tokio::test]
async fn telnet_lines_over_one_connection() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let telnet = exporter(&format!("endpoint: {addr}\nprotocol: telnet")).await;
    let reader = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut lines = BufReader::new(stream).lines();
        let mut got = Vec::new();
        while got.len() < 3 {
            got.push(lines.next_line().await.unwrap().unwrap());
        }
        got
    });
    telnet.export(gauges(2, None)).await.unwrap();
    telnet.export(gauges(1, Some(("host", "a")))).await.unwrap();
    let lines = reader.await.unwrap();
    assert_eq!(
        lines,
        [
            "put sys.load 1700000000 0 i=0",
            "put sys.load 1700000001 1 i=1",
            "put sys.load 1700000000 0 host=a i=0",
        ]
    );
    let down = exporter(&format!(
        "endpoint: {}\nprotocol: telnet",
        closed_port().await
    ))
    .await;
    assert!(
        !down
            .export(gauges(1, None))
            .await
            .unwrap_err()
            .is_permanent()
    );
}

#[test]
fn configuration() {
    let config: Config = load("endpoint: http://tsd:4242").unwrap();
    assert_eq!(config.max_points_per_request, 50);
    assert_eq!(config.protocol().unwrap(), Protocol::Http);
    assert_eq!(
        config.put_url().unwrap().as_str(),
        "http://tsd:4242/api/put?details"
    );
    let config: Config = load("endpoint: http://tsd:4242/tsdb/api/put?summary").unwrap();
    assert_eq!(
        config.put_url().unwrap().as_str(),
        "http://tsd:4242/tsdb/api/put?details"
    );
    for (yaml, key) in [
        ("{}", "endpoint"),
        ("endpoint: http://a\nprotocol: udp", "protocol"),
        (
            "endpoint: http://a\nmax_points_per_request: 0",
            "max_points_per_request",
        ),
        ("endpoint: not a url", "endpoint"),
        (
            "endpoint: tsd:4242\nprotocol: telnet\nauth: {authenticator: x}",
            "auth",
        ),
    ] {
        let error = load::<Config>(yaml).unwrap_err();
        assert!(error.to_string().contains(key), "{yaml}: {error}");
    }
    let config: Config = load("endpoint: tsd:4242\nprotocol: telnet").unwrap();
    assert!(config.validate().is_ok());
}

proptest::proptest! {
    #[test]
    fn sanitised_names_hold_only_what_a_tsd_takes(name in "\\PC{0,40}") {
        let clean = sanitize(&name);
        proptest::prop_assert_eq!(clean.chars().count(), name.chars().count());
        proptest::prop_assert!(clean.chars().all(|c| c.is_ascii_alphanumeric()
            || matches!(c, '-' | '_' | '.' | '/')
            || c.is_alphabetic()));
    }

    #[test]
    fn every_point_has_a_tag_and_a_positive_time(
        values in proptest::collection::vec(proptest::prelude::any::<i64>(), 1..20),
        time in 1u64..u64::MAX,
    ) {
        let mut b = MetricsBuilder::new();
        for v in &values {
            b.gauge("g", "").int(vec![], time, *v);
        }
        let converted = to_points(b.build().request(), false);
        proptest::prop_assert_eq!(converted.points.len() + converted.dropped, values.len());
        for point in converted.points {
            proptest::prop_assert!(!point.tags.is_empty());
            proptest::prop_assert!(point.timestamp > 0);
        }
    }
}
