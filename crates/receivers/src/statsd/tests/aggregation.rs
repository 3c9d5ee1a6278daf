//! One interval's aggregation: what each type becomes, keys, clients, the budget.

use std::net::{IpAddr, Ipv4Addr};

use tributary_pipeline_core::component::load_config;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::proto::metrics::v1::metric::Data;
use tributary_pipeline_core::pdata::proto::metrics::v1::number_data_point::Value;
use tributary_pipeline_core::pdata::proto::metrics::v1::{AggregationTemporality, Metric};

use super::{all_metrics, metric, pairs, resources, string_attributes};
use crate::statsd::aggregator::{AggregationSettings, Aggregator, Client};
use crate::statsd::{Config, ParseOptions, SCOPE_NAME, parse_packet};

const START: u64 = 1_000_000_000;
const NOW: u64 = 2_000_000_000;
const END: u64 = 3_000_000_000;

fn client(port: u16) -> Client {
    Client {
        address: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        port: Some(port),
    }
}

fn aggregator(yaml: &str) -> Aggregator {
    let config: Config = load_config(yaml).unwrap();
    Aggregator::new(AggregationSettings::new(&config, "1.2.3"), START)
}

/// Feeds `text`'s lines from `client`, all good; returns what the budget dropped.
fn feed(aggregator: &mut Aggregator, client: &Client, text: &str) -> usize {
    parse_packet(text.as_bytes(), &ParseOptions::default())
        .into_iter()
        .map(|line| aggregator.add(client, line.expect("a good line"), NOW))
        .sum()
}

/// The interval's batch, and its metrics.
fn flush(aggregator: &mut Aggregator) -> (Metrics, Vec<Metric>) {
    let (batch, dropped) = aggregator.flush(END);
    assert_eq!(dropped, 0);
    let metrics = all_metrics(&batch);
    (batch, metrics)
}

fn number(value: &Option<Value>) -> f64 {
    match value {
        Some(Value::AsDouble(d)) => *d,
        Some(Value::AsInt(i)) => *i as f64,
        None => f64::NAN,
    }
}

#[test]
fn counters_sum_values_over_their_rates_as_delta_integers() {
    let mut agg = aggregator("");
    feed(
        &mut agg,
        &client(1),
        "hits:3000|c|#k:v\nhits:4000|c|#k:v\nhits:20|c|@0.25|#k:v\nhits:1.9|c|#k:v",
    );
    let (_, metrics) = flush(&mut agg);
    let Some(Data::Sum(sum)) = metric(&metrics, "hits").data else {
        panic!("a sum")
    };
    assert_eq!(
        sum.aggregation_temporality,
        AggregationTemporality::Delta as i32
    );
    assert!(!sum.is_monotonic);
    let point = &sum.data_points[0];
    // 3000 + 4000 + 20/0.25 + 1 (each line truncated, as Go).
    assert_eq!(point.value, Some(Value::AsInt(7081)));
    assert_eq!(
        (point.start_time_unix_nano, point.time_unix_nano),
        (START, END)
    );
    assert_eq!(string_attributes(&point.attributes), pairs(&[("k", "v")]));
}

#[test]
fn monotonic_counters_and_timestamped_counters() {
    let mut agg = aggregator("is_monotonic_counter: true");
    feed(&mut agg, &client(1), "sent:2|c|T1700000000");
    let (_, metrics) = flush(&mut agg);
    let Some(Data::Sum(sum)) = metric(&metrics, "sent").data else {
        panic!("a sum")
    };
    assert!(sum.is_monotonic);
    assert_eq!(
        sum.aggregation_temporality,
        AggregationTemporality::Delta as i32
    );
    assert_eq!(sum.data_points[0].time_unix_nano, 1_700_000_000_000_000_000);
    assert_eq!(sum.data_points[0].start_time_unix_nano, START);
}

#[test]
fn gauges_keep_the_last_value_and_apply_signed_changes() {
    let mut agg = aggregator("");
    feed(
        &mut agg,
        &client(1),
        "load:500|g\nload:400|g\nload:+2|g\nload:-1|g\nfresh:-5|g\nfresh:+1|g\npacked:1:+1:+1|g",
    );
    let (_, metrics) = flush(&mut agg);
    let value = |name| {
        let Some(Data::Gauge(gauge)) = metric(&metrics, name).data else {
            panic!("a gauge")
        };
        assert_eq!(gauge.data_points.len(), 1);
        assert_eq!(gauge.data_points[0].time_unix_nano, NOW);
        number(&gauge.data_points[0].value)
    };
    assert_eq!(value("load"), 401.0);
    // The interval's first value sets the gauge, signed or not (as Go).
    assert_eq!(value("fresh"), -4.0);
    assert_eq!(value("packed"), 3.0);
}

