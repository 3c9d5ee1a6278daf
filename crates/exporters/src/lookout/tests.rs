//! The exporter against a Lookout gateway stand-in (the end-to-end test in
//! `tests/lookout.rs` relays to a real Tributary `lookout` receiver): the body layout, the
//! relay's headers, snappy, and how each answer is classified.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tributary_pipeline_core::component::Host;
use tributary_pipeline_core::exporterhelper::Export;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::builder::{HistogramValue, MetricsBuilder, Temporality};
use tributary_pipeline_core::prelude::key_value;

use super::config::Config;
use super::exporter::LookoutExporter;
use super::factory;
use super::measurements::encode;
use crate::flat_samples::flat_samples;
use crate::testing::server::{TestServer, serve};
use crate::testing::{load, settings};

const T: u64 = 1_700_000_000_000_000_000;

fn sample() -> Metrics {
    let mut b = MetricsBuilder::new();
    b.resource(vec![key_value("app", "demo"), key_value("ip", "10.0.0.1")])
        .scope("meter", "");
    b.sum("http.requests.count", "", Temporality::Delta, true)
        .int(vec![key_value("code", "200")], T - 10_000_000_000, T, 12);
    b.gauge("http.requests.rate", "")
        .double(vec![key_value("code", "200")], T, 1.2);
    b.gauge("up", "").double(vec![], T, 1.0);
    b.gauge("bad", "").double(vec![], T, f64::NAN);
    let _ = b.histogram("latency", "", Temporality::Cumulative).point(
        vec![],
        0,
        T,
        HistogramValue::new(vec![0.1], vec![3, 4]).sum(2.5),
    );
    b.build()
}

fn measurements(body: &str) -> Vec<Value> {
    body.split('\t')
        .map(|m| serde_json::from_str(m).unwrap())
        .collect()
}

#[test]
fn samples_become_measurements() {
    let (samples, skipped) = flat_samples(&sample());
    assert_eq!(skipped, 1, "NaN has no measurement");
    let (body, count) = encode(&samples);
    assert_eq!(count, 3);
    let all = measurements(&body);
    let delta = all.iter().find(|m| m["tags"]["_type_"] == "c").unwrap();
    assert_eq!(delta["time"], 1_700_000_000_000i64);
    assert_eq!(delta["http.requests"]["count"], 12.0);
    assert_eq!(delta["tags"]["code"], "200");
    assert_eq!(delta["tags"]["app"], "demo");
    let gauges = all
        .iter()
        .find(|m| m.get("http.requests").is_some() && m["tags"].get("_type_").is_none())
        .unwrap();
    assert_eq!(gauges["http.requests"]["rate"], 1.2);
    let plain = all.iter().find(|m| m.get("up").is_some()).unwrap();
    assert_eq!(plain["up"], 1.0);
    assert_eq!(plain["latency"]["count"], 7.0);
    assert_eq!(plain["latency"]["sum"], 2.5);
}

/// A status and headers to answer with.
type Scripted = (u16, Vec<(&'static str, &'static str)>);

#[derive(Clone, Default)]
struct Gateway {
    seen: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    answers: Arc<Mutex<Vec<Scripted>>>,
}

async fn handle(State(gateway): State<Gateway>, headers: HeaderMap, body: Bytes) -> Response {
    let body = if headers
        .get("content-encoding")
        .is_some_and(|v| v == "snappy")
    {
        snap::raw::Decoder::new().decompress_vec(&body).unwrap()
    } else {
        body.to_vec()
    };
    gateway
        .seen
        .lock()
        .unwrap()
        .push((headers, String::from_utf8(body).unwrap()));
    let answer = gateway.answers.lock().unwrap().pop();
    match answer {
        None => StatusCode::OK.into_response(),
        Some((status, headers)) => {
            let mut response = StatusCode::from_u16(status).unwrap().into_response();
            for (name, value) in headers {
                response.headers_mut().insert(name, value.parse().unwrap());
            }
            response
        }
    }
}

