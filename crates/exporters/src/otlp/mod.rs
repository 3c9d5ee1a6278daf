//! The `otlp` exporter (alias `otlp_grpc`): sends traces, metrics and logs to an OTLP
//! backend over gRPC.
//!
//! ```yaml
//! exporters:
//!   otlp:
//!     endpoint: collector.example.com:4317
//!     compression: zstd
//!     headers:
//!       authorization: Bearer ${env:TOKEN}
//!     tls:
//!       ca_file: /etc/ssl/backend-ca.pem
//!     timeout: 10s
//!     retry_on_failure:
//!       max_elapsed_time: 10m
//!     sending_queue:
//!       queue_size: 5000
//!   otlp/local:
//!     endpoint: http://127.0.0.1:4317   # http:// means plaintext
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | required | `host:port`, `http://host:port` (plaintext), `https://host:port`, `dns:///host:port`; no port means 443; no `user:password@` (use `headers`) |
//! | `tls` | TLS with the system's roots | see [`TlsClientConfig`](crate::client::TlsClientConfig); `tls::insecure: true` means plaintext; files are read at start |
//! | `compression` | `gzip` | `gzip`, `zstd`, `snappy` (framed, as Go's gRPC codec), `zlib`, `deflate`, `lz4`, `none` (`grpc-encoding`); Go servers decode gzip, zstd and snappy |
//! | `compression_params::level` | 1 | compression level (gzip, zlib, deflate 1–9, zstd 1–22; snappy and lz4 have none) |
//! | `headers` | none | gRPC metadata sent with every request (`-bin` keys are sent base64-encoded); values are secrets, never shown |
//! | `auth::authenticator` | unset | a client authenticator extension (`bearertokenauth`, `basicauth`, `headers_setter`) setting each call's metadata, from the client metadata of the data sent; see [`configauth`](tributary_pipeline_core::configauth) |
//! | `authority` | the endpoint's | `:authority` sent to the server (virtual hosting behind proxies) |
//! | `keepalive::time` / `timeout` / `permit_without_stream` | off; 10s / 10s / false when the section is present | HTTP/2 pings |
//! | `dialer::timeout` | `0` | longest a connection may take to open; `0`: `timeout` bounds it |
//! | `balancer_name`, `read_buffer_size`, `write_buffer_size`, `wait_for_ready` | | accepted for compatibility (tuning knobs), see below |
//! | `middlewares` | none | refused: Tributary has no middleware extensions |
//! | `timeout` | `5s` | deadline of each attempt, also sent as `grpc-timeout` |
//! | `retry_on_failure` | enabled, 5s → 30s, 300s total | the exporter helper's retry; the backend's retry-after is honoured up to 5 minutes and never past `max_elapsed_time` |
//! | `sending_queue` | enabled, 1000 requests, 10 consumers, 256 MiB | the [exporter helper's](tributary_pipeline_core::exporterhelper) queue; `memory_limit_mib` (256) bounds the data a memory queue holds whatever its `sizer` (0: no bound) |
//!
//! The client keys are the shared gRPC client block,
//! [`GrpcClientConfig`](tributary_pipeline_core::configgrpc::GrpcClientConfig), with Go's
//! `configgrpc.ClientConfig` keys and defaults, except `compression` (gzip, the Go
//! exporter's). `timeout`, `retry_on_failure` and `sending_queue` are the exporter helper's
//! [`ExporterHelperConfig`](tributary_pipeline_core::exporterhelper::ExporterHelperConfig),
//! squashed into this config: the same keys, defaults and checks in every exporter.
//!
//! # Behaviour
//!
//! * **Pass-through encoding.** A batch is sent as its cached protobuf encoding
//!   ([`Payload::encoded`](tributary_pipeline_core::pdata::Payload::encoded)): data
//!   received over OTLP and not modified goes out byte for byte, without re-encoding.
//!   tonic's channel carries the connection (HTTP/2, reconnects, keepalive, TLS through our
//!   rustls connector); the exporter frames the gRPC message itself, which is what lets it
//!   send those bytes as they are and choose the compression level.
//! * **Cheap compression.** gzip and zstd default to level 1, compressor state is reused
//!   per thread, and flate2 runs on its zlib-rs backend. Exporting 100-span batches
//!   (`examples/exporter_cost.rs`, medians of 3 runs on a busy 2-core machine, exporter
//!   plus an in-process sink): uncompressed 0.85, gzip 2.0, zstd 1.96 (level 3: 2.14)
//!   CPU-seconds per million spans; gzip at level 6, tonic's fixed level and grpc-go's
//!   default, 5.9, for bodies about a fifth smaller.
//!   Batches of 64 KiB or more are compressed on a blocking thread.
//! * **TLS files are read at start**, not when the configuration is validated (as Go
//!   reads them in its client constructor), so `validate` accepts a configuration whose
//!   certificates exist only on the host that runs it; a missing or unreadable file
//!   fails the exporter's start with an error naming the file.
//! * **Lazy connection.** Nothing connects at start, so a backend that is down does not
//!   stop the collector from starting; exports fail with a retryable error until it is up.
//!   The traces, metrics and logs instances of one exporter share one HTTP/2 connection.
//! * **Errors** are classified as the Go exporter does: `CANCELLED`, `DEADLINE_EXCEEDED`,
//!   `ABORTED`, `OUT_OF_RANGE`, `UNAVAILABLE` and `DATA_LOSS` are retryable (with the
//!   server's `RetryInfo` delay when sent); `RESOURCE_EXHAUSTED` is throttled when the
//!   server sent `google.rpc.RetryInfo` (its delay becomes the retry-after) and permanent
//!   otherwise; every other code is permanent. Connection failures (refused, reset, TLS
//!   handshake) are retryable.
//! * **Partial success.** A response with `partial_success` set is logged (warning) and its
//!   rejected items counted in `otelcol_exporter_partial_success_rejected_<items>`
//!   (`_spans`, `_metric_points`, `_log_records`, label `exporter`); the batch counts as
//!   sent, since re-sending it would duplicate what the backend kept.
//! * **User agent** as the Go Collector's: `<description>/<version> (<os>/<arch>)`.
//!
//! # Differences from the Go Collector
//!
//! * A `RetryInfo` delay is honoured up to 5 minutes, and up to the `max_elapsed_time` deadline,
//!   where the data gets its last attempt. Go waits as long as asked, and drops the data
//!   at once when that reaches past `max_elapsed_time`.
//! * gzip and zstd compress at level 1 unless `compression_params::level` says otherwise
//!   (Go uses gzip 6 and zstd's default, 3); any server decompresses either.
//! * `balancer_name`: only `pick_first` and `round_robin` are accepted, and both behave as
//!   `pick_first`: one HTTP/2 connection to the endpoint's resolved address. Put several
//!   backends behind a load balancer, or use one exporter per backend.
//! * `read_buffer_size` / `write_buffer_size` are accepted and have no effect: hyper sizes
//!   its buffers by HTTP/2 flow control.
//! * `wait_for_ready: true` is accepted; requests still fail fast while the backend is
//!   unreachable and are retried by `retry_on_failure`, which is what the setting achieves
//!   in Go (a request waits instead of failing) with the queue's capacity as the bound.
//! * `unix:` endpoints and TLS 1.0/1.1 are not supported; configurations using them are
//!   refused with a message saying so.

mod config;
mod connector;
mod exporter;
mod factory;
mod status;
mod unary;

#[cfg(test)]
mod tests;

pub use config::{Config, KeepaliveConfig};
#[cfg(feature = "loadbalancing")]
pub(crate) use exporter::{GrpcConnection, GrpcExporter};
pub use factory::factory;
