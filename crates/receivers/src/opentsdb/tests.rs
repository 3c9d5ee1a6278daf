//! The receiver as a client sees it: every `/api/put` answer, the telnet session, the
//! configuration, and decoders that survive any input.

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tributary_confmap::Conf;
use tributary_pipeline_core::component::{Component, ComponentConfig, Host, Kind};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::proto::metrics::v1::{metric::Data, number_data_point};
use tributary_pipeline_core::testing::{Sink, settings};

use super::receiver::OpenTsdbReceiver;
use super::*;

async fn start(sink: &Arc<Sink<Metrics>>, yaml: &str) -> (OpenTsdbReceiver, String) {
    let config: Config = Conf::from_yaml(yaml).unwrap().decode().unwrap();
    config.validate().unwrap();
    let receiver = OpenTsdbReceiver::new(
        &settings::<Metrics>(Kind::Receiver, "opentsdb"),
        &config,
        sink.next(),
    );
    receiver.start(&Host::default()).await.unwrap();
    let base = format!("http://{}", receiver.local_addr().unwrap());
    (receiver, base)
}

/// A delivered point: metric, time, value as text (`i` for integers), tags.
type Point = (String, u64, String, Vec<(String, String)>);

/// Every point the sink accepted.
fn points(sink: &Sink<Metrics>) -> Vec<Point> {
    let mut out = Vec::new();
    for batch in sink.accepted() {
        for rm in &batch.request().resource_metrics {
            for sm in &rm.scope_metrics {
                assert_eq!(sm.scope.as_ref().unwrap().name, SCOPE_NAME);
                for m in &sm.metrics {
                    let Some(Data::Gauge(gauge)) = &m.data else {
                        panic!("not a gauge: {m:?}")
                    };
                    for p in &gauge.data_points {
                        let value = match p.value {
                            Some(number_data_point::Value::AsInt(v)) => format!("{v}i"),
                            Some(number_data_point::Value::AsDouble(v)) => format!("{v}"),
                            None => panic!("no value"),
                        };
                        let tags = p
                            .attributes
                            .iter()
                            .map(|kv| {
                                let value = tributary_pipeline_core::pdata::value_text::as_string(
                                    kv.value.as_ref(),
                                );
                                (kv.key.clone(), value)
                            })
                            .collect();
                        out.push((m.name.clone(), p.time_unix_nano, value, tags));
                    }
                }
            }
        }
    }
    out
}

const GOOD: &str = r#"{"metric":"sys.cpu.nice","timestamp":1346846400,"value":18,"tags":{"host":"web01","dc":"lga"}}"#;
const BAD: &str =
    r#"{"metric":"sys.cpu.nice","timestamp":1346846400,"value":"x","tags":{"host":"web01"}}"#;

