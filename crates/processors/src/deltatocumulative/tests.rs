use std::time::{Duration, Instant};

use proptest::prelude::*;
use tributary_pipeline_core::component::{ComponentConfig, CreateSettings, Kind, load_config};
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    ExponentialHistogramDataPoint, exponential_histogram_data_point::Buckets, metric::Data,
    number_data_point::Value,
};
use tributary_pipeline_core::testing::Sink;

use super::accumulator::Accumulator;
use super::{Config, exponential, factory};
use crate::metric_stream::fixtures::*;

fn accumulator(yaml: &str) -> Accumulator {
    let config: Config = load_config(yaml).unwrap();
    Accumulator::new(&config, None)
}

fn run(
    accumulator: &mut Accumulator,
    requests: Vec<ExportMetricsServiceRequest>,
) -> Vec<ExportMetricsServiceRequest> {
    let now = Instant::now();
    requests
        .into_iter()
        .map(|mut request| {
            accumulator.accumulate(&mut request, now);
            request
        })
        .collect()
}

fn delta(start: u64, time: u64, value: i64) -> ExportMetricsServiceRequest {
    request(sum(
        "hits",
        DELTA,
        true,
        &[(s(start), s(time), Value::AsInt(value))],
    ))
}

#[test]
fn deltas_add_up_from_the_first_start_time() {
    let mut a = accumulator("");
    let out = run(
        &mut a,
        vec![
            delta(0, 10, 3),
            delta(10, 20, 4),
            // Irregular step and a gap (nothing reported for 20s..30s): added as is.
            delta(30, 35, 1),
            delta(35, 90, 10),
        ],
    );
    let points: Vec<_> = out.iter().flat_map(number_points).collect();
    assert_eq!(
        points,
        vec![
            (0, s(10), 3.0),
            (0, s(20), 7.0),
            (0, s(35), 8.0),
            (0, s(90), 18.0)
        ]
    );
    let Some(Data::Sum(sum)) = &first_metric(&out[0]).unwrap().data else {
        panic!("a sum")
    };
    assert_eq!(sum.aggregation_temporality, CUMULATIVE);
    assert_eq!(
        sum.data_points[0].value,
        Some(Value::AsInt(3)),
        "ints stay ints"
    );
}

#[test]
fn out_of_order_duplicate_and_older_start_points_are_dropped() {
    let mut a = accumulator("");
    let out = run(
        &mut a,
        vec![
            delta(10, 20, 1),
            delta(20, 30, 2),
            // Older than the last point: out of order.
            delta(15, 25, 100),
            // The same time again: a duplicate.
            delta(20, 30, 100),
            // Starts before the stream does: an older run.
            delta(5, 40, 100),
            delta(30, 40, 3),
        ],
    );
    let points: Vec<_> = out.iter().flat_map(number_points).collect();
    assert_eq!(
        points,
        vec![
            (s(10), s(20), 1.0),
            (s(10), s(30), 3.0),
            (s(10), s(40), 6.0)
        ]
    );
}

#[test]
fn streams_are_kept_apart_and_cumulative_data_passes() {
    let mut a = accumulator("");
    let mut two = request(sum(
        "hits",
        DELTA,
        true,
        &[(0, s(10), Value::AsDouble(1.5))],
    ));
    let mut other = sum("hits", DELTA, true, &[(0, s(10), Value::AsDouble(2.0))]);
    if let Some(Data::Sum(sum)) = &mut other.data {
        sum.data_points[0].attributes = attributes(&[("k", "w")]);
    }
    two.resource_metrics[0].scope_metrics[0].metrics.push(other);
    let cumulative = request(sum(
        "total",
        CUMULATIVE,
        true,
        &[(0, s(10), Value::AsInt(9))],
    ));
    let out = run(&mut a, vec![two, cumulative.clone()]);
    assert_eq!(a.tracked(), 2);
    assert_eq!(out[1], cumulative);
}

#[test]
fn max_streams_drops_points_of_further_streams() {
    let mut a = accumulator("max_streams: 1");
    let mut second = sum("hits", DELTA, true, &[(0, s(10), Value::AsInt(1))]);
    second.name = "other".into();
    let out = run(
        &mut a,
        vec![delta(0, 10, 1), request(second), delta(10, 20, 1)],
    );
    assert!(
        out[1].resource_metrics.is_empty(),
        "the second stream found no room"
    );
    assert_eq!(number_points(&out[2]), vec![(0, s(20), 2.0)]);
    assert_eq!(a.tracked(), 1);
}

