//! The `otlp_http` exporter (alias `otlphttp`): sends traces, metrics and logs to an OTLP
//! backend over HTTP, as protobuf or JSON.
//!
//! ```yaml
//! exporters:
//!   otlp_http:
//!     endpoint: https://otlp.example.com        # POSTs to /v1/traces, /v1/metrics, /v1/logs
//!     headers:
//!       x-api-key: ${env:API_KEY}
//!     compression: zstd
//!   otlphttp/json:
//!     endpoint: http://127.0.0.1:4318
//!     encoding: json
//!     logs_endpoint: http://127.0.0.1:9428/insert/opentelemetry/v1/logs   # used as is
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | — | base URL; `/v1/<signal>` is appended (after a `/` if needed); `user:password@` is sent as basic authentication and never shown |
//! | `traces_endpoint`, `metrics_endpoint`, `logs_endpoint` | — | per-signal URLs, used as is; at least one of these or `endpoint` is required |
//! | `profiles_endpoint` | — | accepted; Tributary has no profiles signal |
//! | `encoding` | `proto` | `proto` (`application/x-protobuf`) or `json` (`application/json`) |
//! | `compression` | `gzip` | `gzip`, `zstd`, `zlib`, `deflate`, `snappy` (block format), `lz4` (frames), `none` (`Content-Encoding`); see [`configcompression`](tributary_pipeline_core::configcompression) |
//! | `compression_params::level` | 1 | compression level (see [`otlp`](crate::otlp) for the costs) |
//! | `headers` | none | sent with every request; values are secrets, never shown |
//! | `auth::authenticator` | unset | a client authenticator extension (`bearertokenauth`, `basicauth`, `headers_setter`) setting each request's headers, from the client metadata of the data sent; see [`configauth`](tributary_pipeline_core::configauth) |
//! | `cookies::enabled` | `false` | keep the cookies the backend sets (in memory, per exporter) and send them back |
//! | `tls` | system roots | see [`TlsClientConfig`](crate::client::TlsClientConfig); applies to `https://` URLs; files are read at start |
//! | `proxy_url` | none | HTTP(S) proxy for every request; its `user:password@` is never shown |
//! | `timeout` | `30s` | deadline of each attempt, response included |
//! | `dialer::timeout` | `0` | longest a connection may take to open; `0`: `timeout` bounds it |
//! | `idle_conn_timeout` | `90s` | close pooled connections idle this long (`0`: never) |
//! | `max_idle_conns_per_host` | `0` (2, as Go) | idle connections kept per host |
//! | `disable_keep_alives` | `false` | a new connection per request |
//! | `force_attempt_http2` | `true` | offer HTTP/2 to `https://` backends; `false`: HTTP/1.1 only (plaintext is always HTTP/1.1, as Go's) |
//! | `http2_read_idle_timeout` / `http2_ping_timeout` | off / 15s | HTTP/2 health pings |
//! | `read_buffer_size`, `write_buffer_size`, `max_idle_conns` | | tuning knobs, accepted with no effect (hyper sizes its buffers; idle connections are bounded per host) |
//! | `max_conns_per_host` | `0` | only `0`: reqwest cannot cap connections; `sending_queue::num_consumers` bounds concurrent requests |
//! | `middlewares` | none | refused: Tributary has no middleware extensions |
//! | `retry_on_failure` | enabled, 5s → 30s, 300s total | the exporter helper's retry; the backend's retry-after is honoured up to 5 minutes and never past `max_elapsed_time` |
//! | `sending_queue` | enabled, 1000 requests, 10 consumers, 256 MiB | the [exporter helper's](tributary_pipeline_core::exporterhelper) queue; `memory_limit_mib` (256) bounds the data a memory queue holds whatever its `sizer` (0: no bound) |
//!
//! The client keys are the shared HTTP client block,
//! [`HttpClientConfig`](tributary_pipeline_core::confighttp::HttpClientConfig), with Go's
//! `confighttp.ClientConfig` keys and defaults, except `compression` (gzip) and `timeout`
//! (30s), the Go exporter's. `retry_on_failure` and `sending_queue` are the exporter
//! helper's [`ExporterHelperConfig`](tributary_pipeline_core::exporterhelper::ExporterHelperConfig);
//! `timeout`, the client block's key as in Go, is the helper's deadline of each attempt.
//! The client is built with reqwest (already the workspace's HTTP client).
//!
//! # Behaviour
//!
//! * **Protobuf bodies are the payload's cached encoding**: data received over OTLP and not
//!   modified is sent without re-encoding. JSON is OTLP/JSON as the specification defines it
//!   (hex trace and span IDs, 64-bit integers as strings), with NaN and ±Infinity written
//!   as `"NaN"`, `"Infinity"`, `"-Infinity"` instead of being lost. Encoding and compressing
//!   a large batch happens on a blocking thread, off the async runtime.
//! * **Responses** are classified as the OTLP specification and the Go exporter do: 429 is
//!   throttling and 502, 503, 504 are retryable, each honouring `Retry-After` (seconds or
//!   an HTTP-date); every other non-2xx status is permanent. The error message carries the
//!   server's `google.rpc.Status` message (protobuf or JSON body) or the start of a text
//!   body. A connection that fails (refused, reset, TLS, timeout) is retryable.
//! * **Partial success**: a 2xx body (protobuf or JSON, per its `Content-Type`) with
//!   `partial_success` set is logged and its rejected items counted in
//!   `otelcol_exporter_partial_success_rejected_<items>{exporter}`; the batch counts as
//!   sent. An unreadable 2xx body is logged and the export still succeeds (the Go exporter
//!   fails it, which makes the retry re-send data the backend already accepted).
//! * **TLS files are read at start**, not when the configuration is validated (as Go
//!   reads them in its client constructor), so `validate` accepts a configuration whose
//!   certificates exist only on the host that runs it; a missing or unreadable file
//!   fails the exporter's start with an error naming the file.
//! * The traces, metrics and logs instances of one exporter share one connection pool.
//!
//! # Differences from the Go Collector
//!
//! * Go honours `Retry-After` only on 429 and 503; here it is honoured on 502 and 504 too.
//! * A `Retry-After` is honoured up to 5 minutes, and up to the `max_elapsed_time` deadline,
//!   where the data gets its last attempt. Go waits as long as asked, and drops the data
//!   at once when that reaches past `max_elapsed_time`.
//! * `tls::insecure` has no effect (as in Go, the URL scheme decides); `middlewares` and a
//!   non-zero `max_conns_per_host` are refused, saying why.

mod config;
mod exporter;
mod factory;
mod response;

#[cfg(test)]
mod tests;

pub use config::{Config, Encoding};
pub use factory::factory;
