//! The transform processor's metric functions that add metrics or regroup data points,
//! as the Go Collector's `processor/transformprocessor` defines them (metric context):
//!
//! | function | what it does |
//! |---|---|
//! | `extract_sum_metric(monotonic, suffix?)` | from a histogram, exponential histogram or summary, adds a sum metric `<name><suffix>` (default `_sum`) of each data point's sum (points without a sum are skipped), same description and unit, the source's temporality (cumulative for a summary) |
//! | `extract_count_metric(monotonic, suffix?)` | the same with each data point's count as an int, suffix `_count`, unit `1` |
//! | `extract_avg_metric(suffix?)` | adds a gauge `<name><suffix>` (default `_avg`) of each data point's sum over its count as a double, same description and unit (points without a sum or with a zero count are skipped) |
//! | `copy_metric(name?, description?, unit?)` | adds a copy of the metric, with the given fields replaced |
//! | `aggregate_on_attributes(function, attributes?)` | keeps only the listed data point attributes (all when not given, none for `[]`) and merges the points that then share attributes and timestamp (and start time for delta) |
//! | `aggregate_on_attribute_value(function, attribute, values, new_value)` | renames the listed values of one attribute to `new_value` and merges as above |
//! | `convert_summary_count_val_to_sum(temporality, monotonic, suffix?)` | from a summary, adds a sum metric `<name><suffix>` (default `_count`) of each data point's count as an int, with the given temporality (`"delta"` or `"cumulative"`) and monotonicity, same description and unit |
//! | `convert_summary_sum_val_to_sum(temporality, monotonic, suffix?)` | the same with each data point's sum as a double, suffix `_sum` |
//! | `convert_summary_quantile_val_to_gauge(attribute_key?, suffix?)` | from a summary, adds a gauge `<name><suffix>` (default `.quantiles`) with one point per quantile of each data point: its value, the point's attributes plus `<attribute_key>` (default `quantile`) set to the quantile |
//!
//! The aggregation functions are `sum`, `mean`, `min`, `max`, `median` and `count`; they
//! apply to gauges and sums, while histograms merge counts, sums and buckets whatever the
//! function (summaries are refused, as in Go). The `convert_summary_*` functions leave
//! other metric types alone. Where Go differs from this, on purpose: merged points come
//! out in the order their groups first appear (Go's map order is random), `count` of a
//! group of one is 1 (Go leaves the value), and the `convert_summary_*_val_to_sum`
//! functions run in the metric context (Go registers them in the data point context, where
//! they run once per data point of the summary).
//!
//! Added metrics are appended to the scope's metric list, which needs the
//! [`Item::MetricIn`] item; the transform processor does not run the same statements on
//! the metrics a statement added, so `copy_metric()` without a condition cannot loop.

use std::collections::HashMap;

use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    ExponentialHistogramDataPoint, Gauge, HistogramDataPoint, Metric, NumberDataPoint, Sum,
    metric::Data, number_data_point,
};

use crate::ast::{Call, Expr};
use crate::context::{Item, TransformContext};
use crate::eval::{CExpr, CompileError, Compiler, eval, literal_choice, literal_string};
use crate::value::Value;

/// The functions of this module.
pub(crate) const NAMES: &[&str] = &[
    "extract_sum_metric",
    "extract_count_metric",
    "extract_avg_metric",
    "copy_metric",
    "aggregate_on_attributes",
    "aggregate_on_attribute_value",
    "convert_summary_count_val_to_sum",
    "convert_summary_sum_val_to_sum",
    "convert_summary_quantile_val_to_gauge",
];

/// Go's `aggregateutil` functions.
pub const AGGREGATIONS: &[&str] = &["sum", "mean", "min", "max", "median", "count"];

const CUMULATIVE: i32 = 2;
const DELTA: i32 = 1;

