//! The `prometheusremotewrite` exporter: metrics to Prometheus (`--web.enable-remote-write-receiver`),
//! Mimir, Cortex, Thanos, VictoriaMetrics or anything else that takes Remote-Write 1.0, with
//! the Go Collector's `prometheusremotewriteexporter` keys and defaults.
//!
//! ```yaml
//! extensions:
//!   file_storage: { directory: /var/lib/tributary/queue }
//! exporters:
//!   prometheusremotewrite:
//!     endpoint: http://prometheus:9090/api/v1/write
//!     external_labels: { cluster: eu-1 }
//!     resource_to_telemetry_conversion: { enabled: true }
//!     remote_write_queue: { queue_size: 10000, num_consumers: 5, storage: file_storage }
//! service:
//!   extensions: [file_storage]
//!   pipelines:
//!     metrics: { receivers: [otlp], exporters: [prometheusremotewrite] }
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | required | the remote-write URL |
//! | `timeout` | `5s` | deadline of one request |
//! | `headers`, `tls`, `auth`, `proxy_url`, ... | as [`confighttp`](tributary_pipeline_core::confighttp) | the HTTP client block; `headers` cannot replace the remote-write headers; `compression` other than `snappy`/`none` is refused (bodies are always snappy) |
//! | `max_idle_conns_per_host` | the parallelism | unlike Go's 2: one kept-alive connection per concurrent request of a batch, so batches do not reopen connections |
//! | `http` | unset | the same client block nested; when present it replaces the keys above, as in Go |
//! | `namespace` | `""` | prefix of every metric name |
//! | `external_labels` | `{}` | labels every series gets (a series' own label of that name wins); empty names or values are refused |
//! | `translation_strategy` | unset | `UnderscoreEscapingWithSuffixes`, `UnderscoreEscapingWithoutSuffixes`, `NoUTF8EscapingWithSuffixes` or `NoTranslation`; replaces `add_metric_suffixes` |
//! | `add_metric_suffixes` | `true` | unit and `_total` suffixes |
//! | `send_metadata` | `false` | send each family's type, help and unit |
//! | `protobuf_message` | `prometheus.WriteRequest` | Remote-Write 2.0 (`io.prometheus.write.v2.Request`) is refused |
//! | `max_batch_size_bytes` | `3000000` | the most protobuf bytes in one request (before snappy); a batch is split to fit |
//! | `max_batch_request_parallelism` | `num_consumers` | requests of one batch in flight at once |
//! | `remote_write_queue::enabled` | `true` | queue batches (else export in the caller's task) |
//! | `remote_write_queue::queue_size` | `10000` | batches the queue holds |
//! | `remote_write_queue::num_consumers` | `5` | series shards sent concurrently (a batch that fits one request is one request) |
//! | `remote_write_queue::storage` | unset | Tributary: keep the queue in a `file_storage` extension |
//! | `remote_write_queue::include_metadata_keys` | `[]` | refused: batches are not partitioned by client metadata |
//! | `resource_to_telemetry_conversion::enabled` | `false` | resource attributes as labels |
//! | `resource_to_telemetry_conversion::exclude_service_attributes` | `false` | without `service.name`, `service.namespace`, `service.instance.id` |
//! | `target_info::enabled` | `true` | one `target_info` series per resource |
//! | `export_created_metric::enabled` | `false` | `_created` series from start times |
//! | `disable_scope_info` | `false` | leave out `otel_scope_name`/`otel_scope_version` |
//! | `retry_on_failure` | enabled, `50ms` initial, `200ms` max interval, `1m` max elapsed | Go's defaults for this exporter |
//! | `wal` | unset | refused: use `remote_write_queue::storage` (below) |
//!
//! # Translation
//!
//! [`tributary_translator_prometheus::remote_write::from_otlp`] turns OTLP into series (see
//! its table): names and labels by the shared `normalize` and `labels` rules, histograms as
//! `_bucket`/`_sum`/`_count`, exponential histograms as native histograms, `target_info`,
//! staleness markers for points without a recorded value, exemplars.
//!
//! Batches are written from their OTLP bytes instead
//! ([`write_encoded`](tributary_translator_prometheus::remote_write::write_encoded)): the
//! exporter keeps each series' labels encoded, keyed by its resource, scope, metric and
//! attribute bytes, so a point of a known gauge or cumulative sum costs a hash and a copy
//! rather than a dozen strings; other metrics are decoded one by one on the way. The
//! bodies are the same bytes either way. Series unseen for five to ten minutes are
//! forgotten, and at most 2^20 are kept (about 450 bytes each for a scrape's series).
//! Batches with delta monotonic sums, and the `resource_to_telemetry_conversion`,
//! `send_metadata` and `export_created_metric` options, take the decoding path.
//!
//! **Delta monotonic sums** (which the Go exporter drops) are made cumulative: the
//! exporter keeps each series' running total and first start time, converts a batch
//! against the totals as they stand and keeps the new totals only once the batch is done
//! (sent, or refused for good), so a retried batch is never counted twice. It says so once
//! per metric in the log. Totals of series unseen for an hour are forgotten (the next point
//! starts a new run: a counter reset to Prometheus), and at most 100 000 series are kept;
//! points of further series are dropped, logged and counted. Totals live in memory: after
//! a restart a series starts again from its next delta (a reset). Other **delta** data —
//! non-monotonic sums, histograms, exponential histograms — is dropped, as in Go, with a
//! warning naming the metric, and counted in
//! `otelcol_exporter_prometheusremotewrite_dropped_points` (put a `deltatocumulative`
//! processor before this exporter to keep them).
//!
//! # Requests, order and retries
//!
//! Each request is protobuf `WriteRequest`, snappy-compressed in the **block** format, with
//! `Content-Encoding: snappy`, `Content-Type: application/x-protobuf`,
//! `X-Prometheus-Remote-Write-Version: 0.1.0` and `User-Agent`.
//!
//! Samples of a series must arrive in time order. The queue therefore hands batches to a
//! single worker, in order, and a batch is done (sent, or failed) before the next starts.
//! Within a batch, series are split by a hash of their labels into as many shards as the
//! batch needs requests of at most `max_batch_size_bytes` (at most `num_consumers`, or
//! `max_batch_request_parallelism`), each shard cut into such requests and sent in order,
//! the shards concurrently. A series is in one shard, so its samples are never overtaken.
//! A batch that fits one request is one request, as in Go: more shards would add a
//! request's overhead each and gain nothing. Family metadata goes last, in shard 0. (Go's
//! exporter sends a batch's requests concurrently without regard to series.)
//!
//! `5xx` is retried; `429` is retried after its `Retry-After`; any other `4xx` is permanent
//! and the batch dropped (Prometheus answers `400` for samples out of order or too old,
//! which no retry fixes). When one shard fails and the batch is retried, the shards that
//! succeeded are sent again: Prometheus takes a sample it holds already (same series, time
//! and value) as a no-op.
//!
//! # Outages and restarts
//!
//! With `remote_write_queue::storage: file_storage`, batches are stored before `consume`
//! returns and deleted only once delivered: a backend outage fills the disk queue (up to
//! `queue_size` batches, then the pipeline is refused with a retryable error), retries
//! continue without the `max_elapsed_time` limit, and after a crash or `kill -9` the
//! stored batches are sent in their order at the next start. The Go exporter's `wal` is
//! refused in favour of this (it is the same guarantee through the shared queue).

mod accumulate;
mod config;
mod exporter;
mod factory;
mod translate;

#[cfg(test)]
mod tests;

pub use config::{
    Config, DEFAULT_MAX_BATCH_SIZE_BYTES, ExportCreatedMetric, PROTOBUF_MESSAGE_V1,
    RemoteWriteQueue, ResourceToTelemetry, RetryOnFailure, TargetInfo,
};
pub use exporter::REMOTE_WRITE_VERSION;
pub use factory::factory;
