//! Jaeger Thrift: the `jaeger.thrift` structs (`Batch`, `Process`, `Span`, `Tag`, `Log`,
//! `SpanRef`) and the agent's `Agent.emitBatch` call, read with the `thrift` crate's
//! compact and binary protocol readers into the [`model`](super::model) types.
//!
//! There is no Thrift compiler here, so each struct's reader is written out: fields by id
//! and type, unknown fields skipped, required fields checked as generated Thrift code
//! checks them. Everything a peer controls is bounded: strings and containers by the
//! input's length (an element takes at least one byte), nesting by the readers' depth
//! limit, so a datagram or body of `n` bytes cannot make the reader allocate much more
//! than a small multiple of `n`.

use std::fmt;

use thrift::TConfiguration;
use thrift::protocol::{
    TBinaryInputProtocol, TCompactInputProtocol, TInputProtocol, TMessageType, TType,
};

use super::model::{Batch, KeyValue, Log, Process, Span, SpanRef, Timestamp, ValueType};

/// Why a Thrift payload could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

impl From<thrift::Error> for DecodeError {
    fn from(error: thrift::Error) -> Self {
        DecodeError(error.to_string())
    }
}

fn invalid(message: impl Into<String>) -> DecodeError {
    DecodeError(message.into())
}

/// The deepest nesting of Thrift structs accepted. `jaeger.thrift` nests three deep
/// (`Batch` → `Span` → `Log` → `Tag`, inside the call's arguments); skipped unknown fields
/// may add a little.
const MAX_DEPTH: usize = 16;

/// Limits for reading `len` bytes: no string or container can be longer than the input.
fn limits(len: usize) -> TConfiguration {
    TConfiguration::builder()
        .max_message_size(Some(len))
        .max_frame_size(Some(len))
        .max_string_size(Some(len))
        .max_container_size(Some(len))
        .max_recursion_depth(Some(MAX_DEPTH))
        .build()
        .unwrap_or_default()
}

/// Reads an agent datagram in the Thrift compact protocol (the `thrift_compact` port,
/// 6831): an `Agent.emitBatch` call and its `Batch`.
pub fn decode_agent_compact(datagram: &[u8]) -> Result<Batch, DecodeError> {
    let mut protocol = TCompactInputProtocol::with_config(datagram, limits(datagram.len()));
    read_emit_batch(&mut protocol)
}

/// Reads an agent datagram in the Thrift binary protocol (the `thrift_binary` port,
/// 6832): an `Agent.emitBatch` call and its `Batch`. Strict and old-style message headers
/// are both accepted.
pub fn decode_agent_binary(datagram: &[u8]) -> Result<Batch, DecodeError> {
    let mut protocol = TBinaryInputProtocol::with_config(datagram, false, limits(datagram.len()));
    read_emit_batch(&mut protocol)
}

/// Reads a `Batch` in the Thrift binary protocol, as posted to the collector's
/// `/api/traces` (`application/x-thrift`).
pub fn decode_batch_binary(body: &[u8]) -> Result<Batch, DecodeError> {
    let mut protocol = TBinaryInputProtocol::with_config(body, false, limits(body.len()));
    read_batch(&mut protocol)
}

/// The `Agent.emitBatch` call: its message header and its argument struct, whose field 1
/// is the batch.
fn read_emit_batch(p: &mut impl TInputProtocol) -> Result<Batch, DecodeError> {
    let message = p.read_message_begin()?;
    if message.name != "emitBatch" {
        return Err(invalid(format!(
            "unsupported agent call {:?}: only emitBatch is served (emitZipkinBatch is not)",
            message.name
        )));
    }
    if !matches!(
        message.message_type,
        TMessageType::OneWay | TMessageType::Call
    ) {
        return Err(invalid(format!(
            "emitBatch sent as a {:?} message, not a call",
            message.message_type
        )));
    }
    let mut batch = None;
    read_struct(p, |p, id, kind| match (id, kind) {
        (1, TType::Struct) => {
            batch = Some(read_batch(p)?);
            Ok(true)
        }
        _ => Ok(false),
    })?;
    p.read_message_end()?;
    batch.ok_or_else(|| invalid("emitBatch without its batch argument"))
}

/// Reads a struct: `field(p, id, type)` reads the fields it knows and returns `false` for
/// the others, which are skipped, as generated code skips fields of unknown id or
/// unexpected type.
fn read_struct<P, F>(p: &mut P, mut field: F) -> Result<(), DecodeError>
where
    P: TInputProtocol,
    F: FnMut(&mut P, i16, TType) -> Result<bool, DecodeError>,
{
    p.read_struct_begin()?;
    loop {
        let header = p.read_field_begin()?;
        if header.field_type == TType::Stop {
            break;
        }
        let read = match header.id {
            Some(id) => field(p, id, header.field_type)?,
            None => false,
        };
        if !read {
            p.skip(header.field_type)?;
        }
        p.read_field_end()?;
    }
    p.read_struct_end()?;
    Ok(())
}

