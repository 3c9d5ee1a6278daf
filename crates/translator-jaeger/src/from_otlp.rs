//! OTLP → Jaeger, by the OpenTelemetry specification's Jaeger mapping, as the Go
//! Collector's `jaeger.ProtoFromTraces` does it (differences are in the crate docs).

use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{
    InstrumentationScope, KeyValue as OtlpKeyValue, any_value,
};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::proto::trace::v1::span::{Event, Link, SpanKind};
use tributary_pipeline_core::pdata::proto::trace::v1::status::StatusCode;
use tributary_pipeline_core::pdata::proto::trace::v1::{ResourceSpans, Span as OtlpSpan};
use tributary_pipeline_core::pdata::value_text::as_string;

use crate::model::{
    Batch, Duration, KeyValue, Log, Process, Span, SpanRef, SpanRefType, Timestamp, ValueType,
};
use crate::to_otlp::{NO_SERVICE_NAME, SAMPLED};

const SERVICE_NAME: &str = "service.name";

/// The log field that names an event.
const EVENT: &str = "event";

/// Translates every resource of `request` into one Jaeger batch, in order. A resource
/// with neither attributes nor scopes is left out, as in Go.
pub fn traces_to_batches(request: &ExportTraceServiceRequest) -> Vec<Batch> {
    request
        .resource_spans
        .iter()
        .filter_map(resource_spans_to_batch)
        .collect()
}

/// Every span of `request` with its process inside it (`Span.process`), in order: the
/// form of Jaeger's Kafka records (`jaeger_proto`, `jaeger_json`), one span each.
pub fn traces_to_spans(request: &ExportTraceServiceRequest) -> Vec<Span> {
    let mut spans = Vec::new();
    for batch in traces_to_batches(request) {
        for mut span in batch.spans {
            span.process = batch.process.clone();
            spans.push(span);
        }
    }
    spans
}

fn resource_spans_to_batch(resource_spans: &ResourceSpans) -> Option<Batch> {
    let attributes = resource_spans
        .resource
        .as_ref()
        .map_or(&[][..], |r| &r.attributes[..]);
    if attributes.is_empty() && resource_spans.scope_spans.is_empty() {
        return None;
    }
    let spans = resource_spans
        .scope_spans
        .iter()
        .flat_map(|scope_spans| {
            let scope = scope_spans.scope.as_ref();
            scope_spans
                .spans
                .iter()
                .map(move |span| translate(span, scope))
        })
        .collect();
    Some(Batch {
        spans,
        process: Some(process(resource_spans.resource.as_ref())),
    })
}

/// The resource as a process: `service.name` names it, the other attributes are its tags;
/// a resource without attributes is named `OTLPResourceNoServiceName`, which the reverse
/// translation reads back as an empty resource.
fn process(resource: Option<&Resource>) -> Process {
    let attributes = resource.map_or(&[][..], |r| &r.attributes[..]);
    if attributes.is_empty() {
        return Process {
            service_name: NO_SERVICE_NAME.to_string(),
            tags: Vec::new(),
        };
    }
    // Go's `Str()`: a `service.name` that is not a string names no service.
    let service_name = attributes
        .iter()
        .find(|kv| kv.key == SERVICE_NAME)
        .and_then(
            |kv| match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(any_value::Value::StringValue(name)) => Some(name.clone()),
                _ => None,
            },
        )
        .unwrap_or_default();
    Process {
        service_name,
        tags: attributes
            .iter()
            .filter(|kv| kv.key != SERVICE_NAME)
            .map(tag)
            .collect(),
    }
}

fn translate(span: &OtlpSpan, scope: Option<&InstrumentationScope>) -> Span {
    let trace_id = id::<16>(&span.trace_id);
    let start = span.start_time_unix_nano;
    let duration = i128::from(span.end_time_unix_nano) - i128::from(start);
    Span {
        trace_id: trace_id.to_vec(),
        span_id: id::<8>(&span.span_id).to_vec(),
        operation_name: span.name.clone(),
        references: references(&span.links, id::<8>(&span.parent_span_id), trace_id),
        flags: span.flags & SAMPLED,
        start_time: Some(timestamp(start)),
        // Go's `Time.Sub`: saturated at the bounds of an i64 of nanoseconds.
        duration: Some(duration_of(
            i64::try_from(duration).unwrap_or(if duration < 0 { i64::MIN } else { i64::MAX }),
        )),
        tags: span_tags(span, scope),
        logs: span.events.iter().map(log).collect(),
        ..Span::default()
    }
}

