//! The receiver's behaviour: the answers a remote-write client sees, what reaches the
//! pipeline, and a decoder that survives any input.

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use reqwest::StatusCode;
use tributary_confmap::Conf;
use tributary_pipeline_core::component::{Component, ComponentConfig, Host, Kind};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::proto::metrics::v1::metric::Data;
use tributary_pipeline_core::testing::{Sink, settings};
use tributary_translator_prometheus::prompb::{
    self, Label, MetricMetadata, MetricType, Sample, TimeSeries, WriteRequest,
};

use super::receiver::RemoteWriteReceiver;
use super::*;

fn series(name: &str, extra: &[(&str, &str)], value: f64, timestamp: i64) -> TimeSeries {
    let mut labels = vec![Label::new("__name__", name)];
    labels.extend(extra.iter().map(|(k, v)| Label::new(*k, *v)));
    labels.sort();
    TimeSeries {
        labels,
        samples: vec![Sample { value, timestamp }],
        ..Default::default()
    }
}

fn now_ms() -> i64 {
    (tributary_pipeline_core::pdata::builder::now_unix_nano() / 1_000_000) as i64
}

fn body() -> Vec<u8> {
    let t = now_ms();
    prompb::encode_request(&WriteRequest {
        timeseries: vec![
            series("up", &[("job", "node"), ("instance", "h:9100")], 1.0, t),
            series(
                "http_requests_total",
                &[("job", "node"), ("code", "200")],
                5.0,
                t,
            ),
        ],
        metadata: vec![MetricMetadata {
            r#type: MetricType::Counter as i32,
            metric_family_name: "http_requests_total".into(),
            help: "requests".into(),
            unit: String::new(),
        }],
    })
}

/// A started receiver on a free port, feeding `sink`.
async fn start(sink: &Arc<Sink<Metrics>>, yaml: &str) -> (RemoteWriteReceiver, String) {
    let config: Config = Conf::from_yaml(yaml).unwrap().decode().unwrap();
    config.validate().unwrap();
    let receiver = RemoteWriteReceiver::new(
        &settings::<Metrics>(Kind::Receiver, "prometheusremotewrite"),
        &config,
        sink.next(),
    );
    receiver.start(&Host::default()).await.unwrap();
    let base = format!("http://{}", receiver.local_addr().unwrap());
    (receiver, base)
}

const LOCAL: &str = "endpoint: 127.0.0.1:0";

fn post(client: &reqwest::Client, base: &str, body: Vec<u8>) -> reqwest::RequestBuilder {
    client
        .post(format!("{base}{WRITE_PATH}"))
        .header("Content-Encoding", "snappy")
        .header("Content-Type", "application/x-protobuf")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .body(body)
}

