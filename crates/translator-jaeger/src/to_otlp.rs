//! Jaeger → OTLP, by the OpenTelemetry specification's Jaeger mapping, as the Go
//! Collector's `jaeger.ProtoToTraces` does it. One translation for all the `jaeger`
//! receiver's protocols (its Thrift readers produce the same [`model`](crate::model) types
//! its gRPC service decodes) and for the `kafka` receiver's `jaeger_*` records.
//!
//! - A batch's process (or a span's own, which wins) becomes the resource: `serviceName`
//!   → `service.name`, tags → attributes, `hostname` → `host.name` and `jaeger.version`
//!   → `opencensus.exporterversion: Jaeger-<version>` unless those are already there.
//!   Spans are grouped by process, in order of first appearance.
//! - Spans are grouped into scopes by their `otel.scope.name` / `otel.scope.version`
//!   tags, which are removed.
//! - IDs: the trace ID's high half first; span IDs big-endian. The parent is the first
//!   `CHILD_OF` reference within the same trace; every other reference becomes a link
//!   with `opentracing.ref_type` (`child_of` / `follows_from`).
//! - Times: start and start + duration, in nanoseconds.
//! - `span.kind` → kind; status from `error: true`, else `otel.status_code` (`OK` /
//!   `ERROR`) with `otel.status_description`, else `http.status_code` (4xx is an error for
//!   clients only, 5xx for all); those tags are removed. `w3c.tracestate` → trace state.
//! - Jaeger's sampled flag (`1`) → the W3C sampled flag of the OTLP span's `flags`.
//! - Tag types map one to one (binary → bytes); an unknown type becomes the string
//!   `<Unknown Jaeger TagType "n">`. A later tag of the same key replaces an earlier one.
//! - Logs → events at their timestamp, named by their `event` field (removed).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use prost::Message;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{
    AnyValue, InstrumentationScope, KeyValue as OtlpKeyValue, any_value,
};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::proto::trace::v1::span::{Event, Link, SpanKind};
use tributary_pipeline_core::pdata::proto::trace::v1::status::StatusCode;
use tributary_pipeline_core::pdata::proto::trace::v1::{
    ResourceSpans, ScopeSpans, Span as OtlpSpan, Status,
};

use crate::model::{
    Batch, Duration, KeyValue, Log, Process, Span, SpanRef, SpanRefType, Timestamp, ValueType,
};

/// Why a batch cannot be translated: an ID of the wrong length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslateError(String);

impl std::fmt::Display for TranslateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TranslateError {}

/// The service name Go's reverse translation writes when a resource has none; a process
/// so named maps back to an empty resource.
pub(crate) const NO_SERVICE_NAME: &str = "OTLPResourceNoServiceName";

/// W3C trace flags: sampled.
pub(crate) const SAMPLED: u32 = 0x01;

/// Translates Jaeger batches into one OTLP request.
pub fn batches_to_otlp(
    batches: impl IntoIterator<Item = Batch>,
) -> Result<ExportTraceServiceRequest, TranslateError> {
    // Spans grouped by the process they carry or inherit, keyed by its encoding: a
    // process of many tags is hashed once per span without being kept twice.
    let mut groups: Vec<(Option<Process>, Vec<Span>)> = Vec::new();
    let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut group_of = |process: Option<Process>,
                        groups: &mut Vec<(Option<Process>, Vec<Span>)>| {
        let key = process.as_ref().map(Message::encode_to_vec);
        let key = match key {
            Some(mut bytes) => {
                bytes.insert(0, 1);
                bytes
            }
            None => vec![0],
        };
        match index.entry(key) {
            Entry::Occupied(entry) => *entry.get(),
            Entry::Vacant(entry) => {
                groups.push((process, Vec::new()));
                *entry.insert(groups.len() - 1)
            }
        }
    };
    for batch in batches {
        if batch.process.is_none() && batch.spans.is_empty() {
            continue;
        }
        let batch_group = group_of(batch.process, &mut groups);
        for mut span in batch.spans {
            let group = match span.process.take() {
                Some(process) => group_of(Some(process), &mut groups),
                None => batch_group,
            };
            groups[group].1.push(span);
        }
    }
    let mut request = ExportTraceServiceRequest::default();
    for (process, spans) in groups {
        request.resource_spans.push(ResourceSpans {
            resource: Some(resource(process)),
            scope_spans: scope_spans(spans)?,
            schema_url: String::new(),
        });
    }
    Ok(request)
}

