//! An auto-scaling base-2 exponential histogram bounded to `max_size` buckets per sign:
//! the behaviour of `github.com/lightstep/go-expohisto`, which the Go receiver uses for
//! `observer_type: histogram`.
//!
//! It starts at the finest scale (20) and, when a value would need more than `max_size`
//! buckets on its side of zero, halves the resolution (scale − 1, merging bucket pairs)
//! until the range fits. Buckets are upper-inclusive, `(base^i, base^(i+1)]` with
//! `base = 2^(2^-scale)`, as OTLP defines them; zero has its own count.

use tributary_pipeline_core::pdata::builder::ExponentialHistogramValue;

/// The finest scale OTLP allows; where every histogram starts.
const MAX_SCALE: i32 = 20;
/// The coarsest scale OTLP allows; at it, every finite double fits in three buckets.
const MIN_SCALE: i32 = -10;

/// One histogram being aggregated.
#[derive(Debug, Clone)]
pub(crate) struct ExpoHistogram {
    max_size: usize,
    scale: i32,
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
    zero_count: u64,
    positive: Buckets,
    negative: Buckets,
}

/// Consecutive bucket counts from index `offset`.
#[derive(Debug, Clone, Default)]
struct Buckets {
    offset: i32,
    counts: Vec<u64>,
}

impl Buckets {
    /// The index range a new `index` would make this side span.
    fn span_with(&self, index: i32) -> (i32, i32) {
        if self.counts.is_empty() {
            return (index, index);
        }
        let last = self.offset + self.counts.len() as i32 - 1;
        (self.offset.min(index), last.max(index))
    }

    fn add(&mut self, index: i32, incr: u64) {
        if self.counts.is_empty() {
            self.offset = index;
            self.counts.push(incr);
            return;
        }
        if index < self.offset {
            let grow = (self.offset - index) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.offset = index;
        }
        let at = (index - self.offset) as usize;
        if at >= self.counts.len() {
            self.counts.resize(at + 1, 0);
        }
        self.counts[at] = self.counts[at].saturating_add(incr);
    }

    /// Merges buckets as the scale drops by `change`: index `i` becomes `i >> change`.
    fn downscale(&mut self, change: u32) {
        if change == 0 || self.counts.is_empty() {
            return;
        }
        let offset = self.offset >> change;
        let mut counts: Vec<u64> = Vec::new();
        for (i, count) in self.counts.iter().enumerate() {
            let at = (((self.offset + i as i32) >> change) - offset) as usize;
            if at >= counts.len() {
                counts.resize(at + 1, 0);
            }
            counts[at] = counts[at].saturating_add(*count);
        }
        self.offset = offset;
        self.counts = counts;
    }
}

impl ExpoHistogram {
    /// An empty histogram of at most `max_size` buckets per sign (at least 2).
    pub(crate) fn new(max_size: u32) -> Self {
        ExpoHistogram {
            max_size: max_size.max(2) as usize,
            scale: MAX_SCALE,
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            zero_count: 0,
            positive: Buckets::default(),
            negative: Buckets::default(),
        }
    }

    /// Records `value` `incr` times (a sampled value stands for several).
    pub(crate) fn update(&mut self, value: f64, incr: u64) {
        if incr == 0 || !value.is_finite() {
            return;
        }
        self.count = self.count.saturating_add(incr);
        self.sum += value * incr as f64;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        if value == 0.0 {
            self.zero_count = self.zero_count.saturating_add(incr);
            return;
        }
        let magnitude = value.abs();
        let side = if value > 0.0 {
            &self.positive
        } else {
            &self.negative
        };
        let mut index = map_to_index(magnitude, self.scale);
        let (low, high) = side.span_with(index);
        let mut change = 0u32;
        while self.scale - (change as i32) > MIN_SCALE
            && ((high >> change) - (low >> change)) as usize + 1 > self.max_size
        {
            change += 1;
        }
        if change > 0 {
            self.scale -= change as i32;
            self.positive.downscale(change);
            self.negative.downscale(change);
            index >>= change;
        }
        let side = if value > 0.0 {
            &mut self.positive
        } else {
            &mut self.negative
        };
        side.add(index, incr);
    }

    /// How many values were recorded.
    #[cfg(test)]
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// The current scale.
    #[cfg(test)]
    pub(crate) fn scale(&self) -> i32 {
        self.scale
    }

    /// The OTLP point value.
    pub(crate) fn to_value(&self) -> ExponentialHistogramValue {
        let mut value = ExponentialHistogramValue::new(self.scale)
            .zero_count(self.zero_count, 0.0)
            .sum(self.sum);
        if self.count > 0 {
            value = value.min_max(self.min, self.max);
        }
        if !self.positive.counts.is_empty() {
            value = value.positive(self.positive.offset, self.positive.counts.clone());
        }
        if !self.negative.counts.is_empty() {
            value = value.negative(self.negative.offset, self.negative.counts.clone());
        }
        value
    }
}

/// The bucket index of a positive finite `value` at `scale`: `i` such that
/// `base^i < value <= base^(i+1)`.
pub(crate) fn map_to_index(value: f64, scale: i32) -> i32 {
    let bits = value.to_bits();
    let exponent_bits = ((bits >> 52) & 0x7ff) as i32;
    let mantissa = bits & ((1u64 << 52) - 1);
    // `value` in [2^exponent, 2^(exponent+1)); exact when it is a power of two.
    let (exponent, power_of_two) = if exponent_bits == 0 {
        (
            63 - mantissa.leading_zeros() as i32 - 1074,
            mantissa.is_power_of_two(),
        )
    } else {
        (exponent_bits - 1023, mantissa == 0)
    };
    if scale <= 0 {
        let index = if power_of_two { exponent - 1 } else { exponent };
        return index >> -scale;
    }
    if power_of_two {
        return (exponent << scale) - 1;
    }
    // Within the octave [2^exponent, 2^(exponent+1)): indexes exponent·2^s ..= (exponent+1)·2^s − 1.
    let scale_factor = f64::from(1u32 << scale) / std::f64::consts::LN_2;
    let index = (value.ln() * scale_factor).ceil() as i64 - 1;
    let low = i64::from(exponent) << scale;
    let high = (i64::from(exponent + 1) << scale) - 1;
    index.clamp(low, high) as i32
}
