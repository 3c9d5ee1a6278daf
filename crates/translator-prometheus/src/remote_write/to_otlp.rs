//! Remote-write series → OTLP metrics, for the `prometheusremotewrite` receiver.
//!
//! Series are grouped into metric families. A family's type comes from the request's
//! metadata when it has an entry for it, else from the names: `_bucket` series with an
//! `le` label make a histogram (with the family's `_sum` and `_count`), series with a
//! `quantile` label a summary (likewise), a name ending in `_total` (or counter metadata)
//! a monotonic cumulative sum, anything else a gauge. Native histogram
//! samples make an exponential histogram. Names are kept as they are (the Prometheus →
//! OTLP rule). Labels become data point attributes, except:
//!
//! * `job` and `instance` name the resource (`service.namespace`/`service.name` split at
//!   the first `/`, `service.instance.id`), as the Go receivers do;
//! * `target_info` series add their labels to the resource of their job and instance
//!   and are not metrics themselves;
//! * `otel_scope_name` and `otel_scope_version` name the scope.
//!
//! A staleness marker becomes a point flagged "no recorded value". Prometheus does not
//! carry start times over remote write 1.0, so sums and histograms have none (0).
//! Exemplars are attached to the points of their series with the same timestamp, or the
//! latest one, `trace_id`/`span_id` labels becoming the span context.

use std::collections::{BTreeMap, HashMap};

use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    AggregationTemporality, DataPointFlags, Exemplar as OtlpExemplar, ExponentialHistogram,
    ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint, exemplar,
    exponential_histogram_data_point, metric, number_data_point, summary_data_point,
};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;

use crate::prompb::{self, HistogramCount, HistogramZeroCount, MetricType, WriteRequest};

/// What [`to_otlp`] made of a request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Converted {
    /// The metrics, one `ResourceMetrics` per job and instance.
    pub resource_metrics: Vec<ResourceMetrics>,
    /// Series left out, with why (no `__name__`, a `_bucket` without `le`, ...).
    pub dropped_series: usize,
    /// Native histogram samples left out: buckets that do not add up, or gaps that would
    /// expand far beyond what was sent.
    pub dropped_histograms: usize,
}

/// The name of the scope data without `otel_scope_name` gets.
pub const DEFAULT_SCOPE_NAME: &str = "tributary/prometheusremotewrite";

/// How a family is carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    Gauge,
    Counter,
    Histogram,
    Summary,
    Native,
}

/// Where a series goes: its resource, scope, family and attributes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct ResourceKey {
    job: String,
    instance: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct ScopeKey {
    name: String,
    version: String,
}

/// A histogram or summary point being assembled from its series.
#[derive(Default)]
struct Compound {
    /// `le` or `quantile` → value.
    parts: Vec<(f64, f64)>,
    sum: Option<f64>,
    count: Option<f64>,
    stale: bool,
    exemplars: Vec<OtlpExemplar>,
}

/// One family's points, by attributes and time.
struct Family {
    kind: Kind,
    help: String,
    unit: String,
    numbers: Vec<NumberDataPoint>,
    compounds: BTreeMap<(Vec<(String, String)>, i64), Compound>,
    natives: Vec<ExponentialHistogramDataPoint>,
}

impl Family {
    fn new(kind: Kind) -> Family {
        Family {
            kind,
            help: String::new(),
            unit: String::new(),
            numbers: Vec::new(),
            compounds: BTreeMap::new(),
            natives: Vec::new(),
        }
    }
}

#[derive(Default)]
struct Scopes {
    /// Family name → family, in first-seen order.
    families: Vec<(String, Family)>,
    index: HashMap<(String, Kind), usize>,
}

