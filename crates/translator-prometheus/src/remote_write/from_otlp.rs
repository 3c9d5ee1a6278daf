//! OTLP metrics → remote-write series, for the `prometheusremotewrite` exporter, as the
//! Go Collector's `prometheusremotewrite.FromMetrics` does.
//!
//! | OTLP | series |
//! |---|---|
//! | gauge | one series per point's label set |
//! | cumulative sum | a counter (`_total` when monotonic and suffixes are on) or a gauge |
//! | cumulative histogram | `_bucket{le}` (cumulative, ending `+Inf`), `_sum` (unless the point has none), `_count` |
//! | summary | `{quantile}`, `_sum`, `_count` |
//! | cumulative exponential histogram | a native histogram (scale above 8 downscaled to 8; below -4 dropped) |
//! | delta sum, histogram or exponential histogram | dropped and reported: remote write carries cumulative series only |
//!
//! Labels: the point's attributes, then (with `resource_to_telemetry_conversion`) the
//! resource's, then `otel_scope_name`/`otel_scope_version` (unless `disable_scope_info`),
//! then `job` and `instance` from the resource, then the external labels where the series
//! has no label of that name, then `__name__`; names sanitised and sorted. A resource with
//! attributes other than the identifying ones gets one `target_info` series at the time of
//! its latest point. A point flagged "no recorded value" becomes the staleness NaN.
//! Exemplars travel with the series of their point (for histograms, the bucket holding
//! the exemplar's value), `trace_id` and `span_id` as labels. Series with identical label
//! sets are merged, samples sorted by time.

use std::collections::HashMap;
use std::hash::BuildHasher;

use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    AggregationTemporality, DataPointFlags, Exemplar as OtlpExemplar,
    ExponentialHistogramDataPoint, Metric, exemplar, metric, number_data_point,
};

use tributary_pipeline_core::pdata::value_text::as_string;

use crate::labels::{
    LabelOptions, SERVICE_INSTANCE_ID, SERVICE_NAME, SERVICE_NAMESPACE, ScopeRef, SharedLabels,
    normalize_label_name, series_labels, target_info_labels,
};
use crate::normalize::{self, MetricNamer, TranslationStrategy};
use crate::prompb::{
    self, BucketSpan, Exemplar, Histogram, HistogramCount, HistogramZeroCount, Label,
    MetricMetadata, MetricType, ResetHint, Sample, TimeSeries,
};

/// How OTLP becomes series: the exporter's options.
#[derive(Clone, Debug, PartialEq)]
pub struct FromOtlpSettings {
    /// Prefix of every metric name (`<namespace>_<name>`); empty for none.
    pub namespace: String,
    /// Labels every series gets unless it has one of the same name.
    pub external_labels: Vec<(String, String)>,
    /// How metric names are translated.
    pub strategy: TranslationStrategy,
    /// Copy resource attributes onto every series.
    pub resource_to_telemetry: bool,
    /// With `resource_to_telemetry`, leave the `service.*` identity attributes out.
    pub exclude_service_attributes: bool,
    /// Write `target_info` series.
    pub target_info: bool,
    /// Write `_created` series for points with a start time.
    pub export_created: bool,
    /// Leave out the `otel_scope_*` labels.
    pub disable_scope_info: bool,
    /// Collect family metadata (type, help, unit).
    pub send_metadata: bool,
}

impl Default for FromOtlpSettings {
    fn default() -> Self {
        FromOtlpSettings {
            namespace: String::new(),
            external_labels: Vec::new(),
            strategy: TranslationStrategy::default(),
            resource_to_telemetry: false,
            exclude_service_attributes: false,
            target_info: true,
            export_created: false,
            disable_scope_info: false,
            send_metadata: false,
        }
    }
}

/// Points a metric lost, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dropped {
    /// The OTLP metric name.
    pub metric: String,
    /// How many points.
    pub points: usize,
    /// Why, for a log line.
    pub reason: String,
}

/// What [`from_otlp`] wrote.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Written {
    /// The series, each with sorted labels and samples in time order.
    pub timeseries: Vec<TimeSeries>,
    /// Family metadata (with `send_metadata`).
    pub metadata: Vec<MetricMetadata>,
    /// What was left out.
    pub dropped: Vec<Dropped>,
}

