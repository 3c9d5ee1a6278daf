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
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, KeyValue, any_value};

use super::grpc::{TRACES_PATH, export_traces};
use super::http::{Answer, post};
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

/// Posts a traces request of about `bytes` bytes over HTTP on a task of its own.
fn post_traces_in_background(url: &str, bytes: usize) -> tokio::task::JoinHandle<Answer> {
    let url = url.to_string();
    tokio::spawn(async move {
        post(
            &url,
            "application/x-protobuf",
            traces_of_size(bytes).encode_to_vec(),
        )
        .await
    })
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
async fn http_refuses_over_the_budget_once_its_bytes_do_not_fit() {
    let harness = Harness::start(ONE_MIB_BUDGET).await;
    let url = harness.http_url("/v1/traces").await;
    let gate = harness.traces.hold();
    let first = post_traces_in_background(&url, 700_000);
    eventually("the first request is in the pipeline", || {
        harness.traces.calls() == 1
    })
    .await;

    // 600 kB more do not fit in what is left: refused as throttled once they arrive.
    let answer = post(
        &url,
        "application/x-protobuf",
        traces_of_size(600_000).encode_to_vec(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(answer.headers["retry-after"], "1");
    assert_eq!(
        harness.traces.calls(),
        1,
        "the refused request never reached the pipeline"
    );

    // A request that fits in what is left is admitted at once.
    let small = post_traces_in_background(&url, 1000);
    eventually("the small request is in the pipeline", || {
        harness.traces.calls() == 2
    })
    .await;

    gate.add_permits(2);
    assert_eq!(first.await.unwrap().status, StatusCode::OK);
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
async fn http_requests_wait_for_room_within_the_waiting_budget() {
    let harness = Harness::start(
        &ONE_MIB_BUDGET
            .replace("waiting_limit_mib: 0", "waiting_limit_mib: 1")
            .replace("request_limit_mib: 1", "request_limit_mib: 2")
            .replace(
                "max_request_body_size: 1048576",
                "max_request_body_size: 2097152",
            ),
    )
    .await;
    let url = harness.http_url("/v1/traces").await;
    let gate = harness.traces.hold();
    // The first request takes the whole budget.
    let first = post_traces_in_background(&url, 2_090_000);
    for _ in 0..500 {
        if harness.traces.calls() == 1 || first.is_finished() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        !first.is_finished(),
        "{:?}",
        first.await.map(|answer| answer.status)
    );
    let second = post_traces_in_background(&url, 10_000);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!second.is_finished(), "the second request waits for room");
    assert_eq!(harness.traces.calls(), 1, "…before its body is decoded");

    gate.add_permits(1);
    assert_eq!(first.await.unwrap().status, StatusCode::OK);
    eventually("the second request is in the pipeline", || {
        harness.traces.calls() == 2
    })
    .await;
    gate.add_permits(1);
    assert_eq!(second.await.unwrap().status, StatusCode::OK);
    harness.shutdown().await;
}

/// A budget a few silent clients could exhaust if what they announce were reserved.
const ANNOUNCED_BUT_NEVER_SENT: &str = "
protocols:
  grpc:
    endpoint: 127.0.0.1:0
  http:
    endpoint: 127.0.0.1:0
admission:
  request_limit_mib: 32
  waiting_limit_mib: 0
";

/// Issue 11, defect 1: headers announcing 20 MiB bodies that never come used to reserve
/// the whole budget and make every later request wait.
#[tokio::test]
async fn http_bodies_announced_but_never_sent_hold_no_budget() {
    let harness = Harness::start(ANNOUNCED_BUT_NEVER_SENT).await;
    let addr = harness.http_addr().await;
    let mut silent = Vec::new();
    for _ in 0..7 {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        tokio::io::AsyncWriteExt::write_all(
            &mut stream,
            b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n\
              Content-Length: 20971520\r\n\r\n",
        )
        .await
        .unwrap();
        silent.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let url = harness.http_url("/v1/traces").await;
    let answer = tokio::time::timeout(
        Duration::from_secs(5),
        post(
            &url,
            "application/x-protobuf",
            traces_of_size(1_000_000).encode_to_vec(),
        ),
    )
    .await
    .expect("answered while the silent requests wait for their bodies");
    assert_eq!(answer.status, StatusCode::OK);
    export_traces(&harness.grpc_url().await, traces(1))
        .await
        .expect("gRPC is served too");
    drop(silent);
    harness.shutdown().await;
}

/// A body trickled slower than the read timeout allows is cut off with 408, and the
/// budget it held returns.
#[tokio::test]
async fn http_bodies_slower_than_the_read_timeout_are_refused_with_408() {
    let harness = Harness::start(
        "
protocols:
  http:
    endpoint: 127.0.0.1:0
    read_timeout: 300ms
    max_request_body_size: 1048576
admission:
  request_limit_mib: 1
  waiting_limit_mib: 0
",
    )
    .await;
    let addr = harness.http_addr().await;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let started = tokio::time::Instant::now();
    tokio::io::AsyncWriteExt::write_all(
        &mut stream,
        b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n\
          Transfer-Encoding: chunked\r\n\r\n",
    )
    .await
    .unwrap();
    // 1 kB every 50 ms: steady, but the whole body would take seconds.
    let trickle = tokio::spawn(async move {
        let chunk = format!("400\r\n{}\r\n", "x".repeat(1024));
        for _ in 0..100 {
            if tokio::io::AsyncWriteExt::write_all(&mut stream, chunk.as_bytes())
                .await
                .is_err()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(
            Duration::from_secs(5),
            tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut answer),
        )
        .await;
        String::from_utf8_lossy(&answer).into_owned()
    });
    let answer = trickle.await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(harness.traces.calls(), 0);
    // Nothing of the cut-off request is still held.
    let answer = post(
        &harness.http_url("/v1/traces").await,
        "application/x-protobuf",
        traces_of_size(1_000_000).encode_to_vec(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
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

/// Issue 11, defect 1 over gRPC: streams that send only a length prefix announcing a
/// 4 MiB message used to reserve 4 MiB each, so 33–40 of them starved the receiver.
#[tokio::test]
async fn grpc_messages_announced_but_never_sent_hold_no_budget() {
    let harness = Harness::start(ANNOUNCED_BUT_NEVER_SENT).await;
    let stream = tokio::net::TcpStream::connect(harness.grpc_addr().await)
        .await
        .unwrap();
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    let mut stalled = Vec::new();
    for _ in 0..40 {
        let mut prefix = vec![0u8];
        prefix.extend(4_000_000u32.to_be_bytes());
        let request = ::http::Request::post(format!("http://localhost{TRACES_PATH}"))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(StalledBody(Some(Bytes::from(prefix))))
            .unwrap();
        let mut sender = sender.clone();
        stalled.push(tokio::spawn(
            async move { sender.send_request(request).await },
        ));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let url = harness.grpc_url().await;
    tokio::time::timeout(
        Duration::from_secs(5),
        export_traces(&url, traces_of_size(2_000_000)),
    )
    .await
    .expect("answered while the stalled calls wait for their messages")
    .expect("accepted");
    assert_eq!(harness.traces.calls(), 1);
    for call in stalled {
        call.abort();
    }
    harness.shutdown().await;
}

/// A budget the first request fills, with room for others to wait (and so a line).
fn one_mib_with_a_line() -> String {
    let config = ONE_MIB_BUDGET.replace("waiting_limit_mib: 0", "waiting_limit_mib: 1");
    assert_ne!(
        config, ONE_MIB_BUDGET,
        "the one-MiB budget has no waiting room to widen"
    );
    config
}

/// Once the budget is out, new calls wait in line unread: one without a deadline is
/// delivered once room returns, one with a deadline is refused as throttled at half of it
/// (its client would give up soon after, and a late delivery would be sent again).
#[tokio::test]
async fn grpc_calls_wait_in_line_while_the_budget_is_out() {
    use tributary_pipeline_core::pdata::proto::collector::trace::v1::trace_service_client::TraceServiceClient;

    let harness = Harness::start(&one_mib_with_a_line()).await;
    let url = harness.grpc_url().await;
    let gate = harness.traces.hold();
    let export = |request: ExportTraceServiceRequest| {
        let url = url.clone();
        tokio::spawn(async move { export_traces(&url, request).await })
    };
    let first = export(traces_of_size(1_040_000));
    eventually("the first call is in the pipeline", || {
        harness.traces.calls() == 1
    })
    .await;
    // The second finds no room: it waits for it, and the budget is out.
    let second = export(traces_of_size(10_000));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!second.is_finished(), "the second call waits for room");

    let mut with_deadline = tonic::Request::new(traces(1));
    with_deadline.set_timeout(Duration::from_secs(2));
    let started = tokio::time::Instant::now();
    let refused = TraceServiceClient::new(super::grpc::channel(&url).await)
        .export(with_deadline)
        .await
        .expect_err("refused after half its deadline in line");
    assert_eq!(
        refused.code(),
        tonic::Code::ResourceExhausted,
        "{refused:?}"
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_millis(1900),
        "waited {waited:?}"
    );

    let in_line = export(traces(1));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!in_line.is_finished(), "waits in line without a deadline");
    assert_eq!(harness.traces.calls(), 1, "…with its body unread");
    gate.add_permits(3);
    first.await.unwrap().expect("the first call is accepted");
    second.await.unwrap().expect("the second call is accepted");
    in_line
        .await
        .unwrap()
        .expect("the call in line is accepted");
    assert_eq!(harness.traces.calls(), 3);
    harness.shutdown().await;
}

/// An HTTP/1.1 request refused after its longest wait in line gets its 429 on a connection
/// that stays open: its unread body is read and discarded first. Left unread, the server
/// must close the connection after the answer, and a client that sends its next request
/// on it meanwhile sees a broken connection instead of an answer (at 4x saturation, a
/// few hundred requests a step).
#[tokio::test]
async fn an_http_request_refused_in_line_keeps_its_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let harness = Harness::start(&one_mib_with_a_line()).await;
    let url = harness.http_url("/v1/traces").await;
    let gate = harness.traces.hold();
    let first = post_traces_in_background(&url, 1_000_000);
    eventually("the first request is in the pipeline", || {
        harness.traces.calls() == 1
    })
    .await;
    // The second finds no room and waits for it: from now on new requests wait in line.
    let second = post_traces_in_background(&url, 100_000);
    tokio::time::sleep(Duration::from_millis(100)).await;

    let body = traces_of_size(200_000).encode_to_vec();
    let mut stream = tokio::net::TcpStream::connect(harness.http_addr().await)
        .await
        .unwrap();
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    tokio::time::timeout(Duration::from_secs(10), async {
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut chunk).await.expect("answered");
            assert!(n > 0, "closed before the answer");
            answer.extend_from_slice(&chunk[..n]);
        }
    })
    .await
    .expect("answered within the line's wait");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(!answer.contains("connection: close"), "{answer}");
    // Whatever follows (the rest of the answer's body), the connection stays open.
    let open = tokio::time::timeout(Duration::from_millis(500), async {
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) => return "closed",
                Ok(_) => {}
                Err(_) => return "reset",
            }
        }
    })
    .await;
    assert!(open.is_err(), "the connection was {}", open.unwrap());

    gate.add_permits(2);
    assert_eq!(first.await.unwrap().status, StatusCode::OK);
    assert_eq!(second.await.unwrap().status, StatusCode::OK);
    harness.shutdown().await;
}
