//! The series the exporter serves: the last state of each OTLP data point stream, delta
//! sums and histograms added up into cumulative ones, expired after `metric_expiration`,
//! and bounded in number.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    AggregationTemporality, Exemplar, ExponentialHistogramDataPoint, HistogramDataPoint,
    NumberDataPoint, SummaryDataPoint, exemplar, metric::Data, number_data_point,
};
use tributary_pipeline_core::pdata::value_text::as_string;

/// The most series kept. A new series beyond it is dropped (and counted) until others
/// expire: what peers send cannot grow the exporter without bound. A series costs its
/// key, attributes and point (its resource and scope are shared with the other series of
/// the batch they came in): a few hundred bytes, so the bound is some tens to a hundred
/// MiB.
pub const MAX_SERIES: usize = 200_000;

/// The metric metadata key holding the Prometheus type a receiver read.
const PROMETHEUS_TYPE: &str = "prometheus.type";

/// The `FLAG_NO_RECORDED_VALUE` data point flag.
const NO_RECORDED_VALUE: u32 = 1;

/// What an OTLP metric is, for Prometheus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Kind {
    Gauge,
    /// A monotonic sum.
    Counter,
    /// A non-monotonic cumulative sum: a gauge to Prometheus.
    UpDownCounter,
    Histogram,
    ExponentialHistogram,
    Summary,
}

/// The metric a series belongs to.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct MetricInfo {
    pub name: String,
    pub description: String,
    pub unit: String,
    pub kind: Kind,
    /// A gauge whose metadata says `prometheus.type: unknown` (as the Prometheus
    /// receivers mark untyped series): written as `untyped`/`unknown`, as Go does.
    pub untyped: bool,
}

/// The instrumentation scope of a series.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ScopeInfo {
    pub name: String,
    pub version: String,
    pub schema_url: String,
    pub attributes: Vec<KeyValue>,
}

/// The value of a series, as the exposition needs it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Point {
    Number {
        value: f64,
        exemplars: Vec<Exemplar>,
    },
    Histogram {
        bounds: Vec<f64>,
        /// Per-bucket (not cumulative) counts: `bounds.len() + 1` of them, or none.
        counts: Vec<u64>,
        count: u64,
        sum: Option<f64>,
        exemplars: Vec<Exemplar>,
    },
    /// Served as Go's text exposition serves a native histogram: count and sum.
    ExponentialHistogram { count: u64, sum: Option<f64> },
    Summary {
        quantiles: Vec<(f64, f64)>,
        count: u64,
        sum: f64,
    },
}

/// One series.
#[derive(Clone, Debug)]
pub(crate) struct Series {
    pub metric: MetricInfo,
    /// Shared by the series of one resource (and scope) of a batch: a series costs its
    /// own attributes and point, not a copy of its resource's.
    pub resource: Arc<[KeyValue]>,
    pub scope: Arc<ScopeInfo>,
    pub attributes: Vec<KeyValue>,
    pub point: Point,
    pub start_unix_nano: u64,
    pub time_unix_nano: u64,
    /// When it was last updated, for expiry.
    pub updated: Instant,
}

/// What one batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Accumulated {
    /// Data points stored or added up.
    pub stored: usize,
    /// Data points Prometheus cannot take (delta non-monotonic sums, unspecified
    /// temporality, malformed histograms) or older than what is stored.
    pub skipped: usize,
    /// Data points of new series refused because [`MAX_SERIES`] are kept.
    pub over_limit: usize,
}

/// What tells series apart: the metric's name and kind, its resource, scope and point
/// attributes (as order-independent text; resource and scope shared within a batch).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct SeriesKey {
    name: String,
    kind: Kind,
    resource: Arc<str>,
    scope: Arc<str>,
    attributes: String,
}

/// The series, keyed by metric, resource, scope and attributes.
pub(crate) struct Accumulator {
    series: Mutex<HashMap<SeriesKey, Series>>,
    expiration: Duration,
    max_series: usize,
}

