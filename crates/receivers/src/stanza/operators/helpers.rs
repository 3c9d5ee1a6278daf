//! The steps parsers embed and the `time_parser`, `severity_parser`, `trace_parser` and
//! `scope_name_parser` operators run alone: Go's `helper.TimeParser`, `SeverityParser`,
//! `TraceParser` and `ScopeNameParser`.

use std::collections::HashMap;

use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use super::super::config::{SeverityConfig, TimeConfig, TraceConfig};
use super::super::entry::Entry;
use super::super::field::Field;
use super::super::value::Value;

/// The severity names by number (0 default .. 24 fatal4), as Go's `Severity.String()`.
pub(crate) const SEVERITY_NAMES: [&str; 25] = [
    "DEFAULT", "TRACE", "TRACE2", "TRACE3", "TRACE4", "DEBUG", "DEBUG2", "DEBUG3", "DEBUG4",
    "INFO", "INFO2", "INFO3", "INFO4", "WARN", "WARN2", "WARN3", "WARN4", "ERROR", "ERROR2",
    "ERROR3", "ERROR4", "FATAL", "FATAL2", "FATAL3", "FATAL4",
];

fn missing(field: &Field) -> String {
    format!("log entry does not have the expected parse_from field `{field}`")
}

/// How a time is read.
enum Layout {
    /// A `jiff` strftime format (strptime and Go layouts are converted to it).
    Format(String),
    /// Seconds, milliseconds, microseconds or nanoseconds since the epoch.
    Epoch { unit: i64, fractional: bool },
}

/// Sets the entry's timestamp from a field.
pub(crate) struct TimeParser {
    parse_from: Field,
    layout: Layout,
    zone: TimeZone,
}

impl TimeParser {
    /// Builds from a `timestamp:` block or `time_parser`'s keys (`parse_from` defaults to
    /// `body`).
    pub(crate) fn new(config: &TimeConfig) -> Result<TimeParser, String> {
        let layout_text = config
            .layout
            .as_deref()
            .ok_or("missing required key `layout`")?;
        let layout = match config.layout_type.as_deref().unwrap_or("strptime") {
            "strptime" => Layout::Format(strptime_to_jiff(layout_text)?),
            "gotime" => Layout::Format(gotime_to_jiff(layout_text)),
            "epoch" => {
                let (unit, fractional) = match layout_text {
                    "s" => (1_000_000_000, false),
                    "ms" => (1_000_000, false),
                    "us" => (1_000, false),
                    "ns" => (1, false),
                    "s.ms" | "s.us" | "s.ns" => (1_000_000_000, true),
                    other => {
                        return Err(format!(
                            "invalid epoch layout `{other}`; use s, ms, us, ns, s.ms, s.us or s.ns"
                        ));
                    }
                };
                Layout::Epoch { unit, fractional }
            }
            other => {
                return Err(format!(
                    "invalid layout_type `{other}`; use strptime, gotime or epoch"
                ));
            }
        };
        let zone = match config.location.as_deref() {
            // Go's default is the machine's zone.
            None | Some("Local") => TimeZone::try_system().unwrap_or(TimeZone::UTC),
            Some("" | "UTC") => TimeZone::UTC,
            Some(name) => TimeZone::get(name).map_err(|e| format!("location `{name}`: {e}"))?,
        };
        Ok(TimeParser {
            parse_from: config.parse_from.clone().unwrap_or_else(Field::body),
            layout,
            zone,
        })
    }

    /// Reads the field and sets `entry.timestamp`.
    pub(crate) fn apply(&self, entry: &mut Entry) -> Result<(), String> {
        let value = self
            .parse_from
            .get(entry)
            .ok_or_else(|| missing(&self.parse_from))?;
        entry.timestamp = self.parse(value)?;
        Ok(())
    }

    /// The time `value` holds, in Unix nanoseconds.
    pub(crate) fn parse(&self, value: &Value) -> Result<i64, String> {
        match &self.layout {
            Layout::Epoch { unit, fractional } => epoch(value, *unit, *fractional),
            Layout::Format(format) => {
                let text = match value {
                    Value::String(s) => s.as_str(),
                    other => {
                        return Err(format!(
                            "type {} cannot be parsed as a time",
                            type_name(other)
                        ));
                    }
                };
                parse_formatted(format, text, &self.zone)
            }
        }
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "nil",
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Double(_) => "float64",
        Value::Bytes(_) => "[]byte",
        Value::Array(_) => "[]any",
        Value::Map(_) => "map[string]any",
    }
}

