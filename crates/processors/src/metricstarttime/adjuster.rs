//! The three strategies over a request: which points get which start time.

use std::time::{Duration, Instant};

use regex::Regex;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    AggregationTemporality, Metric, ResourceMetrics, metric::Data, number_data_point,
};
use tributary_translator_prometheus::to_otlp::StartTimeAdjuster;

use super::config::{Config, Strategy};
use super::subtract::{Initial, Outcome, PointMut};
use crate::metric_stream::{Admission, MetricIdentity, StreamId, StreamMetrics, StreamTable};

/// The processor's state.
#[derive(Debug)]
pub(crate) struct StartTimes {
    strategy: Strategy,
    gc_interval: Duration,
    max_streams: usize,
    start_time_metric: Regex,
    /// `true_reset_point` (and `start_time_metric` without its metric): the Prometheus
    /// translator's reset-detecting adjuster, keyed by stream.
    resets: StartTimeAdjuster<StreamId>,
    /// `subtract_initial_point`: each stream's initial point.
    initials: StreamTable<Initial>,
    last_gc: Instant,
    /// The newest point time the adjuster saw, in Unix milliseconds: its collections
    /// measure staleness in the data's own time, whatever the sender's clock says.
    newest_ms: i64,
    metrics: Option<StreamMetrics>,
}

impl StartTimes {
    /// The state for a validated `config`, counting into `metrics` if given.
    pub fn new(config: &Config, start_time_metric: Regex, metrics: Option<StreamMetrics>) -> Self {
        StartTimes {
            strategy: config.strategy,
            gc_interval: config.gc_interval,
            max_streams: config.max_streams,
            start_time_metric,
            resets: StartTimeAdjuster::default(),
            initials: StreamTable::new(
                config.max_streams,
                Some(config.gc_interval),
                config.gc_interval,
            ),
            last_gc: Instant::now(),
            newest_ms: 0,
            metrics,
        }
    }

    /// How many streams are tracked.
    pub fn tracked(&self) -> usize {
        self.resets.len() + self.initials.len()
    }

    /// Whether `request` holds a cumulative point without a start time.
    pub fn selects_any(request: &ExportMetricsServiceRequest) -> bool {
        request
            .resource_metrics
            .iter()
            .flat_map(|rm| &rm.scope_metrics)
            .flat_map(|sm| &sm.metrics)
            .any(lacks_start)
    }

    /// Sets the start times in `request`, at `now`.
    pub fn adjust(&mut self, request: &mut ExportMetricsServiceRequest, now: Instant) {
        self.collect_garbage(now, false);
        let (mut initial_dropped, mut over_limit) = (0u64, 0u64);
        request.resource_metrics.retain_mut(|rm| {
            let resource_start = match self.strategy {
                Strategy::StartTimeMetric => start_time_of(rm, &self.start_time_metric),
                _ => None,
            };
            let resource = rm
                .resource
                .as_ref()
                .map(|r| r.attributes.clone())
                .unwrap_or_default();
            rm.scope_metrics.retain_mut(|sm| {
                let scope = sm.scope.as_ref();
                sm.metrics.retain_mut(|metric| {
                    if !is_cumulative(metric) {
                        return true;
                    }
                    let identity = MetricIdentity::new(&resource, scope, metric);
                    let mut keep = |mut point: PointMut<'_>| -> bool {
                        if point.start() != 0 {
                            return true;
                        }
                        match (self.strategy, resource_start) {
                            (Strategy::StartTimeMetric, Some(start)) => {
                                point.set_start(start);
                                true
                            }
                            (Strategy::SubtractInitialPoint, _) => {
                                let id = identity.point(point.attributes(), &[]);
                                match subtract(&mut self.initials, id, point, now) {
                                    Some(kept) => {
                                        initial_dropped += u64::from(!kept);
                                        kept
                                    }
                                    None => {
                                        over_limit += 1;
                                        true
                                    }
                                }
                            }
                            _ => {
                                let id = identity.point(point.attributes(), &[]);
                                if !self.admits(&id, now) {
                                    over_limit += 1;
                                    return true;
                                }
                                let (value, sum) = point.reset_signals();
                                self.newest_ms =
                                    self.newest_ms.max((point.time() / 1_000_000) as i64);
                                let start = self.resets.start(id, point.time(), value, sum);
                                point.set_start(start);
                                true
                            }
                        }
                    };
                    retain_points(metric, &mut keep)
                });
                !sm.metrics.is_empty()
            });
            !rm.scope_metrics.is_empty()
        });
        let tracked = self.tracked();
        if let Some(metrics) = &mut self.metrics {
            metrics.set_tracked(tracked);
            metrics.dropped("initial_point", initial_dropped);
            metrics.unadjusted("stream_limit", over_limit);
        }
    }

    /// Whether the reset adjuster may track `id`: it does, or has room (after a
    /// collection, if it is full).
    fn admits(&mut self, id: &StreamId, now: Instant) -> bool {
        if self.max_streams == 0 || self.resets.len() < self.max_streams || self.resets.contains(id)
        {
            return true;
        }
        self.collect_garbage(now, true);
        self.resets.len() < self.max_streams
    }

    /// Forgets streams not seen within `gc_interval`, once every `gc_interval` (or now,
    /// if `force`).
    fn collect_garbage(&mut self, now: Instant, force: bool) {
        self.initials.sweep_if_due(now);
        if !force && now.saturating_duration_since(self.last_gc) < self.gc_interval {
            return;
        }
        self.last_gc = now;
        let gc_ms = i64::try_from(self.gc_interval.as_millis()).unwrap_or(i64::MAX);
        self.resets
            .forget_older_than(self.newest_ms.saturating_sub(gc_ms));
    }
}

