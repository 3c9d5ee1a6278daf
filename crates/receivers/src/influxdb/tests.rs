//! The receiver's behaviour: the mapping of each line layout, the HTTP answers a client
//! sees, and a decoder that survives any input.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use reqwest::StatusCode;
use tributary_confmap::Conf;
use tributary_pipeline_core::component::{Component, ComponentConfig, Host, Kind};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::proto::common::v1::any_value;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    AggregationTemporality, Metric, metric::Data, number_data_point,
};
use tributary_pipeline_core::testing::{Sink, settings};

use super::receiver::InfluxDbReceiver;
use super::*;

const NOW: u64 = 42;

fn parse(body: &str) -> Metrics {
    parse_line_protocol(body.as_bytes(), Precision::Nanosecond, NOW)
        .unwrap_or_else(|e| panic!("{body:?} should parse: {e}"))
}

/// Every metric of a request, in order.
fn metrics(metrics: &Metrics) -> Vec<Metric> {
    metrics
        .request()
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| s.metrics.clone())
        .collect()
}

fn metric(batch: &Metrics, name: &str) -> Metric {
    metrics(batch)
        .into_iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no metric {name} in {batch:?}"))
}

fn string(value: &Option<tributary_pipeline_core::pdata::proto::common::v1::AnyValue>) -> String {
    match value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        other => panic!("not a string: {other:?}"),
    }
}

#[test]
fn v1_gauge_and_counter() {
    let batch = parse(
        "cpu_temp,foo=bar gauge=87.332 1000\nhttp_requests_total,method=post,code=200 counter=1027i 2000\n",
    );
    let Some(Data::Gauge(gauge)) = metric(&batch, "cpu_temp").data else {
        panic!("not a gauge")
    };
    let point = &gauge.data_points[0];
    assert_eq!(
        point.value,
        Some(number_data_point::Value::AsDouble(87.332))
    );
    assert_eq!(point.time_unix_nano, 1000);
    assert_eq!(point.attributes[0].key, "foo");
    assert_eq!(string(&point.attributes[0].value), "bar");
    let Some(Data::Sum(sum)) = metric(&batch, "http_requests_total").data else {
        panic!("not a sum")
    };
    assert!(sum.is_monotonic);
    assert_eq!(
        sum.aggregation_temporality,
        AggregationTemporality::Cumulative as i32
    );
    assert_eq!(
        sum.data_points[0].value,
        Some(number_data_point::Value::AsInt(1027))
    );
    assert_eq!(sum.data_points[0].attributes.len(), 2);
}

#[test]
fn v1_histogram_buckets_are_decumulated_and_closed() {
    let batch = parse("latency,host=a 0.5=10,0.1=4,1=12,sum=5.5,count=15 7");
    let Some(Data::Histogram(h)) = metric(&batch, "latency").data else {
        panic!("not a histogram")
    };
    let point = &h.data_points[0];
    assert_eq!(point.explicit_bounds, [0.1, 0.5, 1.0]);
    assert_eq!(point.bucket_counts, [4, 6, 2, 3]);
    assert_eq!((point.count, point.sum), (15, Some(5.5)));
}

#[test]
fn v1_histogram_needs_count_and_sum() {
    let error =
        parse_line_protocol(b"latency 0.5=10,count=3", Precision::Nanosecond, NOW).unwrap_err();
    assert!(error.message.contains("sum field not found"), "{error}");
}

#[test]
fn v2_histogram_from_bucket_lines() {
    let batch = parse(
        "prometheus,le=0.5 latency_bucket=7 9\n\
         prometheus,le=0.1 latency_bucket=3 9\n\
         prometheus latency_count=9,latency_sum=2.5 9\n\
         prometheus,host=a cpu_temp=87.5 9\n",
    );
    let Some(Data::Histogram(h)) = metric(&batch, "latency").data else {
        panic!("not a histogram")
    };
    assert_eq!(h.data_points.len(), 1);
    let point = &h.data_points[0];
    assert_eq!(point.explicit_bounds, [0.1, 0.5]);
    assert_eq!(point.bucket_counts, [3, 4, 2]);
    assert_eq!((point.count, point.sum), (9, Some(2.5)));
    let Some(Data::Gauge(g)) = metric(&batch, "cpu_temp").data else {
        panic!("not a gauge")
    };
    assert_eq!(
        g.data_points[0].value,
        Some(number_data_point::Value::AsDouble(87.5))
    );
}