/// The series being written, merged by label set. The index holds a hash of each label
/// set, not a copy of it: a scrape writes hundreds of series per request, each new.
#[derive(Default)]
pub(super) struct SeriesSet {
    pub(super) series: Vec<TimeSeries>,
    /// The last series written with each label-set hash.
    heads: foldhash::HashMap<u64, usize>,
    /// Per series: the series written before it with the same hash, if any.
    same_hash: Vec<Option<usize>>,
    hasher: foldhash::fast::RandomState,
}

impl SeriesSet {
    fn entry(&mut self, labels: Vec<Label>) -> &mut TimeSeries {
        let hash = self.hasher.hash_one(&labels);
        let mut candidate = self.heads.get(&hash).copied();
        while let Some(at) = candidate {
            if self.series[at].labels == labels {
                break;
            }
            candidate = self.same_hash[at];
        }
        let at = match candidate {
            Some(at) => at,
            None => {
                let next = self.series.len();
                self.same_hash.push(self.heads.insert(hash, next));
                self.series.push(TimeSeries {
                    labels,
                    ..Default::default()
                });
                next
            }
        };
        &mut self.series[at]
    }

    fn sample(&mut self, labels: Vec<Label>, value: f64, timestamp: i64) {
        self.entry(labels).samples.push(Sample { value, timestamp });
    }
}

/// What every series of one scope shares: the resource, the scope, the options.
pub(super) struct Base<'a> {
    pub(super) settings: &'a FromOtlpSettings,
    pub(super) options: LabelOptions,
    pub(super) resource: &'a [KeyValue],
    pub(super) scope: Option<ScopeRef<'a>>,
    /// With `exclude_service_attributes`: the resource attributes put on every series.
    pub(super) resource_labels: Vec<(String, String)>,
    /// The scope's and resource's labels, worked out once (`None` with
    /// `resource_to_telemetry`).
    pub(super) shared: Option<SharedLabels>,
}

impl Base<'_> {
    /// The full, sorted label set for a point of metric `name`: the shared `labels` rules
    /// (attributes, scope, `job`, `instance`), then `le`/`quantile`, then the external
    /// labels where the series has none of that name, then `__name__`.
    fn labels(
        &self,
        name: &str,
        attributes: &[KeyValue],
        extra: Option<(&str, String)>,
    ) -> Vec<Label> {
        let mut map = match &self.shared {
            Some(shared) => shared.point_labels(attributes, self.options.utf8_allowed),
            None => series_labels(
                self.resource,
                self.scope.as_ref(),
                attributes,
                &self.options,
            ),
        };
        for (key, value) in &self.resource_labels {
            if matches!(key.as_str(), "job" | "instance") {
                continue;
            }
            match map.iter_mut().find(|(n, _)| n == key) {
                Some((_, existing)) => *existing = value.clone(),
                None => map.push((key.clone(), value.clone())),
            }
        }
        finish(map, name, extra, &self.settings.external_labels)
    }
}

/// `le`/`quantile`, external labels and `__name__` onto `map`, sorted as remote write
/// requires.
pub(super) fn finish(
    mut map: Vec<(String, String)>,
    name: &str,
    extra: Option<(&str, String)>,
    external: &[(String, String)],
) -> Vec<Label> {
    if let Some((key, value)) = extra {
        map.retain(|(n, _)| n != key);
        map.push((key.to_string(), value));
    }
    for (key, value) in external {
        if !map.iter().any(|(n, _)| n == key) {
            map.push((key.clone(), value.clone()));
        }
    }
    map.retain(|(n, v)| n != "__name__" && !v.is_empty());
    map.push(("__name__".to_string(), name.to_string()));
    let mut labels: Vec<Label> = map.into_iter().map(|(n, v)| Label::new(n, v)).collect();
    labels.sort_by(|a, b| a.name.cmp(&b.name));
    labels
}

/// The attributes that name `job` and `instance` rather than being labels of their own.
const IDENTIFYING: [&str; 3] = [SERVICE_NAME, SERVICE_NAMESPACE, SERVICE_INSTANCE_ID];

