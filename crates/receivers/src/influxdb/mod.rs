//! The `influxdb` receiver: InfluxDB line protocol over HTTP, as InfluxDB 1.x (`/write`)
//! and 2.x (`/api/v2/write`) take it, turned into metrics the way the Go Collector's
//! `influxdbreceiver` does. Telegraf's `outputs.influxdb` and `outputs.influxdb_v2`, the
//! InfluxDB client libraries and anything else that writes to InfluxDB can write here.
//!
//! ```yaml
//! receivers:
//!   influxdb:
//!     endpoint: 0.0.0.0:8086
//! service:
//!   pipelines:
//!     metrics: { receivers: [influxdb], exporters: [debug] }
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | `localhost:8086` | where to listen |
//! | `tls`, `auth`, `max_request_body_size`, `compression_algorithms`, `include_metadata`, `read_timeout`, `write_timeout`, ... | as [`confighttp`](tributary_pipeline_core::confighttp) | the HTTP server block, Go's `confighttp.ServerConfig`; `write_timeout` answers `503` when the pipeline has not answered in time |
//! | `cors` | unset | refused: browsers do not write line protocol |
//!
//! # The API
//!
//! | request | answer |
//! |---|---|
//! | `POST /write?db=&rp=&precision=` | InfluxDB 1.x; `precision` is `n`/`ns` (default), `u`/`us`/`µ`/`µs`, `ms`, `s`, `m` or `h`; `db`, `rp`, `u`, `p` are ignored |
//! | `POST /api/v2/write?org=&bucket=&precision=` | InfluxDB 2.x; `precision` is `ns` (default), `us`, `ms` or `s`; `org` and `bucket` are ignored |
//! | `GET /ping` (or `HEAD`) | `204` |
//!
//! A write answers `204` once the pipeline took the points. A body that is not line
//! protocol (or not one this mapping can take, such as one metric name used for a gauge
//! and a histogram) gets `400` with InfluxDB 2.x's error body naming the first bad line,
//! `{"code":"invalid","message":"line 2: ...","line":2}`, and nothing of it is delivered.
//! `Content-Encoding: gzip` (and the others `compression_algorithms` lists) is
//! decompressed within `max_request_body_size` (else `413`). When the pipeline refuses:
//! `400` if retrying cannot help, else `503` (`429` when throttled) with `Retry-After`.
//! The Go receiver answers `500` there; a client retries a 5xx either way.
//!
//! # From line protocol to metrics
//!
//! The schema is detected per line, as `influx2otel` (InfluxData's converter, which the
//! Go receiver uses) does:
//!
//! | line | metric |
//! |---|---|
//! | `cpu_temp,host=a gauge=87.3` (Telegraf `prometheus-v1`) | gauge `cpu_temp` |
//! | `http_requests_total,code=200 counter=1027` | cumulative monotonic sum `http_requests_total` |
//! | `latency 0.1=3,0.5=7,sum=2.5,count=9` | histogram `latency`, bounds from the numeric field names |
//! | `prometheus,host=a cpu_temp=87.3` (Telegraf `prometheus-v2`) | gauge `cpu_temp` |
//! | `prometheus,le=0.5 latency_bucket=7` + `prometheus latency_count=9,latency_sum=2.5` | one histogram point, from every line with the same time and tags |
//! | anything else: `mem,host=a used=3i,free=5.5` | one gauge per numeric field: `mem_used`, `mem_free`; string and boolean fields are left out |
//!
//! Tags become data point attributes, except: tags of the OpenTelemetry resource
//! namespaces (`service.*`, `host.*`, `k8s.*`, `cloud.*`, ...) go to the resource;
//! `otel.library.name` and `otel.library.version` name the scope; `temporality=delta`
//! makes a sum or histogram a delta. A summary's quantile lines read as histogram
//! buckets, as in Go. A `start_time` string field (RFC 3339, Telegraf's statsd) is the
//! point's start time. A line without a timestamp gets the time it arrived.
//!
//! Two differences from Go, on purpose: `prometheus-v2` histogram buckets are sorted and
//! turned into per-bucket counts (Go keeps them in arrival order and cumulative, which is
//! not valid OTLP); and the resource namespaces are matched by prefix, as `influx2otel`
//! did before it listed every semantic-convention name.
//!
//! # Parser
//!
//! Lines are parsed by [`influxdb-line-protocol`](https://docs.rs/influxdb-line-protocol),
//! InfluxData's own Rust parser (from InfluxDB IOx, ported from the Go one), maintained
//! by the InfluxDB authors. [`parse_line_protocol`] is the decoder alone (for fuzzing).

mod config;
mod convert;
mod factory;
mod parse;
mod receiver;

#[cfg(test)]
mod tests;

pub use config::{Config, DEFAULT_ENDPOINT};
pub use factory::factory;
pub use parse::{LineError, Precision, parse_line_protocol};
