//! OTLP traces → Zipkin v2 spans, by the OpenTelemetry specification's Zipkin exporter
//! mapping (what the Go Collector's `zipkinv2.FromTranslator` does; differences are in
//! the crate docs).

use std::collections::BTreeMap;
use std::net::IpAddr;

use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::proto::trace::v1::span::{Event, Link, SpanKind};
use tributary_pipeline_core::pdata::proto::trace::v1::status::StatusCode;
use tributary_pipeline_core::pdata::proto::trace::v1::{Span, Status};
use tributary_pipeline_core::pdata::value_text::as_string;

use crate::attributes::*;
use crate::model::{self, Kind, to_hex};

/// The resource attributes that name a service when `service.name` is absent, in the
/// order they are tried.
const SERVICE_NAME_FALLBACKS: [&str; 3] = [
    "faas.name",
    "k8s.deployment.name",
    "process.executable.name",
];

/// The spans of a request, and how many were left out for an invalid (empty or wrong
/// length) trace or span ID.
#[derive(Debug, Default)]
pub struct Translated {
    /// The Zipkin spans.
    pub spans: Vec<model::Span>,
    /// Spans left out: Zipkin cannot carry a span without valid IDs.
    pub invalid: usize,
}

/// Translates every span of `request`. A resource without `service.name` (nor one of the
/// attributes that can stand in for it: `faas.name`, `k8s.deployment.name`,
/// `process.executable.name`) is named `default_service_name`.
pub fn from_traces(request: &ExportTraceServiceRequest, default_service_name: &str) -> Translated {
    let mut out = Translated::default();
    for resource_spans in &request.resource_spans {
        let mut resource_tags: BTreeMap<String, String> = resource_spans
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .map(|kv| (kv.key.clone(), as_string(kv.value.as_ref())))
            .collect();
        let service_name = service_name(&mut resource_tags, default_service_name);
        for scope_spans in &resource_spans.scope_spans {
            let mut base = resource_tags.clone();
            if let Some(scope) = &scope_spans.scope {
                if !scope.name.is_empty() {
                    base.insert(SCOPE_NAME.into(), scope.name.clone());
                }
                if !scope.version.is_empty() {
                    base.insert(SCOPE_VERSION.into(), scope.version.clone());
                }
            }
            for span in &scope_spans.spans {
                match translate(span, &service_name, &base) {
                    Some(span) => out.spans.push(span),
                    None => out.invalid += 1,
                }
            }
        }
    }
    out
}

/// The local service's name, taking its attribute out of the tags.
fn service_name(tags: &mut BTreeMap<String, String>, default: &str) -> String {
    if let Some(name) = tags.remove(SERVICE_NAME) {
        return name;
    }
    for key in SERVICE_NAME_FALLBACKS {
        if let Some(name) = tags.remove(key) {
            tags.insert(SERVICE_NAME_SOURCE.into(), key.into());
            return name;
        }
    }
    default.to_owned()
}

fn translate(
    span: &Span,
    service_name: &str,
    base: &BTreeMap<String, String>,
) -> Option<model::Span> {
    let trace_id: [u8; 16] = span.trace_id.as_slice().try_into().ok()?;
    let id: [u8; 8] = span.span_id.as_slice().try_into().ok()?;
    if trace_id == [0; 16] || id == [0; 8] {
        return None;
    }
    let parent_id = <[u8; 8]>::try_from(span.parent_span_id.as_slice())
        .ok()
        .filter(|parent| *parent != [0; 8]);

    let mut tags = base.clone();
    for kv in &span.attributes {
        tags.insert(kv.key.clone(), as_string(kv.value.as_ref()));
    }
    if !span.trace_state.is_empty() {
        tags.insert(TRACE_STATE.into(), span.trace_state.clone());
    }
    let kind = match SpanKind::try_from(span.kind).unwrap_or(SpanKind::Unspecified) {
        SpanKind::Client => Some(Kind::Client),
        SpanKind::Server => Some(Kind::Server),
        SpanKind::Producer => Some(Kind::Producer),
        SpanKind::Consumer => Some(Kind::Consumer),
        SpanKind::Internal => {
            tags.insert(SPAN_KIND.into(), "internal".into());
            None
        }
        SpanKind::Unspecified => None,
    };
    let local_endpoint = endpoint(&mut tags, Some(service_name), NET_HOST_IP, NET_HOST_PORT);
    let peer_service = tags.remove(PEER_SERVICE);
    let remote_endpoint = endpoint(
        &mut tags,
        peer_service.as_deref(),
        NET_PEER_IP,
        NET_PEER_PORT,
    );
    status(span.status.as_ref(), &mut tags);
    for (index, link) in span.links.iter().enumerate() {
        tags.insert(format!("{LINK_PREFIX}{index}"), link_text(link));
    }

    // A start at the epoch is Zipkin's absent timestamp (see the receiver's side).
    let start = span.start_time_unix_nano;
    let timestamp = (start / 1000 != 0).then_some(start / 1000);
    let duration = if span.end_time_unix_nano == 0 {
        0
    } else {
        // Zipkin's smallest duration is 1µs: a shorter span is not instantaneous.
        let nanos = span.end_time_unix_nano.saturating_sub(start);
        if nanos > 0 && nanos < 1000 {
            1
        } else {
            nanos / 1000
        }
    };
    Some(model::Span {
        trace_id,
        id,
        parent_id,
        kind,
        name: span.name.clone(),
        timestamp,
        duration,
        local_endpoint,
        remote_endpoint,
        annotations: span.events.iter().map(annotation).collect(),
        tags,
        debug: false,
        shared: false,
    })
}

