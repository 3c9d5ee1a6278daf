//! The `prometheusremotewrite` receiver: Prometheus Remote-Write 1.0 over HTTP into OTLP
//! metrics. Prometheus's `remote_write`, Grafana Agent/Alloy, VictoriaMetrics' vmagent,
//! Telegraf's `prometheusremotewrite` serializer and the Go Collector's exporter can all
//! write here.
//!
//! ```yaml
//! receivers:
//!   prometheusremotewrite:
//!     endpoint: 0.0.0.0:19291
//! service:
//!   pipelines:
//!     metrics: { receivers: [prometheusremotewrite], exporters: [debug] }
//! ```
//!
//! and in `prometheus.yml`:
//!
//! ```yaml
//! remote_write:
//!   - url: http://collector:19291/api/v1/write
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | `localhost:19291` | where to listen (Go's port; Go binds `0.0.0.0`, Tributary localhost unless told) |
//! | `time_threshold` | `24` | hours: older samples are dropped (and counted) |
//! | `tls`, `auth`, `max_request_body_size`, `include_metadata`, `read_timeout`, `write_timeout`, ... | as [`confighttp`](tributary_pipeline_core::confighttp) | the HTTP server block; `max_request_body_size` bounds the body both compressed and decompressed |
//! | `cors` | unset | refused: browsers do not send remote write |
//!
//! # The API
//!
//! `POST /api/v1/write` with a snappy (block format) protobuf `prometheus.WriteRequest`:
//!
//! | case | answer |
//! |---|---|
//! | accepted by the pipeline | `204` |
//! | not snappy, not a `WriteRequest`, or decompressing past the limit | `400`, with the reason as text |
//! | `Content-Type` other than `application/x-protobuf` (or `proto=` other than `prometheus.WriteRequest`, so a Remote-Write 2.0 sender falls back to 1.0); `Content-Encoding` other than `snappy` | `415` |
//! | body over `max_request_body_size` | `413` |
//! | the pipeline refuses: permanently / retryably / throttled | `400` / `503` / `429`, with `Retry-After` (Prometheus retries 5xx and 429) |
//! | another path or method | `404` / `405` |
//!
//! The Go receiver takes Remote-Write 2.0 only; this one takes 1.0, which every Prometheus
//! sends by default. Remote-Write 2.0 is not accepted yet.
//!
//! # From series to metrics
//!
//! [`tributary_translator_prometheus::remote_write::to_otlp`] does the mapping: families
//! typed by the request's metadata (Prometheus sends it by default) or else by their
//! names (`_bucket{le}` → histogram with its `_sum`/`_count`, `{quantile}` → summary,
//! `_total` → monotonic cumulative sum, the rest gauges), native histograms as
//! exponential histograms, `job`/`instance` → `service.name` (and `service.namespace`
//! before a `/`)/`service.instance.id` on the resource, `target_info` merged into the
//! resource, `otel_scope_name`/`otel_scope_version` → the scope, staleness markers → the
//! "no recorded value" flag, exemplars with `trace_id`/`span_id` → span context. Names
//! are kept as Prometheus has them. Remote write carries no start times, so sums and
//! histograms have none.
//!
//! (The scrape receiver's family → OTLP mapping was not yet available to share when this
//! receiver was written: the remote-write mapping lives in the translator's
//! `remote_write` module, beside the exporter's.)

mod config;
mod decode;
mod factory;
mod receiver;

#[cfg(test)]
mod tests;

pub use config::{Config, DEFAULT_ENDPOINT};
pub use decode::{Decoded, decode_write_request};
pub use factory::factory;
pub use receiver::WRITE_PATH;