async fn put(base: &str, query: &str, body: &str) -> (StatusCode, String) {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/put{query}"))
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn all_good_answers_204_or_the_summary() {
    let sink = Sink::new();
    let (receiver, base) = start(&sink, "endpoint: 127.0.0.1:0").await;
    assert_eq!(
        put(&base, "", GOOD).await,
        (StatusCode::NO_CONTENT, String::new())
    );
    let (status, body) = put(&base, "?summary", &format!("[{GOOD},{GOOD}]")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"success":2,"failed":0})
    );
    let (status, body) = put(&base, "?details", GOOD).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"success":1,"failed":0,"errors":[]})
    );
    let points = points(&sink);
    assert_eq!(points.len(), 4);
    assert_eq!(
        points[0],
        (
            "sys.cpu.nice".to_string(),
            1_346_846_400_000_000_000,
            "18i".to_string(),
            vec![("dc".into(), "lga".into()), ("host".into(), "web01".into())]
        )
    );
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn partial_failure_answers_400_and_delivers_the_good_points() {
    let sink = Sink::new();
    let (receiver, base) = start(&sink, "endpoint: 127.0.0.1:0").await;
    let body = format!("[{GOOD},{BAD}]");
    let (status, text) = put(&base, "", &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"error":{"code":400,"message":"One or more data points had errors",
            "details":"Please see the TSD logs or append \"details\" to the put request"}})
    );
    let (status, text) = put(&base, "?summary", &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"success":1,"failed":1})
    );
    let (status, text) = put(&base, "?summary&details", &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"success":1,"failed":1,"errors":[{
            "datapoint": serde_json::from_str::<Value>(BAD).unwrap(),
            "error": "Unable to parse value to a number"}]})
    );
    assert_eq!(
        points(&sink).len(),
        3,
        "the good point of each request is delivered"
    );
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn unparsable_bodies_and_wrong_requests() {
    let sink = Sink::new();
    let (receiver, base) = start(&sink, "endpoint: 127.0.0.1:0\nmax_request_body_size: 1000").await;
    for (body, message) in [
        ("", "Missing message content"),
        ("[", "Unable to parse the given JSON"),
        ("[]", "No datapoints found in content"),
        ("\"x\"", "Unable to parse the given JSON"),
    ] {
        let (status, text) = put(&base, "?details", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let error: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(error["error"]["code"], 400);
        assert_eq!(error["error"]["message"], message, "{body}");
    }
    let client = reqwest::Client::new();
    let response = client.get(format!("{base}/api/put")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "POST");
    let response = client
        .post(format!("{base}/api/query"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = client
        .get(format!("{base}/api/version"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (status, _) = put(&base, "", &format!("[{}]", vec![GOOD; 20].join(","))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let response = client
        .post(format!("{base}/api/put"))
        .header("content-encoding", "br-nope")
        .body(GOOD)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(sink.accepted_items(), 0);
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn gzip_bodies_are_decompressed() {
    use std::io::Write;
    let sink = Sink::new();
    let (receiver, base) = start(&sink, "endpoint: 127.0.0.1:0").await;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(format!("[{GOOD},{GOOD}]").as_bytes()).unwrap();
    let response = reqwest::Client::new()
        .post(format!("{base}/api/put"))
        .header("content-encoding", "gzip")
        .body(gz.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(sink.accepted_items(), 2);
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn pipeline_refusals() {
    let sink = Sink::new();
    let (receiver, base) = start(&sink, "endpoint: 127.0.0.1:0").await;
    sink.refuse_with(Some(ConsumeError::retryable("queue full")));
    let response = reqwest::Client::new()
        .post(format!("{base}/api/put"))
        .body(GOOD)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    sink.refuse_with(Some(ConsumeError::throttled(
        "slow down",
        Some(Duration::from_secs(3)),
    )));
    let response = reqwest::Client::new()
        .post(format!("{base}/api/put"))
        .body(GOOD)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "3");
    sink.refuse_with(Some(ConsumeError::permanent("bad data")));
    let (status, text) = put(&base, "?summary", &format!("[{GOOD},{GOOD},{BAD}]")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"success":0,"failed":3})
    );
    sink.refuse_with(None);
    let _held = sink.hold();
    let (status, _) = put(&base, "?sync&sync_timeout=100", GOOD).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn telnet_session() {
    let sink = Sink::new();
    let (receiver, _) = start(
        &sink,
        "endpoint: 127.0.0.1:0\ntelnet:\n  endpoint: 127.0.0.1:0",
    )
    .await;
    let stream = tokio::net::TcpStream::connect(receiver.telnet_addr().unwrap())
        .await
        .unwrap();
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write
        .write_all(b"put sys.load 1356998400 0.5 host=a\nput sys.load 1356998400 x host=a\nput sys.load 1356998400123 7 host=b\r\nversion\n")
        .await
        .unwrap();
    assert_eq!(
        lines.next_line().await.unwrap().unwrap(),
        "put: invalid value: Invalid character 'x' in x"
    );
    assert!(
        lines
            .next_line()
            .await
            .unwrap()
            .unwrap()
            .starts_with("tributary opentsdb receiver")
    );
    write.write_all(b"frobnicate\nput m 1 1\n").await.unwrap();
    assert_eq!(
        lines.next_line().await.unwrap().unwrap(),
        "unknown command: frobnicate.  Try `help'."
    );
    assert_eq!(
        lines.next_line().await.unwrap().unwrap(),
        "put: illegal argument: not enough arguments (need least 4, got 3)"
    );
    sink.refuse_with(Some(ConsumeError::permanent("no room")));
    write.write_all(b"put m 1 1 a=b\n").await.unwrap();
    assert_eq!(
        lines.next_line().await.unwrap().unwrap(),
        "put: storage error: no room"
    );
    sink.refuse_with(None);
    // Lines before `exit` in the same read are delivered; `exit` closes.
    write.write_all(b"put m 2 2 a=b\nexit\n").await.unwrap();
    assert_eq!(
        lines.next_line().await.unwrap(),
        None,
        "exit closes the session"
    );
    let points = points(&sink);
    assert_eq!(points.len(), 3);
    assert_eq!(points[0].2, "0.5");
    assert_eq!(points[1].1, 1_356_998_400_123_000_000);
    assert_eq!(points[2].0, "m");
    receiver.shutdown().await.unwrap();
}

#[test]
fn configuration() {
    let config: Config = Conf::from_yaml("").unwrap().decode().unwrap();
    assert_eq!(config, Config::default());
    assert_eq!(config.server.endpoint, DEFAULT_ENDPOINT);
    assert_eq!(config.max_tags, 8);
    assert!(config.telnet.endpoint.is_none());
    let error = Conf::from_yaml("telnet:\n  port: 1")
        .unwrap()
        .decode::<Config>()
        .unwrap_err();
    assert!(error.to_string().contains("telnet::port"), "{error}");
    let config: Config = Conf::from_yaml("max_tags: 0").unwrap().decode().unwrap();
    assert!(
        config
            .validate()
            .unwrap_err()
            .to_string()
            .contains("max_tags")
    );
    let config: Config = Conf::from_yaml("cors: {}").unwrap().decode().unwrap();
    assert!(config.validate().is_err());
}

#[tokio::test]
async fn conformance() {
    tributary_pipeline_core::testing::check_receiver(
        factory(),
        "endpoint: 127.0.0.1:{port}\ntelnet:\n  endpoint: 127.0.0.1:{port}",
    )
    .await;
}

proptest! {
    #[test]
    fn the_put_decoder_survives_any_input(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode_put_body(&body, 8);
    }

    #[test]
    fn the_telnet_decoder_survives_any_line(line in "\\PC{0,80}") {
        let _ = parse_telnet_line(&line, 8);
        let _ = parse_telnet_line(&format!("put {line}"), 8);
    }

    #[test]
    fn well_formed_puts_round_trip(
        metric in "[a-z][a-z0-9._/-]{0,20}",
        ts in 1i64..4_294_967_295,
        value in any::<i64>(),
        tags in proptest::collection::btree_map("[a-z]{1,5}", "[a-z0-9]{1,5}", 1..8),
    ) {
        let line = format!(
            "put {metric} {ts} {value} {}",
            tags.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
        );
        let TelnetCommand::Put(point) = parse_telnet_line(&line, 8).unwrap() else {
            panic!("not a put");
        };
        prop_assert_eq!(point.value, PointValue::Int(value));
        prop_assert_eq!(point.time_unix_nano, ts as u64 * 1_000_000_000);
        prop_assert_eq!(point.tags.len(), tags.len());
    }
}

#[tokio::test]
async fn include_metadata_carries_the_headers() {
    let sink = Sink::new();
    let (receiver, base) = start(&sink, "endpoint: 127.0.0.1:0\ninclude_metadata: true").await;
    let response = reqwest::Client::new()
        .post(format!("{base}/api/put"))
        .header("X-Tenant", "blue")
        .body(GOOD)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let metadata = sink.accepted()[0].metadata().cloned().expect("metadata");
    assert_eq!(metadata.get("x-tenant"), ["blue"]);
    receiver.shutdown().await.unwrap();
}
