//! A schema-aware walk over OTLP protobuf bytes: validates them exactly as prost's decoding
//! of the `opentelemetry-proto` 0.33 types would, and counts items (spans, metric data
//! points, log records) in the same pass, without decoding or allocating.
//!
//! A [`Payload`](super::Payload) decoded from bytes keeps only the bytes and the count, and
//! decodes on first use. For that to be safe the walk must accept **exactly** what
//! `prost::Message::decode` accepts for the request type, so a lazy decode can never fail
//! later. The rules, each mirroring `prost::encoding` 0.14:
//!
//! * **Keys**: a varint of at most `u32::MAX`; wire type 0, 1, 2, 3, 4 or 5; tag at least 1.
//! * **Varints**: at most 10 bytes, and a 10th byte of at most 1 (no overflow past 64 bits);
//!   any value is accepted for `int32`, `uint32`, `sint32`, `bool` and enums (prost
//!   truncates, it does not range-check).
//! * **Known fields** must have their type's wire type: varint for integers, bools and
//!   enums; 32-bit for `fixed32`; 64-bit for `fixed64`, `sfixed64` and `double` (also
//!   `optional double`); length-delimited for strings, bytes and messages. A repeated
//!   scalar (`fixed64 bucket_counts`, `double explicit_bounds`, `uint64 bucket_counts`)
//!   may be packed (length-delimited, holding whole elements only) or unpacked (one element
//!   with the scalar's wire type).
//! * **Lengths** may not run past the end of the enclosing message.
//! * **Strings** (every `string` field, including `repeated string`) must be valid UTF-8.
//! * **Oneofs** are their variants' fields; a metric whose `data` oneof appears more than
//!   once keeps the last variant, merged with earlier occurrences of the same variant, as
//!   prost does (this matters for the data point count).
//! * **Unknown fields** of every wire type are skipped when well-formed; a group is skipped
//!   up to its matching end-group key; a stray end-group key is an error.
//! * **Recursion limit**: prost's context starts at 100 at the top level. Entering a nested
//!   message needs it to be above 0 and takes one off, and so does skipping any unknown
//!   field (each level of an unknown group takes one more). So the 100th nested message is
//!   accepted and the 101st is not, and a message at depth 100 may hold no unknown field.
//!
//! Every rule is checked against prost itself by differential property tests in
//! `walker_tests.rs`.

use super::Signal;

/// Why the bytes are not a valid request. The details are prost's: on a rejection the
/// payload runs prost's decoder for its error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Invalid(pub(crate) &'static str);

/// prost's `RECURSION_LIMIT`.
pub(crate) const RECURSION_LIMIT: u32 = 100;

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
pub(crate) const LEN: u8 = 2;
const START_GROUP: u8 = 3;
const END_GROUP: u8 = 4;
const FIXED32: u8 = 5;

/// `Metric.metadata`: the one message field of a metric outside its `data` oneof.
const METRIC_METADATA: u32 = 12;

/// Validates `bytes` as an OTLP export request of `signal` and counts its items.
pub(crate) fn validate(signal: Signal, bytes: &[u8]) -> Result<usize, Invalid> {
    let root = match signal {
        Signal::Traces => Msg::TracesRequest,
        Signal::Metrics => Msg::MetricsRequest,
        Signal::Logs => Msg::LogsRequest,
    };
    walk(root, bytes, RECURSION_LIMIT)
}

/// Reads one top-level field of a request of `signal`: for a resource (field 1), its
/// bytes and items, otherwise (an unknown field, skipped) `None`.
pub(crate) fn top_level_field<'a>(
    signal: Signal,
    buf: &mut &'a [u8],
) -> Result<Option<(&'a [u8], usize)>, Invalid> {
    let resource = match signal {
        Signal::Traces => Msg::ResourceSpans,
        Signal::Metrics => Msg::ResourceMetrics,
        Signal::Logs => Msg::ResourceLogs,
    };
    let (tag, wire_type) = key(buf)?;
    if tag != 1 {
        skip_field(wire_type, tag, buf, RECURSION_LIMIT)?;
        return Ok(None);
    }
    expect(wire_type, LEN)?;
    let body = delimited(buf)?;
    let items = walk(resource, body, RECURSION_LIMIT - 1)?;
    Ok(Some((body, items)))
}

