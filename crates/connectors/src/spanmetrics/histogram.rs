//! Duration histograms: explicit bounds, or exponential buckets that rescale to fit.

use std::sync::Arc;

use tributary_pipeline_core::pdata::proto::metrics::v1::exponential_histogram_data_point::Buckets;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    ExponentialHistogramDataPoint, HistogramDataPoint,
};

/// The finest scale an exponential histogram starts at (Go's `go-expohisto` too).
const MAX_SCALE: i32 = 20;
/// The coarsest scale: beyond it every positive double fits in few buckets.
const MIN_SCALE: i32 = -10;

/// One series' durations.
#[derive(Clone, Debug)]
pub(crate) enum Distribution {
    /// Counts per explicit bucket.
    Explicit(ExplicitHistogram),
    /// Counts per exponential bucket.
    Exponential(ExponentialHistogram),
}

impl Distribution {
    pub(crate) fn record(&mut self, value: f64) {
        match self {
            Distribution::Explicit(h) => h.record(value),
            Distribution::Exponential(h) => h.record(value),
        }
    }
}

/// A histogram with explicit upper bounds: bucket `i` counts values in
/// `(bounds[i-1], bounds[i]]`, the last one those above every bound.
#[derive(Clone, Debug)]
pub(crate) struct ExplicitHistogram {
    bounds: Arc<[f64]>,
    bucket_counts: Vec<u64>,
    count: u64,
    sum: f64,
}

impl ExplicitHistogram {
    pub(crate) fn new(bounds: Arc<[f64]>) -> Self {
        let buckets = bounds.len() + 1;
        ExplicitHistogram {
            bounds,
            bucket_counts: vec![0; buckets],
            count: 0,
            sum: 0.0,
        }
    }

    pub(crate) fn record(&mut self, value: f64) {
        // The first bound at or above the value, as Go's sort.SearchFloat64s finds it.
        let index = self.bounds.partition_point(|bound| *bound < value);
        self.bucket_counts[index] += 1;
        self.count += 1;
        self.sum += value;
    }

    /// Writes the counts into `point`.
    pub(crate) fn fill(&self, point: &mut HistogramDataPoint) {
        point.explicit_bounds = self.bounds.to_vec();
        point.bucket_counts = self.bucket_counts.clone();
        point.count = self.count;
        point.sum = Some(self.sum);
    }
}

/// A base-2 exponential histogram of non-negative values (durations): it starts at the
/// finest scale and halves its resolution whenever the populated buckets would exceed
/// `max_size`, as the OpenTelemetry SDKs and Go's `go-expohisto` do.
#[derive(Clone, Debug)]
pub(crate) struct ExponentialHistogram {
    max_size: usize,
    scale: i32,
    /// Index of `counts[0]`.
    offset: i32,
    counts: Vec<u64>,
    zero_count: u64,
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
}

