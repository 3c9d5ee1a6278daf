//! An attribute value as text, the way Go's `pcommon.Value.AsString` writes it: what
//! exporters print and write as tags and labels, what processors match and redact, and what
//! connectors key their series by.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine as _;

use crate::pdata::proto::common::v1::{AnyValue, any_value::Value};

/// A value's text, as Go's `pcommon.Value.AsString` writes it.
///
/// Strings as they are; booleans and integers as written; doubles as Go's `encoding/json`
/// writes numbers (`1.5`, `1e+21`, `1e-7`), and a NaN or an infinity as Go's error text
/// (`json: unsupported value: +Inf`); bytes in standard base64; arrays and maps as JSON, map
/// keys sorted (the last of repeated keys wins), empty values as `null` — or the empty string
/// if a double inside cannot be JSON, since Go then fails to marshal. An empty value (or
/// none) is the empty string.
///
/// ```
/// use tributary_pipeline_core::pdata::attributes::{any_value, key_value};
/// use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, KeyValueList};
/// use tributary_pipeline_core::pdata::proto::common::v1::any_value::Value;
/// use tributary_pipeline_core::pdata::value_text::as_string;
///
/// assert_eq!(as_string(Some(&any_value("GET"))), "GET");
/// assert_eq!(as_string(Some(&any_value(200i64))), "200");
/// assert_eq!(as_string(Some(&any_value(1e21))), "1e+21");
/// let map = AnyValue {
///     value: Some(Value::KvlistValue(KeyValueList {
///         values: vec![key_value("z", 1.0), key_value("a", "x")],
///     })),
/// };
/// assert_eq!(as_string(Some(&map)), r#"{"a":"x","z":1}"#);
/// assert_eq!(as_string(None), "");
/// ```
pub fn as_string(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        None => String::new(),
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => json_number(*d)
            .unwrap_or_else(|| format!("json: unsupported value: {}", format_float(*d))),
        Some(Value::BytesValue(b)) => base64(b),
        // A profiles string-table index; Go's `Value` has no such type and other signals do
        // not use it, so its number is all there is to write.
        Some(Value::StringValueStrindex(index)) => index.to_string(),
        Some(value @ (Value::ArrayValue(_) | Value::KvlistValue(_))) => {
            let mut out = String::new();
            match write_json(&mut out, Some(value)) {
                Some(()) => out,
                None => String::new(),
            }
        }
    }
}

/// A double as Go's `strconv.FormatFloat(f, 'f', -1, 64)` writes it: the shortest decimal
/// that reads back exactly, never an exponent; `+Inf`, `-Inf` and `NaN` for the rest.
///
/// This is how the Go Collector's exporters print data point values; attribute values go
/// through [`as_string`], which writes large and small doubles with an exponent.
///
/// ```
/// use tributary_pipeline_core::pdata::value_text::format_float;
///
/// assert_eq!(format_float(0.25), "0.25");
/// assert_eq!(format_float(1e21), "1000000000000000000000");
/// assert_eq!(format_float(f64::NEG_INFINITY), "-Inf");
/// ```
pub fn format_float(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_string()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        value.to_string()
    }
}

/// A finite double as Go's `encoding/json` writes it (ES6 number text): plain decimals
/// from 1e-6 up to 1e21, an exponent (`1e+21`, `1.5e-7`) outside; `None` for a NaN or an
/// infinity, which JSON cannot hold.
fn json_number(value: f64) -> Option<String> {
    if !value.is_finite() {
        return None;
    }
    let abs = value.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Rust writes `1e21` and `1e-7`; Go writes the exponent's sign always.
        let text = format!("{value:e}");
        Some(match text.split_once('e') {
            Some((mantissa, exponent)) if !exponent.starts_with('-') => {
                format!("{mantissa}e+{exponent}")
            }
            _ => text,
        })
    } else {
        Some(value.to_string())
    }
}

/// Writes `value` as Go marshals its `AsRaw` form; `None` if a double inside cannot be JSON.
fn write_json(out: &mut String, value: Option<&Value>) -> Option<()> {
    match value {
        None => out.push_str("null"),
        Some(Value::StringValue(s)) => write_json_string(out, s),
        Some(Value::BoolValue(b)) => {
            let _ = write!(out, "{b}");
        }
        Some(Value::IntValue(i)) => {
            let _ = write!(out, "{i}");
        }
        Some(Value::StringValueStrindex(index)) => {
            let _ = write!(out, "{index}");
        }
        Some(Value::DoubleValue(d)) => out.push_str(&json_number(*d)?),
        Some(Value::BytesValue(b)) => write_json_string(out, &base64(b)),
        Some(Value::ArrayValue(array)) => {
            out.push('[');
            for (i, item) in array.values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item.value.as_ref())?;
            }
            out.push(']');
        }
        Some(Value::KvlistValue(list)) => {
            // Go marshals a map: keys sorted, one entry per key (the last one set).
            let entries: BTreeMap<&str, Option<&Value>> = list
                .values
                .iter()
                .map(|kv| {
                    let value = kv.value.as_ref().and_then(|v| v.value.as_ref());
                    (kv.key.as_str(), value)
                })
                .collect();
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(out, key);
                out.push(':');
                write_json(out, value)?;
            }
            out.push('}');
        }
    }
    Some(())
}

