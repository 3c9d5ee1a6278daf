//! Requests for the temporality processors' tests: one resource, one scope, one metric.

use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    AggregationTemporality, ExponentialHistogram, ExponentialHistogramDataPoint, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, metric::Data,
    number_data_point::Value,
};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;

pub const DELTA: i32 = AggregationTemporality::Delta as i32;
pub const CUMULATIVE: i32 = AggregationTemporality::Cumulative as i32;

/// Seconds to nanoseconds, for readable timestamps.
pub fn s(seconds: u64) -> u64 {
    seconds * 1_000_000_000
}

/// A request of one metric under resource `service.name=svc`, scope `test`.
pub fn request(metric: Metric) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![key_value("service.name", "svc")],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "test".into(),
                    ..Default::default()
                }),
                metrics: vec![metric],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// A sum named `name` with one point per `(start, time, value)`, attribute `k=v`.
pub fn sum(name: &str, temporality: i32, monotonic: bool, points: &[(u64, u64, Value)]) -> Metric {
    Metric {
        name: name.into(),
        data: Some(Data::Sum(Sum {
            data_points: points
                .iter()
                .map(|&(start, time, value)| NumberDataPoint {
                    attributes: vec![key_value("k", "v")],
                    start_time_unix_nano: start,
                    time_unix_nano: time,
                    value: Some(value),
                    ..Default::default()
                })
                .collect(),
            aggregation_temporality: temporality,
            is_monotonic: monotonic,
        })),
        ..Default::default()
    }
}

/// A histogram point with bounds `[1, 10]`.
pub fn histogram_point(start: u64, time: u64, buckets: &[u64], sum: f64) -> HistogramDataPoint {
    HistogramDataPoint {
        attributes: vec![key_value("k", "v")],
        start_time_unix_nano: start,
        time_unix_nano: time,
        count: buckets.iter().fold(0u64, |a, b| a.wrapping_add(*b)),
        sum: Some(sum),
        bucket_counts: buckets.to_vec(),
        explicit_bounds: vec![1.0, 10.0][..buckets.len().saturating_sub(1).min(2)].to_vec(),
        min: Some(0.5),
        max: Some(20.0),
        ..Default::default()
    }
}

/// A histogram metric named `name` of `points`.
pub fn histogram(name: &str, temporality: i32, points: Vec<HistogramDataPoint>) -> Metric {
    Metric {
        name: name.into(),
        data: Some(Data::Histogram(Histogram {
            data_points: points,
            aggregation_temporality: temporality,
        })),
        ..Default::default()
    }
}

/// An exponential histogram metric named `name` of `points`.
pub fn exponential(
    name: &str,
    temporality: i32,
    points: Vec<ExponentialHistogramDataPoint>,
) -> Metric {
    Metric {
        name: name.into(),
        data: Some(Data::ExponentialHistogram(ExponentialHistogram {
            data_points: points,
            aggregation_temporality: temporality,
        })),
        ..Default::default()
    }
}

/// The number points of the first metric of `request`, as `(start, time, value)`.
pub fn number_points(request: &ExportMetricsServiceRequest) -> Vec<(u64, u64, f64)> {
    request
        .resource_metrics
        .iter()
        .flat_map(|rm| &rm.scope_metrics)
        .flat_map(|sm| &sm.metrics)
        .flat_map(|m| match &m.data {
            Some(Data::Sum(s)) => s.data_points.clone(),
            Some(Data::Gauge(g)) => g.data_points.clone(),
            _ => Vec::new(),
        })
        .map(|p| {
            let value = match p.value {
                Some(Value::AsInt(v)) => v as f64,
                Some(Value::AsDouble(v)) => v,
                None => f64::NAN,
            };
            (p.start_time_unix_nano, p.time_unix_nano, value)
        })
        .collect()
}

/// The first metric of `request`, if any.
pub fn first_metric(request: &ExportMetricsServiceRequest) -> Option<&Metric> {
    request
        .resource_metrics
        .first()?
        .scope_metrics
        .first()?
        .metrics
        .first()
}

/// `request` as pipeline data.
pub fn metrics(request: ExportMetricsServiceRequest) -> Metrics {
    Metrics::new(request)
}

/// Attributes `k=v` in a given order.
pub fn attributes(pairs: &[(&str, &str)]) -> Vec<KeyValue> {
    pairs.iter().map(|(k, v)| key_value(*k, *v)).collect()
}