/// Turns OTLP metrics into remote-write series (see the module docs).
pub fn from_otlp(request: &ExportMetricsServiceRequest, settings: &FromOtlpSettings) -> Written {
    let mut set = SeriesSet::default();
    let mut written = Written::default();
    let mut families: HashMap<String, usize> = HashMap::new();
    let namer = MetricNamer::new(settings.namespace.clone(), settings.strategy);
    let mut names: foldhash::HashMap<(&str, &str, normalize::MetricType), Result<String, _>> =
        foldhash::HashMap::default();
    let utf8_allowed = !settings.strategy.escapes();
    for resource_metrics in &request.resource_metrics {
        let resource = resource_metrics
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or_default();
        // `exclude_service_attributes` is not the shared rule's: carry the other resource
        // attributes ourselves.
        let (through_rules, resource_labels) =
            if settings.resource_to_telemetry && settings.exclude_service_attributes {
                let labels = resource
                    .iter()
                    .filter(|kv| !IDENTIFYING.contains(&kv.key.as_str()))
                    .map(|kv| {
                        let key = if utf8_allowed {
                            kv.key.clone()
                        } else {
                            normalize_label_name(&kv.key)
                        };
                        (key, as_string(kv.value.as_ref()))
                    })
                    .collect();
                (false, labels)
            } else {
                (settings.resource_to_telemetry, Vec::new())
            };
        let options = LabelOptions {
            resource_to_telemetry: through_rules,
            scope_labels: !settings.disable_scope_info,
            utf8_allowed,
        };
        let mut latest: i64 = 0;
        for scope_metrics in &resource_metrics.scope_metrics {
            let scope = scope_metrics.scope.as_ref().map(|scope| ScopeRef {
                name: &scope.name,
                version: &scope.version,
                schema_url: &scope_metrics.schema_url,
                attributes: &scope.attributes,
            });
            let base = Base {
                settings,
                options: options.clone(),
                resource,
                scope,
                resource_labels: resource_labels.clone(),
                shared: SharedLabels::new(resource, scope.as_ref(), &options),
            };
            for metric in &scope_metrics.metrics {
                let Some(kind) = kind_of(metric) else {
                    continue;
                };
                // A batch holds the same metrics for many resources (a scrape's targets):
                // each name is worked out once.
                let built = names
                    .entry((metric.name.as_str(), metric.unit.as_str(), kind))
                    .or_insert_with(|| namer.build(&metric.name, &metric.unit, kind));
                let name = match built {
                    Ok(name) => name.clone(),
                    Err(e) => {
                        written.dropped.push(Dropped {
                            metric: metric.name.clone(),
                            points: tributary_pipeline_core::pdata::data_point_count(metric),
                            reason: e.to_string(),
                        });
                        continue;
                    }
                };
                if let Some(found) =
                    write_metric(metric, &name, &base, &mut set, &mut written.dropped)
                {
                    latest = latest.max(found.latest);
                    if settings.send_metadata && !families.contains_key(&name) {
                        families.insert(name.clone(), written.metadata.len());
                        written.metadata.push(MetricMetadata {
                            r#type: found.kind as i32,
                            metric_family_name: name,
                            help: metric.description.clone(),
                            unit: normalize::unit_name(&metric.unit),
                        });
                    }
                }
            }
        }
        if settings.target_info
            && latest > 0
            && let Some(labels) = target_info_labels(resource, utf8_allowed)
        {
            let name = if settings.namespace.is_empty() {
                "target_info".to_string()
            } else {
                format!("{}_target_info", settings.namespace)
            };
            let labels = finish(labels, &name, None, &settings.external_labels);
            set.sample(labels, 1.0, latest);
        }
    }
    for series in &mut set.series {
        series.samples.sort_by_key(|s| s.timestamp);
        series.histograms.sort_by_key(|h| h.timestamp);
    }
    written.timeseries = set.series;
    written
}

/// The kind that decides a metric's name suffix; `None` for a metric without data.
pub(super) fn kind_of(metric: &Metric) -> Option<normalize::MetricType> {
    Some(match metric.data.as_ref()? {
        metric::Data::Gauge(_) => normalize::MetricType::Gauge,
        metric::Data::Sum(s) if s.is_monotonic => normalize::MetricType::MonotonicCounter,
        metric::Data::Sum(_) => normalize::MetricType::NonMonotonicCounter,
        metric::Data::Histogram(_) => normalize::MetricType::Histogram,
        metric::Data::ExponentialHistogram(_) => normalize::MetricType::ExponentialHistogram,
        metric::Data::Summary(_) => normalize::MetricType::Summary,
    })
}

