//! The receiver over real HTTP: each format, compression, every refusal, and the
//! configuration.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use tributary_pipeline_core::component::{Component, ComponentConfig, Host, Kind};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::pdata::Traces;
use tributary_pipeline_core::pdata::attributes::Attributes;
use tributary_pipeline_core::testing::{Sink, check_receiver, settings};

use super::receiver::ZipkinReceiver;
use super::*;

const V2_JSON: &str = r#"[{"traceId":"463ac35c9f6413ad48485a3953bb6124","id":"a2fb4a1d1a96d312",
  "name":"get","kind":"SERVER","timestamp":1700000000000000,"duration":100,
  "localEndpoint":{"serviceName":"api"},"tags":{"count":"3"}},
 {"traceId":"463ac35c9f6413ad48485a3953bb6124","id":"a2fb4a1d1a96d313","parentId":"a2fb4a1d1a96d312",
  "name":"db","kind":"CLIENT","timestamp":1700000000000010,"duration":50,
  "localEndpoint":{"serviceName":"api"}}]"#;

const V1_JSON: &str = r#"[{"traceId":"48485a3953bb6124","id":"0000000000000001","name":"get",
  "annotations":[{"timestamp":1,"value":"cs","endpoint":{"serviceName":"web"}},
                 {"timestamp":9,"value":"cr","endpoint":{"serviceName":"web"}}]}]"#;

fn config(yaml: &str) -> Config {
    tributary_confmap::Conf::from_yaml(yaml)
        .expect("yaml")
        .decode()
        .expect("decodes")
}

struct Running {
    receiver: ZipkinReceiver,
    sink: Arc<Sink<Traces>>,
    base: String,
    client: reqwest::Client,
}

impl Running {
    async fn start(yaml: &str) -> Running {
        // The server block at the top (the older form), unless the test nests it.
        let yaml = if yaml.contains("protocols:") {
            yaml.to_string()
        } else {
            format!("endpoint: 127.0.0.1:0\n{yaml}")
        };
        let config = config(&yaml);
        let sink = Sink::new();
        let receiver = ZipkinReceiver::new(
            &settings::<Traces>(Kind::Receiver, "zipkin"),
            &config,
            sink.next(),
        );
        receiver.start(&Host::default()).await.expect("starts");
        let base = format!("http://{}", receiver.local_addr().expect("listening"));
        Running {
            receiver,
            sink,
            base,
            client: reqwest::Client::new(),
        }
    }

    async fn post(&self, path: &str, content_type: &str, body: Vec<u8>) -> (u16, String) {
        self.send(path, &[("content-type", content_type)], body)
            .await
    }