#[test]
fn unknown_layout_is_one_gauge_per_numeric_field() {
    let batch = parse("mem,host=a used=3i,free=5.5,total=8u,name=\"x\",ok=true");
    let names: Vec<String> = metrics(&batch).into_iter().map(|m| m.name).collect();
    assert_eq!(names, ["mem_free", "mem_total", "mem_used"]);
    assert_eq!(batch.item_count(), 3);
    let Some(Data::Gauge(g)) = metric(&batch, "mem_used").data else {
        panic!("not a gauge")
    };
    assert_eq!(
        g.data_points[0].value,
        Some(number_data_point::Value::AsInt(3))
    );
    assert_eq!(
        g.data_points[0].time_unix_nano, NOW,
        "no timestamp: arrival time"
    );
}

#[test]
fn resource_scope_and_temporality_tags() {
    let batch = parse(
        "requests,service.name=shop,host.name=h1,otel.library.name=lib,otel.library.version=1.2,temporality=delta,route=/a counter=3 5",
    );
    let resource = &batch.request().resource_metrics[0];
    let keys: Vec<&str> = resource
        .resource
        .as_ref()
        .unwrap()
        .attributes
        .iter()
        .map(|kv| kv.key.as_str())
        .collect();
    assert_eq!(keys, ["host.name", "service.name"]);
    let scope = resource.scope_metrics[0].scope.as_ref().unwrap();
    assert_eq!(
        (scope.name.as_str(), scope.version.as_str()),
        ("lib", "1.2")
    );
    let Some(Data::Sum(sum)) = &resource.scope_metrics[0].metrics[0].data else {
        panic!("not a sum")
    };
    assert_eq!(
        sum.aggregation_temporality,
        AggregationTemporality::Delta as i32
    );
    let point = &sum.data_points[0];
    assert_eq!(point.attributes.len(), 1);
    assert_eq!(point.attributes[0].key, "route");
}

#[test]
fn statsd_start_time_and_timing() {
    let batch = parse("hits,metric_type=counter counter=3,start_time=\"2023-01-01T00:00:00Z\" 9");
    let Some(Data::Sum(sum)) = metric(&batch, "hits").data else {
        panic!("not a sum")
    };
    assert_eq!(
        sum.data_points[0].start_time_unix_nano,
        1_672_531_200_000_000_000
    );
    let batch = parse("rt,metric_type=timing mean=3,upper=9,count=4i 9");
    assert_eq!(metrics(&batch).len(), 3, "timings are plain gauges");
}

#[test]
fn precision_scales_timestamps() {
    let at = |precision, body: &str| {
        let batch = parse_line_protocol(body.as_bytes(), precision, NOW).unwrap();
        let Some(Data::Gauge(g)) = &metrics(&batch)[0].data else {
            panic!("not a gauge")
        };
        g.data_points[0].time_unix_nano
    };
    assert_eq!(at(Precision::Second, "m gauge=1 3"), 3_000_000_000);
    assert_eq!(at(Precision::Millisecond, "m gauge=1 3"), 3_000_000);
    assert_eq!(at(Precision::Microsecond, "m gauge=1 3"), 3_000);
    assert_eq!(at(Precision::Minute, "m gauge=1 3"), 180_000_000_000);
    assert_eq!(at(Precision::Hour, "m gauge=1 1"), 3_600_000_000_000);
    assert_eq!(Precision::from_v1("h"), Some(Precision::Hour));
    assert_eq!(Precision::from_v2("h"), None);
    assert_eq!(Precision::from_v2("µs"), Some(Precision::Microsecond));
    let error =
        parse_line_protocol(b"m gauge=1 9223372036854775807", Precision::Second, NOW).unwrap_err();
    assert!(error.message.contains("out of range"), "{error}");
    let error = parse_line_protocol(b"m gauge=1 -5", Precision::Nanosecond, NOW).unwrap_err();
    assert!(error.message.contains("out of range"), "{error}");
}

#[test]
fn errors_name_their_line() {
    let body = "# header\n\nok gauge=1\nweather,location=us temp=\n";
    let error = parse_line_protocol(body.as_bytes(), Precision::Nanosecond, NOW).unwrap_err();
    assert_eq!(error.line, 4, "{error}");
    let error =
        parse_line_protocol(b"a gauge=1\nb gauge=\"s\"", Precision::Nanosecond, NOW).unwrap_err();
    assert_eq!(error.line, 2);
    let error = parse_line_protocol(b"a gauge=1\n\xff", Precision::Nanosecond, NOW).unwrap_err();
    assert_eq!((error.line, error.message.as_str()), (2, "not valid UTF-8"));
    // One name, two kinds: refused as in Go.
    let error =
        parse_line_protocol(b"x gauge=1\nx counter=2", Precision::Nanosecond, NOW).unwrap_err();
    assert!(error.message.contains("conflict"), "{error}");
}