impl ExponentialHistogram {
    pub(crate) fn new(max_size: usize) -> Self {
        ExponentialHistogram {
            max_size: max_size.max(2),
            scale: MAX_SCALE,
            offset: 0,
            counts: Vec::new(),
            zero_count: 0,
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }

    pub(crate) fn record(&mut self, value: f64) {
        if !value.is_finite() || value < 0.0 {
            return;
        }
        self.count += 1;
        self.sum += value;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        if value == 0.0 {
            self.zero_count += 1;
            return;
        }
        let mut index = bucket_index(value, self.scale);
        if self.counts.is_empty() {
            self.offset = index;
            self.counts.push(1);
            return;
        }
        let high = self.offset + self.counts.len() as i32 - 1;
        let (low, high) = (self.offset.min(index), high.max(index));
        let mut change = 0;
        while (i64::from(high >> change) - i64::from(low >> change) + 1) as usize > self.max_size
            && self.scale - change > MIN_SCALE
        {
            change += 1;
        }
        if change > 0 {
            self.downscale(change);
            index >>= change;
        }
        if index < self.offset {
            let grow = (self.offset - index) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.offset = index;
        }
        let position = (index - self.offset) as usize;
        if position >= self.counts.len() {
            self.counts.resize(position + 1, 0);
        }
        self.counts[position] += 1;
    }

    /// Merges buckets so the scale drops by `change`: bucket `i` becomes `i >> change`.
    fn downscale(&mut self, change: i32) {
        let new_offset = self.offset >> change;
        let mut merged: Vec<u64> = Vec::new();
        for (position, count) in self.counts.iter().enumerate() {
            let index = ((self.offset + position as i32) >> change) - new_offset;
            let index = index as usize;
            if index >= merged.len() {
                merged.resize(index + 1, 0);
            }
            merged[index] += count;
        }
        self.counts = merged;
        self.offset = new_offset;
        self.scale -= change;
    }

    /// Writes the counts into `point`.
    pub(crate) fn fill(&self, point: &mut ExponentialHistogramDataPoint) {
        point.count = self.count;
        point.sum = Some(self.sum);
        point.scale = self.scale;
        point.zero_count = self.zero_count;
        point.positive = Some(Buckets {
            offset: self.offset,
            bucket_counts: self.counts.clone(),
        });
        point.negative = Some(Buckets::default());
        if self.count > 0 {
            point.min = Some(self.min);
            point.max = Some(self.max);
        }
    }
}

/// The bucket of `value` (> 0) at `scale`: bucket `i` holds `(2^(i/2^scale), 2^((i+1)/2^scale)]`.
fn bucket_index(value: f64, scale: i32) -> i32 {
    let scaled = value.log2() * 2f64.powi(scale);
    (scaled.ceil() as i64 - 1).clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_bounds_are_inclusive_upper_bounds() {
        let mut h = ExplicitHistogram::new(Arc::from([1.0, 5.0, 10.0].as_slice()));
        for value in [0.5, 1.0, 1.5, 5.0, 10.0, 11.0, 1000.0] {
            h.record(value);
        }
        let mut point = HistogramDataPoint::default();
        h.fill(&mut point);
        assert_eq!(point.bucket_counts, [2, 2, 1, 2]);
        assert_eq!(point.count, 7);
        assert_eq!(point.sum, Some(1029.0));
        assert_eq!(point.explicit_bounds, [1.0, 5.0, 10.0]);
    }

    /// The lower and upper boundary of bucket `index` at `scale`.
    fn boundaries(index: i32, scale: i32) -> (f64, f64) {
        let base = 2f64.powf(2f64.powi(-scale));
        (base.powi(index), base.powi(index + 1))
    }

    #[test]
    fn exponential_buckets_hold_their_values_and_stay_within_max_size() {
        let mut h = ExponentialHistogram::new(20);
        let values: Vec<f64> = (1..=200)
            .map(|i| f64::from(i) * 0.37)
            .chain([0.0, 0.0])
            .collect();
        for value in &values {
            h.record(*value);
        }
        assert!(h.counts.len() <= 20, "{} buckets", h.counts.len());
        assert_eq!(
            h.counts.iter().sum::<u64>() + h.zero_count,
            values.len() as u64
        );
        assert_eq!(h.zero_count, 2);
        // Every value lies in the bucket its index names at the final scale.
        for value in values.iter().filter(|v| **v > 0.0) {
            let index = bucket_index(*value, h.scale);
            let (low, high) = boundaries(index, h.scale);
            assert!(
                low < *value * (1.0 + 1e-12) && *value <= high * (1.0 + 1e-12),
                "{value} in {index}"
            );
            assert!(index >= h.offset && index < h.offset + h.counts.len() as i32);
        }
        let mut point = ExponentialHistogramDataPoint::default();
        h.fill(&mut point);
        assert_eq!(
            (point.count, point.min, point.max),
            (202, Some(0.0), Some(74.0))
        );
    }

    #[test]
    fn a_single_value_keeps_the_finest_scale_and_powers_of_two_close_their_bucket() {
        let mut h = ExponentialHistogram::new(160);
        h.record(4.0);
        assert_eq!(h.scale, MAX_SCALE);
        assert_eq!(
            h.offset,
            2 * (1 << MAX_SCALE) - 1,
            "4 = 2^2 is the upper bound of its bucket"
        );
    }
}
