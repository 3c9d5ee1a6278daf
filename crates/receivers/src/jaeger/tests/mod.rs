//! Tests of the `jaeger` receiver, and the Thrift writers they send with (the inverse of
//! the readers, from the same model types).

mod config;
mod servers;
mod thrift;
mod translate;

use ::thrift::protocol::{
    TBinaryOutputProtocol, TCompactOutputProtocol, TFieldIdentifier, TListIdentifier,
    TMessageIdentifier, TMessageType, TOutputProtocol, TStructIdentifier, TType,
};

use super::model::{
    Batch, Duration, KeyValue, Log, Process, Span, SpanRef, SpanRefType, Timestamp, ValueType,
};

/// A small batch with every feature: two spans, a parent, a FOLLOWS_FROM link, tags of
/// every type, a log, a scope.
pub(super) fn sample_batch() -> Batch {
    let trace = [[0x11u8; 8], [0x22; 8]].concat();
    Batch {
        process: Some(Process {
            service_name: "checkout".into(),
            tags: vec![
                tag_str("hostname", "web-1"),
                tag_str("jaeger.version", "Go-2.30"),
            ],
        }),
        spans: vec![
            Span {
                trace_id: trace.clone(),
                span_id: vec![0, 0, 0, 0, 0, 0, 0, 1],
                operation_name: "GET /cart".into(),
                flags: 1,
                start_time: Some(Timestamp {
                    seconds: 1_700_000_000,
                    nanos: 5_000,
                }),
                duration: Some(Duration {
                    seconds: 0,
                    nanos: 250_000,
                }),
                tags: vec![
                    tag_str("span.kind", "server"),
                    tag_str("otel.scope.name", "shop"),
                    tag_str("otel.scope.version", "1.2"),
                    KeyValue {
                        key: "http.status_code".into(),
                        v_type: ValueType::Int64 as i32,
                        v_int64: 503,
                        ..KeyValue::default()
                    },
                    KeyValue {
                        key: "ratio".into(),
                        v_type: ValueType::Float64 as i32,
                        v_float64: 0.5,
                        ..KeyValue::default()
                    },
                    KeyValue {
                        key: "cached".into(),
                        v_type: ValueType::Bool as i32,
                        v_bool: true,
                        ..KeyValue::default()
                    },
                    KeyValue {
                        key: "blob".into(),
                        v_type: ValueType::Binary as i32,
                        v_binary: vec![1, 2, 3],
                        ..KeyValue::default()
                    },
                ],
                logs: vec![Log {
                    timestamp: Some(Timestamp {
                        seconds: 1_700_000_000,
                        nanos: 100_000,
                    }),
                    fields: vec![tag_str("event", "retry"), tag_str("attempt", "2")],
                }],
                ..Span::default()
            },
            Span {
                trace_id: trace.clone(),
                span_id: vec![0, 0, 0, 0, 0, 0, 0, 2],
                operation_name: "SELECT".into(),
                references: vec![
                    SpanRef {
                        trace_id: trace.clone(),
                        span_id: vec![0, 0, 0, 0, 0, 0, 0, 1],
                        ref_type: SpanRefType::ChildOf as i32,
                    },
                    SpanRef {
                        trace_id: [[0x33u8; 8], [0x44; 8]].concat(),
                        span_id: vec![9; 8],
                        ref_type: SpanRefType::FollowsFrom as i32,
                    },
                ],
                start_time: Some(Timestamp {
                    seconds: 1_700_000_000,
                    nanos: 10_000,
                }),
                duration: Some(Duration {
                    seconds: 0,
                    nanos: 100_000,
                }),
                tags: vec![
                    tag_str("span.kind", "client"),
                    KeyValue {
                        key: "error".into(),
                        v_type: ValueType::Bool as i32,
                        v_bool: true,
                        ..KeyValue::default()
                    },
                    tag_str("otel.status_description", "timeout"),
                ],
                ..Span::default()
            },
        ],
    }
}

pub(super) fn tag_str(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        v_type: ValueType::String as i32,
        v_str: value.into(),
        ..KeyValue::default()
    }
}

/// `batch` as an agent's `emitBatch` datagram in the compact protocol.
pub(super) fn compact_datagram(batch: &Batch) -> Vec<u8> {
    let mut out = Vec::new();
    write_emit_batch(&mut TCompactOutputProtocol::new(&mut out), batch);
    out
}

/// `batch` as an agent's `emitBatch` datagram in the binary protocol.
pub(super) fn binary_datagram(batch: &Batch) -> Vec<u8> {
    let mut out = Vec::new();
    write_emit_batch(&mut TBinaryOutputProtocol::new(&mut out, true), batch);
    out
}

/// `batch` as a Thrift binary body for `/api/traces`.
pub(super) fn binary_batch(batch: &Batch) -> Vec<u8> {
    let mut out = Vec::new();
    write_batch(&mut TBinaryOutputProtocol::new(&mut out, true), batch);
    out
}

fn write_emit_batch(p: &mut dyn TOutputProtocol, batch: &Batch) {
    p.write_message_begin(&TMessageIdentifier::new(
        "emitBatch",
        TMessageType::OneWay,
        1,
    ))
    .unwrap();
    p.write_struct_begin(&TStructIdentifier::new("emitBatch_args"))
        .unwrap();
    field(p, TType::Struct, 1);
    write_batch(p, batch);
    p.write_field_end().unwrap();
    p.write_field_stop().unwrap();
    p.write_struct_end().unwrap();
    p.write_message_end().unwrap();
    p.flush().unwrap();
}

