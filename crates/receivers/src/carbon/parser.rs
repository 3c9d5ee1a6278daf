//! Graphite plaintext lines to OTLP metrics: the `plaintext` parser (tags as attributes)
//! and the `regex` parser (named groups as name parts and attributes), as the Go
//! receiver's `protocol` package parses them.

use std::fmt;

use regex::Regex;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::builder::{MetricsBuilder, Temporality};
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;

use super::config::RegexRule;

/// Named groups that make up the metric name.
const NAME_GROUP_PREFIX: &str = "name_";
/// Named groups that become attributes (the rest of the group's name is the key).
const KEY_GROUP_PREFIX: &str = "key_";

/// Turns Graphite plaintext lines (`<path> <value> <timestamp>`) into metrics, with the
/// `plaintext` parser or the `regex` parser's rules.
///
/// ```
/// use tributary_receivers::carbon::CarbonParser;
///
/// let parser = CarbonParser::plaintext();
/// let point = parser.parse_line("cpu.load;host=a;dc=eu 0.5 1700000000").unwrap();
/// assert_eq!(point.name, "cpu.load");
/// assert_eq!(point.attributes, [("host".to_string(), "a".to_string()), ("dc".into(), "eu".into())]);
/// assert_eq!(point.time_unix_nano, 1_700_000_000_000_000_000);
/// assert!(parser.parse_line("no value here").is_err());
/// ```
#[derive(Clone, Debug)]
pub struct CarbonParser {
    /// Empty for the plaintext parser.
    rules: Vec<CompiledRule>,
    name_separator: String,
}

#[derive(Clone, Debug)]
struct CompiledRule {
    regex: Regex,
    name_prefix: String,
    labels: Vec<(String, String)>,
    cumulative: bool,
    /// The `name_*` groups, sorted by name: the order their values join in the name.
    name_parts: Vec<String>,
}

/// Why the `regex` parser's rules were refused.
#[derive(Debug)]
pub(crate) enum RegexRuleError {
    NoRules,
    Rule {
        index: usize,
        key: &'static str,
        message: String,
    },
}

/// One parsed line: a single data point.
#[derive(Clone, Debug, PartialEq)]
pub struct CarbonPoint {
    /// The metric name.
    pub name: String,
    /// Attributes, in the order they appeared; a repeated key keeps its last value.
    pub attributes: Vec<(String, String)>,
    /// A monotonic cumulative sum (a `regex` rule of `type: cumulative`) rather than a gauge.
    pub cumulative: bool,
    /// The value: an integer when it parses as one, as Go's receiver decides.
    pub value: CarbonValue,
    /// The line's timestamp, in nanoseconds since the Unix epoch.
    pub time_unix_nano: u64,
}

/// A line's value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CarbonValue {
    /// Written as an integer.
    Int(i64),
    /// Anything else a float parses from (`1.5`, `1e3`, `NaN`, `inf`).
    Double(f64),
}

/// Why a line was not a Graphite plaintext line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError(String);

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LineError {}

impl CarbonParser {
    /// The `plaintext` parser: the path up to its first `;` is the name, `;key=value` tags
    /// after it are attributes.
    pub fn plaintext() -> Self {
        CarbonParser {
            rules: Vec::new(),
            name_separator: String::new(),
        }
    }

    /// The `regex` parser over `rules`, joining name parts with `name_separator`.
    pub(crate) fn regex(rules: &[RegexRule], name_separator: &str) -> Result<Self, RegexRuleError> {
        if rules.is_empty() {
            return Err(RegexRuleError::NoRules);
        }
        let compiled = rules
            .iter()
            .enumerate()
            .map(|(index, rule)| compile(index, rule))
            .collect::<Result<_, _>>()?;
        Ok(CarbonParser {
            rules: compiled,
            name_separator: name_separator.to_owned(),
        })
    }

    /// Parses one line (surrounding whitespace ignored).
    pub fn parse_line(&self, line: &str) -> Result<CarbonPoint, LineError> {
        let line = line.trim();
        // Exactly three fields separated by single spaces, as Go splits them.
        let mut fields = line.splitn(4, ' ');
        let (Some(path), Some(value), Some(timestamp), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(LineError(format!("invalid carbon metric [{line}]")));
        };
        let mut point = self.parse_path(path)?;
        let seconds: i64 = timestamp
            .parse()
            .map_err(|e| LineError(format!("invalid carbon metric time [{line}]: {e}")))?;
        point.time_unix_nano = u64::try_from(seconds)
            .ok()
            .and_then(|s| s.checked_mul(1_000_000_000))
            .ok_or_else(|| LineError(format!("carbon metric time out of range [{line}]")))?;
        point.value =
            match value.parse::<i64>() {
                Ok(int) => CarbonValue::Int(int),
                Err(_) => CarbonValue::Double(value.parse().map_err(|e| {
                    LineError(format!("invalid carbon metric value [{line}]: {e}"))
                })?),
            };
        Ok(point)
    }

    /// Parses every line of `text` into one batch; returns it and how many non-empty lines
    /// were malformed (skipped).
    pub fn parse(&self, text: &str) -> (Metrics, usize) {
        let mut builder = MetricsBuilder::new();
        let mut malformed = 0;
        for line in text.split('\n') {
            if line.trim().is_empty() {
                continue;
            }
            match self.parse_line(line) {
                Ok(point) => add_point(&mut builder, point),
                Err(error) => {
                    tracing::debug!(%error, "skipping a malformed carbon line");
                    malformed += 1;
                }
            }
        }
        (builder.build(), malformed)
    }

