//! OTLP/HTTP: protobuf and JSON for every signal, compression, error mapping and bodies,
//! limits, paths, CORS, metadata and the bearer token.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use prost::Message;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::pdata::Signal;
use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceResponse;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceResponse;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceResponse;
use tributary_pipeline_core::pdata::proto::metrics::v1::{metric, number_data_point};
use tributary_pipeline_core::pdata::rpc;

use super::*;

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";

/// The answer to a request: status, headers and body.
pub(super) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// An error body, read from either encoding.
#[derive(Debug)]
struct ErrorBody {
    code: i32,
    message: String,
    retry_delay: Option<Duration>,
}

impl Answer {
    /// The body as a `google.rpc.Status` in the encoding of `content_type`.
    fn error_body(&self, content_type: &str) -> ErrorBody {
        assert_eq!(self.headers[CONTENT_TYPE], content_type);
        if content_type == JSON {
            let json: serde_json::Value = serde_json::from_slice(&self.body).expect("JSON body");
            let retry_delay = json["details"][0]["retryDelay"].as_str().map(|delay| {
                Duration::from_secs_f64(delay.trim_end_matches('s').parse().expect("a duration"))
            });
            ErrorBody {
                code: json["code"].as_i64().expect("code") as i32,
                message: json["message"].as_str().expect("message").to_string(),
                retry_delay,
            }
        } else {
            let status = rpc::Status::decode(self.body.clone()).expect("protobuf body");
            ErrorBody {
                code: status.code,
                retry_delay: status.retry_info(),
                message: status.message,
            }
        }
    }
}

pub(super) async fn post_with(
    client: &reqwest::Client,
    url: &str,
    content_type: &str,
    encoding: Option<&str>,
    body: Vec<u8>,
) -> Answer {
    let mut request = client
        .post(url)
        .header(CONTENT_TYPE, content_type)
        .body(body);
    if let Some(encoding) = encoding {
        request = request.header(CONTENT_ENCODING, encoding);
    }
    let response = request.send().await.expect("request sent");
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.bytes().await.expect("body read"),
    }
}

pub(super) async fn post(url: &str, content_type: &str, body: Vec<u8>) -> Answer {
    post_with(&reqwest::Client::new(), url, content_type, None, body).await
}

/// Posts a small traces request and expects it accepted.
pub(super) async fn assert_serving(url: &str) {
    let answer = post(url, PROTOBUF, traces(1).encode_to_vec()).await;
    assert_eq!(answer.status, StatusCode::OK, "still serving");
}