fn field(p: &mut dyn TOutputProtocol, kind: TType, id: i16) {
    p.write_field_begin(&TFieldIdentifier::new("f", kind, id))
        .unwrap();
}

fn i64_field(p: &mut dyn TOutputProtocol, id: i16, value: i64) {
    field(p, TType::I64, id);
    p.write_i64(value).unwrap();
    p.write_field_end().unwrap();
}

fn list<T>(
    p: &mut dyn TOutputProtocol,
    id: i16,
    items: &[T],
    write: impl Fn(&mut dyn TOutputProtocol, &T),
) {
    field(p, TType::List, id);
    p.write_list_begin(&TListIdentifier::new(TType::Struct, items.len() as i32))
        .unwrap();
    for item in items {
        write(p, item);
    }
    p.write_list_end().unwrap();
    p.write_field_end().unwrap();
}

fn begin(p: &mut dyn TOutputProtocol) {
    p.write_struct_begin(&TStructIdentifier::new("s")).unwrap();
}

fn end(p: &mut dyn TOutputProtocol) {
    p.write_field_stop().unwrap();
    p.write_struct_end().unwrap();
}

fn halves(id: &[u8]) -> (i64, i64) {
    let high = i64::from_be_bytes(id[..8].try_into().unwrap());
    let low = i64::from_be_bytes(id[8..16].try_into().unwrap());
    (high, low)
}

fn span_id(id: &[u8]) -> i64 {
    i64::from_be_bytes(id[..8].try_into().unwrap())
}

fn micros(seconds: i64, nanos: i32) -> i64 {
    seconds * 1_000_000 + i64::from(nanos) / 1_000
}

pub(super) fn write_batch(p: &mut dyn TOutputProtocol, batch: &Batch) {
    begin(p);
    field(p, TType::Struct, 1);
    let process = batch.process.clone().unwrap_or_default();
    begin(p);
    field(p, TType::String, 1);
    p.write_string(&process.service_name).unwrap();
    p.write_field_end().unwrap();
    list(p, 2, &process.tags, write_tag);
    end(p);
    p.write_field_end().unwrap();
    list(p, 2, &batch.spans, write_span);
    end(p);
}

fn write_span(p: &mut dyn TOutputProtocol, span: &Span) {
    let (high, low) = halves(&span.trace_id);
    // The first CHILD_OF reference is the Thrift parent; the others stay references.
    let parent = span
        .references
        .iter()
        .position(|r| r.ref_type == SpanRefType::ChildOf as i32);
    begin(p);
    i64_field(p, 1, low);
    i64_field(p, 2, high);
    i64_field(p, 3, span_id(&span.span_id));
    i64_field(
        p,
        4,
        parent.map_or(0, |i| span_id(&span.references[i].span_id)),
    );
    field(p, TType::String, 5);
    p.write_string(&span.operation_name).unwrap();
    p.write_field_end().unwrap();
    let references: Vec<&SpanRef> = span
        .references
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != parent)
        .map(|(_, r)| r)
        .collect();
    if !references.is_empty() {
        list(p, 6, &references, |p, r| {
            let (high, low) = halves(&r.trace_id);
            begin(p);
            field(p, TType::I32, 1);
            p.write_i32(r.ref_type).unwrap();
            p.write_field_end().unwrap();
            i64_field(p, 2, low);
            i64_field(p, 3, high);
            i64_field(p, 4, span_id(&r.span_id));
            end(p);
        });
    }
    field(p, TType::I32, 7);
    p.write_i32(span.flags as i32).unwrap();
    p.write_field_end().unwrap();
    let start = span.start_time.unwrap_or_default();
    let duration = span.duration.unwrap_or_default();
    i64_field(p, 8, micros(start.seconds, start.nanos));
    i64_field(p, 9, micros(duration.seconds, duration.nanos));
    list(p, 10, &span.tags, write_tag);
    list(p, 11, &span.logs, |p, log| {
        let t = log.timestamp.unwrap_or_default();
        begin(p);
        i64_field(p, 1, micros(t.seconds, t.nanos));
        list(p, 2, &log.fields, write_tag);
        end(p);
    });
    end(p);
}

fn write_tag(p: &mut dyn TOutputProtocol, tag: &KeyValue) {
    begin(p);
    field(p, TType::String, 1);
    p.write_string(&tag.key).unwrap();
    p.write_field_end().unwrap();
    // The model's value types in Thrift's numbering.
    let (thrift_type, value_field) = match ValueType::try_from(tag.v_type) {
        Ok(ValueType::String) => (0, 3),
        Ok(ValueType::Float64) => (1, 4),
        Ok(ValueType::Bool) => (2, 5),
        Ok(ValueType::Int64) => (3, 6),
        Ok(ValueType::Binary) => (4, 7),
        Err(_) => (tag.v_type, 0),
    };
    field(p, TType::I32, 2);
    p.write_i32(thrift_type).unwrap();
    p.write_field_end().unwrap();
    match value_field {
        3 => {
            field(p, TType::String, 3);
            p.write_string(&tag.v_str).unwrap();
        }
        4 => {
            field(p, TType::Double, 4);
            p.write_double(tag.v_float64).unwrap();
        }
        5 => {
            field(p, TType::Bool, 5);
            p.write_bool(tag.v_bool).unwrap();
        }
        6 => {
            field(p, TType::I64, 6);
            p.write_i64(tag.v_int64).unwrap();
        }
        7 => {
            field(p, TType::String, 7);
            p.write_bytes(&tag.v_binary).unwrap();
        }
        _ => {
            end(p);
            return;
        }
    }
    p.write_field_end().unwrap();
    end(p);
}