/// A process as a resource.
fn resource(process: Option<Process>) -> Resource {
    let mut resource = Resource::default();
    let Some(process) = process else {
        return resource;
    };
    if process.service_name == NO_SERVICE_NAME {
        return resource;
    }
    let mut attributes = Attributes::with_capacity(process.tags.len() + 1);
    if !process.service_name.is_empty() {
        attributes.put("service.name".into(), string(process.service_name));
    }
    attributes.put_tags(process.tags);
    let mut attributes = attributes.finish();
    if find(&attributes, "host.name").is_none()
        && let Some(hostname) = take(&mut attributes, "hostname")
    {
        attributes.push(key_value("host.name".into(), hostname));
    }
    if find(&attributes, "opencensus.exporterversion").is_none()
        && let Some(version) = take(&mut attributes, "jaeger.version")
    {
        let version = format!("Jaeger-{}", as_str(&version));
        attributes.push(key_value(
            "opencensus.exporterversion".into(),
            string(version),
        ));
    }
    resource.attributes = attributes;
    resource
}

/// Spans grouped into scopes by their `otel.scope.*` tags, in order of first appearance.
fn scope_spans(spans: Vec<Span>) -> Result<Vec<ScopeSpans>, TranslateError> {
    let mut scopes: Vec<ScopeSpans> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    for mut span in spans {
        if span == Span::default() {
            continue;
        }
        let (mut name, mut version) = (String::new(), String::new());
        if let Some(scope_name) = take_tag(&mut span.tags, "otel.scope.name") {
            name = scope_name;
            if let Some(scope_version) = take_tag(&mut span.tags, "otel.scope.version") {
                version = scope_version;
            }
        }
        let span = translate_span(span)?;
        let slot = match index.entry((name, version)) {
            Entry::Occupied(entry) => *entry.get(),
            Entry::Vacant(entry) => {
                let (name, version) = entry.key().clone();
                scopes.push(ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name,
                        version,
                        ..InstrumentationScope::default()
                    }),
                    ..ScopeSpans::default()
                });
                *entry.insert(scopes.len() - 1)
            }
        };
        scopes[slot].spans.push(span);
    }
    Ok(scopes)
}

/// Removes the first tag named `key` and returns its string value, as Go's
/// `getAndDeleteTag` does.
fn take_tag(tags: &mut Vec<KeyValue>, key: &str) -> Option<String> {
    let position = tags.iter().position(|tag| tag.key == key)?;
    Some(tags.remove(position).v_str)
}

fn translate_span(span: Span) -> Result<OtlpSpan, TranslateError> {
    let trace_id = trace_id(&span.trace_id)?;
    let span_id = span_id(&span.span_id)?;
    let start = timestamp_nanos(span.start_time);
    let end = start.saturating_add_signed(duration_nanos(span.duration));
    let parent = parent_span_id(&span)?;

    let mut attributes = Attributes::with_capacity(span.tags.len());
    attributes.put_tags(span.tags);
    let mut attributes = attributes.finish();
    let kind = match take(&mut attributes, "span.kind") {
        Some(kind) => span_kind(as_str(&kind)),
        None => SpanKind::Unspecified,
    };
    let status = status(&mut attributes, kind);
    let trace_state = take(&mut attributes, "w3c.tracestate")
        .map(|state| as_str(&state).to_string())
        .unwrap_or_default();

    let mut links = Vec::new();
    let parent_id = parent.unwrap_or([0; 8]);
    for reference in &span.references {
        let child_of = reference.ref_type == SpanRefType::ChildOf as i32;
        if child_of && span_id_or_zero(&reference.span_id) == parent_id {
            continue;
        }
        links.push(link(reference, child_of)?);
    }

    Ok(OtlpSpan {
        trace_id: trace_id.to_vec(),
        span_id: span_id.to_vec(),
        trace_state,
        parent_span_id: parent.map(|id| id.to_vec()).unwrap_or_default(),
        flags: span.flags & SAMPLED,
        name: span.operation_name,
        kind: kind as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: end,
        attributes,
        events: span.logs.into_iter().map(event).collect(),
        links,
        status,
        ..OtlpSpan::default()
    })
}

