//! Line protocol to points: InfluxData's parser (`influxdb-line-protocol`) for each line,
//! with the request's precision applied and each error named by its line.

use std::collections::BTreeMap;
use std::fmt;

use influxdb_line_protocol::{FieldValue, parse_lines, split_lines};
use tributary_pipeline_core::pdata::Metrics;

use super::convert::MetricsBatch;

/// The unit of a request's timestamps (`precision=`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Precision {
    /// `ns` (the default), `n`.
    #[default]
    Nanosecond,
    /// `us`, `u`, `µs`, `µ`.
    Microsecond,
    /// `ms`.
    Millisecond,
    /// `s`.
    Second,
    /// `m` (InfluxDB 1.x only).
    Minute,
    /// `h` (InfluxDB 1.x only).
    Hour,
}

impl Precision {
    /// The precision a `/write` (InfluxDB 1.x) request names: `n`, `ns`, `u`, `us`, `µ`,
    /// `µs`, `ms`, `s`, `m` or `h`.
    pub fn from_v1(name: &str) -> Option<Precision> {
        match name {
            "m" => Some(Precision::Minute),
            "h" => Some(Precision::Hour),
            other => Precision::from_v2(other),
        }
    }

    /// The precision an `/api/v2/write` request names: `ns`, `us`, `ms` or `s`, and the
    /// Go receiver's aliases `n`, `u`, `µ` and `µs`.
    pub fn from_v2(name: &str) -> Option<Precision> {
        match name {
            "ns" | "n" => Some(Precision::Nanosecond),
            "us" | "u" | "µs" | "µ" => Some(Precision::Microsecond),
            "ms" => Some(Precision::Millisecond),
            "s" => Some(Precision::Second),
            _ => None,
        }
    }

    /// Nanoseconds per unit.
    fn nanos(self) -> i64 {
        match self {
            Precision::Nanosecond => 1,
            Precision::Microsecond => 1_000,
            Precision::Millisecond => 1_000_000,
            Precision::Second => 1_000_000_000,
            Precision::Minute => 60_000_000_000,
            Precision::Hour => 3_600_000_000_000,
        }
    }
}

/// A field's value, as line protocol types it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Float(f64),
    Int(i64),
    UInt(u64),
    Str(String),
    Bool(bool),
}

/// Why a body is not line protocol the receiver can take: the line (from 1) and what is
/// wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    /// The line at fault, counted from 1.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for LineError {}

/// Decodes a line protocol body into metrics, the way the Go `influxdb` receiver does
/// (its Telegraf schema detection: see the [module docs](super)). Timestamps are in
/// `precision`; a line without one gets `now_unix_nano`. The first malformed line fails
/// the whole body, as InfluxDB and the Go receiver do; nothing is half-delivered.
///
/// ```
/// use tributary_receivers::influxdb::{Precision, parse_line_protocol};
///
/// let body = b"cpu_temp,host=a gauge=87.5 1700000000\n# a comment\nmem,host=a used=3i";
/// let metrics = parse_line_protocol(body, Precision::Second, 1).unwrap();
/// assert_eq!(metrics.item_count(), 2);
///
/// let error = parse_line_protocol(b"ok value=1\nbroken", Precision::Nanosecond, 1).unwrap_err();
/// assert_eq!(error.line, 2);
/// ```
pub fn parse_line_protocol(
    body: &[u8],
    precision: Precision,
    now_unix_nano: u64,
) -> Result<Metrics, LineError> {
    let text = std::str::from_utf8(body).map_err(|e| LineError {
        line: 1 + body[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count(),
        message: "not valid UTF-8".into(),
    })?;
    let mut batch = MetricsBatch::default();
    let mut number = 1;
    for line in split_lines(text) {
        let here = number;
        // A quoted string value may hold newlines: count them all.
        number += 1 + line.matches('\n').count();
        let at = |message: String| LineError {
            line: here,
            message,
        };
        let Some(parsed) = parse_lines(line).next() else {
            continue; // blank or a comment
        };
        let parsed = parsed.map_err(|e| at(e.to_string()))?;
        let time = match parsed.timestamp {
            None => now_unix_nano,
            Some(t) => t
                .checked_mul(precision.nanos())
                .and_then(|t| u64::try_from(t).ok())
                .ok_or_else(|| {
                    at(format!(
                        "timestamp {t} is out of range (before 1970 or after 2262)"
                    ))
                })?,
        };
        let tags: BTreeMap<String, String> = parsed
            .series
            .tag_set
            .iter()
            .flatten()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let fields: BTreeMap<String, Value> = parsed
            .field_set
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    FieldValue::F64(f) => Value::Float(*f),
                    FieldValue::I64(i) => Value::Int(*i),
                    FieldValue::U64(u) => Value::UInt(*u),
                    FieldValue::String(s) => Value::Str(s.to_string()),
                    FieldValue::Boolean(b) => Value::Bool(*b),
                };
                (k.to_string(), value)
            })
            .collect();
        batch
            .add_point(parsed.series.measurement.as_str(), &tags, &fields, time)
            .map_err(at)?;
    }
    Ok(batch.finish())
}
