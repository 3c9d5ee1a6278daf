//! Zipkin v2 JSON (`application/json` on `/api/v2/spans`): a list of spans with hex IDs
//! and microsecond timestamps.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use crate::DecodeError;
use crate::model::{self, Kind, span_id_from_hex, to_hex, trace_id_from_hex, trace_id_to_hex};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonSpan {
    trace_id: String,
    id: String,
    #[serde(default)]
    parent_id: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    timestamp: Option<u64>,
    #[serde(default)]
    duration: Option<u64>,
    #[serde(default)]
    local_endpoint: Option<JsonEndpoint>,
    #[serde(default)]
    remote_endpoint: Option<JsonEndpoint>,
    #[serde(default)]
    annotations: Option<Vec<JsonAnnotation>>,
    #[serde(default)]
    tags: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default)]
    debug: Option<bool>,
    #[serde(default)]
    shared: Option<bool>,
}

#[derive(Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JsonEndpoint {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) service_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ipv4: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ipv6: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) port: Option<i64>,
}

#[derive(Deserialize, Serialize)]
struct JsonAnnotation {
    timestamp: u64,
    value: String,
}

/// Decodes a v2 JSON list of spans.
pub fn decode(body: &[u8]) -> Result<Vec<model::Span>, DecodeError> {
    let spans: Vec<JsonSpan> = serde_json::from_slice(body)
        .map_err(|e| DecodeError::new(format!("invalid Zipkin v2 JSON: {e}")))?;
    spans
        .into_iter()
        .enumerate()
        .map(|(index, span)| from_json(span).map_err(|e| e.in_span(index)))
        .collect()
}

fn from_json(span: JsonSpan) -> Result<model::Span, DecodeError> {
    let id = span_id_from_hex(&span.id, "id")?;
    let parent_id = match span.parent_id.as_deref() {
        None | Some("") => None,
        Some(parent) => Some(span_id_from_hex(parent, "parentId")?),
    };
    let mut tags = BTreeMap::new();
    for (key, value) in span.tags.unwrap_or_default() {
        if let Some(text) = scalar_text(&value)
            .map_err(|kind| DecodeError::new(format!("tag {key:?} is {kind}, not a string")))?
        {
            tags.insert(key, text);
        }
    }
    let span = model::Span {
        trace_id: trace_id_from_hex(&span.trace_id)?,
        id,
        parent_id,
        kind: span.kind.as_deref().and_then(Kind::from_name),
        name: span.name.unwrap_or_default(),
        timestamp: span.timestamp.filter(|t| *t != 0),
        duration: span.duration.unwrap_or(0),
        local_endpoint: span.local_endpoint.map(endpoint_from_json).transpose()?,
        remote_endpoint: span.remote_endpoint.map(endpoint_from_json).transpose()?,
        annotations: span
            .annotations
            .unwrap_or_default()
            .into_iter()
            .map(|a| model::Annotation {
                timestamp: a.timestamp,
                value: a.value,
            })
            .collect(),
        tags,
        debug: span.debug.unwrap_or(false),
        shared: span.shared.unwrap_or(false),
    };
    model::check_ids(&span)?;
    Ok(span)
}

/// The text of a scalar JSON value: tags are strings, but some clients send numbers and
/// booleans, which read as their JSON text. `None` for `null`; the kind of value for
/// anything else.
pub(crate) fn scalar_text(value: &serde_json::Value) -> Result<Option<String>, &'static str> {
    match value {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(s) => Ok(Some(s.clone())),
        serde_json::Value::Bool(b) => Ok(Some(b.to_string())),
        serde_json::Value::Number(n) => Ok(Some(n.to_string())),
        serde_json::Value::Array(_) => Err("an array"),
        serde_json::Value::Object(_) => Err("an object"),
    }
}

pub(crate) fn endpoint_from_json(endpoint: JsonEndpoint) -> Result<model::Endpoint, DecodeError> {
    let ipv4 = match endpoint.ipv4.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<Ipv4Addr>()
                .map_err(|_| DecodeError::new(format!("ipv4 {text:?} is not an IPv4 address")))?,
        ),
    };
    let ipv6 = match endpoint.ipv6.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<Ipv6Addr>()
                .map_err(|_| DecodeError::new(format!("ipv6 {text:?} is not an IPv6 address")))?,
        ),
    };
    let port = match endpoint.port {
        None => 0,
        Some(port) => u16::try_from(port)
            .map_err(|_| DecodeError::new(format!("port {port} is out of range")))?,
    };
    Ok(model::Endpoint {
        service_name: endpoint.service_name.unwrap_or_default(),
        ipv4,
        ipv6,
        port,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OutSpan<'a> {
    trace_id: String,
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "str::is_empty")]
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    local_endpoint: Option<JsonEndpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remote_endpoint: Option<JsonEndpoint>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    annotations: Vec<JsonAnnotation>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    tags: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    debug: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    shared: bool,
}

/// Encodes spans as a v2 JSON list.
pub fn encode(spans: &[model::Span]) -> Vec<u8> {
    let out: Vec<OutSpan<'_>> = spans
        .iter()
        .map(|span| OutSpan {
            trace_id: trace_id_to_hex(&span.trace_id),
            id: to_hex(&span.id),
            parent_id: span.parent_id.map(|id| to_hex(&id)),
            kind: span.kind.map(Kind::as_str),
            name: &span.name,
            timestamp: span.timestamp,
            duration: (span.duration != 0).then_some(span.duration),
            local_endpoint: span.local_endpoint.as_ref().map(endpoint_to_json),
            remote_endpoint: span.remote_endpoint.as_ref().map(endpoint_to_json),
            annotations: span
                .annotations
                .iter()
                .map(|a| JsonAnnotation {
                    timestamp: a.timestamp,
                    value: a.value.clone(),
                })
                .collect(),
            tags: &span.tags,
            debug: span.debug,
            shared: span.shared,
        })
        .collect();
    // Plain structs of strings and numbers: serializing cannot fail.
    serde_json::to_vec(&out).unwrap_or_default()
}

fn endpoint_to_json(endpoint: &model::Endpoint) -> JsonEndpoint {
    JsonEndpoint {
        service_name: (!endpoint.service_name.is_empty()).then(|| endpoint.service_name.clone()),
        ipv4: endpoint.ipv4.map(|ip| ip.to_string()),
        ipv6: endpoint.ipv6.map(|ip| ip.to_string()),
        port: (endpoint.port != 0).then_some(i64::from(endpoint.port)),
    }
}