/// A metric written: its family type and its latest timestamp (ms).
pub(super) struct Found {
    kind: MetricType,
    pub(super) latest: i64,
}

pub(super) fn ms(ns: u64) -> i64 {
    i64::try_from(ns / 1_000_000).unwrap_or(i64::MAX)
}

fn no_value(flags: u32) -> bool {
    flags & DataPointFlags::NoRecordedValueMask as u32 != 0
}

pub(super) fn value_or_stale(flags: u32, value: f64) -> f64 {
    if no_value(flags) {
        prompb::stale_nan()
    } else {
        value
    }
}

pub(super) fn write_metric(
    metric: &Metric,
    name: &str,
    base: &Base<'_>,
    set: &mut SeriesSet,
    dropped: &mut Vec<Dropped>,
) -> Option<Found> {
    let settings = base.settings;
    let mut latest = 0;
    let mut drop = |points: usize, reason: &str| {
        dropped.push(Dropped {
            metric: metric.name.clone(),
            points,
            reason: reason.to_string(),
        });
        None
    };
    let kind = match metric.data.as_ref()? {
        metric::Data::Gauge(gauge) => {
            for p in &gauge.data_points {
                let t = ms(p.time_unix_nano);
                latest = latest.max(t);
                let value = value_or_stale(p.flags, number(p.value));
                let labels = base.labels(name, &p.attributes, None);
                let series = set.entry(labels);
                series.samples.push(Sample {
                    value,
                    timestamp: t,
                });
                series.exemplars.extend(p.exemplars.iter().map(exemplar_of));
            }
            MetricType::Gauge
        }
        metric::Data::Sum(sum) => {
            if sum.aggregation_temporality != AggregationTemporality::Cumulative as i32 {
                return drop(
                    sum.data_points.len(),
                    "a delta (non-cumulative) sum: remote write carries cumulative series only; a deltatocumulative processor before this exporter keeps them",
                );
            }
            for p in &sum.data_points {
                let t = ms(p.time_unix_nano);
                latest = latest.max(t);
                let value = value_or_stale(p.flags, number(p.value));
                let labels = base.labels(name, &p.attributes, None);
                let series = set.entry(labels);
                series.samples.push(Sample {
                    value,
                    timestamp: t,
                });
                series.exemplars.extend(p.exemplars.iter().map(exemplar_of));
                if settings.export_created && sum.is_monotonic && p.start_time_unix_nano != 0 {
                    created(
                        base,
                        set,
                        name,
                        &p.attributes,
                        p.start_time_unix_nano,
                        t,
                        p.flags,
                    );
                }
            }
            if sum.is_monotonic {
                MetricType::Counter
            } else {
                MetricType::Gauge
            }
        }
        metric::Data::Histogram(h) => {
            if h.aggregation_temporality != AggregationTemporality::Cumulative as i32 {
                return drop(
                    h.data_points.len(),
                    "a delta histogram: remote write carries cumulative series only",
                );
            }
            for p in &h.data_points {
                let t = ms(p.time_unix_nano);
                latest = latest.max(t);
                let stale = no_value(p.flags);
                let v = |x: f64| if stale { prompb::stale_nan() } else { x };
                let mut cumulative = 0u64;
                let bucket_name = format!("{name}_bucket");
                let mut exemplars: Vec<&OtlpExemplar> = p.exemplars.iter().collect();
                for (i, bound) in p
                    .explicit_bounds
                    .iter()
                    .copied()
                    .chain(std::iter::once(f64::INFINITY))
                    .enumerate()
                {
                    cumulative =
                        cumulative.saturating_add(p.bucket_counts.get(i).copied().unwrap_or(0));
                    let value = if i == p.explicit_bounds.len() {
                        p.count as f64
                    } else {
                        cumulative as f64
                    };
                    let labels =
                        base.labels(&bucket_name, &p.attributes, Some(("le", le_text(bound))));
                    let series = set.entry(labels);
                    series.samples.push(Sample {
                        value: v(value),
                        timestamp: t,
                    });
                    let (mine, rest): (Vec<&OtlpExemplar>, Vec<&OtlpExemplar>) = exemplars
                        .into_iter()
                        .partition(|e| exemplar_value(e) <= bound);
                    exemplars = rest;
                    series.exemplars.extend(mine.into_iter().map(exemplar_of));
                }
                if let Some(sum) = p.sum {
                    set.sample(
                        base.labels(&format!("{name}_sum"), &p.attributes, None),
                        v(sum),
                        t,
                    );
                }
                set.sample(
                    base.labels(&format!("{name}_count"), &p.attributes, None),
                    v(p.count as f64),
                    t,
                );
                if settings.export_created && p.start_time_unix_nano != 0 {
                    created(
                        base,
                        set,
                        name,
                        &p.attributes,
                        p.start_time_unix_nano,
                        t,
                        p.flags,
                    );
                }
            }
            MetricType::Histogram
        }
        metric::Data::Summary(s) => {
            for p in &s.data_points {
                let t = ms(p.time_unix_nano);
                latest = latest.max(t);
                let stale = no_value(p.flags);
                let v = |x: f64| if stale { prompb::stale_nan() } else { x };
                for q in &p.quantile_values {
                    let labels = base.labels(
                        name,
                        &p.attributes,
                        Some(("quantile", float_text(q.quantile))),
                    );
                    set.sample(labels, v(q.value), t);
                }
                set.sample(
                    base.labels(&format!("{name}_sum"), &p.attributes, None),
                    v(p.sum),
                    t,
                );
                set.sample(
                    base.labels(&format!("{name}_count"), &p.attributes, None),
                    v(p.count as f64),
                    t,
                );
                if settings.export_created && p.start_time_unix_nano != 0 {
                    created(
                        base,
                        set,
                        name,
                        &p.attributes,
                        p.start_time_unix_nano,
                        t,
                        p.flags,
                    );
                }
            }
            MetricType::Summary
        }
        metric::Data::ExponentialHistogram(h) => {
            if h.aggregation_temporality != AggregationTemporality::Cumulative as i32 {
                return drop(
                    h.data_points.len(),
                    "a delta exponential histogram: remote write carries cumulative series only",
                );
            }
            let mut unfit = 0;
            for p in &h.data_points {
                let Some(histogram) = native_histogram(p) else {
                    unfit += 1;
                    continue;
                };
                let t = histogram.timestamp;
                latest = latest.max(t);
                let labels = base.labels(name, &p.attributes, None);
                let series = set.entry(labels);
                series.histograms.push(histogram);
                series.exemplars.extend(p.exemplars.iter().map(exemplar_of));
            }
            if unfit > 0 {
                drop(
                    unfit,
                    "an exponential histogram scale below -4, which native histograms cannot carry",
                );
            }
            MetricType::Histogram
        }
    };
    Some(Found { kind, latest })
}