async fn gateway() -> (Gateway, TestServer) {
    let gateway = Gateway::default();
    let router = Router::new().fallback(handle).with_state(gateway.clone());
    (gateway, serve(router, None).await)
}

async fn exporter(yaml: &str) -> LookoutExporter {
    let config: Config = load(yaml).unwrap();
    let exporter = LookoutExporter::new(&settings::<Metrics>("lookout"), &config).unwrap();
    Export::<Metrics>::start(&exporter, &Host::default())
        .await
        .unwrap();
    exporter
}

#[tokio::test]
async fn posts_snappy_measurements_with_the_relay_headers() {
    let (gateway, server) = gateway().await;
    let exporter = exporter(&format!(
        "endpoint: http://{}\nclient_ip: 10.9.9.9\nheaders: {{ X-Lookout-Token: t }}",
        server.addr
    ))
    .await;
    exporter.export(sample()).await.unwrap();
    let seen = gateway.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let (headers, body) = &seen[0];
    assert_eq!(headers["content-encoding"], "snappy");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["app"], "lookoutgateway");
    assert_eq!(headers["x-lookout-gateway"], "1");
    assert_eq!(headers["client-ip"], "10.9.9.9");
    assert_eq!(headers["x-lookout-token"], "t");
    assert_eq!(measurements(body).len(), 3);

    let plain = self::exporter(&format!(
        "endpoint: http://{}/datas\ncompression: none",
        server.addr
    ))
    .await;
    plain.export(sample()).await.unwrap();
    let seen = gateway.seen.lock().unwrap().clone();
    assert!(seen[1].0.get("content-encoding").is_none());
    assert!(seen[1].0.get("client-ip").is_none());
    assert_eq!(measurements(&seen[1].1).len(), 3);
}

#[tokio::test]
async fn answers_are_classified() {
    let (gateway, server) = gateway().await;
    let exporter = exporter(&format!("endpoint: http://{}", server.addr)).await;
    let answer = |status: u16, headers: Vec<(&'static str, &'static str)>| {
        gateway.answers.lock().unwrap().push((status, headers));
    };
    answer(403, vec![("Wait-Minutes", "5"), ("Err", "APP_NAME_NULL")]);
    let error = exporter.export(sample()).await.unwrap_err();
    assert!(error.is_throttled());
    assert_eq!(error.retry_after(), Some(Duration::from_secs(300)));
    assert!(error.message().contains("APP_NAME_NULL"), "{error:?}");
    answer(503, vec![("Retry-After", "2")]);
    let error = exporter.export(sample()).await.unwrap_err();
    assert!(!error.is_permanent());
    assert_eq!(error.retry_after(), Some(Duration::from_secs(2)));
    answer(400, vec![("Err", "measurement 1: bad")]);
    let error = exporter.export(sample()).await.unwrap_err();
    assert!(error.is_permanent());
    exporter.export(sample()).await.unwrap();
}

#[test]
fn config_defaults_and_refusals() {
    let config: Config = load("endpoint: http://gw:7200").unwrap();
    assert_eq!(config.url().unwrap().as_str(), "http://gw:7200/datas");
    assert_eq!(config.app, "lookoutgateway");
    assert_eq!(config.timeout(), Duration::from_secs(5));
    assert!(load::<Config>("").is_err(), "endpoint is required");
    let gzip = load::<Config>("endpoint: http://gw:7200\ncompression: gzip").unwrap_err();
    assert!(gzip.to_string().contains("compression"), "{gzip}");
    assert!(load::<Config>("endpoint: http://gw:7200\nclient_ip: nope").is_err());
    assert!(load::<Config>("endpoint: http://gw:7200\nwait_minutes: 1").is_err());
}

#[tokio::test]
async fn conformance() {
    tributary_pipeline_core::testing::check_exporter(
        factory(),
        "endpoint: http://127.0.0.1:{port}",
    )
    .await;
}
