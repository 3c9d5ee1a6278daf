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

mod buckets;
mod explicit;
mod percentile;
#[cfg(test)]
mod tests;

use tributary_pipeline_core::pdata::proto::metrics::v1::metric::Data;

use crate::ast::{Call, Expr};
use crate::context::{Item, TransformContext};
use crate::eval::{CExpr, CompileError, Compiler, eval, literal_choice, literal_string};
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
            strings[0] = Some(literal_choice(
                c,
                call,
                bound[0],
                "distribution",
                "random",
                DISTRIBUTIONS,
            )?);
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
            if let Some(added) =
                percentile::percentile_metric(ctx.metric_mut()?, percentile, &suffix)?
            {
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
            explicit::to_explicit(ctx.metric_mut()?, distribution, &bounds);
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
                buckets::limit_buckets(
                    point,
                    max_buckets(target).map_err(|e| format!("{name}: {e}"))?,
                );
            } else {
                buckets::remove_bound(point, target);
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
