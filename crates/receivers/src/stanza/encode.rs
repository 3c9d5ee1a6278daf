//! Entries written straight to an OTLP logs request's protobuf bytes.
//!
//! Building `LogRecord`s only to encode them costs twice: the structs are made (an
//! allocation per attribute list) and then prost computes each nested message's length
//! once per level above it when encoding, and the exporter's thread frees every string.
//! Written here, each length is computed from the entry's own values, the bytes are those
//! prost writes for [`group_entries`](super::group_entries) (the tests compare them), and
//! the strings are freed on the thread that made them.

use prost::encoding::{WireType, encode_key, encode_varint, encoded_len_varint, key_len};

use super::entry::{Entry, group};
use super::value::{Map, Value};

/// A length-delimited field: key, length, content.
fn delimited_len(tag: u32, content: usize) -> usize {
    key_len(tag) + encoded_len_varint(content as u64) + content
}

fn write_header(tag: u32, content: usize, out: &mut Vec<u8>) {
    encode_key(tag, WireType::LengthDelimited, out);
    encode_varint(content as u64, out);
}

/// A proto3 `string`/`bytes` field: left out when empty.
fn bytes_len(tag: u32, bytes: &[u8]) -> usize {
    if bytes.is_empty() {
        0
    } else {
        delimited_len(tag, bytes.len())
    }
}

fn write_bytes(tag: u32, bytes: &[u8], out: &mut Vec<u8>) {
    if !bytes.is_empty() {
        write_header(tag, bytes.len(), out);
        out.extend_from_slice(bytes);
    }
}

/// The content length of `AnyValue` holding `value` (its oneof always written when set).
fn any_value_len(value: &Value) -> usize {
    match value {
        Value::Null => 0,
        Value::String(s) => delimited_len(1, s.len()),
        Value::Bool(_) => key_len(2) + 1,
        Value::Int(i) => key_len(3) + encoded_len_varint(*i as u64),
        Value::Double(_) => key_len(4) + 8,
        Value::Array(items) => delimited_len(5, array_len(items)),
        Value::Map(map) => delimited_len(6, key_values_len(1, map)),
        Value::Bytes(b) => delimited_len(7, b.len()),
    }
}

/// The content length of an `ArrayValue`.
fn array_len(items: &[Value]) -> usize {
    items
        .iter()
        .map(|item| delimited_len(1, any_value_len(item)))
        .sum()
}

/// The length of a map's `KeyValue`s as repeated field `tag`.
fn key_values_len(tag: u32, map: &Map) -> usize {
    map.iter()
        .map(|(key, value)| delimited_len(tag, key_value_len(key, value)))
        .sum()
}

/// The content length of a `KeyValue` (its value always set).
fn key_value_len(key: &str, value: &Value) -> usize {
    bytes_len(1, key.as_bytes()) + delimited_len(2, any_value_len(value))
}

fn write_any_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => {}
        Value::String(s) => {
            write_header(1, s.len(), out);
            out.extend_from_slice(s.as_bytes());
        }
        Value::Bool(b) => {
            encode_key(2, WireType::Varint, out);
            encode_varint(u64::from(*b), out);
        }
        Value::Int(i) => {
            encode_key(3, WireType::Varint, out);
            encode_varint(*i as u64, out);
        }
        Value::Double(d) => {
            encode_key(4, WireType::SixtyFourBit, out);
            out.extend_from_slice(&d.to_le_bytes());
        }
        Value::Array(items) => {
            write_header(5, array_len(items), out);
            for item in items {
                write_header(1, any_value_len(item), out);
                write_any_value(item, out);
            }
        }
        Value::Map(map) => {
            write_header(6, key_values_len(1, map), out);
            write_key_values(1, map, out);
        }
        Value::Bytes(b) => {
            write_header(7, b.len(), out);
            out.extend_from_slice(b);
        }
    }
}

fn write_key_values(tag: u32, map: &Map, out: &mut Vec<u8>) {
    for (key, value) in map {
        write_header(tag, key_value_len(key, value), out);
        write_bytes(1, key.as_bytes(), out);
        write_header(2, any_value_len(value), out);
        write_any_value(value, out);
    }
}

/// A timestamp as the record holds it (a negative one is unset).
fn nanos(time: i64) -> u64 {
    u64::try_from(time).unwrap_or(0)
}

/// The content length of the `LogRecord` of `entry`, as `Entry::into_log_record` makes it.
fn record_len(entry: &Entry) -> usize {
    let fixed64 = |value: u64| if value == 0 { 0 } else { key_len(1) + 8 };
    fixed64(nanos(entry.timestamp))
        + if entry.severity == 0 {
            0
        } else {
            key_len(2) + encoded_len_varint(i64::from(entry.severity) as u64)
        }
        + bytes_len(3, entry.severity_text.as_bytes())
        + match &entry.body {
            Value::Null => 0,
            body => delimited_len(5, any_value_len(body)),
        }
        + key_values_len(6, &entry.attributes)
        + if entry.trace_flags == 0 {
            0
        } else {
            key_len(8) + 4
        }
        + bytes_len(9, &entry.trace_id)
        + bytes_len(10, &entry.span_id)
        + fixed64(nanos(entry.observed_timestamp))
}