    /// The name, attributes and kind a path gives; value and time still unset.
    fn parse_path(&self, path: &str) -> Result<CarbonPoint, LineError> {
        for rule in &self.rules {
            if let Some(captures) = rule.regex.captures(path) {
                return Ok(rule.apply(path, &captures, &self.name_separator));
            }
        }
        parse_plaintext_path(path)
    }
}

/// Parses Graphite plaintext with the `plaintext` parser: one batch for every line of
/// `text`, and how many lines were malformed. The decoder the fuzz target
/// `carbon_plaintext` drives.
///
/// ```
/// let (metrics, malformed) =
///     tributary_receivers::carbon::parse_plaintext("a.b 1 1700000000\nbad\nc;k=v 2.5 1700000000\n");
/// assert_eq!((metrics.item_count(), malformed), (2, 1));
/// ```
pub fn parse_plaintext(text: &str) -> (Metrics, usize) {
    CarbonParser::plaintext().parse(text)
}

fn parse_plaintext_path(path: &str) -> Result<CarbonPoint, LineError> {
    let (name, tags) = match path.split_once(';') {
        Some((name, tags)) => (name, tags),
        None => (path, ""),
    };
    if name.is_empty() {
        return Err(LineError(format!(
            "empty metric name extracted from path [{path}]"
        )));
    }
    let mut attributes = Vec::new();
    if !tags.is_empty() {
        for tag in tags.split(';') {
            match tag.split_once('=') {
                Some((key, value)) if !key.is_empty() => put(&mut attributes, key, value),
                _ => {
                    return Err(LineError(format!(
                        "cannot parse metric path [{path}]: incorrect key value separator for [{tag}]"
                    )));
                }
            }
        }
    }
    Ok(CarbonPoint {
        name: name.to_owned(),
        attributes,
        cumulative: false,
        value: CarbonValue::Int(0),
        time_unix_nano: 0,
    })
}

/// Sets `key` to `value`, replacing an earlier value of the same key in place.
fn put(attributes: &mut Vec<(String, String)>, key: &str, value: &str) {
    match attributes.iter_mut().find(|(k, _)| k == key) {
        Some((_, old)) => value.clone_into(old),
        None => attributes.push((key.to_owned(), value.to_owned())),
    }
}

fn compile(index: usize, rule: &RegexRule) -> Result<CompiledRule, RegexRuleError> {
    let error = |key, message: String| RegexRuleError::Rule {
        index,
        key,
        message,
    };
    let regex = Regex::new(&rule.regexp)
        .map_err(|e| error("regexp", format!("error compiling the expression: {e}")))?;
    let cumulative = match rule.metric_type.as_str() {
        "" | "gauge" => false,
        "cumulative" => true,
        other => {
            return Err(error(
                "type",
                format!("unknown metric type {other:?}: use \"gauge\" or \"cumulative\""),
            ));
        }
    };
    let mut name_parts = Vec::new();
    for name in regex.capture_names().flatten() {
        if name.starts_with(NAME_GROUP_PREFIX) {
            name_parts.push(name.to_owned());
        } else if !name.starts_with(KEY_GROUP_PREFIX) {
            return Err(error(
                "regexp",
                format!("capture {name:?} has an unknown prefix: use \"key_\" or \"name_\""),
            ));
        }
    }
    name_parts.sort();
    Ok(CompiledRule {
        regex,
        name_prefix: rule.name_prefix.clone(),
        labels: rule
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        cumulative,
        name_parts,
    })
}

impl CompiledRule {
    fn apply(&self, path: &str, captures: &regex::Captures<'_>, separator: &str) -> CarbonPoint {
        let mut attributes = Vec::new();
        for name in self.regex.capture_names().flatten() {
            if let Some(key) = name.strip_prefix(KEY_GROUP_PREFIX) {
                match captures.name(name) {
                    Some(value) if !value.as_str().is_empty() => {
                        put(&mut attributes, key, value.as_str())
                    }
                    _ => {}
                }
            }
        }
        for (key, value) in &self.labels {
            put(&mut attributes, key, value);
        }
        let mut name = self.name_prefix.clone();
        for part in &self.name_parts {
            name.push_str(separator);
            name.push_str(captures.name(part).map_or("", |m| m.as_str()));
        }
        if name.is_empty() {
            path.clone_into(&mut name);
        }
        CarbonPoint {
            name,
            attributes,
            cumulative: self.cumulative,
            value: CarbonValue::Int(0),
            time_unix_nano: 0,
        }
    }
}

fn add_point(builder: &mut MetricsBuilder, point: CarbonPoint) {
    let attributes: Vec<KeyValue> = point
        .attributes
        .into_iter()
        .map(|(k, v)| key_value(k, v))
        .collect();
    let time = point.time_unix_nano;
    if point.cumulative {
        let mut sum = builder.sum(&point.name, "", Temporality::Cumulative, true);
        match point.value {
            CarbonValue::Int(v) => sum.int(attributes, 0, time, v),
            CarbonValue::Double(v) => sum.double(attributes, 0, time, v),
        };
    } else {
        let mut gauge = builder.gauge(&point.name, "");
        match point.value {
            CarbonValue::Int(v) => gauge.int(attributes, time, v),
            CarbonValue::Double(v) => gauge.double(attributes, time, v),
        };
    }
}