/// Turns a remote-write request into OTLP metrics: a pure function of the request (every
/// sample carries its own timestamp).
pub fn to_otlp(request: &WriteRequest) -> Converted {
    let metadata: HashMap<&str, &prompb::MetricMetadata> = request
        .metadata
        .iter()
        .map(|m| (m.metric_family_name.as_str(), m))
        .collect();
    let mut resources: BTreeMap<ResourceKey, BTreeMap<ScopeKey, Scopes>> = BTreeMap::new();
    let mut target_info: BTreeMap<ResourceKey, Vec<(String, String)>> = BTreeMap::new();
    let mut dropped = 0;
    let mut malformed = 0;

    for series in &request.timeseries {
        let name = series.name();
        if name.is_empty() {
            dropped += 1;
            continue;
        }
        let mut resource = ResourceKey {
            job: String::new(),
            instance: String::new(),
        };
        let mut scope = ScopeKey {
            name: String::new(),
            version: String::new(),
        };
        let mut le = None;
        let mut quantile = None;
        let mut attributes = Vec::with_capacity(series.labels.len());
        for label in &series.labels {
            match label.name.as_str() {
                "__name__" => {}
                "job" => resource.job = label.value.clone(),
                "instance" => resource.instance = label.value.clone(),
                "otel_scope_name" => scope.name = label.value.clone(),
                "otel_scope_version" => scope.version = label.value.clone(),
                "le" => le = Some(label.value.as_str()),
                "quantile" => quantile = Some(label.value.as_str()),
                _ => attributes.push((label.name.clone(), label.value.clone())),
            }
        }
        attributes.sort();
        if name == "target_info" {
            target_info.entry(resource).or_default().extend(attributes);
            continue;
        }
        let (family_name, role, kind) = match classify(name, le, quantile, &metadata, series) {
            Some(found) => found,
            None => {
                dropped += 1;
                continue;
            }
        };
        let scopes = resources
            .entry(resource)
            .or_default()
            .entry(scope)
            .or_default();
        let index = *scopes
            .index
            .entry((family_name.to_string(), kind))
            .or_insert_with(|| {
                let mut family = Family::new(kind);
                if let Some(meta) = metadata.get(family_name) {
                    family.help = meta.help.clone();
                    family.unit = meta.unit.clone();
                }
                scopes.families.push((family_name.to_string(), family));
                scopes.families.len() - 1
            });
        let family = &mut scopes.families[index].1;
        let exemplars: Vec<(i64, OtlpExemplar)> = series
            .exemplars
            .iter()
            .map(|e| (e.timestamp, exemplar_of(e)))
            .collect();
        add_series(family, role, &attributes, series, exemplars, &mut malformed);
    }

    let mut resource_metrics = Vec::with_capacity(resources.len());
    for (key, scopes) in resources {
        let mut resource_attributes = Vec::new();
        if !key.job.is_empty() {
            match key.job.split_once('/') {
                Some((namespace, name)) => {
                    resource_attributes.push(string_kv("service.namespace", namespace));
                    resource_attributes.push(string_kv("service.name", name));
                }
                None => resource_attributes.push(string_kv("service.name", &key.job)),
            }
        }
        if !key.instance.is_empty() {
            resource_attributes.push(string_kv("service.instance.id", &key.instance));
        }
        for (name, value) in target_info.remove(&key).unwrap_or_default() {
            if !resource_attributes.iter().any(|kv| kv.key == name) {
                resource_attributes.push(string_kv(&name, &value));
            }
        }
        let scope_metrics = scopes
            .into_iter()
            .map(|(scope, families)| ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: if scope.name.is_empty() {
                        DEFAULT_SCOPE_NAME.to_string()
                    } else {
                        scope.name
                    },
                    version: scope.version,
                    ..Default::default()
                }),
                metrics: families
                    .families
                    .into_iter()
                    .map(|(name, family)| metric_of(name, family))
                    .collect(),
                schema_url: String::new(),
            })
            .collect();
        resource_metrics.push(ResourceMetrics {
            resource: Some(Resource {
                attributes: resource_attributes,
                ..Default::default()
            }),
            scope_metrics,
            schema_url: String::new(),
        });
    }
    Converted {
        resource_metrics,
        dropped_series: dropped,
        dropped_histograms: malformed,
    }
}

/// What part of a family a series is.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Value,
    Bound(f64),
    Sum,
    Count,
}