#[test]
fn escapes_and_quoted_newlines() {
    let batch =
        parse("my\\ metric,tag\\,key=a\\ b gauge=1\nlog msg=\"two\nlines\",value=2 5\nz gauge=3");
    let names: Vec<String> = metrics(&batch).into_iter().map(|m| m.name).collect();
    assert_eq!(names, ["my metric", "log_value", "z"]);
    let attribute = &metric(&batch, "my metric");
    let Some(Data::Gauge(g)) = &attribute.data else {
        panic!()
    };
    assert_eq!(g.data_points[0].attributes[0].key, "tag,key");
    assert_eq!(string(&g.data_points[0].attributes[0].value), "a b");
    let error =
        parse_line_protocol(b"a x=\"q\nline\"\nbad", Precision::Nanosecond, NOW).unwrap_err();
    assert_eq!(error.line, 3, "a quoted newline counts as a line: {error}");
}

proptest! {
    /// Any bytes: an answer, never a panic, and no more points than bytes.
    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(metrics) = parse_line_protocol(&body, Precision::Second, NOW) {
            prop_assert!(metrics.item_count() <= body.len());
        }
    }

    /// Valid lines with bytes changed: the same.
    #[test]
    fn mutated_lines_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        which in 0..4usize,
    ) {
        let seeds = [
            "weather,location=us\\ midwest temp=82.5,count=3i,ok=true,note=\"it said \\\"hi\\\"\" 1556813561098000000\n",
            "prometheus,le=0.5 latency_bucket=7 9\nprometheus latency_count=9,latency_sum=2.5 9\n",
            "latency,host=a 0.5=10,0.1=4,sum=5.5,count=15 7\nx counter=1u\n",
            "a,service.name=s,otel.library.name=l gauge=1,start_time=\"2023-01-01T00:00:00Z\"\n",
        ];
        let mut body = seeds[which].as_bytes().to_vec();
        for (index, byte) in edits {
            let at = index.index(body.len());
            body[at] = byte;
        }
        if let Ok(metrics) = parse_line_protocol(&body, Precision::Hour, NOW) {
            prop_assert!(metrics.item_count() <= body.len());
        }
    }
}

/// A started receiver on a free port, feeding `sink`.
async fn start(sink: &Arc<Sink<Metrics>>, yaml: &str) -> (InfluxDbReceiver, String) {
    let config: Config = Conf::from_yaml(yaml).unwrap().decode().unwrap();
    config.validate().unwrap();
    let receiver = InfluxDbReceiver::new(
        &settings::<Metrics>(Kind::Receiver, "influxdb"),
        &config,
        sink.next(),
    );
    receiver.start(&Host::default()).await.unwrap();
    let base = format!("http://{}", receiver.local_addr().unwrap());
    (receiver, base)
}

const LOCAL: &str = "endpoint: 127.0.0.1:0";

