//! The `carbon` exporter: its plaintext lines, and its connections to a listening server.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tributary_confmap::Conf;
use tributary_pipeline_core::component::{ComponentConfig, Host, Kind};
use tributary_pipeline_core::consumer::ErrorKind;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::builder::{
    HistogramValue, MetricsBuilder, SummaryValue, Temporality,
};
use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, ArrayValue, any_value};
use tributary_pipeline_core::prelude::*;
use tributary_pipeline_core::testing;

use super::exporter::CarbonExporter;
use super::plaintext::label_float;
use super::*;
use tributary_pipeline_core::pdata::value_text::format_float as value_float;

const T: u64 = 1_700_000_000_123_456_789;

#[test]
fn numbers_are_a_line_per_point_with_tags() {
    let mut builder = MetricsBuilder::new();
    builder.resource(vec![
        key_value("service.name", "shop"),
        key_value("host", "r"),
    ]);
    builder
        .gauge("cpu.load", "")
        .double(
            vec![key_value("host", "a"), key_value("empty", "")],
            T,
            0.25,
        )
        .int(vec![], T, -3);
    builder
        .sum("requests", "", Temporality::Cumulative, true)
        .int(vec![key_value("code", 200), key_value("ok", true)], 0, T, 7);
    builder.gauge("", "").int(vec![], T, 1);
    builder
        .gauge("odd name;x", "")
        .double(vec![key_value("k;!^= y", "v;~ \nw")], T, f64::INFINITY);
    let metrics = builder.build();

    let (text, lines) = to_plaintext(&metrics, false);
    assert_eq!(
        text,
        "cpu.load;host=a;empty=<empty> 0.25 1700000000\n\
         cpu.load -3 1700000000\n\
         requests;code=200;ok=true 7 1700000000\n\
         odd_name_x;k_____y=v____w +Inf 1700000000\n"
    );
    assert_eq!(lines, 4);

    // With resource attributes: theirs win over the point's of the same key.
    let (text, _) = to_plaintext(&metrics, true);
    assert!(
        text.starts_with("cpu.load;host=r;empty=<empty>;service.name=shop 0.25 1700000000\n"),
        "{text}"
    );
}

#[test]
fn histograms_and_summaries_are_series_as_in_go() {
    let mut builder = MetricsBuilder::new();
    builder
        .histogram("latency", "ms", Temporality::Cumulative)
        .point(
            vec![key_value("route", "/a")],
            0,
            T,
            HistogramValue::new(vec![0.5, 10.0, 1e6], vec![1, 2, 3, 4]).sum(123.5),
        )
        .unwrap();
    builder
        .summary("gc", "s")
        .point(
            vec![],
            0,
            T,
            SummaryValue::new(10, 2.5)
                .quantile(0.5, 0.1)
                .quantile(0.999, 0.7),
        )
        .unwrap();
    let (text, lines) = to_plaintext(&builder.build(), false);
    assert_eq!(
        text,
        "latency.count;route=/a 10 1700000000\n\
         latency;route=/a 123.5 1700000000\n\
         latency.bucket;route=/a;upper_bound=0.5 1 1700000000\n\
         latency.bucket;route=/a;upper_bound=10 2 1700000000\n\
         latency.bucket;route=/a;upper_bound=1e+06 3 1700000000\n\
         latency.bucket;route=/a;upper_bound=inf 4 1700000000\n\
         gc.count 10 1700000000\n\
         gc 2.5 1700000000\n\
         gc.quantile;quantile=50 0.1 1700000000\n\
         gc.quantile;quantile=99.9 0.7 1700000000\n"
    );
    assert_eq!(lines, 10);
}

#[test]
fn floats_are_written_as_go_formats_them() {
    for (value, g, f) in [
        (0.0, "0", "0"),
        (-0.0, "-0", "-0"),
        (100000.0, "100000", "100000"),
        (1000000.0, "1e+06", "1000000"),
        (123456789.0, "1.23456789e+08", "123456789"),
        (0.0001, "0.0001", "0.0001"),
        (0.00001, "1e-05", "0.00001"),
        (2.5e-7, "2.5e-07", "0.00000025"),
        (1e300, "1e+300", &format!("1{}", "0".repeat(300))),
        (f64::NEG_INFINITY, "-Inf", "-Inf"),
        (f64::NAN, "NaN", "NaN"),
    ] {
        assert_eq!(label_float(value), g, "{value}");
        assert_eq!(value_float(value), f, "{value}");
    }
}

#[test]
fn attribute_values_read_as_go_reads_them() {
    let mut builder = MetricsBuilder::new();
    let array = AnyValue {
        value: Some(any_value::Value::ArrayValue(ArrayValue {
            values: vec![
                tributary_pipeline_core::prelude::any_value(1),
                tributary_pipeline_core::prelude::any_value("x"),
            ],
        })),
    };
    let bytes = AnyValue {
        value: Some(any_value::Value::BytesValue(vec![1, 2, 3])),
    };
    builder.gauge("m", "").int(
        vec![
            key_value("d", 1.5),
            tributary_pipeline_core::pdata::proto::common::v1::KeyValue {
                key: "a".into(),
                value: Some(array),
                ..Default::default()
            },
            tributary_pipeline_core::pdata::proto::common::v1::KeyValue {
                key: "b".into(),
                value: Some(bytes),
                ..Default::default()
            },
        ],
        T,
        1,
    );
    let (text, _) = to_plaintext(&builder.build(), false);
    assert_eq!(text, "m;d=1.5;a=[1,\"x\"];b=AQID 1 1700000000\n");
}

