//! The Metricbeat importer: Elasticsearch `_bulk` NDJSON with each action line paired with
//! its source, events flattened into points, and a real per-item bulk response.

use serde_json::{Map, Value, json};

use super::point::{Point, PointValue, sanitize_key, sanitize_name};
use super::standard::parse_time;

/// The top-level objects whose scalars become tags (minus `rtt`): Metricbeat 6's
/// `metricset` and `beat`, and `agent`, which replaced `beat` in 7.x.
const TAG_OBJECTS: [&str; 3] = ["metricset", "beat", "agent"];

/// Top-level fields that describe the event rather than measure anything (ECS metadata in
/// Metricbeat 7+), left out of the metrics.
const NOT_MEASURES: [&str; 6] = ["@timestamp", "@metadata", "ecs", "event", "host", "service"];

/// A decoded bulk request: the points of every event, and one item per action for the
/// response, in request order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bulk {
    /// The points of every indexed event.
    pub points: Vec<Point>,
    /// One response item per action: `{"<action>": {"_index":.., "status":.., ...}}`.
    pub items: Vec<Value>,
}

impl Bulk {
    /// Whether any item failed (the response's top-level `errors`).
    pub fn errors(&self) -> bool {
        self.items.iter().any(|item| {
            item.as_object()
                .and_then(|o| o.values().next())
                .and_then(|r| r.get("status"))
                .and_then(Value::as_u64)
                .is_some_and(|s| s >= 300)
        })
    }

    /// The bulk response body Elasticsearch would send.
    pub fn response(&self, took_ms: u64) -> Value {
        json!({"took": took_ms, "errors": self.errors(), "items": self.items})
    }
}

/// Reads a `_bulk` body. `index`, `create` and `update` take the next line as their
/// source (an `update`'s event is its `doc`), `delete` takes none. A source that is not a
/// JSON object fails its item with `400 mapper_parsing_exception`; a `delete` answers
/// `404 not_found` (nothing is stored to delete). An action line that is not one of these,
/// or an action without its source, fails the whole request, as Elasticsearch does.
///
/// ```
/// use tributary_receivers::lookout::parse_bulk;
///
/// let body = concat!(
///     r#"{"index":{"_index":"metricbeat-6.2.3-2018.03.29","_type":"doc"}}"#, "\n",
///     r#"{"@timestamp":"2018-03-29T08:27:21.200Z","metricset":{"name":"network","module":"system","rtt":3487},"system":{"network":{"in":{"bytes":7}}},"beat":{"name":"moby"}}"#, "\n",
/// );
/// let bulk = parse_bulk(body.as_bytes(), 0).unwrap();
/// assert_eq!(bulk.points[0].name, "system.network.in.bytes");
/// assert!(!bulk.errors());
/// ```
pub fn parse_bulk(body: &[u8], now_ms: i64) -> Result<Bulk, String> {
    let mut bulk = Bulk::default();
    let mut lines = body
        .split(|b| *b == b'\n')
        .enumerate()
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace));
    while let Some((number, line)) = lines.next() {
        let number = number + 1;
        let action: Map<String, Value> = serde_json::from_slice(line).map_err(|e| {
            format!("Malformed action/metadata line [{number}], expected an object: {e}")
        })?;
        let (kind, meta) = match action.iter().next() {
            Some((kind, Value::Object(meta))) if action.len() == 1 => (kind.clone(), meta.clone()),
            _ => {
                return Err(format!(
                    "Malformed action/metadata line [{number}], expected one action holding an object"
                ));
            }
        };
        let mut result = Map::new();
        for key in ["_index", "_type", "_id"] {
            if let Some(v) = meta.get(key) {
                result.insert(key.to_owned(), v.clone());
            }
        }
        match kind.as_str() {
            "delete" => {
                result.insert("status".into(), 404.into());
                result.insert("result".into(), "not_found".into());
            }
            "index" | "create" | "update" => {
                let Some((_, source)) = lines.next() else {
                    return Err(format!(
                        "the {kind} action on line [{number}] has no source line"
                    ));
                };
                let event = match serde_json::from_slice::<Value>(source) {
                    Ok(Value::Object(event)) if kind != "update" => Some(event),
                    Ok(Value::Object(mut update)) => match update.remove("doc") {
                        Some(Value::Object(doc)) => Some(doc),
                        _ => None,
                    },
                    _ => None,
                };
                match event {
                    Some(event) => {
                        flatten_event(event, now_ms, &mut bulk.points);
                        let status = if kind == "update" { 200 } else { 201 };
                        result.insert("status".into(), status.into());
                        let outcome = if kind == "update" {
                            "updated"
                        } else {
                            "created"
                        };
                        result.insert("result".into(), outcome.into());
                    }
                    None => {
                        result.insert("status".into(), 400.into());
                        result.insert(
                            "error".into(),
                            json!({
                                "type": "mapper_parsing_exception",
                                "reason": format!("failed to parse the source on line [{}]: not a JSON object", number + 1),
                            }),
                        );
                    }
                }
            }
            other => {
                return Err(format!(
                    "Malformed action/metadata line [{number}], unknown action [{other}]"
                ));
            }
        }
        let mut item = Map::new();
        item.insert(kind, Value::Object(result));
        bulk.items.push(Value::Object(item));
    }
    Ok(bulk)
}

/// One event as points: `@timestamp` is the time; scalars of `metricset`, `beat` and
/// `agent` (minus `rtt`) are tags; every other numeric leaf is a gauge named by its path
/// joined with `.`; strings are left out.
fn flatten_event(event: Map<String, Value>, now_ms: i64, out: &mut Vec<Point>) {
    let time_ms = event
        .get("@timestamp")
        .and_then(parse_time)
        .unwrap_or(now_ms);
    let mut tags = Vec::new();
    for object in TAG_OBJECTS {
        if let Some(Value::Object(fields)) = event.get(object) {
            for (key, value) in fields {
                let text = match value {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => continue,
                };
                if key != "rtt" {
                    tags.push((sanitize_key(&format!("{object}.{key}")), text));
                }
            }
        }
    }
    let mut leaves = Vec::new();
    for (key, value) in &event {
        if !TAG_OBJECTS.contains(&key.as_str()) && !NOT_MEASURES.contains(&key.as_str()) {
            numeric_leaves(key.clone(), value, &mut leaves);
        }
    }
    out.extend(leaves.into_iter().map(|(name, value)| Point {
        name: sanitize_name(&name),
        tags: tags.clone(),
        time_ms,
        value: PointValue::Gauge(value),
    }));
}

fn numeric_leaves(path: String, value: &Value, out: &mut Vec<(String, f64)>) {
    match value {
        Value::Number(n) => {
            if let Some(v) = n.as_f64() {
                out.push((path, v));
            }
        }
        Value::Object(fields) => {
            for (key, value) in fields {
                numeric_leaves(format!("{path}.{key}"), value, out);
            }
        }
        _ => {}
    }
}
