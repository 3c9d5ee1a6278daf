//! An attribute value's text as Go's `pcommon.Value.AsString` writes it, which the
//! `debug` exporter prints and the `carbon` exporter writes as tag values.

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
pub(crate) fn format_float(value: f64) -> String {
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

#[cfg(test)]
mod tests {
    use tributary_pipeline_core::pdata::proto::common::v1::{ArrayValue, KeyValue, KeyValueList};

    use super::*;

    fn any(value: any_value::Value) -> AnyValue {
        AnyValue { value: Some(value) }
    }

    #[test]
    fn values_read_as_go_writes_them() {
        assert_eq!(as_string(None), "");
        assert_eq!(
            as_string(Some(&any(any_value::Value::StringValue("GET".into())))),
            "GET"
        );
        assert_eq!(
            as_string(Some(&any(any_value::Value::DoubleValue(1e21)))),
            "1000000000000000000000"
        );
        assert_eq!(
            as_string(Some(&any(any_value::Value::BytesValue(vec![0, 1, 2, 255])))),
            "AAEC/w=="
        );
        let map = any(any_value::Value::KvlistValue(KeyValueList {
            values: vec![KeyValue {
                key: "k".into(),
                value: Some(any(any_value::Value::ArrayValue(ArrayValue {
                    values: vec![any(any_value::Value::DoubleValue(f64::INFINITY))],
                }))),
                ..Default::default()
            }],
        }));
        assert_eq!(as_string(Some(&map)), r#"{"k":["+Inf"]}"#);
        assert_eq!(format_float(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_float(f64::NAN), "NaN");
    }
}
