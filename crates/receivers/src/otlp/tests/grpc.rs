//! OTLP/gRPC: delivery of every signal, compression, error mapping, limits, metadata and
//! the bearer token.

use std::time::Duration;

use ::http::uri::PathAndQuery;
use bytes::{Buf, BufMut, Bytes};
use prost::Message;
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;
use tonic::{Code, Status};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::pdata::Signal;
use tributary_pipeline_core::pdata::proto::collector::logs::v1::logs_service_client::LogsServiceClient;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::trace_service_client::TraceServiceClient;
use tributary_pipeline_core::pdata::proto::trace::v1::ResourceSpans;
use tributary_pipeline_core::pdata::rpc;

use super::*;

use crate::otlp::refusal::DEFAULT_THROTTLE_DELAY;

pub(super) const TRACES_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

pub(super) async fn channel(url: &str) -> Channel {
    Channel::from_shared(url.to_string())
        .expect("valid URL")
        .connect()
        .await
        .expect("connects")
}

pub(super) async fn export_traces(
    url: &str,
    request: ExportTraceServiceRequest,
) -> Result<(), Status> {
    TraceServiceClient::new(channel(url).await)
        .export(request)
        .await
        .map(|_| ())
}

/// The `RetryInfo` delay in a status's details, if any.
pub(super) fn retry_delay(status: &Status) -> Option<Duration> {
    rpc::Status::decode(status.details()).ok()?.retry_info()
}

/// Sends `message` as the raw protobuf of an `Export` call.
pub(super) async fn raw_call(
    url: &str,
    path: &'static str,
    message: Bytes,
    compression: Option<CompressionEncoding>,
) -> Result<(), Status> {
    let mut grpc = tonic::client::Grpc::new(channel(url).await);
    if let Some(encoding) = compression {
        grpc = grpc.send_compressed(encoding);
    }
    grpc.ready().await.expect("channel ready");
    grpc.unary(
        tonic::Request::new(message),
        PathAndQuery::from_static(path),
        BytesCodec,
    )
    .await
    .map(|_| ())
}

/// Sends and receives raw message bytes.
#[derive(Clone, Copy, Default)]
struct BytesCodec;

impl Codec for BytesCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = BytesCodec;
    type Decoder = BytesCodec;
    fn encoder(&mut self) -> BytesCodec {
        BytesCodec
    }
    fn decoder(&mut self) -> BytesCodec {
        BytesCodec
    }
}