#[test]
fn gauges_start_over_each_interval() {
    let mut agg = aggregator("");
    feed(&mut agg, &client(1), "g:10|g");
    flush(&mut agg);
    feed(&mut agg, &client(1), "g:+1|g");
    let (_, metrics) = flush(&mut agg);
    let Some(Data::Gauge(gauge)) = metric(&metrics, "g").data else {
        panic!()
    };
    assert_eq!(number(&gauge.data_points[0].value), 1.0);
}

#[test]
fn sets_count_distinct_members() {
    let mut agg = aggregator("");
    feed(
        &mut agg,
        &client(1),
        "users:alice|s\nusers:bob|s\nusers:alice|s\nusers:carol|s|#k:v",
    );
    let (_, metrics) = flush(&mut agg);
    // One gauge per series.
    let mut counts: Vec<_> = metrics
        .iter()
        .filter(|m| m.name == "users")
        .flat_map(|m| match &m.data {
            Some(Data::Gauge(gauge)) => gauge.data_points.clone(),
            other => panic!("a gauge: {other:?}"),
        })
        .map(|p| (string_attributes(&p.attributes), number(&p.value)))
        .collect();
    counts.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(counts, [(vec![], 2.0), (pairs(&[("k", "v")]), 1.0)]);
}

#[test]
fn timers_default_to_a_gauge_point_per_value() {
    let mut agg = aggregator("");
    feed(
        &mut agg,
        &client(1),
        "t:320|ms|@0.1\nt:100|ms\nh:1:2|h\nd:7|d",
    );
    let (_, metrics) = flush(&mut agg);
    let points = |name| {
        let Some(Data::Gauge(gauge)) = metric(&metrics, name).data else {
            panic!("a gauge")
        };
        gauge
            .data_points
            .iter()
            .map(|p| number(&p.value))
            .collect::<Vec<_>>()
    };
    assert_eq!(points("t"), [320.0, 100.0]);
    assert_eq!(points("h"), [1.0, 2.0]);
    assert_eq!(points("d"), [7.0]);
}

#[test]
fn an_unmapped_type_is_dropped() {
    let mut agg = aggregator(
        "timer_histogram_mapping: [{statsd_type: timing, observer_type: disabled}, {statsd_type: histogram, observer_type: gauge}]",
    );
    feed(&mut agg, &client(1), "t:1|ms\nd:1|d\nh:1|h");
    let (_, metrics) = flush(&mut agg);
    let names: Vec<_> = metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["h"]);
}

#[test]
fn summaries_weight_values_by_their_rates() {
    let mut agg = aggregator(
        "timer_histogram_mapping: [{statsd_type: timer, observer_type: summary, summary: {percentiles: [0, 50, 90, 100]}}, {statsd_type: distribution, observer_type: summary}]",
    );
    feed(
        &mut agg,
        &client(1),
        "lat:1|ms\nlat:2|ms\nlat:3|ms|@0.5\nlat:10|ms\nd:5|d",
    );
    let (_, metrics) = flush(&mut agg);
    let Some(Data::Summary(summary)) = metric(&metrics, "lat").data else {
        panic!("a summary")
    };
    let point = &summary.data_points[0];
    // Weights 1, 1, 2, 1: count 5, sum 1 + 2 + 6 + 10.
    assert_eq!((point.count, point.sum), (5, 19.0));
    assert_eq!(
        (point.start_time_unix_nano, point.time_unix_nano),
        (START, END)
    );
    let quantiles: Vec<_> = point
        .quantile_values
        .iter()
        .map(|q| (q.quantile, q.value))
        .collect();
    // Cumulative weights 1, 2, 4, 5 over values 1, 2, 3, 10 (gonum's empirical rule).
    assert_eq!(
        quantiles,
        [(0.0, 1.0), (0.5, 3.0), (0.9, 10.0), (1.0, 10.0)]
    );
    // Distributions get Go's default percentiles.
    let Some(Data::Summary(summary)) = metric(&metrics, "d").data else {
        panic!("a summary")
    };
    let quantiles: Vec<_> = summary.data_points[0]
        .quantile_values
        .iter()
        .map(|q| q.quantile)
        .collect();
    assert_eq!(quantiles, [0.0, 0.1, 0.5, 0.9, 0.95, 1.0]);
}