/// Checks and stores the arguments Go takes as literals (`string`, `[]string`).
pub(crate) fn compile_literals(
    c: &Compiler<'_>,
    call: &Call,
    name: &str,
    bound: &[Option<&Expr>],
    strings: &mut [Option<String>],
) -> Result<(), CompileError> {
    match name {
        "extract_sum_metric" | "extract_count_metric" | "extract_avg_metric" => {
            let (default, at) = match Statistic::of(name) {
                Statistic::Sum => ("_sum", 1),
                Statistic::Count => ("_count", 1),
                Statistic::Avg => ("_avg", 0),
            };
            let suffix = literal_string(c, call, bound[at], "suffix")?;
            strings[at] = Some(suffix.unwrap_or_else(|| default.to_string()));
        }
        "convert_summary_count_val_to_sum" | "convert_summary_sum_val_to_sum" => {
            strings[0] = Some(literal_choice(
                c,
                call,
                bound[0],
                "stringAggTemp",
                "",
                &["cumulative", "delta"],
            )?);
            let default = if name == "convert_summary_sum_val_to_sum" {
                "_sum"
            } else {
                "_count"
            };
            let suffix = literal_string(c, call, bound[2], "suffix")?;
            strings[2] = Some(suffix.unwrap_or_else(|| default.to_string()));
        }
        "convert_summary_quantile_val_to_gauge" => {
            let key = literal_string(c, call, bound[0], "attributeKey")?;
            strings[0] = Some(key.unwrap_or_else(|| "quantile".to_string()));
            let suffix = literal_string(c, call, bound[1], "suffix")?;
            strings[1] = Some(suffix.unwrap_or_else(|| ".quantiles".to_string()));
        }
        "aggregate_on_attributes" | "aggregate_on_attribute_value" => {
            strings[0] = Some(literal_choice(
                c,
                call,
                bound[0],
                "aggregation_function",
                "",
                AGGREGATIONS,
            )?);
            let list = if name == "aggregate_on_attributes" {
                1
            } else {
                2
            };
            if let Some(e) = bound[list] {
                let literal = matches!(e, Expr::List(items)
                    if items.iter().all(|i| matches!(i, Expr::Literal(Value::Str(_)))));
                if !literal {
                    return c.err(
                        call.pos,
                        format!("{name}: the list must be a list of string literals"),
                    );
                }
            }
            if name == "aggregate_on_attribute_value" {
                strings[1] = literal_string(c, call, bound[1], "attribute")?;
                strings[3] = literal_string(c, call, bound[3], "new_value")?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn string_list(
    args: &[Option<CExpr>],
    i: usize,
    ctx: &TransformContext<'_>,
) -> Result<Option<Vec<String>>, String> {
    let Some(e) = args.get(i).and_then(Option::as_ref) else {
        return Ok(None);
    };
    match eval(e, ctx)? {
        Value::List(items) => Ok(Some(
            items
                .into_iter()
                .filter_map(|v| match v {
                    Value::Str(s) => Some(s),
                    _ => None,
                })
                .collect(),
        )),
        other => Err(format!("expected a list, got a {}", other.type_name())),
    }
}

fn optional_string(
    args: &[Option<CExpr>],
    i: usize,
    ctx: &TransformContext<'_>,
    what: &str,
) -> Result<Option<String>, String> {
    match args.get(i).and_then(Option::as_ref) {
        None => Ok(None),
        Some(e) => match eval(e, ctx)? {
            Value::Str(s) => Ok(Some(s)),
            other => Err(format!(
                "copy_metric: {what} must be a string, got a {}",
                other.type_name()
            )),
        },
    }
}

/// Runs one of [`NAMES`] on the context's metric.
pub(crate) fn run(
    name: &str,
    args: &[Option<CExpr>],
    strings: &[Option<String>],
    ctx: &mut TransformContext<'_>,
) -> Result<(), String> {
    match name {
        "extract_sum_metric" | "extract_count_metric" | "extract_avg_metric" => {
            let statistic = Statistic::of(name);
            let (monotonic, suffix_at) = match statistic {
                Statistic::Avg => (false, 0),
                _ => (monotonic_arg(name, args, 0, ctx)?, 1),
            };
            let suffix = strings
                .get(suffix_at)
                .cloned()
                .flatten()
                .unwrap_or_default();
            let metric = ctx.metric_mut()?;
            let added = extract(metric, statistic, monotonic, &suffix)
                .map_err(|t| {
                    format!("{name} requires an input metric of type Histogram, ExponentialHistogram or Summary, got {t}")
                })?;
            if let Some(added) = added {
                append(ctx, name, added)?;
            }
        }
        "convert_summary_count_val_to_sum" | "convert_summary_sum_val_to_sum" => {
            let monotonic = monotonic_arg(name, args, 1, ctx)?;
            let temporality = if strings[0].as_deref() == Some("delta") {
                DELTA
            } else {
                CUMULATIVE
            };
            let suffix = strings.get(2).cloned().flatten().unwrap_or_default();
            let metric = ctx.metric_mut()?;
            let added = summary_to_sum(
                metric,
                name == "convert_summary_sum_val_to_sum",
                temporality,
                monotonic,
                &suffix,
            );
            if let Some(added) = added {
                append(ctx, name, added)?;
            }
        }
        "convert_summary_quantile_val_to_gauge" => {
            let key = strings[0].clone().unwrap_or_default();
            let suffix = strings[1].clone().unwrap_or_default();
            if let Some(added) = summary_quantiles(ctx.metric_mut()?, &key, &suffix) {
                append(ctx, name, added)?;
            }
        }
        "copy_metric" => {
            let new_name = optional_string(args, 0, ctx, "name")?;
            let description = optional_string(args, 1, ctx, "description")?;
            let unit = optional_string(args, 2, ctx, "unit")?;
            let mut copy = ctx.metric_mut()?.clone();
            if let Some(n) = new_name {
                copy.name = n;
            }
            if let Some(d) = description {
                copy.description = d;
            }
            if let Some(u) = unit {
                copy.unit = u;
            }
            append(ctx, name, copy)?;
        }
        _ => {
            let function = strings[0].clone().unwrap_or_default();
            let list_at = if name == "aggregate_on_attributes" {
                1
            } else {
                2
            };
            let list = string_list(args, list_at, ctx)?;
            let metric = ctx.metric_mut()?;
            if matches!(metric.data, Some(Data::Summary(_))) {
                return Err(format!(
                    "{name} does not support aggregating Summary metrics"
                ));
            }
            if name == "aggregate_on_attributes" {
                if let Some(keep) = list {
                    each_attributes(metric, |attrs| attrs.retain(|kv| keep.contains(&kv.key)));
                }
            } else {
                let attribute = strings[1].clone().unwrap_or_default();
                let new_value = strings[3].clone().unwrap_or_default();
                let values = list.unwrap_or_default();
                each_attributes(metric, |attrs| {
                    for kv in attrs.iter_mut().filter(|kv| kv.key == attribute) {
                        let matches = kv.value.as_ref().and_then(|v| v.value.as_ref()).is_some_and(
                            |v| matches!(v, tributary_pipeline_core::pdata::proto::common::v1::any_value::Value::StringValue(s) if values.contains(s)),
                        );
                        if matches {
                            kv.value = Some(Value::Str(new_value.clone()).to_any());
                        }
                    }
                });
            }
            aggregate(metric, &function);
        }
    }
    Ok(())
}

/// The `monotonic` argument at `i` (false when left out).
fn monotonic_arg(
    name: &str,
    args: &[Option<CExpr>],
    i: usize,
    ctx: &TransformContext<'_>,
) -> Result<bool, String> {
    match args.get(i).and_then(Option::as_ref) {
        Some(e) => match eval(e, ctx)? {
            Value::Bool(b) => Ok(b),
            other => Err(format!(
                "{name}: monotonic must be a bool, got a {}",
                other.type_name()
            )),
        },
        None => Ok(false),
    }
}

/// Appends a metric a function adds to the scope's metric list.
pub(crate) fn append(
    ctx: &mut TransformContext<'_>,
    name: &str,
    metric: Metric,
) -> Result<(), String> {
    match &mut ctx.item {
        Item::MetricIn(list, _) => {
            list.push(metric);
            Ok(())
        }
        _ => Err(format!(
            "{name} adds a metric to the scope, which this caller does not give (Item::MetricIn)"
        )),
    }
}

/// What `extract_*_metric` takes of each data point.
#[derive(Clone, Copy, PartialEq)]
enum Statistic {
    /// The sum (points without one are skipped), a double.
    Sum,
    /// The count, an int.
    Count,
    /// The sum over the count (points without a sum or with no count are skipped), a
    /// double in a gauge.
    Avg,
}

impl Statistic {
    fn of(name: &str) -> Statistic {
        match name {
            "extract_sum_metric" => Statistic::Sum,
            "extract_avg_metric" => Statistic::Avg,
            _ => Statistic::Count,
        }
    }
}

/// The sum or count metric (a sum) or the average metric (a gauge) of a histogram,
/// exponential histogram or summary; `None` when it would have no data points; `Err`
/// names the wrong type.
fn extract(
    metric: &Metric,
    statistic: Statistic,
    monotonic: bool,
    suffix: &str,
) -> Result<Option<Metric>, &'static str> {
    // (attributes, start, time, sum, count) of each point.
    type Point<'a> = (&'a Vec<KeyValue>, u64, u64, Option<f64>, u64);
    let (temporality, points): (i32, Vec<Point<'_>>) = match &metric.data {
        Some(Data::Histogram(h)) => (
            h.aggregation_temporality,
            h.data_points
                .iter()
                .map(|p| {
                    (
                        &p.attributes,
                        p.start_time_unix_nano,
                        p.time_unix_nano,
                        p.sum,
                        p.count,
                    )
                })
                .collect(),
        ),
        Some(Data::ExponentialHistogram(h)) => (
            h.aggregation_temporality,
            h.data_points
                .iter()
                .map(|p| {
                    (
                        &p.attributes,
                        p.start_time_unix_nano,
                        p.time_unix_nano,
                        p.sum,
                        p.count,
                    )
                })
                .collect(),
        ),
        // Summaries have no temporality; OpenMetrics says they are cumulative.
        Some(Data::Summary(s)) => (
            CUMULATIVE,
            s.data_points
                .iter()
                .map(|p| {
                    (
                        &p.attributes,
                        p.start_time_unix_nano,
                        p.time_unix_nano,
                        Some(p.sum),
                        p.count,
                    )
                })
                .collect(),
        ),
        Some(Data::Gauge(_)) => return Err("Gauge"),
        Some(Data::Sum(_)) => return Err("Sum"),
        None => return Err("Empty"),
    };
    if temporality == 0 && statistic != Statistic::Avg {
        return Err("a metric without aggregation temporality");
    }
    let data_points: Vec<NumberDataPoint> = points
        .into_iter()
        .filter_map(|(attributes, start, time, sum, count)| {
            let value = match statistic {
                Statistic::Sum => number_data_point::Value::AsDouble(sum?),
                Statistic::Count => number_data_point::Value::AsInt(count as i64),
                Statistic::Avg if count == 0 => return None,
                Statistic::Avg => number_data_point::Value::AsDouble(sum? / count as f64),
            };
            Some(NumberDataPoint {
                attributes: attributes.clone(),
                start_time_unix_nano: start,
                time_unix_nano: time,
                value: Some(value),
                ..Default::default()
            })
        })
        .collect();
    if data_points.is_empty() {
        return Ok(None);
    }
    Ok(Some(Metric {
        name: format!("{}{suffix}", metric.name),
        description: metric.description.clone(),
        // The count is not in the source's unit.
        unit: if statistic == Statistic::Count {
            "1".into()
        } else {
            metric.unit.clone()
        },
        data: Some(if statistic == Statistic::Avg {
            Data::Gauge(Gauge { data_points })
        } else {
            Data::Sum(Sum {
                data_points,
                aggregation_temporality: temporality,
                is_monotonic: monotonic,
            })
        }),
        ..Default::default()
    }))
}

/// The count (as ints) or sum (as doubles) of a summary's data points as a sum metric;
/// `None` for any other metric.
fn summary_to_sum(
    metric: &Metric,
    sum: bool,
    temporality: i32,
    monotonic: bool,
    suffix: &str,
) -> Option<Metric> {
    let Some(Data::Summary(summary)) = &metric.data else {
        return None;
    };
    let data_points = summary
        .data_points
        .iter()
        .map(|p| NumberDataPoint {
            attributes: p.attributes.clone(),
            start_time_unix_nano: p.start_time_unix_nano,
            time_unix_nano: p.time_unix_nano,
            value: Some(if sum {
                number_data_point::Value::AsDouble(p.sum)
            } else {
                number_data_point::Value::AsInt(p.count as i64)
            }),
            ..Default::default()
        })
        .collect();
    Some(Metric {
        name: format!("{}{suffix}", metric.name),
        description: metric.description.clone(),
        unit: metric.unit.clone(),
        data: Some(Data::Sum(Sum {
            data_points,
            aggregation_temporality: temporality,
            is_monotonic: monotonic,
        })),
        ..Default::default()
    })
}

/// A gauge of a summary's quantiles, one point per quantile of each data point, the
/// quantile in attribute `key`; `None` for any other metric.
fn summary_quantiles(metric: &Metric, key: &str, suffix: &str) -> Option<Metric> {
    let Some(Data::Summary(summary)) = &metric.data else {
        return None;
    };
    let mut data_points = Vec::new();
    for p in &summary.data_points {
        for q in &p.quantile_values {
            let mut attributes = p.attributes.clone();
            let quantile = Value::Float(q.quantile).to_any();
            match attributes.iter_mut().find(|kv| kv.key == key) {
                Some(kv) => kv.value = Some(quantile),
                None => attributes.push(KeyValue {
                    key: key.to_string(),
                    value: Some(quantile),
                    ..Default::default()
                }),
            }
            data_points.push(NumberDataPoint {
                attributes,
                start_time_unix_nano: p.start_time_unix_nano,
                time_unix_nano: p.time_unix_nano,
                value: Some(number_data_point::Value::AsDouble(q.value)),
                ..Default::default()
            });
        }
    }
    Some(Metric {
        name: format!("{}{suffix}", metric.name),
        description: metric.description.clone(),
        unit: metric.unit.clone(),
        data: Some(Data::Gauge(Gauge { data_points })),
        ..Default::default()
    })
}

fn each_attributes(metric: &mut Metric, mut f: impl FnMut(&mut Vec<KeyValue>)) {
    match &mut metric.data {
        Some(Data::Gauge(g)) => g.data_points.iter_mut().for_each(|p| f(&mut p.attributes)),
        Some(Data::Sum(s)) => s.data_points.iter_mut().for_each(|p| f(&mut p.attributes)),
        Some(Data::Histogram(h)) => h.data_points.iter_mut().for_each(|p| f(&mut p.attributes)),
        Some(Data::ExponentialHistogram(h)) => {
            h.data_points.iter_mut().for_each(|p| f(&mut p.attributes))
        }
        Some(Data::Summary(s)) => s.data_points.iter_mut().for_each(|p| f(&mut p.attributes)),
        None => {}
    }
}

/// The identity of a data point's attribute set, whatever the attributes' order.
fn attributes_key(attributes: &[KeyValue]) -> String {
    let mut pairs: Vec<(&str, String)> = attributes
        .iter()
        .map(|kv| (kv.key.as_str(), format!("{:?}", kv.value)))
        .collect();
    pairs.sort();
    format!("{pairs:?}")
}

/// Groups points by key, in the order the keys first appear.
fn group<P>(points: Vec<P>, key: impl Fn(&P) -> String) -> Vec<Vec<P>> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<Vec<P>> = Vec::new();
    for p in points {
        let k = key(&p);
        match index.get(&k) {
            Some(&i) => groups[i].push(p),
            None => {
                index.insert(k, groups.len());
                groups.push(vec![p]);
            }
        }
    }
    groups
}

/// Merges the data points that share attributes and timestamp (and start time, for
/// delta temporality), as Go's `aggregateutil`.
fn aggregate(metric: &mut Metric, function: &str) {
    match &mut metric.data {
        Some(Data::Gauge(g)) => {
            let groups = group(std::mem::take(&mut g.data_points), |p| {
                format!("{}|{}", attributes_key(&p.attributes), p.time_unix_nano)
            });
            g.data_points = groups
                .into_iter()
                .filter_map(|g| merge_numbers(g, function))
                .collect();
        }
        Some(Data::Sum(s)) => {
            let delta = s.aggregation_temporality == DELTA;
            let groups = group(std::mem::take(&mut s.data_points), |p| {
                let start = if delta { p.start_time_unix_nano } else { 0 };
                format!(
                    "{}|{}|{start}",
                    attributes_key(&p.attributes),
                    p.time_unix_nano
                )
            });
            s.data_points = groups
                .into_iter()
                .filter_map(|g| merge_numbers(g, function))
                .collect();
        }
        Some(Data::Histogram(h)) => {
            let delta = h.aggregation_temporality == DELTA;
            let groups = group(std::mem::take(&mut h.data_points), |p| {
                let start = if delta { p.start_time_unix_nano } else { 0 };
                format!(
                    "{}|{}|{start}|{:?}|{}|{}|{}",
                    attributes_key(&p.attributes),
                    p.time_unix_nano,
                    p.explicit_bounds,
                    p.min.is_some(),
                    p.max.is_some(),
                    p.flags
                )
            });
            h.data_points = groups.into_iter().filter_map(merge_histograms).collect();
        }
        Some(Data::ExponentialHistogram(h)) => {
            let delta = h.aggregation_temporality == DELTA;
            let groups = group(std::mem::take(&mut h.data_points), |p| {
                let start = if delta { p.start_time_unix_nano } else { 0 };
                format!(
                    "{}|{}|{start}|{}|{}|{}|{}|{:?}|{:?}",
                    attributes_key(&p.attributes),
                    p.time_unix_nano,
                    p.scale,
                    p.min.is_some(),
                    p.max.is_some(),
                    p.flags,
                    p.negative.as_ref().map(|b| b.offset),
                    p.positive.as_ref().map(|b| b.offset)
                )
            });
            h.data_points = groups.into_iter().filter_map(merge_exponential).collect();
        }
        Some(Data::Summary(_)) | None => {}
    }
}

fn as_double(p: &NumberDataPoint) -> f64 {
    match p.value {
        Some(number_data_point::Value::AsDouble(d)) => d,
        Some(number_data_point::Value::AsInt(i)) => i as f64,
        None => 0.0,
    }
}

fn as_int(p: &NumberDataPoint) -> i64 {
    match p.value {
        Some(number_data_point::Value::AsDouble(d)) => d as i64,
        Some(number_data_point::Value::AsInt(i)) => i,
        None => 0,
    }
}

/// One point for a group: the first point's fields, the earliest start time, and the
/// value the function makes of the group's values (in the first point's type).
fn merge_numbers(points: Vec<NumberDataPoint>, function: &str) -> Option<NumberDataPoint> {
    let n = points.len();
    let start = points.iter().map(|p| p.start_time_unix_nano).min()?;
    let value = match points.first()?.value {
        Some(number_data_point::Value::AsDouble(_)) => {
            let mut values: Vec<f64> = points.iter().map(as_double).collect();
            Some(number_data_point::Value::AsDouble(match function {
                "sum" => values.iter().sum(),
                "mean" => values.iter().sum::<f64>() / n as f64,
                "max" => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                "min" => values.iter().copied().fold(f64::INFINITY, f64::min),
                "median" => {
                    values.sort_by(f64::total_cmp);
                    let mid = n / 2;
                    if n % 2 == 1 {
                        values[mid]
                    } else {
                        (values[mid - 1] + values[mid]) / 2.0
                    }
                }
                _ => n as f64,
            }))
        }
        Some(number_data_point::Value::AsInt(_)) => {
            let mut values: Vec<i64> = points.iter().map(as_int).collect();
            let sum = || values.iter().fold(0i64, |a, b| a.wrapping_add(*b));
            Some(number_data_point::Value::AsInt(match function {
                "sum" => sum(),
                "mean" => sum() / n as i64,
                "max" => values.iter().copied().max().unwrap_or_default(),
                "min" => values.iter().copied().min().unwrap_or_default(),
                "median" => {
                    values.sort_unstable();
                    let mid = n / 2;
                    if n % 2 == 1 {
                        values[mid]
                    } else {
                        values[mid - 1].wrapping_add(values[mid]) / 2
                    }
                }
                _ => n as i64,
            }))
        }
        None => None,
    };
    let mut merged = points.into_iter().next()?;
    merged.start_time_unix_nano = start;
    merged.value = value;
    Some(merged)
}

fn add_counts(into: &mut [u64], from: &[u64]) {
    for (a, b) in into.iter_mut().zip(from) {
        *a = a.wrapping_add(*b);
    }
}

fn merge_histograms(points: Vec<HistogramDataPoint>) -> Option<HistogramDataPoint> {
    let mut it = points.into_iter();
    let mut dp = it.next()?;
    for p in it {
        if p.count == 0 {
            continue;
        }
        dp.count = dp.count.wrapping_add(p.count);
        dp.sum = Some(dp.sum.unwrap_or_default() + p.sum.unwrap_or_default());
        if let (Some(a), Some(b)) = (dp.min, p.min) {
            dp.min = Some(a.min(b));
        }
        if let (Some(a), Some(b)) = (dp.max, p.max) {
            dp.max = Some(a.max(b));
        }
        add_counts(&mut dp.bucket_counts, &p.bucket_counts);
        dp.exemplars.extend(p.exemplars);
        dp.start_time_unix_nano = dp.start_time_unix_nano.min(p.start_time_unix_nano);
    }
    Some(dp)
}

fn merge_exponential(
    points: Vec<ExponentialHistogramDataPoint>,
) -> Option<ExponentialHistogramDataPoint> {
    let mut it = points.into_iter();
    let mut dp = it.next()?;
    for p in it {
        if p.count == 0 {
            continue;
        }
        dp.count = dp.count.wrapping_add(p.count);
        dp.sum = Some(dp.sum.unwrap_or_default() + p.sum.unwrap_or_default());
        if let (Some(a), Some(b)) = (dp.min, p.min) {
            dp.min = Some(a.min(b));
        }
        if let (Some(a), Some(b)) = (dp.max, p.max) {
            dp.max = Some(a.max(b));
        }
        if let (Some(a), Some(b)) = (dp.negative.as_mut(), p.negative.as_ref()) {
            add_counts(&mut a.bucket_counts, &b.bucket_counts);
        }
        if let (Some(a), Some(b)) = (dp.positive.as_mut(), p.positive.as_ref()) {
            add_counts(&mut a.bucket_counts, &b.bucket_counts);
        }
        dp.exemplars.extend(p.exemplars);
        dp.start_time_unix_nano = dp.start_time_unix_nano.min(p.start_time_unix_nano);
    }
    Some(dp)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use proptest::prelude::*;
    use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, any_value};
    use tributary_pipeline_core::pdata::proto::metrics::v1::Gauge;

    use super::*;
    use crate::{ContextKind, compile_statement};

    fn kv(key: &str, value: i64) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::IntValue(value)),
            }),
            ..Default::default()
        }
    }

    fn run(statement: &str, metrics: &mut Vec<Metric>) {
        let s = compile_statement(statement, ContextKind::Metric).unwrap();
        let (mut resource, mut scope, mut cache) = (None, None, Vec::new());
        for index in 0..metrics.len() {
            let mut ctx = TransformContext {
                resource: &mut resource,
                scope: Some(&mut scope),
                item: Item::MetricIn(metrics, index),
                cache: &mut cache,
            };
            s.execute(&mut ctx).unwrap();
        }
    }

    proptest! {
        /// Summing on one attribute keeps the total, keeps only that attribute, and
        /// leaves one point per (value, timestamp).
        #[test]
        fn aggregating_by_sum_keeps_the_total(
            points in prop::collection::vec((0i64..3, 0i64..3, 1u64..3, -50i64..50), 0..20),
        ) {
            let data_points = points.iter().map(|(a, b, time, v)| NumberDataPoint {
                attributes: vec![kv("a", *a), kv("b", *b)],
                time_unix_nano: *time,
                value: Some(number_data_point::Value::AsInt(*v)),
                ..Default::default()
            }).collect();
            let mut metrics = vec![Metric {
                name: "m".into(),
                data: Some(Data::Gauge(Gauge { data_points })),
                ..Default::default()
            }];
            run(r#"aggregate_on_attributes("sum", ["a"])"#, &mut metrics);
            prop_assert_eq!(metrics.len(), 1);
            let Some(Data::Gauge(g)) = &metrics[0].data else { panic!("not a gauge") };
            let total: i64 = g.data_points.iter().map(as_int).sum();
            prop_assert_eq!(total, points.iter().map(|p| p.3).sum::<i64>());
            let groups: HashSet<(i64, u64)> = points.iter().map(|p| (p.0, p.2)).collect();
            prop_assert_eq!(g.data_points.len(), groups.len());
            for p in &g.data_points {
                prop_assert!(p.attributes.iter().all(|kv| kv.key == "a"));
            }
        }

        /// `extract_count_metric` adds one metric whose points are the counts.
        #[test]
        fn extract_count_adds_the_counts(counts in prop::collection::vec(0u64..100, 1..10)) {
            use tributary_pipeline_core::pdata::proto::metrics::v1::{Histogram, HistogramDataPoint};
            let data_points = counts.iter().map(|c| HistogramDataPoint { count: *c, ..Default::default() }).collect();
            let mut metrics = vec![Metric {
                name: "h".into(),
                data: Some(Data::Histogram(Histogram { data_points, aggregation_temporality: CUMULATIVE })),
                ..Default::default()
            }];
            run("extract_count_metric(true)", &mut metrics);
            prop_assert_eq!(metrics.len(), 2);
            let Some(Data::Sum(s)) = &metrics[1].data else { panic!("not a sum") };
            let got: Vec<i64> = s.data_points.iter().map(as_int).collect();
            prop_assert_eq!(got, counts.iter().map(|c| *c as i64).collect::<Vec<_>>());
            prop_assert_eq!(metrics[1].name.as_str(), "h_count");
        }
    }
}
