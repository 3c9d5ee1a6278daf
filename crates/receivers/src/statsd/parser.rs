//! The StatsD / DogStatsD line parser: `<name>:<value>[:<value>...]|<type>[|@<rate>][|#<tags>][|c:<container>][|T<unix seconds>]`.

use std::fmt;

use tributary_pipeline_core::receiverhelper::MAX_LINE;

/// A StatsD metric type, from the line's `|<type>` section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MetricType {
    /// `c`: a counter, summed over the interval.
    Counter,
    /// `g`: a gauge, the last value (a signed value changes it).
    Gauge,
    /// `ms`: a timer.
    Timing,
    /// `h`: a histogram.
    Histogram,
    /// `d`: a DogStatsD distribution.
    Distribution,
    /// `s`: a set, whose distinct members are counted.
    Set,
}

impl MetricType {
    fn from_code(code: &str) -> Option<MetricType> {
        Some(match code {
            "c" => MetricType::Counter,
            "g" => MetricType::Gauge,
            "ms" => MetricType::Timing,
            "h" => MetricType::Histogram,
            "d" => MetricType::Distribution,
            "s" => MetricType::Set,
            _ => return None,
        })
    }

    /// The name Go's `enable_metric_type` attribute gives it (`counter`, `gauge`,
    /// `timing`, `histogram`, `distribution`; `set` for sets).
    pub fn full_name(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Timing => "timing",
            MetricType::Histogram => "histogram",
            MetricType::Distribution => "distribution",
            MetricType::Set => "set",
        }
    }
}

/// One value of a line (DogStatsD packs several: `name:1:2:3|h`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number {
    /// The value, always finite.
    pub value: f64,
    /// Whether it was written with a sign (`+3`, `-2`): a relative change for gauges.
    pub signed: bool,
}

/// A line's values: numbers, or the members of a set.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// Counters, gauges, timers, histograms and distributions.
    Numbers(Vec<Number>),
    /// A set's members, as sent.
    Members(Vec<String>),
}

/// One parsed line.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The metric name (the bucket).
    pub name: String,
    /// Its type.
    pub metric_type: MetricType,
    /// Its values.
    pub values: Values,
    /// `@<rate>` when it is in (0, 1): each value stands for `1 / rate` values.
    pub sample_rate: Option<f64>,
    /// Tags (`#k:v,k2`), the container ID (`container.id`) and, with
    /// `enable_metric_type`, `metric_type`: sorted by key, the last of a key kept.
    pub attributes: Vec<(String, String)>,
    /// `T<unix seconds>` (counters and gauges only), in nanoseconds.
    pub timestamp_unix_nano: Option<u64>,
}

/// Why a line was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

fn error(message: impl Into<String>) -> ParseError {
    ParseError(message.into())
}

/// What changes how lines parse (the receiver's `enable_metric_type` and
/// `enable_simple_tags`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ParseOptions {
    /// Add a `metric_type` attribute to every line.
    pub enable_metric_type: bool,
    /// Accept tags without a value (`#mykey`, with an empty value).
    pub enable_simple_tags: bool,
}

