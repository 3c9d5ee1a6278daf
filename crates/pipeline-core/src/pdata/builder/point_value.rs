//! The values of histogram, exponential histogram and summary points, checked against the
//! OTLP data model when they become points.

use std::cmp::Ordering;

use super::PointError;
use crate::pdata::proto::common::v1::KeyValue;
use crate::pdata::proto::metrics::v1::exponential_histogram_data_point::Buckets;
use crate::pdata::proto::metrics::v1::summary_data_point::ValueAtQuantile;
use crate::pdata::proto::metrics::v1::{
    ExponentialHistogramDataPoint, HistogramDataPoint, SummaryDataPoint,
};

/// The value of one explicit-bucket histogram point: bucket bounds and counts, and
/// optionally the sum, min and max of the recorded values.
///
/// Bucket `i` counts values in `(bounds[i-1], bounds[i]]`; the last bucket counts values
/// above the last bound, so there is one more count than bounds. The point's `count` is
/// the sum of the bucket counts.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramValue {
    bounds: Vec<f64>,
    bucket_counts: Vec<u64>,
    sum: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
}

impl HistogramValue {
    /// Bounds (strictly increasing) and bucket counts (one more than bounds).
    pub fn new(bounds: Vec<f64>, bucket_counts: Vec<u64>) -> Self {
        HistogramValue {
            bounds,
            bucket_counts,
            sum: None,
            min: None,
            max: None,
        }
    }

    /// Sets the sum of the recorded values (leave unset for a histogram of values that
    /// may be negative and whose sum is not monotonic, as the data model asks).
    pub fn sum(mut self, sum: f64) -> Self {
        self.sum = Some(sum);
        self
    }

    /// Sets the smallest and largest recorded values.
    pub fn min_max(mut self, min: f64, max: f64) -> Self {
        self.min = Some(min);
        self.max = Some(max);
        self
    }

    /// The OTLP point, after checking the buckets.
    pub(super) fn into_point(
        self,
        attributes: Vec<KeyValue>,
        start_time_unix_nano: u64,
        time_unix_nano: u64,
    ) -> Result<HistogramDataPoint, PointError> {
        if self.bucket_counts.len() != self.bounds.len() + 1 {
            return Err(PointError::BucketCounts {
                bounds: self.bounds.len(),
                bucket_counts: self.bucket_counts.len(),
            });
        }
        let increasing = |pair: &[f64]| pair[0].partial_cmp(&pair[1]) == Some(Ordering::Less);
        if !self.bounds.windows(2).all(increasing) || self.bounds.iter().any(|b| b.is_nan()) {
            return Err(PointError::Bounds(self.bounds));
        }
        Ok(HistogramDataPoint {
            attributes,
            start_time_unix_nano,
            time_unix_nano,
            count: self.bucket_counts.iter().sum(),
            sum: self.sum,
            bucket_counts: self.bucket_counts,
            explicit_bounds: self.bounds,
            min: self.min,
            max: self.max,
            ..Default::default()
        })
    }
}

/// The value of one exponential histogram point.
///
/// With scale `s`, bucket index `i` covers `(base^i, base^(i+1)]` with `base = 2^(2^-s)`;
/// `positive` and `negative` hold consecutive bucket counts from an index `offset`. The
/// point's `count` is the zero count plus every bucket count.
#[derive(Debug, Clone, PartialEq)]
pub struct ExponentialHistogramValue {
    scale: i32,
    zero_count: u64,
    zero_threshold: f64,
    positive: Option<Buckets>,
    negative: Option<Buckets>,
    sum: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
}

impl ExponentialHistogramValue {
    /// An empty point at `scale` (-10..=20).
    pub fn new(scale: i32) -> Self {
        ExponentialHistogramValue {
            scale,
            zero_count: 0,
            zero_threshold: 0.0,
            positive: None,
            negative: None,
            sum: None,
            min: None,
            max: None,
        }
    }

    /// Sets how many values fell in the zero bucket, `[-threshold, threshold]`.
    pub fn zero_count(mut self, count: u64, threshold: f64) -> Self {
        self.zero_count = count;
        self.zero_threshold = threshold;
        self
    }

    /// Sets the positive buckets: counts from bucket index `offset` on.
    pub fn positive(mut self, offset: i32, bucket_counts: Vec<u64>) -> Self {
        self.positive = Some(Buckets {
            offset,
            bucket_counts,
        });
        self
    }

    /// Sets the negative buckets: counts from bucket index `offset` on.
    pub fn negative(mut self, offset: i32, bucket_counts: Vec<u64>) -> Self {
        self.negative = Some(Buckets {
            offset,
            bucket_counts,
        });
        self
    }

    /// Sets the sum of the recorded values.
    pub fn sum(mut self, sum: f64) -> Self {
        self.sum = Some(sum);
        self
    }

    /// Sets the smallest and largest recorded values.
    pub fn min_max(mut self, min: f64, max: f64) -> Self {
        self.min = Some(min);
        self.max = Some(max);
        self
    }

    /// The OTLP point, after checking the scale.
    pub(super) fn into_point(
        self,
        attributes: Vec<KeyValue>,
        start_time_unix_nano: u64,
        time_unix_nano: u64,
    ) -> Result<ExponentialHistogramDataPoint, PointError> {
        if !(-10..=20).contains(&self.scale) {
            return Err(PointError::Scale(self.scale));
        }
        let bucket_total =
            |buckets: &Option<Buckets>| buckets.iter().flat_map(|b| &b.bucket_counts).sum::<u64>();
        Ok(ExponentialHistogramDataPoint {
            attributes,
            start_time_unix_nano,
            time_unix_nano,
            count: self.zero_count + bucket_total(&self.positive) + bucket_total(&self.negative),
            sum: self.sum,
            scale: self.scale,
            zero_count: self.zero_count,
            zero_threshold: self.zero_threshold,
            positive: self.positive,
            negative: self.negative,
            min: self.min,
            max: self.max,
            ..Default::default()
        })
    }
}

/// The value of one summary point: how many values, their sum, and quantiles.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryValue {
    count: u64,
    sum: f64,
    quantiles: Vec<ValueAtQuantile>,
}

impl SummaryValue {
    /// `count` values summing to `sum`, no quantiles yet.
    pub fn new(count: u64, sum: f64) -> Self {
        SummaryValue {
            count,
            sum,
            quantiles: Vec::new(),
        }
    }

    /// Adds the value at `quantile` (0..=1; 0.5 is the median).
    pub fn quantile(mut self, quantile: f64, value: f64) -> Self {
        self.quantiles.push(ValueAtQuantile { quantile, value });
        self
    }

    /// The OTLP point, after checking the quantiles.
    pub(super) fn into_point(
        self,
        attributes: Vec<KeyValue>,
        start_time_unix_nano: u64,
        time_unix_nano: u64,
    ) -> Result<SummaryDataPoint, PointError> {
        if let Some(bad) = self
            .quantiles
            .iter()
            .find(|q| !(0.0..=1.0).contains(&q.quantile))
        {
            return Err(PointError::Quantile(bad.quantile));
        }
        Ok(SummaryDataPoint {
            attributes,
            start_time_unix_nano,
            time_unix_nano,
            count: self.count,
            sum: self.sum,
            quantile_values: self.quantiles,
            ..Default::default()
        })
    }
}