#[tokio::test]
async fn a_write_reaches_the_pipeline_with_204() {
    let sink = Sink::new();
    let (receiver, base) = start(&sink, LOCAL).await;
    let client = reqwest::Client::new();
    let response = post(&client, &base, body()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let accepted = sink.accepted();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].item_count(), 2);
    let metrics: Vec<_> = accepted[0]
        .request()
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .collect();
    let counter = metrics
        .iter()
        .find(|m| m.name == "http_requests_total")
        .unwrap();
    assert!(matches!(&counter.data, Some(Data::Sum(s)) if s.is_monotonic));
    assert_eq!(counter.description, "requests");
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn malformed_bodies_and_wrong_types_are_refused() {
    let sink = Sink::new();
    let (receiver, base) = start(&sink, "endpoint: 127.0.0.1:0\nmax_request_body_size: 4096").await;
    let client = reqwest::Client::new();

    let not_snappy = post(&client, &base, b"\xffnot snappy".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(not_snappy.status(), StatusCode::BAD_REQUEST);
    assert!(not_snappy.text().await.unwrap().contains("snappy"));

    let not_protobuf = post(&client, &base, prompb::snappy_compress(b"\xff\xff\xff\xff"))
        .send()
        .await
        .unwrap();
    assert_eq!(not_protobuf.status(), StatusCode::BAD_REQUEST);

    // A 3 KiB body announcing 64 KiB decompressed: refused before allocating.
    let bomb = prompb::snappy_compress(&vec![0u8; 1 << 16]);
    assert!(bomb.len() < 4096);
    let response = post(&client, &base, bomb).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let json = client
        .post(format!("{base}{WRITE_PATH}"))
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let v2 = client
        .post(format!("{base}{WRITE_PATH}"))
        .header("Content-Encoding", "snappy")
        .header(
            "Content-Type",
            "application/x-protobuf;proto=io.prometheus.write.v2.Request",
        )
        .body(body())
        .send()
        .await
        .unwrap();
    assert_eq!(v2.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let gzip = client
        .post(format!("{base}{WRITE_PATH}"))
        .header("Content-Encoding", "gzip")
        .header("Content-Type", "application/x-protobuf")
        .body(body())
        .send()
        .await
        .unwrap();
    assert_eq!(gzip.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let get = client
        .get(format!("{base}{WRITE_PATH}"))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
    let elsewhere = client
        .post(format!("{base}/write"))
        .body(body())
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);

    let big = client
        .post(format!("{base}{WRITE_PATH}"))
        .body(vec![0u8; 8192])
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);

    assert!(
        sink.accepted().is_empty(),
        "nothing of a refused request is delivered"
    );
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn pipeline_refusals_map_to_statuses() {
    let sink = Sink::new();
    let (receiver, base) = start(&sink, LOCAL).await;
    let client = reqwest::Client::new();

    sink.refuse_with(Some(ConsumeError::throttled(
        "slow down",
        Some(Duration::from_millis(1500)),
    )));
    let throttled = post(&client, &base, body()).send().await.unwrap();
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(throttled.headers()["retry-after"], "2");

    sink.refuse_with(Some(ConsumeError::retryable("queue full")));
    let unavailable = post(&client, &base, body()).send().await.unwrap();
    assert_eq!(unavailable.status(), StatusCode::SERVICE_UNAVAILABLE);

    sink.refuse_with(Some(ConsumeError::permanent("bad")));
    let permanent = post(&client, &base, body()).send().await.unwrap();
    assert_eq!(permanent.status(), StatusCode::BAD_REQUEST);

    sink.refuse_with(None);
    let ok = post(&client, &base, body()).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    receiver.shutdown().await.unwrap();
}

#[test]
fn old_samples_are_dropped_by_time_threshold() {
    let t = now_ms();
    let body = prompb::encode_request(&WriteRequest {
        timeseries: vec![TimeSeries {
            labels: vec![Label::new("__name__", "g")],
            samples: vec![
                Sample {
                    value: 1.0,
                    timestamp: t - 25 * 3600 * 1000,
                },
                Sample {
                    value: 2.0,
                    timestamp: t,
                },
            ],
            ..Default::default()
        }],
        ..Default::default()
    });
    let decoded = decode_write_request(&body, 1 << 20, t - 24 * 3600 * 1000).unwrap();
    assert_eq!(decoded.dropped, 1);
    assert_eq!(decoded.metrics.item_count(), 1);
}

#[test]
fn config_defaults_and_unknown_keys() {
    let config = Config::default();
    assert_eq!(config.server.endpoint, "localhost:19291");
    assert_eq!(config.time_threshold, 24);
    let error = Conf::from_yaml("endpoint: 127.0.0.1:1\nthreshold: 3")
        .unwrap()
        .decode::<Config>()
        .unwrap_err();
    assert!(error.to_string().contains("threshold"), "{error}");
    let zero: Config = Conf::from_yaml("time_threshold: 0")
        .unwrap()
        .decode()
        .unwrap();
    assert!(
        zero.validate()
            .unwrap_err()
            .to_string()
            .contains("time_threshold")
    );
}

#[tokio::test]
async fn conformance() {
    tributary_pipeline_core::testing::check_receiver(factory(), "endpoint: 127.0.0.1:{port}").await;
}

proptest! {
    /// Arbitrary bytes: metrics or an error, never a panic; never more points than the
    /// decompressed body has bytes.
    #[test]
    fn the_decoder_survives_arbitrary_bytes(body in proptest::collection::vec(any::<u8>(), 0..1024)) {
        if let Ok(decoded) = decode_write_request(&body, 1 << 16, i64::MIN) {
            prop_assert!(decoded.metrics.item_count() <= 1 << 16);
        }
    }

    /// Valid requests with bytes changed: metrics or an error, never a panic.
    #[test]
    fn the_decoder_survives_mutated_requests(
        values in proptest::collection::vec(any::<f64>(), 1..16),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let request = WriteRequest {
            timeseries: values.iter().enumerate().map(|(i, v)| {
                let le = format!("{i}");
                series(if i % 3 == 0 { "h_bucket" } else { "g" }, &[("le", le.as_str())], *v, i as i64)
            }).collect(),
            ..Default::default()
        };
        let mut body = prompb::encode_request(&request);
        for (index, byte) in flips {
            let at = index.index(body.len());
            body[at] ^= byte;
        }
        if let Ok(decoded) = decode_write_request(&body, 1 << 16, i64::MIN) {
            prop_assert!(decoded.metrics.item_count() <= body.len() * 8 + 16);
        }
    }
}