#[test]
fn histograms_become_exponential_histograms() {
    let mut agg = aggregator(
        "timer_histogram_mapping: [{statsd_type: histogram, observer_type: histogram, histogram: {max_size: 10}}]",
    );
    feed(
        &mut agg,
        &client(1),
        "size:1|h\nsize:2|h\nsize:1000|h|@0.5\nsize:0|h\nsize:-4|h",
    );
    let (_, metrics) = flush(&mut agg);
    let Some(Data::ExponentialHistogram(histogram)) = metric(&metrics, "size").data else {
        panic!("an exponential histogram")
    };
    assert_eq!(
        histogram.aggregation_temporality,
        AggregationTemporality::Delta as i32
    );
    let point = &histogram.data_points[0];
    assert_eq!(point.count, 6);
    assert_eq!(point.sum, Some(1.0 + 2.0 + 2000.0 - 4.0));
    assert_eq!((point.min, point.max), (Some(-4.0), Some(1000.0)));
    assert_eq!(point.zero_count, 1);
    let positive = point.positive.as_ref().unwrap();
    assert!(positive.bucket_counts.len() <= 10);
    assert_eq!(positive.bucket_counts.iter().sum::<u64>(), 4);
    assert_eq!(
        point
            .negative
            .as_ref()
            .unwrap()
            .bucket_counts
            .iter()
            .sum::<u64>(),
        1
    );
}

#[test]
fn series_are_keyed_by_name_type_and_attributes() {
    let mut agg = aggregator("");
    feed(
        &mut agg,
        &client(1),
        "x:1|c|#a:1\nx:1|c|#a:2\nx:1|c|#a:1\nx:5|g|#a:1",
    );
    let (_, metrics) = flush(&mut agg);
    let sums: Vec<_> = metrics
        .iter()
        .filter_map(|m| match &m.data {
            Some(Data::Sum(sum)) => Some((
                string_attributes(&sum.data_points[0].attributes),
                number(&sum.data_points[0].value),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        sums,
        [(pairs(&[("a", "1")]), 2.0), (pairs(&[("a", "2")]), 1.0)]
    );
    assert_eq!(metrics.len(), 3);
}

#[test]
fn each_client_is_a_resource_under_the_receivers_scope() {
    let mut agg = aggregator("");
    feed(&mut agg, &client(1000), "x:1|c");
    feed(&mut agg, &client(2000), "x:2|c");
    feed(&mut agg, &Client::LOCAL, "x:3|c");
    let (batch, _) = flush(&mut agg);
    let resources = resources(&batch);
    assert_eq!(resources.len(), 3);
    let mut seen: Vec<_> = resources
        .iter()
        .map(|r| {
            let scope = r.scope_metrics[0].scope.as_ref().unwrap();
            assert_eq!(
                (scope.name.as_str(), scope.version.as_str()),
                (SCOPE_NAME, "1.2.3")
            );
            string_attributes(&r.resource.as_ref().unwrap().attributes)
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            vec![],
            pairs(&[("source.address", "127.0.0.1"), ("source.port", "1000")]),
            pairs(&[("source.address", "127.0.0.1"), ("source.port", "2000")]),
        ]
    );
}

#[test]
fn ip_only_clients_aggregate_across_ports() {
    // The receiver drops the port for enable_ip_only_aggregation; the same client then
    // aggregates into one resource.
    let mut agg = aggregator("enable_ip_only_aggregation: true");
    let ip_only = Client {
        address: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        port: None,
    };
    feed(&mut agg, &ip_only, "x:1|c");
    feed(&mut agg, &ip_only, "x:2|c");
    let (batch, metrics) = flush(&mut agg);
    assert_eq!(resources(&batch).len(), 1);
    let Some(Data::Sum(sum)) = metric(&metrics, "x").data else {
        panic!()
    };
    assert_eq!(number(&sum.data_points[0].value), 3.0);
}

#[test]
fn the_budget_bounds_series_and_values_and_counts_the_excess() {
    let config: Config =
        load_config("timer_histogram_mapping: [{statsd_type: timer, observer_type: summary}]")
            .unwrap();
    let mut settings = AggregationSettings::new(&config, "");
    settings.max_entries = 5;
    let mut agg = Aggregator::new(settings, START);
    // Three series (3 entries), a set's second and third members (2 more): full.
    assert_eq!(
        feed(&mut agg, &client(1), "a:1|c\nb:1|g\ns:x|s\ns:y|s\ns:z|s"),
        0
    );
    // Existing counters and gauges still take values; new series, members, samples do not.
    assert_eq!(
        feed(
            &mut agg,
            &client(1),
            "a:1|c\nb:2|g\nnew:1|c\ns:w|s\ns:x|s\nt:1:2|ms"
        ),
        4
    );
    assert_eq!(feed(&mut agg, &client(2), "x:1|c"), 1);
    let (batch, dropped) = agg.flush(END);
    assert_eq!(dropped, 5);
    assert_eq!(resources(&batch).len(), 1);
    let metrics = all_metrics(&batch);
    let names: Vec<_> = metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "s"]);
    let Some(Data::Sum(sum)) = metric(&metrics, "a").data else {
        panic!()
    };
    assert_eq!(number(&sum.data_points[0].value), 2.0);
    // The next interval has its whole budget again.
    assert_eq!(feed(&mut agg, &client(1), "new:1|c\nt:1:2|ms"), 0);
}
