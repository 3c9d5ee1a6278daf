#![warn(missing_docs)]
//! Zipkin ⇄ OTLP traces: the mapping the `zipkin` receiver and exporter share (the Go
//! Collector's `pkg/translator/zipkin`).
//!
//! | format | read | written |
//! |---|---|---|
//! | v2 JSON (`/api/v2/spans`, `application/json`) | [`decode_v2_json`] | [`encode`] with [`Format::Json`] |
//! | v2 protobuf (`zipkin2.ListOfSpans`, `application/x-protobuf`) | [`decode_v2_proto`] | [`encode`] with [`Format::Proto`] |
//! | v1 JSON (`/api/v1/spans`) | [`decode_v1_json`] | — |
//!
//! ```
//! use tributary_translator_zipkin::{Format, decode_v2_json, encode};
//!
//! let body = br#"[{"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c","name":"get /api",
//!   "kind":"SERVER","timestamp":1700000000000000,"duration":2000,
//!   "localEndpoint":{"serviceName":"frontend","ipv4":"10.0.0.1"},
//!   "tags":{"http.status_code":"200"}}]"#;
//! let traces = decode_v2_json(body, true)?;
//! let span = &traces.request().resource_spans[0].scope_spans[0].spans[0];
//! assert_eq!(span.name, "get /api");
//! assert_eq!(span.end_time_unix_nano - span.start_time_unix_nano, 2_000_000);
//!
//! let encoded = encode(traces.request(), Format::Json, "<missing service name>");
//! let back: serde_json::Value = serde_json::from_slice(&encoded.body)?;
//! assert_eq!(back[0]["localEndpoint"]["serviceName"], "frontend");
//! assert_eq!(back[0]["tags"]["http.status_code"], "200");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The mapping
//!
//! By the OpenTelemetry specification's Zipkin mapping, as the Go translator applies it:
//!
//! | Zipkin | OTLP |
//! |---|---|
//! | `traceId` (16 or 32 hex digits; 8 or 16 bytes), `id`, `parentId` | trace ID (a 64-bit ID fills the low half), span ID, parent span ID |
//! | `kind` `CLIENT`, `SERVER`, `PRODUCER`, `CONSUMER` | the same kind; no kind with tag `span.kind: internal` → `INTERNAL`, else unspecified |
//! | `localEndpoint.serviceName` | resource `service.name` (or the attribute `otlp.service.name.source` names) |
//! | `localEndpoint` `ipv4`/`ipv6`, `port` | span attributes `net.host.ip`, `net.host.port` |
//! | `remoteEndpoint` `serviceName`, `ipv4`/`ipv6`, `port` | `peer.service`, `net.peer.ip`, `net.peer.port` |
//! | `timestamp`, `duration` (µs) | start and end (ns); no timestamp: start at the epoch and `otel.zipkin.absentField.startTime: true` |
//! | `annotations` | events; `name\|{json attributes}\|dropped` carries an event's attributes |
//! | tags `otel.status_code` (`OK`/`ERROR`), `otel.status_description`, `error` | status |
//! | tags `otel.scope.name`, `otel.scope.version` (or the older `otel.library.*`) | instrumentation scope |
//! | tag `w3c.tracestate`, tags `otlp.link.<n>` | trace state, links |
//! | tags named by the resource semantic conventions ([`attributes::RESOURCE_KEYS`]) | resource attributes |
//! | other tags | span attributes: strings, or with `parse_string_tags` ints, doubles and booleans when they read as such |
//!
//! The other way, OTLP attributes become string tags (numbers and booleans as written,
//! arrays and maps as JSON, bytes as base64), resource attributes become tags of each of
//! its spans, and an error status writes `error` (the message, or `true`).
//!
//! # Where this differs from the Go translator
//!
//! * Spans are grouped by their resource *and* resource tags, keeping every span's
//!   resource tags (Go keeps those of the first span of a service and drops the others'),
//!   in the order received (Go sorts by service name).
//! * An annotation or `otlp.link.<n>` tag that looks encoded but does not parse stays a
//!   plain event name or tag; Go refuses the whole request.
//! * The `error` tag marks an error whatever its value but `false`, and a value other than
//!   `true` becomes the status message: Zipkin's convention is that the tag holds the
//!   message. Go only reads `error: "true"`.
//! * Status codes are read by name in any case (`OK`, `Ok`, `STATUS_CODE_OK`) and are
//!   written as the specification's `OK`/`ERROR` (Go writes `Ok`/`Error`, which its own
//!   receiver does not read back).
//! * The scope is written as `otel.scope.name`/`otel.scope.version` (the specification's
//!   current names); both those and `otel.library.*` are read.
//! * All-zero trace or span IDs are refused when read (OTLP calls such spans invalid), and
//!   left out when written, counted in [`Encoded::invalid`]; Go refuses the whole batch.
//! * `debug` and `shared` are read and written but not carried into OTLP, which has no
//!   place for them (as in Go).
//! * Tag values that are JSON numbers or booleans are read as their text (Go refuses the
//!   request).
//!
//! The proto messages are written by hand with prost's derive ([`proto`]): there is no
//! `protoc` at build time and the messages are few and stable. JSON uses serde.

