//! Zipkin v2 protobuf (`zipkin2/zipkin.proto`, `application/x-protobuf`), written by hand
//! with prost's derive: the messages are few and stable, and there is no `protoc` at build
//! time.

use std::net::{Ipv4Addr, Ipv6Addr};

use prost::Message;

use crate::DecodeError;
use crate::model::{self, Kind};

/// `zipkin2.ListOfSpans`: the body of a `POST /api/v2/spans`.
#[derive(Clone, PartialEq, Message)]
pub struct ListOfSpans {
    /// The spans.
    #[prost(message, repeated, tag = "1")]
    pub spans: Vec<Span>,
}

/// `zipkin2.Span`.
#[derive(Clone, PartialEq, Message)]
pub struct Span {
    /// 8 or 16 bytes.
    #[prost(bytes = "vec", tag = "1")]
    pub trace_id: Vec<u8>,
    /// Empty or 8 bytes.
    #[prost(bytes = "vec", tag = "2")]
    pub parent_id: Vec<u8>,
    /// 8 bytes.
    #[prost(bytes = "vec", tag = "3")]
    pub id: Vec<u8>,
    /// `Span.Kind`: 0 unspecified, 1 client, 2 server, 3 producer, 4 consumer.
    #[prost(int32, tag = "4")]
    pub kind: i32,
    /// The operation name.
    #[prost(string, tag = "5")]
    pub name: String,
    /// Start, microseconds since the epoch.
    #[prost(fixed64, tag = "6")]
    pub timestamp: u64,
    /// Microseconds.
    #[prost(uint64, tag = "7")]
    pub duration: u64,
    /// The recording service.
    #[prost(message, optional, tag = "8")]
    pub local_endpoint: Option<Endpoint>,
    /// The other side.
    #[prost(message, optional, tag = "9")]
    pub remote_endpoint: Option<Endpoint>,
    /// Events.
    #[prost(message, repeated, tag = "10")]
    pub annotations: Vec<Annotation>,
    /// Tags.
    #[prost(map = "string, string", tag = "11")]
    pub tags: std::collections::HashMap<String, String>,
    /// Forces sampling.
    #[prost(bool, tag = "12")]
    pub debug: bool,
    /// Shares its ID with the client span.
    #[prost(bool, tag = "13")]
    pub shared: bool,
}

/// `zipkin2.Endpoint`.
#[derive(Clone, PartialEq, Message)]
pub struct Endpoint {
    /// The service name.
    #[prost(string, tag = "1")]
    pub service_name: String,
    /// Empty or 4 bytes.
    #[prost(bytes = "vec", tag = "2")]
    pub ipv4: Vec<u8>,
    /// Empty or 16 bytes.
    #[prost(bytes = "vec", tag = "3")]
    pub ipv6: Vec<u8>,
    /// Port, 0 when absent.
    #[prost(int32, tag = "4")]
    pub port: i32,
}

