//! Plain data points, the same in three encodings, for comparing what it costs a collector
//! to take in one point over OTLP, InfluxDB line protocol or StatsD.
//!
//! A point is a gauge (a double) or a counter increment (an integer) of one of six metrics,
//! with three attributes (`host`, `method`, `route`): about 500 distinct series, as a fleet
//! of hosts reporting a handful of service metrics would send. In OTLP the counters are
//! delta monotonic sums, as a StatsD aggregator or an InfluxDB write would make them
//! (or cumulative ones, for exporters such as `prometheusremotewrite` that drop deltas).
//!
//! The same points also come as a Prometheus remote-write request (`prw`): a series per
//! point, named as Prometheus would (`http_requests_total`), with `job` and `instance`
//! labels as a scraping Prometheus adds them.

use std::fmt::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::payloads::Rng;
use crate::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use crate::proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value::Value};
use crate::proto::metrics::v1::{
    AggregationTemporality, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    metric, number_data_point,
};
use crate::proto::resource::v1::Resource;
use tributary_translator_prometheus::prompb::{Label, Sample, TimeSeries, WriteRequest};

/// Metric names and whether each is a counter.
const METRICS: [(&str, bool); 6] = [
    ("cpu_usage", false),
    ("http_requests", true),
    ("memory_used_bytes", false),
    ("http_errors", true),
    ("queue_depth", false),
    ("bytes_sent", true),
];
const METHODS: [&str; 3] = ["GET", "POST", "PUT"];
const ROUTES: [&str; 4] = ["/api/users", "/api/orders", "/api/cart", "/healthz"];
const HOSTS: u64 = 8;

/// One data point.
pub struct Point {
    metric: usize,
    host: u64,
    method: &'static str,
    route: &'static str,
    /// A gauge's value, or a counter's increment (a whole number).
    value: f64,
}

impl Point {
    fn name(&self) -> &'static str {
        METRICS[self.metric].0
    }

    fn counter(&self) -> bool {
        METRICS[self.metric].1
    }
}

/// `count` random points.
pub fn points(rng: &mut Rng, count: usize) -> Vec<Point> {
    (0..count)
        .map(|_| {
            let metric = rng.below(METRICS.len() as u64) as usize;
            let value = if METRICS[metric].1 {
                (1 + rng.below(100)) as f64
            } else {
                rng.below(1_000_000) as f64 / 100.0
            };
            Point {
                metric,
                host: rng.below(HOSTS),
                method: rng.pick(&METHODS),
                route: rng.pick(&ROUTES),
                value,
            }
        })
        .collect()
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn string(key: &str, value: impl Into<String>) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

/// Start time of cumulative counters: an hour before the pool was built.
const CUMULATIVE_WINDOW_NANOS: u64 = 3_600 * 1_000_000_000;

/// The points as one OTLP request: a metric per name, a data point per point. Counters are
/// delta monotonic sums, or cumulative ones (with a start time) when `cumulative`.
pub fn otlp(points: &[Point], cumulative: bool) -> ExportMetricsServiceRequest {
    let now = now_nanos();
    let (temporality, start) = if cumulative {
        (
            AggregationTemporality::Cumulative,
            now.saturating_sub(CUMULATIVE_WINDOW_NANOS),
        )
    } else {
        (AggregationTemporality::Delta, 0)
    };
    let mut metrics: Vec<Metric> = METRICS
        .iter()
        .map(|&(name, counter)| Metric {
            name: name.to_string(),
            data: Some(if counter {
                metric::Data::Sum(Sum {
                    data_points: Vec::new(),
                    aggregation_temporality: temporality as i32,
                    is_monotonic: true,
                })
            } else {
                metric::Data::Gauge(Gauge {
                    data_points: Vec::new(),
                })
            }),
            ..Default::default()
        })
        .collect();
    for point in points {
        let data_point = NumberDataPoint {
            attributes: vec![
                string("host", format!("host-{}", point.host)),
                string("method", point.method),
                string("route", point.route),
            ],
            start_time_unix_nano: if point.counter() { start } else { 0 },
            time_unix_nano: now,
            value: Some(if point.counter() {
                number_data_point::Value::AsInt(point.value as i64)
            } else {
                number_data_point::Value::AsDouble(point.value)
            }),
            ..Default::default()
        };
        match &mut metrics[point.metric].data {
            Some(metric::Data::Sum(sum)) => sum.data_points.push(data_point),
            Some(metric::Data::Gauge(gauge)) => gauge.data_points.push(data_point),
            _ => unreachable!("every metric is made a sum or a gauge above"),
        }
    }
    metrics.retain(|m| match &m.data {
        Some(metric::Data::Sum(sum)) => !sum.data_points.is_empty(),
        Some(metric::Data::Gauge(gauge)) => !gauge.data_points.is_empty(),
        _ => false,
    });
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![string("service.name", "telemetrygen")],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "telemetrygen".to_string(),
                    ..Default::default()
                }),
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// The points as InfluxDB line protocol, one line each, nanosecond timestamps:
/// `cpu_usage,host=host-3,method=GET,route=/api/cart value=12.5 1700000000000000000`.
pub fn line_protocol(points: &[Point]) -> Vec<u8> {
    let now = now_nanos();
    let mut out = String::with_capacity(points.len() * 80);
    for point in points {
        let _ = write!(
            out,
            "{},host=host-{},method={},route={} value=",
            point.name(),
            point.host,
            point.method,
            point.route
        );
        if point.counter() {
            let _ = write!(out, "{}i", point.value as i64);
        } else {
            let _ = write!(out, "{}", point.value);
        }
        let _ = writeln!(out, " {now}");
    }
    out.into_bytes()
}

/// The points as DogStatsD lines, one datagram's worth:
/// `http_requests:3|c|#host:host-3,method:GET,route:/api/cart`.
pub fn statsd(points: &[Point]) -> Vec<u8> {
    let mut out = String::with_capacity(points.len() * 64);
    for point in points {
        let kind = if point.counter() { "c" } else { "g" };
        let _ = writeln!(
            out,
            "{}:{}|{kind}|#host:host-{},method:{},route:{}",
            point.name(),
            point.value,
            point.host,
            point.method,
            point.route
        );
    }
    out.into_bytes()
}

/// The points as one Prometheus remote-write request: a series per point, labels sorted by
/// name, counters named with `_total`. Samples are a millisecond apart, the last one now,
/// so a series that appears twice in a request still has its samples in time order.
pub fn remote_write(points: &[Point]) -> WriteRequest {
    let now_ms = (now_nanos() / 1_000_000) as i64;
    let count = points.len() as i64;
    let timeseries = points
        .iter()
        .enumerate()
        .map(|(index, point)| {
            let name = if point.counter() {
                format!("{}_total", point.name())
            } else {
                point.name().to_string()
            };
            TimeSeries {
                labels: vec![
                    Label::new("__name__", name),
                    Label::new("host", format!("host-{}", point.host)),
                    Label::new("instance", format!("host-{}:9100", point.host)),
                    Label::new("job", "telemetrygen"),
                    Label::new("method", point.method),
                    Label::new("route", point.route),
                ],
                samples: vec![Sample {
                    value: point.value,
                    timestamp: now_ms - count + 1 + index as i64,
                }],
                ..Default::default()
            }
        })
        .collect();
    WriteRequest {
        timeseries,
        ..Default::default()
    }
}
