//! The example of the Go README (processor/intervalprocessor/README.md, "Example of
//! metric flows"), the pass-through rules and the bound on state.

use std::sync::Arc;
use std::time::Duration;

use tributary_pipeline_core::component::{
    Component, ComponentConfig, CreateSettings, Host, Kind, load_config,
};
use tributary_pipeline_core::consumer::Consumer;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::builder::{MetricsBuilder, Temporality};
use tributary_pipeline_core::pdata::data_point::DataPointRef;
use tributary_pipeline_core::pdata::proto::metrics::v1::number_data_point::Value;
use tributary_pipeline_core::testing::Sink;

use super::processor::IntervalProcessor;
use super::{Config, factory};

fn settings() -> CreateSettings {
    CreateSettings::standalone(Kind::Processor, "interval".parse().unwrap(), None)
}

fn config(yaml: &str) -> Config {
    let config: Config = load_config(yaml).unwrap();
    config.validate().unwrap();
    config
}

/// (metric, label value, timestamp, value) of every number point sent, in order.
fn numbers(batches: &[Metrics]) -> Vec<(String, String, u64, f64)> {
    batches
        .iter()
        .flat_map(|m| m.data_points())
        .map(|(origin, point)| {
            let (DataPointRef::Gauge(p) | DataPointRef::Sum(p)) = point else {
                panic!("not a number point");
            };
            let label = p.attributes.first().and_then(|kv| kv.value.as_ref());
            let label = match label.and_then(|v| v.value.as_ref()) {
                Some(tributary_pipeline_core::pdata::proto::common::v1::any_value::Value::StringValue(s)) => s.clone(),
                _ => String::new(),
            };
            let Some(Value::AsDouble(value)) = p.value else { panic!() };
            (origin.metric_name().to_string(), label, p.time_unix_nano, value)
        })
        .collect()
}

fn sum_point(
    name: &str,
    temporality: Temporality,
    label: (&str, &str),
    time: u64,
    value: f64,
) -> Metrics {
    let mut b = MetricsBuilder::new();
    b.resource(vec![key_value("service.name", "svc")]);
    b.sum(name, "1", temporality, true)
        .double(vec![key_value(label.0, label.1)], 0, time, value);
    b.build()
}

async fn started(yaml: &str, sink: &Arc<Sink<Metrics>>) -> IntervalProcessor {
    let processor = IntervalProcessor::new(&settings(), &config(yaml), sink.next());
    processor.start(&Host::default()).await.unwrap();
    processor
}

