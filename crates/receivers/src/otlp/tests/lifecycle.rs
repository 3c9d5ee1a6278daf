//! One server for the three signal instances: started by the first, stopped by the last,
//! started again afterwards; calls in flight finish during shutdown; start failures name
//! their configuration key.

use std::time::Duration;

use prost::Message;
use reqwest::StatusCode;
use tonic::Code;
use tributary_pipeline_core::component::Stability;
use tributary_pipeline_core::pdata::Signal;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::metrics_service_client::MetricsServiceClient;

use super::grpc::{channel, export_traces};
use super::http::post;
use super::*;

const PROTOBUF: &str = "application/x-protobuf";

#[test]
fn the_factory_describes_the_otlp_receiver() {
    let factory = crate::otlp::factory();
    assert_eq!(factory.component_type(), "otlp");
    for signal in Signal::ALL {
        assert_eq!(factory.stability(signal), Stability::Beta);
    }
}

#[tokio::test]
async fn the_signals_share_one_server_until_the_last_stops() {
    let harness = Harness::start(BOTH).await;
    let grpc = harness.grpc_url().await;
    let http = harness.http_addr().await;
    export_traces(&grpc, traces(1)).await.unwrap();
    MetricsServiceClient::new(channel(&grpc).await)
        .export(metrics(1))
        .await
        .unwrap();
    let answer = post(
        &format!("http://{http}/v1/logs"),
        PROTOBUF,
        logs(1).encode_to_vec(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);

    // Without its instance, a signal is not served; the others still are.
    harness.stop(Signal::Traces).await;
    let status = export_traces(&grpc, traces(1)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
    let answer = post(
        &format!("http://{http}/v1/traces"),
        PROTOBUF,
        traces(1).encode_to_vec(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    MetricsServiceClient::new(channel(&grpc).await)
        .export(metrics(1))
        .await
        .unwrap();

    // The last instance stops the listeners.
    harness.stop(Signal::Metrics).await;
    harness.stop(Signal::Logs).await;
    assert!(harness.server().local_addr(Transport::Grpc).await.is_none());
    assert!(
        tokio::net::TcpStream::connect(http).await.is_err(),
        "HTTP closed"
    );
    assert!(
        tokio::net::TcpStream::connect(harness.grpc_addr_unchecked(&grpc))
            .await
            .is_err(),
        "gRPC closed"
    );

    // An instance starting again starts them again.
    harness.receivers[1]
        .1
        .start(&Host::default())
        .await
        .unwrap();
    let grpc = harness.grpc_url().await;
    MetricsServiceClient::new(channel(&grpc).await)
        .export(metrics(2))
        .await
        .unwrap();
    assert_eq!(harness.metrics.accepted_items(), 4);
    assert_eq!(harness.traces.accepted_items(), 1);
    harness.shutdown().await;
}

impl Harness {
    /// The address of a gRPC URL, for a listener that may be closed.
    fn grpc_addr_unchecked(&self, url: &str) -> std::net::SocketAddr {
        url.trim_start_matches("http://")
            .parse()
            .expect("an address")
    }
}

#[tokio::test]
async fn calls_in_flight_finish_during_shutdown() {
    let harness = Arc::new(Harness::start(BOTH).await);
    let gate = harness.traces.hold();
    let grpc = tokio::spawn({
        let url = harness.grpc_url().await;
        async move { export_traces(&url, traces(1)).await }
    });
    let http = tokio::spawn({
        let url = harness.http_url("/v1/traces").await;
        async move { post(&url, PROTOBUF, traces(1).encode_to_vec()).await.status }
    });
    eventually("both calls are in the pipeline", || {
        harness.traces.calls() == 2
    })
    .await;
    let shutdown = tokio::spawn({
        let harness = Arc::clone(&harness);
        async move { harness.shutdown().await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !shutdown.is_finished(),
        "shutdown waits for the calls in flight"
    );
    gate.add_permits(2);
    grpc.await.unwrap().expect("the gRPC call succeeds");
    assert_eq!(http.await.unwrap(), StatusCode::OK);
    tokio::time::timeout(Duration::from_secs(5), shutdown)
        .await
        .expect("shutdown finishes")
        .unwrap();
    assert_eq!(harness.traces.accepted_items(), 2);
}

#[tokio::test]
async fn start_and_shutdown_are_idempotent() {
    let harness = Harness::create(BOTH, &[Signal::Logs]).unwrap();
    let receiver = &harness.receivers[0].1;
    receiver
        .shutdown()
        .await
        .expect("shutdown before start is harmless");
    receiver.start(&Host::default()).await.unwrap();
    receiver.start(&Host::default()).await.unwrap();
    let url = harness.http_url("/v1/logs").await;
    assert_eq!(
        post(&url, PROTOBUF, logs(1).encode_to_vec()).await.status,
        StatusCode::OK
    );
    receiver.shutdown().await.unwrap();
    receiver.shutdown().await.unwrap();
    assert!(harness.server().local_addr(Transport::Http).await.is_none());
}

#[tokio::test]
async fn a_taken_address_fails_the_start_and_names_the_endpoint() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    for (protocol, yaml) in [
        (
            "grpc",
            format!("protocols:\n  grpc:\n    endpoint: {addr}\n"),
        ),
        (
            "http",
            format!(
                "protocols:\n  grpc:\n    endpoint: 127.0.0.1:0\n  http:\n    endpoint: {addr}\n"
            ),
        ),
    ] {
        let harness = Harness::create(&yaml, &[Signal::Traces]).unwrap();
        let error = harness.receivers[0]
            .1
            .start(&Host::default())
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(&format!(
                "protocols::{protocol}::endpoint: cannot listen on {addr}"
            )),
            "{error}"
        );
        // Nothing was left running.
        assert!(harness.server().local_addr(Transport::Grpc).await.is_none());
        // Shutting down the instance that failed to start is harmless.
        harness.shutdown().await;
    }
}

#[tokio::test]
async fn the_receiver_passes_the_conformance_suite() {
    tributary_pipeline_core::testing::check_receiver(
        crate::otlp::factory(),
        "protocols:\n  grpc: { endpoint: \"127.0.0.1:{port}\" }\n  http: { endpoint: \"127.0.0.1:{port}\" }\n",
    )
    .await;
}
