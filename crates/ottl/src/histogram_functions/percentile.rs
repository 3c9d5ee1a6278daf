//! `extract_percentile_metric`: a histogram point's percentile, linear inside its
//! bucket, logarithmic inside an exponential one.

use tributary_pipeline_core::pdata::proto::metrics::v1::{
    ExponentialHistogramDataPoint, Gauge, HistogramDataPoint, Metric, NumberDataPoint,
    exponential_histogram_data_point::Buckets, metric::Data, number_data_point,
};

/// Go's `%g` of a percentile in a name (`95`, `99.9`).
fn percentile_text(p: f64) -> String {
    format!("{p}")
}

/// The percentile gauge of a histogram or exponential histogram; `None` for other
/// metrics and when no point gives a value.
pub(super) fn percentile_metric(
    metric: &Metric,
    percentile: f64,
    suffix: &str,
) -> Result<Option<Metric>, String> {
    let point = |attributes: &Vec<_>, start, time, value| NumberDataPoint {
        attributes: Clone::clone(attributes),
        start_time_unix_nano: start,
        time_unix_nano: time,
        value: Some(number_data_point::Value::AsDouble(value)),
        ..Default::default()
    };
    let mut data_points = Vec::new();
    match &metric.data {
        Some(Data::Histogram(h)) => {
            for p in &h.data_points {
                if let Some(v) = histogram_percentile(p, percentile)? {
                    data_points.push(point(
                        &p.attributes,
                        p.start_time_unix_nano,
                        p.time_unix_nano,
                        v,
                    ));
                }
            }
        }
        Some(Data::ExponentialHistogram(h)) => {
            for p in &h.data_points {
                if let Some(v) = exponential_percentile(p, percentile)? {
                    data_points.push(point(
                        &p.attributes,
                        p.start_time_unix_nano,
                        p.time_unix_nano,
                        v,
                    ));
                }
            }
        }
        _ => return Ok(None),
    }
    if data_points.is_empty() {
        return Ok(None);
    }
    let p = percentile_text(percentile);
    Ok(Some(Metric {
        name: format!("{}{suffix}", metric.name),
        description: if metric.description.is_empty() {
            format!("p{p}")
        } else {
            format!("{} (p{p})", metric.description)
        },
        unit: metric.unit.clone(),
        data: Some(Data::Gauge(Gauge { data_points })),
        ..Default::default()
    }))
}

/// The rank of the percentile among `count` observations (Go: `ceil(count * p / 100)`).
fn target_count(count: u64, percentile: f64) -> u64 {
    (count as f64 * (percentile / 100.0)).ceil() as u64
}

fn linear(lower: f64, upper: f64, ratio: f64) -> Result<f64, String> {
    if !(0.0..=1.0).contains(&ratio) {
        return Err(format!(
            "linear interpolation: invalid ratio {ratio:.6}, must be between 0 and 1"
        ));
    }
    Ok(lower + ratio * (upper - lower))
}

fn logarithmic(lower: f64, upper: f64, ratio: f64) -> Result<f64, String> {
    if !(0.0..=1.0).contains(&ratio) {
        return Err(format!(
            "logarithmic interpolation: invalid ratio {ratio:.6}, must be between 0 and 1"
        ));
    }
    if lower <= 0.0 || upper <= 0.0 {
        return Err(format!(
            "logarithmic interpolation: bounds must be positive, got {lower:.6} and {upper:.6}"
        ));
    }
    let (log_lower, log_upper) = (lower.log2(), upper.log2());
    Ok((log_lower + (log_upper - log_lower) * ratio).exp2())
}

