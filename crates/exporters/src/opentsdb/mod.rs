//! The `opentsdb` exporter: metrics to an OpenTSDB TSD, over its HTTP `/api/put` (with
//! `details`, so only the points that failed are sent again) or as telnet `put` lines.
//! There is no Go Collector exporter for OpenTSDB; the contract is the TSD's
//! (opentsdb.net `api_http/put`, `api_telnet/put`). No TSD is installable here, so the
//! tests run against a server written in the tests that implements that documented
//! contract (204, 400 with `details`, 5xx).
//!
//! ```yaml
//! exporters:
//!   opentsdb:
//!     endpoint: http://tsd:4242
//!     max_points_per_request: 50
//!   opentsdb/telnet:
//!     endpoint: tsd:4242
//!     protocol: telnet
//! service:
//!   pipelines:
//!     metrics: { receivers: [otlp], exporters: [opentsdb] }
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | required | the TSD's URL (`/api/put` is added when it has no path); with `protocol: telnet`, `host:port` |
//! | `protocol` | `http` | `http` or `telnet` |
//! | `max_points_per_request` | `50` | points per `/api/put` request (OpenTSDB's advice) |
//! | `resource_to_telemetry_conversion::enabled` | `false` | every resource attribute as a tag of every point |
//! | `timeout` | `5s` | one request (or connecting and writing, for telnet) |
//! | `headers`, `tls`, `compression` (none), `auth`, `proxy_url`, pool keys | as the HTTP client block | HTTP only; `auth` with telnet is refused |
//! | `retry_on_failure`, `sending_queue` | as the exporter helper | |
//!
//! # Sending
//!
//! Over HTTP, a batch is cut into requests of `max_points_per_request` points, each sent
//! to `/api/put?details`:
//!
//! | answer | what happens |
//! |---|---|
//! | `2xx` | stored |
//! | `400` with the `details` body | each failed point is matched to what was sent (metric, timestamp, tags): a storage error (`HBase`, `storage`, `timeout`, `throttle`, ...) is kept to send again, any other (a bad name, too many tags) is dropped and counted in `otelcol_exporter_opentsdb_rejected_points`; the rest of the request was stored |
//! | `429` / `5xx` / no answer | the request's points are kept to send again (`Retry-After` honoured) |
//! | other `4xx` | dropped and counted; the batch fails permanently when nothing of it was stored |
//!
//! What is kept to send again is remembered with the batch, and the exporter helper's
//! retry of that batch sends only those points (up to 64 batches remembered, one per
//! queue consumer being enough; a batch past that, or re-read from a persistent queue
//! after a restart, is sent whole, and a TSD stores a point written twice once).
//!
//! Over telnet, every point is one `put` line on a kept connection. The TSD answers only
//! errors: they are logged, never matched to points, and a failed write sends the batch
//! again whole.
//!
//! # From metrics to points
//!
//! | metric | points |
//! |---|---|
//! | gauge, sum | one per data point, integers kept as integers |
//! | histogram | `<name>.count`, `<name>.sum`, and `<name>.bucket` per bucket, cumulative, tagged `le` (`inf` for the last) |
//! | exponential histogram | `<name>.count`, `<name>.sum` |
//! | summary | `<name>.count`, `<name>.sum`, and `<name>` per quantile, tagged `quantile` |
//!
//! Data point attributes are the tags. Names and tags are cut to what a TSD takes: every
//! character other than ASCII letters and digits, `-_./` and Unicode letters becomes `_`;
//! a tag with an empty key or value is left out; a point without tags (a TSD refuses
//! those) gets `service.name=<the resource's>` or else `source=tributary`. The timestamp
//! is in seconds, or milliseconds when the time has a fraction of a second. Points with
//! no time, no recorded value, or a NaN or infinite value are left out and counted in
//! `otelcol_exporter_opentsdb_dropped_points`. More tags than the TSD's `max_tags` are
//! sent as they are; the TSD refuses such points and they are counted as rejected.

mod config;
mod exporter;
mod factory;
mod points;

#[cfg(test)]
mod tests;

pub use config::{Config, DEFAULT_MAX_POINTS_PER_REQUEST, Protocol, ResourceToTelemetryConfig};
pub use factory::factory;
pub use points::{Converted, FALLBACK_TAG, TsdbPoint, TsdbValue, sanitize, to_points};
