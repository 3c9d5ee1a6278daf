//! The conversion: each stream's previous cumulative point, and the delta of the next.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    AggregationTemporality, DataPointFlags, HistogramDataPoint, Metric, NumberDataPoint,
    metric::Data, number_data_point::Value,
};

use super::config::{Config, InitialValue, MetricFilter, MetricType};
use crate::metric_stream::{Admission, MetricIdentity, StreamMetrics, StreamTable, edit_metrics};

/// The previous cumulative point of a stream.
#[derive(Clone, Debug)]
enum Previous {
    Number {
        time: u64,
        value: Value,
    },
    Histogram {
        time: u64,
        count: u64,
        sum: Option<f64>,
        buckets: Vec<u64>,
    },
}

/// Why a point was dropped rather than converted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dropped {
    /// `initial_value` withholds a stream's first point.
    Initial,
    /// The value went down: a counter reset, whose delta is unknown.
    Reset,
    /// The histogram's bucket count changed.
    BucketsChanged,
    /// Not newer than the stream's previous point.
    OutOfOrder,
    /// Flagged as having no recorded value.
    NoValue,
    /// A new stream while `max_streams` are tracked.
    Limit,
}

impl Dropped {
    fn reason(self) -> &'static str {
        match self {
            Dropped::Initial => "initial_value",
            Dropped::Reset => "reset",
            Dropped::BucketsChanged => "buckets_changed",
            Dropped::OutOfOrder => "out_of_order",
            Dropped::NoValue => "no_recorded_value",
            Dropped::Limit => "stream_limit",
        }
    }
}

/// The processor's state: the filter, the streams and the counters.
#[derive(Debug)]
pub(crate) struct Converter {
    filter: MetricFilter,
    initial_value: InitialValue,
    /// When the processor started, in Unix nanoseconds (`auto` compares start times to it).
    started_ns: u64,
    streams: StreamTable<Previous>,
    metrics: Option<StreamMetrics>,
}

