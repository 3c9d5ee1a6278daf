//! A Jaeger span as JSON, the way the Go Collector's Kafka `jaeger_json` encoding writes
//! it (gogo protobuf's `jsonpb.Marshaler{}` over jaeger-idl's `model.Span`) and reads it
//! (`jsonpb.Unmarshal`): the crate docs say what that is.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value};
use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, any_value};
use tributary_pipeline_core::pdata::value_text::as_string;

use crate::go_duration::parse_go_duration;
use crate::model::{
    Duration, KeyValue, Log, Process, Span, SpanRef, SpanRefType, Timestamp, ValueType,
};

/// Why a `jaeger_json` record could not be read: the message names the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JsonError(String);

impl JsonError {
    fn at(field: &str, message: impl std::fmt::Display) -> Self {
        JsonError(format!("{field}: {message}"))
    }

    fn within(self, field: &str) -> Self {
        JsonError(format!("{field}.{}", self.0))
    }
}

/// Writes `span` as jsonpb does.
pub fn span_to_json(span: &Span) -> Vec<u8> {
    let mut out = String::with_capacity(256);
    write_span(&mut out, span);
    out.into_bytes()
}

/// Reads a span as `jsonpb.Unmarshal` does (see the crate docs for what is accepted).
pub fn span_from_json(bytes: &[u8]) -> Result<Span, JsonError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| JsonError(format!("not a JSON Jaeger span: {e}")))?;
    read_span(object(&value, "span")?)
}

// ---- Writing ----

/// A JSON object being written: its fields, comma-separated.
struct Object<'a> {
    out: &'a mut String,
    empty: bool,
}

impl<'a> Object<'a> {
    fn open(out: &'a mut String) -> Self {
        out.push('{');
        Object { out, empty: true }
    }

    /// Starts the field `name`; its value is written next.
    fn field(&mut self, name: &str) -> &mut String {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        write_string(self.out, name);
        self.out.push(':');
        self.out
    }

    fn close(self) {
        self.out.push('}');
    }
}

fn write_string(out: &mut String, s: &str) {
    // Serializing a `str` cannot fail.
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

fn write_array<T>(out: &mut String, items: &[T], mut each: impl FnMut(&mut String, &T)) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        each(out, item);
    }
    out.push(']');
}

fn write_span(out: &mut String, span: &Span) {
    let mut object = Object::open(out);
    // jaeger-idl's TraceID is a struct: jsonpb writes it even when zero; its SpanID is a
    // number, left out at zero.
    write_id(object.field("traceId"), &span.trace_id, 16);
    if !is_zero(&span.span_id) {
        write_id(object.field("spanId"), &span.span_id, 8);
    }
    if !span.operation_name.is_empty() {
        write_string(object.field("operationName"), &span.operation_name);
    }
    if !span.references.is_empty() {
        write_array(
            object.field("references"),
            &span.references,
            write_reference,
        );
    }
    if span.flags != 0 {
        let _ = write!(object.field("flags"), "{}", span.flags);
    }
    // A `time.Time`, never left out.
    write_timestamp(
        object.field("startTime"),
        span.start_time.unwrap_or_default(),
    );
    if let Some(duration) = span.duration.filter(|d| *d != Duration::default()) {
        write_duration(object.field("duration"), duration);
    }
    if !span.tags.is_empty() {
        write_array(object.field("tags"), &span.tags, write_key_value);
    }
    if !span.logs.is_empty() {
        write_array(object.field("logs"), &span.logs, write_log);
    }
    if let Some(process) = &span.process {
        write_process(object.field("process"), process);
    }
    if !span.process_id.is_empty() {
        write_string(object.field("processId"), &span.process_id);
    }
    if !span.warnings.is_empty() {
        write_array(object.field("warnings"), &span.warnings, |out, w| {
            write_string(out, w)
        });
    }
    object.close();
}

fn write_reference(out: &mut String, reference: &SpanRef) {
    let mut object = Object::open(out);
    write_id(object.field("traceId"), &reference.trace_id, 16);
    if !is_zero(&reference.span_id) {
        write_id(object.field("spanId"), &reference.span_id, 8);
    }
    if reference.ref_type != 0 {
        let name = match SpanRefType::try_from(reference.ref_type) {
            Ok(SpanRefType::FollowsFrom) => "FOLLOWS_FROM".to_string(),
            Ok(SpanRefType::ChildOf) => "CHILD_OF".to_string(),
            Err(_) => reference.ref_type.to_string(),
        };
        write_string(object.field("refType"), &name);
    }
    object.close();
}