pub mod attributes;
mod from_otlp;
mod json_v1;
mod json_v2;
pub mod model;
pub mod proto;
mod to_otlp;

pub use from_otlp::{Translated, from_traces};
pub use to_otlp::to_traces;

use tributary_pipeline_core::pdata::Traces;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;

/// Why a body could not be read: the message names the field and, for a list, the span.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DecodeError {
    message: String,
}

impl DecodeError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        DecodeError {
            message: message.into(),
        }
    }

    /// The same error, saying which span of the list it is about.
    pub(crate) fn in_span(self, index: usize) -> Self {
        DecodeError::new(format!("span {index}: {}", self.message))
    }
}

/// Decodes a Zipkin v2 JSON body (a list of spans) into OTLP traces.
pub fn decode_v2_json(body: &[u8], parse_string_tags: bool) -> Result<Traces, DecodeError> {
    Ok(to_traces(json_v2::decode(body)?, parse_string_tags))
}

/// Decodes a Zipkin v2 protobuf body (`zipkin2.ListOfSpans`) into OTLP traces.
pub fn decode_v2_proto(body: &[u8], parse_string_tags: bool) -> Result<Traces, DecodeError> {
    Ok(to_traces(proto::decode(body)?, parse_string_tags))
}

/// Decodes a Zipkin v1 JSON body into OTLP traces. A span without any timestamp starts
/// and ends at `now_unix_nano`, marked `otel.zipkin.absentField.startTime: true`.
pub fn decode_v1_json(
    body: &[u8],
    parse_string_tags: bool,
    now_unix_nano: u64,
) -> Result<Traces, DecodeError> {
    json_v1::decode(body, parse_string_tags, now_unix_nano)
}

/// A body format the exporter writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// v2 JSON, `application/json`.
    #[default]
    Json,
    /// v2 protobuf, `application/x-protobuf`.
    Proto,
}

impl Format {
    /// The `Content-Type` of a body of this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Proto => "application/x-protobuf",
        }
    }
}

/// An encoded request body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Encoded {
    /// The body.
    pub body: Vec<u8>,
    /// How many spans it holds.
    pub spans: usize,
    /// How many spans were left out for invalid IDs.
    pub invalid: usize,
}

/// Encodes `request`'s spans as a Zipkin v2 body; resources without a service name are
/// named `default_service_name`.
pub fn encode(
    request: &ExportTraceServiceRequest,
    format: Format,
    default_service_name: &str,
) -> Encoded {
    let Translated { spans, invalid } = from_traces(request, default_service_name);
    let body = match format {
        Format::Json => json_v2::encode(&spans),
        Format::Proto => proto::encode(&spans),
    };
    Encoded {
        body,
        spans: spans.len(),
        invalid,
    }
}

#[cfg(test)]
mod tests;
