//! The transform processor's functions that read or reshape histogram buckets, as the Go
//! Collector's `processor/transformprocessor` defines them:
//!
//! | function | context | what it does |
//! |---|---|---|
//! | `extract_percentile_metric(percentile, suffix?)` | metric | from a histogram or exponential histogram, adds a gauge `<name><suffix>` (default `_p<percentile>`, `_p95`) with each data point's estimated percentile, described `<description> (p95)` (or `p95`), same unit |
//! | `convert_exponential_histogram_to_histogram(distribution, explicitBounds)` | metric | turns an exponential histogram into an explicit one with the given bounds, its buckets' counts placed by `upper`, `midpoint`, `uniform` or `random` (the default when `""`) |
//! | `merge_histogram_buckets(targetValue, method?)` | datapoint | `remove_explicit_bound` (default): merges the bucket that ends at `targetValue` into the next; `limit_buckets`: merges neighbouring buckets in groups of the smallest size that leaves at most `targetValue` buckets |
//!
//! The percentile of a histogram point interpolates linearly inside the bucket that holds
//! it: the lowest bucket starts at the point's `min` (else at 0, or is its upper bound when
//! that is negative), the highest ends at its `max` (else the percentile is the bucket's
//! lower bound); a point with one bucket and no bounds needs both `min` and `max`. An
//! exponential histogram point interpolates logarithmically inside its bucket (linearly in
//! the zero bucket, which spans `±zero_threshold`, or from 0 when the point has buckets on
//! one side only). Points with no count or no buckets are skipped; buckets whose counts
//! do not add up to the point's count are an error.
//!
//! As in Go, `convert_exponential_histogram_to_histogram` reads only the positive buckets
//! (and the zero count, when a bound is exactly 0, into the first bucket), and gives each
//! point **as many bucket counts as bounds**: the counts above the last bound go to the
//! last bucket. (OTLP expects one count more than bounds; Go's output has this shape, and
//! so has this one, for the same data downstream.) `random` draws from a xorshift
//! generator seeded by the standard library's per-process random hash keys: the spread
//! needs no more than Go's `math/rand` gives it.

use tributary_pipeline_core::pdata::proto::metrics::v1::{
    ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    exponential_histogram_data_point::Buckets, metric::Data, number_data_point,
};

use crate::ast::{Call, Expr};
use crate::context::{Item, TransformContext};
use crate::eval::{CExpr, CompileError, Compiler, eval, literal_string};
use crate::value::Value;

/// The functions of this module.
pub(crate) const NAMES: &[&str] = &[
    "extract_percentile_metric",
    "convert_exponential_histogram_to_histogram",
    "merge_histogram_buckets",
];

/// The distributions of `convert_exponential_histogram_to_histogram`.
pub const DISTRIBUTIONS: &[&str] = &["upper", "midpoint", "uniform", "random"];

const REMOVE_EXPLICIT_BOUND: &str = "remove_explicit_bound";
const LIMIT_BUCKETS: &str = "limit_buckets";

/// A number literal (`95`, `99.9`), as Go's `float64` parameters take.
fn literal_number(e: &Expr) -> Option<f64> {
    match e {
        Expr::Literal(Value::Float(f)) => Some(*f),
        Expr::Literal(Value::Int(i)) => Some(*i as f64),
        _ => None,
    }
}

