//! Zipkin v2 spans → OTLP traces, by the OpenTelemetry specification's Zipkin mapping
//! (what the Go Collector's `zipkinv2.ToTranslator` does; differences are in the crate
//! docs).

use std::collections::{BTreeMap, HashMap};

use tributary_pipeline_core::pdata::Traces;
use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::proto::trace::v1::span::{Event, Link, SpanKind};
use tributary_pipeline_core::pdata::proto::trace::v1::status::StatusCode;
use tributary_pipeline_core::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

use crate::attributes::*;
use crate::model::{self, Kind, span_id_from_hex, trace_id_from_hex};

/// Where a span goes: its resource (service name and resource tags) and its scope.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Placement {
    resource: Vec<(String, String)>,
    scope: (String, String),
}

/// Translates spans into one OTLP request: one resource per distinct local service (and
/// resource tags), one scope per instrumentation scope, spans in the order received.
pub fn to_traces(spans: Vec<model::Span>, parse_string_tags: bool) -> Traces {
    let mut request = ExportTraceServiceRequest::default();
    let mut resources: HashMap<Vec<(String, String)>, usize> = HashMap::new();
    let mut scopes: HashMap<Placement, (usize, usize)> = HashMap::new();
    for span in spans {
        let (placement, span) = translate(span, parse_string_tags);
        let (r, s) = match scopes.get(&placement) {
            Some(found) => *found,
            None => {
                let r = *resources
                    .entry(placement.resource.clone())
                    .or_insert_with(|| {
                        request.resource_spans.push(ResourceSpans {
                            resource: Some(Resource {
                                attributes: placement
                                    .resource
                                    .iter()
                                    .map(|(k, v)| key_value(k.as_str(), v.as_str()))
                                    .collect(),
                                ..Default::default()
                            }),
                            ..Default::default()
                        });
                        request.resource_spans.len() - 1
                    });
                let scope_spans = &mut request.resource_spans[r].scope_spans;
                let (name, version) = placement.scope.clone();
                scope_spans.push(ScopeSpans {
                    scope: (!name.is_empty() || !version.is_empty()).then(|| {
                        InstrumentationScope {
                            name,
                            version,
                            ..Default::default()
                        }
                    }),
                    ..Default::default()
                });
                let found = (r, scope_spans.len() - 1);
                scopes.insert(placement, found);
                found
            }
        };
        request.resource_spans[r].scope_spans[s].spans.push(span);
    }
    Traces::new(request)
}

fn translate(span: model::Span, parse_string_tags: bool) -> (Placement, Span) {
    let mut tags = span.tags;

    // The resource: the local service, named under the attribute it came from, and the
    // tags that describe a resource.
    let source = tags.remove(SERVICE_NAME_SOURCE).filter(|s| !s.is_empty());
    let mut resource = BTreeMap::new();
    if let Some(local) = span
        .local_endpoint
        .as_ref()
        .filter(|e| !e.service_name.is_empty())
    {
        let key = source.unwrap_or_else(|| SERVICE_NAME.to_owned());
        resource.insert(key, local.service_name.clone());
    }
    for key in RESOURCE_KEYS {
        if let Some(value) = tags.remove(*key) {
            resource.entry((*key).to_owned()).or_insert(value);
        }
    }
    let scope_name = tags.remove(SCOPE_NAME);
    let library_name = tags.remove(LIBRARY_NAME);
    let scope_version = tags.remove(SCOPE_VERSION);
    let library_version = tags.remove(LIBRARY_VERSION);
    let placement = Placement {
        resource: resource.into_iter().collect(),
        scope: (
            scope_name.or(library_name).unwrap_or_default(),
            scope_version.or(library_version).unwrap_or_default(),
        ),
    };

    let mut out = Span {
        trace_id: span.trace_id.to_vec(),
        span_id: span.id.to_vec(),
        trace_state: tags.remove(TRACE_STATE).unwrap_or_default(),
        parent_span_id: span
            .parent_id
            .filter(|parent| *parent != span.id)
            .map(|parent| parent.to_vec())
            .unwrap_or_default(),
        name: span.name,
        kind: kind(span.kind, &mut tags) as i32,
        status: status(&mut tags),
        links: links(&mut tags),
        ..Default::default()
    };

    let mut attributes: Vec<KeyValue> = tags
        .iter()
        .map(|(key, value)| KeyValue {
            key: key.clone(),
            value: Some(typed_value(value, parse_string_tags)),
            ..Default::default()
        })
        .collect();
    if let Some(local) = &span.local_endpoint {
        endpoint_attributes(local, NET_HOST_IP, NET_HOST_PORT, &mut attributes);
    }
    if let Some(remote) = &span.remote_endpoint {
        if !remote.service_name.is_empty() {
            attributes.push(key_value(PEER_SERVICE, remote.service_name.as_str()));
        }
        endpoint_attributes(remote, NET_PEER_IP, NET_PEER_PORT, &mut attributes);
    }

    // Zipkin may leave the start out; OTLP cannot. The start is then the epoch, and an
    // attribute says so (the exporter leaves the timestamp out again).
    match span.timestamp {
        Some(start) => {
            out.start_time_unix_nano = micros_to_nanos(start);
            out.end_time_unix_nano = micros_to_nanos(start.saturating_add(span.duration));
        }
        None => {
            out.end_time_unix_nano = micros_to_nanos(span.duration);
            attributes.push(key_value(START_TIME_ABSENT, true));
        }
    }
    out.attributes = attributes;
    out.events = span.annotations.into_iter().map(event).collect();
    (placement, out)
}