impl Converter {
    /// A converter for `config`, counting into `metrics` if given.
    pub fn new(config: &Config, filter: MetricFilter, metrics: Option<StreamMetrics>) -> Self {
        let max_stale = (!config.max_staleness.is_zero()).then_some(config.max_staleness);
        Converter {
            filter,
            initial_value: config.initial_value,
            started_ns: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64),
            streams: StreamTable::new(
                config.max_streams,
                max_stale,
                max_stale.unwrap_or(Duration::MAX),
            ),
            metrics,
        }
    }

    /// Sets the processor's start time (tests pin it).
    #[cfg(test)]
    pub fn set_started_ns(&mut self, ns: u64) {
        self.started_ns = ns;
    }

    /// Whether `metric` is one this converter changes.
    fn selects(&self, metric: &Metric) -> Option<MetricType> {
        let cumulative = AggregationTemporality::Cumulative as i32;
        let kind = match &metric.data {
            Some(Data::Sum(s)) if s.aggregation_temporality == cumulative && s.is_monotonic => {
                MetricType::Sum
            }
            Some(Data::Histogram(h)) if h.aggregation_temporality == cumulative => {
                MetricType::Histogram
            }
            _ => return None,
        };
        self.filter.converts(&metric.name, kind).then_some(kind)
    }

    /// Whether anything in `request` would be converted.
    pub fn selects_any(&self, request: &ExportMetricsServiceRequest) -> bool {
        request
            .resource_metrics
            .iter()
            .flat_map(|rm| &rm.scope_metrics)
            .flat_map(|sm| &sm.metrics)
            .any(|m| self.selects(m).is_some())
    }

    /// Converts the selected metrics of `request` to delta, in place, at `now`.
    pub fn convert(&mut self, request: &mut ExportMetricsServiceRequest, now: Instant) {
        self.streams.sweep_if_due(now);
        let mut dropped: Vec<(Dropped, u64)> = Vec::new();
        let mut count = |reason: Dropped| match dropped.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += 1,
            None => dropped.push((reason, 1)),
        };
        edit_metrics(request, |resource, scope, metric| {
            let Some(kind) = self.selects(metric) else {
                return true;
            };
            let identity = MetricIdentity::new(resource, scope, metric);
            match (&mut metric.data, kind) {
                (Some(Data::Sum(sum)), MetricType::Sum) => {
                    sum.data_points.retain_mut(|point| {
                        self.number(&identity, point, now)
                            .map_err(&mut count)
                            .is_ok()
                    });
                    sum.aggregation_temporality = AggregationTemporality::Delta as i32;
                    !sum.data_points.is_empty()
                }
                (Some(Data::Histogram(histogram)), MetricType::Histogram) => {
                    histogram.data_points.retain_mut(|point| {
                        self.histogram(&identity, point, now)
                            .map_err(&mut count)
                            .is_ok()
                    });
                    histogram.aggregation_temporality = AggregationTemporality::Delta as i32;
                    !histogram.data_points.is_empty()
                }
                _ => true,
            }
        });
        if let Some(metrics) = &mut self.metrics {
            metrics.set_tracked(self.streams.len());
            for (reason, n) in dropped {
                metrics.dropped(reason.reason(), n);
            }
        }
    }

    /// How many streams are tracked.
    #[cfg(test)]
    pub fn tracked(&self) -> usize {
        self.streams.len()
    }

    /// Whether a first point is sent, per `initial_value`.
    fn sends_initial(&self, start: u64, time: u64) -> bool {
        match self.initial_value {
            InitialValue::Auto => start >= self.started_ns && start != time && start != 0,
            InitialValue::Keep => true,
            InitialValue::Drop => false,
        }
    }

    fn number(
        &mut self,
        identity: &MetricIdentity,
        point: &mut NumberDataPoint,
        now: Instant,
    ) -> Result<(), Dropped> {
        if point.flags & DataPointFlags::NoRecordedValueMask as u32 != 0 {
            return Err(Dropped::NoValue);
        }
        let Some(value) = point.value else {
            return Err(Dropped::NoValue);
        };
        // NaN marks staleness in Prometheus-born data: passed on untouched, as Go does.
        if matches!(value, Value::AsDouble(v) if v.is_nan()) {
            return Ok(());
        }
        // Go keys streams by start time and value type too: a restarted counter (new
        // start time) is a new stream.
        let mut extra = point.start_time_unix_nano.to_le_bytes().to_vec();
        extra.push(matches!(value, Value::AsInt(_)) as u8);
        let id = identity.point(&point.attributes, &extra);
        let (start, time) = (point.start_time_unix_nano, point.time_unix_nano);
        let sends_initial = self.sends_initial(start, time);
        match self.streams.entry(id, now) {
            Admission::Full => Err(Dropped::Limit),
            Admission::New(slot) => {
                slot.insert(Previous::Number { time, value });
                if sends_initial {
                    Ok(())
                } else {
                    Err(Dropped::Initial)
                }
            }
            Admission::Known(previous) => {
                let Previous::Number {
                    time: prev_time,
                    value: prev_value,
                } = *previous
                else {
                    *previous = Previous::Number { time, value };
                    return Err(Dropped::Reset);
                };
                if time <= prev_time {
                    return Err(Dropped::OutOfOrder);
                }
                *previous = Previous::Number { time, value };
                let delta = match (value, prev_value) {
                    (Value::AsInt(v), Value::AsInt(p)) if v >= p => match v.checked_sub(p) {
                        Some(delta) => Value::AsInt(delta),
                        None => return Err(Dropped::Reset),
                    },
                    (Value::AsDouble(v), Value::AsDouble(p)) if v >= p => Value::AsDouble(v - p),
                    _ => return Err(Dropped::Reset),
                };
                point.value = Some(delta);
                point.start_time_unix_nano = prev_time;
                Ok(())
            }
        }
    }

    fn histogram(
        &mut self,
        identity: &MetricIdentity,
        point: &mut HistogramDataPoint,
        now: Instant,
    ) -> Result<(), Dropped> {
        if point.flags & DataPointFlags::NoRecordedValueMask as u32 != 0 {
            return Err(Dropped::NoValue);
        }
        let id = identity.point(&point.attributes, &point.start_time_unix_nano.to_le_bytes());
        let (start, time) = (point.start_time_unix_nano, point.time_unix_nano);
        let sends_initial = self.sends_initial(start, time);
        match self.streams.entry(id, now) {
            Admission::Full => Err(Dropped::Limit),
            Admission::New(slot) => {
                slot.insert(Previous::Histogram {
                    time,
                    count: point.count,
                    sum: point.sum,
                    buckets: point.bucket_counts.clone(),
                });
                if sends_initial {
                    Ok(())
                } else {
                    Err(Dropped::Initial)
                }
            }
            Admission::Known(previous) => {
                let Previous::Histogram {
                    time: prev_time,
                    count: prev_count,
                    sum: prev_sum,
                    buckets: prev_buckets,
                } = previous
                else {
                    return Err(Dropped::Reset);
                };
                if time <= *prev_time {
                    return Err(Dropped::OutOfOrder);
                }
                // A NaN sum keeps the previous one, as Go does.
                let sum = match point.sum {
                    Some(s) if s.is_nan() => *prev_sum,
                    other => other,
                };
                let same_buckets = point.bucket_counts.len() == prev_buckets.len();
                let increased = point.count >= *prev_count
                    && point
                        .bucket_counts
                        .iter()
                        .zip(prev_buckets.iter())
                        .all(|(now, prev)| now >= prev);
                let delta_buckets: Vec<u64> = if increased {
                    point
                        .bucket_counts
                        .iter()
                        .zip(prev_buckets.iter())
                        .map(|(now, prev)| now - prev)
                        .collect()
                } else {
                    point.bucket_counts.clone()
                };
                let delta_count = if increased {
                    point.count - *prev_count
                } else {
                    point.count
                };
                let delta_sum = match (sum, *prev_sum) {
                    (Some(s), Some(p)) if increased => Some(s - p),
                    (s, _) => s,
                };
                let out_start = *prev_time;
                *previous = Previous::Histogram {
                    time,
                    count: point.count,
                    sum,
                    buckets: point.bucket_counts.clone(),
                };
                if !same_buckets {
                    return Err(Dropped::BucketsChanged);
                }
                // A reset (the count went down) sends the new run's value whole, as Go.
                point.start_time_unix_nano = out_start;
                point.count = delta_count;
                if point.sum.is_some_and(|s| !s.is_nan()) {
                    point.sum = delta_sum;
                }
                point.bucket_counts = delta_buckets;
                point.min = None;
                point.max = None;
                Ok(())
            }
        }
    }
}
