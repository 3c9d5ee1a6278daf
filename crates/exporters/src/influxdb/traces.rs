//! Spans to line protocol, as `otel2influx` writes them: measurement `spans`, events as
//! `logs`, links as `span-links`.

use std::collections::BTreeMap;

use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::proto::trace::v1::Span;

use super::lines::{FieldValue, LineBuffer};
use super::logs::{hex, is_set};
use super::schema::{Written, json, tag_value};

/// Writes every span of `request` as a line of measurement `spans`, its events as `logs`
/// lines and its links as `span-links` lines, as `otel2influx` does: `trace_id`,
/// `span_id` and the `span_dimensions` (attributes of the resource, scope or span, and
/// `span.name`/`span.kind`) are tags; the other attributes one JSON field `attributes`.
/// A span without IDs or a start time cannot be written: counted as dropped.
pub(crate) fn write_traces(
    request: &ExportTraceServiceRequest,
    dimensions: &[String],
    out: &mut LineBuffer,
) -> Written {
    let mut written = Written::default();
    for resource_spans in &request.resource_spans {
        let resource = resource_spans
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or_default();
        for scope_spans in &resource_spans.scope_spans {
            let scope = scope_spans
                .scope
                .as_ref()
                .map(|s| s.attributes.as_slice())
                .unwrap_or_default();
            for span in &scope_spans.spans {
                written.add(write_span(span, resource, scope, dimensions, out));
            }
        }
    }
    written
}

fn write_span(
    span: &Span,
    resource: &[KeyValue],
    scope: &[KeyValue],
    dimensions: &[String],
    out: &mut LineBuffer,
) -> bool {
    if !is_set(&span.trace_id) || !is_set(&span.span_id) || span.start_time_unix_nano == 0 {
        return false;
    }
    let ids = || {
        BTreeMap::from([
            ("trace_id".to_string(), hex(&span.trace_id)),
            ("span_id".to_string(), hex(&span.span_id)),
        ])
    };
    let mut tags = ids();
    let mut fields = Vec::new();
    if !span.trace_state.is_empty() {
        fields.push((
            "trace_state".into(),
            FieldValue::Str(span.trace_state.clone()),
        ));
    }
    if is_set(&span.parent_span_id) {
        fields.push((
            "parent_span_id".into(),
            FieldValue::Str(hex(&span.parent_span_id)),
        ));
    }
    if !span.name.is_empty() {
        fields.push(("span.name".into(), FieldValue::Str(span.name.clone())));
    }
    if let Some(kind) = span_kind(span.kind) {
        fields.push(("span.kind".into(), FieldValue::Str(kind.into())));
    }
    if span.end_time_unix_nano != 0 {
        fields.push((
            "end_time_unix_nano".into(),
            FieldValue::Int(span.end_time_unix_nano as i64),
        ));
        let duration = span.end_time_unix_nano as i64 - span.start_time_unix_nano as i64;
        fields.push(("duration_nano".into(), FieldValue::Int(duration)));
    }
    let mut others = serde_json::Map::new();
    for kv in resource.iter().chain(scope).chain(&span.attributes) {
        if kv.key.is_empty() {
            continue;
        }
        if dimensions.contains(&kv.key) {
            let text = kv.value.as_ref().and_then(tag_value).unwrap_or_default();
            tags.insert(kv.key.clone(), text);
        } else {
            let value = kv.value.as_ref().and_then(|v| v.value.as_ref());
            others.insert(kv.key.clone(), value.map_or(serde_json::Value::Null, json));
        }
    }
    if !others.is_empty() {
        fields.push((
            "attributes".into(),
            FieldValue::Str(serde_json::Value::Object(others).to_string()),
        ));
    }
    // Dimensions among the span's own fields (`span.name`, `span.kind`) are tags.
    fields.retain(|(key, value)| match value {
        FieldValue::Str(text) if dimensions.contains(key) => {
            tags.insert(key.clone(), text.clone());
            false
        }
        _ => true,
    });
    let counts = [
        ("dropped_attributes_count", span.dropped_attributes_count),
        ("dropped_events_count", span.dropped_events_count),
        ("dropped_links_count", span.dropped_links_count),
    ];
    for (key, count) in counts {
        if count > 0 {
            fields.push((key.into(), FieldValue::Int(count.into())));
        }
    }
    if let Some(status) = &span.status {
        match status.code {
            1 => fields.push(("otel.status_code".into(), FieldValue::Str("Ok".into()))),
            2 => fields.push(("otel.status_code".into(), FieldValue::Str("Error".into()))),
            _ => {}
        }
        if !status.message.is_empty() {
            fields.push((
                "otel.status_description".into(),
                FieldValue::Str(status.message.clone()),
            ));
        }
    }
    let written = out.push("spans", &tags, &fields, span.start_time_unix_nano);
    for event in &span.events {
        let mut fields = Vec::new();
        if !event.name.is_empty() {
            fields.push(("event.name".into(), FieldValue::Str(event.name.clone())));
        }
        push_attributes(
            &mut fields,
            &event.attributes,
            event.dropped_attributes_count,
        );
        let time = if event.time_unix_nano != 0 {
            event.time_unix_nano
        } else {
            span.start_time_unix_nano
        };
        out.push("logs", &ids(), &fields, time);
    }
    for link in span
        .links
        .iter()
        .filter(|l| is_set(&l.trace_id) && is_set(&l.span_id))
    {
        let mut tags = ids();
        tags.insert("linked_trace_id".into(), hex(&link.trace_id));
        tags.insert("linked_span_id".into(), hex(&link.span_id));
        let mut fields = Vec::new();
        if !link.trace_state.is_empty() {
            fields.push((
                "trace_state".into(),
                FieldValue::Str(link.trace_state.clone()),
            ));
        }
        push_attributes(&mut fields, &link.attributes, link.dropped_attributes_count);
        out.push("span-links", &tags, &fields, span.start_time_unix_nano);
    }
    written
}

/// An event's or link's attributes as one JSON field, and its dropped count.
fn push_attributes(fields: &mut Vec<(String, FieldValue)>, attributes: &[KeyValue], dropped: u32) {
    let object: serde_json::Map<String, serde_json::Value> = attributes
        .iter()
        .filter(|kv| !kv.key.is_empty())
        .map(|kv| {
            let value = kv.value.as_ref().and_then(|v| v.value.as_ref());
            (kv.key.clone(), value.map_or(serde_json::Value::Null, json))
        })
        .collect();
    if !object.is_empty() {
        fields.push((
            "attributes".into(),
            FieldValue::Str(serde_json::Value::Object(object).to_string()),
        ));
    }
    if dropped > 0 {
        fields.push((
            "dropped_attributes_count".into(),
            FieldValue::Int(dropped.into()),
        ));
    }
}

/// The span kind as pdata names it.
fn span_kind(kind: i32) -> Option<&'static str> {
    match kind {
        1 => Some("Internal"),
        2 => Some("Server"),
        3 => Some("Client"),
        4 => Some("Producer"),
        5 => Some("Consumer"),
        _ => None,
    }
}
