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
    let text = match value {
        Value::String(s) => s.as_bytes(),
        Value::Bytes(b) => b.as_slice(),
        _ => return Err("type is not a string; cannot parse it as JSON".into()),
    };
    super::super::value::json_object_from_slice(text, parse_ints)
        .map_err(|e| format!("invalid JSON object: {e}"))
}