/// The family, the series' role in it and the family's kind; `None` for a series that
/// cannot be placed (a bucket whose `le` is not a number).
fn classify<'a>(
    name: &'a str,
    le: Option<&str>,
    quantile: Option<&str>,
    metadata: &HashMap<&str, &prompb::MetricMetadata>,
    series: &prompb::TimeSeries,
) -> Option<(&'a str, Role, Kind)> {
    if !series.histograms.is_empty() {
        return Some((name, Role::Value, Kind::Native));
    }
    let typed = |family: &str| metadata.get(family).map(|m| m.r#type);
    let is = |family: &str, t: MetricType| typed(family) == Some(t as i32);
    // A family of this exact name in the metadata decides alone.
    match typed(name).and_then(|t| MetricType::try_from(t).ok()) {
        Some(MetricType::Counter) => return Some((name, Role::Value, Kind::Counter)),
        Some(MetricType::Gauge | MetricType::Unknown | MetricType::Info | MetricType::Stateset) => {
            return Some((name, Role::Value, Kind::Gauge));
        }
        Some(MetricType::Summary) if quantile.is_some() => {
            let q = parse_float(quantile?)?;
            return Some((name, Role::Bound(q), Kind::Summary));
        }
        _ => {}
    }
    if let Some(family) = name.strip_suffix("_bucket")
        && let Some(le) = le
        && (typed(family).is_none() || is(family, MetricType::Histogram))
    {
        return Some((family, Role::Bound(parse_float(le)?), Kind::Histogram));
    }
    if let Some(quantile) = quantile
        && (typed(name).is_none() || is(name, MetricType::Summary))
    {
        return Some((name, Role::Bound(parse_float(quantile)?), Kind::Summary));
    }
    for (suffix, role) in [("_sum", Role::Sum), ("_count", Role::Count)] {
        if let Some(family) = name.strip_suffix(suffix) {
            if is(family, MetricType::Histogram) {
                return Some((family, role, Kind::Histogram));
            }
            if is(family, MetricType::Summary) {
                return Some((family, role, Kind::Summary));
            }
        }
    }
    if name.ends_with("_total") {
        return Some((name, Role::Value, Kind::Counter));
    }
    Some((name, Role::Value, Kind::Gauge))
}

/// Go's `strconv.ParseFloat` spellings Prometheus writes: numbers, `+Inf`, `-Inf`, `NaN`.
fn parse_float(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => text.parse().ok(),
    }
}

fn add_series(
    family: &mut Family,
    role: Role,
    attributes: &[(String, String)],
    series: &prompb::TimeSeries,
    mut exemplars: Vec<(i64, OtlpExemplar)>,
    malformed: &mut usize,
) {
    let attribute_kvs =
        || -> Vec<KeyValue> { attributes.iter().map(|(k, v)| string_kv(k, v)).collect() };
    match family.kind {
        Kind::Gauge | Kind::Counter => {
            for sample in &series.samples {
                let stale = prompb::is_stale_nan(sample.value);
                family.numbers.push(NumberDataPoint {
                    attributes: attribute_kvs(),
                    start_time_unix_nano: 0,
                    time_unix_nano: ms_to_ns(sample.timestamp),
                    exemplars: take_exemplars(&mut exemplars, sample.timestamp, series),
                    flags: flags(stale),
                    value: Some(number_data_point::Value::AsDouble(if stale {
                        0.0
                    } else {
                        sample.value
                    })),
                });
            }
        }
        Kind::Histogram | Kind::Summary => {
            for sample in &series.samples {
                let key = (attributes.to_vec(), sample.timestamp);
                let point = family.compounds.entry(key).or_default();
                if prompb::is_stale_nan(sample.value) {
                    point.stale = true;
                    continue;
                }
                match role {
                    Role::Bound(bound) => point.parts.push((bound, sample.value)),
                    Role::Sum => point.sum = Some(sample.value),
                    Role::Count => point.count = Some(sample.value),
                    Role::Value => {}
                }
                point
                    .exemplars
                    .extend(take_exemplars(&mut exemplars, sample.timestamp, series));
            }
        }
        Kind::Native => {
            for histogram in &series.histograms {
                match native_point(attribute_kvs(), histogram) {
                    Some(point) => family.natives.push(point),
                    None => *malformed += 1,
                }
            }
        }
    }
}

/// The exemplars of the sample at `timestamp` (or, on the series' last sample, all left).
fn take_exemplars(
    exemplars: &mut Vec<(i64, OtlpExemplar)>,
    timestamp: i64,
    series: &prompb::TimeSeries,
) -> Vec<OtlpExemplar> {
    if exemplars.is_empty() {
        return Vec::new();
    }
    let last = series
        .samples
        .last()
        .is_some_and(|s| s.timestamp == timestamp);
    let (taken, kept): (Vec<_>, Vec<_>) = std::mem::take(exemplars)
        .into_iter()
        .partition(|(t, _)| last || *t == timestamp);
    *exemplars = kept;
    taken.into_iter().map(|(_, e)| e).collect()
}