#[test]
fn stale_streams_start_over() {
    let mut a = accumulator("max_stale: 2m");
    let start = Instant::now();
    let mut first = delta(0, 10, 5);
    a.accumulate(&mut first, start);
    // Three minutes later the stream was swept: it starts over from this delta.
    let mut later = delta(200, 210, 1);
    a.accumulate(&mut later, start + Duration::from_secs(180));
    assert_eq!(number_points(&later), vec![(s(200), s(210), 1.0)]);
}

#[test]
fn histograms_add_and_start_over_when_bounds_change() {
    let mut a = accumulator("");
    let h = |start, time, buckets: &[u64], sum| {
        request(histogram(
            "latency",
            DELTA,
            vec![histogram_point(s(start), s(time), buckets, sum)],
        ))
    };
    let out = run(
        &mut a,
        vec![
            h(0, 10, &[1, 2, 3], 10.0),
            h(10, 20, &[0, 1, 1], 5.0),
            // Two bounds → one bound: cannot merge; the total starts over here.
            h(20, 30, &[4, 1], 2.0),
        ],
    );
    let totals: Vec<_> = out
        .iter()
        .map(|r| match &first_metric(r).unwrap().data {
            Some(Data::Histogram(h)) => {
                assert_eq!(h.aggregation_temporality, CUMULATIVE);
                let p = &h.data_points[0];
                (
                    p.start_time_unix_nano,
                    p.time_unix_nano,
                    p.count,
                    p.sum,
                    p.bucket_counts.clone(),
                )
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        totals,
        vec![
            (0, s(10), 6, Some(10.0), vec![1, 2, 3]),
            (0, s(20), 8, Some(15.0), vec![1, 3, 4]),
            (s(20), s(30), 5, Some(2.0), vec![4, 1]),
        ]
    );
}

fn expo(time: u64, scale: i32, offset: i32, counts: &[u64]) -> ExponentialHistogramDataPoint {
    ExponentialHistogramDataPoint {
        attributes: attributes(&[("k", "v")]),
        time_unix_nano: s(time),
        scale,
        count: counts.iter().fold(0u64, |a, c| a.wrapping_add(*c)),
        sum: Some(1.0),
        positive: Some(Buckets {
            offset,
            bucket_counts: counts.to_vec(),
        }),
        ..Default::default()
    }
}

#[test]
fn exponential_histograms_merge_at_the_coarser_scale() {
    // Scale 1: buckets (2^(i/2), 2^((i+1)/2)]. Indices 0..3 at scale 1 are 0,0,1,1 at
    // scale 0.
    let mut state = expo(10, 1, 0, &[1, 2, 3, 4]);
    exponential::add(&mut state, &expo(20, 0, 0, &[10, 20]));
    assert_eq!(state.scale, 0);
    assert_eq!(
        state.positive,
        Some(Buckets {
            offset: 0,
            bucket_counts: vec![13, 27]
        })
    );
    assert_eq!(state.count, 40);
    assert_eq!(state.sum, Some(2.0));
    assert_eq!(state.time_unix_nano, s(20));

    // Far-apart buckets are downscaled until they span at most 160.
    let mut state = expo(10, 0, 0, &[1]);
    exponential::add(&mut state, &expo(20, 0, 1000, &[1]));
    let positive = state.positive.unwrap();
    assert!(positive.bucket_counts.len() as i64 <= exponential::MAX_BUCKETS);
    assert_eq!(positive.bucket_counts.iter().sum::<u64>(), 2);
    assert!(state.scale < 0);

    // Zeros at the far ends of the index space cost nothing.
    let mut state = expo(10, 0, i32::MIN + 1, &[0, 0, 1]);
    exponential::add(&mut state, &expo(20, 0, i32::MAX - 3, &[1, 0, 0]));
    assert!(state.positive.unwrap().bucket_counts.len() as i64 <= exponential::MAX_BUCKETS);
}

#[test]
fn a_wider_zero_threshold_absorbs_small_buckets() {
    // Scale 0: bucket i is (2^i, 2^(i+1)]. Threshold 4 swallows buckets 0 (1..2] and 1 (2..4].
    let mut state = expo(10, 0, 0, &[1, 1, 1]);
    let mut wide = expo(20, 0, 3, &[1]);
    wide.zero_threshold = 4.0;
    wide.zero_count = 2;
    exponential::add(&mut state, &wide);
    assert_eq!(state.zero_threshold, 4.0);
    assert_eq!(state.zero_count, 4);
    assert_eq!(
        state.positive,
        Some(Buckets {
            offset: 2,
            bucket_counts: vec![1, 1]
        })
    );
}

#[test]
fn exponential_histograms_of_invalid_scale_are_dropped() {
    let mut a = accumulator("");
    let out = run(
        &mut a,
        vec![request(exponential(
            "e",
            DELTA,
            vec![expo(10, 99, 0, &[1])],
        ))],
    );
    assert!(out[0].resource_metrics.is_empty());
}

#[test]
fn config_defaults_and_validation_match_go() {
    let config: Config = load_config("").unwrap();
    assert_eq!(config.max_stale, Duration::from_secs(300));
    assert_eq!(config.max_streams, i64::MAX as u64);
    let error = load_config::<Config>("max_stale: 0s").unwrap_err();
    assert_eq!(error.path(), "max_stale");
    assert!(load_config::<Config>("max_streams: -1").is_err());
    assert!(load_config::<Config>("max_series: 1").is_err());
    load_config::<Config>("max_stale: 1m\nmax_streams: 10")
        .unwrap()
        .validate()
        .unwrap();
}

#[tokio::test]
async fn the_deltatocumulative_processor_passes_the_conformance_suite() {
    tributary_pipeline_core::testing::check_processor(factory(), "").await;
}

#[tokio::test]
async fn the_processor_accumulates_and_counts_drops() {
    let settings =
        CreateSettings::standalone(Kind::Processor, "deltatocumulative".parse().unwrap(), None);
    let sink = Sink::<Metrics>::new();
    let processor = factory()
        .create::<Metrics>(&settings, &Config::default(), sink.next())
        .unwrap();
    for request in [delta(0, 10, 2), delta(10, 20, 3), delta(10, 20, 3)] {
        processor.consume(metrics(request)).await.unwrap();
    }
    let received = sink.received();
    assert_eq!(received.len(), 2, "the duplicate left nothing to send");
    assert_eq!(number_points(received[1].request()), vec![(0, s(20), 5.0)]);
    let rendered = settings.metrics().render_prometheus();
    assert!(
        rendered.contains(
            "otelcol_deltatocumulative_datapoints_dropped{processor=\"deltatocumulative\",reason=\"out_of_order\"} 1"
        ),
        "{rendered}"
    );
}

#[cfg(feature = "cumulativetodelta")]
mod round_trip {
    use super::*;
    use crate::cumulativetodelta;

    proptest! {
        /// cumulativetodelta then deltatocumulative preserves the total: whatever the
        /// steps, and across restarts of the counter, the output is the running sum of
        /// every increment.
        #[test]
        fn cumulative_to_delta_and_back_preserves_totals(
            steps in prop::collection::vec((1u64..100, 0i64..1_000, any::<bool>()), 1..40),
        ) {
            let ctd_config: cumulativetodelta::Config = load_config("initial_value: keep").unwrap();
            let ctd_settings = CreateSettings::standalone(
                Kind::Processor, "cumulativetodelta".parse().unwrap(), None);
            let dtc_settings = CreateSettings::standalone(
                Kind::Processor, "deltatocumulative".parse().unwrap(), None);
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            runtime.block_on(async {
                let sink = Sink::<Metrics>::new();
                let dtc: tributary_pipeline_core::consumer::Next<Metrics> =
                    factory().create::<Metrics>(&dtc_settings, &Config::default(), sink.next()).unwrap();
                let ctd = cumulativetodelta::factory()
                    .create::<Metrics>(&ctd_settings, &ctd_config, dtc)
                    .unwrap();
                // A counter that grows by the steps and restarts (new start time) when
                // told.
                let (mut time, mut start, mut value, mut total) = (s(1), s(1), 0i64, 0i64);
                let mut expected = Vec::new();
                for (dt, add, restart) in steps {
                    time += s(dt);
                    if restart {
                        start = time - 1;
                        value = 0;
                    }
                    value += add;
                    total += add;
                    expected.push(total as f64);
                    let cumulative = request(sum("c", CUMULATIVE, true, &[(start, time, Value::AsInt(value))]));
                    ctd.consume(metrics(cumulative)).await.unwrap();
                }
                let received: Vec<_> = sink.received().iter().flat_map(|m| number_points(m.request())).collect();
                // cumulativetodelta sends a restarted run's first point whole (it is a
                // new stream: Go keys by start time); deltatocumulative adds it on.
                let got: Vec<f64> = received.iter().map(|p| p.2).collect();
                prop_assert_eq!(got, expected);
                prop_assert!(received.iter().all(|p| p.0 == received[0].0), "one run from the first start");
                Ok(())
            })?;
        }

        /// The same for histograms: every bucket, the count and the sum come back.
        #[test]
        fn histograms_survive_the_round_trip(
            steps in prop::collection::vec((1u64..100, prop::collection::vec(0u64..20, 3)), 1..30),
        ) {
            let ctd_config: cumulativetodelta::Config = load_config("initial_value: keep").unwrap();
            let settings = CreateSettings::standalone(
                Kind::Processor, "deltatocumulative".parse().unwrap(), None);
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            runtime.block_on(async {
                let sink = Sink::<Metrics>::new();
                let dtc: tributary_pipeline_core::consumer::Next<Metrics> =
                    factory().create::<Metrics>(&settings, &Config::default(), sink.next()).unwrap();
                let ctd = cumulativetodelta::factory()
                    .create::<Metrics>(&settings, &ctd_config, dtc)
                    .unwrap();
                let (mut time, mut buckets, mut total_sum) = (s(1), vec![0u64; 3], 0.0);
                for (dt, adds) in steps {
                    time += s(dt);
                    for (b, add) in buckets.iter_mut().zip(&adds) {
                        *b += add;
                    }
                    total_sum += adds.iter().sum::<u64>() as f64 * 0.5;
                    let point = histogram_point(s(1), time, &buckets, total_sum);
                    ctd.consume(metrics(request(histogram("h", CUMULATIVE, vec![point])))).await.unwrap();
                }
                let last = sink.received().last().map(|m| m.request().clone()).unwrap();
                let Some(Data::Histogram(h)) = &first_metric(&last).unwrap().data else {
                    panic!("a histogram")
                };
                let point = &h.data_points[0];
                prop_assert_eq!(&point.bucket_counts, &buckets);
                prop_assert_eq!(point.count, buckets.iter().sum::<u64>());
                prop_assert!((point.sum.unwrap() - total_sum).abs() < 1e-6);
                prop_assert_eq!(point.start_time_unix_nano, s(1));
                Ok(())
            })?;
        }
    }
}

fn arbitrary_expo() -> impl Strategy<Value = ExponentialHistogramDataPoint> {
    (
        -10i32..=20,
        -2000i32..2000,
        prop::collection::vec(0u64..50, 0..40),
        -2000i32..2000,
        prop::collection::vec(0u64..50, 0..40),
        0u64..10,
    )
        .prop_map(|(scale, pos_offset, pos, neg_offset, neg, zero_count)| {
            let count = pos.iter().sum::<u64>() + neg.iter().sum::<u64>() + zero_count;
            ExponentialHistogramDataPoint {
                scale,
                count,
                zero_count,
                positive: Some(Buckets {
                    offset: pos_offset,
                    bucket_counts: pos,
                }),
                negative: Some(Buckets {
                    offset: neg_offset,
                    bucket_counts: neg,
                }),
                ..Default::default()
            }
        })
}

fn observations(point: &ExponentialHistogramDataPoint) -> u64 {
    let side = |b: &Option<Buckets>| {
        b.as_ref()
            .map_or(0, |b| b.bucket_counts.iter().sum::<u64>())
    };
    side(&point.positive) + side(&point.negative) + point.zero_count
}

proptest! {
    /// Merging never loses or invents an observation, lands at a scale no finer than
    /// either input, and spans at most MAX_BUCKETS buckets per side.
    #[test]
    fn exponential_merges_keep_every_observation(a in arbitrary_expo(), b in arbitrary_expo()) {
        let mut state = a.clone();
        exponential::add(&mut state, &b);
        prop_assert_eq!(state.count, a.count + b.count);
        prop_assert_eq!(observations(&state), observations(&a) + observations(&b));
        prop_assert!(state.scale <= a.scale.min(b.scale));
        for side in [&state.positive, &state.negative].into_iter().flatten() {
            prop_assert!(side.bucket_counts.len() as i64 <= exponential::MAX_BUCKETS);
        }
    }
}

/// Whatever a peer sends through the four temporality processors in a row, nothing
/// panics and each answers.
#[cfg(all(
    feature = "cumulativetodelta",
    feature = "deltatorate",
    feature = "metricstarttime"
))]
mod hostile {
    use tributary_pipeline_core::pdata::proto::metrics::v1::Metric;

