//! Writing metric families as the Prometheus text format 0.0.4 or OpenMetrics 1.0, and
//! choosing between them from a scraper's `Accept` header, as Go's `expfmt` does.
//!
//! The two formats differ in what they carry: OpenMetrics adds `# UNIT`, exemplars on
//! counters and histogram buckets, `_created` series from start times, timestamps in
//! seconds and the closing `# EOF`; counters are named without `_total` in their
//! metadata and with it on the sample. Text 0.0.4 has none of these and timestamps in
//! milliseconds. Numbers are written as Go writes them (`strconv` `'g'`, `NaN`, `+Inf`,
//! `-Inf`), so the output matches the Go exporter's byte for byte where both say the
//! same thing.
//!
//! ```
//! use tributary_translator_prometheus::exposition::{encode, Family, FamilyType, Format, Series, Value};
//!
//! let family = Family {
//!     name: "http_requests_total".into(),
//!     help: "Requests served.".into(),
//!     unit: String::new(),
//!     kind: FamilyType::Counter,
//!     series: vec![Series {
//!         labels: vec![("code".into(), "200".into())],
//!         value: Value::Counter { value: 1027.0, exemplar: None },
//!         timestamp_ms: None,
//!         created_ms: None,
//!     }],
//! };
//! assert_eq!(
//!     encode(&[family.clone()], Format::Text),
//!     "# HELP http_requests_total Requests served.\n# TYPE http_requests_total counter\nhttp_requests_total{code=\"200\"} 1027\n"
//! );
//! assert!(encode(&[family], Format::OpenMetrics).ends_with("# EOF\n"));
//! ```

use std::fmt::Write as _;

use crate::labels::Labels;
use crate::normalize::{escape_metric_name, is_valid_metric_name};

/// The type of a family, as `# TYPE` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FamilyType {
    /// A monotonic counter.
    Counter,
    /// A gauge.
    Gauge,
    /// A histogram with cumulative buckets.
    Histogram,
    /// A summary with quantiles.
    Summary,
    /// Untyped (`untyped` in text, `unknown` in OpenMetrics).
    Unknown,
}

/// One family: a name, its metadata and its series.
#[derive(Clone, Debug, PartialEq)]
pub struct Family {
    /// The family's name. A counter's name may end with `_total`; OpenMetrics metadata
    /// drops it and its samples add it.
    pub name: String,
    /// The `# HELP` text (the OTLP description); empty: no `# HELP` line.
    pub help: String,
    /// The Prometheus unit (`seconds`, `bytes`); OpenMetrics writes `# UNIT` when the
    /// family's name ends with it.
    pub unit: String,
    /// The family's type; every series' [`Value`] must be of it.
    pub kind: FamilyType,
    /// The series, each written in order.
    pub series: Vec<Series>,
}

/// One series of a family.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The labels, unique names; `le` and `quantile` are added by the writer.
    pub labels: Labels,
    /// The value.
    pub value: Value,
    /// The sample's timestamp (milliseconds since the Unix epoch), when timestamps are sent.
    pub timestamp_ms: Option<i64>,
    /// The start time of a counter, histogram or summary: OpenMetrics `_created`.
    pub created_ms: Option<i64>,
}

/// A series' value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A counter and its exemplar.
    Counter {
        /// The cumulative value.
        value: f64,
        /// The exemplar (OpenMetrics only).
        exemplar: Option<Exemplar>,
    },
    /// A gauge or untyped value.
    Gauge(f64),
    /// A histogram.
    Histogram {
        /// Buckets by ascending upper bound, counts cumulative; `+Inf` is added by the
        /// writer when the last bound is finite.
        buckets: Vec<Bucket>,
        /// The count of observations (the `+Inf` bucket).
        count: u64,
        /// The sum of observations; `None` writes no `_sum` (OTLP histograms with
        /// negative observations may have none).
        sum: Option<f64>,
    },
    /// A summary.
    Summary {
        /// `(quantile, value)` pairs.
        quantiles: Vec<(f64, f64)>,
        /// The count of observations.
        count: u64,
        /// The sum of observations.
        sum: f64,
    },
}

/// One histogram bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct Bucket {
    /// The inclusive upper bound (`le`).
    pub upper_bound: f64,
    /// Observations at or below the bound.
    pub cumulative_count: u64,
    /// The bucket's exemplar (OpenMetrics only).
    pub exemplar: Option<Exemplar>,
}

/// An exemplar: a sample tied to a trace.
#[derive(Clone, Debug, PartialEq)]
pub struct Exemplar {
    /// Its labels, usually `trace_id` and `span_id`. OpenMetrics limits them to 128
    /// characters; longer sets are not written.
    pub labels: Labels,
    /// The observed value.
    pub value: f64,
    /// When it was observed (milliseconds since the Unix epoch).
    pub timestamp_ms: Option<i64>,
}

/// An exposition format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// The Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics text 1.0.0.
    OpenMetrics,
}

/// The content type of the text format 0.0.4.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// The content type of OpenMetrics 1.0.0.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