    async fn send(&self, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> (u16, String) {
        let mut request = self.client.post(format!("{}{path}", self.base)).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("answered");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// Posts `body` as v2 JSON compressed with `encoding` (its `Content-Encoding`).
    async fn post_encoded(&self, encoding: &str, body: Vec<u8>) -> (u16, String) {
        let headers = [
            ("content-type", "application/json"),
            ("content-encoding", encoding),
        ];
        self.send("/api/v2/spans", &headers, body).await
    }
}

#[tokio::test]
async fn conformance() {
    check_receiver(factory(), "endpoint: 127.0.0.1:{port}").await;
}

#[test]
fn defaults_are_the_go_receivers() {
    let defaults = config("");
    assert_eq!(defaults.http_server().endpoint, "localhost:9411");
    assert!(!defaults.parse_string_tags);
    assert_eq!(defaults, Config::default());
    let set =
        config("endpoint: 0.0.0.0:1234\nparse_string_tags: true\nmax_request_body_size: 1000");
    assert_eq!(set.server.endpoint, "0.0.0.0:1234");
    assert!(set.parse_string_tags);
    assert_eq!(set.server.max_body_size(), 1000);
    // The Go receiver's newer form: the server block under protocols::http.
    let nested = config("protocols:\n  http:\n    endpoint: localhost:8765");
    assert_eq!(nested.http_server().endpoint, "localhost:8765");
    let bare = config("protocols:\n  http:");
    assert_eq!(bare.http_server().endpoint, "localhost:9411");
    // Both forms: protocols::http wins, as in Go.
    let both =
        config("endpoint: localhost:8766\nprotocols:\n  http:\n    endpoint: localhost:8765");
    assert_eq!(both.http_server().endpoint, "localhost:8765");
    assert_eq!(
        config("protocols: {}").http_server().endpoint,
        "localhost:9411"
    );
    let error = tributary_confmap::Conf::from_yaml("protocols:\n  udp: {}")
        .unwrap()
        .decode::<Config>()
        .unwrap_err();
    assert!(error.to_string().contains("udp"), "{error}");
    let error = tributary_confmap::Conf::from_yaml(
        "protocols:\n  http:\n    endpoint: localhost:1\n    bogus: 1",
    )
    .unwrap()
    .decode::<Config>()
    .unwrap_err();
    assert!(error.to_string().contains("bogus"), "{error}");
    let invalid = config("protocols:\n  http:\n    transport: udp");
    let error = invalid.validate().unwrap_err().to_string();
    assert!(error.starts_with("protocols::http::"), "{error}");

    let error = tributary_confmap::Conf::from_yaml("parse_strings_tags: true")
        .unwrap()
        .decode::<Config>()
        .unwrap_err();
    assert!(error.to_string().contains("parse_strings_tags"), "{error}");
}

#[tokio::test]
async fn v2_json_is_accepted_with_202() {
    let running =
        Running::start("parse_string_tags: true\nprotocols:\n  http:\n    endpoint: 127.0.0.1:0")
            .await;
    let (status, _) = running
        .post("/api/v2/spans", "application/json", V2_JSON.into())
        .await;
    assert_eq!(status, 202);
    let received = running.sink.accepted();
    assert_eq!(received.len(), 1);
    let request = received[0].request();
    let resource = &request.resource_spans[0];
    assert_eq!(
        resource
            .resource
            .as_ref()
            .unwrap()
            .attributes
            .get_str("service.name"),
        Some("api")
    );
    let spans = &resource.scope_spans[0].spans;
    assert_eq!(spans.len(), 2);
    assert_eq!(spans[0].attributes.get_int("count"), Some(3));
    assert_eq!(spans[1].parent_span_id, spans[0].span_id);
    running.receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn v2_protobuf_and_v1_json_are_accepted() {
    let running = Running::start("").await;
    let body =
        tributary_translator_zipkin::proto::encode(&[tributary_translator_zipkin::model::Span {
            trace_id: [7; 16],
            id: [1; 8],
            name: "p".into(),
            timestamp: Some(5),
            ..Default::default()
        }]);
    let (status, _) = running
        .post("/api/v2/spans", "application/x-protobuf", body)
        .await;
    assert_eq!(status, 202);
    let (status, _) = running
        .post("/api/v1/spans", "application/json", V1_JSON.into())
        .await;
    assert_eq!(status, 202);
    let received = running.sink.accepted();
    assert_eq!(received.len(), 2);
    let v1 = &received[1].request().resource_spans[0];
    assert_eq!(
        v1.resource
            .as_ref()
            .unwrap()
            .attributes
            .get_str("service.name"),
        Some("web")
    );
    assert_eq!(v1.scope_spans[0].spans[0].kind, 3); // CLIENT
    running.receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn compressed_bodies_are_decompressed() {
    let running = Running::start("").await;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(V2_JSON.as_bytes()).unwrap();
    let (status, body) = running.post_encoded("gzip", gzip.finish().unwrap()).await;
    assert_eq!(status, 202, "{body}");
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    zlib.write_all(V2_JSON.as_bytes()).unwrap();
    let (status, body) = running
        .post_encoded("deflate", zlib.finish().unwrap())
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(running.sink.accepted_items(), 4);

    let (status, body) = running.post_encoded("gzip", b"not gzip".to_vec()).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = running.post_encoded("br", V2_JSON.into()).await;
    assert_eq!(status, 400);
    assert!(body.contains("Content-Encoding"), "{body}");
    running.receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_requests_get_the_status_that_says_why_and_nothing_reaches_the_pipeline() {
    let running = Running::start("max_request_body_size: 4096").await;
    let (status, body) = running
        .post(
            "/api/v2/spans",
            "application/json",
            b"[{\"traceId\":".to_vec(),
        )
        .await;
    assert_eq!(status, 400);
    assert!(body.contains("invalid Zipkin v2 JSON"), "{body}");
    let (status, body) = running
        .post(
            "/api/v2/spans",
            "application/json",
            br#"[{"traceId":"zz","id":"1"}]"#.to_vec(),
        )
        .await;
    assert_eq!(status, 400);
    assert!(body.contains("span 0: traceId"), "{body}");
    let (status, _) = running
        .post(
            "/api/v2/spans",
            "application/x-protobuf",
            vec![0x0a, 0xff, 0x01],
        )
        .await;
    assert_eq!(status, 400);
    let (status, body) = running
        .post("/api/v1/spans", "application/x-thrift", vec![1, 2, 3])
        .await;
    assert_eq!(status, 415);
    assert!(body.contains("Thrift is not supported"), "{body}");
    let (status, _) = running
        .post("/api/v2/spans", "application/json", vec![b' '; 5000])
        .await;
    assert_eq!(status, 413);
    // A small compressed body that inflates past the limit.
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(&vec![b' '; 100_000]).unwrap();
    let (status, _) = running.post_encoded("gzip", gzip.finish().unwrap()).await;
    assert_eq!(status, 413);
    let response = running
        .client
        .get(format!("{}/api/v2/spans", running.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    assert_eq!(running.sink.calls(), 0);
    running.receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn pipeline_refusals_map_to_retryable_and_permanent_statuses() {
    let running = Running::start("").await;
    for (error, expected, retry_after) in [
        (
            ConsumeError::retryable("queue full")
                .with_retry_after(Some(Duration::from_millis(1500))),
            503,
            Some("2"),
        ),
        (ConsumeError::throttled("slow down", None), 429, None),
        (ConsumeError::permanent("never"), 400, None),
    ] {
        running.sink.refuse_with(Some(error));
        let response = running
            .client
            .post(format!("{}/api/v2/spans", running.base))
            .header("content-type", "application/json")
            .body(V2_JSON)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), expected);
        assert_eq!(
            response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap()),
            retry_after
        );
    }
    running.sink.refuse_with(None);
    let (status, _) = running
        .post("/api/v2/spans", "application/json", V2_JSON.into())
        .await;
    assert_eq!(status, 202);
    running.receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_pipeline_slower_than_write_timeout_gets_503() {
    let running = Running::start("write_timeout: 200ms").await;
    let hold = running.sink.hold();
    let (status, body) = running
        .post("/api/v2/spans", "application/json", V2_JSON.into())
        .await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("write_timeout"), "{body}");
    hold.add_permits(1000);
    running.receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn include_metadata_attaches_the_request_headers() {
    let running = Running::start("include_metadata: true").await;
    let (status, _) = running
        .send(
            "/api/v2/spans",
            &[("content-type", "application/json"), ("x-tenant", "acme")],
            V2_JSON.into(),
        )
        .await;
    assert_eq!(status, 202);
    let received = running.sink.accepted();
    let metadata = received[0].metadata().expect("metadata attached");
    assert_eq!(metadata.get("x-tenant"), ["acme"]);
    running.receiver.shutdown().await.unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The public decoder (the fuzz targets' entry point) never panics, and what it
    /// produces is bounded by what it was given.
    #[test]
    fn the_decoder_survives_arbitrary_and_mutated_bodies(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
    ) {
        let mut valid = V2_JSON.as_bytes().to_vec();
        for (index, byte) in flips {
            let at = index.index(valid.len());
            valid[at] = byte;
        }
        for input in [&body, &valid] {
            for format in [Format::V1Json, Format::V2Json, Format::V2Proto] {
                if let Ok(traces) = decode(format, input, true) {
                    prop_assert!(traces.item_count() <= input.len());
                }
            }
        }
    }
}
