//! Points to OTLP metrics, as InfluxData's `influx2otel` (the Go receiver's converter)
//! maps them: the schema is detected per line (Telegraf's Prometheus v1 or v2 layout,
//! else every numeric field is a gauge), tags split into resource attributes, scope and
//! data point attributes.

use std::collections::{BTreeMap, HashMap};

use chrono::DateTime;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, metric::Data, number_data_point,
};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::prelude::key_value;

use super::parse::Value;

/// The measurement of Telegraf's `prometheus-v2` layout.
const MEASUREMENT_PROMETHEUS: &str = "prometheus";
/// Tags that name the instrumentation scope.
const SCOPE_NAME: &str = "otel.library.name";
const SCOPE_VERSION: &str = "otel.library.version";
/// Telegraf's statsd plugin: a field holding the point's start, RFC 3339.
const START_TIME: &str = "start_time";
/// `prometheus-v2` histogram bound and summary quantile tags.
const BOUND_TAG: &str = "le";
const QUANTILE_TAG: &str = "quantile";

/// Tag keys that are resource attributes: the OpenTelemetry resource namespaces, as
/// `influx2otel` matches them (`^(service\.|telemetry\.|...)`).
const RESOURCE_PREFIXES: [&str; 17] = [
    "service.",
    "telemetry.",
    "container.",
    "process.",
    "host.",
    "os.",
    "cloud.",
    "deployment.",
    "k8s.",
    "aws.",
    "gcp.",
    "azure.",
    "faas.name",
    "faas.id",
    "faas.version",
    "faas.instance",
    "faas.max_memory",
];

fn is_resource_key(key: &str) -> bool {
    RESOURCE_PREFIXES
        .iter()
        .any(|prefix| key.starts_with(prefix))
}

/// What kind of metric a line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Gauge,
    Sum,
    Histogram,
}

impl Kind {
    fn of(data: &Data) -> Option<Kind> {
        match data {
            Data::Gauge(_) => Some(Kind::Gauge),
            Data::Sum(_) => Some(Kind::Sum),
            Data::Histogram(_) => Some(Kind::Histogram),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Gauge => "gauge",
            Kind::Sum => "sum",
            Kind::Histogram => "histogram",
        }
    }
}

/// Where a metric sits in the request: resource, scope and metric indexes.
type MetricAt = (usize, usize, usize);

/// A `prometheus-v2` histogram point's identity: its metric, time and attributes.
type PointKey = (MetricAt, u64, Vec<(String, String)>);

/// One request's metrics, grouped by resource, scope and metric name as lines arrive.
#[derive(Default)]
pub(crate) struct MetricsBatch {
    resources: Vec<ResourceMetrics>,
    resource_index: HashMap<Vec<(String, String)>, usize>,
    scope_index: HashMap<(usize, String, String), usize>,
    metric_index: HashMap<(usize, usize, String), usize>,
    /// `prometheus-v2` histograms arrive one line per bucket: their points, by time and
    /// attributes.
    histogram_points: HashMap<PointKey, usize>,
}

/// Where a data point goes: its metric, and its attributes.
struct Target {
    at: MetricAt,
    attributes: Vec<(String, String)>,
}

impl Target {
    fn key_values(&self) -> Vec<KeyValue> {
        self.attributes
            .iter()
            .map(|(k, v)| key_value(k.as_str(), v.as_str()))
            .collect()
    }
}

impl MetricsBatch {
    /// Adds one line. An error fails the request, as in Go.
    pub(crate) fn add_point(
        &mut self,
        measurement: &str,
        tags: &BTreeMap<String, String>,
        fields: &BTreeMap<String, Value>,
        time: u64,
    ) -> Result<(), String> {
        if measurement == MEASUREMENT_PROMETHEUS {
            if let Some(kind) = infer_v2(tags, fields) {
                return self.add_v2(kind, tags, fields, time);
            }
            return self.add_unknown(measurement, tags, fields, time);
        }
        // Telegraf's statsd timings carry several statistics per line: plain gauges.
        if tags.get("metric_type").map(String::as_str) == Some("timing") {
            return self.add_unknown(measurement, tags, fields, time);
        }
        match infer_v1(fields) {
            Some(kind) => self.add_v1(kind, measurement, tags, fields, time),
            None => self.add_unknown(measurement, tags, fields, time),
        }
    }