/// A `subtract_initial_point` step for one point: whether it is kept, or `None` if its
/// stream found no room (the point passes unadjusted).
fn subtract(
    initials: &mut StreamTable<Initial>,
    id: StreamId,
    point: PointMut<'_>,
    now: Instant,
) -> Option<bool> {
    match initials.entry(id, now) {
        Admission::Full => None,
        Admission::New(slot) => {
            slot.insert(Initial::from_point(&point));
            Some(false)
        }
        Admission::Known(initial) => Some(initial.apply(point) == Outcome::Keep),
    }
}

/// Whether `metric` is cumulative (summaries always are).
fn is_cumulative(metric: &Metric) -> bool {
    let cumulative = AggregationTemporality::Cumulative as i32;
    match &metric.data {
        Some(Data::Sum(s)) => s.aggregation_temporality == cumulative,
        Some(Data::Histogram(h)) => h.aggregation_temporality == cumulative,
        Some(Data::ExponentialHistogram(e)) => e.aggregation_temporality == cumulative,
        Some(Data::Summary(_)) => true,
        _ => false,
    }
}

/// Whether `metric` is cumulative with a point lacking a start time.
fn lacks_start(metric: &Metric) -> bool {
    if !is_cumulative(metric) {
        return false;
    }
    match &metric.data {
        Some(Data::Sum(s)) => s.data_points.iter().any(|p| p.start_time_unix_nano == 0),
        Some(Data::Histogram(h)) => h.data_points.iter().any(|p| p.start_time_unix_nano == 0),
        Some(Data::ExponentialHistogram(e)) => {
            e.data_points.iter().any(|p| p.start_time_unix_nano == 0)
        }
        Some(Data::Summary(s)) => s.data_points.iter().any(|p| p.start_time_unix_nano == 0),
        _ => false,
    }
}

/// Keeps the points of `metric` for which `keep` says so; whether any is left.
fn retain_points(metric: &mut Metric, keep: &mut impl FnMut(PointMut<'_>) -> bool) -> bool {
    match &mut metric.data {
        Some(Data::Sum(s)) => {
            s.data_points.retain_mut(|p| keep(PointMut::Number(p)));
            !s.data_points.is_empty()
        }
        Some(Data::Histogram(h)) => {
            h.data_points.retain_mut(|p| keep(PointMut::Histogram(p)));
            !h.data_points.is_empty()
        }
        Some(Data::ExponentialHistogram(e)) => {
            e.data_points.retain_mut(|p| keep(PointMut::Exponential(p)));
            !e.data_points.is_empty()
        }
        Some(Data::Summary(s)) => {
            s.data_points.retain_mut(|p| keep(PointMut::Summary(p)));
            !s.data_points.is_empty()
        }
        _ => true,
    }
}

/// The start time, in Unix nanoseconds, that the resource's start-time metric holds (the
/// first point of the first gauge or sum whose name matches), if it has one.
fn start_time_of(rm: &ResourceMetrics, pattern: &Regex) -> Option<u64> {
    rm.scope_metrics
        .iter()
        .flat_map(|sm| &sm.metrics)
        .filter(|m| pattern.is_match(&m.name))
        .find_map(|m| {
            let point = match &m.data {
                Some(Data::Gauge(g)) => g.data_points.first(),
                Some(Data::Sum(s)) => s.data_points.first(),
                _ => None,
            }?;
            let seconds = match point.value? {
                number_data_point::Value::AsDouble(v) => v,
                number_data_point::Value::AsInt(v) => v as f64,
            };
            (seconds.is_finite() && seconds > 0.0).then_some((seconds * 1e9) as u64)
        })
}
