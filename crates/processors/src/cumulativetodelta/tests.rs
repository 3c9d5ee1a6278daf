use std::time::{Duration, Instant};

use tributary_pipeline_core::component::{ComponentConfig, CreateSettings, Kind, load_config};
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    DataPointFlags, HistogramDataPoint, metric::Data, number_data_point::Value,
};
use tributary_pipeline_core::testing::Sink;

use super::config::MetricFilter;
use super::converter::Converter;
use super::{Config, InitialValue, MetricType, factory};
use crate::metric_stream::fixtures::*;

fn converter(yaml: &str) -> Converter {
    let config: Config = load_config(yaml).unwrap();
    let filter = MetricFilter::compile(&config).unwrap();
    let mut converter = Converter::new(&config, filter, None);
    converter.set_started_ns(s(105));
    converter
}

/// Feeds each request to `converter` and returns what came out of each.
fn run(
    converter: &mut Converter,
    requests: Vec<ExportMetricsServiceRequest>,
) -> Vec<ExportMetricsServiceRequest> {
    let now = Instant::now();
    requests
        .into_iter()
        .map(|mut request| {
            converter.convert(&mut request, now);
            request
        })
        .collect()
}

fn double_sum(start: u64, time: u64, value: f64) -> ExportMetricsServiceRequest {
    request(sum(
        "requests",
        CUMULATIVE,
        true,
        &[(start, time, Value::AsDouble(value))],
    ))
}

#[test]
fn a_counter_series_with_a_reset_becomes_deltas() {
    // The processor started at 105s; the counter at 100s, so `auto` withholds the first
    // point. The value falls at 140s (a reset under the same start time): no delta.
    let mut c = converter("");
    let out = run(
        &mut c,
        vec![
            double_sum(s(100), s(110), 10.0),
            double_sum(s(100), s(120), 15.0),
            double_sum(s(100), s(130), 15.0),
            double_sum(s(100), s(140), 3.0),
            double_sum(s(100), s(150), 7.0),
        ],
    );
    let points: Vec<_> = out.iter().flat_map(number_points).collect();
    assert_eq!(
        points,
        vec![
            (s(110), s(120), 5.0),
            (s(120), s(130), 0.0),
            (s(140), s(150), 4.0)
        ]
    );
    assert!(
        out[0].resource_metrics.is_empty(),
        "an emptied request has no metric left"
    );
    let Some(Data::Sum(sum)) = &first_metric(&out[1]).unwrap().data else {
        panic!("a sum")
    };
    assert_eq!(sum.aggregation_temporality, DELTA);
    assert!(sum.is_monotonic);
}

#[test]
fn irregular_steps_and_gaps_give_deltas_over_their_own_intervals() {
    let mut c = converter("initial_value: keep");
    let out = run(
        &mut c,
        vec![
            request(sum(
                "n",
                CUMULATIVE,
                true,
                &[(s(1), s(10), Value::AsInt(4))],
            )),
            request(sum(
                "n",
                CUMULATIVE,
                true,
                &[(s(1), s(13), Value::AsInt(9))],
            )),
            // A gap: nothing between 13s and 70s.
            request(sum(
                "n",
                CUMULATIVE,
                true,
                &[(s(1), s(70), Value::AsInt(29))],
            )),
        ],
    );
    let points: Vec<_> = out.iter().flat_map(number_points).collect();
    assert_eq!(
        points,
        vec![
            (s(1), s(10), 4.0),
            (s(10), s(13), 5.0),
            (s(13), s(70), 20.0)
        ]
    );
    // Ints stay ints.
    let Some(Data::Sum(sum)) = &first_metric(&out[1]).unwrap().data else {
        panic!("a sum")
    };
    assert_eq!(sum.data_points[0].value, Some(Value::AsInt(5)));
}

#[test]
fn initial_value_decides_the_fate_of_first_points() {
    // Started at 200s, after the processor (105s): `auto` sends it whole.
    let born_later = double_sum(s(200), s(210), 6.0);
    let out = run(&mut converter(""), vec![born_later.clone()]);
    assert_eq!(number_points(&out[0]), vec![(s(200), s(210), 6.0)]);
    // Without a start time, or with start == time, `auto` withholds it.
    let out = run(
        &mut converter(""),
        vec![double_sum(0, s(210), 6.0), double_sum(s(210), s(210), 6.0)],
    );
    assert!(out.iter().all(|r| r.resource_metrics.is_empty()));
    // `keep` sends any first point; `drop` none.
    let old = double_sum(s(1), s(210), 6.0);
    let out = run(&mut converter("initial_value: keep"), vec![old.clone()]);
    assert_eq!(number_points(&out[0]), vec![(s(1), s(210), 6.0)]);
    let out = run(&mut converter("initial_value: drop"), vec![born_later]);
    assert!(out[0].resource_metrics.is_empty());
}