impl Accumulator {
    pub(crate) fn new(expiration: Duration, max_series: usize) -> Self {
        Accumulator {
            series: Mutex::new(HashMap::new()),
            expiration,
            max_series,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SeriesKey, Series>> {
        // A panic elsewhere while holding the lock leaves whole entries only.
        self.series
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Folds a batch into the series.
    pub(crate) fn accumulate(
        &self,
        request: &ExportMetricsServiceRequest,
        now: Instant,
    ) -> Accumulated {
        let mut done = Accumulated::default();
        let mut series = self.lock();
        expire(&mut series, now, self.expiration);
        for rm in &request.resource_metrics {
            let resource: Arc<[KeyValue]> = rm
                .resource
                .as_ref()
                .map(|r| r.attributes.as_slice())
                .unwrap_or_default()
                .into();
            let resource_key: Arc<str> = attributes_key(&resource).into();
            for sm in &rm.scope_metrics {
                let scope = Arc::new(ScopeInfo {
                    name: sm
                        .scope
                        .as_ref()
                        .map(|s| s.name.clone())
                        .unwrap_or_default(),
                    version: sm
                        .scope
                        .as_ref()
                        .map(|s| s.version.clone())
                        .unwrap_or_default(),
                    schema_url: sm.schema_url.clone(),
                    attributes: sm
                        .scope
                        .as_ref()
                        .map(|s| s.attributes.clone())
                        .unwrap_or_default(),
                });
                let scope_key: Arc<str> = format!(
                    "{}\u{1}{}\u{1}{}\u{1}{}",
                    scope.name,
                    scope.version,
                    scope.schema_url,
                    attributes_key(&scope.attributes)
                )
                .into();
                for metric in &sm.metrics {
                    let Some(data) = &metric.data else {
                        continue;
                    };
                    let mut fold = Fold {
                        series: &mut series,
                        max_series: self.max_series,
                        resource: &resource,
                        resource_key: &resource_key,
                        scope: &scope,
                        scope_key: &scope_key,
                        now,
                        done: &mut done,
                    };
                    fold.metric(metric, data);
                }
            }
        }
        done
    }

    /// The live series (expired ones are removed first), sorted by key.
    pub(crate) fn snapshot(&self, now: Instant) -> Vec<Series> {
        let mut series = self.lock();
        expire(&mut series, now, self.expiration);
        let mut live: Vec<(&SeriesKey, &Series)> = series.iter().collect();
        live.sort_by(|a, b| a.0.cmp(b.0));
        live.into_iter().map(|(_, s)| s.clone()).collect()
    }

    /// How many series are kept.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

fn expire(series: &mut HashMap<SeriesKey, Series>, now: Instant, expiration: Duration) {
    series.retain(|_, s| now.saturating_duration_since(s.updated) < expiration);
}

/// One batch's fold into the map.
struct Fold<'a> {
    series: &'a mut HashMap<SeriesKey, Series>,
    max_series: usize,
    resource: &'a Arc<[KeyValue]>,
    resource_key: &'a Arc<str>,
    scope: &'a Arc<ScopeInfo>,
    scope_key: &'a Arc<str>,
    now: Instant,
    done: &'a mut Accumulated,
}

/// How a new point combines with the stored one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Temporality {
    /// Replaces the stored point (when not older).
    Cumulative,
    /// Adds to the stored point when it continues it (its start is the stored end).
    Delta,
}

impl Fold<'_> {
    fn metric(
        &mut self,
        metric: &tributary_pipeline_core::pdata::proto::metrics::v1::Metric,
        data: &Data,
    ) {
        let info = |kind| MetricInfo {
            name: metric.name.clone(),
            description: metric.description.clone(),
            unit: metric.unit.clone(),
            kind,
            untyped: kind == Kind::Gauge
                && metric.metadata.iter().any(|kv| {
                    kv.key == PROMETHEUS_TYPE && as_string(kv.value.as_ref()) == "unknown"
                }),
        };
        match data {
            Data::Gauge(gauge) => {
                let info = info(Kind::Gauge);
                for p in &gauge.data_points {
                    self.number(&info, p, Temporality::Cumulative);
                }
            }
            Data::Sum(sum) => {
                let temporality = temporality(sum.aggregation_temporality);
                let kind = if sum.is_monotonic {
                    Kind::Counter
                } else {
                    Kind::UpDownCounter
                };
                // Go drops delta non-monotonic sums (no cumulative meaning can be
                // rebuilt without the starting value) and sums of unknown temporality.
                let Some(temporality) =
                    temporality.filter(|t| sum.is_monotonic || *t == Temporality::Cumulative)
                else {
                    self.done.skipped += sum.data_points.len();
                    return;
                };
                let info = info(kind);
                for p in &sum.data_points {
                    self.number(&info, p, temporality);
                }
            }
            Data::Histogram(histogram) => {
                let Some(temporality) = temporality(histogram.aggregation_temporality) else {
                    self.done.skipped += histogram.data_points.len();
                    return;
                };
                let info = info(Kind::Histogram);
                for p in &histogram.data_points {
                    self.histogram(&info, p, temporality);
                }
            }
            Data::ExponentialHistogram(histogram) => {
                let Some(temporality) = temporality(histogram.aggregation_temporality) else {
                    self.done.skipped += histogram.data_points.len();
                    return;
                };
                let info = info(Kind::ExponentialHistogram);
                for p in &histogram.data_points {
                    self.exponential(&info, p, temporality);
                }
            }
            Data::Summary(summary) => {
                let info = info(Kind::Summary);
                for p in &summary.data_points {
                    self.summary(&info, p);
                }
            }
        }
    }

    fn number(&mut self, info: &MetricInfo, p: &NumberDataPoint, temporality: Temporality) {
        let value = match p.value {
            Some(number_data_point::Value::AsDouble(v)) => v,
            Some(number_data_point::Value::AsInt(v)) => v as f64,
            None => {
                self.done.skipped += 1;
                return;
            }
        };
        let point = Point::Number {
            value,
            exemplars: p.exemplars.clone(),
        };
        let stamp = Stamp::of(p.start_time_unix_nano, p.time_unix_nano, p.flags);
        self.store(
            info,
            &p.attributes,
            point,
            stamp,
            temporality,
            |stored, new| {
                if let (
                    Point::Number { value, exemplars },
                    Point::Number {
                        value: more,
                        exemplars: new_exemplars,
                    },
                ) = (stored, new)
                {
                    *value += more;
                    *exemplars = new_exemplars;
                    true
                } else {
                    false
                }
            },
        );
    }

    fn histogram(&mut self, info: &MetricInfo, p: &HistogramDataPoint, temporality: Temporality) {
        if !p.bucket_counts.is_empty() && p.bucket_counts.len() != p.explicit_bounds.len() + 1 {
            self.done.skipped += 1;
            return;
        }
        let point = Point::Histogram {
            bounds: p.explicit_bounds.clone(),
            counts: p.bucket_counts.clone(),
            count: p.count,
            sum: p.sum,
            exemplars: p.exemplars.clone(),
        };
        let stamp = Stamp::of(p.start_time_unix_nano, p.time_unix_nano, p.flags);
        self.store(
            info,
            &p.attributes,
            point,
            stamp,
            temporality,
            |stored, new| {
                let (
                    Point::Histogram {
                        bounds,
                        counts,
                        count,
                        sum,
                        exemplars,
                    },
                    Point::Histogram {
                        bounds: new_bounds,
                        counts: new_counts,
                        count: new_count,
                        sum: new_sum,
                        exemplars: new_exemplars,
                    },
                ) = (stored, new)
                else {
                    return false;
                };
                // Buckets add up only over the same bounds; other bounds start afresh.
                if *bounds != new_bounds || counts.len() != new_counts.len() {
                    return false;
                }
                for (c, n) in counts.iter_mut().zip(new_counts) {
                    *c = c.saturating_add(n);
                }
                *count = count.saturating_add(new_count);
                *sum = match (*sum, new_sum) {
                    (Some(a), Some(b)) => Some(a + b),
                    _ => None,
                };
                *exemplars = new_exemplars;
                true
            },
        );
    }

    fn exponential(
        &mut self,
        info: &MetricInfo,
        p: &ExponentialHistogramDataPoint,
        temporality: Temporality,
    ) {
        let point = Point::ExponentialHistogram {
            count: p.count,
            sum: p.sum,
        };
        let stamp = Stamp::of(p.start_time_unix_nano, p.time_unix_nano, p.flags);
        self.store(
            info,
            &p.attributes,
            point,
            stamp,
            temporality,
            |stored, new| {
                let (
                    Point::ExponentialHistogram { count, sum },
                    Point::ExponentialHistogram {
                        count: more,
                        sum: more_sum,
                    },
                ) = (stored, new)
                else {
                    return false;
                };
                *count = count.saturating_add(more);
                *sum = match (*sum, more_sum) {
                    (Some(a), Some(b)) => Some(a + b),
                    _ => None,
                };
                true
            },
        );
    }

    fn summary(&mut self, info: &MetricInfo, p: &SummaryDataPoint) {
        let point = Point::Summary {
            quantiles: p
                .quantile_values
                .iter()
                .map(|q| (q.quantile, q.value))
                .collect(),
            count: p.count,
            sum: p.sum,
        };
        let stamp = Stamp::of(p.start_time_unix_nano, p.time_unix_nano, p.flags);
        self.store(
            info,
            &p.attributes,
            point,
            stamp,
            Temporality::Cumulative,
            |_, _| false,
        );
    }

    /// Stores `point` for its series: a point flagged "no recorded value" removes the
    /// series (it is gone; Prometheus marks it stale when a scrape misses it); an older
    /// point than the stored one is skipped; a delta point that continues the stored one
    /// is added to it by `add` (which answers `false` when it cannot), any other
    /// replaces it.
    fn store(
        &mut self,
        info: &MetricInfo,
        attributes: &[KeyValue],
        point: Point,
        stamp: Stamp,
        temporality: Temporality,
        add: impl FnOnce(&mut Point, Point) -> bool,
    ) {
        let key = SeriesKey {
            name: info.name.clone(),
            kind: info.kind,
            resource: Arc::clone(self.resource_key),
            scope: Arc::clone(self.scope_key),
            attributes: attributes_key(attributes),
        };
        if stamp.no_recorded_value {
            self.series.remove(&key);
            self.done.stored += 1;
            return;
        }
        let entries = self.series.len();
        match self.series.entry(key) {
            Entry::Occupied(mut occupied) => {
                let stored = occupied.get_mut();
                if stamp.time < stored.time_unix_nano {
                    self.done.skipped += 1;
                    return;
                }
                let continues = temporality == Temporality::Delta
                    && stamp.start != 0
                    && stamp.start == stored.time_unix_nano;
                if continues && add(&mut stored.point, point.clone()) {
                    stored.time_unix_nano = stamp.time;
                } else {
                    stored.point = point;
                    stored.start_unix_nano = stamp.start;
                    stored.time_unix_nano = stamp.time;
                }
                stored.metric.description.clone_from(&info.description);
                stored.updated = self.now;
                self.done.stored += 1;
            }
            Entry::Vacant(vacant) => {
                if entries >= self.max_series {
                    self.done.over_limit += 1;
                    return;
                }
                vacant.insert(Series {
                    metric: info.clone(),
                    resource: Arc::clone(self.resource),
                    scope: Arc::clone(self.scope),
                    attributes: attributes.to_vec(),
                    point,
                    start_unix_nano: stamp.start,
                    time_unix_nano: stamp.time,
                    updated: self.now,
                });
                self.done.stored += 1;
            }
        }
    }
}

/// A data point's times and flags.
#[derive(Clone, Copy)]
struct Stamp {
    start: u64,
    time: u64,
    no_recorded_value: bool,
}

impl Stamp {
    fn of(start: u64, time: u64, flags: u32) -> Stamp {
        Stamp {
            start,
            time,
            no_recorded_value: flags & NO_RECORDED_VALUE != 0,
        }
    }
}

fn temporality(value: i32) -> Option<Temporality> {
    match AggregationTemporality::try_from(value) {
        Ok(AggregationTemporality::Cumulative) => Some(Temporality::Cumulative),
        Ok(AggregationTemporality::Delta) => Some(Temporality::Delta),
        _ => None,
    }
}

/// A key of an attribute set, independent of the attributes' order.
fn attributes_key(attributes: &[KeyValue]) -> String {
    let mut pairs: Vec<(&str, String)> = attributes
        .iter()
        .map(|kv| (kv.key.as_str(), as_string(kv.value.as_ref())))
        .collect();
    pairs.sort();
    let mut key = String::new();
    for (k, v) in pairs {
        key.push_str(k);
        key.push('\u{3}');
        key.push_str(&v);
        key.push('\u{4}');
    }
    key
}

/// An exemplar's value as a float.
pub(crate) fn exemplar_value(exemplar: &Exemplar) -> f64 {
    match exemplar.value {
        Some(exemplar::Value::AsDouble(v)) => v,
        Some(exemplar::Value::AsInt(v)) => v as f64,
        None => 0.0,
    }
}
