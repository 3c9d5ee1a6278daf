//! Attribute values as text, the way Go's `pcommon.Value.AsString` writes them: what the
//! connectors key their series by and what `count` puts in its data point attributes.

use std::fmt::Write;

use tributary_pipeline_core::pdata::proto::common::v1::AnyValue;
use tributary_pipeline_core::pdata::proto::common::v1::any_value::Value;

/// `value` as text: strings as they are, numbers and booleans in their usual form, bytes
/// in standard base64, arrays and maps as JSON (as Go does). An empty value is `""`.
pub(crate) fn value_text(value: &AnyValue) -> String {
    let mut out = String::new();
    match &value.value {
        Some(Value::StringValue(s)) => out.push_str(s),
        Some(_) => write_value(&mut out, value, false),
        None => {}
    }
    out
}

fn write_value(out: &mut String, value: &AnyValue, quote_strings: bool) {
    match &value.value {
        None => out.push_str("null"),
        Some(Value::StringValue(s)) if quote_strings => write_json_string(out, s),
        Some(Value::StringValue(s)) => out.push_str(s),
        Some(Value::BoolValue(b)) => {
            let _ = write!(out, "{b}");
        }
        Some(Value::IntValue(i)) => {
            let _ = write!(out, "{i}");
        }
        // A string-table reference (profiles only); there is no table here to resolve it.
        Some(Value::StringValueStrindex(i)) => {
            let _ = write!(out, "{i}");
        }
        Some(Value::DoubleValue(d)) => {
            let _ = write!(out, "{d}");
        }
        Some(Value::BytesValue(bytes)) => {
            if quote_strings {
                out.push('"');
            }
            write_base64(out, bytes);
            if quote_strings {
                out.push('"');
            }
        }
        Some(Value::ArrayValue(array)) => {
            out.push('[');
            for (index, item) in array.values.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_value(out, item, true);
            }
            out.push(']');
        }
        Some(Value::KvlistValue(list)) => {
            out.push('{');
            for (index, kv) in list.values.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_json_string(out, &kv.key);
                out.push(':');
                match &kv.value {
                    Some(value) => write_value(out, value, true),
                    None => out.push_str("null"),
                }
            }
            out.push('}');
        }
    }
}

fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_base64(out: &mut String, bytes: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tributary_pipeline_core::pdata::proto::common::v1::{ArrayValue, KeyValueList};
    use tributary_pipeline_core::prelude::{any_value, key_value};

    use super::*;

    #[test]
    fn scalars_read_as_go_writes_them() {
        assert_eq!(value_text(&any_value("GET")), "GET");
        assert_eq!(value_text(&any_value(200i64)), "200");
        assert_eq!(value_text(&any_value(true)), "true");
        assert_eq!(value_text(&any_value(1.5f64)), "1.5");
        assert_eq!(value_text(&AnyValue::default()), "");
        let bytes = AnyValue {
            value: Some(Value::BytesValue(b"hello".to_vec())),
        };
        assert_eq!(value_text(&bytes), "aGVsbG8=");
    }

    #[test]
    fn arrays_and_maps_are_json() {
        let array = AnyValue {
            value: Some(Value::ArrayValue(ArrayValue {
                values: vec![any_value("a\"b"), any_value(1i64)],
            })),
        };
        assert_eq!(value_text(&array), r#"["a\"b",1]"#);
        let map = AnyValue {
            value: Some(Value::KvlistValue(KeyValueList {
                values: vec![key_value("k", false)],
            })),
        };
        assert_eq!(value_text(&map), r#"{"k":false}"#);
    }
}