    /// The request, each histogram closed with its overflow (+Inf) bucket.
    pub(crate) fn finish(mut self) -> Metrics {
        let gathered: Vec<(MetricAt, usize)> = self
            .histogram_points
            .iter()
            .map(|((at, _, _), index)| (*at, *index))
            .collect();
        for (at, index) in gathered {
            if let Some(Data::Histogram(h)) = &mut self.metric(at).data {
                normalize_v2(&mut h.data_points[index]);
            }
        }
        for resource in &mut self.resources {
            for scope in &mut resource.scope_metrics {
                for metric in &mut scope.metrics {
                    if let Some(Data::Histogram(histogram)) = &mut metric.data {
                        for point in &mut histogram.data_points {
                            close_histogram(point);
                        }
                    }
                }
            }
        }
        Metrics::new(ExportMetricsServiceRequest {
            resource_metrics: self.resources,
        })
    }

    /// Telegraf `prometheus-v1`: the measurement is the metric; `gauge`, `counter`, or
    /// `count`/`sum` and one field per bucket bound.
    fn add_v1(
        &mut self,
        kind: Kind,
        measurement: &str,
        tags: &BTreeMap<String, String>,
        fields: &BTreeMap<String, Value>,
        time: u64,
    ) -> Result<(), String> {
        let start = start_time(fields);
        match kind {
            Kind::Gauge | Kind::Sum => {
                let key = if kind == Kind::Gauge {
                    "gauge"
                } else {
                    "counter"
                };
                let value = number(&fields[key])
                    .ok_or_else(|| format!("unsupported {key} value type of field {key:?}"))?;
                let target = self.lookup(measurement, tags, kind)?;
                self.push_number(target, start, time, value);
            }
            Kind::Histogram => {
                let (mut count, mut sum, mut buckets) = (None, None, Vec::new());
                for (key, value) in fields {
                    let as_float = |what: &str| match value {
                        Value::Float(f) => Ok(*f),
                        _ => Err(format!(
                            "unsupported histogram {what} value type of field {key:?}"
                        )),
                    };
                    match key.as_str() {
                        "count" => count = Some(as_float("count")? as u64),
                        "sum" => sum = Some(as_float("sum")?),
                        START_TIME => {}
                        other => {
                            if let Ok(bound) = other.parse::<f64>() {
                                buckets.push((bound, as_float("bucket")? as u64));
                            }
                        }
                    }
                }
                let count = count.ok_or("histogram count field not found")?;
                let sum = sum.ok_or("histogram sum field not found")?;
                buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
                let target = self.lookup(measurement, tags, kind)?;
                let point = HistogramDataPoint {
                    attributes: target.key_values(),
                    start_time_unix_nano: start,
                    time_unix_nano: time,
                    count,
                    sum: Some(sum),
                    explicit_bounds: buckets.iter().map(|b| b.0).collect(),
                    bucket_counts: decumulate(buckets.iter().map(|b| b.1).collect()),
                    ..Default::default()
                };
                if let Some(Data::Histogram(h)) = &mut self.metric(target.at).data {
                    h.data_points.push(point);
                }
            }
        }
        Ok(())
    }