impl Encoder for BytesCodec {
    type Item = Bytes;
    type Error = Status;
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for BytesCodec {
    type Item = Bytes;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

#[tokio::test]
async fn delivers_every_signal_with_every_compression() {
    let harness = Harness::start(BOTH).await;
    let url = harness.grpc_url().await;
    for compression in [
        None,
        Some(CompressionEncoding::Gzip),
        Some(CompressionEncoding::Zstd),
    ] {
        let channel = channel(&url).await;
        let mut traces_client = TraceServiceClient::new(channel.clone());
        let mut metrics_client = MetricsServiceClient::new(channel.clone());
        let mut logs_client = LogsServiceClient::new(channel);
        if let Some(encoding) = compression {
            traces_client = traces_client.send_compressed(encoding);
            metrics_client = metrics_client.send_compressed(encoding);
            logs_client = logs_client.send_compressed(encoding);
        }
        traces_client
            .export(traces(3))
            .await
            .expect("traces accepted");
        metrics_client
            .export(metrics(4))
            .await
            .expect("metrics accepted");
        logs_client.export(logs(5)).await.expect("logs accepted");
    }
    assert_eq!(harness.traces.accepted_items(), 9);
    assert_eq!(harness.metrics.accepted_items(), 12);
    assert_eq!(harness.logs.accepted_items(), 15);
    assert_eq!(harness.traces.accepted()[0].request(), &traces(3));
    assert_eq!(harness.metrics.accepted()[1].request(), &metrics(4));
    assert_eq!(harness.logs.accepted()[2].request(), &logs(5));
    assert_eq!(
        harness.counter("otelcol_receiver_accepted_spans", "grpc"),
        9
    );
    assert_eq!(
        harness.counter("otelcol_receiver_accepted_metric_points", "grpc"),
        12
    );
    assert_eq!(
        harness.counter("otelcol_receiver_accepted_log_records", "grpc"),
        15
    );
    assert_eq!(harness.counter("otelcol_receiver_refused_spans", "grpc"), 0);
    harness.shutdown().await;
}

#[tokio::test]
async fn the_payload_keeps_the_received_bytes() {
    let harness = Harness::start(BOTH).await;
    let url = harness.grpc_url().await;
    let request = traces(10);
    export_traces(&url, request.clone()).await.unwrap();
    let mut client =
        TraceServiceClient::new(channel(&url).await).send_compressed(CompressionEncoding::Gzip);
    client.export(request.clone()).await.unwrap();
    let received = harness.traces.accepted();
    assert_eq!(received.len(), 2, "one payload per request");
    for payload in received {
        assert_eq!(payload.encoded(), Bytes::from(request.encode_to_vec()));
        assert!(!payload.is_decoded(), "the receiver only checks and counts");
    }
    harness.shutdown().await;
}

#[tokio::test]
async fn pipeline_errors_map_to_their_status_codes() {
    let harness = Harness::start(BOTH).await;
    let url = harness.grpc_url().await;
    let cases = [
        (
            ConsumeError::permanent("bad data"),
            Code::InvalidArgument,
            None,
        ),
        (
            ConsumeError::retryable("backend down"),
            Code::Unavailable,
            None,
        ),
        (
            ConsumeError::retryable("backend down").with_retry_after(Some(Duration::from_secs(4))),
            Code::Unavailable,
            Some(Duration::from_secs(4)),
        ),
        (
            ConsumeError::throttled("memory limit", None),
            Code::ResourceExhausted,
            Some(DEFAULT_THROTTLE_DELAY),
        ),
        (
            ConsumeError::throttled("queue full", Some(Duration::from_millis(2500))),
            Code::ResourceExhausted,
            Some(Duration::from_millis(2500)),
        ),
    ];
    for (error, code, delay) in cases {
        harness.traces.refuse_with(Some(error.clone()));
        let status = export_traces(&url, traces(2)).await.unwrap_err();
        assert_eq!(status.code(), code, "{error}: {status:?}");
        assert_eq!(retry_delay(&status), delay, "{error}");
        assert!(status.message().contains(error.message()), "{status:?}");
        harness.traces.refuse_with(None);
        export_traces(&url, traces(1)).await.expect("still serving");
    }
    assert_eq!(
        harness.counter("otelcol_receiver_refused_spans", "grpc"),
        10
    );
    assert_eq!(
        harness.counter("otelcol_receiver_accepted_spans", "grpc"),
        5
    );
    harness.shutdown().await;
}

#[tokio::test]
async fn malformed_messages_are_invalid_arguments() {
    let harness = Harness::start(BOTH).await;
    let url = harness.grpc_url().await;
    for compression in [None, Some(CompressionEncoding::Gzip)] {
        let status = raw_call(
            &url,
            TRACES_PATH,
            Bytes::from_static(b"\x0a\xff\xff\xff\xff\x0fnot protobuf"),
            compression,
        )
        .await
        .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert!(
            status.message().contains("invalid OTLP traces protobuf"),
            "{status:?}"
        );
        export_traces(&url, traces(1)).await.expect("still serving");
    }
    assert_eq!(harness.traces.calls(), 2);
    harness.shutdown().await;
}

#[tokio::test]
async fn oversized_and_bomb_messages_are_refused() {
    let harness = Harness::start(
        "
protocols:
  grpc:
    endpoint: 127.0.0.1:0
    max_recv_msg_size_mib: 1
",
    )
    .await;
    let url = harness.grpc_url().await;

    let status = export_traces(&url, traces(20_000)).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(retry_delay(&status), None, "retrying cannot help");

    // 8 MiB of zeros compress to a few KiB, far below the limit on the wire.
    let zeros = Bytes::from(vec![0u8; 8 << 20]);
    let status = raw_call(&url, TRACES_PATH, zeros, Some(CompressionEncoding::Gzip))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");

    export_traces(&url, traces(1)).await.expect("still serving");
    assert_eq!(harness.traces.calls(), 1);
    harness.shutdown().await;
}

#[tokio::test]
async fn signals_without_a_pipeline_are_unimplemented() {
    let harness = Harness::start_signals(BOTH, &[Signal::Traces]).await;
    let url = harness.grpc_url().await;
    let status = MetricsServiceClient::new(channel(&url).await)
        .export(metrics(1))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented, "{status:?}");
    let status = raw_call(&url, "/unknown.Service/Method", Bytes::new(), None)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented, "{status:?}");
    export_traces(&url, traces(1))
        .await
        .expect("traces are served");
    harness.shutdown().await;
}