/// `zipkin2.Annotation`.
#[derive(Clone, PartialEq, Message)]
pub struct Annotation {
    /// Microseconds since the epoch.
    #[prost(fixed64, tag = "1")]
    pub timestamp: u64,
    /// What happened.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// Decodes a `ListOfSpans` body.
pub fn decode(body: &[u8]) -> Result<Vec<model::Span>, DecodeError> {
    let list = ListOfSpans::decode(body)
        .map_err(|e| DecodeError::new(format!("invalid zipkin2.ListOfSpans: {e}")))?;
    list.spans
        .into_iter()
        .enumerate()
        .map(|(index, span)| from_proto(span).map_err(|e| e.in_span(index)))
        .collect()
}

/// Encodes spans as a `ListOfSpans` body.
pub fn encode(spans: &[model::Span]) -> Vec<u8> {
    ListOfSpans {
        spans: spans.iter().map(to_proto).collect(),
    }
    .encode_to_vec()
}

fn from_proto(span: Span) -> Result<model::Span, DecodeError> {
    let trace_id = match span.trace_id.len() {
        8 => {
            let mut id = [0; 16];
            id[8..].copy_from_slice(&span.trace_id);
            id
        }
        16 => span.trace_id[..].try_into().unwrap_or_default(),
        n => {
            return Err(DecodeError::new(format!(
                "trace_id has {n} bytes, not 8 or 16"
            )));
        }
    };
    let id: [u8; 8] = span
        .id
        .as_slice()
        .try_into()
        .map_err(|_| DecodeError::new(format!("id has {} bytes, not 8", span.id.len())))?;
    let parent_id = match span.parent_id.len() {
        0 => None,
        8 => span.parent_id.as_slice().try_into().ok(),
        n => {
            return Err(DecodeError::new(format!("parent_id has {n} bytes, not 8")));
        }
    };
    let kind = match span.kind {
        1 => Some(Kind::Client),
        2 => Some(Kind::Server),
        3 => Some(Kind::Producer),
        4 => Some(Kind::Consumer),
        _ => None,
    };
    let span = model::Span {
        trace_id,
        id,
        parent_id,
        kind,
        name: span.name,
        timestamp: (span.timestamp != 0).then_some(span.timestamp),
        duration: span.duration,
        local_endpoint: span.local_endpoint.map(endpoint_from_proto).transpose()?,
        remote_endpoint: span.remote_endpoint.map(endpoint_from_proto).transpose()?,
        annotations: span
            .annotations
            .into_iter()
            .map(|a| model::Annotation {
                timestamp: a.timestamp,
                value: a.value,
            })
            .collect(),
        tags: span.tags.into_iter().collect(),
        debug: span.debug,
        shared: span.shared,
    };
    model::check_ids(&span)?;
    Ok(span)
}

fn endpoint_from_proto(endpoint: Endpoint) -> Result<model::Endpoint, DecodeError> {
    let ipv4 = match endpoint.ipv4.len() {
        0 => None,
        4 => <[u8; 4]>::try_from(endpoint.ipv4.as_slice())
            .ok()
            .map(Ipv4Addr::from),
        n => return Err(DecodeError::new(format!("ipv4 has {n} bytes, not 4"))),
    };
    let ipv6 = match endpoint.ipv6.len() {
        0 => None,
        16 => <[u8; 16]>::try_from(endpoint.ipv6.as_slice())
            .ok()
            .map(Ipv6Addr::from),
        n => return Err(DecodeError::new(format!("ipv6 has {n} bytes, not 16"))),
    };
    let port = u16::try_from(endpoint.port)
        .map_err(|_| DecodeError::new(format!("port {} is out of range", endpoint.port)))?;
    Ok(model::Endpoint {
        service_name: endpoint.service_name,
        ipv4,
        ipv6,
        port,
    })
}

fn to_proto(span: &model::Span) -> Span {
    let trace_id = if span.trace_id[..8] == [0; 8] {
        span.trace_id[8..].to_vec()
    } else {
        span.trace_id.to_vec()
    };
    Span {
        trace_id,
        parent_id: span.parent_id.map(|id| id.to_vec()).unwrap_or_default(),
        id: span.id.to_vec(),
        kind: match span.kind {
            None => 0,
            Some(Kind::Client) => 1,
            Some(Kind::Server) => 2,
            Some(Kind::Producer) => 3,
            Some(Kind::Consumer) => 4,
        },
        name: span.name.clone(),
        timestamp: span.timestamp.unwrap_or(0),
        duration: span.duration,
        local_endpoint: span.local_endpoint.as_ref().map(endpoint_to_proto),
        remote_endpoint: span.remote_endpoint.as_ref().map(endpoint_to_proto),
        annotations: span
            .annotations
            .iter()
            .map(|a| Annotation {
                timestamp: a.timestamp,
                value: a.value.clone(),
            })
            .collect(),
        tags: span
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        debug: span.debug,
        shared: span.shared,
    }
}

fn endpoint_to_proto(endpoint: &model::Endpoint) -> Endpoint {
    Endpoint {
        service_name: endpoint.service_name.clone(),
        ipv4: endpoint
            .ipv4
            .map(|ip| ip.octets().to_vec())
            .unwrap_or_default(),
        ipv6: endpoint
            .ipv6
            .map(|ip| ip.octets().to_vec())
            .unwrap_or_default(),
        port: i32::from(endpoint.port),
    }
}
