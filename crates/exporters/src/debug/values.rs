//! Text of OTLP values as the Go Collector's debug exporter prints them: attribute values
//! (`Str(GET)`), IDs in hex, timestamps in UTC, enum names.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, KeyValue, any_value};
use tributary_pipeline_core::pdata::value_text::as_string;

/// A value with its type, as Go's debug exporter shows attributes: `Str(GET)`, `Int(200)`.
pub(crate) fn typed(value: Option<&AnyValue>) -> String {
    let kind = match value.and_then(|v| v.value.as_ref()) {
        None => "Empty",
        Some(any_value::Value::StringValue(_)) => "Str",
        Some(any_value::Value::BoolValue(_)) => "Bool",
        Some(any_value::Value::IntValue(_)) => "Int",
        Some(any_value::Value::DoubleValue(_)) => "Double",
        Some(any_value::Value::BytesValue(_)) => "Bytes",
        Some(any_value::Value::ArrayValue(_)) => "Slice",
        Some(any_value::Value::KvlistValue(_)) => "Map",
        Some(any_value::Value::StringValueStrindex(_)) => "StrIndex",
    };
    format!("{kind}({})", as_string(value))
}

/// `key=value` for each attribute.
pub(crate) fn pairs(attributes: &[KeyValue]) -> impl Iterator<Item = String> + '_ {
    attributes
        .iter()
        .map(|kv| format!("{}={}", kv.key, as_string(kv.value.as_ref())))
}

/// A double with six decimals, as Go's `%f`.
pub(crate) fn fixed(value: f64) -> String {
    if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        format!("{value:.6}")
    }
}

/// A trace or span ID in lower-case hex; empty for an empty ID.
pub(crate) fn hex(id: &[u8]) -> String {
    let mut out = String::with_capacity(id.len() * 2);
    for byte in id {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// Nanoseconds since the epoch as Go prints a UTC time: `2023-11-14 22:13:20.5 +0000 UTC`.
pub(crate) fn timestamp(nanos: u64) -> String {
    let time = DateTime::<Utc>::from_timestamp(
        (nanos / 1_000_000_000) as i64,
        (nanos % 1_000_000_000) as u32,
    )
    .unwrap_or_default();
    let mut out = time.format("%Y-%m-%d %H:%M:%S").to_string();
    let fraction = nanos % 1_000_000_000;
    if fraction != 0 {
        let digits = format!("{fraction:09}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out.push_str(" +0000 UTC");
    out
}

/// Go's `ptrace.SpanKind` names.
pub(crate) fn span_kind(kind: i32) -> &'static str {
    match kind {
        1 => "Internal",
        2 => "Server",
        3 => "Client",
        4 => "Producer",
        5 => "Consumer",
        _ => "Unspecified",
    }
}

/// Go's `ptrace.StatusCode` names.
pub(crate) fn status_code(code: i32) -> &'static str {
    match code {
        1 => "Ok",
        2 => "Error",
        _ => "Unset",
    }
}

/// Go's `plog.SeverityNumber` names.
pub(crate) fn severity(number: i32) -> &'static str {
    const NAMES: [&str; 25] = [
        "Unspecified",
        "Trace",
        "Trace2",
        "Trace3",
        "Trace4",
        "Debug",
        "Debug2",
        "Debug3",
        "Debug4",
        "Info",
        "Info2",
        "Info3",
        "Info4",
        "Warn",
        "Warn2",
        "Warn3",
        "Warn4",
        "Error",
        "Error2",
        "Error3",
        "Error4",
        "Fatal",
        "Fatal2",
        "Fatal3",
        "Fatal4",
    ];
    usize::try_from(number)
        .ok()
        .and_then(|n| NAMES.get(n))
        .copied()
        .unwrap_or("Unspecified")
}

/// Go's `pmetric.AggregationTemporality` names.
pub(crate) fn temporality(value: i32) -> &'static str {
    match value {
        1 => "Delta",
        2 => "Cumulative",
        _ => "Unspecified",
    }
}

#[cfg(test)]
mod tests {
    use tributary_pipeline_core::pdata::proto::common::v1::{ArrayValue, KeyValueList};

    use super::*;
    use tributary_pipeline_core::pdata::value_text::format_float as shortest;

    fn any(value: any_value::Value) -> AnyValue {
        AnyValue { value: Some(value) }
    }

    #[test]
    fn values_print_like_go() {
        assert_eq!(
            typed(Some(&any(any_value::Value::StringValue("GET".into())))),
            "Str(GET)"
        );
        assert_eq!(typed(Some(&any(any_value::Value::IntValue(-3)))), "Int(-3)");
        assert_eq!(
            typed(Some(&any(any_value::Value::DoubleValue(0.25)))),
            "Double(0.25)"
        );
        assert_eq!(
            typed(Some(&any(any_value::Value::DoubleValue(1e21)))),
            "Double(1e+21)"
        );
        assert_eq!(
            typed(Some(&any(any_value::Value::BoolValue(true)))),
            "Bool(true)"
        );
        assert_eq!(
            typed(Some(&any(any_value::Value::BytesValue(vec![0, 1, 2, 255])))),
            "Bytes(AAEC/w==)"
        );
        assert_eq!(typed(None), "Empty()");
        let array = any(any_value::Value::ArrayValue(ArrayValue {
            values: vec![
                any(any_value::Value::StringValue("a".into())),
                any(any_value::Value::IntValue(7)),
                any(any_value::Value::DoubleValue(f64::NAN)),
            ],
        }));
        // Go cannot marshal a NaN, so prints nothing for the whole slice.
        assert_eq!(typed(Some(&array)), "Slice()");
        let map = any(any_value::Value::KvlistValue(KeyValueList {
            values: vec![KeyValue {
                key: "k".into(),
                value: Some(any(any_value::Value::BoolValue(false))),
                ..Default::default()
            }],
        }));
        assert_eq!(typed(Some(&map)), r#"Map({"k":false})"#);
    }

    #[test]
    fn timestamps_print_like_gos_time_string() {
        assert_eq!(timestamp(0), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(
            timestamp(1_700_000_000_500_000_000),
            "2023-11-14 22:13:20.5 +0000 UTC"
        );
        assert_eq!(
            timestamp(1_744_879_244_555_461_596),
            "2025-04-17 08:40:44.555461596 +0000 UTC"
        );
    }

    #[test]
    fn doubles_print_like_go() {
        assert_eq!(shortest(f64::INFINITY), "+Inf");
        assert_eq!(fixed(f64::NEG_INFINITY), "-Inf");
        assert_eq!(fixed(f64::NAN), "NaN");
        assert_eq!(fixed(2.5), "2.500000");
        assert_eq!(hex(&[0xab, 0x01]), "ab01");
        assert_eq!(hex(&[]), "");
    }
}
