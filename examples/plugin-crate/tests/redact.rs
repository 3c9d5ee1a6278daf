//! The `redact` processor, tested through the public `testing` module only.

use tributary_pipeline_core::component::{Kind, load_config};
use tributary_pipeline_core::pdata::builder::ExponentialHistogramValue;
use tributary_pipeline_core::pdata::builder::{HistogramValue, SummaryValue, Temporality};
use tributary_pipeline_core::prelude::*;
use tributary_pipeline_core::testing::{Sink, check_processor, settings};
use tributary_plugin_example::redact::{Config, factory};

fn secret() -> Vec<tributary_pipeline_core::pdata::proto::common::v1::KeyValue> {
    vec![key_value("password", "hunter2"), key_value("user", "ada")]
}

/// One point of each of the five kinds, each with a password.
fn metrics() -> Metrics {
    let mut metrics = MetricsBuilder::new();
    metrics.gauge("g", "1").double(secret(), 1, 1.0);
    metrics
        .sum("s", "1", Temporality::Cumulative, true)
        .int(secret(), 0, 1, 1);
    let histogram = HistogramValue::new(vec![1.0], vec![1, 2]);
    metrics
        .histogram("h", "s", Temporality::Delta)
        .point(secret(), 0, 1, histogram)
        .unwrap();
    let exponential = ExponentialHistogramValue::new(0).positive(0, vec![1]);
    metrics
        .exponential_histogram("e", "s", Temporality::Delta)
        .point(secret(), 0, 1, exponential)
        .unwrap();
    metrics
        .summary("q", "s")
        .point(secret(), 0, 1, SummaryValue::new(1, 1.0))
        .unwrap();
    metrics.build()
}

fn config(yaml: &str) -> Config {
    load_config::<Config>(yaml).unwrap()
}

#[tokio::test]
async fn passes_the_conformance_suite() {
    check_processor(factory(), "keys: [password]").await;
}

#[tokio::test]
async fn masks_every_kind_of_data_point() {
    let sink = Sink::<Metrics>::new();
    let processor = factory()
        .create(
            &settings::<Metrics>(Kind::Processor, "redact"),
            &config("keys: [password]\nmask: '***'"),
            sink.next(),
        )
        .unwrap();
    processor.consume(metrics()).await.unwrap();
    let received = &sink.accepted()[0];
    let points: Vec<_> = received.data_points().collect();
    assert_eq!(points.len(), 5);
    for (origin, point) in points {
        assert_eq!(
            point.attributes().get_str("password"),
            Some("***"),
            "{}",
            origin.metric_name()
        );
        assert_eq!(point.attributes().get_str("user"), Some("ada"));
    }
}

#[tokio::test]
async fn removes_from_spans_and_log_records_and_leaves_shared_data_alone() {
    let mut traces = TracesBuilder::new();
    traces.span("login", [1; 16], [1; 8]).attributes(secret());
    let traces = traces.build();
    let traces_sink = Sink::<Traces>::new();
    let settings = settings::<Traces>(Kind::Processor, "redact");
    let processor = factory()
        .create(&settings, &config("keys: [password]"), traces_sink.next())
        .unwrap();
    processor.consume(traces.clone()).await.unwrap();
    let (_, span) = traces_sink.accepted()[0]
        .records()
        .next()
        .map(|(o, s)| (o.scope_name().to_owned(), s.clone()))
        .unwrap();
    assert_eq!(span.attributes.get_str("password"), None);
    assert_eq!(span.attributes.get_str("user"), Some("ada"));
    let (_, original) = traces.records().next().unwrap();
    assert_eq!(
        original.attributes.get_str("password"),
        Some("hunter2"),
        "the other holder's copy"
    );

    let mut logs = LogsBuilder::new();
    logs.record("signed in").attributes(secret());
    let logs_sink = Sink::<Logs>::new();
    let processor = factory()
        .create(
            &settings.for_signal(Signal::Logs),
            &config("keys: [password]"),
            logs_sink.next(),
        )
        .unwrap();
    processor.consume(logs.build()).await.unwrap();
    let (_, record) = logs_sink.accepted()[0]
        .records()
        .next()
        .map(|(o, r)| (o.scope_name().to_owned(), r.clone()))
        .unwrap();
    assert_eq!(record.attributes.get_str("password"), None);
}

#[test]
fn a_config_without_keys_is_refused_naming_the_key() {
    let error = load_config::<Config>("mask: x").unwrap_err();
    assert!(error.to_string().contains("keys"), "{error}");
}
