//! The value type of an entry's body, attributes and resource: Go's `any` as stanza uses
//! it (`map[string]any`, `[]any`, strings, numbers, booleans, bytes), with a cheap
//! conversion to the OTLP `AnyValue`.

use std::collections::BTreeMap;
use std::fmt;

use tributary_pipeline_core::pdata::proto::common::v1::{
    AnyValue, ArrayValue, KeyValue, KeyValueList, any_value,
};

/// A map of values, ordered by key so output is deterministic.
pub type Map = BTreeMap<String, Value>;

/// One value of an entry.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Value {
    /// No value (Go's `nil`).
    #[default]
    Null,
    /// A string.
    String(String),
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// A floating point number.
    Double(f64),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// A list.
    Array(Vec<Value>),
    /// A map.
    Map(Map),
}

impl Value {
    /// The string inside, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The map inside, if this is a map.
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The value as text, as Go's `fmt.Sprint` would print a scalar; maps and lists as
    /// JSON.
    pub fn to_text(&self) -> String {
        match self {
            Value::String(s) => s.clone(),
            Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            other => other.to_string(),
        }
    }

    /// Converts into the OTLP value.
    pub fn into_any_value(self) -> AnyValue {
        let value = match self {
            Value::Null => None,
            Value::String(s) => Some(any_value::Value::StringValue(s)),
            Value::Bool(b) => Some(any_value::Value::BoolValue(b)),
            Value::Int(i) => Some(any_value::Value::IntValue(i)),
            Value::Double(d) => Some(any_value::Value::DoubleValue(d)),
            Value::Bytes(b) => Some(any_value::Value::BytesValue(b)),
            Value::Array(items) => Some(any_value::Value::ArrayValue(ArrayValue {
                values: items.into_iter().map(Value::into_any_value).collect(),
            })),
            Value::Map(map) => Some(any_value::Value::KvlistValue(KeyValueList {
                values: map_into_key_values(map),
            })),
        };
        AnyValue { value }
    }

    /// Converts from an OTLP value (the inverse of [`into_any_value`](Self::into_any_value)).
    pub fn from_any_value(value: AnyValue) -> Value {
        match value.value {
            // A string-table index means nothing without its profile's table.
            None | Some(any_value::Value::StringValueStrindex(_)) => Value::Null,
            Some(any_value::Value::StringValue(s)) => Value::String(s),
            Some(any_value::Value::BoolValue(b)) => Value::Bool(b),
            Some(any_value::Value::IntValue(i)) => Value::Int(i),
            Some(any_value::Value::DoubleValue(d)) => Value::Double(d),
            Some(any_value::Value::BytesValue(b)) => Value::Bytes(b),
            Some(any_value::Value::ArrayValue(array)) => Value::Array(
                array
                    .values
                    .into_iter()
                    .map(Value::from_any_value)
                    .collect(),
            ),
            Some(any_value::Value::KvlistValue(list)) => Value::Map(
                list.values
                    .into_iter()
                    .map(|kv| (kv.key, kv.value.map_or(Value::Null, Value::from_any_value)))
                    .collect(),
            ),
        }
    }

    /// Converts from a JSON value (numbers that fit an `i64` stay integers, as pdata does
    /// with Go's decoded JSON).
    pub fn from_json(json: serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Double(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(items) => {
                Value::Array(items.into_iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(map) => Value::Map(
                map.into_iter()
                    .map(|(k, v)| (k, Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// Converts to JSON (bytes become base64-free lossy text, as Go's encoding of `[]byte`
    /// is not what users expect in a combined log line).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Double(d) => serde_json::Number::from_f64(*d)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::Bytes(b) => serde_json::Value::String(String::from_utf8_lossy(b).into_owned()),
            Value::Array(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json).collect())
            }
            Value::Map(map) => serde_json::Value::Object(
                map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect(),
            ),
        }
    }
}

/// Converts a map into OTLP key-values.
pub fn map_into_key_values(map: Map) -> Vec<KeyValue> {
    map.into_iter()
        .map(|(key, value)| KeyValue {
            key,
            value: Some(value.into_any_value()),
            ..KeyValue::default()
        })
        .collect()
}

/// Parses a JSON object straight into a [`Value::Map`], in one pass with no intermediate
/// JSON tree: numbers are doubles unless `parse_ints` keeps integers (Go's `json_parser`
/// decodes to float64 unless asked); an integer beyond `i64` is a double either way.
/// Anything but an object is refused with serde_json's message.
pub fn json_object_from_slice(text: &[u8], parse_ints: bool) -> Result<Value, serde_json::Error> {
    json_object(serde_json::Deserializer::from_slice(text), parse_ints)
}

/// [`json_object_from_slice`] for text already known to be UTF-8 (strings in it are not
/// checked again).
pub fn json_object_from_str(text: &str, parse_ints: bool) -> Result<Value, serde_json::Error> {
    json_object(serde_json::Deserializer::from_str(text), parse_ints)
}

fn json_object<'de, R: serde_json::de::Read<'de>>(
    mut deserializer: serde_json::Deserializer<R>,
    parse_ints: bool,
) -> Result<Value, serde_json::Error> {
    use serde::de::DeserializeSeed;
    let value = JsonObject(JsonValue { parse_ints }).deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// Builds a [`Value`] from any JSON value.
#[derive(Clone, Copy)]
struct JsonValue {
    parse_ints: bool,
}

/// Builds a [`Value::Map`] from a JSON object, refusing anything else.
struct JsonObject(JsonValue);

impl<'de> serde::de::DeserializeSeed<'de> for JsonValue {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for JsonObject {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for JsonObject {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        self.0.visit_map(map)
    }
}

impl<'de> serde::de::Visitor<'de> for JsonValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E: serde::de::Error>(self, i: i64) -> Result<Value, E> {
        Ok(if self.parse_ints {
            Value::Int(i)
        } else {
            Value::Double(i as f64)
        })
    }

    fn visit_u64<E: serde::de::Error>(self, u: u64) -> Result<Value, E> {
        match i64::try_from(u) {
            Ok(i) => self.visit_i64(i),
            Err(_) => Ok(Value::Double(u as f64)),
        }
    }

    fn visit_f64<E: serde::de::Error>(self, d: f64) -> Result<Value, E> {
        Ok(Value::Double(d))
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            // A key given twice keeps its last value, as before.
            let value = access.next_value_seed(self)?;
            map.insert(key, value);
        }
        Ok(Value::Map(map))
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("<nil>"),
            Value::String(s) => f.write_str(s),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Double(d) => write!(f, "{d}"),
            Value::Bytes(b) => f.write_str(&String::from_utf8_lossy(b)),
            Value::Array(_) | Value::Map(_) => write!(f, "{}", self.to_json()),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::Map(m)
    }
}