/// An ID of `N` bytes; one of another length (which OTLP decoders refuse) is zero.
fn id<const N: usize>(bytes: &[u8]) -> [u8; N] {
    <[u8; N]>::try_from(bytes).unwrap_or([0; N])
}

/// The parent as a `CHILD_OF` reference, first (backends look for the parent there), then
/// each link: `FOLLOWS_FROM` unless its `opentracing.ref_type` says `child_of`. A link to
/// the parent itself sets the parent reference's type instead of adding a reference.
fn references(links: &[Link], parent: [u8; 8], trace_id: [u8; 16]) -> Vec<SpanRef> {
    let has_parent = parent != [0; 8];
    let mut references = Vec::with_capacity(links.len() + usize::from(has_parent));
    if has_parent {
        references.push(SpanRef {
            trace_id: trace_id.to_vec(),
            span_id: parent.to_vec(),
            ref_type: SpanRefType::ChildOf as i32,
        });
    }
    for link in links {
        let (link_trace, link_span) = (id::<16>(&link.trace_id), id::<8>(&link.span_id));
        let ref_type = ref_type(link) as i32;
        if has_parent && link_trace == trace_id && link_span == parent {
            references[0].ref_type = ref_type;
            continue;
        }
        references.push(SpanRef {
            trace_id: link_trace.to_vec(),
            span_id: link_span.to_vec(),
            ref_type,
        });
    }
    references
}

fn ref_type(link: &Link) -> SpanRefType {
    let child_of = link
        .attributes
        .iter()
        .find(|kv| kv.key == "opentracing.ref_type")
        .is_some_and(|kv| {
            matches!(
                kv.value.as_ref().and_then(|v| v.value.as_ref()),
                Some(any_value::Value::StringValue(t)) if t == "child_of"
            )
        });
    if child_of {
        SpanRefType::ChildOf
    } else {
        SpanRefType::FollowsFrom
    }
}

/// The span's tags in Go's order: the scope, the attributes, then what OTLP holds in
/// fields (kind, status, trace state), then the dropped counts the specification asks
/// for (Go writes none).
fn span_tags(span: &OtlpSpan, scope: Option<&InstrumentationScope>) -> Vec<KeyValue> {
    let mut tags = Vec::with_capacity(span.attributes.len() + 8);
    if let Some(scope) = scope {
        if !scope.name.is_empty() {
            tags.push(string_tag("otel.scope.name", &scope.name));
        }
        if !scope.version.is_empty() {
            tags.push(string_tag("otel.scope.version", &scope.version));
        }
    }
    tags.extend(span.attributes.iter().map(tag));
    if let Some(kind) = span_kind(span.kind) {
        tags.push(string_tag("span.kind", kind));
    }
    let status = span.status.as_ref();
    match status.map(|s| StatusCode::try_from(s.code)) {
        Some(Ok(StatusCode::Error)) => {
            tags.push(string_tag("otel.status_code", "ERROR"));
            tags.push(KeyValue {
                key: "error".into(),
                v_type: ValueType::Bool as i32,
                v_bool: true,
                ..KeyValue::default()
            });
        }
        Some(Ok(StatusCode::Ok)) => tags.push(string_tag("otel.status_code", "OK")),
        _ => {}
    }
    if let Some(status) = status.filter(|s| !s.message.is_empty()) {
        tags.push(string_tag("otel.status_description", &status.message));
    }
    if !span.trace_state.is_empty() {
        tags.push(string_tag("w3c.tracestate", &span.trace_state));
    }
    for (key, count) in [
        (
            "otel.dropped_attributes_count",
            span.dropped_attributes_count,
        ),
        ("otel.dropped_events_count", span.dropped_events_count),
        ("otel.dropped_links_count", span.dropped_links_count),
    ] {
        if count > 0 {
            tags.push(int_tag(key, count));
        }
    }
    tags
}

