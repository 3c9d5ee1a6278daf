use std::time::Instant;

use tributary_pipeline_core::component::{ComponentConfig, load_config};
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    Gauge, HistogramDataPoint, Metric, NumberDataPoint, metric::Data, number_data_point::Value,
};

use super::adjuster::StartTimes;
use super::{Config, Strategy, factory};
use crate::metric_stream::fixtures::*;

fn start_times(yaml: &str) -> StartTimes {
    let config: Config = load_config(yaml).unwrap();
    let pattern = config.start_time_metric().unwrap();
    StartTimes::new(&config, pattern, None)
}

fn run(state: &mut StartTimes, requests: Vec<ExportMetricsServiceRequest>) -> Vec<(u64, u64, f64)> {
    let now = Instant::now();
    requests
        .into_iter()
        .flat_map(|mut request| {
            state.adjust(&mut request, now);
            number_points(&request)
        })
        .collect()
}

/// A Prometheus-style counter point: no start time.
fn counter(time: u64, value: f64) -> ExportMetricsServiceRequest {
    request(sum(
        "requests_total",
        CUMULATIVE,
        true,
        &[(0, s(time), Value::AsDouble(value))],
    ))
}

#[test]
fn true_reset_point_starts_runs_at_first_points_and_resets() {
    let mut state = start_times("");
    let points = run(
        &mut state,
        vec![
            counter(10, 5.0),
            counter(20, 8.0),
            counter(30, 2.0),
            counter(40, 3.0),
        ],
    );
    assert_eq!(
        points,
        vec![
            (s(10), s(10), 5.0),
            (s(10), s(20), 8.0),
            // The value fell: a new true reset point.
            (s(30), s(30), 2.0),
            (s(30), s(40), 3.0),
        ]
    );
    assert_eq!(state.tracked(), 1);
}

#[test]
fn points_with_a_start_time_and_non_cumulative_data_pass_untouched() {
    let mut state = start_times("");
    let with_start = request(sum(
        "c",
        CUMULATIVE,
        true,
        &[(s(1), s(10), Value::AsInt(1))],
    ));
    let delta = request(sum("d", DELTA, true, &[(0, s(10), Value::AsInt(1))]));
    let points = run(&mut state, vec![with_start, delta]);
    assert_eq!(points, vec![(s(1), s(10), 1.0), (0, s(10), 1.0)]);
    assert_eq!(state.tracked(), 0);
}

#[test]
fn subtract_initial_point_drops_the_first_and_subtracts_it() {
    let mut state = start_times("strategy: subtract_initial_point");
    let points = run(
        &mut state,
        vec![
            counter(10, 5.0),
            counter(20, 8.0),
            // An irregular step.
            counter(23, 9.5),
            // A reset: the new run started after 23s, from zero.
            counter(30, 2.0),
            counter(40, 3.0),
        ],
    );
    assert_eq!(
        points,
        vec![
            (s(10), s(20), 3.0),
            (s(10), s(23), 4.5),
            (s(23), s(30), 2.0),
            (s(23), s(40), 3.0),
        ]
    );
}

fn histogram_request(time: u64, buckets: &[u64], sum: f64) -> ExportMetricsServiceRequest {
    request(histogram(
        "latency",
        CUMULATIVE,
        vec![histogram_point(0, s(time), buckets, sum)],
    ))
}

fn histogram_out(request: &ExportMetricsServiceRequest) -> Option<HistogramDataPoint> {
    match &first_metric(request)?.data {
        Some(Data::Histogram(h)) => h.data_points.first().cloned(),
        _ => None,
    }
}

#[test]
fn subtract_initial_point_subtracts_histogram_buckets() {
    let mut state = start_times("strategy: subtract_initial_point");
    let now = Instant::now();
    let mut first = histogram_request(10, &[1, 2, 3], 10.0);
    state.adjust(&mut first, now);
    assert!(
        first.resource_metrics.is_empty(),
        "the initial point is dropped"
    );
    let mut second = histogram_request(20, &[2, 4, 3], 16.0);
    state.adjust(&mut second, now);
    let point = histogram_out(&second).unwrap();
    assert_eq!(
        (
            point.start_time_unix_nano,
            point.count,
            point.sum,
            point.bucket_counts
        ),
        (s(10), 3, Some(6.0), vec![1, 2, 0])
    );
    // Another bucket layout: a new initial point, dropped.
    let mut third = histogram_request(30, &[2, 4, 3, 1], 20.0);
    state.adjust(&mut third, now);
    assert!(third.resource_metrics.is_empty());
}

