//! Adding exponential histograms of different scales and zero thresholds.
//!
//! Two points merge at the coarser of their scales; if the merged buckets would span more
//! than [`MAX_BUCKETS`], both are downscaled further until they fit (as Go's
//! deltatocumulative does). A wider zero threshold absorbs the other point's buckets that
//! lie wholly inside it.

use tributary_pipeline_core::pdata::proto::metrics::v1::ExponentialHistogramDataPoint;
use tributary_pipeline_core::pdata::proto::metrics::v1::exponential_histogram_data_point::Buckets;

/// Most buckets a merged side may span (Go's `maxBuckets`).
pub(crate) const MAX_BUCKETS: i64 = 160;

/// Adds `delta` into `state`: counts, buckets, sum, min and max; `state` takes `delta`'s time.
pub(crate) fn add(
    state: &mut ExponentialHistogramDataPoint,
    delta: &ExponentialHistogramDataPoint,
) {
    let mut delta = delta.clone();
    // Zeros at the ends carry nothing but could stretch a merge over the whole index
    // space; only the non-zero span counts.
    for buckets in [
        &mut state.positive,
        &mut state.negative,
        &mut delta.positive,
        &mut delta.negative,
    ]
    .into_iter()
    .flatten()
    {
        trim(buckets);
    }
    let scale = state.scale.min(delta.scale);
    let (state_by, delta_by) = (state.scale - scale, delta.scale - scale);
    downscale_point(state, state_by);
    downscale_point(&mut delta, delta_by);
    let extra = needed_downscale(state, &delta);
    downscale_point(state, extra);
    downscale_point(&mut delta, extra);

    if state.zero_threshold != delta.zero_threshold {
        let threshold = state.zero_threshold.max(delta.zero_threshold);
        widen_zero(state, threshold);
        widen_zero(&mut delta, threshold);
    }
    merge(&mut state.positive, delta.positive.as_ref());
    merge(&mut state.negative, delta.negative.as_ref());

    state.time_unix_nano = delta.time_unix_nano;
    state.count = state.count.wrapping_add(delta.count);
    state.zero_count = state.zero_count.wrapping_add(delta.zero_count);
    state.sum = match (state.sum, delta.sum) {
        (Some(a), Some(b)) => Some(a + b),
        _ => None,
    };
    state.min = match (state.min, delta.min) {
        (Some(a), Some(b)) => Some(a.min(b)),
        _ => None,
    };
    state.max = match (state.max, delta.max) {
        (Some(a), Some(b)) => Some(a.max(b)),
        _ => None,
    };
}

/// Whether `scale` is one OTLP allows; others are refused before [`add`] sees them.
pub(crate) fn valid_scale(scale: i32) -> bool {
    (MIN_SCALE..=MAX_SCALE).contains(&scale)
}

/// The OTLP data model's scale bounds.
const MIN_SCALE: i32 = -10;
const MAX_SCALE: i32 = 20;

/// Drops the zero counts at both ends.
fn trim(buckets: &mut Buckets) {
    let Some(first) = buckets.bucket_counts.iter().position(|&c| c != 0) else {
        buckets.bucket_counts.clear();
        return;
    };
    let last = buckets
        .bucket_counts
        .iter()
        .rposition(|&c| c != 0)
        .unwrap_or(first);
    buckets.bucket_counts.truncate(last + 1);
    buckets.bucket_counts.drain(..first);
    buckets.offset = (i64::from(buckets.offset) + first as i64) as i32;
}

/// The index range `[lo, hi)` of the non-zero buckets, if any.
fn range(buckets: Option<&Buckets>) -> Option<(i64, i64)> {
    let buckets = buckets?;
    let first = buckets.bucket_counts.iter().position(|&c| c != 0)?;
    let last = buckets.bucket_counts.iter().rposition(|&c| c != 0)?;
    let offset = i64::from(buckets.offset);
    Some((offset + first as i64, offset + last as i64 + 1))
}

