//! Every exporter runs the framework's conformance suite: its config refuses unknown keys,
//! creating it does no I/O, and it starts, stops and starts again cleanly.

use tributary_pipeline_core::testing::check_exporter;

#[cfg(feature = "debug")]
#[tokio::test]
async fn debug() {
    check_exporter(crate::debug::factory(), "").await;
}

#[cfg(feature = "file")]
#[tokio::test]
async fn file() {
    check_exporter(crate::file::factory(), "path: \"{dir}/out.jsonl\"").await;
}

#[cfg(feature = "otlp")]
#[tokio::test]
async fn otlp() {
    check_exporter(
        crate::otlp::factory(),
        "endpoint: \"127.0.0.1:{port}\"\ntls: { insecure: true }",
    )
    .await;
}

#[cfg(feature = "otlp_http")]
#[tokio::test]
async fn otlp_http() {
    check_exporter(
        crate::otlp_http::factory(),
        "endpoint: \"http://127.0.0.1:{port}\"",
    )
    .await;
}

#[cfg(feature = "zipkin")]
#[tokio::test]
async fn zipkin() {
    check_exporter(
        crate::zipkin::factory(),
        "endpoint: \"http://127.0.0.1:{port}/api/v2/spans\"",
    )
    .await;
}

#[cfg(feature = "carbon")]
#[tokio::test]
async fn carbon() {
    check_exporter(crate::carbon::factory(), "endpoint: \"127.0.0.1:{port}\"").await;
}

#[cfg(feature = "prometheus")]
#[tokio::test]
async fn prometheus() {
    check_exporter(
        crate::prometheus::factory(),
        "endpoint: \"127.0.0.1:{port}\"",
    )
    .await;
}

#[cfg(feature = "opentsdb")]
#[tokio::test]
async fn opentsdb() {
    check_exporter(
        crate::opentsdb::factory(),
        "endpoint: \"http://127.0.0.1:{port}\"",
    )
    .await;
}

#[cfg(feature = "loadbalancing")]
#[tokio::test]
async fn loadbalancing() {
    check_exporter(
        crate::loadbalancing::factory(),
        "protocol: {otlp: {tls: {insecure: true}}}\nresolver: {static: {hostnames: [\"127.0.0.1:{port}\"]}}",
    )
    .await;
}

#[cfg(feature = "nats")]
#[tokio::test]
async fn nats() {
    // Connects on the first export, so starting needs no server.
    check_exporter(
        crate::nats::factory(),
        "endpoint: \"nats://127.0.0.1:{port}\"",
    )
    .await;
}

#[cfg(feature = "kafka")]
#[tokio::test]
async fn kafka() {
    // librdkafka connects in the background: creating and starting need no broker.
    check_exporter(crate::kafka::factory(), "brokers: [\"127.0.0.1:{port}\"]").await;
}