fn process_start(seconds: f64) -> Metric {
    Metric {
        name: "process_start_time_seconds".into(),
        data: Some(Data::Gauge(Gauge {
            data_points: vec![NumberDataPoint {
                time_unix_nano: s(10),
                value: Some(Value::AsDouble(seconds)),
                ..Default::default()
            }],
        })),
        ..Default::default()
    }
}

#[test]
fn start_time_metric_takes_the_resources_start_time_and_falls_back() {
    let mut state = start_times("strategy: start_time_metric");
    let mut with_metric = counter(10, 5.0);
    with_metric.resource_metrics[0].scope_metrics[0]
        .metrics
        .push(process_start(3.5));
    let points = run(&mut state, vec![with_metric, counter(20, 8.0)]);
    assert_eq!(
        points,
        vec![
            (3_500_000_000, s(10), 5.0),
            // The gauge itself is no cumulative point.
            (0, s(10), 3.5),
            // Without the metric: a true reset point.
            (s(20), s(20), 8.0),
        ]
    );
    // Another pattern.
    let mut state =
        start_times("strategy: start_time_metric\nstart_time_metric_regex: ^app_started$");
    let mut request = counter(10, 5.0);
    let mut started = process_start(7.0);
    started.name = "app_started".into();
    request.resource_metrics[0].scope_metrics[0]
        .metrics
        .push(started);
    assert_eq!(run(&mut state, vec![request])[0], (s(7), s(10), 5.0));
}

#[test]
fn config_matches_go() {
    let config: Config = load_config("").unwrap();
    assert_eq!(config.strategy, Strategy::TrueResetPoint);
    assert_eq!(config.gc_interval, std::time::Duration::from_secs(600));
    let error = load_config::<Config>("start_time_metric_regex: x").unwrap_err();
    assert_eq!(error.path(), "start_time_metric_regex");
    let error = load_config::<Config>("strategy: start_time_metric\nstart_time_metric_regex: '('")
        .unwrap_err();
    assert_eq!(error.path(), "start_time_metric_regex");
    assert_eq!(
        load_config::<Config>("gc_interval: 0s").unwrap_err().path(),
        "gc_interval"
    );
    assert!(load_config::<Config>("strategy: guess").is_err());
    load_config::<Config>("strategy: subtract_initial_point\ngc_interval: 1m")
        .unwrap()
        .validate()
        .unwrap();
}

#[tokio::test]
async fn the_metricstarttime_processor_passes_the_conformance_suite() {
    tributary_pipeline_core::testing::check_processor(factory(), "").await;
}

#[test]
fn streams_beyond_max_streams_pass_unadjusted() {
    for strategy in ["true_reset_point", "subtract_initial_point"] {
        let mut state = start_times(&format!("strategy: {strategy}\nmax_streams: 1"));
        let mut other = counter(10, 1.0);
        other.resource_metrics[0].scope_metrics[0].metrics[0].name = "other_total".into();
        let points = run(&mut state, vec![counter(10, 5.0), other]);
        assert_eq!(points.last(), Some(&(0, s(10), 1.0)), "{strategy}");
        assert_eq!(state.tracked(), 1, "{strategy}");
    }
}

#[test]
fn streams_quiet_for_gc_interval_start_anew() {
    let mut state = start_times("gc_interval: 1m");
    let start = Instant::now();
    let mut first = counter(10, 5.0);
    state.adjust(&mut first, start);
    let mut other = counter(100, 1.0);
    other.resource_metrics[0].scope_metrics[0].metrics[0].name = "other_total".into();
    state.adjust(&mut other, start + std::time::Duration::from_secs(90));
    assert_eq!(state.tracked(), 2);
    // The next collection (a minute after the last) finds requests_total quiet for more
    // than a minute of data time: it comes back as a new true reset point.
    let mut back = counter(110, 9.0);
    state.adjust(&mut back, start + std::time::Duration::from_secs(160));
    assert_eq!(number_points(&back), vec![(s(110), s(110), 9.0)]);
    assert_eq!(state.tracked(), 2);
}