fn write_process(out: &mut String, process: &Process) {
    let mut object = Object::open(out);
    if !process.service_name.is_empty() {
        write_string(object.field("serviceName"), &process.service_name);
    }
    if !process.tags.is_empty() {
        write_array(object.field("tags"), &process.tags, write_key_value);
    }
    object.close();
}

fn write_log(out: &mut String, log: &Log) {
    let mut object = Object::open(out);
    write_timestamp(object.field("timestamp"), log.timestamp.unwrap_or_default());
    // Go's translator makes the fields a non-nil slice: written even when empty.
    write_array(object.field("fields"), &log.fields, write_key_value);
    object.close();
}

fn write_key_value(out: &mut String, kv: &KeyValue) {
    let mut object = Object::open(out);
    if !kv.key.is_empty() {
        write_string(object.field("key"), &kv.key);
    }
    if kv.v_type != 0 {
        let name = match ValueType::try_from(kv.v_type) {
            Ok(ValueType::String) => "STRING".to_string(),
            Ok(ValueType::Bool) => "BOOL".to_string(),
            Ok(ValueType::Int64) => "INT64".to_string(),
            Ok(ValueType::Float64) => "FLOAT64".to_string(),
            Ok(ValueType::Binary) => "BINARY".to_string(),
            Err(_) => kv.v_type.to_string(),
        };
        write_string(object.field("vType"), &name);
    }
    if !kv.v_str.is_empty() {
        write_string(object.field("vStr"), &kv.v_str);
    }
    if kv.v_bool {
        object.field("vBool").push_str("true");
    }
    if kv.v_int64 != 0 {
        let _ = write!(object.field("vInt64"), "\"{}\"", kv.v_int64);
    }
    if kv.v_float64 != 0.0 {
        write_double(object.field("vFloat64"), kv.v_float64);
    }
    if !kv.v_binary.is_empty() {
        write_string(object.field("vBinary"), &STANDARD.encode(&kv.v_binary));
    }
    object.close();
}

/// A double as jsonpb writes it: as Go's `encoding/json` does, and the values JSON has no
/// number for as the strings `NaN`, `Infinity`, `-Infinity`.
fn write_double(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("\"NaN\"");
    } else if value.is_infinite() {
        out.push_str(if value > 0.0 {
            "\"Infinity\""
        } else {
            "\"-Infinity\""
        });
    } else {
        out.push_str(&as_string(Some(&AnyValue {
            value: Some(any_value::Value::DoubleValue(value)),
        })));
    }
}

/// An ID as base64 of its `len` big-endian bytes (jaeger-idl's `MarshalJSON`); an ID of
/// another length is written as it is.
fn write_id(out: &mut String, id: &[u8], len: usize) {
    if id.is_empty() {
        write_string(out, &STANDARD.encode(vec![0; len]));
    } else {
        write_string(out, &STANDARD.encode(id));
    }
}

fn is_zero(id: &[u8]) -> bool {
    id.iter().all(|b| *b == 0)
}

/// jsonpb's `Timestamp`: RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits.
fn write_timestamp(out: &mut String, timestamp: Timestamp) {
    let nanos = u32::try_from(timestamp.nanos).unwrap_or(0);
    let time = chrono::DateTime::from_timestamp(timestamp.seconds, nanos).unwrap_or_default();
    let _ = write!(out, "\"{}", time.format("%Y-%m-%dT%H:%M:%S"));
    write_fraction(out, nanos);
    out.push_str("Z\"");
}

/// jsonpb's `Duration`: seconds with 0, 3, 6 or 9 fractional digits and an `s`.
fn write_duration(out: &mut String, duration: Duration) {
    let negative = duration.seconds < 0 || duration.nanos < 0;
    out.push('"');
    if negative {
        out.push('-');
    }
    let _ = write!(out, "{}", duration.seconds.unsigned_abs());
    write_fraction(out, duration.nanos.unsigned_abs());
    out.push_str("s\"");
}

/// `.` and the nanoseconds, in as few groups of three digits as hold them; nothing for
/// none.
fn write_fraction(out: &mut String, nanos: u32) {
    if nanos == 0 {
        return;
    }
    let digits = format!("{nanos:09}");
    let digits = if nanos.is_multiple_of(1_000_000) {
        &digits[..3]
    } else if nanos.is_multiple_of(1_000) {
        &digits[..6]
    } else {
        &digits[..]
    };
    out.push('.');
    out.push_str(digits);
}