    use super::*;
    use crate::{cumulativetodelta, deltatorate, metricstarttime};

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<i64>().prop_map(Value::AsInt),
            any::<f64>().prop_map(Value::AsDouble),
            Just(Value::AsDouble(f64::NAN)),
            Just(Value::AsInt(i64::MIN)),
        ]
    }

    fn time() -> impl Strategy<Value = u64> {
        prop_oneof![Just(0u64), Just(u64::MAX), 0u64..100, any::<u64>()]
    }

    fn metric() -> impl Strategy<Value = Metric> {
        let temporality = prop_oneof![Just(0), Just(DELTA), Just(CUMULATIVE), Just(7)];
        prop_oneof![
            (
                temporality.clone(),
                any::<bool>(),
                prop::collection::vec((time(), time(), value()), 0..4)
            )
                .prop_map(|(t, monotonic, points)| sum("m", t, monotonic, &points)),
            (
                temporality.clone(),
                prop::collection::vec(
                    (
                        time(),
                        time(),
                        prop::collection::vec(any::<u64>(), 0..4),
                        any::<f64>()
                    ),
                    0..3
                )
            )
                .prop_map(|(t, points)| histogram(
                    "m",
                    t,
                    points
                        .into_iter()
                        .map(|(start, time, buckets, sum)| histogram_point(
                            start, time, &buckets, sum
                        ))
                        .collect()
                )),
            (
                temporality,
                prop::collection::vec(
                    (
                        -30i32..40,
                        any::<i32>(),
                        prop::collection::vec(any::<u64>(), 0..5),
                        any::<f64>()
                    ),
                    0..3
                )
            )
                .prop_map(|(t, points)| exponential(
                    "m",
                    t,
                    points
                        .into_iter()
                        .map(|(scale, offset, counts, threshold)| {
                            let mut point = expo(1, scale, offset, &counts);
                            point.zero_threshold = threshold;
                            point
                        })
                        .collect()
                )),
        ]
    }

    proptest! {
        #[test]
        fn hostile_metrics_never_panic(requests in prop::collection::vec(metric(), 1..12)) {
            let settings = CreateSettings::standalone(Kind::Processor, "p".parse().unwrap(), None);
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            runtime.block_on(async {
                let sink = Sink::<Metrics>::new();
                let start: tributary_pipeline_core::consumer::Next<Metrics> = metricstarttime::factory()
                    .create::<Metrics>(&settings, &load_config("strategy: subtract_initial_point").unwrap(), sink.next())
                    .unwrap();
                let rate: tributary_pipeline_core::consumer::Next<Metrics> = deltatorate::factory()
                    .create::<Metrics>(&settings, &load_config("metrics: [m]").unwrap(), start)
                    .unwrap();
                let dtc: tributary_pipeline_core::consumer::Next<Metrics> = factory()
                    .create::<Metrics>(&settings, &Config::default(), rate)
                    .unwrap();
                let ctd = cumulativetodelta::factory()
                    .create::<Metrics>(&settings, &load_config("initial_value: keep").unwrap(), dtc)
                    .unwrap();
                for metric in requests {
                    ctd.consume(metrics(request(metric))).await.unwrap();
                }
            });
        }
    }
}