/// An endpoint from a service name and the address tags, which it takes out. `None` when
/// there is neither a name nor an address.
fn endpoint(
    tags: &mut BTreeMap<String, String>,
    service_name: Option<&str>,
    ip_key: &str,
    port_key: &str,
) -> Option<model::Endpoint> {
    let ip = tags.remove(ip_key).and_then(|ip| ip.parse::<IpAddr>().ok());
    let port = tags
        .remove(port_key)
        .and_then(|port| port.parse::<u16>().ok())
        .unwrap_or(0);
    let service_name = service_name.unwrap_or_default();
    if service_name.is_empty() && ip.is_none() {
        return None;
    }
    Some(model::Endpoint {
        service_name: service_name.to_owned(),
        ipv4: match ip {
            Some(IpAddr::V4(v4)) => Some(v4),
            _ => None,
        },
        ipv6: match ip {
            Some(IpAddr::V6(v6)) => Some(v6),
            _ => None,
        },
        port,
    })
}

/// The status as tags: `otel.status_code` (`OK`, `ERROR`) unless unset,
/// `otel.status_description`, and Zipkin's `error` tag (the message, or `true`) for an
/// error. An `error` attribute on a span that is not in error is removed: Zipkin reads
/// any `error` tag as a failure.
fn status(status: Option<&Status>, tags: &mut BTreeMap<String, String>) {
    let code = status
        .and_then(|s| StatusCode::try_from(s.code).ok())
        .unwrap_or(StatusCode::Unset);
    let message = status.map(|s| s.message.as_str()).unwrap_or_default();
    match code {
        StatusCode::Unset => {
            tags.remove(ERROR);
            return;
        }
        StatusCode::Ok => {
            tags.remove(ERROR);
            tags.insert(STATUS_CODE.into(), "OK".into());
        }
        StatusCode::Error => {
            tags.insert(STATUS_CODE.into(), "ERROR".into());
            let error = if message.is_empty() { "true" } else { message };
            tags.insert(ERROR.into(), error.into());
        }
    }
    if !message.is_empty() {
        tags.insert(STATUS_DESCRIPTION.into(), message.into());
    }
}

fn annotation(event: &Event) -> model::Annotation {
    let value = if event.attributes.is_empty() && event.dropped_attributes_count == 0 {
        event.name.clone()
    } else {
        format!(
            "{}|{}|{}",
            event.name,
            json_object(&event.attributes),
            event.dropped_attributes_count
        )
    };
    model::Annotation {
        timestamp: event.time_unix_nano / 1000,
        value,
    }
}

fn link_text(link: &Link) -> String {
    format!(
        "{}|{}|{}|{}|{}",
        to_hex(&link.trace_id),
        to_hex(&link.span_id),
        link.trace_state,
        json_object(&link.attributes),
        link.dropped_attributes_count
    )
}

fn json_object(attributes: &[KeyValue]) -> String {
    serde_json::Value::Object(attributes_json(attributes)).to_string()
}
