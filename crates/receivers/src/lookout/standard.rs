//! The Lookout "standard" protocol: measurements as JSON objects joined by TAB, each
//! `{"time":..,"tags":{..},"<name>":<number>|{"<sub>":<number>,..}}`.

use std::fmt;

use serde_json::{Map, Value};

use super::point::{Point, PointValue, sanitize_key, sanitize_name};

/// Why a standard-protocol body was refused, with the (1-based) measurement at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StandardError {
    /// The measurement at fault, counting from 1.
    pub measurement: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for StandardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "measurement {}: {}", self.measurement, self.message)
    }
}

impl std::error::Error for StandardError {}

/// Reads a standard-protocol body (already decompressed) into points; a measurement
/// without `time` gets `now_ms`. Measurements are separated by TAB (the SDK) or newline
/// (hand-written bodies); neither can occur unescaped inside JSON.
///
/// ```
/// use tributary_receivers::lookout::{PointValue, parse_standard};
///
/// let body = r#"{"time":1700000000000,"tags":{"app":"demo","_type_":"c"},"http.requests":{"count":12,"rate":0.2}}"#;
/// let points = parse_standard(body.as_bytes(), 0).unwrap();
/// assert_eq!(points[0].name, "http.requests.count");
/// assert_eq!(points[0].value, PointValue::Delta(12.0));
/// assert_eq!(points[1].value, PointValue::Gauge(0.2));
/// ```
pub fn parse_standard(body: &[u8], now_ms: i64) -> Result<Vec<Point>, StandardError> {
    let mut points = Vec::new();
    let segments = body
        .split(|b| matches!(b, b'\t' | b'\n' | b'\r'))
        .filter(|s| !s.iter().all(u8::is_ascii_whitespace));
    for (index, segment) in segments.enumerate() {
        let error = |message: String| StandardError {
            measurement: index + 1,
            message,
        };
        let object: Map<String, Value> = serde_json::from_slice(segment)
            .map_err(|e| error(format!("not a JSON object: {e}")))?;
        measurement(object, now_ms, &mut points).map_err(error)?;
    }
    Ok(points)
}

/// The `_type_` tag's letter.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Info,
    Counter,
    Timer,
    Other,
}

fn measurement(
    object: Map<String, Value>,
    now_ms: i64,
    out: &mut Vec<Point>,
) -> Result<(), String> {
    let time_ms = match object.get("time") {
        None | Some(Value::Null) => now_ms,
        Some(time) => parse_time(time).ok_or_else(|| format!("bad time {time}"))?,
    };
    let mut kind = Kind::Other;
    let mut tags = Vec::new();
    match object.get("tags") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (key, value) in map {
                let text = match value {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => return Err(format!("tag {key:?} is not a scalar")),
                };
                match key.as_str() {
                    "_type_" => {
                        kind = match text.as_str() {
                            "i" => Kind::Info,
                            "c" => Kind::Counter,
                            "t" => Kind::Timer,
                            _ => Kind::Other,
                        }
                    }
                    "priority" => {}
                    _ => {
                        let key = sanitize_key(key);
                        if !tags.iter().any(|(k, _): &(String, String)| *k == key) {
                            tags.push((key, text));
                        }
                    }
                }
            }
        }
        Some(other) => return Err(format!("tags is not an object: {other}")),
    }
    for (key, value) in object {
        if key == "time" || key == "tags" {
            continue;
        }
        match value {
            Value::Object(entries) => {
                for (sub, value) in entries {
                    if let Some(value) = point_value(kind, &sub, &value) {
                        out.push(Point {
                            name: sanitize_name(&format!("{key}.{sub}")),
                            tags: tags.clone(),
                            time_ms,
                            value,
                        });
                    }
                }
            }
            value => {
                if let Some(value) = point_value(kind, "", &value) {
                    out.push(Point {
                        name: sanitize_name(&key),
                        tags: tags.clone(),
                        time_ms,
                        value,
                    });
                }
            }
        }
    }
    Ok(())
}

/// The value of an entry, by the measurement's `_type_` and the entry's sub-name: a
/// counter's `count` and a timer's `count` and `totalTime` are what one step counted.
/// Strings are values only of info measurements; other non-numbers are left out.
fn point_value(kind: Kind, sub: &str, value: &Value) -> Option<PointValue> {
    match value {
        Value::Number(n) => {
            let v = n.as_f64()?;
            let delta = match kind {
                Kind::Counter => sub == "count",
                Kind::Timer => sub == "count" || sub == "totalTime",
                _ => false,
            };
            Some(if delta {
                PointValue::Delta(v)
            } else {
                PointValue::Gauge(v)
            })
        }
        Value::String(s) if kind == Kind::Info => Some(PointValue::Info(s.clone())),
        Value::Bool(b) if kind == Kind::Info => Some(PointValue::Info(b.to_string())),
        _ => None,
    }
}

/// `time`: epoch milliseconds (a number or a numeric string) or ISO-8601 with an offset.
pub(crate) fn parse_time(time: &Value) -> Option<i64> {
    match time {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<i64>().ok().or_else(|| {
            chrono::DateTime::parse_from_rfc3339(s.trim())
                .ok()
                .map(|t| t.timestamp_millis())
        }),
        _ => None,
    }
}
