//! Zipkin v1 JSON (`application/json` on `/api/v1/spans`) → OTLP traces, as the Go
//! Collector's `zipkinv1` translator reads it: the `cs`/`cr`/`sr`/`ss`/`ms`/`mr`
//! annotations give the kind, the start and end, and the service; other annotations
//! become events; binary annotations become attributes.

use std::collections::HashMap;

use serde::Deserialize;
use tributary_pipeline_core::pdata::Traces;
use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::proto::trace::v1::span::{Event, SpanKind};
use tributary_pipeline_core::pdata::proto::trace::v1::status::StatusCode;
use tributary_pipeline_core::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

use crate::DecodeError;
use crate::attributes::*;
use crate::json_v2::scalar_text;
use crate::model::{span_id_from_hex, trace_id_from_hex};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonSpan {
    trace_id: String,
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    parent_id: Option<String>,
    #[serde(default)]
    timestamp: Option<i64>,
    #[serde(default)]
    duration: Option<i64>,
    #[serde(default)]
    annotations: Option<Vec<Option<JsonAnnotation>>>,
    #[serde(default)]
    binary_annotations: Option<Vec<Option<JsonBinaryAnnotation>>>,
}

#[derive(Clone, Default, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
struct JsonEndpoint {
    #[serde(default)]
    service_name: Option<String>,
    #[serde(default)]
    ipv4: Option<String>,
    #[serde(default)]
    ipv6: Option<String>,
    #[serde(default)]
    port: Option<i32>,
}

#[derive(Deserialize)]
struct JsonAnnotation {
    #[serde(default)]
    timestamp: i64,
    #[serde(default)]
    value: String,
    #[serde(default)]
    endpoint: Option<JsonEndpoint>,
}

#[derive(Deserialize)]
struct JsonBinaryAnnotation {
    key: String,
    #[serde(default)]
    value: serde_json::Value,
    #[serde(default)]
    endpoint: Option<JsonEndpoint>,
}

/// The service name of a span whose annotations name none.
const UNKNOWN_SERVICE: &str = "unknown-service";

/// Decodes a v1 JSON list of spans into OTLP: one resource per endpoint.
pub fn decode(
    body: &[u8],
    parse_string_tags: bool,
    now_unix_nano: u64,
) -> Result<Traces, DecodeError> {
    let spans: Vec<JsonSpan> = serde_json::from_slice(body)
        .map_err(|e| DecodeError::new(format!("invalid Zipkin v1 JSON: {e}")))?;
    let mut request = ExportTraceServiceRequest::default();
    let mut by_endpoint: HashMap<JsonEndpoint, usize> = HashMap::new();
    for (index, span) in spans.into_iter().enumerate() {
        let (endpoint, span) =
            translate(span, parse_string_tags, now_unix_nano).map_err(|e| e.in_span(index))?;
        let r = *by_endpoint.entry(endpoint.clone()).or_insert_with(|| {
            request.resource_spans.push(ResourceSpans {
                resource: Some(Resource {
                    attributes: resource_attributes(&endpoint),
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans::default()],
                ..Default::default()
            });
            request.resource_spans.len() - 1
        });
        request.resource_spans[r].scope_spans[0].spans.push(span);
    }
    Ok(Traces::new(request))
}

/// `service.name`, and the address as `ipv4`, `ipv6` and `port` string attributes (the
/// Go translator's names).
fn resource_attributes(endpoint: &JsonEndpoint) -> Vec<KeyValue> {
    let mut attributes = vec![key_value(
        SERVICE_NAME,
        endpoint.service_name.clone().unwrap_or_default(),
    )];
    for (key, value) in [("ipv4", &endpoint.ipv4), ("ipv6", &endpoint.ipv6)] {
        if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
            attributes.push(key_value(key, value.as_str()));
        }
    }
    if let Some(port) = endpoint.port.filter(|p| *p != 0) {
        attributes.push(key_value("port", port.to_string()));
    }
    attributes
}

