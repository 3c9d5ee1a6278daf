//! The `zipkin` exporter against a real HTTP server on 127.0.0.1.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use tributary_pipeline_core::component::Host;
use tributary_pipeline_core::consumer::ErrorKind;
use tributary_pipeline_core::exporterhelper::Export;
use tributary_pipeline_core::pdata::Traces;
use tributary_pipeline_core::pdata::attributes::Attributes;

use super::config::{Config, Format};
use super::exporter::{ZipkinExporter, error_for};
use crate::testing::{fixtures, load, settings};

struct Received {
    headers: HeaderMap,
    body: Bytes,
}

/// A scripted answer: status and headers.
type Reply = (u16, Vec<(&'static str, &'static str)>);

#[derive(Default)]
struct Backend {
    replies: Mutex<VecDeque<Reply>>,
    received: Mutex<Vec<Received>>,
}

async fn handle(State(backend): State<Arc<Backend>>, headers: HeaderMap, body: Bytes) -> Response {
    let body = match headers.get("content-encoding").map(|v| v.to_str().unwrap()) {
        None => body,
        Some(name) => {
            use tributary_pipeline_core::configcompression::{Encoding, NoBudget, decompress};
            let encoding = Encoding::from_http(name).expect("a known content-encoding");
            decompress(encoding, &body, 64 << 20, &mut NoBudget)
                .expect("a decodable body")
                .into()
        }
    };
    backend
        .received
        .lock()
        .unwrap()
        .push(Received { headers, body });
    let (status, headers) = backend
        .replies
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or((202, vec![]));
    let mut response = StatusCode::from_u16(status).unwrap().into_response();
    for (name, value) in headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

async fn backend() -> (Arc<Backend>, SocketAddr) {
    let backend = Arc::new(Backend::default());
    let router = Router::new()
        .route("/api/v2/spans", axum::routing::post(handle))
        .with_state(Arc::clone(&backend));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (backend, addr)
}

async fn exporter(addr: SocketAddr, yaml: &str) -> ZipkinExporter {
    let config: Config =
        load(&format!("endpoint: http://{addr}/api/v2/spans\n{yaml}")).expect("valid config");
    let exporter = ZipkinExporter::new(&settings::<Traces>("zipkin"), &config);
    exporter.start(&Host::default()).await.expect("starts");
    exporter
}

#[test]
fn defaults_and_validation_follow_the_go_exporter() {
    let config: Config = load("endpoint: http://z:9411/api/v2/spans").unwrap();
    assert_eq!(config.format, Format::Json);
    assert_eq!(config.default_service_name, "<missing service name>");
    assert_eq!(config.timeout(), Duration::from_secs(5));
    assert_eq!(config.compression(), crate::client::Compression::None);
    assert!(config.helper().retry_on_failure.enabled);

    let error = load::<Config>("format: json").unwrap_err().to_string();
    assert!(error.contains("endpoint"), "{error}");
    let error = load::<Config>("endpoint: ftp://z/x")
        .unwrap_err()
        .to_string();
    assert!(error.contains("scheme"), "{error}");
    let error = load::<Config>("endpoint: http://z/x\nformat: thrift")
        .unwrap_err()
        .to_string();
    assert!(error.contains("format"), "{error}");
    let error = load::<Config>("endpoint: http://z/x\ndefault_servicename: a")
        .unwrap_err()
        .to_string();
    assert!(error.contains("default_servicename"), "{error}");
    let config: Config =
        load("endpoint: http://z/x\nformat: proto\ntimeout: 2s\ncompression: gzip\ndefault_service_name: svc")
            .unwrap();
    assert_eq!(config.format, Format::Proto);
    assert_eq!(config.timeout(), Duration::from_secs(2));
    assert_eq!(config.default_service_name, "svc");
}

#[tokio::test]
async fn json_bodies_are_zipkin_v2_our_receiver_reads_back() {
    let (backend, addr) = backend().await;
    let exporter = exporter(addr, "").await;
    let sent = fixtures::traces(3);
    exporter.export(sent.clone()).await.expect("exported");
    let received = std::mem::take(&mut *backend.received.lock().unwrap());
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].headers["content-type"], "application/json");
    assert!(received[0].headers.get("content-encoding").is_none());
    let json: serde_json::Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 3);
    let back = tributary_translator_zipkin::decode_v2_json(&received[0].body, true).unwrap();
    assert_eq!(back.item_count(), 3);
    let span_ids = |t: &Traces| -> Vec<Vec<u8>> {
        t.request()
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
            .map(|s| s.span_id.clone())
            .collect()
    };
    assert_eq!(span_ids(&back), span_ids(&sent));
}