/// The first `CHILD_OF` reference within the span's trace, as Jaeger's
/// `Span.ParentSpanID`; `None` for a root span (or a parent ID of zero).
fn parent_span_id(span: &Span) -> Result<Option<[u8; 8]>, TranslateError> {
    for reference in &span.references {
        if reference.ref_type == SpanRefType::ChildOf as i32
            && trace_id(&reference.trace_id)? == trace_id(&span.trace_id)?
        {
            let id = span_id(&reference.span_id)?;
            return Ok((id != [0; 8]).then_some(id));
        }
    }
    Ok(None)
}

fn link(reference: &SpanRef, child_of: bool) -> Result<Link, TranslateError> {
    let ref_type = if child_of { "child_of" } else { "follows_from" };
    Ok(Link {
        trace_id: trace_id(&reference.trace_id)?.to_vec(),
        span_id: span_id(&reference.span_id)?.to_vec(),
        attributes: vec![key_value(
            "opentracing.ref_type".into(),
            string(ref_type.to_string()),
        )],
        ..Link::default()
    })
}

fn event(log: Log) -> Event {
    let mut attributes = Attributes::with_capacity(log.fields.len());
    attributes.put_tags(log.fields);
    let mut attributes = attributes.finish();
    let name = take(&mut attributes, "event")
        .map(|name| as_str(&name).to_string())
        .unwrap_or_default();
    Event {
        time_unix_nano: timestamp_nanos(log.timestamp),
        name,
        attributes,
        dropped_attributes_count: 0,
    }
}

fn span_kind(kind: &str) -> SpanKind {
    match kind {
        "client" => SpanKind::Client,
        "server" => SpanKind::Server,
        "producer" => SpanKind::Producer,
        "consumer" => SpanKind::Consumer,
        "internal" => SpanKind::Internal,
        _ => SpanKind::Unspecified,
    }
}

/// The span's status from its tags, removing those it came from (Go's
/// `setInternalSpanStatus`): `error: true` wins, then `otel.status_code`, then
/// `http.status_code`.
fn status(attributes: &mut Vec<OtlpKeyValue>, kind: SpanKind) -> Option<Status> {
    let mut code = None;
    let mut message = String::new();
    let error = find(attributes, "error").and_then(|value| match value.value {
        Some(any_value::Value::BoolValue(error)) => Some(error),
        _ => None,
    });
    if error == Some(true) {
        take(attributes, "error");
        code = Some(StatusCode::Error);
        message = match take(attributes, "otel.status_description") {
            Some(description) => as_str(&description).to_string(),
            None => find(attributes, "http.status_message")
                .map(|m| as_str(m).to_string())
                .unwrap_or_default(),
        };
    }
    if let Some(otel_code) = take(attributes, "otel.status_code") {
        if code.is_none() {
            code = Some(match as_str(&otel_code).to_ascii_uppercase().as_str() {
                "OK" => StatusCode::Ok,
                "ERROR" => StatusCode::Error,
                _ => StatusCode::Unset,
            });
            if let Some(description) = take(attributes, "otel.status_description") {
                message = as_str(&description).to_string();
            }
        }
    } else if code.is_none()
        && let Some(http_code) = find(attributes, "http.status_code").and_then(http_status)
    {
        let http = http_status_code(http_code, kind);
        if http != StatusCode::Unset {
            code = Some(http);
        }
        if let Some(status_message) = find(attributes, "http.status_message") {
            message = as_str(status_message).to_string();
        }
    }
    code.map(|code| Status {
        message,
        code: code as i32,
    })
}

/// An HTTP status code tag, an integer or a string holding one.
fn http_status(value: &AnyValue) -> Option<i64> {
    match &value.value {
        Some(any_value::Value::IntValue(code)) => Some(*code),
        Some(any_value::Value::StringValue(code)) => code.parse().ok(),
        _ => None,
    }
}

/// 4xx is an error for a client and unset for a server; otherwise 1xx–3xx are unset and
/// the rest errors, as the specification's HTTP semantic conventions say.
fn http_status_code(code: i64, kind: SpanKind) -> StatusCode {
    if (400..500).contains(&code) {
        match kind {
            SpanKind::Client => return StatusCode::Error,
            SpanKind::Server => return StatusCode::Unset,
            _ => {}
        }
    }
    if (100..400).contains(&code) {
        StatusCode::Unset
    } else {
        StatusCode::Error
    }
}

