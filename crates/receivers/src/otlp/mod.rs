//! The `otlp` receiver: OTLP over gRPC and over HTTP (protobuf and JSON), for traces,
//! metrics and logs.
//!
//! It takes what OpenTelemetry SDKs and other collectors send, with the configuration keys
//! and defaults of the Go Collector's `otlp` receiver, so existing configurations run
//! unchanged. Every pipeline that lists one `otlp` receiver is fed by the same gRPC server
//! and the same HTTP server: the receiver's traces, metrics and logs instances share them.
//! A signal no pipeline takes from the receiver is answered `404` / `UNIMPLEMENTED`.
//!
//! # Example
//!
//! ```yaml
//! receivers:
//!   otlp:
//!     protocols:
//!       grpc:                       # present, so enabled, on 127.0.0.1:4317
//!       http:
//!         endpoint: 0.0.0.0:4318
//!         cors:
//!           allowed_origins: ["https://*.example.com"]
//!         auth:
//!           authenticator: bearertokenauth
//!     admission:
//!       request_limit_mib: 64
//! ```
//!
//! The same, decoded and checked as the collector does it:
//!
//! ```
//! use tributary_confmap::Conf;
//! use tributary_pipeline_core::component::ComponentConfig;
//! use tributary_receivers::otlp::Config;
//!
//! let yaml = r#"
//! protocols:
//!   grpc:
//!   http:
//!     endpoint: 0.0.0.0:4318
//!     cors:
//!       allowed_origins: ["https://*.example.com"]
//!     auth:
//!       authenticator: bearertokenauth
//! admission:
//!   request_limit_mib: 64
//! "#;
//! let config: Config = Conf::from_yaml(yaml)?.decode()?;
//! config.validate()?;
//! assert_eq!(config.protocols.grpc.unwrap().server.endpoint, "127.0.0.1:4317");
//! assert_eq!(config.protocols.http.unwrap().traces_url_path, "/v1/traces");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Configuration
//!
//! `protocols::grpc` is the shared gRPC server block
//! ([`configgrpc`](tributary_pipeline_core::configgrpc)) and `protocols::http` the shared
//! HTTP server block ([`confighttp`](tributary_pipeline_core::confighttp)) plus the three
//! URL paths; every component serving gRPC or HTTP takes the same keys.
//!
//! A protocol is enabled by its key being present (`grpc:` with no value enables gRPC with
//! its defaults); at least one is required. Endpoints are `host:port` where the host is an
//! IP address, `localhost` (127.0.0.1), or empty for every interface (`:4317`). Unknown
//! keys are errors.
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `protocols::grpc::endpoint` | `127.0.0.1:4317` | where the gRPC server listens; a host name is looked up at start |
//! | `protocols::grpc::transport` | `tcp` | `tcp` (`tcp4`, `tcp6`) or `unix`: the endpoint is then a socket path |
//! | `protocols::grpc::max_recv_msg_size_mib` | `4` | largest request message, after decompression (`0` = 4) |
//! | `protocols::grpc::max_concurrent_streams` | `0` | concurrent calls per connection; `0` keeps the default of 200 |
//! | `protocols::grpc::read_buffer_size` | `524288` | accepted for compatibility, no effect |
//! | `protocols::grpc::write_buffer_size` | `0` | accepted for compatibility, no effect |
//! | `protocols::grpc::keepalive::server_parameters::time` | unset | HTTP/2 ping after this much idle time |
//! | `protocols::grpc::keepalive::server_parameters::timeout` | `20s` | close when a ping is not answered in time |
//! | `protocols::grpc::keepalive::server_parameters::max_connection_age` | unset | ask older connections to go away (GOAWAY) |
//! | `protocols::grpc::keepalive::server_parameters::max_connection_age_grace` | unset (wait) | then close them after this long |
//! | `protocols::grpc::keepalive::server_parameters::max_connection_idle` | unset | ask a connection without a call for this long to go away; unset keeps idle connections open (a connection that never makes a call is closed after 1 minute) |
//! | `protocols::grpc::max_connections` | `4096` | connections held at once; more are closed as soon as accepted (`0`: no limit) — Tributary's own key |
//! | `protocols::grpc::keepalive::enforcement_policy::{min_time, permit_without_stream}` | unset | accepted for compatibility, no effect |
//! | `protocols::http::endpoint` | `127.0.0.1:4318` | where the HTTP server listens (HTTP/1.1 and HTTP/2) |
//! | `protocols::http::transport` | `tcp` | `tcp` (`tcp4`, `tcp6`) or `unix`: the endpoint is then a socket path |
//! | `protocols::http::traces_url_path` | `/v1/traces` | path for traces (a missing leading `/` is added) |
//! | `protocols::http::metrics_url_path` | `/v1/metrics` | path for metrics |
//! | `protocols::http::logs_url_path` | `/v1/logs` | path for logs |
//! | `protocols::http::max_request_body_size` | `20971520` | largest body in bytes, as received and decompressed (`0` = 20 MiB) |
//! | `protocols::http::read_header_timeout` | `1m` | time a client has to send a request's headers (`0`: no limit) |
//! | `protocols::http::read_timeout` | `1m` | time a client has to send a request's body (`0`: no limit; Go's default is no limit) |
//! | `protocols::http::idle_timeout` | `1m` | a connection without a request for this long is closed (`0`: kept open) |
//! | `protocols::http::max_connections` | `4096` | connections held at once; more are answered `503` and closed (`0`: no limit) — Tributary's own key |
//! | `protocols::http::compression_algorithms` | `["", gzip, zstd, zlib, snappy, deflate, lz4]` | the `Content-Encoding`s accepted (`""`: none); `x-snappy-framed` may be added; others are answered 400 |
//! | `protocols::http::write_timeout` | `30s` | time from a request's headers to its answer; later, 503 and the connection closes (`0`: no limit) |
//! | `protocols::http::keep_alives_enabled` | `true` | `false` closes each HTTP/1 connection after one answer |
//! | `protocols::http::response_headers` | none | headers added to every answer |
//! | `protocols::http::cors::exposed_headers` | `[]` | response headers a browser may show to the page |
//! | `protocols::http::cors::allowed_origins` | `[]` | origins allowed to post; one `*` wildcard each; empty disables CORS |
//! | `protocols::http::cors::allowed_headers` | `[]` | extra request headers allowed (`*`: any) |
//! | `protocols::http::cors::max_age` | `0` | seconds a preflight answer may be cached (`0`: not sent) |
//! | `protocols::{grpc,http}::tls::cert_file` / `cert_pem`, `key_file` / `key_pem` | unset | serve TLS with this PEM certificate chain and key |
//! | `protocols::{grpc,http}::tls::client_ca_file` | unset | require client certificates signed by these CAs (mutual TLS) |
//! | `protocols::{grpc,http}::tls::min_version`, `max_version` | `"1.2"`, `"1.3"` | accepted TLS versions (1.0/1.1 refused: rustls does not support them) |
//! | `protocols::{grpc,http}::tls::reload_interval` | `0` | re-read the certificate and key this often |
//! | `protocols::{grpc,http}::tls::{cipher_suites, curve_preferences}` | rustls' | see [`configtls`](tributary_pipeline_core::configtls) |
//! | `protocols::{grpc,http}::include_metadata` | `false` | attach every request header / gRPC metadata entry (`authorization` too, as in Go) to the data |
//! | `protocols::{grpc,http}::auth::authenticator` | unset | the authenticator extension checking each request ([`configauth`](tributary_pipeline_core::configauth): `bearertokenauth`, `basicauth`, or a third party's); refused requests get 401 / `UNAUTHENTICATED` |
//! | `protocols::{grpc,http}::auth::bearer_token` | unset | shorthand for a `bearertokenauth` with this token (not with `authenticator`); a secret, never shown |
//! | `admission::request_limit_mib` | 32 per core, 32 to `128` | request bytes in process at once (admitted requests may overdraw it by a quarter while others wait in line); `0` disables admission control |
//! | `admission::waiting_limit_mib` | 8 per core, 8 to `32` | request bytes allowed to wait for admission, and one request per KiB in line; `0` refuses at once |
//!
//! # Requests and answers
//!
//! gRPC serves the three `Export` calls of `opentelemetry.proto.collector.*.v1`, with
//! `gzip`, `zstd`, `deflate`, `zlib`, `snappy` (framed, as Go's gRPC codec sends it, or a
//! block) or `lz4` message compression; a call must carry exactly one message, which must
//! arrive within one minute. HTTP takes `POST` of `application/x-protobuf` or
//! `application/json` (OTLP/JSON, including `"NaN"` and `"Infinity"` doubles) bodies,
//! plain or with a `Content-Encoding` that `compression_algorithms` lists: by default
//! `gzip`, `zstd`, `zlib`, `deflate` (zlib-wrapped or raw), `snappy` (the block format, or
//! the framed one recognised by its stream identifier) and `lz4` (frames), plus
//! `x-snappy-framed` when listed (see
//! [`configcompression`](tributary_pipeline_core::configcompression)). The size limits apply to the body as received and as decompressed, so a
//! decompression bomb is refused after at most the limit's worth of output. An HTTP answer
//! uses the request's encoding: an empty `Export*ServiceResponse` on success, a
//! `google.rpc.Status` on error.
//!
//! A request succeeds only once the pipeline accepted its data; one without items succeeds
//! without reaching the pipeline. The receiver never answers partial success.
//!
//! | outcome | HTTP | gRPC |
//! |---|---|---|
//! | accepted | 200 | `OK` |
//! | malformed protobuf, JSON or compressed data; unsupported `Content-Encoding` | 400 | `INVALID_ARGUMENT` (`UNIMPLEMENTED` for an unsupported `grpc-encoding`) |
//! | pipeline refused, permanent | 400 | `INVALID_ARGUMENT` |
//! | pipeline refused, retryable | 503, `Retry-After` when a delay is known | `UNAVAILABLE`, `RetryInfo` when a delay is known |
//! | pipeline refused, throttled; over the admission limit | 429 with `Retry-After` | `RESOURCE_EXHAUSTED` with `RetryInfo` |
//! | over `max_request_body_size` / `max_recv_msg_size_mib` | 413 | `RESOURCE_EXHAUSTED` without `RetryInfo` |
//! | body not received within `read_timeout` (gRPC: one minute) | 408, connection closed | `DEADLINE_EXCEEDED` |
//! | a gRPC call with no message, a truncated one, or more than one | | `INTERNAL` (as grpc-go) |
//! | credentials missing or wrong (per `auth`) | 401 | `UNAUTHENTICATED` |
//! | signal not taken by any pipeline, unknown path | 404 | `UNIMPLEMENTED` |
//! | method other than `POST` | 405 | |
//! | content type other than protobuf or JSON | 415 | |
//!
//! A throttled refusal always carries a delay: the pipeline's, or one second.
//! `Retry-After` is in whole seconds, rounded up.
//!
//! # Admission control
//!
//! `admission` bounds the request bytes the receiver holds at once, across both
//! protocols, so a flood of requests cannot make it allocate past the limit. When its
//! first bytes arrive, a request is admitted for the size it announces (`Content-Length`,
//! the gRPC length prefix; for a compressed body, also the output expected of it, eight
//! times its size within the limit), but never for more than four times the bytes that
//! arrived (36 times if compressed) or 64 KiB, whichever is more: a normal request is
//! admitted whole from its first HTTP/2 frame, even one cut short by flow control, so a
//! burst of them cannot spend the budget on first frames and then be refused half-read,
//! while a client that announces a large body and sends a few bytes holds little. Its
//! first bytes wait for room, in arrival order, while the bytes waiting stay within
//! `waiting_limit_mib` (otherwise it is refused as throttled); the rest is admitted as it
//! arrives, and again as it is decompressed, without waiting — a request already holding
//! budget that finds none left may overdraw it by a quarter (while there is a line, see
//! below), and beyond that is refused as throttled rather than left to wait for others,
//! which could wait for it. A request holds its share until the pipeline answered.
//! `request_limit_mib` must be at least the largest request the enabled protocols accept.
//!
//! Once a request found the budget full, new requests wait in line, in arrival order and
//! before any of their body is read, until a quarter of the budget is free again; their
//! bodies stay with the client, held back by TCP and HTTP/2 flow control. So an overloaded
//! receiver does not spend its CPU reading requests only to refuse them: offered four
//! times its saturation over gRPC, it delivered 82–109 % of its saturation throughput,
//! where refusing had taken it down to 30–40 % (BENCHMARKS.md, overload sweep). A request waits in line
//! for at most half its `grpc-timeout`, or 4 s without one, and is then refused as
//! throttled: its client would give up soon after, and a request delivered after that
//! would be sent again. One request per KiB of `waiting_limit_mib` may wait in line; with
//! `waiting_limit_mib: 0` there is no line. An HTTP request refused for lack of room has
//! its body (up to 1 MiB) read and discarded first, so its connection stays open: an
//! HTTP/1.1 connection with an unread body must be closed, and a client sending its next
//! request on it meanwhile would see a broken connection, not a retryable answer.
//!
//! The defaults scale with the cores the process may use (its CPU affinity and cgroup
//! quota): 32 MiB in process and 8 MiB waiting per core, reaching otel-arrow's 128 and 32
//! MiB at four cores. A request is held for about as long whatever the load, so what a
//! process can use grows with how fast it processes; beyond that a budget only lets an
//! overloaded process hold more requests for longer (more memory, clients waiting seconds)
//! before it refuses any. Measured on one core at four times its saturation, 160 MiB let
//! the gateway reach 4.6× its resident size at saturation with answers taking over six
//! seconds (BENCHMARKS.md, overload sweep).
//!
//! Requests waiting for room while none is admitted for the health check's
//! `stall_timeout` make the collector unhealthy, naming this receiver.
//!
//! # Connections
//!
//! Each protocol holds at most `max_connections` connections: one more is answered `503`
//! (HTTP) or closed (gRPC) as soon as it is accepted, with one log line per ten seconds
//! however many are refused. A connection that sends no request is closed after the idle
//! timeout, so silent clients cannot hold sockets; the health check and the metrics
//! endpoint have their own listeners and limits and keep answering. HTTP/2 flow-control
//! windows are 256 KiB per stream and 512 KiB per connection, which bounds what a client
//! can make the receiver buffer before its bytes are admitted.
//!
//! # Telemetry
//!
//! Each instance counts `otelcol_receiver_accepted_<items>` and
//! `otelcol_receiver_refused_<items>` (`spans`, `metric_points`, `log_records`) with the
//! labels `receiver` and `transport` (`grpc` or `http`), as the Go Collector does. Logs
//! carry the component's span; the bound addresses are logged at start.
//!
//! # Differences from the Go Collector
//!
//! - A *permanent* pipeline error is answered 400 / `INVALID_ARGUMENT` (Go: 500 /
//!   `INTERNAL`): the data is at fault and the client must not retry.
//! - Throttling always carries `Retry-After` / `RetryInfo`; Go sends them only when the
//!   error had one, so a Go exporter drops data refused with a bare `RESOURCE_EXHAUSTED`.
//! - Admission control is built in; Go needs the `memory_limiter` extension.
//! - Request bodies must arrive within `read_timeout` (default one minute; Go: no limit),
//!   and each protocol holds at most `max_connections` connections (Go: no limit).
//! - `auth::bearer_token` is Tributary's shorthand from before authenticator extensions;
//!   to migrate, declare `extensions: {bearertokenauth: {token: <the token>}}`, list it in
//!   `service::extensions` and write `auth: {authenticator: bearertokenauth}` — the Go
//!   Collector's form, which works unchanged.
//! - Not supported: the profiles signal.
//! - zstd frames asking for a window larger than 8 MiB or the body limit, whichever is
//!   larger (at most 128 MiB), are refused, so a frame header cannot make the receiver
//!   allocate a large window.

mod body;
mod compression;
mod config;
mod factory;
mod grpc_server;
mod http_server;
mod offload;
mod receiver;
mod refusal;

#[cfg(test)]
mod tests;

#[doc(hidden)]
pub use body::frame_grpc_message;
pub use config::{AdmissionConfig, Config, GrpcConfig, HttpConfig, Protocols};
pub use factory::factory;
