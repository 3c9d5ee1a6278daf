#![warn(missing_docs)]
//! Jaeger ⇄ OTLP traces: the mapping the `jaeger` receiver, the `kafka` receiver and the
//! `kafka` exporter share (the Go Collector's `pkg/translator/jaeger`), over the
//! `jaeger.api_v2` protobuf model ([`model`]).
//!
//! | direction | function | Go |
//! |---|---|---|
//! | Jaeger → OTLP | [`batches_to_otlp`] | `ProtoToTraces` |
//! | OTLP → Jaeger | [`traces_to_batches`], [`traces_to_spans`] (each span with its process, as Kafka records carry them) | `ProtoFromTraces` |
//! | a span as jsonpb JSON | [`span_to_json`], [`span_from_json`] | gogo `jsonpb` |
//!
//! ```
//! use prost::Message;
//! use tributary_pipeline_core::prelude::*;
//! use tributary_translator_jaeger::{batches_to_otlp, model, traces_to_spans};
//!
//! let mut builder = TracesBuilder::new();
//! builder.resource(vec![key_value("service.name", "checkout")]);
//! builder.span("GET /cart", [1; 16], [2; 8]);
//! let traces = builder.build();
//!
//! let spans = traces_to_spans(traces.request());
//! assert_eq!(spans[0].operation_name, "GET /cart");
//! assert_eq!(spans[0].process.as_ref().unwrap().service_name, "checkout");
//!
//! // A `jaeger_proto` Kafka record, read back.
//! let mut span = model::Span::decode(spans[0].encode_to_vec().as_slice())?;
//! let batch = model::Batch { process: span.process.take(), spans: vec![span] };
//! let back = batches_to_otlp([batch])?;
//! assert_eq!(back.resource_spans[0].scope_spans[0].spans[0].name, "GET /cart");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # OTLP → Jaeger
//!
//! As Go's `ProtoFromTraces`:
//!
//! | OTLP | Jaeger |
//! |---|---|
//! | a resource | a batch; a resource with neither attributes nor scopes is left out |
//! | resource `service.name` (a string) / other attributes | `process.serviceName` / process tags; no attributes at all: `OTLPResourceNoServiceName` |
//! | trace ID, span ID | the same 16 and 8 bytes (an ID of another length, which OTLP decoders refuse, is written as zero) |
//! | parent span ID | the first reference, `CHILD_OF` |
//! | links | `FOLLOWS_FROM` references, or `CHILD_OF` when the link's `opentracing.ref_type` is `child_of`; a link to the parent sets the parent reference's type instead |
//! | the W3C sampled flag (bit 0 of `flags`) | `flags` `1` (sampled) |
//! | start, end | `startTime`, `duration` (end − start) |
//! | scope name, version | tags `otel.scope.name`, `otel.scope.version` (first) |
//! | attributes | tags: strings, booleans, integers, doubles, bytes (`BINARY`) by type; arrays and maps as JSON text (Go's `AsString`) |
//! | kind | tag `span.kind`: `client`, `server`, `producer`, `consumer`, `internal`; none when unspecified |
//! | status | `otel.status_code` `OK` / `ERROR`, `error: true` for an error, `otel.status_description` when there is a message |
//! | trace state | tag `w3c.tracestate` |
//! | events | logs at their time: `event` = the name (unless an attribute is called `event`), then the attributes |
//!
//! A span's tags come in Go's order: the scope's, the attributes (in theirs), `span.kind`,
//! `otel.status_code`, `error`, `otel.status_description`, `w3c.tracestate` (then the
//! dropped counts, see below). A key an attribute already uses (`span.kind`, `error`) is
//! written twice, as in Go.
//!
//! # Jaeger → OTLP
//!
//! As Go's `ProtoToTraces`: see [`to_otlp`].
//!
//! # A span as JSON
//!
//! [`span_to_json`] writes what Go's `jsonpb.Marshaler{}` (gogo protobuf) writes of
//! jaeger-idl's `model.Span`, the Kafka `jaeger_json` encoding: lowerCamelCase field names
//! (`traceId`, `operationName`, `vType`), fields at their zero value left out, enums by
//! name (`"FOLLOWS_FROM"`, `"INT64"`), 64-bit integers as strings (`"vInt64":"42"`), bytes
//! in standard base64, and jaeger-idl's own ID types as base64 of their big-endian bytes
//! (`"traceId":"AAAAAAAAAAEAAAAAAAAAAg=="`). Times are RFC 3339 in UTC
//! (`"2023-11-14T22:13:20.000005Z"`) and durations seconds (`"0.250s"`), each with 0, 3,
//! 6 or 9 fractional digits; doubles as Go's `encoding/json` writes them, and `"NaN"`,
//! `"Infinity"`, `"-Infinity"`.
//!
//! [`span_from_json`] reads what `jsonpb.Unmarshal` accepts: either name of a field
//! (`traceId` or `trace_id`), enums by name or number, integers as numbers or strings,
//! `null` for a field at its zero value, times with any UTC offset and durations in Go's
//! syntax (`"1.5s"`, `"250ms"`, `"1h2m"`).
//!
//! # Where this differs from the Go translator
//!
//! * Dropped counts are written as the OpenTelemetry specification asks of exporters to
//!   formats without them (non-OTLP exporters, and its former Jaeger mapping), each only
//!   when not zero: span tags `otel.dropped_attributes_count`,
//!   `otel.dropped_events_count`, `otel.dropped_links_count` and the log field
//!   `otel.event.dropped_attributes_count`, all `INT64`. Go's translator writes none, so
//!   the counts vanish. Read back (here or by Go), they are ordinary attributes.
//! * JSON strings are escaped minimally; Go also escapes `<`, `>` and `&` (`\u003c`).
//!   Both read the same.
//! * [`span_from_json`] ignores fields it does not know; `jsonpb.Unmarshal` refuses them.
//!
//! The sampled flag is carried both ways as Go does since contrib #49568 (older Go
//! versions dropped it).

mod from_otlp;
mod go_duration;
mod json;
pub mod model;
pub mod to_otlp;

pub use from_otlp::{traces_to_batches, traces_to_spans};
pub use json::{JsonError, span_from_json, span_to_json};
pub use to_otlp::{TranslateError, batches_to_otlp};

/// A trace ID as jaeger-idl's `TraceID.String()` writes it (the Go Kafka exporter's
/// record key): hex, the high half only when not zero and without leading zeros
/// (`"1"`, `"20000000000000001"`). An ID not of 16 bytes is read as zero.
pub fn trace_id_string(trace_id: &[u8]) -> String {
    let id = <[u8; 16]>::try_from(trace_id).unwrap_or([0; 16]);
    let [high, low] = [&id[..8], &id[8..]]
        .map(|half| u64::from_be_bytes(<[u8; 8]>::try_from(half).unwrap_or([0; 8])));
    if high == 0 {
        format!("{low:x}")
    } else {
        format!("{high:x}{low:016x}")
    }
}

#[cfg(test)]
mod tests;
