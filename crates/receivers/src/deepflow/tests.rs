//! Each route as a sender sees it, with every error path, and the two signals sharing one
//! listener.

use std::io::Write;
use std::sync::Arc;

use prost::Message;
use reqwest::StatusCode;
use tributary_confmap::Conf;
use tributary_pipeline_core::component::{Component, ComponentConfig, Host, Kind};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::pdata::builder::TracesBuilder;
use tributary_pipeline_core::pdata::{Metrics, Traces};
use tributary_pipeline_core::testing::{Sink, settings};
use tributary_translator_prometheus::prompb::{self, Label, Sample, TimeSeries, WriteRequest};

use super::receiver::DeepFlowReceiver;
use super::*;

struct Running {
    metrics: Arc<DeepFlowReceiver<Metrics>>,
    traces: Arc<DeepFlowReceiver<Traces>>,
    base: String,
}

impl Running {
    async fn stop(self) {
        self.metrics.shutdown().await.unwrap();
        self.traces.shutdown().await.unwrap();
    }
}

async fn start(metrics: &Arc<Sink<Metrics>>, traces: &Arc<Sink<Traces>>, yaml: &str) -> Running {
    let config: Config = Conf::from_yaml(yaml).unwrap().decode().unwrap();
    config.validate().unwrap();
    let settings = settings::<Metrics>(Kind::Receiver, "deepflow");
    let m = DeepFlowReceiver::create(&settings, &config, metrics.next()).unwrap();
    let t = DeepFlowReceiver::create(&settings, &config, traces.next()).unwrap();
    m.start(&Host::default()).await.unwrap();
    t.start(&Host::default()).await.unwrap();
    let base = format!("http://{}", m.local_addr().unwrap());
    assert_eq!(
        m.local_addr(),
        t.local_addr(),
        "one listener for both signals"
    );
    Running {
        metrics: m,
        traces: t,
        base,
    }
}

fn remote_write_body() -> Vec<u8> {
    prompb::encode_request(&WriteRequest {
        timeseries: vec![TimeSeries {
            labels: vec![
                Label::new("__name__", "node_load1"),
                Label::new("instance", "10.0.0.1:9100"),
            ],
            samples: vec![
                Sample {
                    value: 0.5,
                    timestamp: 1_700_000_000_000,
                },
                Sample {
                    value: 0.7,
                    timestamp: 1_700_000_015_000,
                },
            ],
            ..Default::default()
        }],
        ..Default::default()
    })
}

