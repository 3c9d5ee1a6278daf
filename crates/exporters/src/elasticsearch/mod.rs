//! The `elasticsearch` exporter: metrics and logs written with Elasticsearch's bulk API
//! (NDJSON), with the Go Collector's `elasticsearchexporter` keys, and — unlike
//! SOFALookout's exporter, which never read the bulk response — per-document error
//! handling. Also writes SOFALookout's `{time, id, value, tags}` layout, so a Lookout
//! server keeps reading what a Tributary gateway writes.
//!
//! ```yaml
//! exporters:
//!   elasticsearch:
//!     endpoint: https://elastic.example.com:9200
//!     user: elastic
//!     password: ${env:ES_PASSWORD}
//!     logs_index: logs-app-default
//!   elasticsearch/lookout:              # what a Lookout server reads
//!     endpoint: http://es:9200
//!     metrics_index: lookout-active-metrics
//!     metrics_dynamic_index: { enabled: false }
//!     mapping: { mode: lookout }
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` / `endpoints` | required (one of) | Elasticsearch URLs, used in turn; requests go to `<url>/_bulk` |
//! | `cloudid` | none | refused: give the deployment's URL |
//! | `user`, `password` | none | basic authentication (together) |
//! | `api_key` | none | `Authorization: ApiKey <key>` |
//! | `auth`, `headers`, `tls`, `proxy_url`, `compression` (none), ... | as [`confighttp`](tributary_pipeline_core::confighttp) | the HTTP client block; `auth` takes an authenticator extension |
//! | `timeout` | `90s` | the deadline of one export, its document retries included |
//! | `logs_index` (`index`, deprecated) | `logs-generic-default` | the logs index or data stream |
//! | `metrics_index` | `metrics-generic-default` | the metrics index or data stream |
//! | `traces_index` | `traces-generic-default` | accepted for Go configs; traces are not exported here |
//! | `logs_dynamic_index::enabled` | `false` | route by attributes (below) |
//! | `metrics_dynamic_index::enabled` | `true` | route by attributes (below) |
//! | `logstash_format::{enabled, prefix_separator, date_format}` | `false`, `-`, `%Y.%m.%d` | append the document's date to the index |
//! | `pipeline` | none | an ingest pipeline: `?pipeline=` |
//! | `mapping::mode` | `none` | `none`, `raw` or `lookout`; `ecs`, `otel` and `bodymap` are refused |
//! | `mapping::dedot` | `true` | attribute keys with `.` become nested objects |
//! | `mapping::dedup` | `true` | deprecated and without effect, as in Go |
//! | `flush::bytes` | `5000000` | the most NDJSON bytes in one bulk request |
//! | `flush::interval` | `30s` | with `sending_queue` on (and no `batch` of its own), batches wait up to this long to reach `flush::bytes` |
//! | `retry::enabled` | `true` | retry requests and documents |
//! | `retry::max_requests` | `3` | retries of a request or its failed documents |
//! | `retry::initial_interval`, `max_interval` | `100ms`, `1m` | backoff, doubled per retry; `Retry-After` wins |
//! | `retry::retry_on_status` | `[429]` | statuses retried (request or document); a document's `5xx` is retried too |
//! | `num_workers` | `0` | refused unless 0: `sending_queue::num_consumers` sets concurrency |
//! | `sending_queue` | off | the exporter helper's queue (persistent with `storage`) |
//!
//! Unknown keys (`discover`, `telemetry`, `batcher`, ...) are refused with their path.
//!
//! # Documents
//!
//! Actions are `create` (data streams take nothing else; Elasticsearch 7+, no `_type`),
//! or `index` in the `lookout` mode (written to Lookout's write alias, as Lookout does).
//!
//! - `none`: metrics give one document per time, resource, scope and attribute set:
//!   `{"@timestamp", "Resource": {..}, "Scope": {name, version}, "Attributes": {..},
//!   "<metric>": value}`, a histogram as `{"counts": [..], "values": [..]}` (bucket
//!   midpoints, Elasticsearch's `histogram` type), a summary as `{"sum", "value_count"}`;
//!   exponential histograms, points without a value and non-finite values are dropped
//!   and counted (`unencodable`). Logs: `{"@timestamp", "ObservedTimestamp", "Body",
//!   "SeverityNumber", "SeverityText", "TraceId", "SpanId", "TraceFlags", "Resource",
//!   "Scope", "Attributes"}`.
//! - `raw`: as `none`, with the attributes at the top of the document.
//! - `lookout` (metrics only; a logs pipeline is refused at creation):
//!   `{"time":"2023-11-01T08:00:00.000+00:00","id":"jvm.mem.heap.used","value":1.2E8,
//!   "tags":["app=demo","ip=10.0.0.1"]}` per sample, tags from the resource and the point;
//!   histograms and summaries give `<name>.count`, `.sum` (`.min`, `.max`).
//!
//! With dynamic routing on, a document's `data_stream.dataset`/`data_stream.namespace`
//! attributes (point or record, then scope, then resource) send it to
//! `<metrics|logs>-<dataset>-<namespace>`; otherwise `elasticsearch.index.prefix`/`suffix`
//! (resource first) surround the configured index. Go falls back to the generic index
//! when neither is there; we keep the configured one (so `metrics_index` is not silently
//! ignored).
//!
//! # Errors
//!
//! Elasticsearch answers `200` even when documents fail, so each item is read, in order:
//! `2xx` and `409` (already there) are kept; `429`, the `retry_on_status` codes and `5xx`
//! are sent again (alone) after the backoff, up to `retry::max_requests` times; any other
//! `4xx` (`mapper_parsing_exception`, ...) is dropped and counted
//! (`otelcol_exporter_elasticsearch_dropped_documents{reason="rejected"}`) with its first
//! reason logged. A whole-request `413` splits the request in halves (a single document
//! too large is dropped, `too_large`); a whole-request `429`/`5xx` or a connection error
//! retries the request; other statuses (`401`, `403`, ...) are permanent errors. When
//! retries run out: if nothing of the batch was stored the export fails retryable (so a
//! queue keeps it); otherwise the rest is dropped and counted (`retries_exhausted`),
//! never sending the stored part twice.
//!
//! No Elasticsearch or OpenSearch server is installable from the package registries this
//! project builds with, so the tests run against a bulk server written in the test
//! suite that implements the contract of Elastic's Bulk API documentation (per-item
//! statuses, `errors`, partial failures, `429`, `413`).

mod bulk_response;
mod config;
mod documents;
mod exporter;
mod factory;

#[cfg(test)]
mod tests;

#[doc(hidden)]
pub use bulk_response::{BulkAnswerError, BulkItems, read_bulk_answer};
pub use config::{
    BulkRetryConfig, Config, DynamicIndex, FlushConfig, LogstashFormat, MappingConfig, MappingMode,
};
pub use factory::factory;
