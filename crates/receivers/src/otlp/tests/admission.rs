//! Admission control: requests over the in-flight byte budget are refused as throttled
//! before their bodies are read, wait while the waiting budget allows, and budget returns
//! once the pipeline answered.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame};
use hyper_util::rt::{TokioExecutor, TokioIo};
use prost::Message;
use reqwest::StatusCode;
use tonic::Code;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, KeyValue, any_value};

use super::grpc::{TRACES_PATH, export_traces, retry_delay};
use super::http::{post, raw_http};
use super::*;

/// A traces request of about `bytes` bytes.
fn traces_of_size(bytes: usize) -> ExportTraceServiceRequest {
    let mut request = traces(1);
    request.resource_spans[0].scope_spans[0].spans[0]
        .attributes
        .push(KeyValue {
            key: "padding".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue("x".repeat(bytes))),
            }),
            ..Default::default()
        });
    request
}

const ONE_MIB_BUDGET: &str = "
protocols:
  grpc:
    endpoint: 127.0.0.1:0
    max_recv_msg_size_mib: 1
  http:
    endpoint: 127.0.0.1:0
    max_request_body_size: 1048576
admission:
  request_limit_mib: 1
  waiting_limit_mib: 0
";

#[tokio::test]
async fn http_refuses_over_the_budget_without_reading_the_body() {
    let harness = Harness::start(ONE_MIB_BUDGET).await;
    let url = harness.http_url("/v1/traces").await;
    let gate = harness.traces.hold();
    let first = tokio::spawn({
        let url = url.clone();
        async move {
            post(
                &url,
                "application/x-protobuf",
                traces_of_size(700_000).encode_to_vec(),
            )
            .await
            .status
        }
    });
    eventually("the first request is in the pipeline", || {
        harness.traces.calls() == 1
    })
    .await;

    // Headers announcing 600 kB, and no body at all: the answer comes anyway.
    let answer = raw_http(
        harness.http_addr().await,
        b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n\
          Content-Length: 600000\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 1\r\n"),
        "{answer}"
    );

    // A request that fits in what is left is admitted at once.
    let small = tokio::spawn({
        let url = url.clone();
        async move {
            post(
                &url,
                "application/x-protobuf",
                traces_of_size(1000).encode_to_vec(),
            )
            .await
        }
    });
    eventually("the small request is in the pipeline", || {
        harness.traces.calls() == 2
    })
    .await;

    gate.add_permits(2);
    assert_eq!(first.await.unwrap(), StatusCode::OK);
    assert_eq!(small.await.unwrap().status, StatusCode::OK);
    // The budget came back: a large request fits again.
    gate.add_permits(1);
    let answer = post(
        &url,
        "application/x-protobuf",
        traces_of_size(700_000).encode_to_vec(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(harness.traces.calls(), 3);
    harness.shutdown().await;
}

#[tokio::test]
async fn http_requests_wait_within_the_waiting_budget() {
    let harness =
        Harness::start(&ONE_MIB_BUDGET.replace("waiting_limit_mib: 0", "waiting_limit_mib: 1"))
            .await;
    let url = harness.http_url("/v1/traces").await;
    let gate = harness.traces.hold();
    let post_large = |size: usize| {
        let url = url.clone();
        tokio::spawn(async move {
            post(
                &url,
                "application/x-protobuf",
                traces_of_size(size).encode_to_vec(),
            )
            .await
            .status
        })
    };
    let first = post_large(700_000);
    eventually("the first request is in the pipeline", || {
        harness.traces.calls() == 1
    })
    .await;
    let second = post_large(600_000);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!second.is_finished(), "the second request waits for room");
    assert_eq!(harness.traces.calls(), 1, "…before its body is decoded");

    // A third does not fit in the waiting room (600 kB wait already, 1 MiB allowed).
    let third = post(
        &url,
        "application/x-protobuf",
        traces_of_size(600_000).encode_to_vec(),
    )
    .await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS);

    gate.add_permits(1);
    assert_eq!(first.await.unwrap(), StatusCode::OK);
    eventually("the second request is in the pipeline", || {
        harness.traces.calls() == 2
    })
    .await;
    gate.add_permits(1);
    assert_eq!(second.await.unwrap(), StatusCode::OK);
    harness.shutdown().await;
}

/// A request body that sends its first bytes and then nothing, never ending.
struct StalledBody(Option<Bytes>);

impl Body for StalledBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.0.take() {
            Some(bytes) => Poll::Ready(Some(Ok(Frame::data(bytes)))),
            None => Poll::Pending,
        }
    }
}

#[tokio::test]
async fn grpc_refuses_over_the_budget_from_the_length_prefix() {
    let harness = Harness::start(ONE_MIB_BUDGET).await;
    let url = harness.grpc_url().await;
    let gate = harness.traces.hold();
    let first = tokio::spawn({
        let url = url.clone();
        async move { export_traces(&url, traces_of_size(700_000)).await }
    });
    eventually("the first call is in the pipeline", || {
        harness.traces.calls() == 1
    })
    .await;

    // Only the prefix announcing a 600 kB message is sent.
    let stream = tokio::net::TcpStream::connect(harness.grpc_addr().await)
        .await
        .unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    let mut prefix = vec![0u8];
    prefix.extend(600_000u32.to_be_bytes());
    let request = ::http::Request::post(format!("http://localhost{TRACES_PATH}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(StalledBody(Some(Bytes::from(prefix))))
        .unwrap();
    let response = tokio::time::timeout(Duration::from_secs(5), sender.send_request(request))
        .await
        .expect("answered without the message")
        .unwrap();
    let status = tonic::Status::from_header_map(response.headers()).expect("a gRPC status");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(retry_delay(&status), Some(Duration::from_secs(1)));
    assert_eq!(harness.traces.calls(), 1);

    gate.add_permits(2);
    first.await.unwrap().expect("the first call succeeds");
    export_traces(&url, traces_of_size(700_000))
        .await
        .expect("the budget came back");
    harness.shutdown().await;
}