fn trace_body() -> Vec<u8> {
    let mut builder = TracesBuilder::new();
    builder.span("GET /", [1; 16], [2; 8]);
    builder.span("SELECT", [1; 16], [3; 8]);
    builder.build().request().encode_to_vec()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

async fn post(
    base: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (StatusCode, String) {
    let mut request = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn each_route_answers_200_with_an_empty_body() {
    let (metrics, traces) = (Sink::new(), Sink::new());
    let running = start(&metrics, &traces, "endpoint: 127.0.0.1:0").await;
    let base = &running.base;
    let snappy = [
        ("content-type", "application/x-protobuf"),
        ("content-encoding", "snappy"),
    ];
    assert_eq!(
        post(base, PROMETHEUS_PATH, &snappy, remote_write_body()).await,
        (StatusCode::OK, String::new())
    );
    assert_eq!(metrics.accepted_items(), 2);
    let lines = b"cpu,host=a usage_idle=97.5,usage_user=1.5 1700000000000000000\n".to_vec();
    assert_eq!(
        post(base, TELEGRAF_PATH, &[], lines.clone()).await,
        (StatusCode::OK, String::new())
    );
    assert_eq!(
        post(
            base,
            TELEGRAF_PATH,
            &[("content-encoding", "gzip")],
            gzip(&lines)
        )
        .await,
        (StatusCode::OK, String::new())
    );
    assert_eq!(metrics.accepted_items(), 6);
    let names: Vec<String> = metrics.accepted()[1]
        .records()
        .map(|(_, m)| m.name.clone())
        .collect();
    assert_eq!(names, ["cpu_usage_idle", "cpu_usage_user"]);
    let protobuf = [("content-type", "application/x-protobuf")];
    assert_eq!(
        post(base, OTEL_TRACE_PATH, &protobuf, trace_body()).await,
        (StatusCode::OK, String::new())
    );
    assert_eq!(
        post(
            base,
            OTEL_TRACE_PATH,
            &[("content-encoding", "gzip")],
            gzip(&trace_body())
        )
        .await,
        (StatusCode::OK, String::new())
    );
    assert_eq!(traces.accepted_items(), 4);
    let first = &traces.accepted()[0];
    let (_, span) = first.records().next().unwrap();
    assert_eq!(span.name, "GET /");
    running.stop().await;
}

#[tokio::test]
async fn bad_requests_get_their_status() {
    let (metrics, traces) = (Sink::new(), Sink::new());
    let running = start(
        &metrics,
        &traces,
        "endpoint: 127.0.0.1:0\nmax_request_body_size: 4096",
    )
    .await;
    let base = &running.base;
    let (status, text) = post(base, PROMETHEUS_PATH, &[], b"not snappy".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    let (status, text) = post(base, TELEGRAF_PATH, &[], b"cpu usage=\n".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    let (status, text) = post(base, OTEL_TRACE_PATH, &[], vec![0xff, 0xff, 0xff]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    assert!(text.contains("OTLP"), "{text}");
    let (status, _) = post(
        base,
        TELEGRAF_PATH,
        &[("content-encoding", "gzip")],
        b"nope".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = post(
        base,
        TELEGRAF_PATH,
        &[("content-encoding", "br")],
        b"x".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, _) = post(
        base,
        OTEL_TRACE_PATH,
        &[("content-type", "application/json")],
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, _) = post(base, TELEGRAF_PATH, &[], vec![b'a'; 5000]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // Small compressed, too large once gunzipped.
    let bomb = gzip(&vec![b'a'; 100_000]);
    let (status, _) = post(base, TELEGRAF_PATH, &[("content-encoding", "gzip")], bomb).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, _) = post(base, "/api/v1/profile/ingest", &[], b"x".to_vec()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let response = reqwest::get(format!("{base}{TELEGRAF_PATH}"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(metrics.accepted_items() + traces.accepted_items(), 0);
    running.stop().await;
}

#[tokio::test]
async fn pipeline_refusals_are_backpressure() {
    let (metrics, traces) = (Sink::new(), Sink::new());
    let running = start(&metrics, &traces, "endpoint: 127.0.0.1:0").await;
    let base = &running.base;
    let lines = b"cpu usage=1 1700000000000000000\n".to_vec();
    metrics.refuse_with(Some(ConsumeError::retryable("queue full")));
    let (status, _) = post(base, TELEGRAF_PATH, &[], lines.clone()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    metrics.refuse_with(Some(ConsumeError::throttled("memory limit", None)));
    let response = reqwest::Client::new()
        .post(format!("{base}{TELEGRAF_PATH}"))
        .body(lines.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "1");
    metrics.refuse_with(Some(ConsumeError::permanent("bad")));
    let (status, _) = post(base, TELEGRAF_PATH, &[], lines).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    traces.refuse_with(Some(ConsumeError::retryable("exporter down")));
    let (status, _) = post(base, OTEL_TRACE_PATH, &[], trace_body()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    running.stop().await;
}

#[tokio::test]
async fn a_route_without_its_pipeline_is_not_found() {
    let metrics = Sink::<Metrics>::new();
    let config = Config {
        server: tributary_pipeline_core::confighttp::HttpServerConfig::with_endpoint("127.0.0.1:0"),
    };
    let receiver = DeepFlowReceiver::create(
        &settings::<Metrics>(Kind::Receiver, "deepflow"),
        &config,
        metrics.next(),
    )
    .unwrap();
    receiver.start(&Host::default()).await.unwrap();
    let base = format!("http://{}", receiver.local_addr().unwrap());
    let (status, text) = post(&base, OTEL_TRACE_PATH, &[], trace_body()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(text.contains("traces"), "{text}");
    receiver.shutdown().await.unwrap();
}

#[test]
fn configuration() {
    let config: Config = Conf::from_yaml("").unwrap().decode().unwrap();
    assert_eq!(config.server.endpoint, DEFAULT_ENDPOINT);
    assert!(
        Conf::from_yaml("listen_port: 1")
            .unwrap()
            .decode::<Config>()
            .is_err()
    );
    let config: Config = Conf::from_yaml("cors: {}").unwrap().decode().unwrap();
    assert!(config.validate().is_err());
}

#[tokio::test]
async fn conformance() {
    tributary_pipeline_core::testing::check_receiver(factory(), "endpoint: 127.0.0.1:{port}").await;
}

#[tokio::test]
async fn include_metadata_carries_the_headers() {
    let (metrics, traces) = (Sink::new(), Sink::new());
    let running = start(
        &metrics,
        &traces,
        "endpoint: 127.0.0.1:0\ninclude_metadata: true",
    )
    .await;
    let (status, _) = post(
        &running.base,
        OTEL_TRACE_PATH,
        &[("x-tenant", "blue")],
        trace_body(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let metadata = traces.accepted()[0].metadata().cloned().expect("metadata");
    assert_eq!(metadata.get("x-tenant"), ["blue"]);
    running.stop().await;
}

#[tokio::test]
async fn a_pipeline_that_does_not_answer_in_time_is_503() {
    let (metrics, traces) = (Sink::new(), Sink::new());
    let running = start(
        &metrics,
        &traces,
        "endpoint: 127.0.0.1:0\nwrite_timeout: 200ms",
    )
    .await;
    let _held = metrics.hold();
    let (status, _) = post(
        &running.base,
        TELEGRAF_PATH,
        &[],
        b"cpu usage=1 1700000000000000000\n".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    running.stop().await;
}