fn epoch(value: &Value, unit: i64, fractional: bool) -> Result<i64, String> {
    let invalid = || format!("invalid value `{value}` for an epoch time");
    let number = match value {
        Value::Int(i) => return i.checked_mul(unit).ok_or_else(invalid),
        Value::Double(d) => *d,
        Value::String(s) if !fractional => {
            return s
                .trim()
                .parse::<i64>()
                .ok()
                .and_then(|i| i.checked_mul(unit))
                .ok_or_else(invalid);
        }
        Value::String(s) => {
            // Whole and fractional seconds apart, so nanoseconds are not lost to f64.
            let (whole, fraction) = s.trim().split_once('.').unwrap_or((s.trim(), ""));
            let seconds: i64 = whole.parse().map_err(|_| invalid())?;
            let digits: String = fraction.chars().take(9).collect();
            if !digits.chars().all(|c| c.is_ascii_digit()) {
                return Err(invalid());
            }
            let nanos: i64 = if digits.is_empty() {
                0
            } else {
                format!("{digits:0<9}").parse().map_err(|_| invalid())?
            };
            return seconds
                .checked_mul(1_000_000_000)
                .and_then(|s| s.checked_add(if seconds < 0 { -nanos } else { nanos }))
                .ok_or_else(invalid);
        }
        _ => return Err(invalid()),
    };
    let nanos = number * unit as f64;
    if !nanos.is_finite() || nanos.abs() > i64::MAX as f64 {
        return Err(invalid());
    }
    Ok(nanos as i64)
}

fn parse_formatted(format: &str, text: &str, zone: &TimeZone) -> Result<i64, String> {
    let parsed = jiff::fmt::strtime::parse(format, text).or_else(|first| {
        // Go's `Z07:00` accepts `Z` for UTC.
        match text.strip_suffix('Z') {
            Some(rest) => jiff::fmt::strtime::parse(format, format!("{rest}+00:00")),
            None => Err(first),
        }
    });
    let mut parsed = parsed.map_err(|e| format!("parsing `{text}` as `{format}`: {e}"))?;
    if parsed.offset().is_some() {
        if parsed.year().is_none() {
            parsed
                .set_year(Some(jiff::Zoned::now().year()))
                .map_err(|e| e.to_string())?;
        }
        let timestamp = parsed.to_timestamp().map_err(|e| e.to_string())?;
        return i64::try_from(timestamp.as_nanosecond()).map_err(|e| e.to_string());
    }
    if parsed.year().is_none() {
        // As Go's stanza: a layout without a year means this year.
        let year = jiff::Timestamp::now().to_zoned(zone.clone()).year();
        parsed.set_year(Some(year)).map_err(|e| e.to_string())?;
    }
    let datetime: DateTime = parsed.to_datetime().map_err(|e| format!("`{text}`: {e}"))?;
    let zoned = datetime
        .to_zoned(zone.clone())
        .map_err(|e| format!("`{text}`: {e}"))?;
    i64::try_from(zoned.timestamp().as_nanosecond()).map_err(|e| e.to_string())
}

/// Converts stanza's strptime directives to jiff's (mostly the same; `%L` is
/// milliseconds, `%f` fractional seconds).
fn strptime_to_jiff(layout: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = layout.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(directive) = chars.next() else {
            return Err("layout ends with a lone `%`".into());
        };
        match directive {
            // jiff parses a zone name or offset with %Q; it cannot parse abbreviations.
            'Z' => out.push_str("%Q"),
            'Y' | 'm' | 'd' | 'H' | 'M' | 'S' | 'y' | 'b' | 'B' | 'a' | 'A' | 'p' | 'z' | 'j'
            | 'e' | 'I' | 'h' | 'f' | 'T' | 'D' | 'F' | '%' => {
                out.push('%');
                out.push(directive);
            }
            // Go's parser reads more digits than the layout's three; so does %f.
            'L' => out.push_str("%f"),
            's' => out.push_str("%s"),
            'c' => out.push_str("%a %b %e %H:%M:%S %Y"),
            'x' => out.push_str("%m/%d/%y"),
            'X' => out.push_str("%H:%M:%S"),
            'r' => out.push_str("%I:%M:%S %p"),
            'R' => out.push_str("%H:%M"),
            'k' => out.push_str("%H"),
            'l' => out.push_str("%I"),
            other => return Err(format!("unsupported strptime directive `%{other}`")),
        }
    }
    Ok(out)
}