#[tokio::test]
async fn proto_bodies_are_a_list_of_spans_and_compression_applies() {
    let (backend, addr) = backend().await;
    let exporter = exporter(addr, "format: proto\ncompression: gzip").await;
    exporter
        .export(fixtures::traces(2))
        .await
        .expect("exported");
    let received = std::mem::take(&mut *backend.received.lock().unwrap());
    assert_eq!(
        received[0].headers["content-type"],
        "application/x-protobuf"
    );
    assert_eq!(received[0].headers["content-encoding"], "gzip");
    let back = tributary_translator_zipkin::decode_v2_proto(&received[0].body, false).unwrap();
    assert_eq!(back.item_count(), 2);
    let resource = back.request().resource_spans[0].resource.as_ref().unwrap();
    assert!(resource.attributes.get_str("service.name").is_some());
}

#[tokio::test]
async fn answers_are_classified_retry_on_5xx_and_429_never_on_4xx() {
    let (backend, addr) = backend().await;
    let exporter = exporter(addr, "").await;
    for (status, headers, kind, delay) in [
        (
            503,
            vec![("retry-after", "7")],
            ErrorKind::Retryable,
            Some(7),
        ),
        (500, vec![], ErrorKind::Retryable, None),
        (
            429,
            vec![("retry-after", "3")],
            ErrorKind::Throttled,
            Some(3),
        ),
        (400, vec![], ErrorKind::Permanent, None),
        (404, vec![], ErrorKind::Permanent, None),
        (413, vec![], ErrorKind::Permanent, None),
    ] {
        backend.replies.lock().unwrap().push_back((status, headers));
        let error = exporter.export(fixtures::traces(1)).await.unwrap_err();
        assert_eq!(error.kind(), kind, "{status}: {error}");
        assert_eq!(
            error.retry_after(),
            delay.map(Duration::from_secs),
            "{status}"
        );
        assert!(error.message().contains(&status.to_string()), "{error}");
    }
    exporter
        .export(fixtures::traces(1))
        .await
        .expect("2xx succeeds");
}

#[tokio::test]
async fn an_unreachable_zipkin_is_retryable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let exporter = exporter(addr, "").await;
    let error = exporter.export(fixtures::traces(1)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Retryable, "{error}");
}

#[tokio::test]
async fn batches_without_valid_spans_send_nothing() {
    let (backend, addr) = backend().await;
    let exporter = exporter(addr, "").await;
    let mut traces = fixtures::traces(2);
    for resource in &mut traces.make_mut().resource_spans {
        for scope in &mut resource.scope_spans {
            for span in &mut scope.spans {
                span.span_id.clear();
            }
        }
    }
    exporter
        .export(traces)
        .await
        .expect("nothing to send is success");
    assert!(backend.received.lock().unwrap().is_empty());
}

#[test]
fn error_messages_carry_the_start_of_the_body() {
    let error = error_for(
        "http://z/api/v2/spans",
        StatusCode::BAD_REQUEST,
        &HeaderMap::new(),
        b"Expected a JSON_V2 encoded list\n",
    );
    assert!(
        error.message().ends_with("Expected a JSON_V2 encoded list"),
        "{error}"
    );
}