/// The items in one leaf of a request of `signal` (its bytes without the length prefix):
/// 1 for a span or log record, a metric's data points.
pub(crate) fn leaf_items(signal: Signal, bytes: &[u8]) -> Result<usize, Invalid> {
    match signal {
        Signal::Traces | Signal::Logs => Ok(1),
        // A metric sits at depth 4: request, resource, scope, metric.
        Signal::Metrics => walk(Msg::Metric, bytes, RECURSION_LIMIT - 3),
    }
}

/// The message types of the OTLP trace, metrics and logs requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Msg {
    TracesRequest,
    ResourceSpans,
    ScopeSpans,
    Span,
    Event,
    Link,
    Status,
    LogsRequest,
    ResourceLogs,
    ScopeLogs,
    LogRecord,
    MetricsRequest,
    ResourceMetrics,
    ScopeMetrics,
    Metric,
    Gauge,
    Sum,
    Histogram,
    ExponentialHistogram,
    Summary,
    NumberDataPoint,
    HistogramDataPoint,
    ExponentialHistogramDataPoint,
    Buckets,
    SummaryDataPoint,
    ValueAtQuantile,
    Exemplar,
    Resource,
    EntityRef,
    InstrumentationScope,
    KeyValue,
    AnyValue,
    ArrayValue,
    KeyValueList,
}

/// How a field of a message is encoded.
#[derive(Clone, Copy, Debug)]
enum Field {
    /// `int32`, `int64`, `uint32`, `sint32`, `bool`, enums.
    Varint,
    /// `fixed32`.
    Fixed32,
    /// `fixed64`, `sfixed64`, `double`.
    Fixed64,
    /// `bytes`.
    Bytes,
    /// `string` (also each element of a `repeated string`).
    Str,
    /// `repeated uint64`: packed or not.
    RepeatedVarint,
    /// `repeated fixed64` or `repeated double`: packed or not.
    RepeatedFixed64,
    /// A message (singular, repeated, or a oneof variant).
    Message(Msg),
    /// Not in the schema: skipped.
    Unknown,
}