impl Format {
    /// The `Content-Type` of an answer in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => TEXT_CONTENT_TYPE,
            Format::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
        }
    }

    /// The format to answer an `Accept` header with, as Go's
    /// `expfmt.NegotiateIncludingOpenMetrics` chooses: the accepted types by falling
    /// `q`, the first that is OpenMetrics (version `1.0.0`, `0.0.1` or none; only when
    /// `open_metrics` is enabled) or text (version `0.0.4` or none) wins; otherwise text.
    /// The protobuf format is not offered.
    pub fn negotiate(accept: Option<&str>, open_metrics: bool) -> Format {
        let Some(accept) = accept else {
            return Format::Text;
        };
        let mut ranges: Vec<(f64, usize, &str, Option<&str>)> = Vec::new();
        for (position, range) in accept.split(',').enumerate() {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or("");
            let (mut q, mut version) = (1.0, None);
            for param in parts {
                if let Some((key, value)) = param.split_once('=') {
                    let value = value.trim().trim_matches('"');
                    match key.trim().to_ascii_lowercase().as_str() {
                        "q" => q = value.parse().unwrap_or(0.0),
                        "version" => version = Some(value),
                        _ => {}
                    }
                }
            }
            if q > 0.0 {
                ranges.push((q, position, media, version));
            }
        }
        ranges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, _, media, version) in ranges {
            let media = media.to_ascii_lowercase();
            if open_metrics
                && media == "application/openmetrics-text"
                && matches!(version, None | Some("1.0.0") | Some("0.0.1"))
            {
                return Format::OpenMetrics;
            }
            if media == "text/plain" && matches!(version, None | Some("0.0.4")) {
                return Format::Text;
            }
        }
        Format::Text
    }
}

/// `families` in `format`, as one document (OpenMetrics with its `# EOF`).
pub fn encode(families: &[Family], format: Format) -> String {
    let mut out = String::new();
    for family in families {
        write_family(&mut out, family, format);
    }
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}

/// Appends one family to `out`. For OpenMetrics, the caller ends the document with
/// `# EOF\n` (as [`encode`] does).
pub fn write_family(out: &mut String, family: &Family, format: Format) {
    if family.series.is_empty() {
        return;
    }
    // A name the classic formats cannot carry (UTF-8 strategies) is escaped for them.
    let name = if is_valid_metric_name(&family.name) {
        family.name.clone()
    } else {
        escape_metric_name(&family.name)
    };
    let open_metrics = format == Format::OpenMetrics;
    let meta_name = match (open_metrics, family.kind) {
        (true, FamilyType::Counter) => name.strip_suffix("_total").unwrap_or(&name).to_string(),
        _ => name.clone(),
    };
    if !family.help.is_empty() {
        let _ = writeln!(
            out,
            "# HELP {meta_name} {}",
            escape_help(&family.help, open_metrics)
        );
    }
    let kind = match (family.kind, open_metrics) {
        (FamilyType::Counter, _) => "counter",
        (FamilyType::Gauge, _) => "gauge",
        (FamilyType::Histogram, _) => "histogram",
        (FamilyType::Summary, _) => "summary",
        (FamilyType::Unknown, false) => "untyped",
        (FamilyType::Unknown, true) => "unknown",
    };
    let _ = writeln!(out, "# TYPE {meta_name} {kind}");
    if open_metrics && !family.unit.is_empty() && meta_name.ends_with(&format!("_{}", family.unit))
    {
        let _ = writeln!(out, "# UNIT {meta_name} {}", family.unit);
    }
    for series in &family.series {
        write_series(out, &name, &meta_name, series, format);
    }
}

fn write_series(out: &mut String, name: &str, meta_name: &str, series: &Series, format: Format) {
    let open_metrics = format == Format::OpenMetrics;
    let ts = series.timestamp_ms;
    match &series.value {
        Value::Gauge(value) => sample(out, name, &series.labels, None, *value, ts, None, format),
        Value::Counter { value, exemplar } => {
            let sample_name = if open_metrics {
                format!("{meta_name}_total")
            } else {
                name.to_string()
            };
            sample(
                out,
                &sample_name,
                &series.labels,
                None,
                *value,
                ts,
                exemplar.as_ref(),
                format,
            );
            created(out, meta_name, series, format);
        }
        Value::Histogram {
            buckets,
            count,
            sum,
        } => {
            let bucket_name = format!("{name}_bucket");
            for bucket in buckets {
                if bucket.upper_bound == f64::INFINITY {
                    continue;
                }
                let le = ("le", float_text(bucket.upper_bound));
                let count = bucket.cumulative_count as f64;
                sample(
                    out,
                    &bucket_name,
                    &series.labels,
                    Some(le),
                    count,
                    ts,
                    bucket.exemplar.as_ref(),
                    format,
                );
            }
            let inf_exemplar = buckets
                .last()
                .filter(|b| b.upper_bound == f64::INFINITY)
                .and_then(|b| b.exemplar.as_ref());
            let le = ("le", "+Inf".to_string());
            sample(
                out,
                &bucket_name,
                &series.labels,
                Some(le),
                *count as f64,
                ts,
                inf_exemplar,
                format,
            );
            if let Some(sum) = sum {
                sample(
                    out,
                    &format!("{name}_sum"),
                    &series.labels,
                    None,
                    *sum,
                    ts,
                    None,
                    format,
                );
            }
            sample(
                out,
                &format!("{name}_count"),
                &series.labels,
                None,
                *count as f64,
                ts,
                None,
                format,
            );
            created(out, name, series, format);
        }
        Value::Summary {
            quantiles,
            count,
            sum,
        } => {
            for (quantile, value) in quantiles {
                let q = ("quantile", float_text(*quantile));
                sample(out, name, &series.labels, Some(q), *value, ts, None, format);
            }
            sample(
                out,
                &format!("{name}_sum"),
                &series.labels,
                None,
                *sum,
                ts,
                None,
                format,
            );
            sample(
                out,
                &format!("{name}_count"),
                &series.labels,
                None,
                *count as f64,
                ts,
                None,
                format,
            );
            created(out, name, series, format);
        }
    }
}