/// Attributes built from tags, a later tag replacing an earlier one of the same key (as a
/// pcommon map does) in constant time however many tags a peer sends.
struct Attributes {
    list: Vec<OtlpKeyValue>,
    index: HashMap<String, usize>,
}

impl Attributes {
    fn with_capacity(capacity: usize) -> Self {
        Attributes {
            list: Vec::with_capacity(capacity),
            index: HashMap::new(),
        }
    }

    fn put(&mut self, key: String, value: AnyValue) {
        match self.index.entry(key) {
            Entry::Occupied(entry) => self.list[*entry.get()].value = Some(value),
            Entry::Vacant(entry) => {
                self.list.push(key_value(entry.key().clone(), value));
                entry.insert(self.list.len() - 1);
            }
        }
    }

    fn put_tags(&mut self, tags: Vec<KeyValue>) {
        for tag in tags {
            let value = tag_value(&tag);
            self.put(tag.key, value);
        }
    }

    fn finish(self) -> Vec<OtlpKeyValue> {
        self.list
    }
}

fn tag_value(tag: &KeyValue) -> AnyValue {
    let value = match ValueType::try_from(tag.v_type) {
        Ok(ValueType::String) => any_value::Value::StringValue(tag.v_str.clone()),
        Ok(ValueType::Bool) => any_value::Value::BoolValue(tag.v_bool),
        Ok(ValueType::Int64) => any_value::Value::IntValue(tag.v_int64),
        Ok(ValueType::Float64) => any_value::Value::DoubleValue(tag.v_float64),
        Ok(ValueType::Binary) => any_value::Value::BytesValue(tag.v_binary.clone()),
        Err(_) => {
            any_value::Value::StringValue(format!("<Unknown Jaeger TagType \"{}\">", tag.v_type))
        }
    };
    AnyValue { value: Some(value) }
}

fn key_value(key: String, value: AnyValue) -> OtlpKeyValue {
    OtlpKeyValue {
        key,
        value: Some(value),
        ..OtlpKeyValue::default()
    }
}

fn string(value: String) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(value)),
    }
}

/// A value's string, or `""` for other types (pcommon's `Str()`).
fn as_str(value: &AnyValue) -> &str {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => s,
        _ => "",
    }
}

fn find<'a>(attributes: &'a [OtlpKeyValue], key: &str) -> Option<&'a AnyValue> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
}

fn take(attributes: &mut Vec<OtlpKeyValue>, key: &str) -> Option<AnyValue> {
    let position = attributes.iter().position(|kv| kv.key == key)?;
    attributes.remove(position).value
}

/// A 16-byte trace ID: absent is zero; a shorter one is an error and a longer one is
/// read by its first 16 bytes, as Jaeger's `TraceID.Unmarshal`.
fn trace_id(bytes: &[u8]) -> Result<[u8; 16], TranslateError> {
    match bytes.len() {
        0 => Ok([0; 16]),
        n if n < 16 => Err(TranslateError(format!(
            "a trace ID of {n} bytes: it must have 16"
        ))),
        _ => Ok(bytes[..16].try_into().unwrap_or([0; 16])),
    }
}

/// An 8-byte span ID, by the same rule.
fn span_id(bytes: &[u8]) -> Result<[u8; 8], TranslateError> {
    match bytes.len() {
        0 => Ok([0; 8]),
        n if n < 8 => Err(TranslateError(format!(
            "a span ID of {n} bytes: it must have 8"
        ))),
        _ => Ok(bytes[..8].try_into().unwrap_or([0; 8])),
    }
}

fn span_id_or_zero(bytes: &[u8]) -> [u8; 8] {
    span_id(bytes).unwrap_or([0; 8])
}

/// Nanoseconds since the epoch; a time before it is clamped to zero.
fn timestamp_nanos(timestamp: Option<Timestamp>) -> u64 {
    let Some(t) = timestamp else { return 0 };
    let nanos = i128::from(t.seconds) * 1_000_000_000 + i128::from(t.nanos);
    u64::try_from(nanos.max(0)).unwrap_or(u64::MAX)
}

fn duration_nanos(duration: Option<Duration>) -> i64 {
    let Some(d) = duration else { return 0 };
    let nanos = i128::from(d.seconds) * 1_000_000_000 + i128::from(d.nanos);
    i64::try_from(nanos).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX })
}