/// Reads a list of structs with `element`.
fn read_list<P, T>(
    p: &mut P,
    mut element: impl FnMut(&mut P) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError>
where
    P: TInputProtocol,
{
    let list = p.read_list_begin()?;
    if list.size > 0 && list.element_type != TType::Struct {
        return Err(invalid(format!(
            "a list of {:?} where structs were expected",
            list.element_type
        )));
    }
    let size = usize::try_from(list.size).map_err(|_| invalid("a negative list size"))?;
    // Each element takes at least a byte of input, and the readers refuse sizes beyond the
    // input's length; the vector still grows only as elements actually arrive.
    let mut items = Vec::with_capacity(size.min(64));
    for _ in 0..size {
        items.push(element(p)?);
    }
    p.read_list_end()?;
    Ok(items)
}

/// Which required fields of a struct were seen, by field id (1 to 15).
#[derive(Default)]
struct Seen(u16);

impl Seen {
    fn mark(&mut self, id: i16) {
        self.0 |= 1 << id;
    }

    /// An error naming the first of `required` that is missing from `what`.
    fn check(&self, what: &str, required: &[(i16, &str)]) -> Result<(), DecodeError> {
        match required.iter().find(|(id, _)| self.0 & (1 << id) == 0) {
            Some((_, name)) => Err(invalid(format!("{what} without its required {name}"))),
            None => Ok(()),
        }
    }
}

/// `struct Batch { 1: required Process process; 2: required list<Span> spans; 3: optional
/// i64 seqNo; 4: optional ClientStats stats }`.
fn read_batch(p: &mut impl TInputProtocol) -> Result<Batch, DecodeError> {
    let (mut batch, mut seen) = (Batch::default(), Seen::default());
    read_struct(p, |p, id, kind| {
        match (id, kind) {
            (1, TType::Struct) => batch.process = Some(read_process(p)?),
            (2, TType::List) => batch.spans = read_list(p, read_span)?,
            _ => return Ok(false),
        }
        seen.mark(id);
        Ok(true)
    })?;
    seen.check("Batch", &[(1, "process"), (2, "spans")])?;
    Ok(batch)
}

/// `struct Process { 1: required string serviceName; 2: optional list<Tag> tags }`.
fn read_process(p: &mut impl TInputProtocol) -> Result<Process, DecodeError> {
    let (mut process, mut seen) = (Process::default(), Seen::default());
    read_struct(p, |p, id, kind| {
        match (id, kind) {
            (1, TType::String) => process.service_name = p.read_string()?,
            (2, TType::List) => process.tags = read_list(p, read_tag)?,
            _ => return Ok(false),
        }
        seen.mark(id);
        Ok(true)
    })?;
    seen.check("Process", &[(1, "serviceName")])?;
    Ok(process)
}

/// `struct Span`: ids 1–9 required (`traceIdLow`, `traceIdHigh`, `spanId`,
/// `parentSpanId`, `operationName`, `flags`, `startTime`, `duration`), `references` (3…),
/// `tags`, `logs` and `incomplete` optional. The Thrift `parentSpanId` becomes a
/// `CHILD_OF` reference in front of the others, as Jaeger's own converter does, unless a
/// reference already names it.
fn read_span(p: &mut impl TInputProtocol) -> Result<Span, DecodeError> {
    let (mut seen, mut span) = (Seen::default(), Span::default());
    let (mut trace_low, mut trace_high, mut span_id, mut parent) = (0i64, 0i64, 0i64, 0i64);
    let (mut start, mut duration) = (0i64, 0i64);
    let mut references = Vec::new();
    read_struct(p, |p, id, kind| {
        match (id, kind) {
            (1, TType::I64) => trace_low = p.read_i64()?,
            (2, TType::I64) => trace_high = p.read_i64()?,
            (3, TType::I64) => span_id = p.read_i64()?,
            (4, TType::I64) => parent = p.read_i64()?,
            (5, TType::String) => span.operation_name = p.read_string()?,
            (6, TType::List) => references = read_list(p, read_span_ref)?,
            // The flags are an i32 on the wire; only their bits matter.
            (7, TType::I32) => span.flags = p.read_i32()? as u32,
            (8, TType::I64) => start = p.read_i64()?,
            (9, TType::I64) => duration = p.read_i64()?,
            (10, TType::List) => span.tags = read_list(p, read_tag)?,
            (11, TType::List) => span.logs = read_list(p, read_log)?,
            _ => return Ok(false),
        }
        seen.mark(id);
        Ok(true)
    })?;
    seen.check(
        "Span",
        &[
            (1, "traceIdLow"),
            (2, "traceIdHigh"),
            (3, "spanId"),
            (4, "parentSpanId"),
            (5, "operationName"),
            (7, "flags"),
            (8, "startTime"),
            (9, "duration"),
        ],
    )?;
    span.trace_id = trace_id(trace_high, trace_low);
    span.span_id = (span_id as u64).to_be_bytes().to_vec();
    span.start_time = Some(micros_to_timestamp(start));
    span.duration = Some(micros_to_duration(duration));
    if parent != 0 {
        let parent_id = (parent as u64).to_be_bytes();
        let named = references.iter().any(|r: &SpanRef| {
            r.span_id == parent_id && r.trace_id == span.trace_id && r.ref_type == 0
        });
        if !named {
            span.references.push(SpanRef {
                trace_id: span.trace_id.clone(),
                span_id: parent_id.to_vec(),
                ref_type: super::model::SpanRefType::ChildOf as i32,
            });
        }
    }
    span.references.extend(references);
    Ok(span)
}

/// `struct SpanRef { 1: required SpanRefType refType; 2: required i64 traceIdLow; 3:
/// required i64 traceIdHigh; 4: required i64 spanId }`.
fn read_span_ref(p: &mut impl TInputProtocol) -> Result<SpanRef, DecodeError> {
    let mut seen = Seen::default();
    let (mut ref_type, mut low, mut high, mut span_id) = (0i32, 0i64, 0i64, 0i64);
    read_struct(p, |p, id, kind| {
        match (id, kind) {
            (1, TType::I32) => ref_type = p.read_i32()?,
            (2, TType::I64) => low = p.read_i64()?,
            (3, TType::I64) => high = p.read_i64()?,
            (4, TType::I64) => span_id = p.read_i64()?,
            _ => return Ok(false),
        }
        seen.mark(id);
        Ok(true)
    })?;
    seen.check(
        "SpanRef",
        &[
            (1, "refType"),
            (2, "traceIdLow"),
            (3, "traceIdHigh"),
            (4, "spanId"),
        ],
    )?;
    Ok(SpanRef {
        trace_id: trace_id(high, low),
        span_id: (span_id as u64).to_be_bytes().to_vec(),
        ref_type,
    })
}

/// `struct Log { 1: required i64 timestamp; 2: required list<Tag> fields }`.
fn read_log(p: &mut impl TInputProtocol) -> Result<Log, DecodeError> {
    let (mut log, mut seen) = (Log::default(), Seen::default());
    read_struct(p, |p, id, kind| {
        match (id, kind) {
            (1, TType::I64) => log.timestamp = Some(micros_to_timestamp(p.read_i64()?)),
            (2, TType::List) => log.fields = read_list(p, read_tag)?,
            _ => return Ok(false),
        }
        seen.mark(id);
        Ok(true)
    })?;
    seen.check("Log", &[(1, "timestamp"), (2, "fields")])?;
    Ok(log)
}

/// `struct Tag { 1: required string key; 2: required TagType vType; 3: optional string
/// vStr; 4: optional double vDouble; 5: optional bool vBool; 6: optional i64 vLong; 7:
/// optional binary vBinary }`, with Thrift's type numbers (`STRING` 0, `DOUBLE` 1, `BOOL`
/// 2, `LONG` 3, `BINARY` 4) turned into the protobuf model's. An unknown type number is
/// kept out of range, so the translation names it as Go does.
fn read_tag(p: &mut impl TInputProtocol) -> Result<KeyValue, DecodeError> {
    let (mut tag, mut seen) = (KeyValue::default(), Seen::default());
    read_struct(p, |p, id, kind| {
        match (id, kind) {
            (1, TType::String) => tag.key = p.read_string()?,
            (2, TType::I32) => {
                tag.v_type = match p.read_i32()? {
                    0 => ValueType::String as i32,
                    1 => ValueType::Float64 as i32,
                    2 => ValueType::Bool as i32,
                    3 => ValueType::Int64 as i32,
                    4 => ValueType::Binary as i32,
                    other => THRIFT_TYPE_OFFSET.saturating_add(other),
                }
            }
            (3, TType::String) => tag.v_str = p.read_string()?,
            (4, TType::Double) => tag.v_float64 = p.read_double()?,
            (5, TType::Bool) => tag.v_bool = p.read_bool()?,
            (6, TType::I64) => tag.v_int64 = p.read_i64()?,
            (7, TType::String) => tag.v_binary = p.read_bytes()?,
            _ => return Ok(false),
        }
        seen.mark(id);
        Ok(true)
    })?;
    seen.check("Tag", &[(1, "key"), (2, "vType")])?;
    Ok(tag)
}

/// Where unknown Thrift tag types land among the protobuf model's value types: past every
/// known one, so they stay unknown.
const THRIFT_TYPE_OFFSET: i32 = 1000;

/// A trace ID as the protobuf model carries it: 16 bytes, the high half first.
fn trace_id(high: i64, low: i64) -> Vec<u8> {
    let mut id = Vec::with_capacity(16);
    id.extend_from_slice(&(high as u64).to_be_bytes());
    id.extend_from_slice(&(low as u64).to_be_bytes());
    id
}

/// Thrift times are microseconds since the epoch.
fn micros_to_timestamp(micros: i64) -> Timestamp {
    Timestamp {
        seconds: micros.div_euclid(1_000_000),
        nanos: (micros.rem_euclid(1_000_000) * 1_000) as i32,
    }
}

/// Thrift durations are microseconds.
fn micros_to_duration(micros: i64) -> super::model::Duration {
    super::model::Duration {
        seconds: micros / 1_000_000,
        nanos: ((micros % 1_000_000) * 1_000) as i32,
    }
}
