//! Alignment on the hand-worked timestamps of seed-systems §1.5, and the conformance suite.

use std::time::Duration;

use tributary_pipeline_core::component::{ComponentConfig, Kind, load_config};
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::attributes::{Attributes, key_value};
use tributary_pipeline_core::pdata::builder::{HistogramValue, MetricsBuilder, Temporality};
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::testing::{Sink, check_processor, settings};

use super::{Config, factory};

const S: u64 = 1_000_000_000;

fn config(yaml: &str) -> Config {
    let config: Config = load_config(yaml).unwrap_or_else(|e| panic!("{e}"));
    config.validate().unwrap();
    config
}

async fn align(yaml: &str, metrics: Metrics) -> Metrics {
    let sink = Sink::<Metrics>::new();
    let settings = settings::<Metrics>(Kind::Processor, "falcon_align");
    let processor = factory()
        .create(&settings, &config(yaml), sink.next())
        .unwrap();
    processor.consume(metrics).await.unwrap();
    sink.accepted().remove(0)
}

fn gauge(points: &[(Vec<KeyValue>, u64)]) -> Metrics {
    let mut b = MetricsBuilder::new();
    let mut g = b.gauge("qps", "");
    for (attributes, time) in points {
        g.double(attributes.clone(), *time, 1.0);
    }
    b.build()
}

fn times_and_steps(metrics: &Metrics) -> Vec<(u64, Option<i64>)> {
    metrics
        .data_points()
        .map(|(_, p)| (p.time_unix_nano(), p.attributes().get_int("step")))
        .collect()
}

#[tokio::test]
async fn timestamps_fall_to_the_start_of_their_step_slot() {
    // 1700000059 with step 60 → 1700000040 (1700000059 % 60 = 19); sub-second parts go too.
    let out = align(
        "",
        gauge(&[
            (vec![key_value("step", 60)], 1_700_000_059 * S + 999),
            (vec![key_value("step", 60)], 1_700_000_040 * S),
            (vec![key_value("step", 300)], 1_700_000_059 * S),
            (vec![], 1_700_000_101 * S),
        ]),
    )
    .await;
    assert_eq!(
        times_and_steps(&out),
        [
            (1_700_000_040 * S, Some(60)),
            (1_700_000_040 * S, Some(60)),
            (1_699_999_800 * S, Some(300)),
            (1_700_000_100 * S, None),
        ],
        "the last point has no step attribute: default_step 60s"
    );
}

#[tokio::test]
async fn steps_below_min_step_are_raised_and_the_attribute_says_so() {
    let out = align(
        "",
        gauge(&[
            (vec![key_value("step", 10)], 1_700_000_059 * S),
            (vec![key_value("step", 45)], 1_700_000_059 * S),
        ]),
    )
    .await;
    assert_eq!(
        times_and_steps(&out),
        [
            (1_700_000_040 * S, Some(30)),
            // 45 is above min_step: 1700000059 % 45 = 4.
            (1_700_000_055 * S, Some(45)),
        ]
    );
    let out = align(
        "min_step: 0s",
        gauge(&[(vec![key_value("step", "10")], 1_700_000_059 * S)]),
    )
    .await;
    let (_, point) = out.data_points().next().unwrap();
    assert_eq!(point.time_unix_nano(), 1_700_000_050 * S);
    assert_eq!(point.attributes().get_str("step"), Some("10"));
    let out = align("", gauge(&[(vec![key_value("step", "10")], 0)])).await;
    let (_, point) = out.data_points().next().unwrap();
    assert_eq!(
        point.attributes().get_str("step"),
        Some("30"),
        "a string stays a string"
    );
}

#[tokio::test]
async fn every_kind_is_aligned_and_the_metric_filter_holds() {
    let mut b = MetricsBuilder::new();
    b.sum("hits", "", Temporality::Cumulative, true)
        .int(vec![], S, 1_700_000_059 * S, 3);
    b.histogram("latency", "ms", Temporality::Delta)
        .point(
            vec![],
            S,
            1_700_000_059 * S,
            HistogramValue::new(vec![1.0], vec![1, 0]),
        )
        .unwrap();
    let out = align("", b.build()).await;
    for (_, point) in out.data_points() {
        assert_eq!(point.time_unix_nano(), 1_700_000_040 * S);
        assert_eq!(
            point.start_time_unix_nano(),
            S,
            "start times are left alone"
        );
    }
    let mut b = MetricsBuilder::new();
    b.gauge("a", "").double(vec![], 1_700_000_059 * S, 1.0);
    b.gauge("b", "").double(vec![], 1_700_000_059 * S, 1.0);
    let out = align("metrics: [b]", b.build()).await;
    let times: Vec<u64> = out.data_points().map(|(_, p)| p.time_unix_nano()).collect();
    assert_eq!(times, [1_700_000_059 * S, 1_700_000_040 * S]);
    let out = align("default_step: 0s", gauge(&[(vec![], 1_700_000_059 * S)])).await;
    let (_, point) = out.data_points().next().unwrap();
    assert_eq!(
        point.time_unix_nano(),
        1_700_000_059 * S,
        "no step, no alignment"
    );
}

#[test]
fn config_defaults_and_refusals() {
    let c = config("");
    assert_eq!(c.min_step, Duration::from_secs(30));
    assert_eq!(c.default_step, Duration::from_secs(60));
    assert_eq!(c.step_attribute, "step");
    let bad = load_config::<Config>("min_step: 2500ms").unwrap_err();
    assert!(bad.to_string().contains("min_step"), "{bad}");
    assert!(load_config::<Config>("steps: 1").is_err());
}

#[tokio::test]
async fn conformance() {
    check_processor(factory(), "").await;
}

proptest::proptest! {
    /// An aligned time is the start of its (clamped) step slot: a multiple of the step,
    /// not after the original, less than a step before it.
    #[test]
    fn an_aligned_time_starts_its_slot(time in 0u64..4_000_000_000 * S, step in 1i64..4000) {
        let out = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(align("", gauge(&[(vec![key_value("step", step)], time)])));
        let (_, point) = out.data_points().next().unwrap();
        let clamped = (step as u64).max(30) * S;
        let aligned = point.time_unix_nano();
        proptest::prop_assert_eq!(aligned % clamped, 0);
        proptest::prop_assert!(aligned <= time && time - aligned < clamped);
    }
}