/// Sends `request` over a plain TCP connection and reads the whole answer.
pub(super) async fn raw_http(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    stream.write_all(request).await.expect("request written");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// `request` in the encoding of `content_type`.
fn encode<R: Message + serde::Serialize>(request: &R, content_type: &str) -> Vec<u8> {
    if content_type == JSON {
        serde_json::to_vec(request).expect("serializable")
    } else {
        request.encode_to_vec()
    }
}

/// A `Content-Encoding` and the function producing it.
type Compression = (Option<&'static str>, fn(&[u8]) -> Vec<u8>);

#[tokio::test]
async fn delivers_every_signal_in_both_encodings_with_every_compression() {
    let harness = Harness::start(BOTH).await;
    let client = reqwest::Client::new();
    let compressions: [Compression; 6] = [
        (None, |b| b.to_vec()),
        (Some("gzip"), gzip),
        (Some("zstd"), zstd),
        (Some("deflate"), zlib),
        (Some("deflate"), raw_deflate),
        (Some("zlib"), zlib),
    ];
    for content_type in [PROTOBUF, JSON] {
        for (encoding, compress) in compressions {
            let (t, m, l) = (traces(2), metrics(3), logs(4));
            for (path, body) in [
                ("/v1/traces", encode(&t, content_type)),
                ("/v1/metrics", encode(&m, content_type)),
                ("/v1/logs", encode(&l, content_type)),
            ] {
                let url = harness.http_url(path).await;
                let answer =
                    post_with(&client, &url, content_type, encoding, compress(&body)).await;
                assert_eq!(
                    answer.status,
                    StatusCode::OK,
                    "{path} {content_type} {encoding:?}"
                );
                assert_eq!(answer.headers[CONTENT_TYPE], content_type);
                if content_type == JSON {
                    assert_eq!(&answer.body[..], b"{}");
                } else {
                    assert!(answer.body.is_empty());
                    ExportTraceServiceResponse::decode(answer.body.clone()).unwrap();
                    ExportMetricsServiceResponse::decode(answer.body.clone()).unwrap();
                    ExportLogsServiceResponse::decode(answer.body).unwrap();
                }
            }
        }
    }
    assert_eq!(harness.traces.accepted_items(), 24);
    assert_eq!(harness.metrics.accepted_items(), 36);
    assert_eq!(harness.logs.accepted_items(), 48);
    for payload in harness.traces.accepted() {
        assert_eq!(payload.request(), &traces(2));
    }
    for payload in harness.metrics.accepted() {
        assert_eq!(payload.request(), &metrics(3));
    }
    for payload in harness.logs.accepted() {
        assert_eq!(payload.request(), &logs(4));
    }
    assert_eq!(
        harness.counter("otelcol_receiver_accepted_spans", "http"),
        24
    );
    assert_eq!(
        harness.counter("otelcol_receiver_accepted_metric_points", "http"),
        36
    );
    assert_eq!(
        harness.counter("otelcol_receiver_accepted_log_records", "http"),
        48
    );
    harness.shutdown().await;
}

#[tokio::test]
async fn protobuf_payloads_keep_the_received_bytes() {
    let harness = Harness::start(BOTH).await;
    let body = traces(5).encode_to_vec();
    let url = harness.http_url("/v1/traces").await;
    post(&url, PROTOBUF, body.clone()).await;
    post_with(
        &reqwest::Client::new(),
        &url,
        PROTOBUF,
        Some("gzip"),
        gzip(&body),
    )
    .await;
    let received = harness.traces.accepted();
    assert_eq!(received.len(), 2, "one payload per request");
    for payload in received {
        assert_eq!(payload.encoded(), Bytes::from(body.clone()));
        assert!(!payload.is_decoded(), "the receiver only checks and counts");
    }
    harness.shutdown().await;
}

#[tokio::test]
async fn json_non_finite_doubles_are_kept() {
    let harness = Harness::start(BOTH).await;
    let body = r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[
        {"timeUnixNano":"1","asDouble":"NaN"},{"timeUnixNano":"2","asDouble":"-Infinity"}]}}]}]}]}"#;
    let answer = post(&harness.http_url("/v1/metrics").await, JSON, body.into()).await;
    assert_eq!(answer.status, StatusCode::OK);
    let received = harness.metrics.accepted();
    let metric = &received[0].request().resource_metrics[0].scope_metrics[0].metrics[0];
    let Some(metric::Data::Gauge(gauge)) = &metric.data else {
        panic!("a gauge");
    };
    let values: Vec<f64> = gauge
        .data_points
        .iter()
        .map(|p| match p.value {
            Some(number_data_point::Value::AsDouble(d)) => d,
            _ => panic!("a double"),
        })
        .collect();
    assert!(values[0].is_nan());
    assert_eq!(values[1], f64::NEG_INFINITY);
    harness.shutdown().await;
}

#[tokio::test]
async fn pipeline_errors_map_to_status_retry_after_and_body() {
    let harness = Harness::start(BOTH).await;
    let url = harness.http_url("/v1/logs").await;
    let cases = [
        (ConsumeError::permanent("bad data"), 400, 3, None),
        (ConsumeError::retryable("backend down"), 503, 14, None),
        (
            ConsumeError::retryable("backend down").with_retry_after(Some(Duration::from_secs(4))),
            503,
            14,
            Some(Duration::from_secs(4)),
        ),
        (
            ConsumeError::throttled("memory limit", None),
            429,
            8,
            Some(Duration::from_secs(1)),
        ),
        (
            ConsumeError::throttled("queue full", Some(Duration::from_millis(2500))),
            429,
            8,
            Some(Duration::from_millis(2500)),
        ),
    ];
    for content_type in [PROTOBUF, JSON] {
        for (error, http_status, grpc_code, delay) in &cases {
            harness.logs.refuse_with(Some(error.clone()));
            let body = encode(&logs(2), content_type);
            let answer = post(&url, content_type, body).await;
            assert_eq!(answer.status.as_u16(), *http_status, "{error}");
            let retry_after = answer.headers.get(RETRY_AFTER).map(|v| v.to_str().unwrap());
            let expected = delay.map(|d| crate::otlp::refusal::retry_after_seconds(d).to_string());
            assert_eq!(retry_after, expected.as_deref(), "{error}");
            let status = answer.error_body(content_type);
            assert_eq!(status.code, *grpc_code, "{error}");
            assert!(status.message.contains(error.message()), "{status:?}");
            assert_eq!(status.retry_delay, *delay, "{error}");
            harness.logs.refuse_with(None);
            let answer = post(&url, PROTOBUF, logs(1).encode_to_vec()).await;
            assert_eq!(answer.status, StatusCode::OK, "still serving");
        }
    }
    assert_eq!(
        harness.counter("otelcol_receiver_refused_log_records", "http"),
        20
    );
    harness.shutdown().await;
}