/// Parses a datagram (or a chunk of TCP lines): one result per non-blank line, in order.
/// A malformed line is an error of its own and never affects its neighbours; bytes that
/// are not UTF-8 are read lossily. The output holds at most one entry per line of the
/// input and no more values than the input has bytes.
///
/// ```
/// use tributary_receivers::statsd::{MetricType, ParseOptions, parse_packet};
///
/// let lines = parse_packet(b"hits:1|c|@0.5|#route:/a\nbad line\nload:+2|g", &ParseOptions::default());
/// assert_eq!(lines.len(), 3);
/// let hits = lines[0].as_ref().unwrap();
/// assert_eq!((hits.metric_type, hits.sample_rate), (MetricType::Counter, Some(0.5)));
/// assert_eq!(hits.attributes, [("route".to_string(), "/a".to_string())]);
/// assert!(lines[1].is_err());
/// assert!(lines[2].is_ok());
/// ```
pub fn parse_packet(packet: &[u8], options: &ParseOptions) -> Vec<Result<Line, ParseError>> {
    packet
        .split(|b| *b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .map(|line| parse_line(&String::from_utf8_lossy(line), options))
        .collect()
}

/// Parses one line (without its newline).
pub fn parse_line(line: &str, options: &ParseOptions) -> Result<Line, ParseError> {
    if line.len() > MAX_LINE {
        return Err(error(format!("line longer than {MAX_LINE} bytes")));
    }
    if line.starts_with("_e{") || line.starts_with("_sc|") {
        return Err(error(
            "DogStatsD events and service checks are not metrics: not supported",
        ));
    }
    let (name_value, rest) = line
        .split_once('|')
        .ok_or_else(|| error(format!("invalid message format: {line:?}")))?;
    let (name, value_text) = name_value
        .split_once(':')
        .ok_or_else(|| error(format!("invalid <name>:<value> format: {name_value:?}")))?;
    if name.is_empty() {
        return Err(error("empty metric name"));
    }
    if value_text.is_empty() {
        return Err(error("empty metric value"));
    }
    let mut sections = rest.split('|');
    let code = sections.next().unwrap_or_default();
    let metric_type = MetricType::from_code(code)
        .ok_or_else(|| error(format!("unsupported metric type: {code:?}")))?;

    let mut attributes = Vec::new();
    let mut sample_rate = None;
    let mut timestamp_unix_nano = None;
    for section in sections {
        if let Some(rate) = section.strip_prefix('@') {
            let rate: f64 = rate
                .parse()
                .map_err(|_| error(format!("parse sample rate: {rate:?}")))?;
            // As Go: only a rate in (0, 1) scales; others (1, 0, negative) are ignored.
            sample_rate = (rate > 0.0 && rate < 1.0).then_some(rate);
        } else if let Some(tags) = section.strip_prefix('#') {
            // Some clients send an empty tag section.
            for tag in tags.split(',').filter(|tag| !tag.is_empty()) {
                let (key, value) = tag.split_once(':').unwrap_or((tag, ""));
                if key.is_empty() || (value.is_empty() && !options.enable_simple_tags) {
                    return Err(error(format!("invalid tag format: {tag:?}")));
                }
                attributes.push((key.to_string(), value.to_string()));
            }
        } else if let Some(container) = section.strip_prefix("c:") {
            if !container.is_empty() {
                attributes.push(("container.id".to_string(), container.to_string()));
            }
        } else if let Some(seconds) = section.strip_prefix('T') {
            if !matches!(metric_type, MetricType::Counter | MetricType::Gauge) {
                return Err(error("only gauge and counter metrics support a timestamp"));
            }
            let nanos = seconds
                .parse::<u64>()
                .ok()
                .and_then(|s| s.checked_mul(1_000_000_000))
                .ok_or_else(|| error(format!("invalid timestamp: {seconds:?}")))?;
            timestamp_unix_nano = Some(nanos);
        }
        // Other sections are later DogStatsD extensions (`|e:`, `|card:`): ignored, as
        // the protocol asks, so a newer client's lines still count.
    }
    if options.enable_metric_type {
        attributes.push(("metric_type".to_string(), metric_type.full_name().into()));
    }
    // One value per key, the last sent winning (Go's attribute.NewSet).
    attributes.reverse();
    attributes.sort_by(|a, b| a.0.cmp(&b.0));
    attributes.dedup_by(|a, b| a.0 == b.0);

    let values = if metric_type == MetricType::Set {
        Values::Members(vec![value_text.to_string()])
    } else {
        Values::Numbers(
            value_text
                .split(':')
                .map(parse_number)
                .collect::<Result<_, _>>()?,
        )
    };
    Ok(Line {
        name: name.to_string(),
        metric_type,
        values,
        sample_rate,
        attributes,
        timestamp_unix_nano,
    })
}

fn parse_number(text: &str) -> Result<Number, ParseError> {
    let value: f64 = text
        .parse()
        .map_err(|_| error(format!("parse metric value string: {text:?}")))?;
    if !value.is_finite() {
        // NaN and infinities would poison every sum they join (Go discards them too).
        return Err(error(format!("invalid value {text:?}: not finite")));
    }
    Ok(Number {
        value,
        signed: text.starts_with(['+', '-']),
    })
}