#[test]
fn a_new_start_time_is_a_new_stream() {
    let mut c = converter("initial_value: keep");
    let out = run(
        &mut c,
        vec![
            double_sum(s(1), s(10), 50.0),
            // The process restarted: a new start time, a new stream, sent whole.
            double_sum(s(11), s(20), 2.0),
            double_sum(s(11), s(30), 5.0),
        ],
    );
    let points: Vec<_> = out.iter().flat_map(number_points).collect();
    assert_eq!(
        points,
        vec![
            (s(1), s(10), 50.0),
            (s(11), s(20), 2.0),
            (s(20), s(30), 3.0)
        ]
    );
    assert_eq!(c.tracked(), 2);
}

#[test]
fn out_of_order_and_valueless_points_are_dropped_without_touching_state() {
    let mut c = converter("initial_value: keep");
    let mut flagged = double_sum(s(1), s(25), 0.0);
    if let Some(Data::Sum(sum)) = &mut flagged.resource_metrics[0].scope_metrics[0].metrics[0].data
    {
        sum.data_points[0].flags = DataPointFlags::NoRecordedValueMask as u32;
    }
    let out = run(
        &mut c,
        vec![
            double_sum(s(1), s(10), 1.0),
            double_sum(s(1), s(20), 4.0),
            double_sum(s(1), s(15), 2.0),
            flagged,
            double_sum(s(1), s(30), 10.0),
        ],
    );
    let points: Vec<_> = out.iter().flat_map(number_points).collect();
    assert_eq!(
        points,
        vec![(s(1), s(10), 1.0), (s(10), s(20), 3.0), (s(20), s(30), 6.0)]
    );
}

#[test]
fn nan_passes_untouched_and_other_metrics_are_left_alone() {
    let mut c = converter("initial_value: keep");
    let out = run(
        &mut c,
        vec![
            double_sum(s(1), s(10), f64::NAN),
            request(sum(
                "gauge-like",
                CUMULATIVE,
                false,
                &[(s(1), s(10), Value::AsInt(3))],
            )),
            request(sum(
                "already",
                DELTA,
                true,
                &[(s(1), s(10), Value::AsInt(3))],
            )),
        ],
    );
    assert!(number_points(&out[0])[0].2.is_nan());
    assert_eq!(
        out[1],
        request(sum(
            "gauge-like",
            CUMULATIVE,
            false,
            &[(s(1), s(10), Value::AsInt(3))]
        ))
    );
    assert_eq!(
        out[2],
        request(sum(
            "already",
            DELTA,
            true,
            &[(s(1), s(10), Value::AsInt(3))]
        ))
    );
    assert_eq!(c.tracked(), 0);
}

fn histogram_points(request: &ExportMetricsServiceRequest) -> Vec<HistogramDataPoint> {
    match first_metric(request).and_then(|m| m.data.clone()) {
        Some(Data::Histogram(h)) => {
            assert_eq!(h.aggregation_temporality, DELTA);
            h.data_points
        }
        None => Vec::new(),
        other => panic!("not a histogram: {other:?}"),
    }
}

/// A histogram point's start, time, count, sum and buckets.
type HistogramSummary = (u64, u64, u64, Option<f64>, Vec<u64>);

#[test]
fn histograms_subtract_bucket_by_bucket_and_handle_resets_and_layout_changes() {
    let mut c = converter("initial_value: keep");
    let h = |time, buckets: &[u64], sum| {
        request(histogram(
            "latency",
            CUMULATIVE,
            vec![histogram_point(s(1), s(time), buckets, sum)],
        ))
    };
    let out = run(
        &mut c,
        vec![
            h(10, &[1, 2, 3], 10.0),
            h(20, &[2, 3, 5], 20.0),
            // The count fell: a reset, sent whole.
            h(30, &[1, 0, 0], 0.5),
            // Another bucket layout: dropped, and the next point is a delta from it.
            h(40, &[1, 0], 0.5),
            h(50, &[3, 1], 4.0),
        ],
    );
    let summary: Vec<Vec<HistogramSummary>> = out
        .iter()
        .map(|r| {
            histogram_points(r)
                .into_iter()
                .map(|p| {
                    (
                        p.start_time_unix_nano,
                        p.time_unix_nano,
                        p.count,
                        p.sum,
                        p.bucket_counts,
                    )
                })
                .collect()
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            vec![(s(1), s(10), 6, Some(10.0), vec![1, 2, 3])],
            vec![(s(10), s(20), 4, Some(10.0), vec![1, 1, 2])],
            vec![(s(20), s(30), 1, Some(0.5), vec![1, 0, 0])],
            vec![],
            vec![(s(40), s(50), 3, Some(3.5), vec![2, 1])],
        ]
    );
    // Min and max of a cumulative run say nothing of an interval.
    let delta = &histogram_points(&out[1])[0];
    assert_eq!((delta.min, delta.max), (None, None));
}