/// The OpenTracing name of a span kind; none for an unspecified (or unknown) kind.
fn span_kind(kind: i32) -> Option<&'static str> {
    match SpanKind::try_from(kind).ok()? {
        SpanKind::Client => Some("client"),
        SpanKind::Server => Some("server"),
        SpanKind::Producer => Some("producer"),
        SpanKind::Consumer => Some("consumer"),
        SpanKind::Internal => Some("internal"),
        SpanKind::Unspecified => None,
    }
}

/// An event as a log: its name as the `event` field (unless an attribute of that name
/// exists, which then stands for it), its attributes, and
/// `otel.event.dropped_attributes_count` when some were dropped.
fn log(event: &Event) -> Log {
    let mut fields = Vec::with_capacity(event.attributes.len() + 2);
    if !event.name.is_empty() && !event.attributes.iter().any(|kv| kv.key == EVENT) {
        fields.push(string_tag(EVENT, &event.name));
    }
    fields.extend(event.attributes.iter().map(tag));
    if event.dropped_attributes_count > 0 {
        fields.push(int_tag(
            "otel.event.dropped_attributes_count",
            event.dropped_attributes_count,
        ));
    }
    Log {
        timestamp: Some(timestamp(event.time_unix_nano)),
        fields,
    }
}

/// An attribute as a tag: strings, booleans, integers, doubles and bytes by their Jaeger
/// types; arrays and maps as their JSON text, as Go's `AsString` writes it; an empty
/// value as the empty string.
fn tag(attribute: &OtlpKeyValue) -> KeyValue {
    let key = attribute.key.clone();
    let value = attribute.value.as_ref();
    match value.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => KeyValue {
            key,
            v_type: ValueType::String as i32,
            v_str: s.clone(),
            ..KeyValue::default()
        },
        Some(any_value::Value::BoolValue(b)) => KeyValue {
            key,
            v_type: ValueType::Bool as i32,
            v_bool: *b,
            ..KeyValue::default()
        },
        Some(any_value::Value::IntValue(i)) => KeyValue {
            key,
            v_type: ValueType::Int64 as i32,
            v_int64: *i,
            ..KeyValue::default()
        },
        Some(any_value::Value::DoubleValue(d)) => KeyValue {
            key,
            v_type: ValueType::Float64 as i32,
            v_float64: *d,
            ..KeyValue::default()
        },
        Some(any_value::Value::BytesValue(b)) => KeyValue {
            key,
            v_type: ValueType::Binary as i32,
            v_binary: b.clone(),
            ..KeyValue::default()
        },
        _ => KeyValue {
            key,
            v_type: ValueType::String as i32,
            v_str: as_string(value),
            ..KeyValue::default()
        },
    }
}

fn string_tag(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        v_type: ValueType::String as i32,
        v_str: value.to_string(),
        ..KeyValue::default()
    }
}

fn int_tag(key: &str, value: u32) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        v_type: ValueType::Int64 as i32,
        v_int64: i64::from(value),
        ..KeyValue::default()
    }
}

fn timestamp(unix_nano: u64) -> Timestamp {
    const NANOS: u64 = 1_000_000_000;
    Timestamp {
        // u64::MAX nanoseconds are 18 446 744 073 seconds: within an i64.
        seconds: i64::try_from(unix_nano / NANOS).unwrap_or(i64::MAX),
        nanos: i32::try_from(unix_nano % NANOS).unwrap_or(0),
    }
}

/// `google.protobuf.Duration`: seconds and nanoseconds of the same sign.
fn duration_of(nanos: i64) -> Duration {
    const NANOS: i64 = 1_000_000_000;
    Duration {
        seconds: nanos / NANOS,
        nanos: i32::try_from(nanos % NANOS).unwrap_or(0),
    }
}