/// Checks the arguments Go takes as literals and stores the strings among them.
pub(crate) fn compile_literals(
    c: &Compiler<'_>,
    call: &Call,
    name: &str,
    bound: &[Option<&Expr>],
    strings: &mut [Option<String>],
) -> Result<(), CompileError> {
    match name {
        "extract_percentile_metric" => {
            let percentile = bound[0].and_then(literal_number);
            let Some(p) = percentile.filter(|p| *p > 0.0 && *p < 100.0) else {
                return c.err(
                    call.pos,
                    format!(
                        "{name}: percentile must be a number literal greater than 0 and less than 100"
                    ),
                );
            };
            let suffix = literal_string(c, call, bound[1], "suffix")?.filter(|s| !s.is_empty());
            strings[1] = Some(suffix.unwrap_or_else(|| format!("_p{p}")));
        }
        "convert_exponential_histogram_to_histogram" => {
            let distribution = literal_string(c, call, bound[0], "distribution")?
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| "random".to_string());
            if !DISTRIBUTIONS.contains(&distribution.as_str()) {
                return c.err(
                    call.pos,
                    format!(
                        "{name}: invalid distribution {distribution:?}, must be one of {}",
                        DISTRIBUTIONS.join(", ")
                    ),
                );
            }
            strings[0] = Some(distribution);
            let bounds: Option<Vec<f64>> = match bound[1] {
                Some(Expr::List(items)) => items.iter().map(literal_number).collect(),
                _ => None,
            };
            match bounds {
                Some(bounds) if !bounds.is_empty() => {}
                _ => {
                    return c.err(
                        call.pos,
                        format!("{name}: explicitBounds must be a non-empty list of numbers"),
                    );
                }
            }
        }
        "merge_histogram_buckets" => {
            let method = literal_string(c, call, bound[1], "method")?
                .unwrap_or_else(|| REMOVE_EXPLICIT_BOUND.to_string());
            if method != REMOVE_EXPLICIT_BOUND && method != LIMIT_BUCKETS {
                return c.err(
                    call.pos,
                    format!(
                        "{name}: unsupported method {method:?}, expected {REMOVE_EXPLICIT_BOUND:?} or {LIMIT_BUCKETS:?}"
                    ),
                );
            }
            if let Some(target) = bound[0].and_then(literal_number)
                && method == LIMIT_BUCKETS
                && let Err(e) = max_buckets(target)
            {
                return c.err(call.pos, format!("{name}: {e}"));
            }
            strings[1] = Some(method);
        }
        _ => {}
    }
    Ok(())
}

