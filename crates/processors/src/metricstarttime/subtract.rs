//! `subtract_initial_point`: each stream's first point, subtracted from the later ones.

use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    ExponentialHistogramDataPoint, HistogramDataPoint, NumberDataPoint, SummaryDataPoint,
    exponential_histogram_data_point::Buckets, number_data_point::Value,
};

/// A cumulative point of any kind, to read and edit.
pub(crate) enum PointMut<'a> {
    Number(&'a mut NumberDataPoint),
    Histogram(&'a mut HistogramDataPoint),
    Exponential(&'a mut ExponentialHistogramDataPoint),
    Summary(&'a mut SummaryDataPoint),
}

impl PointMut<'_> {
    pub fn start(&self) -> u64 {
        match self {
            PointMut::Number(p) => p.start_time_unix_nano,
            PointMut::Histogram(p) => p.start_time_unix_nano,
            PointMut::Exponential(p) => p.start_time_unix_nano,
            PointMut::Summary(p) => p.start_time_unix_nano,
        }
    }

    pub fn time(&self) -> u64 {
        match self {
            PointMut::Number(p) => p.time_unix_nano,
            PointMut::Histogram(p) => p.time_unix_nano,
            PointMut::Exponential(p) => p.time_unix_nano,
            PointMut::Summary(p) => p.time_unix_nano,
        }
    }

    pub fn attributes(&self) -> &[KeyValue] {
        match self {
            PointMut::Number(p) => &p.attributes,
            PointMut::Histogram(p) => &p.attributes,
            PointMut::Exponential(p) => &p.attributes,
            PointMut::Summary(p) => &p.attributes,
        }
    }

    pub fn set_start(&mut self, start: u64) {
        match self {
            PointMut::Number(p) => p.start_time_unix_nano = start,
            PointMut::Histogram(p) => p.start_time_unix_nano = start,
            PointMut::Exponential(p) => p.start_time_unix_nano = start,
            PointMut::Summary(p) => p.start_time_unix_nano = start,
        }
    }

    /// What reveals a reset: the value (the count for distributions) going down, or the
    /// sum going down at an unchanged count.
    pub fn reset_signals(&self) -> (f64, f64) {
        match self {
            PointMut::Number(p) => (number(p.value), 0.0),
            PointMut::Histogram(p) => (p.count as f64, p.sum.unwrap_or(0.0)),
            PointMut::Exponential(p) => (p.count as f64, p.sum.unwrap_or(0.0)),
            PointMut::Summary(p) => (p.count as f64, p.sum),
        }
    }
}

fn number(value: Option<Value>) -> f64 {
    match value {
        Some(Value::AsInt(v)) => v as f64,
        Some(Value::AsDouble(v)) => v,
        None => 0.0,
    }
}

/// What a stream's state says of a point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Sent, minus the initial point.
    Keep,
    /// Dropped: it is a new initial point.
    Drop,
}

/// The initial point of a stream, the start time it gives, and the last point's reset
/// signals.
#[derive(Clone, Debug)]
pub(crate) struct Initial {
    start: u64,
    /// Subtracted from later points; `None` after a reset (the new run starts at zero).
    reference: Option<Reference>,
    last_time: u64,
    last: (f64, f64),
}

/// The values subtracted.
#[derive(Clone, Debug)]
enum Reference {
    Number(Option<Value>),
    Histogram {
        count: u64,
        sum: Option<f64>,
        buckets: Vec<u64>,
    },
    Exponential {
        count: u64,
        sum: Option<f64>,
        zero_count: u64,
        scale: i32,
        positive: Option<Buckets>,
        negative: Option<Buckets>,
    },
    Summary {
        count: u64,
        sum: f64,
    },
}

impl Initial {
    /// The state a stream's first point leaves.
    pub fn from_point(point: &PointMut<'_>) -> Self {
        let reference = match point {
            PointMut::Number(p) => Reference::Number(p.value),
            PointMut::Histogram(p) => Reference::Histogram {
                count: p.count,
                sum: p.sum,
                buckets: p.bucket_counts.clone(),
            },
            PointMut::Exponential(p) => Reference::Exponential {
                count: p.count,
                sum: p.sum,
                zero_count: p.zero_count,
                scale: p.scale,
                positive: p.positive.clone(),
                negative: p.negative.clone(),
            },
            PointMut::Summary(p) => Reference::Summary {
                count: p.count,
                sum: p.sum,
            },
        };
        Initial {
            start: point.time(),
            reference: Some(reference),
            last_time: point.time(),
            last: point.reset_signals(),
        }
    }

    /// Subtracts the initial point from `point` and gives it the run's start time; after
    /// a reset the run starts at the previous point's time, from zero.
    pub fn apply(&mut self, mut point: PointMut<'_>) -> Outcome {
        let signals = point.reset_signals();
        let reset =
            signals.0 < self.last.0 || (signals.1 < self.last.1 && signals.0 <= self.last.0);
        if reset {
            self.start = self.last_time;
            self.reference = None;
        }
        self.last = signals;
        self.last_time = point.time();
        let start = self.start;
        let fits = match (&self.reference, &mut point) {
            (None, point) => {
                point.set_start(start);
                true
            }
            (Some(Reference::Number(initial)), PointMut::Number(p)) => {
                p.value = Some(match (p.value, *initial) {
                    (Some(Value::AsInt(v)), Some(Value::AsInt(i))) => {
                        Value::AsInt(v.wrapping_sub(i))
                    }
                    (v, i) => Value::AsDouble(number(v) - number(i)),
                });
                p.start_time_unix_nano = start;
                true
            }
            (
                Some(Reference::Histogram {
                    count,
                    sum,
                    buckets,
                }),
                PointMut::Histogram(p),
            ) => {
                if p.bucket_counts.len() != buckets.len() {
                    false
                } else {
                    p.count = p.count.saturating_sub(*count);
                    p.sum = p.sum.zip(*sum).map(|(s, i)| s - i);
                    for (b, i) in p.bucket_counts.iter_mut().zip(buckets) {
                        *b = b.saturating_sub(*i);
                    }
                    p.min = None;
                    p.max = None;
                    p.start_time_unix_nano = start;
                    true
                }
            }
            (
                Some(Reference::Exponential {
                    count,
                    sum,
                    zero_count,
                    scale,
                    positive,
                    negative,
                }),
                PointMut::Exponential(p),
            ) => {
                if p.scale != *scale {
                    false
                } else {
                    p.count = p.count.saturating_sub(*count);
                    p.sum = p.sum.zip(*sum).map(|(s, i)| s - i);
                    p.zero_count = p.zero_count.saturating_sub(*zero_count);
                    subtract_buckets(&mut p.positive, positive.as_ref());
                    subtract_buckets(&mut p.negative, negative.as_ref());
                    p.min = None;
                    p.max = None;
                    p.start_time_unix_nano = start;
                    true
                }
            }
            (Some(Reference::Summary { count, sum }), PointMut::Summary(p)) => {
                // Quantiles cannot be subtracted; they stay as observed.
                p.count = p.count.saturating_sub(*count);
                p.sum -= sum;
                p.start_time_unix_nano = start;
                true
            }
            _ => false,
        };
        if fits {
            return Outcome::Keep;
        }
        // The buckets changed shape: this point is the new initial one.
        *self = Initial::from_point(&point);
        Outcome::Drop
    }
}

/// Subtracts the initial buckets from `buckets`, index by index.
fn subtract_buckets(buckets: &mut Option<Buckets>, initial: Option<&Buckets>) {
    let (Some(buckets), Some(initial)) = (buckets.as_mut(), initial) else {
        return;
    };
    let offset = i64::from(buckets.offset);
    let initial_offset = i64::from(initial.offset);
    for (i, count) in buckets.bucket_counts.iter_mut().enumerate() {
        let index = offset + i as i64 - initial_offset;
        if let Some(initial) = usize::try_from(index)
            .ok()
            .and_then(|i| initial.bucket_counts.get(i))
        {
            *count = count.saturating_sub(*initial);
        }
    }
}