#[tokio::test]
async fn empty_requests_succeed_without_the_pipeline() {
    let harness = Harness::start(BOTH).await;
    let url = harness.grpc_url().await;
    export_traces(&url, ExportTraceServiceRequest::default())
        .await
        .unwrap();
    export_traces(
        &url,
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans::default()],
        },
    )
    .await
    .unwrap();
    raw_call(&url, TRACES_PATH, Bytes::new(), None)
        .await
        .unwrap();
    assert_eq!(harness.traces.calls(), 0);
    harness.shutdown().await;
}

#[tokio::test]
async fn metadata_travels_with_the_data_when_included() {
    for include in [true, false] {
        let harness = Harness::start(&format!(
            "
protocols:
  grpc:
    endpoint: 127.0.0.1:0
    include_metadata: {include}
"
        ))
        .await;
        let mut request = tonic::Request::new(traces(1));
        request
            .metadata_mut()
            .insert("x-tenant", "acme".parse().unwrap());
        TraceServiceClient::new(channel(&harness.grpc_url().await).await)
            .export(request)
            .await
            .unwrap();
        let received = harness.traces.accepted();
        let metadata = received[0].metadata();
        if include {
            assert_eq!(metadata.expect("metadata kept").get("x-tenant"), ["acme"]);
        } else {
            assert!(metadata.is_none());
        }
        harness.shutdown().await;
    }
}