#[tokio::test]
async fn unreadable_requests_are_bad_requests() {
    let harness = Harness::start(BOTH).await;
    let url = harness.http_url("/v1/traces").await;
    let client = reqwest::Client::new();
    let cases: [(&str, Option<&str>, Vec<u8>, &str); 5] = [
        (
            PROTOBUF,
            None,
            b"\x0a\xff\xff\xff\xff\x0fnope".to_vec(),
            "invalid OTLP traces protobuf",
        ),
        (
            JSON,
            None,
            b"{\"resourceSpans\": [".to_vec(),
            "invalid OTLP/JSON traces request",
        ),
        (
            JSON,
            None,
            b"{\"resourceSpans\": 5}".to_vec(),
            "invalid OTLP/JSON traces request",
        ),
        (
            PROTOBUF,
            Some("gzip"),
            b"not gzip at all".to_vec(),
            "cannot decompress",
        ),
        (
            PROTOBUF,
            Some("br"),
            traces(1).encode_to_vec(),
            "unsupported Content-Encoding",
        ),
    ];
    for (content_type, encoding, body, message) in cases {
        let answer = post_with(&client, &url, content_type, encoding, body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{message}");
        let status = answer.error_body(content_type);
        assert_eq!(status.code, 3);
        assert!(status.message.contains(message), "{status:?}");
        assert_serving(&url).await;
    }
    assert_eq!(harness.traces.calls(), 5);
    harness.shutdown().await;
}

#[tokio::test]
async fn wrong_method_content_type_and_path_are_refused() {
    let harness = Harness::start_signals(BOTH, &[Signal::Traces]).await;
    let url = harness.http_url("/v1/traces").await;
    let client = reqwest::Client::new();

    let answer = post(&url, "text/plain", traces(1).encode_to_vec()).await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let response = client
        .post(&url)
        .body(traces(1).encode_to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Parameters of the media type are ignored.
    let answer = post(&url, "application/json; charset=utf-8", b"{}".to_vec()).await;
    assert_eq!(answer.status, StatusCode::OK);

    for method in [
        reqwest::Method::GET,
        reqwest::Method::PUT,
        reqwest::Method::OPTIONS,
    ] {
        let response = client.request(method.clone(), &url).send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method}"
        );
        assert_eq!(response.headers()["allow"], "POST");
    }

    for path in ["/v1/metrics", "/v1/logs", "/v1/unknown", "/"] {
        let answer = post(&harness.http_url(path).await, PROTOBUF, Vec::new()).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_serving(&url).await;
    harness.shutdown().await;
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_before_and_after_decompression() {
    let harness = Harness::start(
        "
protocols:
  http:
    endpoint: 127.0.0.1:0
    max_request_body_size: 4096
",
    )
    .await;
    let url = harness.http_url("/v1/traces").await;
    let client = reqwest::Client::new();
    let large = traces(200).encode_to_vec();
    assert!(large.len() > 4096);

    let answer = post(&url, PROTOBUF, large.clone()).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.error_body(PROTOBUF).code, 8);
    assert_serving(&url).await;

    // Compressed, the request is small; decompressed it is over the limit.
    let compressed = gzip(&large);
    assert!(compressed.len() < 4096);
    let answer = post_with(&client, &url, PROTOBUF, Some("gzip"), compressed).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_serving(&url).await;

    // A decompression bomb: 100 MiB of zeros in a few KiB.
    let bomb = zstd(&vec![0u8; 100 << 20]);
    assert!(bomb.len() < 4096, "{}", bomb.len());
    let answer = post_with(&client, &url, PROTOBUF, Some("zstd"), bomb).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_serving(&url).await;

    // Without a Content-Length, the body is cut off once it passes the limit.
    let addr = harness.http_addr().await;
    let mut request = format!(
        "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: {PROTOBUF}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for chunk in large.chunks(1000) {
        request.extend(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend(chunk);
        request.extend(b"\r\n");
    }
    request.extend(b"0\r\n\r\n");
    let answer = raw_http(addr, &request).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // Exactly at the limit is fine, one byte more is not.
    let mut at_limit = b"{}".to_vec();
    at_limit.resize(4096, b' ');
    assert_eq!(
        post(&url, JSON, at_limit.clone()).await.status,
        StatusCode::OK
    );
    at_limit.push(b' ');
    let answer = post(&url, JSON, at_limit).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.error_body(JSON).code, 8);

    assert_eq!(harness.traces.calls(), 3);
    harness.shutdown().await;
}

#[tokio::test]
async fn url_paths_are_configurable() {
    let harness = Harness::start(
        "
protocols:
  http:
    endpoint: 127.0.0.1:0
    traces_url_path: custom/traces
    metrics_url_path: /custom/metrics
    logs_url_path: /custom/logs
",
    )
    .await;
    for (path, body) in [
        ("/custom/traces", traces(1).encode_to_vec()),
        ("/custom/metrics", metrics(1).encode_to_vec()),
        ("/custom/logs", logs(1).encode_to_vec()),
    ] {
        let answer = post(&harness.http_url(path).await, PROTOBUF, body).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
    }
    let answer = post(&harness.http_url("/v1/traces").await, PROTOBUF, Vec::new()).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    harness.shutdown().await;
}

#[tokio::test]
async fn empty_requests_succeed_without_the_pipeline() {
    let harness = Harness::start(BOTH).await;
    let url = harness.http_url("/v1/traces").await;
    assert_eq!(
        post(&url, PROTOBUF, Vec::new()).await.status,
        StatusCode::OK
    );
    assert_eq!(
        post(&url, JSON, b"{}".to_vec()).await.status,
        StatusCode::OK
    );
    assert_eq!(
        post(
            &url,
            JSON,
            br#"{"resourceSpans":[{"scopeSpans":[{}]}]}"#.to_vec()
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(harness.traces.calls(), 0);
    harness.shutdown().await;
}

#[tokio::test]
async fn metadata_travels_with_the_data_when_included() {
    let harness = Harness::start(
        "
protocols:
  http:
    endpoint: 127.0.0.1:0
    include_metadata: true
",
    )
    .await;
    let response = reqwest::Client::new()
        .post(harness.http_url("/v1/logs").await)
        .header(CONTENT_TYPE, PROTOBUF)
        .header("X-Tenant", "acme")
        .body(logs(1).encode_to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let received = harness.logs.accepted();
    let metadata = received[0].metadata().expect("metadata kept");
    assert_eq!(metadata.get("x-tenant"), ["acme"]);
    assert_eq!(metadata.get("content-type"), [PROTOBUF]);
    harness.shutdown().await;
}

#[tokio::test]
async fn the_bearer_token_is_required() {
    let harness = Harness::start(
        "
protocols:
  http:
    endpoint: 127.0.0.1:0
    auth:
      bearer_token: s3cret
",
    )
    .await;
    let url = harness.http_url("/v1/traces").await;
    let client = reqwest::Client::new();
    for (token, status) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some("Bearer nope"), StatusCode::UNAUTHORIZED),
        (Some("Bearer s3cret"), StatusCode::OK),
    ] {
        let mut request = client
            .post(&url)
            .header(CONTENT_TYPE, JSON)
            .body(serde_json::to_vec(&traces(1)).unwrap());
        if let Some(token) = token {
            request = request.header("authorization", token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status, "{token:?}");
        if status == StatusCode::UNAUTHORIZED {
            assert_eq!(response.headers()["www-authenticate"], "Bearer");
            let body = response.bytes().await.unwrap();
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["code"], 16);
        }
    }
    assert_eq!(harness.traces.accepted_items(), 1);
    harness.shutdown().await;
}

#[tokio::test]
async fn cors_preflight_and_origin_headers() {
    let harness = Harness::start(
        "
protocols:
  http:
    endpoint: 127.0.0.1:0
    cors:
      allowed_origins: [\"https://*.example.com\"]
      allowed_headers: [X-Tenant]
      max_age: 7200
",
    )
    .await;
    let url = harness.http_url("/v1/traces").await;
    let client = reqwest::Client::new();
    let preflight = client
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type,x-tenant")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    let headers = preflight.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(headers["access-control-allow-methods"], "POST");
    assert_eq!(headers["access-control-max-age"], "7200");

    let response = client
        .post(&url)
        .header("origin", "https://app.example.com")
        .header(CONTENT_TYPE, PROTOBUF)
        .body(traces(1).encode_to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );

    let response = client
        .post(&url)
        .header("origin", "https://evil.test")
        .header(CONTENT_TYPE, PROTOBUF)
        .body(traces(1).encode_to_vec())
        .send()
        .await
        .unwrap();
    assert!(
        !response
            .headers()
            .contains_key("access-control-allow-origin")
    );
    harness.shutdown().await;
}

#[tokio::test]
async fn http2_clients_are_served() {
    let harness = Harness::start(BOTH).await;
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let response = client
        .post(harness.http_url("/v1/traces").await)
        .header(CONTENT_TYPE, PROTOBUF)
        .body(traces(2).encode_to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(harness.traces.accepted_items(), 2);
    harness.shutdown().await;
}

#[tokio::test]
async fn snappy_lz4_and_the_compression_algorithms_list() {
    use tributary_pipeline_core::configcompression::{Compression, CompressionParams, Compressor};

    let harness = Harness::start(
        "
protocols:
  http:
    endpoint: 127.0.0.1:0
    compression_algorithms: [snappy, x-snappy-framed, lz4]
",
    )
    .await;
    let client = reqwest::Client::new();
    let url = harness.http_url("/v1/traces").await;
    let body = encode(&traces(2), PROTOBUF);
    let compress = |compression, framed: bool| {
        let mut compressor = Compressor::new(compression, &CompressionParams::default());
        if framed {
            compressor = compressor.for_grpc();
        }
        let mut out = Vec::new();
        compressor.compress_into(&body, &mut out).unwrap();
        out
    };
    for (encoding, compressed) in [
        ("snappy", compress(Compression::Snappy, false)),
        // A framed body sent as "snappy" is recognised by its stream identifier.
        ("snappy", compress(Compression::Snappy, true)),
        ("x-snappy-framed", compress(Compression::Snappy, true)),
        ("lz4", compress(Compression::Lz4, false)),
    ] {
        let answer = post_with(&client, &url, PROTOBUF, Some(encoding), compressed).await;
        assert_eq!(answer.status, StatusCode::OK, "{encoding}");
    }
    // Not in the list: refused, naming what is accepted.
    let answer = post_with(
        &client,
        &url,
        PROTOBUF,
        Some("gzip"),
        compress(Compression::Gzip, false),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(harness.traces.accepted_items(), 8);
    harness.shutdown().await;

    let error =
        try_config("protocols: {http: {compression_algorithms: [gzip, brotli]}}").unwrap_err();
    assert!(
        error.starts_with(
            "protocols::http::compression_algorithms::1: unknown compression \"brotli\""
        ),
        "{error}"
    );
}

#[tokio::test]
async fn response_headers_and_write_timeout() {
    let harness = Harness::start(
        "
protocols:
  http:
    endpoint: 127.0.0.1:0
    write_timeout: 300ms
    response_headers:
      X-Served-By: tributary
",
    )
    .await;
    let url = harness.http_url("/v1/traces").await;
    let answer = post(&url, PROTOBUF, traces(1).encode_to_vec()).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.headers["x-served-by"], "tributary");
    let answer = post(&harness.http_url("/elsewhere").await, PROTOBUF, Vec::new()).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.headers["x-served-by"], "tributary");

    // A pipeline that does not answer within write_timeout: 503, and the connection closes.
    let gate = harness.traces.hold();
    let answer = post(&url, PROTOBUF, traces(1).encode_to_vec()).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.headers["connection"], "close");
    assert_eq!(answer.headers["x-served-by"], "tributary");
    gate.add_permits(100);
    harness.shutdown().await;
}