/// Writes the `LogRecord` of `entry`, fields in tag order as prost writes them.
fn write_record(entry: &Entry, out: &mut Vec<u8>) {
    let time = nanos(entry.timestamp);
    if time != 0 {
        encode_key(1, WireType::SixtyFourBit, out);
        out.extend_from_slice(&time.to_le_bytes());
    }
    if entry.severity != 0 {
        encode_key(2, WireType::Varint, out);
        encode_varint(i64::from(entry.severity) as u64, out);
    }
    write_bytes(3, entry.severity_text.as_bytes(), out);
    if !matches!(entry.body, Value::Null) {
        write_header(5, any_value_len(&entry.body), out);
        write_any_value(&entry.body, out);
    }
    write_key_values(6, &entry.attributes, out);
    if entry.trace_flags != 0 {
        encode_key(8, WireType::ThirtyTwoBit, out);
        out.extend_from_slice(&u32::from(entry.trace_flags).to_le_bytes());
    }
    write_bytes(9, &entry.trace_id, out);
    write_bytes(10, &entry.span_id, out);
    let observed = nanos(entry.observed_timestamp);
    if observed != 0 {
        encode_key(11, WireType::SixtyFourBit, out);
        out.extend_from_slice(&observed.to_le_bytes());
    }
}

/// Encodes entries as an `ExportLogsServiceRequest`, grouped by resource and scope as
/// [`group_entries`](super::group_entries) groups them: the same bytes prost writes for
/// that request.
pub fn encode_entries(entries: Vec<Entry>) -> Vec<u8> {
    let groups = group(entries);
    let record_lens: Vec<usize> = groups
        .iter()
        .flat_map(|(_, scopes)| scopes.iter().flat_map(|(_, entries)| entries))
        .map(record_len)
        .collect();
    // InstrumentationScope { name } and ScopeLogs { scope, log_records }; `lens` are its
    // records' lengths.
    let scope_len = |name: &str, lens: &[usize]| {
        delimited_len(1, bytes_len(1, name.as_bytes()))
            + lens.iter().map(|&n| delimited_len(2, n)).sum::<usize>()
    };
    // Resource { attributes } and ResourceLogs { resource, scope_logs }, with the
    // resource's scope lengths.
    let mut lens = record_lens.as_slice();
    let mut resource_lens = Vec::with_capacity(groups.len());
    let mut scope_lens = Vec::new();
    for (resource, scopes) in &groups {
        let mut len = delimited_len(1, key_values_len(1, resource));
        for (name, entries) in scopes {
            let (these, rest) = lens.split_at(entries.len());
            lens = rest;
            let scope = scope_len(name, these);
            scope_lens.push(scope);
            len += delimited_len(2, scope);
        }
        resource_lens.push(len);
    }
    let total = resource_lens.iter().map(|&n| delimited_len(1, n)).sum();
    let mut out = Vec::with_capacity(total);
    let (mut record_lens, mut scope_lens) = (record_lens.iter(), scope_lens.iter());
    for ((resource, scopes), resource_len) in groups.iter().zip(resource_lens) {
        write_header(1, resource_len, &mut out);
        write_header(1, key_values_len(1, resource), &mut out);
        write_key_values(1, resource, &mut out);
        for (name, entries) in scopes {
            write_header(2, scope_lens.next().copied().unwrap_or_default(), &mut out);
            write_header(1, bytes_len(1, name.as_bytes()), &mut out);
            write_bytes(1, name.as_bytes(), &mut out);
            for entry in entries {
                write_header(2, record_lens.next().copied().unwrap_or_default(), &mut out);
                write_record(entry, &mut out);
            }
        }
    }
    debug_assert_eq!(out.len(), total);
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use prost::Message;
    use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;

    use super::super::group_entries;
    use super::*;

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            ".{0,8}".prop_map(Value::String),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::Int),
            any::<f64>().prop_map(Value::Double),
            proptest::collection::vec(any::<u8>(), 0..6).prop_map(Value::Bytes),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("[a-c]{0,2}", inner, 0..4).prop_map(Value::Map),
            ]
        })
    }

    fn map() -> impl Strategy<Value = Map> {
        proptest::collection::btree_map("[a-c]{0,2}", value(), 0..4)
    }

    prop_compose! {
        fn entry()(
            observed_timestamp in prop_oneof![Just(0i64), any::<i64>()],
            timestamp in prop_oneof![Just(0i64), any::<i64>()],
            body in value(),
            attributes in map(),
            resource in prop_oneof![Just(Map::new()), map()],
            severity in prop_oneof![Just(0i32), any::<i32>()],
            severity_text in "[A-Z]{0,4}",
            trace_id in proptest::collection::vec(any::<u8>(), 0..17),
            span_id in proptest::collection::vec(any::<u8>(), 0..9),
            trace_flags in any::<u8>(),
            scope_name in "[xy]{0,1}",
        ) -> Entry {
            Entry {
                observed_timestamp, timestamp, body, attributes, resource, severity,
                severity_text, trace_id, span_id, trace_flags, scope_name, origin: None,
            }
        }
    }

    proptest! {
        #[test]
        fn writes_what_prost_writes_for_the_grouped_records(
            entries in proptest::collection::vec(entry(), 0..6),
        ) {
            let expected = ExportLogsServiceRequest {
                resource_logs: group_entries(entries.clone()),
            }
            .encode_to_vec();
            prop_assert_eq!(encode_entries(entries), expected);
        }
    }
}