    /// Telegraf `prometheus-v2`: measurement `prometheus`, the field is the metric;
    /// histogram buckets (`le`) and summary quantiles (`quantile`, taken as a histogram,
    /// as in Go) one line each, gathered into one point by time and attributes.
    fn add_v2(
        &mut self,
        kind: Kind,
        tags: &BTreeMap<String, String>,
        fields: &BTreeMap<String, Value>,
        time: u64,
    ) -> Result<(), String> {
        if kind == Kind::Gauge {
            let (name, value) = fields.iter().next().ok_or("no field")?;
            let value = number(value)
                .ok_or_else(|| format!("unsupported gauge value type of field {name:?}"))?;
            let target = self.lookup(name, tags, kind)?;
            self.push_number(target, 0, time, value);
            return Ok(());
        }
        let name = if tags.contains_key(BOUND_TAG) || tags.contains_key(QUANTILE_TAG) {
            let [(key, _)] = fields.iter().collect::<Vec<_>>()[..] else {
                return Err(format!(
                    "histogram line tagged {BOUND_TAG:?} or {QUANTILE_TAG:?} should have 1 field, found {}",
                    fields.len()
                ));
            };
            if tags.contains_key(BOUND_TAG) {
                key.strip_suffix("_bucket").unwrap_or(key).to_string()
            } else {
                key.clone()
            }
        } else {
            if fields.len() != 2 {
                return Err(format!(
                    "histogram count+sum line should have 2 fields, found {}",
                    fields.len()
                ));
            }
            let mut name = String::new();
            for key in fields.keys() {
                match key
                    .strip_suffix("_count")
                    .or_else(|| key.strip_suffix("_sum"))
                {
                    Some(stem) => name = stem.to_string(),
                    None => {
                        return Err(format!(
                            "histogram count+sum field {key:?} lacks a _count or _sum suffix"
                        ));
                    }
                }
            }
            name
        };
        let target = self.lookup(&name, tags, Kind::Histogram)?;
        let key = (target.at, time, target.attributes.clone());
        let index = match self.histogram_points.get(&key) {
            Some(index) => *index,
            None => {
                let Some(Data::Histogram(h)) = &mut self.metric(target.at).data else {
                    return Err("impossible metric type".into());
                };
                h.data_points.push(HistogramDataPoint {
                    attributes: target.key_values(),
                    time_unix_nano: time,
                    ..Default::default()
                });
                let index = h.data_points.len() - 1;
                self.histogram_points.insert(key, index);
                index
            }
        };
        let Some(Data::Histogram(h)) = &mut self.metric(target.at).data else {
            return Err("impossible metric type".into());
        };
        let point = &mut h.data_points[index];
        let float = |key: &str| match fields.get(key) {
            Some(Value::Float(f)) => Ok(Some(*f)),
            Some(_) => Err(format!("invalid value type for field {key:?}")),
            None => Ok(None),
        };
        let bucket_key = format!("{name}_bucket");
        if let Some(bound) = tags.get(BOUND_TAG) {
            let bound: f64 = bound
                .parse()
                .map_err(|_| format!("invalid value for histogram bucket bound: {bound:?}"))?;
            let count =
                float(&bucket_key)?.ok_or("histogram bucket bound has no matching count")?;
            point.explicit_bounds.push(bound);
            point.bucket_counts.push(count as u64);
        } else if fields.contains_key(&bucket_key) {
            return Err("histogram bucket count has no matching bound".into());
        }
        if let Some(quantile) = tags.get(QUANTILE_TAG) {
            let quantile: f64 = quantile
                .parse()
                .map_err(|_| format!("invalid value for summary quantile: {quantile:?}"))?;
            let value = float(&name)?.ok_or("summary quantile has no matching value")?;
            point.explicit_bounds.push(quantile);
            point.bucket_counts.push(value as u64);
        } else if fields.contains_key(&name) {
            return Err("summary quantile value has no matching quantile".into());
        }
        let (count, sum) = (
            float(&format!("{name}_count"))?,
            float(&format!("{name}_sum"))?,
        );
        match (count, sum) {
            (Some(count), Some(sum)) => {
                point.count = count as u64;
                point.sum = Some(sum);
            }
            (Some(_), None) => return Err("histogram count has no matching sum".into()),
            (None, Some(_)) => return Err("histogram sum has no matching count".into()),
            (None, None) => {}
        }
        Ok(())
    }

    /// No known layout: every numeric field is a gauge `<measurement>_<field>`; strings
    /// and booleans are left out.
    fn add_unknown(
        &mut self,
        measurement: &str,
        tags: &BTreeMap<String, String>,
        fields: &BTreeMap<String, Value>,
        time: u64,
    ) -> Result<(), String> {
        let start = start_time(fields);
        for (key, value) in fields {
            if key == START_TIME {
                continue;
            }
            let Some(value) = number(value) else {
                continue;
            };
            let target = self.lookup(&format!("{measurement}_{key}"), tags, Kind::Gauge)?;
            self.push_number(target, start, time, value);
        }
        Ok(())
    }