/// A histogram point's percentile; `None` to skip the point.
fn histogram_percentile(p: &HistogramDataPoint, percentile: f64) -> Result<Option<f64>, String> {
    let (counts, bounds) = (&p.bucket_counts, &p.explicit_bounds);
    if p.count == 0 || counts.is_empty() {
        return Ok(None);
    }
    let target = target_count(p.count, percentile);
    if counts.len() != bounds.len() + 1 {
        return Err(format!(
            "calculating histogram percentile: malformed data: {} bucket counts for {} explicit bounds",
            counts.len(),
            bounds.len()
        ));
    }
    if bounds.is_empty() {
        // One bucket spanning everything: only min and max bound it.
        let (Some(min), Some(max)) = (p.min, p.max) else {
            return Ok(None);
        };
        return linear(min, max, target as f64 / counts[0] as f64).map(Some);
    }
    let mut cumulative: u64 = 0;
    for (i, &count) in counts.iter().enumerate() {
        let before = cumulative;
        cumulative = cumulative.saturating_add(count);
        if cumulative < target {
            continue;
        }
        let (lower, upper) = if i == 0 {
            let upper = bounds[0];
            match p.min {
                Some(min) if min < upper => (min, upper),
                _ if upper < 0.0 => return Ok(Some(upper)),
                _ => (0.0, upper),
            }
        } else if i < bounds.len() {
            (bounds[i - 1], bounds[i])
        } else {
            let lower = bounds[i - 1];
            match p.max {
                Some(max) if max > lower => (lower, max),
                _ => return Ok(Some(lower)),
            }
        };
        return linear(lower, upper, (target - before) as f64 / count as f64).map(Some);
    }
    Err(format!(
        "calculating histogram percentile: malformed data: the bucket counts ({cumulative}) do not reach the percentile's rank {target}"
    ))
}

/// The lower bound of exponential bucket `index` at `scale` (OTLP's formula).
pub(super) fn exponential_bound(index: i64, scale: i32) -> f64 {
    if scale <= 0 {
        // 2^(index << -scale), by exponent (Go's math.Ldexp); a shift past the width of an
        // int (a scale no producer sends) saturates instead of wrapping.
        let exponent = index
            .checked_shl(scale.unsigned_abs())
            .unwrap_or(if index < 0 { i64::MIN } else { i64::MAX });
        2f64.powi(exponent.clamp(i32::MIN as i64, i32::MAX as i64) as i32)
    } else {
        let factor = std::f64::consts::LN_2 * (-f64::from(scale)).exp2();
        (index as f64 * factor).exp()
    }
}

/// An exponential histogram point's percentile; `None` to skip the point.
fn exponential_percentile(
    p: &ExponentialHistogramDataPoint,
    percentile: f64,
) -> Result<Option<f64>, String> {
    let empty = Buckets::default();
    let negative = p.negative.as_ref().unwrap_or(&empty);
    let positive = p.positive.as_ref().unwrap_or(&empty);
    if p.count == 0
        || (negative.bucket_counts.is_empty()
            && positive.bucket_counts.is_empty()
            && p.zero_count == 0)
    {
        return Ok(None);
    }
    let target = target_count(p.count, percentile);
    // The most negative values first: the negative buckets from the highest index down.
    let mut cumulative: u64 = 0;
    for (i, &count) in negative.bucket_counts.iter().enumerate().rev() {
        let before = cumulative;
        cumulative = cumulative.saturating_add(count);
        if cumulative >= target {
            let index = i64::from(negative.offset) + i as i64;
            let (abs_lower, abs_upper) = (
                exponential_bound(index, p.scale),
                exponential_bound(index + 1, p.scale),
            );
            if abs_lower >= abs_upper {
                return Err(format!(
                    "calculating exponential histogram percentile: malformed negative bucket bounds at index {index}, scale {}",
                    p.scale
                ));
            }
            let ratio = (target - before) as f64 / count as f64;
            return logarithmic(abs_lower, abs_upper, 1.0 - ratio).map(|v| Some(-v));
        }
    }
    let before_zero = cumulative;
    cumulative = cumulative.saturating_add(p.zero_count);
    if cumulative >= target {
        let (has_negative, has_positive) = (
            !negative.bucket_counts.is_empty(),
            !positive.bucket_counts.is_empty(),
        );
        let mut lower = -p.zero_threshold;
        let mut upper = p.zero_threshold;
        if !has_negative && has_positive {
            lower = 0.0;
        } else if !has_positive && has_negative {
            upper = 0.0;
        }
        let ratio = (target - before_zero) as f64 / p.zero_count as f64;
        return linear(lower, upper, ratio).map(Some);
    }
    for (i, &count) in positive.bucket_counts.iter().enumerate() {
        let before = cumulative;
        cumulative = cumulative.saturating_add(count);
        if cumulative >= target {
            let index = i64::from(positive.offset) + i as i64;
            let ratio = (target - before) as f64 / count as f64;
            return logarithmic(
                exponential_bound(index, p.scale),
                exponential_bound(index + 1, p.scale),
                ratio,
            )
            .map(Some);
        }
    }
    Err(format!(
        "calculating exponential histogram percentile: malformed data: the bucket counts ({cumulative}) do not reach the percentile's rank {target}"
    ))
}
