//! `convert_exponential_histogram_to_histogram`: an exponential histogram's positive
//! buckets placed into explicit bounds, by Go's four distributions.

use tributary_pipeline_core::pdata::proto::metrics::v1::{
    ExponentialHistogramDataPoint, Histogram, HistogramDataPoint, Metric, metric::Data,
};

/// Replaces an exponential histogram with an explicit one (Go's
/// `convert_exponential_histogram_to_histogram`); other metrics are left alone.
pub(super) fn to_explicit(metric: &mut Metric, distribution: &str, bounds: &[f64]) {
    let Some(Data::ExponentialHistogram(exponential)) = &mut metric.data else {
        return;
    };
    let data_points = std::mem::take(&mut exponential.data_points)
        .into_iter()
        .map(|p| HistogramDataPoint {
            bucket_counts: bucket_counts(&p, bounds, distribution),
            explicit_bounds: bounds.to_vec(),
            start_time_unix_nano: p.start_time_unix_nano,
            time_unix_nano: p.time_unix_nano,
            count: p.count,
            // Go sets sum, min and max from the getters, which read an absent one as 0.
            sum: Some(p.sum.unwrap_or_default()),
            min: Some(p.min.unwrap_or_default()),
            max: Some(p.max.unwrap_or_default()),
            exemplars: p.exemplars,
            attributes: p.attributes,
            flags: 0,
        })
        .collect();
    metric.data = Some(Data::Histogram(Histogram {
        data_points,
        aggregation_temporality: exponential.aggregation_temporality,
    }));
    // Go builds a new metric of the name, description and unit, so the metadata goes.
    metric.metadata.clear();
}

/// Go's `calculateBucketCounts`: one count per bound.
fn bucket_counts(
    p: &ExponentialHistogramDataPoint,
    bounds: &[f64],
    distribution: &str,
) -> Vec<u64> {
    let mut counts = vec![0u64; bounds.len()];
    let last = bounds.len() - 1;
    if p.zero_count > 0 && bounds[0] == 0.0 {
        counts[0] += p.zero_count;
    }
    let Some(positive) = &p.positive else {
        return counts;
    };
    let factor = std::f64::consts::LN_2 * (-(p.scale as f64)).exp2();
    for (pos, &count) in positive.bucket_counts.iter().enumerate() {
        let index = f64::from(positive.offset) + pos as f64;
        let upper = ((index + 1.0) * factor).exp();
        let lower = (index * factor).exp();
        if lower > bounds[last] {
            counts[last] += count;
            continue;
        }
        // A bucket inside one explicit bucket goes there whatever the distribution.
        if let Some(b) = (1..bounds.len()).find(|&b| lower > bounds[b - 1] && upper <= bounds[b]) {
            counts[b - 1] += count;
            continue;
        }
        match distribution {
            "upper" => {
                let at = bounds.iter().position(|&b| upper <= b).unwrap_or(last);
                counts[at] += count;
            }
            "midpoint" => {
                let midpoint = (upper + lower) / 2.0;
                let at = match bounds.iter().position(|&b| midpoint <= b) {
                    Some(j) => j.saturating_sub(1),
                    None => last,
                };
                counts[at] += count;
            }
            "uniform" => {
                let start = bounds
                    .iter()
                    .position(|&b| lower <= b)
                    .unwrap_or(bounds.len());
                let end = (start..bounds.len())
                    .find(|&j| upper <= bounds[j])
                    .unwrap_or(bounds.len())
                    .min(last);
                spread_uniformly(&mut counts, start, end, count);
            }
            _ => spread_randomly(&mut counts, bounds, lower, upper, count),
        }
    }
    counts
}

/// Go's `uniformAlgorithm`: the count split evenly over `start..=end`, the remainder one
/// by one from `start`; all of it at `start` when the range is one bucket or less.
fn spread_uniformly(counts: &mut [u64], start: usize, end: usize, count: u64) {
    if end > start {
        let n = (end - start + 1) as u64;
        let (each, mut remainder) = (count / n, count % n);
        for c in &mut counts[start..=end] {
            *c += each;
            if remainder > 0 {
                *c += 1;
                remainder -= 1;
            }
        }
    } else {
        // `start` is a bucket: a count above the last bound was placed before.
        let at = start.min(counts.len() - 1);
        counts[at] += count;
    }
}

/// Go's `randomAlgorithm`: each intersecting bucket gets a random part of its share of
/// the range (by overlap), and what is left goes one by one to random buckets among them.
fn spread_randomly(counts: &mut [u64], bounds: &[f64], lower: f64, upper: f64, count: u64) {
    let last = bounds.len() - 1;
    let start = bounds
        .iter()
        .position(|&b| b >= lower)
        .unwrap_or(bounds.len());
    let end = (start..bounds.len())
        .find(|&j| bounds[j] >= upper)
        .unwrap_or(bounds.len())
        .min(last);
    if end <= start {
        // `start` is a bucket: a count above the last bound was placed before.
        counts[start.min(last)] += count;
        return;
    }
    let width = upper - lower;
    let mut draws = Draws::new();
    let mut allocated = 0u64;
    for (j, c) in counts.iter_mut().enumerate().take(end + 1).skip(start) {
        let bucket_lower = if j == 0 { lower } else { bounds[j - 1] };
        let overlap = bounds[j].min(upper) - bucket_lower.max(lower);
        let share = (count as f64 * (overlap / width)) as u64;
        let drawn = (draws.fraction() * share as f64) as u64;
        *c += drawn;
        allocated += drawn;
    }
    for _ in 0..count.saturating_sub(allocated) {
        counts[start + draws.below(end - start + 1)] += 1;
    }
}

/// Pseudo-random draws (xorshift64*), seeded from the standard library's random hash keys.
pub(super) struct Draws(u64);

impl Draws {
    pub(super) fn new() -> Draws {
        use std::hash::BuildHasher;
        // A fresh `RandomState` has new keys; `| 1` keeps the state non-zero.
        Draws(std::hash::RandomState::new().hash_one(0u8) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A draw in [0, 1).
    pub(super) fn fraction(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A draw in `0..n` (`n` > 0).
    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