/// A `<name>_created` sample: the start time in seconds, as Prometheus writes it.
fn created(
    base: &Base<'_>,
    set: &mut SeriesSet,
    name: &str,
    attributes: &[KeyValue],
    start_ns: u64,
    t: i64,
    flags: u32,
) {
    let family = name.strip_suffix("_total").unwrap_or(name);
    let value = value_or_stale(flags, start_ns as f64 / 1e9);
    set.sample(
        base.labels(&format!("{family}_created"), attributes, None),
        value,
        t,
    );
}

fn number(value: Option<number_data_point::Value>) -> f64 {
    match value {
        Some(number_data_point::Value::AsDouble(d)) => d,
        Some(number_data_point::Value::AsInt(i)) => i as f64,
        None => 0.0,
    }
}

fn exemplar_value(e: &OtlpExemplar) -> f64 {
    match e.value {
        Some(exemplar::Value::AsDouble(d)) => d,
        Some(exemplar::Value::AsInt(i)) => i as f64,
        None => 0.0,
    }
}

fn exemplar_of(e: &OtlpExemplar) -> Exemplar {
    let mut labels: Vec<Label> = e
        .filtered_attributes
        .iter()
        .map(|kv| Label::new(normalize_label_name(&kv.key), as_string(kv.value.as_ref())))
        .collect();
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    if !e.trace_id.is_empty() {
        labels.push(Label::new("trace_id", hex(&e.trace_id)));
    }
    if !e.span_id.is_empty() {
        labels.push(Label::new("span_id", hex(&e.span_id)));
    }
    labels.sort_by(|a, b| a.name.cmp(&b.name));
    Exemplar {
        labels,
        value: exemplar_value(e),
        timestamp: ms(e.time_unix_nano),
    }
}

