//! The `lookout` receiver: the SOFALookout gateway's importers on one listener, so the
//! Lookout SDK, Prometheus pushers, OpenTSDB clients and Metricbeat pointed at a Lookout
//! gateway can point at Tributary unchanged. The Go Collector has no such receiver; the
//! name and every key here are ours (the routes, headers and status codes are Lookout's).
//!
//! ```yaml
//! receivers:
//!   lookout:
//!     endpoint: 0.0.0.0:7200
//!     step: 10
//! service:
//!   pipelines:
//!     metrics: { receivers: [lookout], exporters: [debug] }
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | `localhost:7200` | where to listen (the gateway's port) |
//! | `tls`, `auth`, `max_request_body_size`, `compression_algorithms`, `read_timeout`, `write_timeout`, ... | as [`confighttp`](tributary_pipeline_core::confighttp) | the HTTP server block; `max_request_body_size` bounds the body raw and decompressed (`413`); raw snappy is always accepted (the SDK's encoding) |
//! | `step` | `10` | seconds that the non-standard importers' timestamps align to (`ts/step*step`) when a request names no `step`; `-1` turns alignment off; also the span of a standard-protocol delta counter |
//! | `tokens` | `[]` | tokens `/datas` clients must send in `X-Lookout-Token` (or `Authorization`, `Bearer ` optional); empty: no check, as Lookout's default token filter |
//! | `elasticsearch_version` | `5.3.2` | the version `GET /beat` reports to Metricbeat (Lookout's); a 7.x Metricbeat wants `7.x` |
//! | `cors` | unset | refused: browsers do not push Lookout metrics |
//!
//! # The routes
//!
//! | request | body | required | success |
//! |---|---|---|---|
//! | `GET /datas` | | | `200 OK` (the SDK's probe) |
//! | `POST /datas` | standard protocol | header `app`; without it **`403` with `Wait-Minutes: 5` and `Err: APP_NAME_NULL`** (the SDK then stays silent 5 minutes); a bad token `401 Err: TOKEN_INVALID` | `200` |
//! | `GET /lookout/metrics` | | | `200 OK` |
//! | `POST /lookout/metrics/{k}/{v}...` | standard protocol | path pairs with `app` and a numeric `step` | `200` |
//! | `PUT\|POST /prom/metrics/job/{job}/{k}/{v}...` | Prometheus text (OpenMetrics by `Content-Type`) | path pairs with `app` and `step` | `202` |
//! | `POST /opentsdb/api/put` | one OpenTSDB data point or an array | headers `app` and `step`; optional `ip` | `202`; `400` naming the bad points (the good ones are delivered, as OpenTSDB) |
//! | `GET\|HEAD /beat` | | | an Elasticsearch root document |
//! | `GET\|HEAD\|PUT /beat/_template/{name}` | | | `200` (the template "exists") |
//! | `POST /beat[/{index}[/{type}]]/_bulk` | Elasticsearch bulk NDJSON | | `200` with one real result per action |
//!
//! Refusals carry their message in the body and in an `Err` header, as Lookout: `400`
//! for a malformed path or body (nothing of it is delivered), `413` over
//! `max_request_body_size`, `415` for an unknown `Content-Encoding`, `404`/`405` for other
//! paths and methods. When the pipeline refuses: `400` if retrying cannot help, else
//! `503` (`429` when throttled) with `Retry-After`. Lookout answers before its disk queue
//! delivers; here the answer waits for the pipeline, so put a persistent
//! `sending_queue` on the exporters for Lookout's buffering.
//!
//! # The standard protocol
//!
//! Measurements are JSON objects joined by TAB (newlines are accepted too), sent raw or
//! with `Content-Encoding: snappy` (the raw block format the SDK's xerial `Snappy.compress`
//! writes): `{"time":..,"tags":{..},"<name>":<number>|{"<sub>":<number>,..}}`. `time` is
//! epoch milliseconds or ISO-8601 with an offset (absent: the arrival time). A number
//! under `K` is metric `K`; an object gives `K.<sub>` per entry. Names keep
//! `[A-Za-z0-9_:.]` (others become `_`, and `m_` is prefixed unless the name starts with
//! a letter); tag keys keep `[A-Za-z0-9_]`. `tags._type_` is read and dropped
//! (`priority` too): `i` makes string values info points (a gauge of 1 with the text in
//! attribute `value`); `c` makes `count` — and `t` makes `count` and `totalTime` — what
//! one step counted, an OTLP **delta** monotonic sum starting `step` seconds before its
//! time; every other number is a gauge. `pri`, `X-Debug-Id` are accepted and ignored
//! (there is no Lookout queue to bypass).
//!
//! # The other importers
//!
//! - **Prometheus push**: parsed by the shared text parser of
//!   `tributary-translator-prometheus` (Lookout split lines naively); one point per sample
//!   line: counters as cumulative monotonic sums, every other line (buckets, `_sum`,
//!   `_count`, quantiles) a gauge of its own name. A sample's own timestamp is kept (else
//!   the arrival time). `job` and the path pairs are tags.
//! - **OpenTSDB**: timestamps in seconds or milliseconds by their size (Lookout always
//!   multiplied by 1000); `value` a number or numeric string; at least one tag.
//! - **Metricbeat**: each action line is paired with its source (`delete` has none).
//!   `@timestamp` is the time; scalars of `metricset`, `beat` and `agent` (minus `rtt`)
//!   become tags `metricset_name`, `beat_hostname`, ...; every other numeric leaf is a
//!   gauge named by its `.`-joined path (ECS metadata `ecs`, `event`, `host`, `service`
//!   and `@metadata` are left out); strings are ignored. Unlike Lookout's `items: []`, the
//!   response has one item per action: `201 created` (`200 updated` for `update`),
//!   `400 mapper_parsing_exception` for a source that is not an object, `404 not_found` for
//!   `delete`; a malformed action line or a missing source refuses the request (`400`
//!   with an Elasticsearch error body), as Elasticsearch does. Gzip bodies are read.
//!
//! # Enrichment and limits
//!
//! As Lookout's `DefaultReaderManager`: tag `ip` is added when absent, from the
//! `Client-Ip` header, else the connection's peer address (the OpenTSDB route's `ip`
//! header wins); for every importer but `/datas`, `ts = ts/step*step` with the request's
//! `step` (default `step` key; `-1` off), and the `step` tag is then removed; path and
//! header tags never override body tags. Then Lookout's `CommonMetricFilter`: a point
//! whose name is over 200 characters, with no tags or over 20, a tag key empty or over
//! 100 characters, or a time over two days old is dropped and counted in
//! `otelcol_receiver_lookout_dropped_points{receiver, reason}` (`name_too_long`,
//! `tag_count`, `tag_key`, `too_old`); tag values are cut to 200 characters.
//!
//! Points become OTLP metrics under one resource with no attributes, one metric per
//! name and kind, the tags as point attributes.
//!
//! [`parse_standard`], [`parse_opentsdb`] and [`parse_bulk`] are the decoders alone (for
//! fuzzing and tests).

mod config;
mod factory;
mod metricbeat;
mod opentsdb;
mod point;
mod prom;
mod receiver;
mod standard;
mod tagged_route;

#[cfg(test)]
mod tests;

pub use config::{Config, DEFAULT_ENDPOINT};
pub use factory::factory;
pub use metricbeat::{Bulk, parse_bulk};
pub use opentsdb::parse_opentsdb;
pub use point::{Point, PointValue, SCOPE_NAME, sanitize_key, sanitize_name};
pub use standard::{StandardError, parse_standard};
#[doc(hidden)]
pub use tagged_route::{TaggedRequest, read_tagged_request};