/// The schema: each message's fields by tag, from the generated code of
/// `opentelemetry-proto` 0.33.1 (`src/proto/tonic/opentelemetry.proto.*.rs`).
fn field(msg: Msg, tag: u32) -> Field {
    use Field::*;
    match msg {
        // ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1 }
        Msg::TracesRequest => match tag {
            1 => Message(Msg::ResourceSpans),
            _ => Unknown,
        },
        Msg::ResourceSpans => match tag {
            1 => Message(Msg::Resource),
            2 => Message(Msg::ScopeSpans),
            3 => Str,
            _ => Unknown,
        },
        Msg::ScopeSpans => match tag {
            1 => Message(Msg::InstrumentationScope),
            2 => Message(Msg::Span),
            3 => Str,
            _ => Unknown,
        },
        Msg::Span => match tag {
            1 | 2 | 4 => Bytes, // trace_id, span_id, parent_span_id
            3 | 5 => Str,       // trace_state, name
            6 => Varint,        // kind (enum)
            7 | 8 => Fixed64,   // start/end_time_unix_nano
            9 => Message(Msg::KeyValue),
            10 | 12 | 14 => Varint, // dropped_*_count (uint32)
            11 => Message(Msg::Event),
            13 => Message(Msg::Link),
            15 => Message(Msg::Status),
            16 => Fixed32, // flags
            _ => Unknown,
        },
        Msg::Event => match tag {
            1 => Fixed64, // time_unix_nano
            2 => Str,     // name
            3 => Message(Msg::KeyValue),
            4 => Varint, // dropped_attributes_count
            _ => Unknown,
        },
        Msg::Link => match tag {
            1 | 2 => Bytes, // trace_id, span_id
            3 => Str,       // trace_state
            4 => Message(Msg::KeyValue),
            5 => Varint,  // dropped_attributes_count
            6 => Fixed32, // flags
            _ => Unknown,
        },
        Msg::Status => match tag {
            2 => Str,    // message
            3 => Varint, // code (enum)
            _ => Unknown,
        },
        // ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1 }
        Msg::LogsRequest => match tag {
            1 => Message(Msg::ResourceLogs),
            _ => Unknown,
        },
        Msg::ResourceLogs => match tag {
            1 => Message(Msg::Resource),
            2 => Message(Msg::ScopeLogs),
            3 => Str,
            _ => Unknown,
        },
        Msg::ScopeLogs => match tag {
            1 => Message(Msg::InstrumentationScope),
            2 => Message(Msg::LogRecord),
            3 => Str,
            _ => Unknown,
        },
        Msg::LogRecord => match tag {
            1 | 11 => Fixed64, // time_unix_nano, observed_time_unix_nano
            2 | 7 => Varint,   // severity_number (enum), dropped_attributes_count
            3 | 12 => Str,     // severity_text, event_name
            5 => Message(Msg::AnyValue),
            6 => Message(Msg::KeyValue),
            8 => Fixed32,    // flags
            9 | 10 => Bytes, // trace_id, span_id
            _ => Unknown,
        },
        // ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1 }
        Msg::MetricsRequest => match tag {
            1 => Message(Msg::ResourceMetrics),
            _ => Unknown,
        },
        Msg::ResourceMetrics => match tag {
            1 => Message(Msg::Resource),
            2 => Message(Msg::ScopeMetrics),
            3 => Str,
            _ => Unknown,
        },
        Msg::ScopeMetrics => match tag {
            1 => Message(Msg::InstrumentationScope),
            2 => Message(Msg::Metric),
            3 => Str,
            _ => Unknown,
        },
        Msg::Metric => match tag {
            1..=3 => Str, // name, description, unit
            METRIC_METADATA => Message(Msg::KeyValue),
            // oneof data
            5 => Message(Msg::Gauge),
            7 => Message(Msg::Sum),
            9 => Message(Msg::Histogram),
            10 => Message(Msg::ExponentialHistogram),
            11 => Message(Msg::Summary),
            _ => Unknown,
        },
        Msg::Gauge => match tag {
            1 => Message(Msg::NumberDataPoint),
            _ => Unknown,
        },
        Msg::Sum => match tag {
            1 => Message(Msg::NumberDataPoint),
            2 | 3 => Varint, // aggregation_temporality (enum), is_monotonic (bool)
            _ => Unknown,
        },
        Msg::Histogram => match tag {
            1 => Message(Msg::HistogramDataPoint),
            2 => Varint,
            _ => Unknown,
        },
        Msg::ExponentialHistogram => match tag {
            1 => Message(Msg::ExponentialHistogramDataPoint),
            2 => Varint,
            _ => Unknown,
        },
        Msg::Summary => match tag {
            1 => Message(Msg::SummaryDataPoint),
            _ => Unknown,
        },
        Msg::NumberDataPoint => match tag {
            7 => Message(Msg::KeyValue),
            2 | 3 => Fixed64, // start_time_unix_nano, time_unix_nano
            5 => Message(Msg::Exemplar),
            8 => Varint, // flags
            // oneof value: as_double (double), as_int (sfixed64)
            4 | 6 => Fixed64,
            _ => Unknown,
        },
        Msg::HistogramDataPoint => match tag {
            9 => Message(Msg::KeyValue),
            2..=5 => Fixed64,         // start_time, time, count, optional sum
            6 | 7 => RepeatedFixed64, // bucket_counts, explicit_bounds
            8 => Message(Msg::Exemplar),
            10 => Varint,       // flags
            11 | 12 => Fixed64, // optional min, max
            _ => Unknown,
        },
        Msg::ExponentialHistogramDataPoint => match tag {
            1 => Message(Msg::KeyValue),
            2..=5 | 7 => Fixed64, // start_time, time, count, optional sum, zero_count
            6 | 10 => Varint,     // scale (sint32), flags
            8 | 9 => Message(Msg::Buckets),
            11 => Message(Msg::Exemplar),
            12..=14 => Fixed64, // optional min, max, zero_threshold
            _ => Unknown,
        },
        Msg::Buckets => match tag {
            1 => Varint,         // offset (sint32)
            2 => RepeatedVarint, // bucket_counts (uint64)
            _ => Unknown,
        },
        Msg::SummaryDataPoint => match tag {
            7 => Message(Msg::KeyValue),
            2..=5 => Fixed64, // start_time, time, count, sum
            6 => Message(Msg::ValueAtQuantile),
            8 => Varint, // flags
            _ => Unknown,
        },
        Msg::ValueAtQuantile => match tag {
            1 | 2 => Fixed64, // quantile, value (double)
            _ => Unknown,
        },
        Msg::Exemplar => match tag {
            7 => Message(Msg::KeyValue),
            2 => Fixed64,   // time_unix_nano
            4 | 5 => Bytes, // span_id, trace_id
            // oneof value: as_double (double), as_int (sfixed64)
            3 | 6 => Fixed64,
            _ => Unknown,
        },
        // Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2;
        //            repeated EntityRef entity_refs = 3 }
        Msg::Resource => match tag {
            1 => Message(Msg::KeyValue),
            2 => Varint,
            3 => Message(Msg::EntityRef),
            _ => Unknown,
        },
        // EntityRef { string schema_url = 1; string type = 2; repeated string id_keys = 3;
        //             repeated string description_keys = 4 }
        Msg::EntityRef => match tag {
            1..=4 => Str,
            _ => Unknown,
        },
        Msg::InstrumentationScope => match tag {
            1 | 2 => Str, // name, version
            3 => Message(Msg::KeyValue),
            4 => Varint, // dropped_attributes_count
            _ => Unknown,
        },
        // An attribute, with its value, is walked by `walk_key_value`, which follows the
        // same schema; values elsewhere (log bodies, array elements) by `walk`.
        // KeyValue { string key = 1; AnyValue value = 2; int32 key_strindex = 3 }
        Msg::KeyValue => match tag {
            1 => Str,
            2 => Message(Msg::AnyValue),
            3 => Varint,
            _ => Unknown,
        },
        // AnyValue { oneof value { string = 1; bool = 2; int64 = 3; double = 4;
        //   ArrayValue = 5; KeyValueList = 6; bytes = 7; int32 string_value_strindex = 8 } }
        Msg::AnyValue => match tag {
            1 => Str,
            2 | 3 | 8 => Varint,
            4 => Fixed64,
            5 => Message(Msg::ArrayValue),
            6 => Message(Msg::KeyValueList),
            7 => Bytes,
            _ => Unknown,
        },
        Msg::ArrayValue => match tag {
            1 => Message(Msg::AnyValue),
            _ => Unknown,
        },
        Msg::KeyValueList => match tag {
            1 => Message(Msg::KeyValue),
            _ => Unknown,
        },
    }
}