fn exemplar_of(e: &prompb::Exemplar) -> OtlpExemplar {
    let mut out = OtlpExemplar {
        time_unix_nano: ms_to_ns(e.timestamp),
        value: Some(exemplar::Value::AsDouble(e.value)),
        ..Default::default()
    };
    for label in &e.labels {
        match label.name.as_str() {
            "trace_id" => out.trace_id = hex_bytes(&label.value, 16).unwrap_or_default(),
            "span_id" => out.span_id = hex_bytes(&label.value, 8).unwrap_or_default(),
            _ => out
                .filtered_attributes
                .push(string_kv(&label.name, &label.value)),
        }
    }
    out
}

fn hex_bytes(text: &str, len: usize) -> Option<Vec<u8>> {
    if text.len() != len * 2 || !text.is_ascii() {
        return None;
    }
    (0..len)
        .map(|i| u8::from_str_radix(&text[i * 2..i * 2 + 2], 16).ok())
        .collect()
}

/// One native histogram sample as an OTLP point; `None` when its buckets do not add up
/// (see [`native_buckets`]).
fn native_point(
    attributes: Vec<KeyValue>,
    h: &prompb::Histogram,
) -> Option<ExponentialHistogramDataPoint> {
    let count = match h.count {
        Some(HistogramCount::CountInt(n)) => n,
        Some(HistogramCount::CountFloat(f)) => float_count(f),
        None => 0,
    };
    let zero_count = match h.zero_count {
        Some(HistogramZeroCount::ZeroCountInt(n)) => n,
        Some(HistogramZeroCount::ZeroCountFloat(f)) => float_count(f),
        None => 0,
    };
    let stale = prompb::is_stale_nan(h.sum);
    let positive = native_buckets(&h.positive_spans, &h.positive_deltas, &h.positive_counts)?;
    let negative = native_buckets(&h.negative_spans, &h.negative_deltas, &h.negative_counts)?;
    Some(ExponentialHistogramDataPoint {
        attributes,
        start_time_unix_nano: 0,
        time_unix_nano: ms_to_ns(h.timestamp),
        count,
        sum: (!stale).then_some(h.sum),
        scale: h.schema,
        zero_count,
        positive: Some(positive),
        negative: Some(negative),
        flags: flags(stale),
        exemplars: Vec::new(),
        min: None,
        max: None,
        zero_threshold: h.zero_threshold,
    })
}

fn float_count(f: f64) -> u64 {
    if f.is_finite() && f > 0.0 {
        f.round() as u64
    } else {
        0
    }
}

/// Spans and deltas (or absolute counts) → OTLP's dense buckets. Prometheus indexes a
/// bucket by its upper bound, OTLP by its lower bound: OTLP offset = first index - 1.
///
/// `None` for buckets that do not add up (spans longer than the counts sent) or whose gaps
/// would expand to more than 8 empty buckets per bucket sent (plus 32): a few bytes must
/// not become megabytes of zeros. Real histograms are far denser than that.
fn native_buckets(
    spans: &[prompb::BucketSpan],
    deltas: &[i64],
    counts: &[f64],
) -> Option<exponential_histogram_data_point::Buckets> {
    let values = if deltas.is_empty() {
        counts.len()
    } else {
        deltas.len()
    };
    let budget = values.saturating_mul(8).saturating_add(32);
    let mut absolute: Vec<u64> = Vec::new();
    let mut running: i64 = 0;
    let (mut index, mut first, mut k) = (0i64, None, 0usize);
    for (n, span) in spans.iter().enumerate() {
        index += i64::from(span.offset);
        if n > 0 && first.is_some() {
            // The gap between spans, as empty buckets.
            let gap = usize::try_from(span.offset).ok()?;
            if absolute.len().saturating_add(gap) > budget {
                return None;
            }
            absolute.extend(std::iter::repeat_n(0, gap));
        }
        let length = usize::try_from(span.length).ok()?;
        if k.saturating_add(length) > values || absolute.len().saturating_add(length) > budget {
            return None;
        }
        for _ in 0..length {
            first.get_or_insert(index);
            let value = if deltas.is_empty() {
                float_count(counts[k])
            } else {
                running = running.saturating_add(deltas[k]);
                u64::try_from(running).unwrap_or(0)
            };
            absolute.push(value);
            k += 1;
            index += 1;
        }
    }
    Some(exponential_histogram_data_point::Buckets {
        offset: first
            .map(|f| i32::try_from(f - 1).unwrap_or(i32::MIN))
            .unwrap_or(0),
        bucket_counts: absolute,
    })
}

