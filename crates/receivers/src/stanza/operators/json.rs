//! `json_parser`: a JSON object in a string becomes a map.

use super::super::config::OperatorConfig;
use super::super::value::Value;
use super::parser::Parse;

/// Parses JSON objects; numbers are doubles unless `parse_ints` (Go's default).
pub(crate) struct JsonParser {
    parse_ints: bool,
}

impl JsonParser {
    pub(crate) fn new(config: &OperatorConfig) -> Result<Self, String> {
        Ok(JsonParser {
            parse_ints: config.parse_ints.unwrap_or(false),
        })
    }
}

impl Parse for JsonParser {
    fn parse(&mut self, value: &Value) -> Result<Value, String> {
        parse_json_object(value, self.parse_ints)
    }
}

/// Parses a JSON object held in a string (or bytes) into a map; numbers become doubles
/// unless `parse_ints` keeps integers as integers. Anything but an object is refused.
pub fn parse_json_object(value: &Value, parse_ints: bool) -> Result<Value, String> {
    use super::super::value::{json_object_from_slice, json_object_from_str};
    match value {
        Value::String(s) => json_object_from_str(s, parse_ints),
        Value::Bytes(b) => json_object_from_slice(b, parse_ints),
        _ => return Err("type is not a string; cannot parse it as JSON".into()),
    }
    .map_err(|e| format!("invalid JSON object: {e}"))
}