/// Whether one message of this type is one item (its own content is not counted).
fn is_item(msg: Msg) -> bool {
    matches!(
        msg,
        Msg::Span
            | Msg::LogRecord
            | Msg::NumberDataPoint
            | Msg::HistogramDataPoint
            | Msg::ExponentialHistogramDataPoint
            | Msg::SummaryDataPoint
    )
}

/// Walks the fields of one message of type `msg` (its bytes without the length prefix),
/// with prost's recursion context `ctx` as its fields see it. Returns its items: 1 for an
/// item, a metric's data points, otherwise the sum over its nested messages.
fn walk(msg: Msg, mut buf: &[u8], ctx: u32) -> Result<usize, Invalid> {
    let mut items = 0usize;
    // A metric's `data` oneof: the variant's tag and its data points so far.
    let mut data: (u32, usize) = (0, 0);
    while !buf.is_empty() {
        let (tag, wire_type) = key(&mut buf)?;
        match field(msg, tag) {
            Field::Varint => {
                expect(wire_type, VARINT)?;
                varint(&mut buf)?;
            }
            Field::Fixed32 => {
                expect(wire_type, FIXED32)?;
                advance(&mut buf, 4)?;
            }
            Field::Fixed64 => {
                expect(wire_type, FIXED64)?;
                advance(&mut buf, 8)?;
            }
            Field::Bytes => {
                expect(wire_type, LEN)?;
                delimited(&mut buf)?;
            }
            Field::Str => string(wire_type, &mut buf)?,
            Field::RepeatedVarint => {
                if wire_type == LEN {
                    let mut packed = delimited(&mut buf)?;
                    while !packed.is_empty() {
                        varint(&mut packed)?;
                    }
                } else {
                    expect(wire_type, VARINT)?;
                    varint(&mut buf)?;
                }
            }
            Field::RepeatedFixed64 => {
                if wire_type == LEN {
                    if delimited(&mut buf)?.len() % 8 != 0 {
                        return Err(Invalid("buffer underflow"));
                    }
                } else {
                    expect(wire_type, FIXED64)?;
                    advance(&mut buf, 8)?;
                }
            }
            Field::Message(nested) => {
                expect(wire_type, LEN)?;
                if ctx == 0 {
                    return Err(Invalid("recursion limit reached"));
                }
                let body = delimited(&mut buf)?;
                // Attributes have a loop of their own (and hold no items). Sending values
                // (log bodies, array elements) to `walk_any_value` as well measured 15 %
                // slower on spans: it is then no longer inlined into the attribute loop.
                let count = if nested == Msg::KeyValue {
                    walk_key_value(body, ctx - 1)?;
                    0
                } else {
                    walk(nested, body, ctx - 1)?
                };
                if msg == Msg::Metric && tag != METRIC_METADATA {
                    // One of the `data` oneof's variants.
                    if data.0 == tag {
                        data.1 += count;
                    } else {
                        data = (tag, count);
                    }
                } else {
                    items += count;
                }
            }
            Field::Unknown => skip_field(wire_type, tag, &mut buf, ctx)?,
        }
    }
    Ok(if is_item(msg) {
        1
    } else if msg == Msg::Metric {
        data.1
    } else {
        items
    })
}

