//! The `influxdb` exporter: metrics, logs and traces as InfluxDB line protocol, written to InfluxDB 2.x's
//! `/api/v2/write` (org, bucket, token) or 1.x's `/write` (`v1_compatibility`: db,
//! retention policy, user), with the Go Collector's `influxdbexporter` keys and layouts.
//!
//! ```yaml
//! exporters:
//!   influxdb:
//!     endpoint: http://influxdb:8086
//!     org: my-org
//!     bucket: my-bucket
//!     token: ${env:INFLUX_TOKEN}
//!     metrics_schema: telegraf-prometheus-v1
//!   influxdb/v1:
//!     endpoint: http://influxdb1:8086
//!     v1_compatibility: { enabled: true, db: telegraf, username: otel, password: ${env:PW} }
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | required | the server; a URL without a path gets `/api/v2/write` (`/write` in v1 mode) |
//! | `timeout` | `5s` | deadline of one request |
//! | `headers`, `tls`, `compression`, `proxy_url`, `auth`, ... | as [`confighttp`](tributary_pipeline_core::confighttp) | the HTTP client block; `compression` is none by default, `gzip` is what InfluxDB takes |
//! | `org`, `bucket` | none | InfluxDB 2.x destination (`bucket` required unless `v1_compatibility` is on) |
//! | `token` | none | sent as `Authorization: Token <token>` |
//! | `v1_compatibility::enabled` | `false` | write to `/write?db=&rp=` |
//! | `v1_compatibility::db` | none | the database (required when enabled) |
//! | `v1_compatibility::retention_policy` | none | `rp=`; the database's default when empty |
//! | `v1_compatibility::username`, `password` | none | basic authentication, when both are set |
//! | `metrics_schema` | `telegraf-prometheus-v1` | or `telegraf-prometheus-v2`; `otel-v1` is refused |
//! | `payload_max_lines` | `10000` | the most lines in one request |
//! | `payload_max_bytes` | `10000000` | the most bytes in one request, before compression |
//! | `log_record_dimensions` | `[service.name]` | log record, scope or resource attributes written as tags of `logs` (duplicates refused) |
//! | `span_dimensions` | `[service.name, span.name]` | span, scope or resource attributes (and `span.name`, `span.kind`) written as tags of `spans` (duplicates refused) |
//! | `retry_on_failure`, `sending_queue` | as the exporter helper | retries and queue |
//!
//! # Layouts
//!
//! `telegraf-prometheus-v1` (the metric is the measurement):
//!
//! ```text
//! cpu_temp,host=a gauge=87.3 1700000000000000000
//! http_requests_total,code=200 counter=1027i 1700000000000000000
//! latency,otel.library.name=app 0.1=3,0.5=7,count=9,sum=2.5 1700000000000000000
//! ```
//!
//! `telegraf-prometheus-v2` (measurement `prometheus`, the metric is the field; a
//! histogram has a `_count`/`_sum` line and one `_bucket` line per bound, tagged `le`;
//! a summary one line per quantile, tagged `quantile`). Tags are the data point's
//! attributes, the resource's (which win on a clash) and `otel.library.name`/`version`;
//! fields carry `start_time_unix_nano` when the point has a start. A non-monotonic sum is
//! written as a gauge, as in Go. Histogram buckets are cumulative, as Prometheus counts.
//!
//! Logs are measurement `logs`, as the Go exporter writes them: tags `trace_id` and
//! `span_id` (when both are set) and the `log_record_dimensions` attributes; fields
//! `body` (as text), `severity_number`, `severity_text`, `observed_time_unix_nano`, and
//! `attributes`, every other resource, scope and record attribute as one JSON object. A
//! record without a time gets the time it is exported. `dropped_attributes_count` is
//! written as an integer (Go writes an unsigned one, which InfluxDB 1.x refuses).
//!
//! Not carried, dropped and counted in `otelcol_exporter_influxdb_dropped_items`
//! with a warning: points without a timestamp and exponential histograms (the Go exporter
//! fails the whole batch for either); NaN and infinite values are left out of their line.
//!
//! # Requests and errors
//!
//! A batch is cut into requests of at most `payload_max_lines` lines and
//! `payload_max_bytes` bytes. A `413` splits that request in halves, down to single
//! lines. `429` is throttling and `5xx` is retried (after `Retry-After` when sent); `400`,
//! `401`, `403`, `404` and other answers are permanent and never retried. A *partial write*
//! (InfluxDB kept the good lines and names the rest, `dropped=N`) is logged and the
//! refused lines counted in `otelcol_exporter_influxdb_rejected_lines`; the write counts
//! as done, since sending the refused lines again cannot succeed. When a later request of
//! a batch fails and the batch is retried, its earlier requests are sent again: harmless,
//! InfluxDB keeps one point per series and time.
//!
//! Spans are measurement `spans`, at their start time: tags `trace_id`, `span_id` and
//! the `span_dimensions`; fields `parent_span_id`, `trace_state`, `span.name` and
//! `span.kind` (tags instead when they are dimensions), `end_time_unix_nano`,
//! `duration_nano`, `otel.status_code` (`Ok`, `Error`), `otel.status_description`, the
//! dropped counts, and `attributes` (JSON). Each event is a `logs` line (`event.name`,
//! `attributes`) tagged with the span's IDs; each link a `span-links` line tagged
//! `linked_trace_id` and `linked_span_id`. A span without IDs or start time is dropped
//! and counted.

mod config;
mod exporter;
mod factory;
mod lines;
mod logs;
mod schema;
mod traces;

#[cfg(test)]
mod tests;

pub use config::{Config, MetricsSchema, V1Compatibility};
pub use factory::factory;