fn translate(
    span: JsonSpan,
    parse_string_tags: bool,
    now_unix_nano: u64,
) -> Result<(JsonEndpoint, Span), DecodeError> {
    let trace_id = match span.trace_id.len() {
        16 | 32 => trace_id_from_hex(&span.trace_id)?,
        _ => {
            return Err(DecodeError::new(format!(
                "traceId {:?} must be 16 or 32 hex digits",
                span.trace_id
            )));
        }
    };
    if span.id.len() != 16 {
        return Err(DecodeError::new(format!(
            "id {:?} must be 16 hex digits",
            span.id
        )));
    }
    let id = span_id_from_hex(&span.id, "id")?;
    let parent_id = match span.parent_id.as_deref() {
        None | Some("") => None,
        Some(parent) if parent.len() == 16 => Some(span_id_from_hex(parent, "parentId")?),
        Some(parent) => {
            return Err(DecodeError::new(format!(
                "parentId {parent:?} must be 16 hex digits"
            )));
        }
    };
    if trace_id == [0; 16] {
        return Err(DecodeError::new("traceId is zero"));
    }
    if id == [0; 8] || parent_id == Some([0; 8]) {
        return Err(DecodeError::new("span id is zero"));
    }

    let mut out = Span {
        trace_id: trace_id.to_vec(),
        span_id: id.to_vec(),
        parent_span_id: parent_id.map(|p| p.to_vec()).unwrap_or_default(),
        name: span.name.unwrap_or_default(),
        ..Default::default()
    };

    // Annotations: the first one naming a kind sets the kind; the first naming a kind and
    // a service is the span's endpoint; the earliest and latest give start and end.
    let mut endpoint: Option<JsonEndpoint> = None;
    let mut kind_set = false;
    let (mut earliest, mut latest) = (i64::MAX, i64::MIN);
    for annotation in span.annotations.unwrap_or_default().into_iter().flatten() {
        if annotation.value.is_empty() {
            continue;
        }
        let kind = match annotation.value.as_str() {
            "cs" | "cr" => Some(SpanKind::Client),
            "ms" => Some(SpanKind::Producer),
            "mr" => Some(SpanKind::Consumer),
            "ss" | "sr" => Some(SpanKind::Server),
            _ => None,
        };
        let named = annotation
            .endpoint
            .as_ref()
            .is_some_and(|e| e.service_name.as_deref().is_some_and(|n| !n.is_empty()));
        if endpoint.is_none() && named && kind.is_some() {
            endpoint = annotation.endpoint.clone();
        }
        if let (Some(kind), false) = (kind, kind_set) {
            out.kind = kind as i32;
            kind_set = true;
        }
        let time = micros_to_nanos(annotation.timestamp);
        if annotation.timestamp < earliest {
            earliest = annotation.timestamp;
            out.start_time_unix_nano = time;
        }
        if annotation.timestamp > latest {
            latest = annotation.timestamp;
            out.end_time_unix_nano = time;
        }
        if kind.is_none() {
            out.events.push(Event {
                time_unix_nano: time,
                name: annotation.value,
                ..Default::default()
            });
        }
    }

    let fallback_service = binary_annotations(
        &mut out,
        span.binary_annotations.unwrap_or_default(),
        parse_string_tags,
    )?;
    let mut endpoint = endpoint.unwrap_or_else(|| JsonEndpoint {
        service_name: Some(UNKNOWN_SERVICE.into()),
        ..Default::default()
    });
    if endpoint.service_name.as_deref() == Some(UNKNOWN_SERVICE) && !fallback_service.is_empty() {
        endpoint.service_name = Some(fallback_service);
    }

    if let Some(start) = span.timestamp.filter(|t| *t != 0) {
        out.start_time_unix_nano = micros_to_nanos(start);
        out.end_time_unix_nano = micros_to_nanos(start.saturating_add(span.duration.unwrap_or(0)));
    }
    if out.start_time_unix_nano == 0 {
        // OTLP needs a start; the receipt time stands in, and an attribute says so.
        out.start_time_unix_nano = now_unix_nano;
        out.end_time_unix_nano = now_unix_nano;
        out.attributes.push(key_value(START_TIME_ABSENT, true));
    }
    Ok((endpoint, out))
}

fn micros_to_nanos(micros: i64) -> u64 {
    u64::try_from(micros).unwrap_or(0).saturating_mul(1000)
}

/// Binary annotations as attributes (`lc`, the local component, as `component`), with the
/// status taken out of `otel.status_code`, `otel.status_description` and `error`.
/// Returns the service name they suggest: the last endpoint's, else the local component.
fn binary_annotations(
    span: &mut Span,
    annotations: Vec<Option<JsonBinaryAnnotation>>,
    parse_string_tags: bool,
) -> Result<String, DecodeError> {
    let (mut fallback, mut local_component) = (String::new(), String::new());
    let (mut code, mut description, mut error) = (None, None, None);
    for annotation in annotations.into_iter().flatten() {
        if let Some(name) = annotation
            .endpoint
            .and_then(|e| e.service_name)
            .filter(|n| !n.is_empty())
        {
            fallback = name;
        }
        let Some(value) = scalar_text(&annotation.value).map_err(|kind| {
            DecodeError::new(format!(
                "binary annotation {:?} is {kind}, not a string",
                annotation.key
            ))
        })?
        else {
            continue;
        };
        let key = if annotation.key == "lc" {
            local_component = value.clone();
            "component".to_owned()
        } else {
            annotation.key
        };
        match key.as_str() {
            STATUS_CODE => code = Some(value),
            STATUS_DESCRIPTION => description = Some(value),
            ERROR if !value.eq_ignore_ascii_case("false") => error = Some(value),
            _ => span.attributes.push(KeyValue {
                key,
                value: Some(typed_value(&value, parse_string_tags)),
                ..Default::default()
            }),
        }
    }
    let mut status = Status::default();
    if let Some(code) = code {
        match status_code_from_text(&code) {
            Some(code) => status.code = code as i32,
            None => span.attributes.push(key_value(STATUS_CODE, code)),
        }
    }
    if let Some(description) = description {
        status.message = description;
    }
    if let Some(error) = error {
        status.code = StatusCode::Error as i32;
        if status.message.is_empty() && !error.eq_ignore_ascii_case("true") {
            status.message = error;
        }
    }
    if status != Status::default() {
        span.status = Some(status);
    }
    if fallback.is_empty() {
        fallback = local_component;
    }
    Ok(fallback)
}
