//! The OpenTSDB importer: `/api/put` JSON, one data point object or an array of them.

use serde_json::Value;

use super::point::{Point, PointValue, sanitize_key, sanitize_name};

/// Reads an OpenTSDB `/api/put` body into points, and the reasons of the data points that
/// could not be read (each names its index in the body), as OpenTSDB does: good points
/// pass even when others fail. A body that is not JSON, or not an object or array, is an
/// error as a whole.
///
/// Timestamps are seconds (up to 10 digits) or milliseconds (13 digits), as OpenTSDB reads
/// them (Lookout always multiplied by 1000, which misreads milliseconds).
///
/// ```
/// use tributary_receivers::lookout::parse_opentsdb;
///
/// let body = r#"[{"metric":"sys.cpu.nice","timestamp":1346846400,"value":18,"tags":{"host":"web01"}}]"#;
/// let (points, failed) = parse_opentsdb(body.as_bytes()).unwrap();
/// assert_eq!(points[0].time_ms, 1_346_846_400_000);
/// assert!(failed.is_empty());
/// ```
pub fn parse_opentsdb(body: &[u8]) -> Result<(Vec<Point>, Vec<String>), String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let items = match value {
        Value::Array(items) => items,
        object @ Value::Object(_) => vec![object],
        _ => return Err("the body is neither a data point object nor an array".to_owned()),
    };
    let mut points = Vec::with_capacity(items.len());
    let mut failed = Vec::new();
    for (index, item) in items.iter().enumerate() {
        match data_point(item) {
            Ok(point) => points.push(point),
            Err(reason) => failed.push(format!("data point {index}: {reason}")),
        }
    }
    Ok((points, failed))
}

fn data_point(item: &Value) -> Result<Point, String> {
    let metric = item
        .get("metric")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .ok_or("metric is missing")?;
    let timestamp = match item.get("timestamp") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse::<i64>().ok(),
        _ => None,
    }
    .filter(|t| *t > 0)
    .ok_or("timestamp is missing or not a positive integer")?;
    // Ten digits or fewer are seconds, as OpenTSDB decides.
    let time_ms = if timestamp < 10_000_000_000 {
        timestamp.saturating_mul(1000)
    } else {
        timestamp
    };
    let value = match item.get("value") {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .ok_or("value is missing or not a number")?;
    let tags = match item.get("tags") {
        Some(Value::Object(tags)) if !tags.is_empty() => tags
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (sanitize_key(k), v)
            })
            .collect(),
        _ => return Err("tags are missing: at least one tag is required".to_owned()),
    };
    Ok(Point {
        name: sanitize_name(metric),
        tags,
        time_ms,
        value: PointValue::Gauge(value),
    })
}