#[test]
fn include_and_exclude_select_by_name_and_type() {
    let yaml = r#"
initial_value: keep
include:
  match_type: regexp
  metrics: ["^http_"]
exclude:
  match_type: strict
  metrics: [http_skipped]
"#;
    let mut c = converter(yaml);
    let names = ["http_requests", "http_skipped", "db_calls"];
    let out = run(
        &mut c,
        names
            .iter()
            .map(|n| request(sum(n, CUMULATIVE, true, &[(s(1), s(10), Value::AsInt(1))])))
            .collect(),
    );
    let temporalities: Vec<i32> = out
        .iter()
        .map(|r| match &first_metric(r).unwrap().data {
            Some(Data::Sum(sum)) => sum.aggregation_temporality,
            _ => 0,
        })
        .collect();
    assert_eq!(temporalities, vec![DELTA, CUMULATIVE, CUMULATIVE]);

    let config: Config = load_config("exclude: {metric_types: [histogram]}").unwrap();
    let filter = MetricFilter::compile(&config).unwrap();
    assert!(filter.converts("x", MetricType::Sum));
    assert!(!filter.converts("x", MetricType::Histogram));
}

#[test]
fn configs_take_go_keys_and_refuse_what_go_refuses() {
    let config: Config = load_config("").unwrap();
    assert_eq!(config, Config::default());
    assert_eq!(config.initial_value, InitialValue::Auto);
    assert_eq!(config.max_staleness, Duration::ZERO);
    let full: Config = load_config(
        "max_staleness: 10s\ninitial_value: drop\ninclude: {match_type: strict, metrics: [a], regexp: {cacheenabled: true}}\n",
    )
    .unwrap();
    assert_eq!(full.max_staleness, Duration::from_secs(10));
    full.validate().unwrap();

    let error = load_config::<Config>("include: {metrics: [a]}").unwrap_err();
    assert_eq!(error.path(), "include::match_type");
    let error = load_config::<Config>("exclude: {match_type: strict}").unwrap_err();
    assert_eq!(error.path(), "exclude::metrics");
    let error = load_config::<Config>("include: {match_type: regexp, metrics: ['(']}").unwrap_err();
    assert_eq!(error.path(), "include::metrics::0");
    assert!(load_config::<Config>("initial_value: sometimes").is_err());
    assert!(load_config::<Config>("include: {metric_types: [gauge]}").is_err());
    assert!(
        load_config::<Config>("metrics: [a]").is_err(),
        "Go's removed key"
    );
}

fn settings() -> CreateSettings {
    CreateSettings::standalone(Kind::Processor, "cumulativetodelta".parse().unwrap(), None)
}

#[tokio::test]
async fn the_processor_converts_and_counts_its_streams() {
    let config: Config = load_config("initial_value: keep").unwrap();
    let settings = settings();
    let sink = Sink::<Metrics>::new();
    let processor = factory()
        .create::<Metrics>(&settings, &config, sink.next())
        .unwrap();
    for (time, value) in [(10, 1.0), (20, 3.0)] {
        processor
            .consume(metrics(double_sum(s(1), s(time), value)))
            .await
            .unwrap();
    }
    let received = sink.received();
    assert_eq!(
        number_points(received[1].request()),
        vec![(s(10), s(20), 2.0)]
    );
    let rendered = settings.metrics().render_prometheus();
    assert!(
        rendered.contains(
            "otelcol_cumulativetodelta_streams_tracked{processor=\"cumulativetodelta\"} 1"
        ),
        "{rendered}"
    );
}

#[tokio::test]
async fn the_cumulativetodelta_processor_passes_the_conformance_suite() {
    tributary_pipeline_core::testing::check_processor(factory(), "").await;
}