/// The OpenMetrics `_created` sample of a series with a start time.
fn created(out: &mut String, name: &str, series: &Series, format: Format) {
    if let (Format::OpenMetrics, Some(created_ms)) = (format, series.created_ms) {
        let value = created_ms as f64 / 1000.0;
        let name = format!("{name}_created");
        sample(
            out,
            &name,
            &series.labels,
            None,
            value,
            series.timestamp_ms,
            None,
            format,
        );
    }
}

#[allow(clippy::too_many_arguments)] // one line's parts; a struct would only rename them
fn sample(
    out: &mut String,
    name: &str,
    labels: &Labels,
    extra: Option<(&str, String)>,
    value: f64,
    timestamp_ms: Option<i64>,
    exemplar: Option<&Exemplar>,
    format: Format,
) {
    out.push_str(name);
    write_labels(
        out,
        labels.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        extra.as_ref().map(|(k, v)| (*k, v.as_str())),
    );
    out.push(' ');
    out.push_str(&float_text(value));
    if let Some(ts) = timestamp_ms {
        out.push(' ');
        out.push_str(&timestamp_text(ts, format));
    }
    if let (Format::OpenMetrics, Some(exemplar)) = (format, exemplar) {
        let label_chars: usize = exemplar
            .labels
            .iter()
            .map(|(k, v)| k.chars().count() + v.chars().count())
            .sum();
        if label_chars <= 128 {
            out.push_str(" # ");
            let mut set = String::new();
            write_labels(
                &mut set,
                exemplar
                    .labels
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
                None,
            );
            out.push_str(if set.is_empty() { "{}" } else { &set });
            out.push(' ');
            out.push_str(&float_text(exemplar.value));
            if let Some(ts) = exemplar.timestamp_ms {
                out.push(' ');
                out.push_str(&timestamp_text(ts, Format::OpenMetrics));
            }
        }
    }
    out.push('\n');
}

fn write_labels<'a>(
    out: &mut String,
    labels: impl Iterator<Item = (&'a str, &'a str)>,
    extra: Option<(&'a str, &'a str)>,
) {
    let mut first = true;
    for (name, value) in labels.chain(extra) {
        out.push(if first { '{' } else { ',' });
        first = false;
        out.push_str(name);
        out.push_str("=\"");
        escape_label_value(out, value);
        out.push('"');
    }
    if !first {
        out.push('}');
    }
}

/// Label values escape `\`, `"` and newline in both formats.
fn escape_label_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// `# HELP` escapes `\` and newline; OpenMetrics escapes `"` too.
fn escape_help(help: &str, open_metrics: bool) -> String {
    let mut out = String::with_capacity(help.len());
    for c in help.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if open_metrics => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

/// Milliseconds in text, seconds (with up to three decimals) in OpenMetrics.
fn timestamp_text(ms: i64, format: Format) -> String {
    match format {
        Format::Text => ms.to_string(),
        Format::OpenMetrics => {
            let (secs, millis) = (ms.div_euclid(1000), ms.rem_euclid(1000));
            if millis == 0 {
                secs.to_string()
            } else {
                format!("{secs}.{millis:03}")
            }
        }
    }
}

/// A float as Go's `expfmt` writes it: `NaN`, `+Inf`, `-Inf`, else
/// `strconv.FormatFloat(f, 'g', -1, 64)`: the shortest digits that read back exactly, in
/// exponent form when the decimal exponent is below -4 or at least 6 (`1e+06`,
/// `2.5e-05`, `123456`).
pub fn float_text(value: f64) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if value == 0.0 {
        return if value.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // Rust's `{:e}` gives the same shortest round-tripping digits as Go's.
    let sci = format!("{value:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        return go_exponent(mantissa, exp);
    }
    value.to_string()
}

/// `d.ddde±XX` as Go writes exponents: a sign and at least two digits.
fn go_exponent(mantissa: &str, exp: i32) -> String {
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

#[cfg(test)]
mod tests;