    fn push_number(
        &mut self,
        target: Target,
        start: u64,
        time: u64,
        value: number_data_point::Value,
    ) {
        let point = NumberDataPoint {
            attributes: target.key_values(),
            start_time_unix_nano: start,
            time_unix_nano: time,
            value: Some(value),
            ..Default::default()
        };
        match &mut self.metric(target.at).data {
            Some(Data::Gauge(g)) => g.data_points.push(point),
            Some(Data::Sum(s)) => s.data_points.push(point),
            _ => {}
        }
    }

    fn metric(&mut self, (r, s, m): MetricAt) -> &mut Metric {
        &mut self.resources[r].scope_metrics[s].metrics[m]
    }

    /// The metric `name` of `kind` for these tags, created when new; the tags left for
    /// the data point. A name already used for another kind fails, as in Go.
    fn lookup(
        &mut self,
        name: &str,
        tags: &BTreeMap<String, String>,
        kind: Kind,
    ) -> Result<Target, String> {
        let (mut scope_name, mut scope_version) = (String::new(), String::new());
        let (mut resource, mut attributes, mut delta) = (Vec::new(), Vec::new(), false);
        for (key, value) in tags {
            match key.as_str() {
                BOUND_TAG | QUANTILE_TAG | START_TIME => {}
                SCOPE_NAME => scope_name = value.clone(),
                SCOPE_VERSION => scope_version = value.clone(),
                "temporality" if value == "delta" => delta = true,
                key if is_resource_key(key) => resource.push((key.to_string(), value.clone())),
                _ => attributes.push((key.clone(), value.clone())),
            }
        }
        let r = match self.resource_index.get(&resource) {
            Some(r) => *r,
            None => {
                self.resources.push(ResourceMetrics {
                    resource: Some(Resource {
                        attributes: resource
                            .iter()
                            .map(|(k, v)| key_value(k.as_str(), v.as_str()))
                            .collect(),
                        ..Default::default()
                    }),
                    ..Default::default()
                });
                self.resource_index
                    .insert(resource, self.resources.len() - 1);
                self.resources.len() - 1
            }
        };
        let scope_key = (r, scope_name, scope_version);
        let s = match self.scope_index.get(&scope_key) {
            Some(s) => *s,
            None => {
                let scopes = &mut self.resources[r].scope_metrics;
                scopes.push(ScopeMetrics {
                    scope: Some(InstrumentationScope {
                        name: scope_key.1.clone(),
                        version: scope_key.2.clone(),
                        ..Default::default()
                    }),
                    ..Default::default()
                });
                let s = scopes.len() - 1;
                self.scope_index.insert(scope_key, s);
                s
            }
        };
        let metric_key = (r, s, name.to_string());
        let m = match self.metric_index.get(&metric_key) {
            Some(m) => {
                let metric = &self.resources[r].scope_metrics[s].metrics[*m];
                let existing = metric.data.as_ref().and_then(Kind::of);
                if existing != Some(kind) {
                    return Err(format!(
                        "value type conflict for metric {name:?}: it is a {}, this line makes a {}",
                        existing.map_or("metric", Kind::name),
                        kind.name()
                    ));
                }
                *m
            }
            None => {
                let temporality = if delta {
                    AggregationTemporality::Delta
                } else {
                    AggregationTemporality::Cumulative
                } as i32;
                let data = match kind {
                    Kind::Gauge => Data::Gauge(Gauge::default()),
                    Kind::Sum => Data::Sum(Sum {
                        aggregation_temporality: temporality,
                        is_monotonic: true,
                        ..Default::default()
                    }),
                    Kind::Histogram => Data::Histogram(Histogram {
                        aggregation_temporality: temporality,
                        ..Default::default()
                    }),
                };
                let metrics = &mut self.resources[r].scope_metrics[s].metrics;
                metrics.push(Metric {
                    name: name.to_string(),
                    data: Some(data),
                    ..Default::default()
                });
                let m = metrics.len() - 1;
                self.metric_index.insert(metric_key, m);
                m
            }
        };
        Ok(Target {
            at: (r, s, m),
            attributes,
        })
    }
}