/// Converts a Go reference-time layout (`2006-01-02T15:04:05Z07:00`) to a jiff format.
fn gotime_to_jiff(layout: &str) -> String {
    const TOKENS: [(&str, &str); 29] = [
        ("January", "%B"),
        ("Monday", "%A"),
        ("Z07:00", "%:z"),
        ("Z0700", "%z"),
        ("-07:00", "%:z"),
        ("-0700", "%z"),
        ("2006", "%Y"),
        ("Jan", "%b"),
        ("Mon", "%a"),
        ("MST", "%Q"),
        ("-07", "%z"),
        ("Z07", "%z"),
        ("002", "%j"),
        ("01", "%m"),
        ("02", "%d"),
        ("_2", "%e"),
        ("15", "%H"),
        ("03", "%I"),
        ("04", "%M"),
        ("05", "%S"),
        ("06", "%y"),
        ("PM", "%p"),
        ("pm", "%P"),
        ("1", "%m"),
        ("2", "%d"),
        ("3", "%I"),
        ("4", "%M"),
        ("5", "%S"),
        ("%", "%%"),
    ];
    let mut out = String::new();
    let mut rest = layout;
    'outer: while !rest.is_empty() {
        // Fractional seconds: `.000`, `.999999`, `,000`.
        if let Some(after) = rest.strip_prefix('.').or_else(|| rest.strip_prefix(',')) {
            let digits = after.len() - after.trim_start_matches(['0', '9']).len();
            if digits > 0 {
                out.push_str("%.f");
                rest = &after[digits..];
                continue;
            }
        }
        for (token, directive) in TOKENS {
            if rest.starts_with(token) {
                out.push_str(directive);
                rest = &rest[token.len()..];
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Sets the entry's severity from a field.
pub(crate) struct SeverityParser {
    parse_from: Field,
    mapping: HashMap<String, i32>,
    overwrite_text: bool,
}

/// The severity number of a level name (`info`, `warn3`) or number (`9`), as Go's
/// `validateSeverity` reads mapping keys.
fn severity_number(name: &str) -> Option<i32> {
    if let Ok(number) = name.parse::<i32>() {
        return (1..=24).contains(&number).then_some(number);
    }
    SEVERITY_NAMES
        .iter()
        .skip(1)
        .position(|n| n.eq_ignore_ascii_case(name))
        .and_then(|p| i32::try_from(p + 1).ok())
}

impl SeverityParser {
    /// Builds from a `severity:` block or `severity_parser`'s keys (`parse_from` defaults
    /// to `body`).
    pub(crate) fn new(config: &SeverityConfig) -> Result<SeverityParser, String> {
        let mut mapping = HashMap::new();
        let preset = config.preset.as_deref().unwrap_or("default");
        match preset {
            "none" => {}
            "default" | "otel" | "aliases" => {
                // Every level by name and by number, as Go's `otel` preset.
                for (number, name) in SEVERITY_NAMES.iter().enumerate().skip(1) {
                    mapping.insert(name.to_ascii_lowercase(), number as i32);
                    mapping.insert(number.to_string(), number as i32);
                }
                if preset == "default" {
                    for (alias, number) in [
                        ("warning", 13),
                        ("warning2", 14),
                        ("warning3", 15),
                        ("warning4", 16),
                        ("err", 17),
                        ("err2", 18),
                        ("err3", 19),
                        ("err4", 20),
                    ] {
                        mapping.insert(alias.to_string(), number);
                    }
                }
            }
            other => {
                return Err(format!(
                    "unknown preset `{other}`; use default, otel or none"
                ));
            }
        }
        for (name, values) in config.mapping.iter().flatten() {
            let number = severity_number(name).ok_or_else(|| {
                format!("mapping: `{name}` is not a severity (trace, debug2, info, warn, error, fatal4, ...)")
            })?;
            let values = match values {
                Value::Array(items) => items.clone(),
                other => vec![other.clone()],
            };
            for value in values {
                for key in mapping_keys(&value).map_err(|e| format!("mapping.{name}: {e}"))? {
                    mapping.insert(key, number);
                }
            }
        }
        Ok(SeverityParser {
            parse_from: config.parse_from.clone().unwrap_or_else(Field::body),
            mapping,
            overwrite_text: config.overwrite_text.unwrap_or(false),
        })
    }

    /// Reads the field and sets the entry's severity and text.
    pub(crate) fn apply(&self, entry: &mut Entry) -> Result<(), String> {
        let value = self
            .parse_from
            .get(entry)
            .ok_or_else(|| missing(&self.parse_from))?;
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            Value::Int(i) => i.to_string(),
            Value::Double(d) if d.fract() == 0.0 => format!("{}", *d as i64),
            other => return Err(format!("type {} cannot be a severity", type_name(other))),
        };
        let number = self.mapping.get(&text.to_lowercase()).copied().unwrap_or(0);
        entry.severity = number;
        entry.severity_text = if self.overwrite_text {
            SEVERITY_NAMES[number as usize].to_string()
        } else {
            text
        };
        Ok(())
    }
}

/// The lookup keys one mapping value stands for: a string or number, a `{min, max}`
/// range of numbers, or `2xx`..`5xx` (HTTP status classes).
fn mapping_keys(value: &Value) -> Result<Vec<String>, String> {
    const MAX_RANGE: i64 = 100_000;
    let range = |min: i64, max: i64| -> Result<Vec<String>, String> {
        // As Go, a reversed range is swapped.
        let (min, max) = (min.min(max), min.max(max));
        if max - min > MAX_RANGE {
            return Err(format!("range {min}..{max} is too large"));
        }
        Ok((min..=max).map(|i| i.to_string()).collect())
    };
    match value {
        Value::String(s) => match s.as_str() {
            "2xx" => range(200, 299),
            "3xx" => range(300, 399),
            "4xx" => range(400, 499),
            "5xx" => range(500, 599),
            s => Ok(vec![s.to_lowercase()]),
        },
        Value::Int(i) => Ok(vec![i.to_string()]),
        Value::Map(m) => {
            let bound = |key: &str| match m.get(key) {
                Some(Value::Int(i)) => Ok(*i),
                _ => Err(format!(
                    "a range needs integer `min` and `max`, got {value}"
                )),
            };
            range(bound("min")?, bound("max")?)
        }
        other => Err(format!("unsupported value {other}")),
    }
}

/// Sets the entry's trace id, span id and flags from fields.
pub(crate) struct TraceParser {
    trace_id: Field,
    span_id: Field,
    trace_flags: Field,
}

impl TraceParser {
    /// Builds from a `trace:` block or `trace_parser`'s keys.
    pub(crate) fn new(config: &TraceConfig) -> TraceParser {
        let pick = |block: &Option<super::super::config::ParseFrom>, default: &str| {
            block
                .as_ref()
                .and_then(|b| b.parse_from.clone())
                .unwrap_or_else(|| Field::attribute(default))
        };
        TraceParser {
            trace_id: pick(&config.trace_id, "trace_id"),
            span_id: pick(&config.span_id, "span_id"),
            trace_flags: pick(&config.trace_flags, "trace_flags"),
        }
    }

    /// Reads the fields that are present (absent ones are not an error, as in Go).
    pub(crate) fn apply(&self, entry: &mut Entry) -> Result<(), String> {
        let mut errors = Vec::new();
        let mut read = |field: &Field, len: usize, name: &str| -> Option<Vec<u8>> {
            let value = field.get(entry)?;
            let Value::String(text) = value else {
                errors.push(format!(
                    "{name}: type {} is not a hex string",
                    type_name(value)
                ));
                return None;
            };
            match decode_hex(text) {
                Some(bytes) if bytes.len() == len => Some(bytes),
                _ => {
                    errors.push(format!("{name}: `{text}` is not {len} bytes of hex"));
                    None
                }
            }
        };
        let trace_id = read(&self.trace_id, 16, "trace_id");
        let span_id = read(&self.span_id, 8, "span_id");
        let flags = read(&self.trace_flags, 1, "trace_flags");
        if let Some(id) = trace_id {
            entry.trace_id = id;
        }
        if let Some(id) = span_id {
            entry.span_id = id;
        }
        if let Some(flags) = flags {
            entry.trace_flags = flags[0];
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// Sets the entry's scope name from a field.
pub(crate) struct ScopeNameParser {
    parse_from: Field,
}

impl ScopeNameParser {
    pub(crate) fn new(parse_from: Field) -> ScopeNameParser {
        ScopeNameParser { parse_from }
    }

    pub(crate) fn apply(&self, entry: &mut Entry) -> Result<(), String> {
        match self.parse_from.get(entry) {
            Some(Value::String(name)) => {
                entry.scope_name = name.clone();
                Ok(())
            }
            Some(other) => Err(format!("type {} cannot be a scope name", type_name(other))),
            None => Err(missing(&self.parse_from)),
        }
    }
}