// ---- Reading ----

fn object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, JsonError> {
    value
        .as_object()
        .ok_or_else(|| JsonError::at(what, "expected an object"))
}

/// The field by its JSON name or its proto name; `None` when absent or `null`.
fn field<'a>(object: &'a Map<String, Value>, json: &str, proto: &str) -> Option<&'a Value> {
    object
        .get(json)
        .or_else(|| object.get(proto))
        .filter(|v| !v.is_null())
}

fn array<'a>(value: &'a Value, name: &str) -> Result<&'a Vec<Value>, JsonError> {
    value
        .as_array()
        .ok_or_else(|| JsonError::at(name, "expected an array"))
}

fn read_list<T>(
    object: &Map<String, Value>,
    json: &str,
    proto: &str,
    read: impl Fn(&Value) -> Result<T, JsonError>,
) -> Result<Vec<T>, JsonError> {
    let Some(value) = field(object, json, proto) else {
        return Ok(Vec::new());
    };
    array(value, json)?
        .iter()
        .enumerate()
        .map(|(i, item)| read(item).map_err(|e| e.within(&format!("{json}[{i}]"))))
        .collect()
}

fn read_span(object: &Map<String, Value>) -> Result<Span, JsonError> {
    Ok(Span {
        trace_id: read_bytes(object, "traceId", "trace_id")?,
        span_id: read_span_id(object)?,
        operation_name: read_string(object, "operationName", "operation_name")?,
        references: read_list(object, "references", "references", read_reference)?,
        flags: read_integer(object, "flags", "flags")?,
        start_time: Some(read_timestamp(object, "startTime", "start_time")?),
        duration: Some(read_duration(object)?),
        tags: read_list(object, "tags", "tags", read_key_value)?,
        logs: read_list(object, "logs", "logs", read_log)?,
        process: match field(object, "process", "process") {
            Some(value) => Some(read_process(value).map_err(|e| e.within("process"))?),
            None => None,
        },
        process_id: read_string(object, "processId", "process_id")?,
        warnings: read_list(object, "warnings", "warnings", |value| {
            value
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| JsonError("expected a string".into()))
        })?,
    })
}

fn read_reference(value: &Value) -> Result<SpanRef, JsonError> {
    let object = object(value, "reference")?;
    Ok(SpanRef {
        trace_id: read_bytes(object, "traceId", "trace_id")?,
        span_id: read_span_id(object)?,
        ref_type: read_enum(object, "refType", "ref_type", |name| match name {
            "CHILD_OF" => Some(SpanRefType::ChildOf as i32),
            "FOLLOWS_FROM" => Some(SpanRefType::FollowsFrom as i32),
            _ => None,
        })?,
    })
}

fn read_process(value: &Value) -> Result<Process, JsonError> {
    let object = object(value, "process")?;
    Ok(Process {
        service_name: read_string(object, "serviceName", "service_name")?,
        tags: read_list(object, "tags", "tags", read_key_value)?,
    })
}

fn read_log(value: &Value) -> Result<Log, JsonError> {
    let object = object(value, "log")?;
    Ok(Log {
        timestamp: Some(read_timestamp(object, "timestamp", "timestamp")?),
        fields: read_list(object, "fields", "fields", read_key_value)?,
    })
}

fn read_key_value(value: &Value) -> Result<KeyValue, JsonError> {
    let object = object(value, "tag")?;
    Ok(KeyValue {
        key: read_string(object, "key", "key")?,
        v_type: read_enum(object, "vType", "v_type", |name| {
            Some(match name {
                "STRING" => ValueType::String,
                "BOOL" => ValueType::Bool,
                "INT64" => ValueType::Int64,
                "FLOAT64" => ValueType::Float64,
                "BINARY" => ValueType::Binary,
                _ => return None,
            } as i32)
        })?,
        v_str: read_string(object, "vStr", "v_str")?,
        v_bool: match field(object, "vBool", "v_bool") {
            None => false,
            Some(value) => value
                .as_bool()
                .ok_or_else(|| JsonError::at("vBool", "expected true or false"))?,
        },
        v_int64: read_integer(object, "vInt64", "v_int64")?,
        v_float64: read_double(object)?,
        v_binary: read_bytes(object, "vBinary", "v_binary")?,
    })
}

fn read_string(object: &Map<String, Value>, json: &str, proto: &str) -> Result<String, JsonError> {
    match field(object, json, proto) {
        None => Ok(String::new()),
        Some(value) => value
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| JsonError::at(json, "expected a string")),
    }
}

