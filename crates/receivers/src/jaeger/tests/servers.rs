//! The receiver's four servers against clients: tonic for gRPC, reqwest for Thrift HTTP,
//! plain UDP sockets for the agent ports. Each test starts its own receiver on
//! 127.0.0.1:0 with a recording pipeline.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::uri::PathAndQuery;
use prost::Message;
use tonic::Code;
use tonic::codec::CompressionEncoding;
use tonic::transport::Channel;
use tributary_pipeline_core::component::{Component, ComponentConfig, Host, Kind, load_config};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::pdata::rpc;
use tributary_pipeline_core::pdata::{Payload, Traces};
use tributary_pipeline_core::testing::{self, Sink, eventually};

use super::{binary_batch, binary_datagram, compact_datagram, sample_batch};
use crate::jaeger::Config;
use crate::jaeger::grpc::POST_SPANS_PATH;
use crate::jaeger::model::{Batch, PostSpansRequest, PostSpansResponse};
use crate::jaeger::receiver::REQUEST_BUDGET;
use crate::jaeger::receiver::{JaegerReceiver, Transport};

const ALL: &str = "
protocols:
  grpc: { endpoint: 127.0.0.1:0 }
  thrift_http: { endpoint: 127.0.0.1:0 }
  thrift_compact: { endpoint: 127.0.0.1:0 }
  thrift_binary: { endpoint: 127.0.0.1:0 }
";

const WAIT: Duration = Duration::from_secs(10);

struct Harness {
    receiver: JaegerReceiver,
    sink: Arc<Sink<Traces>>,
    settings: tributary_pipeline_core::component::CreateSettings,
}

impl Harness {
    async fn start(yaml: &str) -> Harness {
        let config: Config = load_config(yaml).unwrap();
        config.validate().unwrap();
        let settings = testing::settings::<Traces>(Kind::Receiver, "jaeger");
        let sink = Sink::new();
        let receiver = JaegerReceiver::new(&settings, &config, sink.next());
        receiver.start(&Host::default()).await.unwrap();
        Harness {
            receiver,
            sink,
            settings,
        }
    }

    fn addr(&self, transport: Transport) -> SocketAddr {
        self.receiver.local_addr(transport).unwrap()
    }

    fn failed(&self, transport: Transport) -> f64 {
        self.settings
            .metrics()
            .value(
                "otelcol_receiver_failed_spans",
                &[("receiver", "jaeger"), ("transport", transport.label())],
            )
            .unwrap_or(0.0)
    }

    fn span_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .sink
            .accepted()
            .iter()
            .flat_map(|traces: &Payload<_>| {
                traces
                    .request()
                    .resource_spans
                    .iter()
                    .flat_map(|r| &r.scope_spans)
                    .flat_map(|s| &s.spans)
                    .map(|s| s.name.clone())
                    .collect::<Vec<_>>()
            })
            .collect();
        names.sort();
        names
    }

    async fn stop(self) {
        self.receiver.shutdown().await.unwrap();
    }
}

async fn send_udp(to: SocketAddr, datagram: &[u8]) {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.send_to(datagram, to).await.unwrap();
}

async fn post_spans(addr: SocketAddr, request: PostSpansRequest) -> Result<(), tonic::Status> {
    post_spans_compressed(addr, request, None).await
}

async fn post_spans_compressed(
    addr: SocketAddr,
    request: PostSpansRequest,
    compression: Option<CompressionEncoding>,
) -> Result<(), tonic::Status> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    if let Some(encoding) = compression {
        grpc = grpc.send_compressed(encoding);
    }
    grpc.ready().await.unwrap();
    grpc.unary(
        tonic::Request::new(request),
        PathAndQuery::from_static(POST_SPANS_PATH),
        tonic_prost::ProstCodec::<PostSpansRequest, PostSpansResponse>::default(),
    )
    .await
    .map(|_| ())
}

