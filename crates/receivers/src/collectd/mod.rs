//! The `collectd` receiver: what collectd's `write_http` plugin posts with
//! `Format "JSON"`, as the Go Collector's `collectdreceiver` takes it.
//!
//! Each request is a JSON array of value lists
//! (`values`/`dstypes`/`dsnames`/`time`/`interval`/`host`/`plugin`/`plugin_instance`/
//! `type`/`type_instance`/`meta`); each value is one data point, named and typed as Go
//! does (see [`decode`]): `type.type_instance[.dsname]`, with `plugin`,
//! `plugin_instance`, `host` (and `dsname` for single-source lists) as attributes;
//! `derive` and `counter` make monotonic cumulative sums (started at `time - interval`),
//! `gauge` and `absolute` gauges. Notifications (with `severity` and `message`) are
//! skipped. Query parameters named with `attributes_prefix` become attributes of every
//! point of the request.
//!
//! Answers: `200 OK` once the pipeline took the data; `400` for a malformed JSON body (also
//! counted in `otelcol_receiver_failed_metric_points`), a method other than POST or an
//! unsupported `Content-Encoding`; `413` for a body over `max_request_body_size`; the
//! pipeline's refusals as `400` (permanent), `503` (retryable) or `429` (throttled) with
//! `Retry-After`.
//!
//! # Example
//!
//! ```yaml
//! receivers:
//!   collectd:
//!     endpoint: 0.0.0.0:8081
//!     attributes_prefix: dap_     # ?dap_env=prod adds env=prod
//!     timeout: 10s
//! ```
//!
//! with collectd's
//!
//! ```text
//! LoadPlugin write_http
//! <Plugin write_http>
//!   <Node "otel">
//!     URL "http://collector:8081/?dap_env=prod"
//!     Format "JSON"
//!   </Node>
//! </Plugin>
//! ```
//!
//! ```
//! use tributary_confmap::Conf;
//! use tributary_pipeline_core::component::ComponentConfig;
//! use tributary_receivers::collectd::Config;
//!
//! let config: Config = Conf::from_yaml("endpoint: 0.0.0.0:8081\nattributes_prefix: dap_")?.decode()?;
//! config.validate()?;
//! assert_eq!(config.encoding, "json");
//! assert_eq!(config.timeout, std::time::Duration::from_secs(30));
//! let refused: Config = Conf::from_yaml("encoding: command")?.decode()?;
//! assert!(refused.validate().is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Configuration
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | `localhost:8081` | `host:port` to listen on |
//! | `timeout` | `30s` | the server's read and write timeout (`0`: none); it replaces `read_timeout` and `write_timeout`, as in Go |
//! | `encoding` | `json` | only `json` (any case); anything else is refused, as Go refuses it |
//! | `attributes_prefix` | `""` | query parameters starting with it become attributes (prefix removed); empty: none |
//! | `tls`, `auth`, `max_request_body_size`, `compression_algorithms`, `response_headers`, `read_header_timeout`, `idle_timeout`, `keep_alives_enabled`, `max_connections` | | the HTTP server block, as in Go: see [`confighttp`](tributary_pipeline_core::confighttp) |
//! | `cors`, `include_metadata` | | refused: the receiver answers no CORS preflight and its data carries no client metadata |
//!
//! # Where Tributary differs
//!
//! - Go answers `200` with an empty body when the pipeline refuses the data, so collectd
//!   never retries; Tributary answers `400`/`503`/`429` as every receiver does.
//! - Go leaves the sums' temporality unspecified; Tributary makes them cumulative.
//! - A value list without `plugin_instance` or `host` is taken (Go's receiver dereferences
//!   a missing one).

mod config;
mod factory;
mod receiver;
mod record;
#[cfg(test)]
mod tests;

pub use config::{Config, DEFAULT_ENDPOINT, DEFAULT_TIMEOUT};
pub use factory::factory;
pub use record::{JsonError, decode};