/// `walk(Msg::KeyValue, ..)` written out, with its `AnyValue`: attributes are most of a
/// request's fields, and this saves the generic walk's dispatch per field and a call per
/// value. (Neither holds items.) It has the same schema as `field(Msg::KeyValue, ..)`.
fn walk_key_value(mut buf: &[u8], ctx: u32) -> Result<(), Invalid> {
    while !buf.is_empty() {
        let (tag, wire_type) = key(&mut buf)?;
        match tag {
            1 => string(wire_type, &mut buf)?,
            2 => {
                expect(wire_type, LEN)?;
                if ctx == 0 {
                    return Err(Invalid("recursion limit reached"));
                }
                walk_any_value(delimited(&mut buf)?, ctx - 1)?;
            }
            3 => {
                expect(wire_type, VARINT)?;
                varint(&mut buf)?;
            }
            _ => skip_field(wire_type, tag, &mut buf, ctx)?,
        }
    }
    Ok(())
}

/// `walk(Msg::AnyValue, ..)` written out; arrays and maps go back to the generic walk.
/// It has the same schema as `field(Msg::AnyValue, ..)`.
fn walk_any_value(mut buf: &[u8], ctx: u32) -> Result<(), Invalid> {
    while !buf.is_empty() {
        let (tag, wire_type) = key(&mut buf)?;
        match tag {
            1 => string(wire_type, &mut buf)?,
            2 | 3 | 8 => {
                expect(wire_type, VARINT)?;
                varint(&mut buf)?;
            }
            4 => {
                expect(wire_type, FIXED64)?;
                advance(&mut buf, 8)?;
            }
            7 => {
                expect(wire_type, LEN)?;
                delimited(&mut buf)?;
            }
            5 | 6 => {
                expect(wire_type, LEN)?;
                if ctx == 0 {
                    return Err(Invalid("recursion limit reached"));
                }
                let nested = if tag == 5 {
                    Msg::ArrayValue
                } else {
                    Msg::KeyValueList
                };
                walk(nested, delimited(&mut buf)?, ctx - 1)?;
            }
            _ => skip_field(wire_type, tag, &mut buf, ctx)?,
        }
    }
    Ok(())
}

