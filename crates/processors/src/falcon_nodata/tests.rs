//! Nodata timing worked by hand from seed-systems §1.7, the selectors, the bound, the
//! processor's own task, and the conformance suite.

use std::time::Duration;

use tributary_pipeline_core::component::{ComponentConfig, Host, Kind, load_config};
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::attributes::{Attributes, key_value};
use tributary_pipeline_core::pdata::builder::{MetricsBuilder, Temporality};
use tributary_pipeline_core::pdata::data_point::DataPointRef;
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::proto::metrics::v1::number_data_point::Value;
use tributary_pipeline_core::testing::{Sink, check_processor, settings};

use super::absence::{Absence, Series};
use super::{Config, factory};

impl Absence {
    /// Watches with no predecessor.
    fn new_fresh(config: &Config) -> Self {
        Absence::new(config, std::sync::Arc::default())
    }
}

const S: u64 = 1_000_000_000;

fn config(yaml: &str) -> Config {
    let config: Config = load_config(yaml).unwrap_or_else(|e| panic!("{e}"));
    config.validate().unwrap();
    config
}

fn point(host: &str, metric: &str, step: i64, at: u64) -> Metrics {
    let mut b = MetricsBuilder::new();
    b.resource(vec![key_value("host.name", host)]);
    b.gauge(metric, "").double(
        vec![key_value("step", step), key_value("idc", "lg")],
        at * S,
        1.0,
    );
    b.build()
}

/// (time in seconds, value or None for a staleness marker, host) of each emitted point.
fn emitted(metrics: &Metrics) -> Vec<(u64, Option<f64>, String)> {
    metrics
        .data_points()
        .map(|(origin, p)| {
            let DataPointRef::Gauge(p) = p else {
                panic!("a gauge in, a gauge out")
            };
            let Some(Value::AsDouble(v)) = p.value else {
                panic!("a double")
            };
            let value = if p.flags & 1 == 1 {
                assert!(v.is_nan());
                None
            } else {
                Some(v)
            };
            let host = origin
                .resource_attributes()
                .get_str("host.name")
                .unwrap()
                .to_string();
            (p.time_unix_nano / S, value, host)
        })
        .collect()
}

fn judge(absence: &Absence, now: u64) -> Vec<(u64, Option<f64>, String)> {
    absence
        .judge(now)
        .metrics
        .as_ref()
        .map(emitted)
        .unwrap_or_default()
}

#[test]
fn a_step_60_series_is_absent_after_three_steps_and_marked_two_steps_back() {
    let absence = Absence::new_fresh(&config("series: [{metric: qps, mock: -1}]"));
    absence.observe(&point("h1", "qps", 60, 1_000_020));
    // Timeout 3 × 60 = 180: absent once the last point is older than now − 180.
    assert_eq!(judge(&absence, 1_000_200), [], "exactly 180 s old: not yet");
    // now 1000201: 1000201 − 1000201 % 60 − 2 × 60 = 1000200 − 120 = 1000080.
    assert_eq!(
        judge(&absence, 1_000_201),
        [(1_000_080, Some(-1.0), "h1".into())]
    );
    assert_eq!(
        judge(&absence, 1_000_230),
        [],
        "marked within the last step"
    );
    assert_eq!(
        judge(&absence, 1_000_261),
        [(1_000_140, Some(-1.0), "h1".into())],
        "still absent a step later: marked again"
    );
    absence.observe(&point("h1", "qps", 60, 1_000_300));
    assert_eq!(judge(&absence, 1_000_320), [], "data is back");
}

#[test]
fn short_steps_time_out_after_180_seconds_and_long_ones_after_three_steps() {
    let absence = Absence::new_fresh(&config("series: [{metric: qps}]"));
    absence.observe(&point("fast", "qps", 10, 1_000_000));
    absence.observe(&point("slow", "qps", 300, 1_000_000));
    assert_eq!(judge(&absence, 1_000_180), []);
    // 10 s step: timeout 180, not 30. Point at 1000181 − 1 − 20 = 1000160.
    assert_eq!(
        judge(&absence, 1_000_181),
        [(1_000_160, None, "fast".into())],
        "no mock: a staleness marker"
    );
    assert_eq!(judge(&absence, 1_000_190), [], "once per 10 s step");
    let mut at_901 = judge(&absence, 1_000_901);
    at_901.sort_by(|a, b| a.2.cmp(&b.2));
    // 300 s step: timeout 900; 1000901 − 1000901 % 300 − 600 = 1000800 − 600 = 1000200.
    assert_eq!(
        at_901,
        [
            (1_000_880, None, "fast".into()),
            (1_000_200, None, "slow".into())
        ]
    );
}

#[test]
fn selectors_match_on_resource_or_point_attributes_and_a_row_step_wins() {
    let absence = Absence::new_fresh(&config(
        r#"
series:
  - metric: qps
    attributes: { host.name: h1, idc: lg }
    step: 120s
    mock: 0
"#,
    ));
    absence.observe(&point("h1", "qps", 60, 1_000_000));
    absence.observe(&point("h2", "qps", 60, 1_000_000));
    absence.observe(&point("h1", "rps", 60, 1_000_000));
    assert_eq!(absence.len(), 1, "only h1's qps matches the row");
    // Row step 120: timeout 360; 1000361 − 1000361 % 120 − 240 = 1000320 − 240 = 1000080.
    assert_eq!(judge(&absence, 1_000_360), []);
    assert_eq!(
        judge(&absence, 1_000_361),
        [(1_000_080, Some(0.0), "h1".into())]
    );
}

