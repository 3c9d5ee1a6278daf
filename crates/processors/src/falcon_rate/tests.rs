//! The hand-worked counter series of seed-systems §1.6 (resets, gaps, irregular steps,
//! truncation), the selection rules, and the conformance suite.

use std::time::{Duration, Instant};

use tributary_pipeline_core::component::{ComponentConfig, Kind, load_config};
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::attributes::{Attributes, key_value};
use tributary_pipeline_core::pdata::builder::{MetricsBuilder, Temporality};
use tributary_pipeline_core::pdata::data_point::DataPointRef;
use tributary_pipeline_core::pdata::proto::metrics::v1::number_data_point::Value;
use tributary_pipeline_core::testing::{Sink, check_processor, settings};

use super::rate::{NoRate, RateState};
use super::{Config, factory};

const S: u64 = 1_000_000_000;

fn config(yaml: &str) -> Config {
    let config: Config = load_config(yaml).unwrap_or_else(|e| panic!("{e}"));
    config.validate().unwrap();
    config
}

/// One request: a Falcon COUNTER as the `falcon` receiver makes it.
fn counter(name: &str, step: i64, at_seconds: u64, value: f64) -> Metrics {
    let mut b = MetricsBuilder::new();
    b.resource(vec![key_value("host.name", "host-01")])
        .scope("falcon", "");
    b.sum(name, "", Temporality::Cumulative, true).double(
        vec![key_value("step", step), key_value("counterType", "COUNTER")],
        0,
        at_seconds * S,
        value,
    );
    b.build()
}