fn micros_to_nanos(micros: u64) -> u64 {
    micros.saturating_mul(1000)
}

fn endpoint_attributes(
    endpoint: &model::Endpoint,
    ip_key: &str,
    port_key: &str,
    attributes: &mut Vec<KeyValue>,
) {
    // IPv6 wins when both are set, as in Go.
    let ip = endpoint
        .ipv6
        .map(|ip| ip.to_string())
        .or_else(|| endpoint.ipv4.map(|ip| ip.to_string()));
    if let Some(ip) = ip {
        attributes.push(key_value(ip_key, ip));
    }
    if endpoint.port > 0 {
        attributes.push(key_value(port_key, i64::from(endpoint.port)));
    }
}

fn kind(kind: Option<Kind>, tags: &mut BTreeMap<String, String>) -> SpanKind {
    match kind {
        Some(Kind::Client) => SpanKind::Client,
        Some(Kind::Server) => SpanKind::Server,
        Some(Kind::Producer) => SpanKind::Producer,
        Some(Kind::Consumer) => SpanKind::Consumer,
        None => match tags.remove(SPAN_KIND).as_deref() {
            Some("internal") => SpanKind::Internal,
            _ => SpanKind::Unspecified,
        },
    }
}

/// The status from `otel.status_code` and `otel.status_description`, and from Zipkin's
/// `error` tag: any value but `false` marks an error (Zipkin's convention: the value is
/// the error message).
fn status(tags: &mut BTreeMap<String, String>) -> Option<Status> {
    let mut status = Status::default();
    let code = tags
        .get(STATUS_CODE)
        .and_then(|code| status_code_from_text(code));
    if let Some(code) = code {
        tags.remove(STATUS_CODE);
        status.code = code as i32;
        if let Some(message) = tags.remove(STATUS_DESCRIPTION) {
            status.message = message;
        }
    }
    let error = tags
        .get(ERROR)
        .filter(|v| !v.eq_ignore_ascii_case("false"))
        .cloned();
    if let Some(error) = error {
        tags.remove(ERROR);
        status.code = StatusCode::Error as i32;
        if status.message.is_empty() && !error.eq_ignore_ascii_case("true") {
            status.message = error;
        }
    }
    (status != Status::default()).then_some(status)
}

/// Links, from the `otlp.link.<n>` tags the exporter writes
/// (`traceId|spanId|traceState|{attributes}|droppedAttributes`). A tag that does not read
/// as a link stays a tag.
fn links(tags: &mut BTreeMap<String, String>) -> Vec<Link> {
    let keys: Vec<String> = tags
        .range(LINK_PREFIX.to_owned()..)
        .take_while(|(key, _)| key.starts_with(LINK_PREFIX))
        .filter(|(key, _)| key[LINK_PREFIX.len()..].parse::<u32>().is_ok())
        .map(|(key, _)| key.clone())
        .collect();
    let mut links: Vec<(u32, Link)> = Vec::new();
    for key in keys {
        let Some(link) = tags.get(&key).and_then(|value| link(value)) else {
            continue;
        };
        tags.remove(&key);
        links.push((key[LINK_PREFIX.len()..].parse().unwrap_or(0), link));
    }
    links.sort_by_key(|(index, _)| *index);
    links.into_iter().map(|(_, link)| link).collect()
}

fn link(value: &str) -> Option<Link> {
    let (trace_id, rest) = value.split_once('|')?;
    let (span_id, rest) = rest.split_once('|')?;
    let (trace_state, rest) = rest.split_once('|')?;
    let (attributes, dropped) = rest.rsplit_once('|')?;
    let attributes = serde_json::from_str(attributes).ok()?;
    Some(Link {
        trace_id: trace_id_from_hex(trace_id).ok()?.to_vec(),
        span_id: span_id_from_hex(span_id, "link spanId").ok()?.to_vec(),
        trace_state: trace_state.to_owned(),
        attributes: attributes_from_json(attributes),
        dropped_attributes_count: dropped.parse().ok()?,
        ..Default::default()
    })
}

/// An event from an annotation: its value is the event's name, or
/// `name|{attributes}|droppedAttributes` as the exporter writes events with attributes.
fn event(annotation: model::Annotation) -> Event {
    let time_unix_nano = micros_to_nanos(annotation.timestamp);
    let encoded = annotation.value.split_once('|').and_then(|(name, rest)| {
        let (attributes, dropped) = rest.rsplit_once('|')?;
        let attributes = serde_json::from_str(attributes).ok()?;
        Some(Event {
            time_unix_nano,
            name: name.to_owned(),
            attributes: attributes_from_json(attributes),
            dropped_attributes_count: dropped.parse().ok()?,
        })
    });
    encoded.unwrap_or(Event {
        time_unix_nano,
        name: annotation.value,
        ..Default::default()
    })
}
