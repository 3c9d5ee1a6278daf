//! The `deepflow` receiver: the HTTP endpoints of a DeepFlow (MetaFlow) agent's
//! integration collector, so Prometheus, Telegraf and OpenTelemetry senders configured for
//! a DeepFlow agent write to Tributary unchanged. There is no Go Collector receiver for
//! it; the contract is the agent's (`agent/src/integration_collector.rs`).
//!
//! ```yaml
//! receivers:
//!   deepflow:
//!     endpoint: 0.0.0.0:38086
//! service:
//!   pipelines:
//!     metrics: { receivers: [deepflow], exporters: [debug] }
//!     traces: { receivers: [deepflow], exporters: [debug] }
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | `localhost:38086` | where to listen: the agent's port (`inputs.integration.listen_port`), on loopback as every Tributary listener unless configured (the agent listens on every interface: set `0.0.0.0:38086` for senders on other hosts) |
//! | `tls`, `auth`, `max_request_body_size`, `read_timeout`, `write_timeout`, `include_metadata`, ... | as [`confighttp`](tributary_pipeline_core::confighttp) | the HTTP server block; `max_request_body_size` bounds the body before and after gzip; `write_timeout` answers `503` when the pipeline has not answered in time |
//! | `cors` | unset | refused: the senders are agents, not browsers |
//!
//! # The routes
//!
//! | request | payload | decoded by |
//! |---|---|---|
//! | `POST /api/v1/prometheus` | Prometheus remote write 1.0 (snappy protobuf) | the [`prometheusremotewrite`](crate::prometheusremotewrite) receiver's decoder: the same translation, and the same start-time tracking for cumulative series |
//! | `POST /api/v1/telegraf` | InfluxDB line protocol, nanosecond timestamps (Telegraf `outputs.http` with `data_format = "influx"`) | the [`influxdb`](crate::influxdb) receiver's parser and mapping |
//! | `POST /api/v1/otel/trace` | OTLP/HTTP protobuf `ExportTraceServiceRequest` | the OTLP protobuf decoding every OTLP receiver uses ([`Payload::decode`](tributary_pipeline_core::pdata::Payload::decode)): the bytes are checked and forwarded as they came |
//!
//! The first two feed the receiver's metrics pipeline, the third its traces pipeline; a
//! route whose signal no pipeline takes answers `404`.
//!
//! | case | answer |
//! |---|---|
//! | taken by the pipeline | `200` with an empty body, as the agent |
//! | `Content-Encoding: gzip` | gunzipped first (the agent does too); `snappy` is remote write's own; another encoding, or OTLP/JSON on the trace route, is `415` |
//! | a body that does not decode | `400` with the reason as text |
//! | body over `max_request_body_size`, before or after gzip | `413` |
//! | more requests in process than the memory budget holds (128 MiB, or twice `max_request_body_size` if more), after waiting up to 1 s | `503` with `Retry-After: 1` |
//! | the pipeline refuses: permanently / retryably / throttled | `400` / `503` / `429`, with `Retry-After` when known |
//! | another path / method | `404` / `405` |
//!
//! The agent answers `200` to everything it could read and queues the data, dropping it
//! when its queues are full; here the answer waits for the pipeline, so a sender is told
//! to back off (Prometheus and the OTel SDKs retry 429 and 5xx) instead of losing data.
//!
//! Left out: the agent's other routes (profiles, logs, Datadog and SkyWalking traces) get
//! `404`; the agent's `prometheus_extra_labels` (request headers as extra labels) is not
//! offered; NaN and ±Inf samples are kept (the DeepFlow server drops them), a stale marker
//! becoming the "no recorded value" flag as in the `prometheusremotewrite` receiver.

mod config;
mod factory;
mod receiver;

#[cfg(test)]
mod tests;

pub use config::{Config, DEFAULT_ENDPOINT};
pub use factory::factory;
pub use receiver::{OTEL_TRACE_PATH, PROMETHEUS_PATH, TELEGRAF_PATH};
