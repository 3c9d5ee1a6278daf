//! The accumulation: each stream's running total, and the cumulative point it turns a
//! delta into.

use std::time::{Duration, Instant};

use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    AggregationTemporality, DataPointFlags, ExponentialHistogramDataPoint, HistogramDataPoint,
    NumberDataPoint, metric::Data, number_data_point::Value,
};

use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;

use super::Config;
use super::exponential;
use crate::metric_stream::{Admission, MetricIdentity, StreamMetrics, StreamTable, edit_metrics};

/// How often stale streams are looked for (Go's ticker: every minute).
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// A stream's running total: the cumulative point so far, without attributes and
/// exemplars (the outgoing point keeps its own).
#[derive(Clone, Debug)]
enum Total {
    Number(NumberDataPoint),
    Histogram(HistogramDataPoint),
    Exponential(ExponentialHistogramDataPoint),
}

/// Why a point was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dropped {
    /// Its start time is before the stream's: it belongs to an older run.
    OlderStart,
    /// Not newer than the stream's last point.
    OutOfOrder,
    /// A new stream while `max_streams` are tracked.
    Limit,
    /// An exponential histogram with a scale outside OTLP's [-10, 20].
    InvalidScale,
}

impl Dropped {
    fn reason(self) -> &'static str {
        match self {
            Dropped::OlderStart => "older_start",
            Dropped::OutOfOrder => "out_of_order",
            Dropped::Limit => "stream_limit",
            Dropped::InvalidScale => "invalid_scale",
        }
    }
}

/// What every accumulated point kind has.
trait Basics: Sized {
    /// Start time and time.
    fn times(&self) -> (u64, u64);
    fn flags(&self) -> u32;
    fn attributes(&self) -> &[KeyValue];
    /// `self` without what the state need not keep (attributes, exemplars).
    fn for_state(&self) -> Self;
}

/// An accumulated point kind.
trait Point: Basics {
    /// `self + delta` into `self`.
    fn add(&mut self, delta: &Self);
    /// Writes the total `state` into the outgoing point `self`.
    fn take_total(&mut self, state: &Self);
    fn wrap(self) -> Total;
    fn unwrap(total: &mut Total) -> Option<&mut Self>;
}

/// The processor's state: the streams and the counters.
#[derive(Debug)]
pub(crate) struct Accumulator {
    streams: StreamTable<Total>,
    metrics: Option<StreamMetrics>,
}

impl Accumulator {
    /// An accumulator for `config`, counting into `metrics` if given.
    pub fn new(config: &Config, metrics: Option<StreamMetrics>) -> Self {
        let max_streams = usize::try_from(config.max_streams).unwrap_or(usize::MAX);
        Accumulator {
            streams: StreamTable::new(max_streams, Some(config.max_stale), SWEEP_EVERY),
            metrics,
        }
    }

    /// Whether `request` holds any delta sum or histogram.
    pub fn selects_any(request: &ExportMetricsServiceRequest) -> bool {
        request
            .resource_metrics
            .iter()
            .flat_map(|rm| &rm.scope_metrics)
            .flat_map(|sm| &sm.metrics)
            .any(|m| delta_temporality(m.data.as_ref()).is_some())
    }

    /// How many streams are tracked.
    #[cfg(test)]
    pub fn tracked(&self) -> usize {
        self.streams.len()
    }

    /// Turns the delta metrics of `request` cumulative, in place, at `now`.
    pub fn accumulate(&mut self, request: &mut ExportMetricsServiceRequest, now: Instant) {
        self.streams.sweep_if_due(now);
        let mut dropped: Vec<(Dropped, u64)> = Vec::new();
        let mut count = |reason: Dropped| match dropped.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += 1,
            None => dropped.push((reason, 1)),
        };
        let cumulative = AggregationTemporality::Cumulative as i32;
        edit_metrics(request, |resource, scope, metric| {
            if delta_temporality(metric.data.as_ref()).is_none() {
                return true;
            }
            let identity = MetricIdentity::new(resource, scope, metric);
            let streams = &mut self.streams;
            let remaining = match &mut metric.data {
                Some(Data::Sum(sum)) => {
                    sum.aggregation_temporality = cumulative;
                    sum.data_points.retain_mut(|p| {
                        accumulate(streams, &identity, p, now)
                            .map_err(&mut count)
                            .is_ok()
                    });
                    sum.data_points.len()
                }
                Some(Data::Histogram(histogram)) => {
                    histogram.aggregation_temporality = cumulative;
                    histogram.data_points.retain_mut(|p| {
                        accumulate(streams, &identity, p, now)
                            .map_err(&mut count)
                            .is_ok()
                    });
                    histogram.data_points.len()
                }
                Some(Data::ExponentialHistogram(histogram)) => {
                    histogram.aggregation_temporality = cumulative;
                    histogram.data_points.retain_mut(|p| {
                        if !exponential::valid_scale(p.scale) {
                            count(Dropped::InvalidScale);
                            return false;
                        }
                        accumulate(streams, &identity, p, now)
                            .map_err(&mut count)
                            .is_ok()
                    });
                    histogram.data_points.len()
                }
                _ => 1,
            };
            remaining > 0
        });
        if let Some(metrics) = &mut self.metrics {
            metrics.set_tracked(self.streams.len());
            for (reason, n) in dropped {
                metrics.dropped(reason.reason(), n);
            }
        }
    }
}