fn metric_of(name: String, family: Family) -> Metric {
    let data = match family.kind {
        Kind::Gauge => metric::Data::Gauge(Gauge {
            data_points: family.numbers,
        }),
        Kind::Counter => metric::Data::Sum(Sum {
            data_points: family.numbers,
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
            is_monotonic: true,
        }),
        Kind::Histogram => metric::Data::Histogram(Histogram {
            data_points: family
                .compounds
                .into_iter()
                .map(|((attributes, time), point)| histogram_point(&attributes, time, point))
                .collect(),
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
        }),
        Kind::Summary => metric::Data::Summary(Summary {
            data_points: family
                .compounds
                .into_iter()
                .map(|((attributes, time), point)| summary_point(&attributes, time, point))
                .collect(),
        }),
        Kind::Native => metric::Data::ExponentialHistogram(ExponentialHistogram {
            data_points: family.natives,
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
        }),
    };
    Metric {
        name,
        description: family.help,
        unit: family.unit,
        metadata: Vec::new(),
        data: Some(data),
    }
}

fn histogram_point(
    attributes: &[(String, String)],
    time: i64,
    mut point: Compound,
) -> HistogramDataPoint {
    point.parts.sort_by(|a, b| a.0.total_cmp(&b.0));
    point.parts.dedup_by(|a, b| a.0 == b.0);
    // Cumulative `le` counts → per-bucket counts; the last bound (`+Inf`) is implicit in OTLP.
    let mut bounds = Vec::with_capacity(point.parts.len());
    let mut counts = Vec::with_capacity(point.parts.len() + 1);
    let mut previous = 0.0;
    for &(bound, cumulative) in &point.parts {
        if bound.is_finite() {
            bounds.push(bound);
        }
        counts.push(float_count(cumulative - previous));
        previous = cumulative.max(previous);
    }
    let infinite_last = point.parts.last().is_some_and(|p| p.0 == f64::INFINITY);
    let count = point
        .count
        .map(float_count)
        .unwrap_or_else(|| float_count(previous));
    if !infinite_last {
        // No `+Inf` bucket: what `_count` holds beyond the last bound goes there.
        counts.push(count.saturating_sub(float_count(previous)));
    }
    HistogramDataPoint {
        attributes: attributes.iter().map(|(k, v)| string_kv(k, v)).collect(),
        start_time_unix_nano: 0,
        time_unix_nano: ms_to_ns(time),
        count,
        sum: point.sum,
        bucket_counts: counts,
        explicit_bounds: bounds,
        exemplars: point.exemplars,
        flags: flags(point.stale),
        min: None,
        max: None,
    }
}

fn summary_point(
    attributes: &[(String, String)],
    time: i64,
    mut point: Compound,
) -> SummaryDataPoint {
    point.parts.sort_by(|a, b| a.0.total_cmp(&b.0));
    SummaryDataPoint {
        attributes: attributes.iter().map(|(k, v)| string_kv(k, v)).collect(),
        start_time_unix_nano: 0,
        time_unix_nano: ms_to_ns(time),
        count: point.count.map(float_count).unwrap_or(0),
        sum: point.sum.unwrap_or(0.0),
        quantile_values: point
            .parts
            .into_iter()
            .map(|(quantile, value)| summary_data_point::ValueAtQuantile { quantile, value })
            .collect(),
        flags: flags(point.stale),
    }
}

fn flags(stale: bool) -> u32 {
    if stale {
        DataPointFlags::NoRecordedValueMask as u32
    } else {
        0
    }
}

/// Milliseconds (which may be negative, before 1970) → nanoseconds, clamped to OTLP's range.
fn ms_to_ns(ms: i64) -> u64 {
    u64::try_from(ms).unwrap_or(0).saturating_mul(1_000_000)
}

fn string_kv(key: &str, value: &str) -> KeyValue {
    key_value(key, value)
}