#[test]
fn the_emitted_point_has_the_series_shape() {
    let absence = Absence::new_fresh(&config("series: [{metric: hits, mock: 7}]"));
    let mut b = MetricsBuilder::new();
    b.resource(vec![key_value("host.name", "h1")]);
    b.sum("hits", "1", Temporality::Cumulative, true).int(
        vec![key_value("step", 60), key_value("counterType", "COUNTER")],
        0,
        1_000_000 * S,
        5,
    );
    absence.observe(&b.build());
    let verdict = absence.judge(1_000_500);
    assert_eq!(verdict.points, 1);
    let out = verdict.metrics.unwrap();
    let (origin, point) = out.data_points().next().unwrap();
    let DataPointRef::Sum(point) = point else {
        panic!("a sum stays a sum")
    };
    assert_eq!(origin.metric_name(), "hits");
    assert_eq!(origin.scope_name(), "falcon_nodata");
    assert_eq!(point.value, Some(Value::AsDouble(7.0)));
    let attributes: &[KeyValue] = &point.attributes;
    assert_eq!(attributes.get_str("counterType"), Some("COUNTER"));
}

#[test]
fn a_reload_carries_the_series_still_selected_and_drops_the_others() {
    let settings = settings::<Metrics>(Kind::Processor, "falcon_nodata");
    let before = Absence::new(
        &config("series: [{metric: qps, mock: -1}, {metric: rps}]"),
        settings.carried_over(Series::default),
    );
    before.observe(&point("h1", "qps", 60, 1_000_000));
    before.observe(&point("h1", "rps", 60, 1_000_000));
    assert_eq!(before.len(), 2);
    // The next configuration drops the rps row and changes qps's mock.
    let after = Absence::new(
        &config("series: [{metric: qps, mock: 5}]"),
        settings.carried_over(Series::default),
    );
    assert_eq!(after.len(), 1, "rps was dropped");
    assert_eq!(
        judge(&after, 1_000_500),
        [(1_000_380, Some(5.0), "h1".into())],
        "qps, seen before the reload, is found absent after it, with the new mock"
    );
    drop((before, after));
    let later = Absence::new(
        &config("series: [{metric: qps}]"),
        settings.carried_over(Series::default),
    );
    assert_eq!(
        later.len(),
        0,
        "nothing is carried once no instance holds it"
    );
}

#[test]
fn the_state_is_bounded() {
    let absence = Absence::new_fresh(&config("{max_series: 2, series: [{metric: qps}]}"));
    let mut untracked = 0;
    for host in ["a", "b", "c", "d"] {
        untracked += absence.observe(&point(host, "qps", 60, 1_000_000));
    }
    assert_eq!(absence.len(), 2);
    assert_eq!(untracked, 2);
}

#[tokio::test]
async fn the_task_sends_nodata_points_and_passes_data_through() {
    let sink = Sink::<Metrics>::new();
    let settings = settings::<Metrics>(Kind::Processor, "falcon_nodata");
    let config = config("{check_interval: 20ms, series: [{metric: qps, mock: -1}]}");
    let processor = factory().create(&settings, &config, sink.next()).unwrap();
    processor.start(&Host::default()).await.unwrap();
    // A point from long ago: absent at the first check.
    processor
        .consume(point("h1", "qps", 60, 1_000_000))
        .await
        .unwrap();
    sink.wait_for_items(2, Duration::from_secs(10)).await;
    processor.shutdown().await.unwrap();
    let received = sink.accepted();
    assert_eq!(received[0].item_count(), 1, "the data itself, unchanged");
    let nodata = emitted(&received[1]);
    assert_eq!(nodata[0].1, Some(-1.0));
    assert_eq!(nodata[0].2, "h1");
    assert!(
        settings
            .metrics()
            .sum("otelcol_processor_falcon_nodata_points", &[])
            >= 1.0
    );
}

#[test]
fn config_defaults_and_refusals() {
    let c = config("");
    assert_eq!(c.check_interval, Duration::from_secs(60));
    assert_eq!(c.default_step, Duration::from_secs(60));
    assert_eq!(c.max_series, 10_000);
    for (yaml, at) in [
        ("series: [{mock: 1}]", "series::0::metric"),
        ("series: [{metric: a, step: 1500ms}]", "series::0::step"),
        ("check_interval: 0s", "check_interval"),
    ] {
        let error = load_config::<Config>(yaml).unwrap_err().to_string();
        assert!(error.contains(at), "{yaml}: {error}");
    }
    assert!(load_config::<Config>("series: [{metric: a, tags: x}]").is_err());
}

#[tokio::test]
async fn conformance() {
    check_processor(factory(), "series: [{metric: qps}]").await;
}