/// `le` and `quantile` values as Prometheus writes them (`+Inf`, `0.5`, `1`).
pub(super) fn float_text(v: f64) -> String {
    if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else if v.is_nan() {
        "NaN".into()
    } else {
        format!("{v}")
    }
}

fn le_text(v: f64) -> String {
    float_text(v)
}

/// The finest resolution native histograms have.
const MAX_SCHEMA: i32 = 8;
/// The coarsest.
const MIN_SCHEMA: i32 = -4;

/// An OTLP exponential histogram point as a native histogram: scale is the schema (above
/// 8 merged down to 8), OTLP indexes buckets by lower bound and Prometheus by upper, so
/// indexes shift by one; counts become spans and deltas. `None` below scale -4.
fn native_histogram(p: &ExponentialHistogramDataPoint) -> Option<Histogram> {
    if p.scale < MIN_SCHEMA {
        return None;
    }
    let shift = (p.scale - MAX_SCHEMA).max(0) as u32;
    let schema = p.scale.min(MAX_SCHEMA);
    let convert = |b: Option<&tributary_pipeline_core::pdata::proto::metrics::v1::exponential_histogram_data_point::Buckets>| {
        let Some(b) = b else {
            return (Vec::new(), Vec::new());
        };
        // Merge buckets 2^shift at a time (downscaling), keyed by the new index.
        let mut merged: Vec<(i64, u64)> = Vec::new();
        for (i, &count) in b.bucket_counts.iter().enumerate() {
            let index = (i64::from(b.offset) + i as i64) >> shift;
            match merged.last_mut() {
                Some((last, total)) if *last == index => *total = total.saturating_add(count),
                _ => merged.push((index, count)),
            }
        }
        spans_and_deltas(&merged)
    };
    let (positive_spans, positive_deltas) = convert(p.positive.as_ref());
    let (negative_spans, negative_deltas) = convert(p.negative.as_ref());
    let stale = no_value(p.flags);
    Some(Histogram {
        count: Some(HistogramCount::CountInt(p.count)),
        sum: if stale {
            prompb::stale_nan()
        } else {
            p.sum.unwrap_or(0.0)
        },
        schema,
        zero_threshold: p.zero_threshold,
        zero_count: Some(HistogramZeroCount::ZeroCountInt(p.zero_count)),
        negative_spans,
        negative_deltas,
        negative_counts: Vec::new(),
        positive_spans,
        positive_deltas,
        positive_counts: Vec::new(),
        reset_hint: if p.start_time_unix_nano == 0 {
            ResetHint::Unknown as i32
        } else {
            ResetHint::No as i32
        },
        timestamp: ms(p.time_unix_nano),
    })
}

/// Dense OTLP buckets `(lower-bound index, count)` → Prometheus spans (upper-bound index,
/// so +1) and count deltas; empty buckets inside a run are kept when the gap is at most
/// 2, as Prometheus does, else a new span starts.
fn spans_and_deltas(buckets: &[(i64, u64)]) -> (Vec<BucketSpan>, Vec<i64>) {
    let mut spans: Vec<BucketSpan> = Vec::new();
    let mut deltas = Vec::new();
    let mut previous_count: i64 = 0;
    let mut next_index: Option<i64> = None;
    for &(index, count) in buckets {
        if count == 0 {
            continue;
        }
        let index = index + 1;
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        match next_index {
            Some(expected) if index - expected <= 2 && index >= expected => {
                // Fill the small gap with empty buckets.
                for _ in expected..index {
                    deltas.push(-previous_count);
                    previous_count = 0;
                }
                if let Some(span) = spans.last_mut() {
                    span.length += u32::try_from(index - expected).unwrap_or(0) + 1;
                }
            }
            Some(expected) => spans.push(BucketSpan {
                offset: i32::try_from(index - expected).unwrap_or(i32::MAX),
                length: 1,
            }),
            None => spans.push(BucketSpan {
                offset: i32::try_from(index).unwrap_or(i32::MAX),
                length: 1,
            }),
        }
        deltas.push(count - previous_count);
        previous_count = count;
        next_index = Some(index + 1);
    }
    (spans, deltas)
}
