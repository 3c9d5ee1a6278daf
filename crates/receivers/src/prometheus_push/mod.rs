//! The `prometheus_push` receiver: the Prometheus Pushgateway's push API (and SOFALookout's
//! `/prom/metrics` importer, which copies it), with what is pushed forwarded as OTLP
//! metrics. The Go Collector has no such receiver; the name and every key here are ours.
//! Batch jobs that call `push_to_gateway` (Python), `PushGateway` (Java), `push.New` (Go)
//! or `curl --data-binary @- .../metrics/job/<JOB>` can push here unchanged.
//!
//! ```yaml
//! receivers:
//!   prometheus_push:
//!     endpoint: 0.0.0.0:9091
//!   prometheus_push/lookout:          # SOFALookout clients
//!     endpoint: 0.0.0.0:7200
//!     path_prefix: /prom/metrics
//!     required_labels: [app, step]
//!     success_status: 202
//! service:
//!   pipelines:
//!     metrics: { receivers: [prometheus_push, prometheus_push/lookout], exporters: [debug] }
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | `localhost:9091` | where to listen (the Pushgateway's port) |
//! | `tls`, `auth`, `max_request_body_size`, `compression_algorithms`, `include_metadata`, `read_timeout`, `write_timeout`, ... | as [`confighttp`](tributary_pipeline_core::confighttp) | the HTTP server block; `max_request_body_size` bounds the body raw and decompressed (`413` beyond it); `write_timeout` answers `503` when the pipeline has not answered in time |
//! | `path_prefix` | `/metrics` | where pushes go: `<path_prefix>/job/<JOB>{/<LABEL>/<VALUE>}`; `/prom/metrics` for SOFALookout clients |
//! | `required_labels` | `[]` | labels every grouping key must carry besides `job` (`[app, step]` for SOFALookout); a push without one gets `400` |
//! | `success_status` | `200` | the answer to a successful `PUT` or `POST` (`200` as the Pushgateway, `202` as SOFALookout); `DELETE` always answers `202` |
//! | `max_groups` | `10000` | the most groups recorded at once; a push that would open one more gets `413` |
//! | `max_series` | `100000` | the most series recorded over all groups; a push that would pass it gets `413`; a single body of more samples gets `400` from the parser, which stops there |
//! | `max_recorded_bytes` | `134217728` (128 MiB) | the most memory the record may take over all groups, estimated per series from its name and labels (about 650 bytes for a series with five short labels); beyond, `413` |
//! | `cors` | unset | refused: browsers do not push metrics |
//!
//! # The API
//!
//! | request | effect | answer |
//! |---|---|---|
//! | `PUT <path_prefix>/job/<JOB>{/<LABEL>/<VALUE>}` | replaces the group: its samples are forwarded, and staleness markers for the group's series the push no longer has | `success_status` |
//! | `POST` (same path) | replaces the group's metrics of the names pushed: staleness markers only for series of those names that are gone | `success_status` |
//! | `DELETE` (same path) | removes the group: staleness markers for all its series | `202` |
//! | another method | | `405` with `Allow` |
//! | another path | | `404` |
//!
//! A label name ending in `@base64` takes a base64url value (`/job@base64/YmFja3Vw`,
//! `/path@base64/L3Zhci90bXA`, padding optional); an empty value can only be written so
//! (`/label@base64/=`). Each path segment is percent-decoded. A name must be a Prometheus
//! label name not starting with `__`, and appear once.
//!
//! The body is the text format 0.0.4; OpenMetrics when `Content-Type` says
//! `application/openmetrics-text`; or delimited protobuf `MetricFamily` messages when it
//! says `application/vnd.google.protobuf; ...; encoding=delimited` (what Go's
//! `client_golang` `push` package sends by default; native histogram buckets are not read,
//! the classic ones are). Any other content type is read as text, as the Pushgateway does
//! (curl's `--data-binary` sends a form type); protobuf in another encoding gets `415`.
//! `Content-Encoding: gzip` (and the other `compression_algorithms`) is decompressed; an
//! encoding not listed gets `415`. The protobuf messages are declared with prost's derive
//! (the schema is eight small messages); text is read by the shared parser of
//! `tributary-translator-prometheus`.
//!
//! # What is forwarded
//!
//! The grouping labels are applied to every pushed sample, replacing same-named labels
//! (`job` included), as the Pushgateway does; then the samples are translated as a scrape
//! is ([`to_otlp`](tributary_translator_prometheus::to_otlp)): `job` (and `instance`, when
//! the key or the sample has one) name the resource, other labels are point attributes.
//! A push is forwarded once: a sample keeps its own timestamp, or gets the time of the
//! push. Each successful `PUT`/`POST` adds `push_time_seconds{<grouping labels>}` (the
//! push time); a push that fails for its body or the record's bounds forwards
//! `push_failure_time_seconds{<grouping labels>}`. A push may not carry either name itself
//! (`400`). Staleness markers are points with `FLAG_NO_RECORDED_VALUE` (Prometheus's stale
//! NaN on the way out). Counters without `_created` start at the first push that
//! carried them, as the scrape receiver's start-time adjuster does.
//!
//! # Errors
//!
//! Every refusal has its reason in the body (as the Pushgateway) and in an `Err` header (as
//! SOFALookout). `400`: a malformed path (no job, an empty job, odd label pairs, a bad
//! name, a missing required label, bad base64) or body (the parser's message names the
//! line). `413`: over `max_request_body_size`, or over the record's bounds. `503` with
//! `Retry-After: 1` when the bodies in hand already hold the receiver's memory budget
//! (128 MiB, or twice `max_request_body_size` if larger; a request waits up to a second
//! for room). `415`:
//! protobuf that is not delimited, unknown encodings. When the pipeline refuses: `400` if retrying cannot
//! help, `503` (`429` when throttled) with `Retry-After`, and the group's record is left as
//! it was, so the client's retry forwards the same staleness markers.
//!
//! # The record and its bounds
//!
//! To know which series a `PUT`, `POST` or `DELETE` removes, the receiver keeps, per group,
//! the name and labels of each series its last pushes left (not their values). That record
//! is bounded by `max_groups`, `max_series` and `max_recorded_bytes`; a push that would
//! pass a bound is refused whole (`413`, counted in `otelcol_receiver_failed_metric_points`)
//! and changes nothing. Measured with the debug build: 100 groups of 2,000 counter series
//! with five labels each (200,000 series, pushed with `PUT`) grew the gateway's resident
//! memory by 197 MB, about 1 KB per series all told (record, start times, allocator
//! slack); the defaults therefore hold the record to roughly 100–200 MB. It lives in memory: after a restart, the first push of a group
//! forwards no staleness markers for what was pushed before. Pushes are applied one at a
//! time, each delivered before the next is looked at, so staleness markers always follow
//! the samples they end.
//!
//! # Differences from the Pushgateway, on purpose
//!
//! The Pushgateway stores pushes and is scraped; this receiver forwards them, so: there
//! is no `GET /metrics` (a pipeline's exporter serves what a scraper reads); no
//! consistency check across groups (a metric name pushed with different types by two
//! groups is forwarded as pushed; it is the backend's to judge); no `instance=""` added
//! when the grouping key has no `instance` (the sample's own `instance`, if any, is kept,
//! since an empty label would become an empty resource attribute); samples may carry
//! timestamps (Pushgateway 1.x refuses them); and the grouping key may not name a label
//! twice (the Pushgateway keeps the last).
//!
//! [`parse_grouping_key`] and [`parse_push_body`] are the decoders alone (for fuzzing).

mod body;
mod config;
mod factory;
mod groups;
mod path;
mod protobuf;
mod receiver;

#[cfg(test)]
mod tests;

pub use body::{BodyError, parse_push_body};
pub use config::{Config, DEFAULT_ENDPOINT};
pub use factory::factory;
pub use path::{GroupingKey, PathError, parse_grouping_key};
pub use receiver::SCOPE_NAME;
