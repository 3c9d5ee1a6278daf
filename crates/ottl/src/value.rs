//! OTTL values and their conversion from and to OTLP `AnyValue`.

use tributary_pipeline_core::pdata::proto::common::v1::{
    AnyValue, ArrayValue, KeyValue, KeyValueList, any_value,
};

/// A value an OTTL expression produces.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `nil`: absent.
    Nil,
    /// A boolean.
    Bool(bool),
    /// A 64-bit integer.
    Int(i64),
    /// A 64-bit float.
    Float(f64),
    /// A string.
    Str(String),
    /// Bytes (`0x...`, ids).
    Bytes(Vec<u8>),
    /// A map, in insertion order (as pcommon.Map).
    Map(Vec<(String, Value)>),
    /// A list.
    List(Vec<Value>),
    /// A point in time, as nanoseconds since the Unix epoch (Go's `time.Time`).
    Time(i64),
    /// A span of time in nanoseconds (Go's `time.Duration`).
    Duration(i64),
}

impl Value {
    /// The Go-style type name, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int64",
            Value::Float(_) => "float64",
            Value::Str(_) => "string",
            Value::Bytes(_) => "[]byte",
            Value::Map(_) => "map",
            Value::List(_) => "slice",
            Value::Time(_) => "time.Time",
            Value::Duration(_) => "time.Duration",
        }
    }

    /// The value as an `AnyValue` (`nil` becomes an empty value).
    pub fn to_any(&self) -> AnyValue {
        use any_value::Value as V;
        let value = match self {
            Value::Nil => None,
            Value::Bool(b) => Some(V::BoolValue(*b)),
            Value::Int(i) => Some(V::IntValue(*i)),
            Value::Float(f) => Some(V::DoubleValue(*f)),
            Value::Str(s) => Some(V::StringValue(s.clone())),
            Value::Bytes(b) => Some(V::BytesValue(b.clone())),
            Value::Map(m) => Some(V::KvlistValue(KeyValueList {
                values: m
                    .iter()
                    .map(|(k, v)| KeyValue {
                        key: k.clone(),
                        value: Some(v.to_any()),
                        ..Default::default()
                    })
                    .collect(),
            })),
            Value::List(l) => Some(V::ArrayValue(ArrayValue {
                values: l.iter().map(Value::to_any).collect(),
            })),
            Value::Time(_) | Value::Duration(_) => Some(V::StringValue(self.to_display())),
        };
        AnyValue { value }
    }

    /// The value of an `AnyValue` (an empty one is `nil`).
    pub fn from_any(any: &AnyValue) -> Value {
        use any_value::Value as V;
        match &any.value {
            // Profiles' string-table indexes mean nothing outside a profile.
            None | Some(V::StringValueStrindex(_)) => Value::Nil,
            Some(V::BoolValue(b)) => Value::Bool(*b),
            Some(V::IntValue(i)) => Value::Int(*i),
            Some(V::DoubleValue(f)) => Value::Float(*f),
            Some(V::StringValue(s)) => Value::Str(s.clone()),
            Some(V::BytesValue(b)) => Value::Bytes(b.clone()),
            Some(V::KvlistValue(kv)) => Value::Map(map_from_kvs(&kv.values)),
            Some(V::ArrayValue(a)) => Value::List(a.values.iter().map(Value::from_any).collect()),
        }
    }

    /// The value as a string the way Go's `String` converter renders it
    /// (maps and lists as JSON, bytes as hex).
    pub fn to_display(&self) -> String {
        match self {
            Value::Nil => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => format_float(*f),
            Value::Str(s) => s.clone(),
            Value::Bytes(b) => hex(b),
            Value::Map(_) | Value::List(_) => self.to_json().to_string(),
            Value::Time(t) => crate::time::rfc3339(*t),
            Value::Duration(d) => crate::time::go_duration(*d),
        }
    }

    /// The value as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Nil => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Bytes(b) => J::String(hex(b)),
            Value::Map(m) => J::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
            Value::List(l) => J::Array(l.iter().map(Value::to_json).collect()),
            Value::Time(_) | Value::Duration(_) => J::String(self.to_display()),
        }
    }

    /// A value from JSON, as Go's `ParseJSON` builds it (numbers become doubles).
    pub fn from_json(json: &serde_json::Value) -> Value {
        use serde_json::Value as J;
        match json {
            J::Null => Value::Nil,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
            J::String(s) => Value::Str(s.clone()),
            J::Array(a) => Value::List(a.iter().map(Value::from_json).collect()),
            J::Object(o) => Value::Map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }
}

/// A map value from OTLP attributes.
pub fn map_from_kvs(kvs: &[KeyValue]) -> Vec<(String, Value)> {
    kvs.iter()
        .map(|kv| {
            (
                kv.key.clone(),
                kv.value.as_ref().map_or(Value::Nil, Value::from_any),
            )
        })
        .collect()
}

/// OTLP attributes from a map value.
pub fn kvs_from_map(map: &[(String, Value)]) -> Vec<KeyValue> {
    map.iter()
        .map(|(k, v)| KeyValue {
            key: k.clone(),
            value: Some(v.to_any()),
            ..Default::default()
        })
        .collect()
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// A float as Go's `strconv.FormatFloat(f, 'f', -1, 64)`: shortest, no exponent.
pub fn format_float(f: f64) -> String {
    if f.is_finite() && f == f.trunc() && f.abs() < 1e21 {
        format!("{f:.0}")
    } else {
        f.to_string()
    }
}

/// Test values: a string.
#[cfg(test)]
pub(crate) fn test_str(v: &str) -> Value {
    Value::Str(v.into())
}

/// Test values: a map of `entries`, in their order.
#[cfg(test)]
pub(crate) fn test_map(entries: &[(&str, Value)]) -> Value {
    Value::Map(
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}