/// Runs one of [`NAMES`].
pub(crate) fn run(
    name: &str,
    args: &[Option<CExpr>],
    strings: &[Option<String>],
    ctx: &mut TransformContext<'_>,
) -> Result<(), String> {
    let number = |i: usize, ctx: &TransformContext<'_>| -> Result<f64, String> {
        match args.get(i).and_then(Option::as_ref).map(|e| eval(e, ctx)) {
            Some(Ok(Value::Float(f))) => Ok(f),
            Some(Ok(Value::Int(i))) => Ok(i as f64),
            Some(Ok(other)) => Err(format!(
                "{name}: expected a number, got a {}",
                other.type_name()
            )),
            Some(Err(e)) => Err(e),
            None => Err(format!("{name}: the number argument is missing")),
        }
    };
    match name {
        "extract_percentile_metric" => {
            let percentile = number(0, ctx)?;
            let suffix = strings[1].clone().unwrap_or_default();
            if let Some(added) = percentile_metric(ctx.metric_mut()?, percentile, &suffix)? {
                crate::metric_functions::append(ctx, name, added)?;
            }
        }
        "convert_exponential_histogram_to_histogram" => {
            let bounds = match args.get(1).and_then(Option::as_ref).map(|e| eval(e, ctx)) {
                Some(Ok(Value::List(items))) => items
                    .iter()
                    .map(|v| match v {
                        Value::Float(f) => Ok(*f),
                        Value::Int(i) => Ok(*i as f64),
                        other => Err(format!(
                            "{name}: explicitBounds holds a {}",
                            other.type_name()
                        )),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                Some(Err(e)) => return Err(e),
                _ => return Err(format!("{name}: explicitBounds must be a list")),
            };
            let distribution = strings[0].as_deref().unwrap_or("random");
            to_explicit(ctx.metric_mut()?, distribution, &bounds);
        }
        _ => {
            let target = number(0, ctx)?;
            let method = strings[1].as_deref().unwrap_or(REMOVE_EXPLICIT_BOUND);
            let Item::DataPoint(metric, i) = &mut ctx.item else {
                return Err(format!(
                    "{name} runs on data points (the datapoint context)"
                ));
            };
            let Some(Data::Histogram(h)) = &mut metric.data else {
                return Ok(());
            };
            let Some(point) = h.data_points.get_mut(*i) else {
                return Ok(());
            };
            if method == LIMIT_BUCKETS {
                limit_buckets(
                    point,
                    max_buckets(target).map_err(|e| format!("{name}: {e}"))?,
                );
            } else {
                remove_bound(point, target);
            }
        }
    }
    Ok(())
}

/// `limit_buckets`' target: a positive integer.
fn max_buckets(target: f64) -> Result<usize, String> {
    if target < 1.0 || target.trunc() != target || target > i64::MAX as f64 {
        return Err(format!(
            "target_value must be a positive integer when method is {LIMIT_BUCKETS:?}, got {target}"
        ));
    }
    Ok(target as usize)
}

/// Go's `%g` of a percentile in a name (`95`, `99.9`).
fn percentile_text(p: f64) -> String {
    format!("{p}")
}

/// The percentile gauge of a histogram or exponential histogram; `None` for other
/// metrics and when no point gives a value.
fn percentile_metric(
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
fn exponential_bound(index: i64, scale: i32) -> f64 {
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

/// Replaces an exponential histogram with an explicit one (Go's
/// `convert_exponential_histogram_to_histogram`); other metrics are left alone.
fn to_explicit(metric: &mut Metric, distribution: &str, bounds: &[f64]) {
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
struct Draws(u64);

impl Draws {
    fn new() -> Draws {
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
    fn fraction(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A draw in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `remove_explicit_bound`: the bucket ending at `bound` (within 1e-12) merges into the
/// next one; nothing happens when no bound matches or the counts do not fit the bounds.
fn remove_bound(p: &mut HistogramDataPoint, bound: f64) {
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
fn limit_buckets(p: &mut HistogramDataPoint, max: usize) {
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

#[cfg(test)]
mod tests {
    use tributary_pipeline_core::pdata::proto::metrics::v1::ExponentialHistogram;

    use super::*;
    use crate::{ContextKind, compile_statement};

    /// Go's test point: scale 0, positive buckets from index 5 ((32, 64], (64, 128],
    /// (128, 256]) holding 10, 22 and 12.
    fn exponential(scale: i32, offset: i32, counts: &[u64], zero_count: u64) -> Metric {
        Metric {
            name: "test-metric".into(),
            data: Some(Data::ExponentialHistogram(ExponentialHistogram {
                aggregation_temporality: 1,
                data_points: vec![ExponentialHistogramDataPoint {
                    count: counts.iter().sum::<u64>() + zero_count,
                    sum: Some(999.0),
                    min: Some(40.0),
                    max: Some(245.0),
                    scale,
                    zero_count,
                    time_unix_nano: 7,
                    positive: Some(Buckets {
                        offset,
                        bucket_counts: counts.to_vec(),
                    }),
                    ..Default::default()
                }],
            })),
            ..Default::default()
        }
    }

    /// Runs one statement in `context` on each metric (each data point in `datapoint`).
    fn run(statement: &str, context: ContextKind, metrics: &mut Vec<Metric>) -> Result<(), String> {
        let s = compile_statement(statement, context).map_err(|e| e.to_string())?;
        let (mut resource, mut scope, mut cache) = (None, None, Vec::new());
        for index in 0..metrics.len() {
            if context == ContextKind::DataPoint {
                let points = crate::context::data_point_len(&metrics[index]);
                for point in 0..points {
                    let mut ctx = TransformContext {
                        resource: &mut resource,
                        scope: Some(&mut scope),
                        item: Item::DataPoint(&mut metrics[index], point),
                        cache: &mut cache,
                    };
                    s.execute(&mut ctx).map_err(|e| e.to_string())?;
                }
            } else {
                let mut ctx = TransformContext {
                    resource: &mut resource,
                    scope: Some(&mut scope),
                    item: Item::MetricIn(metrics, index),
                    cache: &mut cache,
                };
                s.execute(&mut ctx).map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    fn converted(metric: Metric, distribution: &str, bounds: &str) -> HistogramDataPoint {
        let mut metrics = vec![metric];
        let statement =
            format!(r#"convert_exponential_histogram_to_histogram("{distribution}", {bounds})"#);
        run(&statement, ContextKind::Metric, &mut metrics).unwrap();
        let Some(Data::Histogram(h)) = &metrics[0].data else {
            panic!("not converted: {:?}", metrics[0].data)
        };
        h.data_points[0].clone()
    }

    #[test]
    fn random_draws_cover_their_range() {
        let mut draws = Draws::new();
        let mut seen = [false; 4];
        for _ in 0..1000 {
            let f = draws.fraction();
            assert!((0.0..1.0).contains(&f), "{f}");
            seen[draws.below(4)] = true;
        }
        assert_eq!(seen, [true; 4]);
    }

    /// The expected counts of Go's `func_convert_exponential_hist_to_explicit_hist_test.go`.
    #[test]
    fn exponential_histograms_convert_as_go_converts_them() {
        let go = || exponential(0, 5, &[10, 22, 12], 0);
        let tens = "[10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0]";
        for distribution in ["upper", "midpoint", "uniform", "random"] {
            let p = converted(go(), distribution, "[1.0, 2.0, 3.0, 4.0, 5.0]");
            assert_eq!(p.bucket_counts, [0, 0, 0, 0, 44], "{distribution}");
            let p = converted(go(), distribution, "[1000, 2000, 3000, 4000, 5000]");
            assert_eq!(p.bucket_counts, [44, 0, 0, 0, 0], "{distribution}");
        }
        let p = converted(go(), "midpoint", tens);
        assert_eq!(p.bucket_counts, [0, 0, 0, 10, 0, 0, 0, 0, 22, 12]);
        assert_eq!(
            (p.count, p.sum, p.min, p.max),
            (44, Some(999.0), Some(40.0), Some(245.0))
        );
        assert_eq!(p.explicit_bounds.len(), 10);
        let with_zero = exponential(0, 5, &[10, 22, 12], 5);
        let p = converted(
            with_zero,
            "midpoint",
            "[0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0]",
        );
        assert_eq!(p.bucket_counts, [5, 0, 0, 0, 10, 0, 0, 0, 0, 22, 12]);
        let p = converted(go(), "uniform", tens);
        assert_eq!(p.bucket_counts, [0, 0, 0, 3, 3, 2, 8, 6, 5, 17]);
        // Go's upper test: scale 7, buckets 944 and 973 (about 166 and 194).
        let mut counts = vec![0u64; 30];
        (counts[0], counts[29]) = (1, 1);
        let p = converted(
            exponential(7, 944, &counts, 0),
            "upper",
            "[160.0, 170.0, 180.0, 190.0, 200.0]",
        );
        assert_eq!(p.bucket_counts, [1, 0, 0, 1, 0]);
        // Random: every count lands, none below the lowest bucket (32), some above 100.
        for _ in 0..20 {
            let p = converted(go(), "random", tens);
            assert_eq!(p.bucket_counts.iter().sum::<u64>(), 44);
            assert_eq!(p.bucket_counts[..3], [0, 0, 0]);
            assert!(p.bucket_counts[9] >= 12, "{:?}", p.bucket_counts);
        }
        // The default distribution is random; other metrics are left alone.
        let p = converted(go(), "", tens);
        assert_eq!(p.bucket_counts.iter().sum::<u64>(), 44);
        let mut gauge = vec![Metric {
            name: "g".into(),
            data: Some(Data::Gauge(Gauge::default())),
            ..Default::default()
        }];
        run(
            r#"convert_exponential_histogram_to_histogram("upper", [1.0])"#,
            ContextKind::Metric,
            &mut gauge,
        )
        .unwrap();
        assert!(matches!(gauge[0].data, Some(Data::Gauge(_))));
    }

    fn histogram(bounds: &[f64], counts: &[u64], min: Option<f64>, max: Option<f64>) -> Metric {
        Metric {
            name: "h".into(),
            description: "latency".into(),
            unit: "ms".into(),
            data: Some(Data::Histogram(Histogram {
                aggregation_temporality: 2,
                data_points: vec![HistogramDataPoint {
                    count: counts.iter().sum(),
                    bucket_counts: counts.to_vec(),
                    explicit_bounds: bounds.to_vec(),
                    min,
                    max,
                    time_unix_nano: 7,
                    ..Default::default()
                }],
            })),
            ..Default::default()
        }
    }

    /// The percentile gauge a statement adds, as (name, description, value).
    fn percentile(
        metric: Metric,
        statement: &str,
    ) -> Result<Option<(String, String, f64)>, String> {
        let mut metrics = vec![metric];
        run(statement, ContextKind::Metric, &mut metrics)?;
        Ok(metrics.get(1).map(|m| {
            let Some(Data::Gauge(g)) = &m.data else {
                panic!("not a gauge")
            };
            let Some(number_data_point::Value::AsDouble(v)) = g.data_points[0].value else {
                panic!("not a double")
            };
            assert_eq!(g.data_points[0].time_unix_nano, 7);
            (m.name.clone(), m.description.clone(), v)
        }))
    }

    #[test]
    fn histogram_percentiles_interpolate_inside_their_bucket() {
        let h = || histogram(&[1.0, 5.0, 10.0], &[2, 4, 3, 1], Some(0.5), Some(20.0));
        // Rank ceil(10 * 0.5) = 5 is the third of four in (1, 5].
        assert_eq!(
            percentile(h(), "extract_percentile_metric(50.0)").unwrap(),
            Some(("h_p50".into(), "latency (p50)".into(), 4.0))
        );
        // The highest bucket ends at max.
        assert_eq!(
            percentile(h(), r#"extract_percentile_metric(95, "_p95_custom")"#).unwrap(),
            Some(("h_p95_custom".into(), "latency (p95)".into(), 20.0))
        );
        // The lowest starts at min (else 0); the highest without max is its lower bound.
        let v = |bounds: &[f64], counts: &[u64], min, max, p: &str| {
            percentile(
                histogram(bounds, counts, min, max),
                &format!("extract_percentile_metric({p})"),
            )
            .unwrap()
            .unwrap()
            .2
        };
        assert_eq!(v(&[4.0], &[2, 0], Some(2.0), None, "50"), 3.0);
        assert_eq!(v(&[4.0], &[2, 0], None, None, "50"), 2.0);
        assert_eq!(v(&[-4.0], &[2, 0], None, None, "50"), -4.0);
        assert_eq!(v(&[4.0], &[0, 2], None, None, "99.9"), 4.0);
        // One bucket and no bounds: min to max, or skipped.
        assert_eq!(v(&[], &[4], Some(0.0), Some(8.0), "25"), 2.0);
        assert_eq!(
            percentile(
                histogram(&[], &[4], None, Some(8.0)),
                "extract_percentile_metric(25)"
            )
            .unwrap(),
            None
        );
        let e = percentile(
            histogram(&[1.0], &[1, 1, 1], None, None),
            "extract_percentile_metric(50)",
        )
        .unwrap_err();
        assert!(e.contains("malformed data"), "{e}");
    }

    #[test]
    fn exponential_percentiles_interpolate_logarithmically() {
        let mut metric = exponential(0, 0, &[1], 1);
        let Some(Data::ExponentialHistogram(h)) = &mut metric.data else {
            unreachable!()
        };
        let p = &mut h.data_points[0];
        // Values in [-2, -1) twice, one zero, one in (1, 2].
        p.negative = Some(Buckets {
            offset: 0,
            bucket_counts: vec![2],
        });
        p.count = 4;
        let value = |q: &str| {
            percentile(metric.clone(), &format!("extract_percentile_metric({q})"))
                .unwrap()
                .unwrap()
                .2
        };
        assert!((value("25") + std::f64::consts::SQRT_2).abs() < 1e-12);
        assert_eq!(value("75"), 0.0);
        assert!((value("99") - 2.0).abs() < 1e-12);
        assert_eq!(
            percentile(metric, "extract_percentile_metric(25)")
                .unwrap()
                .unwrap()
                .1,
            "p25"
        );
    }

    /// Scales from a peer are not trusted: the extreme ones give extreme bounds, no panic.
    #[test]
    fn any_scale_gives_a_bound() {
        assert_eq!(exponential_bound(3, 0), 8.0);
        assert_eq!(exponential_bound(3, -1), 64.0);
        assert!((exponential_bound(3, 1) - 8f64.sqrt()).abs() < 1e-12);
        for scale in [i32::MIN, -64, 64, i32::MAX] {
            for index in [i64::MIN, -1, 0, 1, i64::MAX] {
                let _ = exponential_bound(index, scale);
            }
        }
        for scale in [i32::MIN, i32::MAX] {
            let p = converted(exponential(scale, 5, &[1, 2], 0), "uniform", "[1.0, 2.0]");
            assert_eq!(p.bucket_counts.iter().sum::<u64>(), 3);
        }
    }

    fn merged(statement: &str, bounds: &[f64], counts: &[u64]) -> (Vec<f64>, Vec<u64>) {
        let mut metrics = vec![histogram(bounds, counts, None, None)];
        run(statement, ContextKind::DataPoint, &mut metrics).unwrap();
        let Some(Data::Histogram(h)) = &metrics[0].data else {
            unreachable!()
        };
        let p = &h.data_points[0];
        (p.explicit_bounds.clone(), p.bucket_counts.clone())
    }

    /// The README's two examples, and the cases where nothing changes.
    #[test]
    fn merge_histogram_buckets_merges_as_the_readme_shows() {
        assert_eq!(
            merged(
                "merge_histogram_buckets(0.5)",
                &[0.1, 0.5, 1.0],
                &[5, 8, 3, 1]
            ),
            (vec![0.1, 1.0], vec![5, 11, 1])
        );
        assert_eq!(
            merged(
                r#"merge_histogram_buckets(5, method="limit_buckets")"#,
                &[0.1, 0.2, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0],
                &[80, 4, 6, 120, 3, 2, 40, 10, 1],
            ),
            (vec![0.2, 1.0, 5.0, 30.0], vec![84, 126, 5, 50, 1])
        );
        for (statement, bounds, counts) in [
            (
                "merge_histogram_buckets(0.7)",
                &[0.5, 1.0][..],
                &[1u64, 2, 3][..],
            ),
            ("merge_histogram_buckets(0.5)", &[0.5, 1.0], &[1, 2]),
            (
                r#"merge_histogram_buckets(3, method="limit_buckets")"#,
                &[0.5, 1.0],
                &[1, 2, 3],
            ),
            (
                r#"merge_histogram_buckets(2, method="limit_buckets")"#,
                &[1.0, 0.5],
                &[1, 2, 3],
            ),
        ] {
            assert_eq!(
                merged(statement, bounds, counts),
                (bounds.to_vec(), counts.to_vec()),
                "{statement}"
            );
        }
    }

    #[test]
    fn extract_avg_metric_adds_a_gauge_of_the_means() {
        let mut metrics = vec![histogram(&[1.0], &[3, 1], None, None)];
        let Some(Data::Histogram(h)) = &mut metrics[0].data else {
            unreachable!()
        };
        h.data_points[0].sum = Some(10.0);
        let mut skipped = h.data_points[0].clone();
        skipped.sum = None;
        h.data_points.push(skipped);
        run("extract_avg_metric()", ContextKind::Metric, &mut metrics).unwrap();
        assert_eq!(metrics[1].name, "h_avg");
        assert_eq!(metrics[1].unit, "ms");
        let Some(Data::Gauge(g)) = &metrics[1].data else {
            panic!("not a gauge")
        };
        assert_eq!(g.data_points.len(), 1);
        assert_eq!(
            g.data_points[0].value,
            Some(number_data_point::Value::AsDouble(2.5))
        );
        let mut gauge = vec![Metric {
            name: "g".into(),
            data: Some(Data::Gauge(Gauge::default())),
            ..Default::default()
        }];
        let e = run(
            r#"extract_avg_metric(".mean")"#,
            ContextKind::Metric,
            &mut gauge,
        )
        .unwrap_err();
        assert!(
            e.contains("requires an input metric of type Histogram"),
            "{e}"
        );
    }

    #[test]
    fn bad_arguments_are_config_errors() {
        let refused = |statement: &str, context: ContextKind, expected: &str| {
            let e = compile_statement(statement, context)
                .map(|_| ())
                .unwrap_err();
            assert!(e.to_string().contains(expected), "{statement}: {e}");
        };
        use ContextKind::{DataPoint, Metric};
        for p in ["0", "100", "-5", "attributes[\"p\"]"] {
            refused(
                &format!("extract_percentile_metric({p})"),
                Metric,
                "greater than 0 and less than 100",
            );
        }
        refused(
            r#"convert_exponential_histogram_to_histogram("lower", [1.0])"#,
            Metric,
            "invalid distribution \"lower\"",
        );
        refused(
            r#"convert_exponential_histogram_to_histogram("upper", [])"#,
            Metric,
            "non-empty list of numbers",
        );
        refused(
            r#"merge_histogram_buckets(1.5, method="limit_buckets")"#,
            DataPoint,
            "positive integer",
        );
        refused(
            r#"merge_histogram_buckets(1, method="halve")"#,
            DataPoint,
            "unsupported method \"halve\"",
        );
        refused(
            "merge_histogram_buckets(0.5)",
            Metric,
            "only available in the datapoint context",
        );
        refused(
            "extract_percentile_metric(50)",
            DataPoint,
            "only available in the metric context",
        );
    }
}
