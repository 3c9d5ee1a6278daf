//! Merging the data points of a metric that fall together once labels were dropped or
//! values renamed: Go's `aggregateutil` (points with equal labels and timestamps, and for
//! deltas equal start times, become one).

use std::collections::HashMap;

use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::proto::metrics::v1::exponential_histogram_data_point::Buckets;
use tributary_pipeline_core::pdata::proto::metrics::v1::metric::Data;
use tributary_pipeline_core::pdata::proto::metrics::v1::number_data_point::Value;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    AggregationTemporality, ExponentialHistogramDataPoint, HistogramDataPoint, Metric,
    NumberDataPoint,
};

use super::config::AggregationType;

/// Merges the metric's points that share labels and timestamps (and, for deltas, start
/// times; for histograms, bounds or scale and offsets). Without an aggregation type a
/// merged number point keeps the first point's value, as in Go. Summaries are left as
/// they are: Go drops them here, which loses data.
pub(crate) fn aggregate(metric: &mut Metric, how: Option<AggregationType>) {
    let delta = AggregationTemporality::Delta as i32;
    match &mut metric.data {
        Some(Data::Gauge(g)) => {
            g.data_points = merge(
                &mut g.data_points,
                |p| number_key(p, false),
                |group| merge_numbers(group, how),
            );
        }
        Some(Data::Sum(s)) => {
            let by_start = s.aggregation_temporality == delta;
            s.data_points = merge(
                &mut s.data_points,
                |p| number_key(p, by_start),
                |group| merge_numbers(group, how),
            );
        }
        Some(Data::Histogram(h)) => {
            let by_start = h.aggregation_temporality == delta;
            h.data_points = merge(
                &mut h.data_points,
                |p| {
                    let start = by_start.then_some(p.start_time_unix_nano);
                    let shape = (
                        &p.explicit_bounds,
                        p.min.is_some(),
                        p.max.is_some(),
                        p.flags,
                    );
                    format!(
                        "{}|{}|{start:?}|{shape:?}",
                        labels_key(&p.attributes),
                        p.time_unix_nano
                    )
                },
                merge_histograms,
            );
        }
        Some(Data::ExponentialHistogram(e)) => {
            let by_start = e.aggregation_temporality == delta;
            e.data_points = merge(
                &mut e.data_points,
                |p| {
                    let start = by_start.then_some(p.start_time_unix_nano);
                    let offset = |b: &Option<Buckets>| b.as_ref().map_or(0, |b| b.offset);
                    let shape = (
                        p.scale,
                        p.min.is_some(),
                        p.max.is_some(),
                        p.flags,
                        offset(&p.negative),
                        offset(&p.positive),
                    );
                    format!(
                        "{}|{}|{start:?}|{shape:?}",
                        labels_key(&p.attributes),
                        p.time_unix_nano
                    )
                },
                merge_exponential,
            );
        }
        Some(Data::Summary(_)) | None => {}
    }
}

/// The labels as a key that ignores their order.
fn labels_key(attributes: &[KeyValue]) -> String {
    let mut pairs: Vec<_> = attributes
        .iter()
        .map(|kv| (kv.key.as_str(), &kv.value))
        .collect();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    format!("{pairs:?}")
}

fn number_key(point: &NumberDataPoint, by_start: bool) -> String {
    let start = by_start.then_some(point.start_time_unix_nano);
    format!(
        "{}|{}|{start:?}",
        labels_key(&point.attributes),
        point.time_unix_nano
    )
}

/// Groups `points` by `key`, in order of first appearance, and merges each group.
fn merge<T>(
    points: &mut Vec<T>,
    key: impl Fn(&T) -> String,
    merge: impl Fn(Vec<T>) -> T,
) -> Vec<T> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<Vec<T>> = Vec::new();
    for point in std::mem::take(points) {
        let slot = *index.entry(key(&point)).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[slot].push(point);
    }
    groups.into_iter().map(merge).collect()
}

fn as_double(point: &NumberDataPoint) -> f64 {
    match point.value {
        Some(Value::AsDouble(v)) => v,
        Some(Value::AsInt(v)) => v as f64,
        None => 0.0,
    }
}

fn as_int(point: &NumberDataPoint) -> i64 {
    match point.value {
        Some(Value::AsDouble(v)) => v as i64,
        Some(Value::AsInt(v)) => v,
        None => 0,
    }
}

