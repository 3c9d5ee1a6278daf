//! The `lines` receiver, tested through the public `testing` module only, over real TCP.

use std::io::Write;
use std::time::Duration;

use tributary_pipeline_core::component::{Kind, load_config};
use tributary_pipeline_core::pdata::data_point::DataPointRef;
use tributary_pipeline_core::pdata::proto::metrics::v1::number_data_point::Value;
use tributary_pipeline_core::prelude::*;
use tributary_pipeline_core::testing::{Sink, check_receiver, eventually, settings};
use tributary_plugin_example::lines::{Config, factory};

#[tokio::test]
async fn passes_the_conformance_suite() {
    check_receiver(factory(), "endpoint: \"127.0.0.1:{port}\"").await;
}

fn gauges(sink: &Sink<Metrics>) -> Vec<(String, f64)> {
    let mut found = Vec::new();
    for batch in sink.accepted() {
        for (origin, point) in batch.data_points() {
            if let DataPointRef::Gauge(point) = point
                && let Some(Value::AsDouble(value)) = point.value
            {
                found.push((origin.metric_name().to_owned(), value));
            }
        }
    }
    found
}

#[tokio::test]
async fn lines_become_gauges_and_malformed_ones_are_counted_and_skipped() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = load_config::<Config>(&format!("endpoint: 127.0.0.1:{port}")).unwrap();
    let settings = settings::<Metrics>(Kind::Receiver, "lines");
    let sink = Sink::<Metrics>::new();
    let receiver = factory().create(&settings, &config, sink.next()).unwrap();
    receiver.start(&Host::default()).await.unwrap();

    let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    client
        .write_all(b"temperature 21.5\nnot a line\nhumid")
        .unwrap();
    client.flush().unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    client.write_all(b"ity 40\n").unwrap();
    drop(client);

    sink.wait_for_items(2, Duration::from_secs(10)).await;
    assert_eq!(
        gauges(&sink),
        [("temperature".into(), 21.5), ("humidity".into(), 40.0)]
    );
    eventually(
        "the malformed line counted",
        Duration::from_secs(10),
        || {
            let failed = settings.metrics().value(
                "otelcol_receiver_failed_metric_points",
                &[("receiver", "lines"), ("transport", "tcp")],
            );
            (failed == Some(1.0)).then_some(())
        },
    )
    .await;
    let accepted = settings.metrics().value(
        "otelcol_receiver_accepted_metric_points",
        &[("receiver", "lines"), ("transport", "tcp")],
    );
    assert_eq!(accepted, Some(2.0));
    receiver.shutdown().await.unwrap();
}

#[test]
fn an_invalid_endpoint_is_refused_naming_the_key() {
    let error = load_config::<Config>("endpoint: nowhere").unwrap_err();
    assert!(error.to_string().contains("endpoint"), "{error}");
}