/// The rates (time in seconds, value) that arrived at the sink, in order.
fn rates(sink: &Sink<Metrics>) -> Vec<(u64, f64)> {
    sink.accepted()
        .iter()
        .flat_map(|m| {
            m.data_points()
                .map(|(_, p)| match p {
                    DataPointRef::Gauge(p) => match p.value {
                        Some(Value::AsDouble(v)) => (p.time_unix_nano / S, v),
                        other => panic!("a rate is a double, found {other:?}"),
                    },
                    other => panic!("a rate is a gauge, found {other:?}"),
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

async fn run(yaml: &str, series: &[(u64, f64)], step: i64) -> (Vec<(u64, f64)>, f64) {
    let sink = Sink::<Metrics>::new();
    let settings = settings::<Metrics>(Kind::Processor, "falcon_rate");
    let processor = factory()
        .create(&settings, &config(yaml), sink.next())
        .unwrap();
    for &(t, v) in series {
        processor.consume(counter("qps", step, t, v)).await.unwrap();
    }
    let dropped = settings
        .metrics()
        .sum("otelcol_processor_falcon_rate_dropped_points", &[]);
    (rates(&sink), dropped)
}

#[tokio::test]
async fn a_steady_counter_gives_its_per_second_rate_and_the_first_point_nothing() {
    let (rates, dropped) = run("", &[(0, 100.0), (60, 160.0), (120, 280.0)], 60).await;
    assert_eq!(rates, [(60, 1.0), (120, 2.0)]);
    assert_eq!(dropped, 1.0, "the first point");
}

#[tokio::test]
async fn a_reset_drops_the_point_and_becomes_the_baseline() {
    // 100 → 160 → 40 (reset: the agent restarted) → 100.
    let (rates, _) = run(
        "",
        &[(0, 100.0), (60, 160.0), (120, 40.0), (180, 100.0)],
        60,
    )
    .await;
    assert_eq!(rates, [(60, 1.0), (180, 1.0)], "never a negative spike");
}

#[tokio::test]
async fn a_gap_past_the_heartbeat_gives_nothing_and_within_it_divides_by_the_real_interval() {
    // Step 60, heartbeat 120: 60 → 180 is 120 s (within), 180 → 360 is 180 s (past it).
    let series = [(60, 0.0), (180, 240.0), (360, 600.0), (420, 660.0)];
    let (rates, dropped) = run("", &series, 60).await;
    assert_eq!(rates, [(180, 2.0), (420, 1.0)]);
    assert_eq!(dropped, 2.0, "the first point and the gap");
    let (rates, _) = run("heartbeat_steps: 0", &series, 60).await;
    assert_eq!(rates, [(180, 2.0), (360, 2.0), (420, 1.0)]);
}

#[tokio::test]
async fn irregular_intervals_divide_by_each_interval() {
    // Step 30: points 10 s, 30 s and 45 s apart.
    let series = [(0, 0.0), (10, 50.0), (40, 80.0), (85, 170.0)];
    let (rates, _) = run("", &series, 30).await;
    assert_eq!(rates, [(10, 5.0), (40, 1.0), (85, 2.0)]);
}

#[tokio::test]
async fn truncation_to_int_is_falcon_graphs_and_off_by_default() {
    let series = [(0, 10.7), (10, 20.2), (20, 30.9)];
    let (exact, _) = run("", &series, 10).await;
    assert_eq!(exact.len(), 2);
    assert!((exact[0].1 - 0.95).abs() < 1e-9);
    assert!((exact[1].1 - 1.07).abs() < 1e-9);
    let (truncated, _) = run("truncate_to_int: true", &series, 10).await;
    assert_eq!(truncated, [(10, 1.0), (20, 1.0)]);
}

#[tokio::test]
async fn a_late_or_repeated_point_gives_nothing_and_does_not_rewind() {
    let series = [(0, 0.0), (60, 60.0), (30, 10.0), (60, 60.0), (120, 180.0)];
    let (rates, _) = run("", &series, 60).await;
    assert_eq!(rates, [(60, 1.0), (120, 2.0)]);
}

#[tokio::test]
async fn series_are_apart_by_attributes_and_a_changed_step_starts_a_new_one() {
    let sink = Sink::<Metrics>::new();
    let settings = settings::<Metrics>(Kind::Processor, "falcon_rate");
    let processor = factory()
        .create(&settings, &config(""), sink.next())
        .unwrap();
    processor.consume(counter("qps", 60, 0, 0.0)).await.unwrap();
    processor
        .consume(counter("rps", 60, 0, 100.0))
        .await
        .unwrap();
    processor
        .consume(counter("qps", 60, 60, 60.0))
        .await
        .unwrap();
    processor
        .consume(counter("rps", 60, 60, 220.0))
        .await
        .unwrap();
    // Step 30 now: a new series (Falcon names the RRD file by step), so no rate yet.
    processor
        .consume(counter("qps", 30, 90, 90.0))
        .await
        .unwrap();
    assert_eq!(rates(&sink), [(60, 1.0), (60, 2.0)]);
    let accepted = sink.accepted();
    let (_, point) = accepted[0].data_points().next().unwrap();
    assert_eq!(
        point.attributes().get_str("counterType"),
        Some("GAUGE"),
        "a Falcon exporter must not rate it again"
    );
}

#[tokio::test]
async fn only_counters_are_touched() {
    let sink = Sink::<Metrics>::new();
    let settings = settings::<Metrics>(Kind::Processor, "falcon_rate");
    let processor = factory()
        .create(&settings, &config("metrics: [if.bytes]"), sink.next())
        .unwrap();
    for t in [0, 60] {
        let mut b = MetricsBuilder::new();
        b.gauge("cpu.idle", "").double(vec![], t * S, 50.0);
        b.sum("delta", "", Temporality::Delta, true)
            .int(vec![], 0, t * S, 5);
        b.sum("updown", "", Temporality::Cumulative, false)
            .int(vec![], 0, t * S, 5);
        // A counter sent as a gauge, named in `metrics`.
        b.gauge("if.bytes", "By")
            .int(vec![], t * S, (t * 10) as i64);
        // A gauge marked as a counter by its attribute.
        b.gauge("marked", "")
            .double(vec![key_value("counterType", "DERIVE")], t * S, t as f64);
        processor.consume(b.build()).await.unwrap();
    }
    let first = &sink.accepted()[0];
    let names: Vec<&str> = first.records().map(|(_, m)| m.name.as_str()).collect();
    assert_eq!(
        names,
        ["cpu.idle", "delta", "updown"],
        "counters' first points drop"
    );
    let second = &sink.accepted()[1];
    let converted: Vec<(String, f64)> = second
        .data_points()
        .filter_map(|(origin, p)| match p {
            DataPointRef::Gauge(p) => match p.value {
                Some(Value::AsDouble(v)) if origin.metric_name() != "cpu.idle" => {
                    Some((origin.metric_name().to_string(), v))
                }
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(
        converted,
        [("if.bytes".to_string(), 10.0), ("marked".to_string(), 1.0)]
    );
    assert_eq!(second.item_count(), 5);
}

#[tokio::test]
async fn a_reload_keeps_each_series_last_point() {
    let sink = Sink::<Metrics>::new();
    let settings = settings::<Metrics>(Kind::Processor, "falcon_rate");
    let before = factory()
        .create(&settings, &config(""), sink.next())
        .unwrap();
    before.consume(counter("qps", 60, 0, 0.0)).await.unwrap();
    // The next configuration's instance, created while the old one still runs.
    let after = factory()
        .create(&settings, &config("truncate_to_int: true"), sink.next())
        .unwrap();
    drop(before);
    after.consume(counter("qps", 60, 60, 120.5)).await.unwrap();
    assert_eq!(rates(&sink), [(60, 2.0)], "the rate spans the reload");
}

#[test]
fn the_state_is_bounded_by_max_series_and_forgets_stale_series() {
    let now = Instant::now();
    let mut state = RateState::new(2, Duration::from_secs(60));
    assert_eq!(
        state.observe("a", S, Some(1.0), None, now),
        Err(NoRate::First)
    );
    assert_eq!(
        state.observe("b", S, Some(1.0), None, now),
        Err(NoRate::First)
    );
    assert_eq!(
        state.observe("c", S, Some(1.0), None, now),
        Err(NoRate::Limit)
    );
    assert_eq!(state.len(), 2);
    let later = now + Duration::from_secs(61);
    assert_eq!(
        state.observe("c", S, Some(1.0), None, later),
        Err(NoRate::First),
        "a and b went stale and were forgotten"
    );
    assert_eq!(state.len(), 1);
    assert_eq!(
        state.observe("c", 2 * S, None, None, later),
        Err(NoRate::NoValue)
    );
    assert_eq!(
        state.len(),
        0,
        "a point without a value starts the series over"
    );
}

#[test]
fn config_defaults_and_refusals() {
    let c = config("");
    assert!(c.cumulative_sums);
    assert_eq!(c.step_attribute, "step");
    assert_eq!(c.counter_type_attribute, "counterType");
    assert_eq!(c.default_step, Duration::from_secs(60));
    assert_eq!(c.heartbeat_steps, 2);
    assert!(!c.truncate_to_int);
    let bad = load_config::<Config>("default_step: 1500ms").unwrap_err();
    assert!(bad.to_string().contains("default_step"), "{bad}");
    assert!(load_config::<Config>("{cumulative_sums: false, counter_type_attribute: ''}").is_err());
    assert!(load_config::<Config>("unknown: 1").is_err());
}

#[tokio::test]
async fn conformance() {
    check_processor(factory(), "").await;
}

proptest::proptest! {
    /// Whatever the series — resets, gaps, late points — a rate is never negative and
    /// never comes from a series' first point.
    #[test]
    fn rates_are_never_negative(points in proptest::collection::vec((0u64..600, 0.0f64..1e6), 1..40)) {
        let mut state = RateState::new(10, Duration::ZERO);
        let now = Instant::now();
        let mut rates = 0;
        for (i, (t, v)) in points.iter().enumerate() {
            if let Ok(rate) =
                state.observe("s", t * S, Some(*v), Some(Duration::from_secs(120)), now)
            {
                proptest::prop_assert!(rate >= 0.0 && rate.is_finite());
                proptest::prop_assert!(i > 0);
                rates += 1;
            }
        }
        proptest::prop_assert!(rates < points.len());
    }
}
