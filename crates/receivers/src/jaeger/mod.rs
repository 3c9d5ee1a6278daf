//! The `jaeger` receiver: spans from Jaeger clients, agents and collectors, over the four
//! protocols of the Go Collector's `jaegerreceiver`, translated to OTLP.
//!
//! | protocol | what arrives | default endpoint |
//! |---|---|---|
//! | `grpc` | `jaeger.api_v2.CollectorService/PostSpans` (protobuf `Batch`) | `localhost:14250` |
//! | `thrift_http` | `POST /api/traces`, a Thrift binary `Batch` (`application/x-thrift`) | `localhost:14268` |
//! | `thrift_compact` | UDP datagrams: `Agent.emitBatch` in the Thrift compact protocol | `localhost:6831` |
//! | `thrift_binary` | UDP datagrams: `Agent.emitBatch` in the Thrift binary protocol | `localhost:6832` |
//!
//! Only the protocols listed are started; at least one is required. Traces only.
//!
//! # Example
//!
//! ```yaml
//! receivers:
//!   jaeger:
//!     protocols:
//!       grpc:                      # present, so enabled, on localhost:14250
//!       thrift_http:
//!         endpoint: 0.0.0.0:14268
//!       thrift_compact:
//!         endpoint: 0.0.0.0:6831
//!         queue_size: 5000
//!         workers: 50
//! ```
//!
//! The same, decoded and checked as the collector does it:
//!
//! ```
//! use tributary_confmap::Conf;
//! use tributary_pipeline_core::component::ComponentConfig;
//! use tributary_receivers::jaeger::Config;
//!
//! let yaml = r#"
//! protocols:
//!   grpc:
//!   thrift_http:
//!     endpoint: 0.0.0.0:14268
//!   thrift_compact:
//!     endpoint: 0.0.0.0:6831
//!     queue_size: 5000
//!     workers: 50
//! "#;
//! let config: Config = Conf::from_yaml(yaml)?.decode()?;
//! config.validate()?;
//! assert_eq!(config.protocols.grpc.unwrap().server.endpoint, "localhost:14250");
//! let compact = config.protocols.thrift_compact.unwrap();
//! assert_eq!((compact.queue_size, compact.max_packet_size), (5000, 65000));
//! assert!(config.protocols.thrift_binary.is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Configuration
//!
//! `protocols::grpc` is the shared gRPC server block
//! ([`configgrpc`](tributary_pipeline_core::configgrpc)) and `protocols::thrift_http` the
//! shared HTTP server block ([`confighttp`](tributary_pipeline_core::confighttp)): TLS,
//! `auth`, keepalive, limits and timeouts take the same keys as everywhere (see the `otlp`
//! receiver's table). The UDP protocols take Go's `ProtocolUDP` keys:
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `protocols::grpc::endpoint` | `localhost:14250` | where the gRPC server listens |
//! | `protocols::grpc::max_recv_msg_size_mib` | `4` | largest `PostSpans` message, after decompression (`gzip` messages are accepted; `zstd` is answered `UNIMPLEMENTED`: tonic's zstd decoder cannot bound the window a frame asks for) |
//! | `protocols::grpc::{tls, auth, keepalive, include_metadata, max_concurrent_streams, ...}` | | the shared gRPC server block |
//! | `protocols::thrift_http::endpoint` | `localhost:14268` | where the HTTP server listens; batches are posted to `/api/traces` |
//! | `protocols::thrift_http::max_request_body_size` | `20971520` | largest body, as received and decompressed |
//! | `protocols::thrift_http::compression_algorithms` | `["", gzip, zstd, zlib, snappy, deflate, lz4]` | `Content-Encoding`s accepted |
//! | `protocols::thrift_http::{tls, auth, cors, include_metadata, read_timeout, ...}` | | the shared HTTP server block |
//! | `protocols::thrift_compact::endpoint` | `localhost:6831` | UDP address of the compact protocol |
//! | `protocols::thrift_binary::endpoint` | `localhost:6832` | UDP address of the binary protocol |
//! | `protocols::thrift_{compact,binary}::queue_size` | `1000` | datagrams waiting for a worker; one more is dropped and counted |
//! | `protocols::thrift_{compact,binary}::max_packet_size` | `65000` | largest datagram (at most 65535); a longer one is dropped and counted |
//! | `protocols::thrift_{compact,binary}::workers` | `10` | datagrams decoded and delivered at once (at most 1024) |
//! | `protocols::thrift_{compact,binary}::socket_buffer_size` | `0` | only `0` (the system's default): the socket is shared across reloads and not tuned per receiver |
//!
//! # Requests and answers
//!
//! A request succeeds only once the pipeline accepted its spans.
//!
//! | outcome | `thrift_http` | `grpc` |
//! |---|---|---|
//! | accepted | 202 | `OK` |
//! | content type other than `application/x-thrift` / `application/vnd.apache.thrift.binary` | 400 | |
//! | malformed Thrift body or protobuf message, an ID of the wrong length, unsupported or corrupt `Content-Encoding` | 400 | `INVALID_ARGUMENT` |
//! | a span message too short to hold its IDs (under 28 bytes) | | `INVALID_ARGUMENT` |
//! | body over `max_request_body_size`, message over `max_recv_msg_size_mib` | 413 | `OUT_OF_RANGE` (tonic) |
//! | body not received within `read_timeout` | 408 | |
//! | pipeline refused, permanent | 400 | `INVALID_ARGUMENT` |
//! | pipeline refused, retryable | 503, `Retry-After` when a delay is known | `UNAVAILABLE`, `RetryInfo` when known |
//! | pipeline refused, throttled; over the admission budget | 429 with `Retry-After` | `RESOURCE_EXHAUSTED` with `RetryInfo` |
//! | message not received within one minute | | `DEADLINE_EXCEEDED` |
//! | credentials missing or wrong (per `auth`) | 401 | `UNAUTHENTICATED` |
//! | other path / method | 404 / 405 | `UNIMPLEMENTED` |
//!
//! The Go receiver answers 500 to every refusal by the pipeline (`Cannot submit Jaeger
//! batch`) and returns the pipeline's error as is over gRPC; Tributary tells a client
//! whether to retry, as the `otlp` receiver does.
//!
//! UDP datagrams have no answer: one that cannot be read (not an `emitBatch` call, bad
//! Thrift), is too long or finds the queue full is dropped and counted in
//! `otelcol_receiver_failed_spans` (one per datagram, its spans being unknown), and the
//! next one is read as usual.
//!
//! # Translation
//!
//! By the OpenTelemetry specification's Jaeger mapping, as the Go Collector's
//! `jaeger.ProtoToTraces`: see the [`translate`] module (the `tributary-translator-jaeger`
//! crate, which the `kafka` receiver and exporter share). Every protocol goes through the
//! same translation: Thrift is read into the protobuf model first (a Thrift
//! `parentSpanId` becomes a `CHILD_OF` reference, as Jaeger does). Where Go's Thrift path
//! differs from its protobuf path, Tributary follows the protobuf one for all protocols:
//!
//! - `otel.scope.name` / `otel.scope.version` tags make the scope over Thrift too (Go's
//!   Thrift path leaves them as attributes under an empty scope);
//! - `w3c.tracestate` becomes the trace state over Thrift too;
//! - a span whose only same-trace reference is `FOLLOWS_FROM` has no parent, the reference
//!   being a link (Go's Thrift path makes it the parent as well);
//! - Jaeger's sampled flag sets the OTLP span's W3C sampled flag (Go sets no flags).
//!
//! A log's `event` field names its event; clients that write the name as `message` (the
//! OpenTelemetry Python Jaeger exporter does) keep it as an attribute, as in Go.
//!
//! # Limits
//!
//! Thrift is read with the `thrift` crate's `TCompactInputProtocol` /
//! `TBinaryInputProtocol` (Apache's own, with configurable limits), bounded by the input:
//! no string or container may claim more elements than the input has bytes, nesting is
//! capped, and required fields are checked, so a decoded batch stays a small multiple of
//! the bytes that arrived (a decoded span takes about 300 bytes, and as much again once
//! translated; the smallest valid span takes 17 bytes in the compact protocol and 81 in
//! the binary one). Over gRPC, span messages are measured on the wire before decoding,
//! and one too short to carry a trace ID and a span ID (28 bytes) is refused, for the
//! same reason: an empty two-byte entry would decode into a few hundred bytes (Go accepts
//! such spans, and skips them when blank). The structs' readers are written by hand (no
//! Thrift compiler); the api_v2 protobuf messages are written with prost's derive and the
//! service over tonic's call handling (no protoc). [`decode_agent_compact`],
//! [`decode_agent_binary`] and [`decode_batch_binary`] are public for fuzzing.
//!
//! # Admission
//!
//! The Thrift HTTP and gRPC servers of one receiver hold at most 128 MiB of request bytes
//! at once (as received, and again as decompressed or decoded), each request keeping its
//! share until the pipeline answered; a request that finds no room is refused as
//! throttled with a one-second delay rather than held, so a crowd of large or slow
//! requests cannot grow memory without bound. The Go receiver has no such limit, and so
//! no key for it: the budget is fixed. The UDP ports hold at most `queue_size` datagrams
//! each.
//!
//! # Telemetry
//!
//! `otelcol_receiver_{accepted,refused,failed}_spans` with the labels `receiver` and
//! `transport`: `grpc`, `collector_http`, `udp_thrift_compact`, `udp_thrift_binary`, as
//! the Go receiver names them.
//!
//! # Not supported
//!
//! - `socket_buffer_size` other than `0` (refused at validation, see above).
//! - The agent's `emitZipkinBatch` (Go dropped it too) and the removed `remote_sampling`
//!   section (refused as an unknown key; Go uses the `jaegerremotesampling` extension).

mod config;
mod factory;
mod grpc;
mod http_server;
mod receiver;
mod thrift;
mod udp;

/// The `jaeger.api_v2` model, from [`tributary_translator_jaeger`].
pub use tributary_translator_jaeger::model;
/// Jaeger → OTLP, from [`tributary_translator_jaeger`].
pub use tributary_translator_jaeger::to_otlp as translate;

#[cfg(test)]
mod tests;

pub use config::{Config, GrpcConfig, Protocols, ThriftHttpConfig, UdpConfig};
pub use factory::factory;
pub use thrift::{DecodeError, decode_agent_binary, decode_agent_compact, decode_batch_binary};