#[tokio::test]
async fn the_bearer_token_is_required() {
    let harness = Harness::start(
        "
protocols:
  grpc:
    endpoint: 127.0.0.1:0
    auth:
      bearer_token: s3cret
",
    )
    .await;
    let url = harness.grpc_url().await;
    let status = export_traces(&url, traces(1)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    for (token, accepted) in [("Bearer wrong", false), ("Bearer s3cret", true)] {
        let mut request = tonic::Request::new(traces(1));
        request
            .metadata_mut()
            .insert("authorization", token.parse().unwrap());
        let outcome = TraceServiceClient::new(channel(&url).await)
            .export(request)
            .await;
        match outcome {
            Ok(_) => assert!(accepted, "{token} was accepted"),
            Err(status) => {
                assert!(!accepted, "{token}: {status:?}");
                assert_eq!(status.code(), Code::Unauthenticated);
            }
        }
    }
    assert_eq!(harness.traces.accepted_items(), 1);
    harness.shutdown().await;
}

#[tokio::test]
async fn connection_settings_are_applied() {
    let harness = Harness::start(
        "
protocols:
  grpc:
    endpoint: 127.0.0.1:0
    max_concurrent_streams: 4
    read_buffer_size: 1048576
    write_buffer_size: 65536
    keepalive:
      server_parameters:
        time: 100ms
        timeout: 1s
        max_connection_age: 200ms
        max_connection_age_grace: 1s
        max_connection_idle: 1m
      enforcement_policy:
        min_time: 5s
        permit_without_stream: true
",
    )
    .await;
    let url = harness.grpc_url().await;
    // The connection is asked to go away every 200ms; the client reconnects and every
    // call still succeeds.
    let mut client = TraceServiceClient::new(channel(&url).await);
    for _ in 0..8 {
        client.export(traces(1)).await.expect("accepted");
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    assert_eq!(harness.traces.accepted_items(), 8);
    harness.shutdown().await;
}

/// Sends `body` as the raw body of a traces `Export` call over a fresh HTTP/2 connection
/// and returns the gRPC status of the answer (from its headers or its trailers).
async fn raw_grpc_body(
    addr: std::net::SocketAddr,
    encoding: Option<&str>,
    body: Vec<u8>,
) -> Status {
    use http_body_util::{BodyExt, Full};
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    let mut request = ::http::Request::post(format!("http://localhost{TRACES_PATH}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    if let Some(encoding) = encoding {
        request = request.header("grpc-encoding", encoding);
    }
    let response = sender
        .send_request(request.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap();
    if let Some(status) = Status::from_header_map(response.headers()) {
        return status;
    }
    let collected = response.into_body().collect().await.unwrap();
    let trailers = collected.trailers().cloned().unwrap_or_default();
    Status::from_header_map(&trailers).expect("a grpc-status trailer")
}

/// One length-prefixed message.
fn grpc_frame(compressed: bool, message: &[u8]) -> Vec<u8> {
    let mut frame = vec![u8::from(compressed)];
    frame.extend(u32::try_from(message.len()).unwrap().to_be_bytes());
    frame.extend(message);
    frame
}

/// Issue 11, defect 6: a unary call carrying two messages was answered OK and its second
/// message silently dropped; grpc-go refuses it as a protocol violation.
#[tokio::test]
async fn unary_calls_must_carry_exactly_one_whole_message() {
    let harness = Harness::start(BOTH).await;
    let addr = harness.grpc_addr().await;
    let message = traces(3).encode_to_vec();

    let mut two = grpc_frame(false, &message);
    two.extend(grpc_frame(false, &message));
    let status = raw_grpc_body(addr, None, two).await;
    assert_eq!(status.code(), Code::Internal, "{status:?}");
    assert!(
        status.message().contains("protocol violation"),
        "{status:?}"
    );

    let mut trailing = grpc_frame(false, &message);
    trailing.push(0);
    let status = raw_grpc_body(addr, None, trailing).await;
    assert_eq!(status.code(), Code::Internal, "{status:?}");

    let whole = grpc_frame(false, &message);
    let truncated = whole[..whole.len() - 10].to_vec();
    let status = raw_grpc_body(addr, None, truncated).await;
    assert_eq!(status.code(), Code::Internal, "{status:?}");

    let status = raw_grpc_body(addr, None, Vec::new()).await;
    assert_eq!(status.code(), Code::Internal, "{status:?}");

    let status = raw_grpc_body(addr, None, grpc_frame(true, &message)).await;
    assert_eq!(
        status.code(),
        Code::Internal,
        "compressed flag without an encoding"
    );

    let status = raw_grpc_body(addr, Some("br"), grpc_frame(true, &message)).await;
    assert_eq!(status.code(), Code::Unimplemented, "{status:?}");

    assert_eq!(harness.traces.calls(), 0, "nothing reached the pipeline");
    let status = raw_grpc_body(addr, None, grpc_frame(false, &message)).await;
    assert_eq!(status.code(), Code::Ok, "{status:?}");
    assert_eq!(harness.traces.accepted_items(), 3);
    harness.shutdown().await;
}

#[tokio::test]
async fn snappy_lz4_and_zlib_messages_are_accepted() {
    use tributary_pipeline_core::configcompression::{Compression, CompressionParams, Compressor};

    let harness = Harness::start(
        "
protocols:
  grpc:
    endpoint: 127.0.0.1:0
",
    )
    .await;
    let addr = harness.grpc_addr().await;
    let message = traces(3).encode_to_vec();
    let compress = |compression, grpc: bool| {
        let mut compressor = Compressor::new(compression, &CompressionParams::default());
        if grpc {
            compressor = compressor.for_grpc();
        }
        let mut out = Vec::new();
        compressor.compress_into(&message, &mut out).unwrap();
        out
    };
    for (encoding, body) in [
        // Go's gRPC snappy codec sends the framing format; the block format is read too.
        ("snappy", compress(Compression::Snappy, true)),
        ("snappy", compress(Compression::Snappy, false)),
        ("lz4", compress(Compression::Lz4, true)),
        ("zlib", compress(Compression::Zlib, true)),
    ] {
        let status = raw_grpc_body(addr, Some(encoding), grpc_frame(true, &body)).await;
        assert_eq!(status.code(), Code::Ok, "{encoding}: {status:?}");
    }
    assert_eq!(harness.traces.accepted_items(), 12);
    harness.shutdown().await;
}
