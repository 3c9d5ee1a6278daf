//! The `/api/put` body: one data point object or an array of them, each checked alone as
//! the TSD does, so one bad point costs only itself.

use serde_json::{Map, Value};

use super::point::{DataPoint, check_point, parse_long, parse_value};

/// What a body held: the points that passed, and those that did not with the reason.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PutBody {
    /// Points to deliver, in the body's order.
    pub points: Vec<DataPoint>,
    /// Points refused, each with the object as it came and OpenTSDB's error message.
    pub failures: Vec<PointFailure>,
}

/// A refused data point: `{"datapoint": ..., "error": ...}` in a `details` answer.
#[derive(Clone, Debug, PartialEq)]
pub struct PointFailure {
    /// The data point as it came.
    pub datapoint: Value,
    /// Why it was refused.
    pub error: String,
}

/// Why a whole body was refused: nothing of it is delivered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The body is empty.
    #[error("Missing message content")]
    Empty,
    /// Not JSON, or not an object or an array of objects.
    #[error("Unable to parse the given JSON")]
    Unparsable(String),
    /// An empty array.
    #[error("No datapoints found in content")]
    NoPoints,
}

impl BodyError {
    /// The `details` of OpenTSDB's error answer.
    pub fn details(&self) -> String {
        match self {
            BodyError::Unparsable(reason) => reason.clone(),
            _ => String::new(),
        }
    }
}

/// Decodes an `/api/put` body, checking every point (at most `max_tags` tags each). Any
/// input gives a value or an error, never a panic.
///
/// ```
/// use tributary_receivers::opentsdb::decode_put_body;
///
/// let body = br#"[{"metric":"sys.cpu.nice","timestamp":1346846400,"value":18,"tags":{"host":"web01"}},
///                {"metric":"sys.cpu.nice","timestamp":1346846400,"value":"x","tags":{"host":"web01"}}]"#;
/// let put = decode_put_body(body, 8).unwrap();
/// assert_eq!(put.points.len(), 1);
/// assert_eq!(put.failures[0].error, "Unable to parse value to a number");
/// ```
pub fn decode_put_body(body: &[u8], max_tags: usize) -> Result<PutBody, BodyError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(BodyError::Empty);
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| BodyError::Unparsable(e.to_string()))?;
    let objects = match value {
        Value::Array(items) => items,
        object @ Value::Object(_) => vec![object],
        _ => {
            return Err(BodyError::Unparsable(
                "expected a data point object or an array of them".into(),
            ));
        }
    };
    if objects.is_empty() {
        return Err(BodyError::NoPoints);
    }
    if objects.iter().any(|o| !o.is_object()) {
        return Err(BodyError::Unparsable(
            "every element of the array must be a data point object".into(),
        ));
    }
    let mut put = PutBody::default();
    for object in objects {
        let Value::Object(fields) = &object else {
            continue;
        };
        match point(fields, max_tags) {
            Ok(point) => put.points.push(point),
            Err(error) => put.failures.push(PointFailure {
                datapoint: object,
                error,
            }),
        }
    }
    Ok(put)
}

/// One object as a point, checked in the order `PutDataPointRpc` checks.
fn point(fields: &Map<String, Value>, max_tags: usize) -> Result<DataPoint, String> {
    let metric = match fields.get("metric") {
        Some(Value::String(metric)) if !metric.is_empty() => metric.as_str(),
        _ => return Err("Metric name was empty".into()),
    };
    let timestamp = match fields.get("timestamp") {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => parse_long(s).unwrap_or(0),
        _ => 0,
    };
    if timestamp <= 0 {
        return Err("Invalid timestamp".into());
    }
    let value = match fields.get("value") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => return Err("Empty value".into()),
    };
    let tags = match fields.get("tags") {
        Some(Value::Object(tags)) if !tags.is_empty() => tags
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => return Err(format!("Invalid tag value for {k}: {v}")),
                };
                Ok((k.clone(), v))
            })
            .collect::<Result<Vec<_>, String>>()?,
        _ => return Err("Missing tags".into()),
    };
    let value = parse_value(&value).map_err(|_| "Unable to parse value to a number".to_string())?;
    check_point(metric, timestamp, value, tags, max_tags)
}

#[cfg(test)]
mod tests {
    use super::super::point::PointValue;
    use super::*;

    #[test]
    fn a_single_object_or_an_array() {
        let one = br#"{"metric":"m","timestamp":1346846400,"value":18,"tags":{"host":"a"}}"#;
        let put = decode_put_body(one, 8).unwrap();
        assert_eq!(put.points[0].value, PointValue::Int(18));
        assert_eq!(put.points[0].tags, vec![("host".into(), "a".into())]);
        let many = br#"[{"metric":"m","timestamp":"1346846400123","value":"1.5","tags":{"a":"b"}},
                        {"metric":"n","timestamp":1,"value":2,"tags":{"a":1}}]"#;
        let put = decode_put_body(many, 8).unwrap();
        assert_eq!(put.points.len(), 2);
        assert_eq!(put.points[0].time_unix_nano, 1_346_846_400_123_000_000);
        assert_eq!(put.points[0].value, PointValue::Float(1.5));
        assert_eq!(put.points[1].tags, vec![("a".into(), "1".into())]);
    }

    #[test]
    fn each_bad_point_has_its_reason() {
        let body = br#"[{"timestamp":1,"value":1,"tags":{"a":"b"}},
            {"metric":"m","value":1,"tags":{"a":"b"}},
            {"metric":"m","timestamp":1,"tags":{"a":"b"}},
            {"metric":"m","timestamp":1,"value":1},
            {"metric":"m","timestamp":1,"value":1,"tags":{}},
            {"metric":"m","timestamp":1,"value":"abc","tags":{"a":"b"}},
            {"metric":"m m","timestamp":1,"value":1,"tags":{"a":"b"}},
            {"metric":"m","timestamp":1,"value":"1e999","tags":{"a":"b"}},
            {"metric":"m","timestamp":99999999999,"value":1,"tags":{"a":"b"}},
            {"metric":"ok","timestamp":1,"value":1,"tags":{"a":"b"}}]"#;
        let put = decode_put_body(body, 8).unwrap();
        let errors: Vec<&str> = put.failures.iter().map(|f| f.error.as_str()).collect();
        assert_eq!(
            &errors[..6],
            [
                "Metric name was empty",
                "Invalid timestamp",
                "Empty value",
                "Missing tags",
                "Missing tags",
                "Unable to parse value to a number",
            ]
        );
        assert!(
            errors[6].starts_with("Invalid metric name (\"m m\")"),
            "{errors:?}"
        );
        assert!(
            errors[7].starts_with("value is NaN or Infinite"),
            "{errors:?}"
        );
        assert!(
            errors[8].starts_with("bad timestamp=99999999999"),
            "{errors:?}"
        );
        assert_eq!(put.points.len(), 1);
        assert_eq!(put.failures[0].datapoint["value"], 1);
    }

    #[test]
    fn unparsable_bodies_reject_everything() {
        assert_eq!(decode_put_body(b"", 8), Err(BodyError::Empty));
        assert_eq!(decode_put_body(b"[]", 8), Err(BodyError::NoPoints));
        assert!(matches!(
            decode_put_body(b"[{", 8),
            Err(BodyError::Unparsable(_))
        ));
        assert!(matches!(
            decode_put_body(b"42", 8),
            Err(BodyError::Unparsable(_))
        ));
        assert!(matches!(
            decode_put_body(b"[1]", 8),
            Err(BodyError::Unparsable(_))
        ));
    }
}
