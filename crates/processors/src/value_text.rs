//! An attribute value's text as Go's `pcommon.Value.AsString` writes it, which the legacy
//! `regexp` matches and the redaction processor read. (The exporters crate has the same
//! helper for its own output; neither crate depends on the other.)

use base64::Engine as _;
use serde_json::Value as Json;
use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, any_value};

/// A value's text, as Go's `pcommon.Value.AsString`: strings raw, numbers and booleans as
/// written, bytes in base64, arrays and maps as JSON, nothing as the empty string.
pub(crate) fn as_string(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        None => String::new(),
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => format_float(*d),
        Some(any_value::Value::BytesValue(b)) => base64(b),
        // A profiles string-table index; other signals do not use it.
        Some(any_value::Value::StringValueStrindex(index)) => index.to_string(),
        Some(value @ (any_value::Value::ArrayValue(_) | any_value::Value::KvlistValue(_))) => {
            json(Some(value)).to_string()
        }
    }
}

/// A double as Go's `strconv.FormatFloat(f, 'f', -1, 64)`: the shortest decimal that
/// reads back exactly, never an exponent; `+Inf`, `-Inf` and `NaN` as Go writes them.
fn format_float(value: f64) -> String {
    if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        value.to_string()
    }
}

/// A value as JSON, as Go marshals arrays and maps; a double JSON cannot hold (NaN, an
/// infinity) as its text.
fn json(value: Option<&any_value::Value>) -> Json {
    match value {
        None => Json::Null,
        Some(any_value::Value::StringValue(s)) => Json::String(s.clone()),
        Some(any_value::Value::BoolValue(b)) => Json::Bool(*b),
        Some(any_value::Value::IntValue(i)) => Json::from(*i),
        Some(any_value::Value::DoubleValue(d)) => serde_json::Number::from_f64(*d)
            .map_or_else(|| Json::String(format_float(*d)), Json::Number),
        Some(any_value::Value::BytesValue(b)) => Json::String(base64(b)),
        Some(any_value::Value::StringValueStrindex(index)) => Json::from(*index),
        Some(any_value::Value::ArrayValue(array)) => Json::Array(
            array
                .values
                .iter()
                .map(|v| json(v.value.as_ref()))
                .collect(),
        ),
        Some(any_value::Value::KvlistValue(list)) => Json::Object(
            list.values
                .iter()
                .map(|kv| {
                    (
                        kv.key.clone(),
                        json(kv.value.as_ref().and_then(|v| v.value.as_ref())),
                    )
                })
                .collect(),
        ),
    }
}

/// Standard base64 with padding, as Go encodes bytes values.
fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A value written in a config (`value: 42`, YAML read as JSON) as an attribute value, as
/// Go's `pcommon.Value.FromRaw` reads it: integers stay integers, other numbers are
/// doubles, lists and maps nest; `null` is the empty value.
#[cfg(any(feature = "filterconfig", feature = "attraction"))]
pub(crate) fn from_config(value: &Json) -> AnyValue {
    let value = match value {
        Json::Null => None,
        Json::Bool(b) => Some(any_value::Value::BoolValue(*b)),
        Json::Number(n) => Some(match n.as_i64() {
            Some(i) => any_value::Value::IntValue(i),
            None => any_value::Value::DoubleValue(n.as_f64().unwrap_or(f64::NAN)),
        }),
        Json::String(s) => Some(any_value::Value::StringValue(s.clone())),
        Json::Array(items) => Some(any_value::Value::ArrayValue(
            tributary_pipeline_core::pdata::proto::common::v1::ArrayValue {
                values: items.iter().map(from_config).collect(),
            },
        )),
        Json::Object(map) => Some(any_value::Value::KvlistValue(
            tributary_pipeline_core::pdata::proto::common::v1::KeyValueList {
                values: map
                    .iter()
                    .map(|(key, value)| {
                        tributary_pipeline_core::pdata::proto::common::v1::KeyValue {
                            key: key.clone(),
                            value: Some(from_config(value)),
                            ..Default::default()
                        }
                    })
                    .collect(),
            },
        )),
    };
    AnyValue { value }
}