/// How many more halvings of the scale make both sides of the merge fit in `MAX_BUCKETS`.
fn needed_downscale(a: &ExponentialHistogramDataPoint, b: &ExponentialHistogramDataPoint) -> i32 {
    let side = |x: Option<&Buckets>, y: Option<&Buckets>| -> i32 {
        let (lo, hi) = match (range(x), range(y)) {
            (Some((l1, h1)), Some((l2, h2))) => (l1.min(l2), h1.max(h2)),
            (Some(r), None) | (None, Some(r)) => r,
            (None, None) => return 0,
        };
        let (mut lo, mut hi, mut halvings) = (lo, hi - 1, 0);
        while hi - lo + 1 > MAX_BUCKETS {
            lo >>= 1;
            hi >>= 1;
            halvings += 1;
        }
        halvings
    };
    side(a.positive.as_ref(), b.positive.as_ref())
        .max(side(a.negative.as_ref(), b.negative.as_ref()))
}

/// Halves the resolution of `point` `by` times.
fn downscale_point(point: &mut ExponentialHistogramDataPoint, by: i32) {
    if by <= 0 {
        return;
    }
    point.scale -= by;
    for buckets in [&mut point.positive, &mut point.negative]
        .into_iter()
        .flatten()
    {
        downscale(buckets, by);
    }
}

/// Halves the resolution of `buckets` `by` times: bucket `i` becomes bucket `i >> by`.
fn downscale(buckets: &mut Buckets, by: i32) {
    if buckets.bucket_counts.is_empty() {
        buckets.offset = (i64::from(buckets.offset) >> by) as i32;
        return;
    }
    let offset = i64::from(buckets.offset);
    let new_offset = offset >> by;
    let last = (offset + buckets.bucket_counts.len() as i64 - 1) >> by;
    let mut counts = vec![0u64; (last - new_offset + 1) as usize];
    for (i, &count) in buckets.bucket_counts.iter().enumerate() {
        let index = ((offset + i as i64) >> by) - new_offset;
        counts[index as usize] = counts[index as usize].wrapping_add(count);
    }
    buckets.offset = new_offset as i32;
    buckets.bucket_counts = counts;
}

/// Moves the buckets wholly inside `threshold` into the zero count and sets the threshold.
fn widen_zero(point: &mut ExponentialHistogramDataPoint, threshold: f64) {
    if point.zero_threshold >= threshold {
        return;
    }
    point.zero_threshold = threshold;
    let base = 2f64.powf(2f64.powi(-point.scale));
    let mut moved = 0u64;
    for buckets in [&mut point.positive, &mut point.negative]
        .into_iter()
        .flatten()
    {
        let offset = i64::from(buckets.offset);
        // Bucket i holds (base^i, base^(i+1)]: inside the zero bucket when its upper
        // bound is at most the threshold.
        let inside = buckets
            .bucket_counts
            .iter()
            .enumerate()
            .take_while(|(i, _)| base.powf((offset + *i as i64 + 1) as f64) <= threshold)
            .count();
        moved = moved.wrapping_add(buckets.bucket_counts.drain(..inside).sum::<u64>());
        buckets.offset = (offset + inside as i64) as i32;
    }
    point.zero_count = point.zero_count.wrapping_add(moved);
}

/// Adds `from`'s counts into `into`; both are at the same scale.
fn merge(into: &mut Option<Buckets>, from: Option<&Buckets>) {
    let Some(from) = from.filter(|b| !b.bucket_counts.is_empty()) else {
        return;
    };
    let into = into.get_or_insert_with(Buckets::default);
    if into.bucket_counts.is_empty() {
        *into = from.clone();
        return;
    }
    let lo = i64::from(into.offset.min(from.offset));
    let hi = (i64::from(into.offset) + into.bucket_counts.len() as i64)
        .max(i64::from(from.offset) + from.bucket_counts.len() as i64);
    let mut counts = vec![0u64; (hi - lo) as usize];
    for buckets in [&*into, from] {
        let start = (i64::from(buckets.offset) - lo) as usize;
        for (i, &count) in buckets.bucket_counts.iter().enumerate() {
            counts[start + i] = counts[start + i].wrapping_add(count);
        }
    }
    into.offset = lo as i32;
    into.bucket_counts = counts;
}
