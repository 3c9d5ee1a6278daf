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
//! | more requests in process than the memory budget holds (128 MiB, or twice `max_request_body_size` if that is more; a request counts its body and about 4× what it decompresses to), after waiting up to 1 s | `503` with `Retry-After: 1` |
//! | the pipeline refuses: permanently / retryably / throttled | `400` / `503` / `429`, with `Retry-After` (Prometheus retries 5xx and 429) |
//! | another path or method | `404` / `405` |
//!
//! The Go receiver takes Remote-Write 2.0 only; this one takes 1.0, which every Prometheus
//! sends by default. Remote-Write 2.0 is not accepted yet.
//!
//! # From series to metrics
//!
//! Float series go through the same translation as a scrape,
//! [`tributary_translator_prometheus::to_otlp::to_metrics`], after
//! [`families`](tributary_translator_prometheus::remote_write::families) has grouped them
//! into metric families: typed by the request's metadata when it has an entry for the
//! family, else by their names (`_bucket{le}` → histogram, `{quantile}` → summary,
//! `_total` → counter, the rest gauges). Prometheus 2.x sends metadata in requests of
//! their own and spreads a histogram's series over requests, so a histogram point whose
//! `_count` came in another request takes its count from the `+Inf` bucket, and a `_sum`
//! or `_count` that came alone stays a gauge of that name. So: names kept as Prometheus
//! has them; `job` and `instance` → `service.name`, `service.instance.id`,
//! `server.address`, `server.port` on the resource; `target_info` merged into the
//! resource; `otel_scope_*` → the scope (else `tributary/prometheusremotewrite`); the
//! staleness marker → the "no recorded value" flag; exemplars (matched to the sample of
//! the same timestamp) with `trace_id`/`span_id` → span context.
//!
//! Remote write carries no start times: the receiver keeps the scrape receiver's
//! start-time adjuster (a cumulative series' first point starts it; a drop in value, a
//! reset, starts it again). It forgets series unseen for 10 minutes and starts over past
//! 200 000 series, so what peers send cannot grow it without bound.
//!
//! Native histogram samples, which metric families do not carry, become exponential
//! histograms by [`tributary_translator_prometheus::remote_write::natives_to_otlp`] (schema →
//! scale, spans and deltas → dense buckets shifted by one index; a histogram whose gaps
//! would expand to more than 8 empty buckets per bucket sent is dropped and counted).

mod config;
mod decode;
mod factory;
mod receiver;

#[cfg(test)]
mod tests;

pub use config::{Config, DEFAULT_ENDPOINT};
pub use decode::{Decoded, decode_write_request, decode_write_request_with};
pub use factory::factory;
#[cfg(feature = "deepflow")]
pub(crate) use receiver::StartTimes;
pub use receiver::WRITE_PATH;