/// The temporality field of a delta sum or histogram, if `data` is one.
fn delta_temporality(data: Option<&Data>) -> Option<()> {
    let delta = AggregationTemporality::Delta as i32;
    match data? {
        Data::Sum(s) if s.aggregation_temporality == delta => Some(()),
        Data::Histogram(h) if h.aggregation_temporality == delta => Some(()),
        Data::ExponentialHistogram(e) if e.aggregation_temporality == delta => Some(()),
        _ => None,
    }
}

/// Adds the delta `point` to its stream and makes it the stream's cumulative point.
fn accumulate<P: Point>(
    streams: &mut StreamTable<Total>,
    identity: &MetricIdentity,
    point: &mut P,
    now: Instant,
) -> Result<(), Dropped> {
    // A point without a value is a marker (Prometheus staleness): passed on as is.
    if point.flags() & DataPointFlags::NoRecordedValueMask as u32 != 0 {
        return Ok(());
    }
    let id = identity.point(point.attributes(), &[]);
    match streams.entry(id, now) {
        Admission::Full => Err(Dropped::Limit),
        Admission::New(slot) => {
            // The first delta is the total so far.
            slot.insert(point.for_state().wrap());
            Ok(())
        }
        Admission::Known(total) => {
            let Some(state) = P::unwrap(total) else {
                // The same identity with another point kind cannot happen (the type is
                // part of it); start over rather than mix.
                *total = point.for_state().wrap();
                return Ok(());
            };
            let (start, time) = point.times();
            let (state_start, state_time) = state.times();
            if start < state_start {
                return Err(Dropped::OlderStart);
            }
            if time <= state_time {
                return Err(Dropped::OutOfOrder);
            }
            state.add(point);
            point.take_total(state);
            Ok(())
        }
    }
}

macro_rules! point_basics {
    ($ty:ty) => {
        impl Basics for $ty {
            fn times(&self) -> (u64, u64) {
                (self.start_time_unix_nano, self.time_unix_nano)
            }
            fn flags(&self) -> u32 {
                self.flags
            }
            fn attributes(&self) -> &[KeyValue] {
                &self.attributes
            }
            fn for_state(&self) -> Self {
                let mut state = self.clone();
                state.attributes = Vec::new();
                state.exemplars = Vec::new();
                state
            }
        }
    };
}

point_basics!(NumberDataPoint);
point_basics!(HistogramDataPoint);
point_basics!(ExponentialHistogramDataPoint);

impl Point for NumberDataPoint {
    fn add(&mut self, delta: &Self) {
        self.value = Some(match (self.value, delta.value) {
            (Some(Value::AsInt(a)), Some(Value::AsInt(b))) => Value::AsInt(a.wrapping_add(b)),
            (a, b) => Value::AsDouble(as_double(a) + as_double(b)),
        });
        self.time_unix_nano = delta.time_unix_nano;
    }
    fn take_total(&mut self, state: &Self) {
        self.value = state.value;
        self.start_time_unix_nano = state.start_time_unix_nano;
    }
    fn wrap(self) -> Total {
        Total::Number(self)
    }
    fn unwrap(total: &mut Total) -> Option<&mut Self> {
        match total {
            Total::Number(p) => Some(p),
            _ => None,
        }
    }
}

fn as_double(value: Option<Value>) -> f64 {
    match value {
        Some(Value::AsInt(v)) => v as f64,
        Some(Value::AsDouble(v)) => v,
        None => 0.0,
    }
}

impl Point for HistogramDataPoint {
    fn add(&mut self, delta: &Self) {
        // Other bounds cannot be merged: the total starts over from this point, as Go.
        if self.explicit_bounds != delta.explicit_bounds {
            *self = delta.for_state();
            return;
        }
        for (total, add) in self.bucket_counts.iter_mut().zip(&delta.bucket_counts) {
            *total = total.wrapping_add(*add);
        }
        self.time_unix_nano = delta.time_unix_nano;
        self.count = self.count.wrapping_add(delta.count);
        self.sum = match (self.sum, delta.sum) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        self.min = match (self.min, delta.min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            _ => None,
        };
        self.max = match (self.max, delta.max) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
    }
    fn take_total(&mut self, state: &Self) {
        self.start_time_unix_nano = state.start_time_unix_nano;
        self.count = state.count;
        self.sum = state.sum;
        self.min = state.min;
        self.max = state.max;
        self.bucket_counts.clone_from(&state.bucket_counts);
        self.explicit_bounds.clone_from(&state.explicit_bounds);
    }
    fn wrap(self) -> Total {
        Total::Histogram(self)
    }
    fn unwrap(total: &mut Total) -> Option<&mut Self> {
        match total {
            Total::Histogram(p) => Some(p),
            _ => None,
        }
    }
}

impl Point for ExponentialHistogramDataPoint {
    fn add(&mut self, delta: &Self) {
        exponential::add(self, delta);
    }
    fn take_total(&mut self, state: &Self) {
        let (attributes, exemplars, flags) = (
            std::mem::take(&mut self.attributes),
            std::mem::take(&mut self.exemplars),
            self.flags,
        );
        *self = state.clone();
        self.attributes = attributes;
        self.exemplars = exemplars;
        self.flags = flags;
    }
    fn wrap(self) -> Total {
        Total::Exponential(self)
    }
    fn unwrap(total: &mut Total) -> Option<&mut Self> {
        match total {
            Total::Exponential(p) => Some(p),
            _ => None,
        }
    }
}