/// A `string` field: length-delimited, UTF-8.
#[inline(always)]
fn string(wire_type: u8, buf: &mut &[u8]) -> Result<(), Invalid> {
    expect(wire_type, LEN)?;
    if is_utf8(delimited(buf)?) {
        Ok(())
    } else {
        Err(Invalid("invalid string value: data is not UTF-8 encoded"))
    }
}

/// Skips an unknown field, as `prost::encoding::skip_field`.
pub(crate) fn skip_field(
    wire_type: u8,
    tag: u32,
    buf: &mut &[u8],
    ctx: u32,
) -> Result<(), Invalid> {
    if ctx == 0 {
        return Err(Invalid("recursion limit reached"));
    }
    match wire_type {
        VARINT => varint(buf).map(drop),
        FIXED64 => advance(buf, 8),
        LEN => delimited(buf).map(drop),
        FIXED32 => advance(buf, 4),
        START_GROUP => loop {
            let (inner_tag, inner_wire_type) = key(buf)?;
            if inner_wire_type == END_GROUP {
                if inner_tag != tag {
                    return Err(Invalid("unexpected end group tag"));
                }
                return Ok(());
            }
            skip_field(inner_wire_type, inner_tag, buf, ctx - 1)?;
        },
        _ => Err(Invalid("unexpected end group tag")),
    }
}

/// Whether a string field's bytes are UTF-8, as prost checks them. Most OTLP strings are
/// short ASCII (attribute keys and values, names): an OR over the bytes, which the compiler
/// vectorises, decides those inline; a call to `str::from_utf8` per string cost as much as
/// the rest of the walk.
#[inline(always)]
fn is_utf8(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |acc, &byte| acc | byte) < 0x80 || std::str::from_utf8(bytes).is_ok()
}

fn expect(actual: u8, expected: u8) -> Result<(), Invalid> {
    if actual == expected {
        Ok(())
    } else {
        Err(Invalid("invalid wire type"))
    }
}

/// A field key, as `prost::encoding::decode_key`: (tag, wire type).
#[inline]
pub(crate) fn key(buf: &mut &[u8]) -> Result<(u32, u8), Invalid> {
    let key = varint(buf)?;
    if key > u64::from(u32::MAX) {
        return Err(Invalid("invalid key value"));
    }
    let wire_type = (key & 0x07) as u8;
    if wire_type > FIXED32 {
        return Err(Invalid("invalid wire type value"));
    }
    let tag = (key as u32) >> 3;
    if tag == 0 {
        return Err(Invalid("invalid tag value: 0"));
    }
    Ok((tag, wire_type))
}

/// A varint, as `prost::encoding::decode_varint`: at most 10 bytes, no overflow.
#[inline]
pub(crate) fn varint(buf: &mut &[u8]) -> Result<u64, Invalid> {
    let bytes = *buf;
    match bytes.first() {
        Some(&byte) if byte < 0x80 => {
            *buf = &bytes[1..];
            return Ok(u64::from(byte));
        }
        None => return Err(Invalid("invalid varint")),
        Some(_) => {}
    }
    let mut value = 0u64;
    for (i, &byte) in bytes.iter().take(10).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            if i == 9 && byte >= 0x02 {
                return Err(Invalid("invalid varint"));
            }
            *buf = &bytes[i + 1..];
            return Ok(value);
        }
    }
    Err(Invalid("invalid varint"))
}

fn advance(buf: &mut &[u8], n: usize) -> Result<(), Invalid> {
    match buf.get(n..) {
        Some(rest) => {
            *buf = rest;
            Ok(())
        }
        None => Err(Invalid("buffer underflow")),
    }
}

/// A length-delimited value: its bytes.
#[inline]
pub(crate) fn delimited<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8], Invalid> {
    let len = varint(buf)?;
    let bytes = *buf;
    if len > bytes.len() as u64 {
        return Err(Invalid("buffer underflow"));
    }
    let (value, rest) = bytes.split_at(len as usize);
    *buf = rest;
    Ok(value)
}