/// `prometheus-v1` layout from the fields: `gauge`, `counter`, or a histogram's `count`,
/// `sum` or numeric bucket bounds (a summary's quantiles look the same: histogram, as in
/// Go).
fn infer_v1(fields: &BTreeMap<String, Value>) -> Option<Kind> {
    if fields.contains_key("gauge") {
        return Some(Kind::Gauge);
    }
    if fields.contains_key("counter") {
        return Some(Kind::Sum);
    }
    fields
        .keys()
        .any(|k| k == "count" || k == "sum" || k.parse::<f64>().is_ok())
        .then_some(Kind::Histogram)
}

/// `prometheus-v2` layout: a bound or quantile tag, or `_count`/`_sum` fields, make a
/// histogram; a single field a gauge.
fn infer_v2(tags: &BTreeMap<String, String>, fields: &BTreeMap<String, Value>) -> Option<Kind> {
    if tags.contains_key(BOUND_TAG) || tags.contains_key(QUANTILE_TAG) {
        return Some(Kind::Histogram);
    }
    if fields
        .keys()
        .any(|k| k.ends_with("_count") || k.ends_with("_sum"))
    {
        return Some(Kind::Histogram);
    }
    (fields.len() == 1).then_some(Kind::Gauge)
}

/// A numeric field as a data point value; unsigned values beyond `i64` wrap, as in Go.
fn number(value: &Value) -> Option<number_data_point::Value> {
    match value {
        Value::Float(f) => Some(number_data_point::Value::AsDouble(*f)),
        Value::Int(i) => Some(number_data_point::Value::AsInt(*i)),
        Value::UInt(u) => Some(number_data_point::Value::AsInt(*u as i64)),
        Value::Str(_) | Value::Bool(_) => None,
    }
}

/// The `start_time` field (Telegraf's statsd plugin), when it is an RFC 3339 time.
fn start_time(fields: &BTreeMap<String, Value>) -> u64 {
    match fields.get(START_TIME) {
        Some(Value::Str(text)) => DateTime::parse_from_rfc3339(text)
            .ok()
            .and_then(|t| t.timestamp_nanos_opt())
            .and_then(|t| u64::try_from(t).ok())
            .unwrap_or(0),
        _ => 0,
    }
}

/// Cumulative bucket counts (Prometheus's) to OTLP's per-bucket counts. Counts that
/// decrease are not cumulative (a summary's quantile values read as buckets): kept.
fn decumulate(mut counts: Vec<u64>) -> Vec<u64> {
    if counts.windows(2).all(|w| w[0] <= w[1]) {
        for i in (1..counts.len()).rev() {
            counts[i] -= counts[i - 1];
        }
    }
    counts
}

/// Sorts a `prometheus-v2` point's buckets (they arrive one line each, in any order)
/// and turns their cumulative counts into per-bucket counts, as `prometheus-v1`'s are.
fn normalize_v2(point: &mut HistogramDataPoint) {
    if point.bucket_counts.len() != point.explicit_bounds.len() {
        return;
    }
    let mut buckets: Vec<(f64, u64)> = point
        .explicit_bounds
        .iter()
        .copied()
        .zip(point.bucket_counts.iter().copied())
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    point.explicit_bounds = buckets.iter().map(|b| b.0).collect();
    point.bucket_counts = decumulate(buckets.iter().map(|b| b.1).collect());
}

/// Adds the overflow (+Inf) bucket: the count not in any bucket (all of it when the
/// buckets hold more than the count, as in Go).
fn close_histogram(point: &mut HistogramDataPoint) {
    if point.bucket_counts.len() != point.explicit_bounds.len() {
        return;
    }
    let in_buckets = point
        .bucket_counts
        .iter()
        .try_fold(0u64, |total, count| total.checked_add(*count));
    let overflow = in_buckets
        .and_then(|sum| point.count.checked_sub(sum))
        .unwrap_or(point.count);
    point.bucket_counts.push(overflow);
}