#[test]
fn the_configuration_takes_go_keys_and_defaults() {
    let config: Config = Conf::from_yaml("").unwrap().decode().unwrap();
    config.validate().unwrap();
    assert_eq!(config, Config::default());
    assert_eq!(config.endpoint, "localhost:2003");
    assert_eq!(config.helper.timeout, Duration::from_secs(5));
    assert!(config.helper.sending_queue.enabled && config.helper.retry_on_failure.enabled);
    // Go's testdata/config.yaml.
    let config: Config = Conf::from_yaml(
        "endpoint: localhost:8080\ntimeout: 10s\nsending_queue: {enabled: true, num_consumers: 2, queue_size: 10}\n\
         retry_on_failure: {enabled: true, initial_interval: 10s, randomization_factor: 0.7, multiplier: 3.14, max_interval: 60s, max_elapsed_time: 10m}",
    )
    .unwrap()
    .decode()
    .unwrap();
    config.validate().unwrap();
    assert_eq!(config.helper.sending_queue.queue_size, 10);
    for yaml in [
        "endpoint: \"\"",
        "endpoint: nowhere",
        "max_idle_conns: -1",
        "transport: udp",
    ] {
        let refused = Conf::from_yaml(yaml)
            .unwrap()
            .decode::<Config>()
            .map_err(|e| e.to_string())
            .and_then(|c| c.validate().map_err(|e| e.to_string()));
        assert!(refused.is_err(), "{yaml} was accepted");
    }
}

/// A plaintext server serving one connection at a time in its own task (so aborting the
/// task closes the connection): every line it reads, and each connection it accepts, on
/// channels.
async fn server() -> (
    String,
    mpsc::UnboundedReceiver<String>,
    mpsc::UnboundedReceiver<()>,
    tokio::task::JoinHandle<()>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = listener.local_addr().unwrap().to_string();
    let (lines_tx, lines) = mpsc::unbounded_channel();
    let (accepted_tx, accepted) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = accepted_tx.send(());
            let mut reader = BufReader::new(stream).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                let _ = lines_tx.send(line);
            }
        }
    });
    (endpoint, lines, accepted, task)
}

fn one_gauge(name: &str) -> Metrics {
    let mut builder = MetricsBuilder::new();
    builder.gauge(name, "").int(vec![], T, 1);
    builder.build()
}

fn exporter(endpoint: &str) -> CarbonExporter {
    let config: Config = Conf::from_yaml(&format!("endpoint: \"{endpoint}\"\ntimeout: 2s"))
        .unwrap()
        .decode()
        .unwrap();
    CarbonExporter::new(&config)
}

async fn next_line(lines: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(10), lines.recv())
        .await
        .expect("a line in time")
        .expect("the server runs")
}

#[tokio::test]
async fn connections_are_reused_and_replaced_when_the_server_closes_them() {
    let (endpoint, mut lines, mut accepted, task) = server().await;
    let exporter = exporter(&endpoint);
    exporter.export(one_gauge("a")).await.unwrap();
    exporter.export(one_gauge("b")).await.unwrap();
    assert_eq!(next_line(&mut lines).await, "a 1 1700000000");
    assert_eq!(next_line(&mut lines).await, "b 1 1700000000");
    accepted.recv().await.unwrap();
    assert!(accepted.try_recv().is_err(), "the connection was reused");

    // The server goes away (closing the pooled connection) and comes back on the same port.
    task.abort();
    let _ = task.await;
    drop(lines);
    let error = loop {
        // Until the close is seen, a write may still land in the dead socket's buffer.
        match exporter.export(one_gauge("lost?")).await {
            Err(error) => break error,
            Ok(()) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
    assert_eq!(error.kind(), ErrorKind::Retryable, "{error}");
    assert!(error.to_string().contains(&endpoint), "{error}");
}

#[tokio::test]
async fn a_connection_the_server_closed_while_idle_is_not_written_to() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = listener.local_addr().unwrap().to_string();
    let exporter = Arc::new(exporter(&endpoint));
    // First connection: read one line, then close it.
    let first = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut reader = BufReader::new(stream).lines();
        let line = reader.next_line().await.unwrap().unwrap();
        drop(reader);
        (line, listener)
    });
    exporter.export(one_gauge("first")).await.unwrap();
    let (line, listener) = first.await.unwrap();
    assert_eq!(line, "first 1 1700000000");
    // The close has reached the client once a read would see it: poll, as the pool does.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let second = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        BufReader::new(stream)
            .lines()
            .next_line()
            .await
            .unwrap()
            .unwrap()
    });
    exporter.export(one_gauge("second")).await.unwrap();
    let line = tokio::time::timeout(Duration::from_secs(10), second)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        line, "second 1 1700000000",
        "the batch went to a new connection"
    );
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_retryable_error_and_retries_deliver() {
    // A port nothing listens on yet.
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let endpoint = format!("127.0.0.1:{port}");
    let error = exporter(&endpoint)
        .export(one_gauge("x"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Retryable);

    // Through the factory (queue and retries): the batch waits until the server is up.
    let config: Config = Conf::from_yaml(&format!(
        "endpoint: \"{endpoint}\"\nretry_on_failure: {{initial_interval: 50ms, max_interval: 100ms}}"
    ))
    .unwrap()
    .decode()
    .unwrap();
    let settings = testing::settings::<Metrics>(Kind::Exporter, "carbon");
    let exporter = factory().create(&settings, &config).unwrap();
    exporter.start(&Host::new([])).await.unwrap();
    exporter.consume(one_gauge("queued")).await.unwrap();
    let listener = TcpListener::bind(&endpoint).await.unwrap();
    let (stream, _) = tokio::time::timeout(Duration::from_secs(10), listener.accept())
        .await
        .unwrap()
        .unwrap();
    let line = BufReader::new(stream)
        .lines()
        .next_line()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(line, "queued 1 1700000000");
    exporter.shutdown().await.unwrap();
}