/// An integer field: a JSON number, or a string holding one (as jsonpb writes 64-bit
/// integers).
fn read_integer<T: TryFrom<i128>>(
    object: &Map<String, Value>,
    json: &str,
    proto: &str,
) -> Result<T, JsonError> {
    let Some(value) = field(object, json, proto) else {
        return T::try_from(0).map_err(|_| JsonError::at(json, "out of range"));
    };
    let number = match value {
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from)),
        Value::String(s) => s.parse::<i128>().ok(),
        _ => None,
    }
    .ok_or_else(|| JsonError::at(json, format!("expected an integer, found {value}")))?;
    T::try_from(number).map_err(|_| JsonError::at(json, format!("{number} is out of range")))
}

fn read_enum(
    object: &Map<String, Value>,
    json: &str,
    proto: &str,
    by_name: impl Fn(&str) -> Option<i32>,
) -> Result<i32, JsonError> {
    match field(object, json, proto) {
        None => Ok(0),
        // A number in a string is what jsonpb writes for a value without a name.
        Some(Value::String(name)) => by_name(name)
            .or_else(|| name.parse().ok())
            .ok_or_else(|| JsonError::at(json, format!("unknown value {name:?}"))),
        Some(_) => read_integer(object, json, proto),
    }
}

fn read_double(object: &Map<String, Value>) -> Result<f64, JsonError> {
    match field(object, "vFloat64", "v_float64") {
        None => Ok(0.0),
        Some(Value::Number(n)) => n
            .as_f64()
            .ok_or_else(|| JsonError::at("vFloat64", "not a double")),
        Some(Value::String(s)) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            other => other
                .parse()
                .map_err(|_| JsonError::at("vFloat64", format!("{other:?} is not a double"))),
        },
        Some(other) => Err(JsonError::at(
            "vFloat64",
            format!("expected a number, found {other}"),
        )),
    }
}

/// Bytes in base64 (standard, or URL-safe), padded or not.
fn read_bytes(object: &Map<String, Value>, json: &str, proto: &str) -> Result<Vec<u8>, JsonError> {
    let Some(value) = field(object, json, proto) else {
        return Ok(Vec::new());
    };
    let text = value
        .as_str()
        .ok_or_else(|| JsonError::at(json, "expected a base64 string"))?;
    let trimmed = text.trim_end_matches('=');
    STANDARD_NO_PAD
        .decode(trimmed)
        .or_else(|_| URL_SAFE_NO_PAD.decode(trimmed))
        .map_err(|e| JsonError::at(json, format!("{text:?} is not base64: {e}")))
}

/// A span ID: base64 of its 8 bytes, or (jaeger-idl's `SpanID` being a number) a number.
fn read_span_id(object: &Map<String, Value>) -> Result<Vec<u8>, JsonError> {
    match field(object, "spanId", "span_id") {
        Some(Value::Number(_)) => {
            read_integer::<u64>(object, "spanId", "span_id").map(|id| id.to_be_bytes().to_vec())
        }
        _ => read_bytes(object, "spanId", "span_id"),
    }
}

fn read_timestamp(
    object: &Map<String, Value>,
    json: &str,
    proto: &str,
) -> Result<Timestamp, JsonError> {
    let Some(value) = field(object, json, proto) else {
        return Ok(Timestamp::default());
    };
    let text = value
        .as_str()
        .ok_or_else(|| JsonError::at(json, "expected an RFC 3339 time"))?;
    let time = chrono::DateTime::parse_from_rfc3339(text)
        .map_err(|e| JsonError::at(json, format!("{text:?} is not an RFC 3339 time: {e}")))?;
    Ok(Timestamp {
        seconds: time.timestamp(),
        nanos: i32::try_from(time.timestamp_subsec_nanos()).unwrap_or(0),
    })
}

fn read_duration(object: &Map<String, Value>) -> Result<Duration, JsonError> {
    let Some(value) = field(object, "duration", "duration") else {
        return Ok(Duration::default());
    };
    let text = value
        .as_str()
        .ok_or_else(|| JsonError::at("duration", "expected a duration such as \"1.5s\""))?;
    let nanos = parse_go_duration(text)
        .ok_or_else(|| JsonError::at("duration", format!("{text:?} is not a duration")))?;
    Ok(Duration {
        seconds: nanos / 1_000_000_000,
        nanos: i32::try_from(nanos % 1_000_000_000).unwrap_or(0),
    })
}
