//! The `zipkin` receiver: takes spans in Zipkin's formats over HTTP, as a Zipkin server
//! does, and hands them to the pipeline as OTLP traces.
//!
//! ```yaml
//! receivers:
//!   zipkin:
//!     endpoint: 0.0.0.0:9411
//!     parse_string_tags: true
//! service:
//!   pipelines:
//!     traces:
//!       receivers: [zipkin]
//!       exporters: [otlp]
//! ```
//!
//! The server block may also sit under `protocols::http` (the Go receiver's form since
//! v0.128: `protocols: { http: { endpoint: 0.0.0.0:9411 } }`); when it does, it is the one
//! used and top-level server keys are ignored, as in Go.
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | `localhost:9411` | `host:port` to listen on |
//! | `parse_string_tags` | `false` | tag values that read as ints (`3`), doubles (`1.5`) or booleans (`true`) become typed attributes |
//! | `tls`, `cors`, `auth`, `response_headers` | none | the shared HTTP server block ([`HttpServerConfig`](tributary_pipeline_core::confighttp::HttpServerConfig)), with Go's `confighttp` keys |
//! | `max_request_body_size` | 20 MiB | the largest body, compressed or decompressed (413 beyond) |
//! | `compression_algorithms` | all | the `Content-Encoding`s accepted: gzip, zstd, zlib, deflate, snappy, lz4 |
//! | `include_metadata` | `false` | attach the request's headers to the spans as client metadata |
//! | `read_timeout`, `read_header_timeout`, `write_timeout`, `idle_timeout`, `keep_alives_enabled`, `max_connections` | | the server block's connection settings |
//!
//! # Requests
//!
//! | request | body |
//! |---|---|
//! | `POST /api/v2/spans`, `application/json` | Zipkin v2 JSON: a list of spans |
//! | `POST /api/v2/spans`, `application/x-protobuf` | Zipkin v2 protobuf (`zipkin2.ListOfSpans`) |
//! | `POST /api/v1/spans`, `application/json` | Zipkin v1 JSON |
//! | `POST /api/v1/spans`, `application/x-thrift` | refused, 415: Zipkin v1 Thrift is not supported |
//!
//! As in the Go receiver, a path containing `api/v1/spans` is v1 and any other path v2,
//! and a `Content-Type` other than protobuf (or thrift) is read as JSON.
//!
//! | answer | when |
//! |---|---|
//! | 202 Accepted | the spans were handed to the pipeline (Zipkin's own answer) |
//! | 400 | a body that is not valid Zipkin (the message names the field and the span), a corrupt compressed body, an unsupported `Content-Encoding`, or data the pipeline refuses permanently |
//! | 405 | a method other than `POST` |
//! | 408 | the body did not arrive within `read_timeout` |
//! | 413 | a body, or its decompressed form, larger than `max_request_body_size` |
//! | 415 | Zipkin v1 Thrift |
//! | 429 / 503 | the pipeline is throttling / temporarily refusing; with `Retry-After` when it gave a delay |
//! | 503 | no answer within `write_timeout` (the connection then closes) |
//! | 503, `Retry-After: 1` | the requests being handled already hold all the memory allowed (see below) |
//!
//! The translation to OTLP is the OpenTelemetry specification's Zipkin mapping, shared
//! with the `zipkin` exporter in [`tributary_translator_zipkin`] (what it maps, and where
//! it differs from the Go translator, is documented there). [`decode`] is the receiver's
//! decoder, public for fuzzing.
//!
//! # Memory
//!
//! The requests being handled hold at most 128 MiB at once (or twice
//! `max_request_body_size`, if that is more): a request reserves its declared body size (the
//! whole `max_request_body_size` for a chunked body) before its body is read, and its
//! decompressed size as decompression grows it; it keeps the reservation until the pipeline
//! answered. A request that finds no room within a second gets 503 with `Retry-After: 1`.
//! The Go receiver has no such bound (and no key for it); this one is not configurable.
//!
//! # Differences from the Go receiver
//!
//! * A retryable refusal by the pipeline answers 503 (429 when throttled), with
//!   `Retry-After` when the pipeline gave a delay, where Go answers 500; a permanent one
//!   answers 400, as in Go. Methods other than POST answer 405 (Go reads any method).
//! * v1 Thrift is refused with 415 saying why; Go decodes it.
//! * Large bodies are decoded on a blocking thread.
//! * A body that its `Content-Encoding` says is compressed but is not gets 400; Go reads it
//!   as it is.
//! * The accepted and refused span counts carry `transport="http"` whatever the format.

mod config;
mod factory;
mod receiver;

#[cfg(test)]
mod tests;

pub use config::{Config, DEFAULT_ENDPOINT, HttpProtocol, Protocols};
pub use factory::factory;

use tributary_pipeline_core::pdata::Traces;

/// The wire formats the receiver reads, for [`decode`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Zipkin v1 JSON.
    V1Json,
    /// Zipkin v2 JSON.
    V2Json,
    /// Zipkin v2 protobuf.
    V2Proto,
}

/// Decodes a request body as the receiver does (after decompression); the error is the
/// text of the 400 answer. Public for fuzzing.
pub fn decode(format: Format, body: &[u8], parse_string_tags: bool) -> Result<Traces, String> {
    let format = match format {
        Format::V1Json => receiver::BodyFormat::V1Json,
        Format::V2Json => receiver::BodyFormat::V2Json,
        Format::V2Proto => receiver::BodyFormat::V2Proto,
    };
    receiver::decode(format, body, parse_string_tags)
}
