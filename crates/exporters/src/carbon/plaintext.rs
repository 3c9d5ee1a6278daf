//! OTLP metrics as Graphite plaintext lines, as the Go `carbonexporter` writes them.

use std::fmt::Write as _;

use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::proto::metrics::v1::{metric, number_data_point};

use tributary_pipeline_core::pdata::value_text::{as_string, format_float};

/// What an empty attribute value is written as, as in Go.
const EMPTY_VALUE: &str = "<empty>";

/// Writes `metrics` as Graphite plaintext, one `<path> <value> <timestamp>\n` line per
/// value; returns the text and how many lines it holds. With `resource_attributes`, each
/// point's tags include its resource's attributes.
///
/// As Go's exporter: gauges and sums are a line per point; histograms and summaries are a
/// `<name>.count` line, a `<name>` line with the sum, and one `<name>.bucket` line per
/// bucket tagged `upper_bound` (the last `inf`) or one `<name>.quantile` line per quantile
/// tagged `quantile` (in percent). Attributes are `;key=value` tags; tag keys lose
/// `;!^=` and values `;~` (each replaced by `_`), and an empty value is `<empty>`.
/// Beyond Go, whitespace in names, keys and values, and `;` in names, become `_` so that a
/// line always stays one line of three fields. Metrics without a name, exponential
/// histograms and points without a value are skipped, as Go skips them.
///
/// ```
/// use tributary_exporters::carbon::to_plaintext;
/// use tributary_pipeline_core::pdata::attributes::key_value;
/// use tributary_pipeline_core::pdata::builder::MetricsBuilder;
///
/// let mut builder = MetricsBuilder::new();
/// builder.gauge("cpu.load", "").double(vec![key_value("host", "a")], 1_700_000_000_000_000_000, 0.5);
/// let (text, lines) = to_plaintext(&builder.build(), false);
/// assert_eq!(text, "cpu.load;host=a 0.5 1700000000\n");
/// assert_eq!(lines, 1);
/// ```
pub fn to_plaintext(metrics: &Metrics, resource_attributes: bool) -> (String, usize) {
    let mut out = Lines::default();
    for rm in &metrics.request().resource_metrics {
        let resource: &[KeyValue] = match (&rm.resource, resource_attributes) {
            (Some(resource), true) => &resource.attributes,
            _ => &[],
        };
        for sm in &rm.scope_metrics {
            for m in &sm.metrics {
                if m.name.is_empty() {
                    continue;
                }
                let name = sanitize_name(&m.name);
                match &m.data {
                    Some(metric::Data::Gauge(gauge)) => {
                        out.number_points(&name, &gauge.data_points, resource)
                    }
                    Some(metric::Data::Sum(sum)) => {
                        out.number_points(&name, &sum.data_points, resource)
                    }
                    Some(metric::Data::Histogram(histogram)) => {
                        for point in &histogram.data_points {
                            let tags = tags(&point.attributes, resource);
                            let time = seconds(point.time_unix_nano);
                            out.count_and_sum(&name, &tags, point.count, point.sum(), time);
                            if point.explicit_bounds.is_empty() {
                                continue;
                            }
                            for (index, count) in point.bucket_counts.iter().enumerate() {
                                let bound = point
                                    .explicit_bounds
                                    .get(index)
                                    .map_or_else(|| "inf".to_owned(), |b| label_float(*b));
                                out.line(
                                    format_args!("{name}.bucket{tags};upper_bound={bound}"),
                                    format_args!("{count}"),
                                    time,
                                );
                            }
                        }
                    }
                    Some(metric::Data::Summary(summary)) => {
                        for point in &summary.data_points {
                            let tags = tags(&point.attributes, resource);
                            let time = seconds(point.time_unix_nano);
                            out.count_and_sum(&name, &tags, point.count, point.sum, time);
                            for quantile in &point.quantile_values {
                                out.line(
                                    format_args!(
                                        "{name}.quantile{tags};quantile={}",
                                        label_float(quantile.quantile * 100.0)
                                    ),
                                    format_args!("{}", format_float(quantile.value)),
                                    time,
                                );
                            }
                        }
                    }
                    // Go writes nothing for exponential histograms (and empty metrics).
                    Some(metric::Data::ExponentialHistogram(_)) | None => {}
                }
            }
        }
    }
    (out.text, out.count)
}

#[derive(Default)]
struct Lines {
    text: String,
    count: usize,
}

impl Lines {
    fn line(&mut self, path: std::fmt::Arguments<'_>, value: std::fmt::Arguments<'_>, time: u64) {
        // Writing to a String cannot fail.
        let _ = writeln!(self.text, "{path} {value} {time}");
        self.count += 1;
    }

    fn number_points(
        &mut self,
        name: &str,
        points: &[tributary_pipeline_core::pdata::proto::metrics::v1::NumberDataPoint],
        resource: &[KeyValue],
    ) {
        for point in points {
            let value = match point.value {
                Some(number_data_point::Value::AsInt(int)) => int.to_string(),
                Some(number_data_point::Value::AsDouble(double)) => format_float(double),
                None => continue,
            };
            let tags = tags(&point.attributes, resource);
            self.line(
                format_args!("{name}{tags}"),
                format_args!("{value}"),
                seconds(point.time_unix_nano),
            );
        }
    }

    fn count_and_sum(&mut self, name: &str, tags: &str, count: u64, sum: f64, time: u64) {
        self.line(
            format_args!("{name}.count{tags}"),
            format_args!("{count}"),
            time,
        );
        self.line(
            format_args!("{name}{tags}"),
            format_args!("{}", format_float(sum)),
            time,
        );
    }
}

/// Whole seconds, as Go truncates them.
fn seconds(time_unix_nano: u64) -> u64 {
    time_unix_nano / 1_000_000_000
}

/// `;key=value` for each attribute, the resource's over the point's of the same key.
fn tags(point: &[KeyValue], resource: &[KeyValue]) -> String {
    let mut merged: Vec<&KeyValue> = point.iter().collect();
    for attribute in resource {
        match merged.iter_mut().find(|kv| kv.key == attribute.key) {
            Some(slot) => *slot = attribute,
            None => merged.push(attribute),
        }
    }
    let mut out = String::new();
    for kv in merged {
        let mut value = as_string(kv.value.as_ref());
        if value.is_empty() {
            value = EMPTY_VALUE.to_owned();
        }
        let key = sanitize(&kv.key, |c| matches!(c, ';' | '!' | '^' | '='));
        let key = if key.is_empty() { "_".to_owned() } else { key };
        let _ = write!(
            out,
            ";{key}={}",
            sanitize(&value, |c| matches!(c, ';' | '~'))
        );
    }
    out
}

fn sanitize_name(name: &str) -> String {
    sanitize(name, |c| c == ';')
}

/// `text` with every character `bad` names, and all whitespace, replaced by `_`.
fn sanitize(text: &str, bad: impl Fn(char) -> bool) -> String {
    text.chars()
        .map(|c| if bad(c) || c.is_whitespace() { '_' } else { c })
        .collect()
}

/// A tag value as Go's `strconv.FormatFloat(f, 'g', -1, 64)`: the shortest exact
/// decimal, with an exponent (`1e+06`, `2.5e-05`) below 1e-4 and from 1e6 on.
pub(super) fn label_float(f: f64) -> String {
    if !f.is_finite() {
        return format_float(f);
    }
    let scientific = format!("{f:e}");
    let Some((mantissa, exponent)) = scientific.split_once('e') else {
        return f.to_string();
    };
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if (-4..6).contains(&exponent) {
        f.to_string()
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    }
}