/// One point from a non-empty group: the first point's labels, timestamp and value type,
/// the earliest start time, and the aggregate of the values. `count` counts the points.
fn merge_numbers(group: Vec<NumberDataPoint>, how: Option<AggregationType>) -> NumberDataPoint {
    let n = group.len();
    let start = group
        .iter()
        .map(|p| p.start_time_unix_nano)
        .min()
        .unwrap_or(0);
    let Some(how) = how else {
        let mut first = group.into_iter().next().unwrap_or_default();
        first.start_time_unix_nano = start;
        return first;
    };
    let value = match group.first().and_then(|p| p.value) {
        Some(Value::AsDouble(_)) => Some(Value::AsDouble(aggregate_doubles(
            group.iter().map(as_double).collect(),
            how,
        ))),
        Some(Value::AsInt(_)) => Some(Value::AsInt(aggregate_ints(
            group.iter().map(as_int).collect(),
            how,
        ))),
        None => None,
    };
    let mut merged = group.into_iter().next().unwrap_or_default();
    merged.start_time_unix_nano = start;
    if n > 1 || how == AggregationType::Count {
        merged.value = value;
    }
    merged
}

fn aggregate_doubles(mut values: Vec<f64>, how: AggregationType) -> f64 {
    let n = values.len() as f64;
    match how {
        AggregationType::Sum => values.iter().sum(),
        AggregationType::Mean => values.iter().sum::<f64>() / n,
        AggregationType::Min => values.iter().copied().fold(f64::INFINITY, f64::min),
        AggregationType::Max => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        AggregationType::Count => n,
        AggregationType::Median => {
            values.sort_by(f64::total_cmp);
            let mid = values.len() / 2;
            if values.len() % 2 == 1 {
                values[mid]
            } else {
                (values[mid - 1] + values[mid]) / 2.0
            }
        }
    }
}

fn aggregate_ints(mut values: Vec<i64>, how: AggregationType) -> i64 {
    let n = values.len() as i64;
    // Sums wrap rather than panic: a peer controls the values.
    let sum = || values.iter().fold(0i64, |a, v| a.wrapping_add(*v));
    match how {
        AggregationType::Sum => sum(),
        AggregationType::Mean => sum() / n.max(1),
        AggregationType::Min => values.iter().copied().min().unwrap_or(0),
        AggregationType::Max => values.iter().copied().max().unwrap_or(0),
        AggregationType::Count => n,
        AggregationType::Median => {
            values.sort_unstable();
            let mid = values.len() / 2;
            if values.len() % 2 == 1 {
                values[mid]
            } else {
                ((i128::from(values[mid - 1]) + i128::from(values[mid])) / 2) as i64
            }
        }
    }
}

/// Adds `from`'s counts to `into`'s, bucket by bucket, growing `into` as needed.
fn add_counts(into: &mut Vec<u64>, from: &[u64]) {
    if into.len() < from.len() {
        into.resize(from.len(), 0);
    }
    for (total, count) in into.iter_mut().zip(from) {
        *total = total.wrapping_add(*count);
    }
}

fn add_sum(into: &mut Option<f64>, from: Option<f64>) {
    if into.is_some() || from.is_some() {
        *into = Some(into.unwrap_or(0.0) + from.unwrap_or(0.0));
    }
}

/// Go's histogram merge: counts, sums and buckets add up, min and max widen, exemplars
/// gather; empty points are skipped.
fn merge_histograms(group: Vec<HistogramDataPoint>) -> HistogramDataPoint {
    let mut points = group.into_iter();
    let mut merged = points.next().unwrap_or_default();
    for point in points {
        merged.start_time_unix_nano = merged.start_time_unix_nano.min(point.start_time_unix_nano);
        if point.count == 0 {
            continue;
        }
        merged.count = merged.count.wrapping_add(point.count);
        add_sum(&mut merged.sum, point.sum);
        merged.min = merged.min.map(|m| point.min.map_or(m, |p| m.min(p)));
        merged.max = merged.max.map(|m| point.max.map_or(m, |p| m.max(p)));
        add_counts(&mut merged.bucket_counts, &point.bucket_counts);
        merged.exemplars.extend(point.exemplars);
    }
    merged
}

fn merge_exponential(group: Vec<ExponentialHistogramDataPoint>) -> ExponentialHistogramDataPoint {
    fn add_buckets(into: &mut Option<Buckets>, from: Option<Buckets>) {
        if let Some(from) = from {
            let into = into.get_or_insert_with(|| Buckets {
                offset: from.offset,
                bucket_counts: Vec::new(),
            });
            add_counts(&mut into.bucket_counts, &from.bucket_counts);
        }
    }
    let mut points = group.into_iter();
    let mut merged = points.next().unwrap_or_default();
    for point in points {
        merged.start_time_unix_nano = merged.start_time_unix_nano.min(point.start_time_unix_nano);
        if point.count == 0 {
            continue;
        }
        merged.count = merged.count.wrapping_add(point.count);
        add_sum(&mut merged.sum, point.sum);
        merged.zero_count = merged.zero_count.wrapping_add(point.zero_count);
        merged.min = merged.min.map(|m| point.min.map_or(m, |p| m.min(p)));
        merged.max = merged.max.map(|m| point.max.map_or(m, |p| m.max(p)));
        add_buckets(&mut merged.positive, point.positive);
        add_buckets(&mut merged.negative, point.negative);
        merged.exemplars.extend(point.exemplars);
    }
    merged
}