#[tokio::test(start_paused = true)]
async fn the_readme_example_flows_as_go() {
    let sink = Sink::<Metrics>::new();
    let processor = started("interval: 15s", &sink).await;
    let c = Temporality::Cumulative;
    for metrics in [
        sum_point("test_metric", c, ("labelA", "foo"), 0, 4.0),
        sum_point("test_metric", c, ("labelA", "bar"), 2, 3.1),
        sum_point(
            "other_metric",
            Temporality::Delta,
            ("fruitType", "orange"),
            4,
            77.4,
        ),
        sum_point("test_metric", c, ("labelA", "foo"), 6, 8.2),
        sum_point("test_metric", c, ("labelA", "foo"), 8, 12.8),
        sum_point("test_metric", c, ("labelA", "bar"), 10, 6.4),
    ] {
        processor.consume(metrics).await.unwrap();
    }
    // Only the delta went on at once.
    assert_eq!(
        numbers(&sink.received()),
        [("other_metric".into(), "orange".into(), 4, 77.4)]
    );
    tokio::time::sleep(Duration::from_secs(16)).await;
    let received = sink.received();
    assert_eq!(
        numbers(&received[1..]),
        [
            ("test_metric".into(), "foo".into(), 8, 12.8),
            ("test_metric".into(), "bar".into(), 10, 6.4)
        ]
    );
    // The state was cleared: the next interval sends nothing.
    tokio::time::sleep(Duration::from_secs(15)).await;
    assert_eq!(sink.calls(), 2);
    processor.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_older_point_does_not_replace_a_newer_one() {
    let sink = Sink::<Metrics>::new();
    let processor = started("interval: 1s", &sink).await;
    let c = Temporality::Cumulative;
    processor
        .consume(sum_point("m", c, ("k", "v"), 20, 2.0))
        .await
        .unwrap();
    processor
        .consume(sum_point("m", c, ("k", "v"), 10, 1.0))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        numbers(&sink.received()),
        [("m".into(), "v".into(), 20, 2.0)]
    );
    processor.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn gauges_and_summaries_are_held_unless_passed_through() {
    let gauge = || {
        let mut b = MetricsBuilder::new();
        b.gauge("g", "").double(vec![], 1, 1.0);
        b.sum("updown", "", Temporality::Cumulative, false)
            .double(vec![], 0, 1, 5.0);
        b.build()
    };
    let sink = Sink::<Metrics>::new();
    let held = started("interval: 10s", &sink).await;
    held.consume(gauge()).await.unwrap();
    assert_eq!(
        numbers(&sink.received()),
        [("updown".into(), String::new(), 1, 5.0)]
    );
    held.shutdown().await.unwrap();
    assert_eq!(sink.calls(), 2, "shutdown sends what is held");
    assert_eq!(
        numbers(&sink.received()[1..]),
        [("g".into(), String::new(), 1, 1.0)]
    );

    let sink = Sink::<Metrics>::new();
    let passing = started("interval: 10s\npass_through: {gauge: true}", &sink).await;
    passing.consume(gauge()).await.unwrap();
    assert_eq!(sink.calls(), 1);
    assert_eq!(numbers(&sink.received()).len(), 2);
    passing.shutdown().await.unwrap();
    assert_eq!(sink.calls(), 1, "nothing was held");
}

#[tokio::test(start_paused = true)]
async fn streams_beyond_the_bound_pass_through_unaggregated() {
    let sink = Sink::<Metrics>::new();
    let processor =
        IntervalProcessor::with_max_streams(&settings(), &config("interval: 10s"), sink.next(), 2);
    processor.start(&Host::default()).await.unwrap();
    let c = Temporality::Cumulative;
    for label in ["a", "b", "c"] {
        processor
            .consume(sum_point("m", c, ("k", label), 1, 1.0))
            .await
            .unwrap();
    }
    // a and b are held; c passed.
    assert_eq!(
        numbers(&sink.received()),
        [("m".into(), "c".into(), 1, 1.0)]
    );
    processor
        .consume(sum_point("m", c, ("k", "a"), 2, 2.0))
        .await
        .unwrap();
    assert_eq!(sink.calls(), 1, "a held stream is still updated");
    processor.shutdown().await.unwrap();
    assert_eq!(
        numbers(&sink.received()[1..]),
        [
            ("m".into(), "a".into(), 2, 2.0),
            ("m".into(), "b".into(), 1, 1.0)
        ]
    );
}

#[test]
fn the_defaults_are_go_s_and_a_zero_interval_is_refused() {
    let config = config("");
    assert_eq!(config.interval, Duration::from_secs(60));
    assert!(!config.pass_through.gauge && !config.pass_through.summary);
    let error = load_config::<Config>("interval: 0s").unwrap_err();
    assert_eq!(error.path(), "interval");
    assert!(load_config::<Config>("pass_through: {histogram: true}").is_err());
}

#[tokio::test]
async fn the_interval_processor_passes_the_conformance_suite() {
    tributary_pipeline_core::testing::check_processor(factory(), "").await;
}

mod properties {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::interval::state::Pending;
    use tributary_pipeline_core::pdata::proto::metrics::v1::NumberDataPoint;

    proptest! {
        // Whatever the order points arrive in, each stream ends at its newest point, and no
        // more than the bound of streams is held; the others are handed back.
        #[test]
        fn each_stream_keeps_its_newest_point(
            arrivals in prop::collection::vec((0u8..6, 1u64..50), 0..60),
            bound in 1usize..8,
        ) {
            let metrics = sum_point("m", Temporality::Cumulative, ("k", "v"), 0, 0.0).into_request();
            let rm = &metrics.resource_metrics[0];
            let sm = &rm.scope_metrics[0];
            let metric = &sm.metrics[0];
            let mut pending = Pending::default();
            let mut newest: BTreeMap<u8, u64> = BTreeMap::new();
            for (stream, time) in &arrivals {
                let point = NumberDataPoint {
                    attributes: vec![key_value("stream", i64::from(*stream))],
                    time_unix_nano: *time,
                    value: Some(Value::AsDouble(*time as f64)),
                    ..Default::default()
                };
                let back = pending.keep(rm.resource.as_ref(), "", sm.scope.as_ref(), "", metric, vec![point], bound);
                if back.is_empty() {
                    let entry = newest.entry(*stream).or_default();
                    *entry = (*entry).max(*time);
                } else {
                    prop_assert!(!newest.contains_key(stream));
                    prop_assert_eq!(newest.len(), bound);
                }
            }
            let held = Metrics::new(pending.take());
            prop_assert_eq!(held.item_count(), newest.len());
            prop_assert!(newest.len() <= bound);
            let got: BTreeMap<u8, u64> = held
                .data_points()
                .map(|(_, p)| (p.attributes()[0].value.as_ref().and_then(|v| match v.value { Some(tributary_pipeline_core::pdata::proto::common::v1::any_value::Value::IntValue(i)) => Some(i as u8), _ => None }).unwrap(), p.time_unix_nano()))
                .collect();
            prop_assert_eq!(got, newest);
        }
    }
}
