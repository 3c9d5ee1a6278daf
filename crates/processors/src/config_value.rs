//! Values written in configs (`value: 42`) as attribute values, as the attributes,
//! resource and legacy filter processors read them.

use serde_json::Value as Json;
use tributary_pipeline_core::pdata::proto::common::v1::{
    AnyValue, ArrayValue, KeyValue, KeyValueList, any_value,
};

/// A value written in a config (`value: 42`, YAML read as JSON) as an attribute value, as
/// Go's `pcommon.Value.FromRaw` reads it: integers stay integers, other numbers are
/// doubles, lists and maps nest; `null` is the empty value.
pub(crate) fn from_config(value: &Json) -> AnyValue {
    let value = match value {
        Json::Null => None,
        Json::Bool(b) => Some(any_value::Value::BoolValue(*b)),
        Json::Number(n) => Some(match n.as_i64() {
            Some(i) => any_value::Value::IntValue(i),
            None => any_value::Value::DoubleValue(n.as_f64().unwrap_or(f64::NAN)),
        }),
        Json::String(s) => Some(any_value::Value::StringValue(s.clone())),
        Json::Array(items) => Some(any_value::Value::ArrayValue(ArrayValue {
            values: items.iter().map(from_config).collect(),
        })),
        Json::Object(map) => Some(any_value::Value::KvlistValue(KeyValueList {
            values: map
                .iter()
                .map(|(key, value)| KeyValue {
                    key: key.clone(),
                    value: Some(from_config(value)),
                    ..Default::default()
                })
                .collect(),
        })),
    };
    AnyValue { value }
}