#[tokio::test]
async fn writes_through_both_apis_reach_the_pipeline() {
    let sink = Sink::new();
    let (receiver, base) = start(&sink, LOCAL).await;
    let client = reqwest::Client::new();
    let v1 = client
        .post(format!("{base}/write?db=x&precision=s"))
        .body("cpu_temp,host=a gauge=1.5 1700000000")
        .send()
        .await
        .unwrap();
    assert_eq!(v1.status(), StatusCode::NO_CONTENT);
    let v2 = client
        .post(format!("{base}/api/v2/write?org=o&bucket=b&precision=ms"))
        .header("Authorization", "Token t")
        .body("mem,host=a used=3i 1700000000000\nmem,host=b used=4i 1700000000000")
        .send()
        .await
        .unwrap();
    assert_eq!(v2.status(), StatusCode::NO_CONTENT);
    let received = sink.accepted();
    assert_eq!(received.len(), 2);
    let Some(Data::Gauge(g)) = &metrics(&received[0])[0].data else {
        panic!()
    };
    assert_eq!(g.data_points[0].time_unix_nano, 1_700_000_000_000_000_000);
    assert_eq!(received[1].item_count(), 2);
    let ping = client.get(format!("{base}/ping")).send().await.unwrap();
    assert_eq!(ping.status(), StatusCode::NO_CONTENT);
    let ping = client.head(format!("{base}/ping")).send().await.unwrap();
    assert_eq!(ping.status(), StatusCode::NO_CONTENT);
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn gzip_bodies_are_decompressed() {
    let sink = Sink::new();
    let (receiver, base) = start(&sink, LOCAL).await;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(b"a gauge=1\nb gauge=2\n").unwrap();
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v2/write"))
        .header("Content-Encoding", "gzip")
        .body(encoder.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(sink.accepted_items(), 2);
    let corrupt = reqwest::Client::new()
        .post(format!("{base}/api/v2/write"))
        .header("Content-Encoding", "gzip")
        .body("not gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(corrupt.status(), StatusCode::BAD_REQUEST);
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn malformed_requests_get_influxdb_errors_and_deliver_nothing() {
    let sink = Sink::new();
    let (receiver, base) = start(&sink, "endpoint: 127.0.0.1:0\nmax_request_body_size: 64").await;
    let client = reqwest::Client::new();
    let bad = client
        .post(format!("{base}/write"))
        .body("ok gauge=1\nbroken line")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let json: serde_json::Value = serde_json::from_slice(&bad.bytes().await.unwrap()).unwrap();
    assert_eq!(json["code"], "invalid");
    assert_eq!(json["line"], 2);
    assert!(
        json["message"].as_str().unwrap().starts_with("line 2: "),
        "{json}"
    );

    let status =
        |request: reqwest::RequestBuilder| async move { request.send().await.unwrap().status() };
    assert_eq!(
        status(
            client
                .post(format!("{base}/write?precision=fortnight"))
                .body("a gauge=1")
        )
        .await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        status(
            client
                .post(format!("{base}/api/v2/write?precision=h"))
                .body("a gauge=1")
        )
        .await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        status(client.get(format!("{base}/write"))).await,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        status(client.post(format!("{base}/query")).body("q")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status(client.post(format!("{base}/write")).body(vec![b'a'; 100])).await,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(
        status(
            client
                .post(format!("{base}/write"))
                .header("Content-Encoding", "br")
                .body("a gauge=1")
        )
        .await,
        StatusCode::BAD_REQUEST
    );
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&[b'#'; 10_000]).unwrap();
    let bomb = encoder.finish().unwrap();
    assert!(bomb.len() < 64);
    assert_eq!(
        status(
            client
                .post(format!("{base}/write"))
                .header("Content-Encoding", "gzip")
                .body(bomb)
        )
        .await,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(sink.calls(), 0);
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn pipeline_refusals_map_to_statuses() {
    let sink = Sink::new();
    let (receiver, base) = start(&sink, LOCAL).await;
    let client = reqwest::Client::new();
    let write = || {
        client
            .post(format!("{base}/api/v2/write"))
            .body("a gauge=1")
            .send()
    };

    sink.refuse_with(Some(ConsumeError::throttled(
        "slow down",
        Some(Duration::from_millis(1500)),
    )));
    let throttled = write().await.unwrap();
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(throttled.headers()["retry-after"], "2");

    sink.refuse_with(Some(ConsumeError::retryable("queue full")));
    assert_eq!(
        write().await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );

    sink.refuse_with(Some(ConsumeError::permanent("bad")));
    let permanent = write().await.unwrap();
    assert_eq!(permanent.status(), StatusCode::BAD_REQUEST);

    sink.refuse_with(None);
    assert_eq!(write().await.unwrap().status(), StatusCode::NO_CONTENT);
    receiver.shutdown().await.unwrap();
    receiver.shutdown().await.unwrap();
}

#[test]
fn config_defaults_and_unknown_keys() {
    let config = Config::default();
    assert_eq!(config.server.endpoint, "localhost:8086");
    let error = Conf::from_yaml("endpoint: 127.0.0.1:1\nmetrics_schema: x")
        .unwrap()
        .decode::<Config>()
        .unwrap_err();
    assert!(error.to_string().contains("metrics_schema"), "{error}");
    let cors: Config = Conf::from_yaml("cors: { allowed_origins: [\"*\"] }")
        .unwrap()
        .decode()
        .unwrap();
    assert!(cors.validate().unwrap_err().to_string().contains("cors"));
}

#[tokio::test]
async fn metadata_and_write_timeout() {
    let sink = Sink::new();
    let (receiver, base) = start(
        &sink,
        "endpoint: 127.0.0.1:0\ninclude_metadata: true\nwrite_timeout: 200ms",
    )
    .await;
    let client = reqwest::Client::new();
    let response = client
        .post(format!("{base}/write"))
        .header("X-Tenant", "blue")
        .body("a gauge=1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let metadata = sink.accepted()[0].metadata().cloned().expect("metadata");
    assert_eq!(metadata.get("x-tenant"), ["blue"]);

    let _held = sink.hold();
    let response = client
        .post(format!("{base}/write"))
        .body("a gauge=1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn conformance() {
    tributary_pipeline_core::testing::check_receiver(factory(), "endpoint: 127.0.0.1:{port}").await;
}