async fn post_thrift(addr: SocketAddr, body: Vec<u8>, content_type: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("http://{addr}/api/traces"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn every_protocol_delivers_the_batch() {
    let harness = Harness::start(ALL).await;
    let batch = sample_batch();
    send_udp(
        harness.addr(Transport::ThriftCompact),
        &compact_datagram(&batch),
    )
    .await;
    send_udp(
        harness.addr(Transport::ThriftBinary),
        &binary_datagram(&batch),
    )
    .await;
    let response = post_thrift(
        harness.addr(Transport::ThriftHttp),
        binary_batch(&batch),
        "application/x-thrift",
    )
    .await;
    assert_eq!(response.status(), 202);
    post_spans(
        harness.addr(Transport::Grpc),
        PostSpansRequest { batch: Some(batch) },
    )
    .await
    .unwrap();
    harness.sink.wait_for_items(8, WAIT).await;
    let mut expected = ["GET /cart", "SELECT"].repeat(4);
    expected.sort();
    assert_eq!(harness.span_names(), expected);
    harness.stop().await;
}

#[tokio::test]
async fn a_malformed_datagram_is_counted_and_the_next_one_received() {
    let harness = Harness::start(ALL).await;
    let compact = harness.addr(Transport::ThriftCompact);
    send_udp(compact, b"\x82\x21\x01\x09emitBa").await;
    eventually("the malformed datagram to be counted", WAIT, || {
        (harness.failed(Transport::ThriftCompact) == 1.0).then_some(())
    })
    .await;
    send_udp(compact, &compact_datagram(&sample_batch())).await;
    harness.sink.wait_for_items(2, WAIT).await;
    // A binary datagram on the compact port is malformed there too.
    send_udp(compact, &binary_datagram(&sample_batch())).await;
    eventually("the second malformed datagram", WAIT, || {
        (harness.failed(Transport::ThriftCompact) == 2.0).then_some(())
    })
    .await;
    harness.stop().await;
}

#[tokio::test]
async fn an_oversized_datagram_is_dropped_and_counted() {
    let harness = Harness::start(
        "protocols:\n  thrift_binary: { endpoint: 127.0.0.1:0, max_packet_size: 100 }\n",
    )
    .await;
    let datagram = binary_datagram(&sample_batch());
    assert!(datagram.len() > 100);
    send_udp(harness.addr(Transport::ThriftBinary), &datagram).await;
    eventually("the long datagram to be counted", WAIT, || {
        (harness.failed(Transport::ThriftBinary) == 1.0).then_some(())
    })
    .await;
    assert_eq!(harness.sink.calls(), 0);
    harness.stop().await;
}

#[tokio::test]
async fn thrift_http_answers_bad_requests_and_refusals() {
    let harness = Harness::start(ALL).await;
    let addr = harness.addr(Transport::ThriftHttp);
    let body = binary_batch(&sample_batch());
    let response = post_thrift(addr, b"not thrift".to_vec(), "application/x-thrift").await;
    assert_eq!(response.status(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Unable to process request body")
    );
    let response = post_thrift(addr, body.clone(), "application/json").await;
    assert_eq!(response.status(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Unsupported content type")
    );
    let response = reqwest::get(format!("http://{addr}/api/traces"))
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    let response = post_thrift(addr, body.clone(), "application/vnd.apache.thrift.binary").await;
    assert_eq!(response.status(), 202);
    // A pipeline that cannot take data now: 503 with Retry-After; throttled: 429.
    harness.sink.refuse_with(Some(
        ConsumeError::retryable("backend down").with_retry_after(Some(Duration::from_secs(3))),
    ));
    let response = post_thrift(addr, body.clone(), "application/x-thrift").await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "3");
    harness
        .sink
        .refuse_with(Some(ConsumeError::throttled("slow down", None)));
    let response = post_thrift(addr, body.clone(), "application/x-thrift").await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "1");
    harness
        .sink
        .refuse_with(Some(ConsumeError::permanent("bad data")));
    let response = post_thrift(addr, body, "application/x-thrift").await;
    assert_eq!(response.status(), 400);
    harness.stop().await;
}

#[tokio::test]
async fn thrift_http_reads_compressed_bodies_within_the_limit() {
    use std::io::Write;
    let harness = Harness::start(
        "protocols:\n  thrift_http: { endpoint: 127.0.0.1:0, max_request_body_size: 2000 }\n",
    )
    .await;
    let addr = harness.addr(Transport::ThriftHttp);
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(&binary_batch(&sample_batch())).unwrap();
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/api/traces"))
        .header("content-type", "application/x-thrift")
        .header("content-encoding", "gzip")
        .body(gzip.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let response = post_thrift(addr, vec![0; 5000], "application/x-thrift").await;
    assert_eq!(response.status(), 413);
    harness.stop().await;
}

#[tokio::test]
async fn grpc_maps_errors_to_status_codes() {
    let harness = Harness::start(ALL).await;
    let addr = harness.addr(Transport::Grpc);
    let mut bad_ids = sample_batch();
    bad_ids.spans[0].trace_id = vec![1, 2, 3];
    let error = post_spans(
        addr,
        PostSpansRequest {
            batch: Some(bad_ids),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument, "{error}");
    assert_eq!(harness.failed(Transport::Grpc), 2.0);
    harness.sink.refuse_with(Some(
        ConsumeError::retryable("backend down").with_retry_after(Some(Duration::from_secs(2))),
    ));
    let error = post_spans(
        addr,
        PostSpansRequest {
            batch: Some(sample_batch()),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(error.code(), Code::Unavailable);
    let details = rpc::Status::decode(error.details()).unwrap();
    assert_eq!(details.retry_info(), Some(Duration::from_secs(2)));
    harness
        .sink
        .refuse_with(Some(ConsumeError::throttled("slow down", None)));
    let error = post_spans(
        addr,
        PostSpansRequest {
            batch: Some(sample_batch()),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(error.code(), Code::ResourceExhausted);
    harness.sink.refuse_with(None);
    // Span entries too short to hold their IDs are refused before they are decoded.
    let blank = PostSpansRequest {
        batch: Some(Batch {
            spans: vec![Default::default(); 1000],
            process: None,
        }),
    };
    let error = post_spans(addr, blank).await.unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument);
    assert!(
        error
            .message()
            .contains("cannot hold its trace and span IDs"),
        "{error}"
    );
    // An empty request succeeds without reaching the pipeline.
    post_spans(addr, PostSpansRequest { batch: None })
        .await
        .unwrap();
    post_spans(
        addr,
        PostSpansRequest {
            batch: Some(Batch::default()),
        },
    )
    .await
    .unwrap();
    assert_eq!(harness.sink.accepted_items(), 0);
    harness.stop().await;
}

#[tokio::test]
async fn datagrams_queued_at_shutdown_are_still_delivered() {
    let harness = Harness::start(
        "protocols:\n  thrift_compact: { endpoint: 127.0.0.1:0, workers: 1, queue_size: 2 }\n",
    )
    .await;
    let hold = harness.sink.hold();
    let compact = harness.addr(Transport::ThriftCompact);
    let datagram = compact_datagram(&sample_batch());
    send_udp(compact, &datagram).await;
    // The only worker holds the first datagram in the pipeline...
    eventually("the first datagram to reach the pipeline", WAIT, || {
        (harness.sink.calls() == 1).then_some(())
    })
    .await;
    // ...two more fill the queue, and a fourth finds it full: counted, dropped.
    for _ in 0..3 {
        send_udp(compact, &datagram).await;
    }
    eventually("the fourth datagram to be dropped", WAIT, || {
        (harness.failed(Transport::ThriftCompact) == 1.0).then_some(())
    })
    .await;
    let sink = Arc::clone(&harness.sink);
    let stopping = tokio::spawn(async move { harness.stop().await });
    hold.add_permits(100);
    stopping.await.unwrap();
    // The two queued datagrams were delivered before shutdown finished.
    assert_eq!(sink.accepted_items(), 6);
}

#[tokio::test]
async fn requests_over_the_admission_budget_are_throttled() {
    let harness = Harness::start(ALL).await;
    // Another request holds the whole budget.
    let admission = &harness.receiver.intake().admission;
    let mut held = admission.empty_permit();
    held.grow_by(REQUEST_BUDGET).unwrap();
    let body = binary_batch(&sample_batch());
    let response = post_thrift(
        harness.addr(Transport::ThriftHttp),
        body.clone(),
        "application/x-thrift",
    )
    .await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "1");
    let error = post_spans(
        harness.addr(Transport::Grpc),
        PostSpansRequest {
            batch: Some(sample_batch()),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(error.code(), Code::ResourceExhausted, "{error}");
    let details = rpc::Status::decode(error.details()).unwrap();
    assert_eq!(details.retry_info(), Some(Duration::from_secs(1)));
    // Once it is done, requests are admitted again, and release what they held.
    drop(held);
    for _ in 0..2 {
        let response = post_thrift(
            harness.addr(Transport::ThriftHttp),
            body.clone(),
            "application/x-thrift",
        )
        .await;
        assert_eq!(response.status(), 202);
        post_spans(
            harness.addr(Transport::Grpc),
            PostSpansRequest {
                batch: Some(sample_batch()),
            },
        )
        .await
        .unwrap();
    }
    let mut all = admission.empty_permit();
    all.grow_by(REQUEST_BUDGET).unwrap();
    harness.stop().await;
}

#[tokio::test]
async fn the_server_blocks_auth_applies_to_both_servers() {
    let harness = Harness::start(
        "protocols:\n  grpc: { endpoint: 127.0.0.1:0, auth: { bearer_token: s3cret } }\n  thrift_http: { endpoint: 127.0.0.1:0, auth: { bearer_token: s3cret } }\n",
    )
    .await;
    let http = harness.addr(Transport::ThriftHttp);
    let body = binary_batch(&sample_batch());
    assert_eq!(
        post_thrift(http, body.clone(), "application/x-thrift")
            .await
            .status(),
        401
    );
    let response = reqwest::Client::new()
        .post(format!("http://{http}/api/traces"))
        .header("content-type", "application/x-thrift")
        .header("authorization", "Bearer s3cret")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let error = post_spans(
        harness.addr(Transport::Grpc),
        PostSpansRequest {
            batch: Some(sample_batch()),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(error.code(), Code::Unauthenticated);
    assert_eq!(harness.sink.accepted_items(), 2);
    harness.stop().await;
}

#[tokio::test]
async fn thrift_http_answers_cors_preflights() {
    let harness = Harness::start(
        "protocols:\n  thrift_http:\n    endpoint: 127.0.0.1:0\n    cors: { allowed_origins: [\"https://*.example.com\"] }\n",
    )
    .await;
    let url = format!("http://{}/api/traces", harness.addr(Transport::ThriftHttp));
    let client = reqwest::Client::new();
    let preflight = client
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let response = client
        .post(&url)
        .header("origin", "https://app.example.com")
        .header("content-type", "application/x-thrift")
        .body(binary_batch(&sample_batch()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    harness.stop().await;
}

#[tokio::test]
async fn include_metadata_attaches_the_request_headers() {
    let harness = Harness::start(
        "protocols:\n  thrift_http: { endpoint: 127.0.0.1:0, include_metadata: true }\n",
    )
    .await;
    let response = reqwest::Client::new()
        .post(format!(
            "http://{}/api/traces",
            harness.addr(Transport::ThriftHttp)
        ))
        .header("content-type", "application/x-thrift")
        .header("x-tenant", "acme")
        .body(binary_batch(&sample_batch()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let received = harness.sink.accepted();
    let metadata = received[0].metadata().expect("metadata attached");
    assert_eq!(metadata.get("x-tenant"), ["acme"]);
    harness.stop().await;
}

#[tokio::test]
async fn grpc_messages_over_the_size_limit_are_refused() {
    let harness =
        Harness::start("protocols:\n  grpc: { endpoint: 127.0.0.1:0, max_recv_msg_size_mib: 1 }\n")
            .await;
    let mut batch = sample_batch();
    batch.spans[0]
        .tags
        .push(super::tag_str("big", &"x".repeat(1 << 20)));
    let error = post_spans(
        harness.addr(Transport::Grpc),
        PostSpansRequest { batch: Some(batch) },
    )
    .await
    .unwrap_err();
    assert_eq!(error.code(), Code::OutOfRange, "{error}");
    assert_eq!(harness.sink.calls(), 0);
    harness.stop().await;
}

#[tokio::test]
async fn grpc_takes_gzip_messages_and_refuses_zstd() {
    let harness = Harness::start(ALL).await;
    let addr = harness.addr(Transport::Grpc);
    let request = || PostSpansRequest {
        batch: Some(sample_batch()),
    };
    post_spans_compressed(addr, request(), Some(CompressionEncoding::Gzip))
        .await
        .unwrap();
    let error = post_spans_compressed(addr, request(), Some(CompressionEncoding::Zstd))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::Unimplemented, "{error}");
    assert_eq!(harness.sink.accepted_items(), 2);
    harness.stop().await;
}

#[test]
fn span_sizes_are_checked_on_the_wire() {
    use crate::jaeger::grpc::check_span_sizes;
    let valid = PostSpansRequest {
        batch: Some(sample_batch()),
    }
    .encode_to_vec();
    assert_eq!(check_span_sizes(&valid), Ok(()));
    let blank = PostSpansRequest {
        batch: Some(Batch {
            spans: vec![Default::default()],
            process: None,
        }),
    }
    .encode_to_vec();
    assert!(check_span_sizes(&blank).is_err());
    // Damaged framing is left to the decoder.
    assert_eq!(check_span_sizes(&valid[..valid.len() / 2]), Ok(()));
}

proptest::proptest! {
    #[test]
    fn the_span_size_check_never_panics(input in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
        let _ = crate::jaeger::grpc::check_span_sizes(&input);
    }
}

/// A body whose client never sends anything.
struct Silent;

impl http_body::Body for Silent {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
        std::task::Poll::Pending
    }
}

#[tokio::test(start_paused = true)]
async fn a_grpc_message_that_does_not_arrive_in_time_is_refused() {
    use http_body_util::BodyExt;
    let body = crate::jaeger::grpc::BoundedBody::new(Silent, Duration::from_secs(60));
    let Err(error) = body.collect().await else {
        panic!("a silent body ended");
    };
    assert_eq!(error.code(), Code::DeadlineExceeded);
}

#[tokio::test]
async fn the_receiver_passes_the_conformance_suite() {
    testing::check_receiver(
        crate::jaeger::factory(),
        "protocols:\n  grpc: { endpoint: \"127.0.0.1:{port}\" }\n  thrift_http: { endpoint: \"127.0.0.1:{port}\" }\n  thrift_compact: { endpoint: \"127.0.0.1:{port}\" }\n  thrift_binary: { endpoint: \"127.0.0.1:{port}\" }\n",
    )
    .await;
}
