//! `merge_histogram_buckets`: merging neighbouring buckets of an explicit histogram point.

use tributary_pipeline_core::pdata::proto::metrics::v1::HistogramDataPoint;

/// `remove_explicit_bound`: the bucket ending at `bound` (within 1e-12) merges into the
/// next one; nothing happens when no bound matches or the counts do not fit the bounds.
pub(super) fn remove_bound(p: &mut HistogramDataPoint, bound: f64) {
    if p.explicit_bounds.len() + 1 != p.bucket_counts.len() || p.bucket_counts.len() == 1 {
        return;
    }
    let Some(i) = p
        .explicit_bounds
        .iter()
        .position(|b| (b - bound).abs() < 1e-12)
    else {
        return;
    };
    p.bucket_counts[i + 1] = p.bucket_counts[i + 1].wrapping_add(p.bucket_counts[i]);
    p.bucket_counts.remove(i);
    p.explicit_bounds.remove(i);
}

/// `limit_buckets`: neighbouring buckets merge in groups of `ceil(buckets / max)`, from
/// the lowest (the last group may be smaller); nothing happens when the point already has
/// at most `max` buckets, its counts do not fit its bounds, or its bounds do not increase.
pub(super) fn limit_buckets(p: &mut HistogramDataPoint, max: usize) {
    let n = p.bucket_counts.len();
    if p.explicit_bounds.len() + 1 != n || n <= max || n <= 1 {
        return;
    }
    if !p.explicit_bounds.windows(2).all(|w| w[1] > w[0]) {
        return;
    }
    let group = n.div_ceil(max);
    p.bucket_counts = p
        .bucket_counts
        .chunks(group)
        .map(|c| c.iter().fold(0u64, |a, b| a.wrapping_add(*b)))
        .collect();
    p.explicit_bounds = p
        .explicit_bounds
        .iter()
        .skip(group - 1)
        .step_by(group)
        .copied()
        .collect();
}