/// A JSON string as Go writes it without HTML escaping: serde_json's escapes, plus the
/// line and paragraph separators Go always escapes.
fn write_json_string(out: &mut String, text: &str) {
    let quoted = serde_json::Value::from(text).to_string();
    if quoted.contains(['\u{2028}', '\u{2029}']) {
        out.push_str(
            &quoted
                .replace('\u{2028}', "\\u2028")
                .replace('\u{2029}', "\\u2029"),
        );
    } else {
        out.push_str(&quoted);
    }
}

/// Standard base64 with padding, as Go encodes bytes values.
fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdata::attributes::{any_value, key_value};
    use crate::pdata::proto::common::v1::{ArrayValue, KeyValue, KeyValueList};

    fn any(value: Value) -> AnyValue {
        AnyValue { value: Some(value) }
    }

    fn text(value: Value) -> String {
        as_string(Some(&any(value)))
    }

    #[test]
    fn scalars_read_as_go_writes_them() {
        assert_eq!(as_string(None), "");
        assert_eq!(as_string(Some(&AnyValue::default())), "");
        assert_eq!(as_string(Some(&any_value("GET"))), "GET");
        assert_eq!(as_string(Some(&any_value(200i64))), "200");
        assert_eq!(text(Value::IntValue(-3)), "-3");
        assert_eq!(as_string(Some(&any_value(true))), "true");
        assert_eq!(as_string(Some(&any_value(1.5f64))), "1.5");
        assert_eq!(text(Value::BytesValue(b"hello".to_vec())), "aGVsbG8=");
        assert_eq!(text(Value::BytesValue(vec![0, 1, 2, 255])), "AAEC/w==");
        assert_eq!(text(Value::BytesValue(vec![1, 2])), "AQI=");
    }

    #[test]
    fn doubles_read_as_go_json_numbers() {
        assert_eq!(text(Value::DoubleValue(1.0)), "1");
        assert_eq!(text(Value::DoubleValue(-0.000001)), "-0.000001");
        assert_eq!(text(Value::DoubleValue(1.5e-7)), "1.5e-7");
        assert_eq!(text(Value::DoubleValue(1e21)), "1e+21");
        assert_eq!(text(Value::DoubleValue(123456789.0)), "123456789");
        assert_eq!(
            text(Value::DoubleValue(f64::INFINITY)),
            "json: unsupported value: +Inf"
        );
        assert_eq!(
            text(Value::DoubleValue(f64::NEG_INFINITY)),
            "json: unsupported value: -Inf"
        );
        assert_eq!(
            text(Value::DoubleValue(f64::NAN)),
            "json: unsupported value: NaN"
        );
    }

    #[test]
    fn format_float_never_writes_an_exponent() {
        assert_eq!(format_float(1e21), "1000000000000000000000");
        assert_eq!(format_float(1.5e-7), "0.00000015");
        assert_eq!(format_float(f64::INFINITY), "+Inf");
        assert_eq!(format_float(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_float(f64::NAN), "NaN");
    }

    #[test]
    fn arrays_and_maps_are_json() {
        let array = Value::ArrayValue(ArrayValue {
            values: vec![
                any_value("a\"b"),
                any_value(1i64),
                AnyValue { value: None },
                any(Value::BytesValue(vec![1, 2])),
                any_value(2.0),
            ],
        });
        assert_eq!(text(array), r#"["a\"b",1,null,"AQI=",2]"#);
        let map = Value::KvlistValue(KeyValueList {
            values: vec![key_value("k", false)],
        });
        assert_eq!(text(map), r#"{"k":false}"#);
    }

    #[test]
    fn map_keys_are_sorted_and_the_last_repeat_wins() {
        let map = Value::KvlistValue(KeyValueList {
            values: vec![
                key_value("z", 1i64),
                key_value("a", "x"),
                key_value("z", 2i64),
                KeyValue {
                    key: "m".into(),
                    value: None,
                    ..Default::default()
                },
            ],
        });
        assert_eq!(text(map), r#"{"a":"x","m":null,"z":2}"#);
    }

    #[test]
    fn json_strings_escape_as_go_does_without_html_escaping() {
        let array = Value::ArrayValue(ArrayValue {
            values: vec![any_value("<a&b>\n\u{1}\u{2028}")],
        });
        assert_eq!(text(array), r#"["<a&b>\n\u0001\u2028"]"#);
    }

    #[test]
    fn a_double_json_cannot_hold_empties_the_whole_text() {
        let map = Value::KvlistValue(KeyValueList {
            values: vec![KeyValue {
                key: "k".into(),
                value: Some(any(Value::ArrayValue(ArrayValue {
                    values: vec![any_value(f64::INFINITY)],
                }))),
                ..Default::default()
            }],
        });
        assert_eq!(text(map), "");
    }
}
