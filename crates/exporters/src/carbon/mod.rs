//! The `carbon` exporter: metrics to Graphite's Carbon over its plaintext protocol, as the
//! Go Collector's `carbonexporter` sends them.
//!
//! Each batch becomes `<path> <value> <timestamp>` lines (see [`to_plaintext`] for the
//! mapping: attributes as `;key=value` tags, histograms and summaries as `.count`, sum,
//! `.bucket;upper_bound=` and `.quantile;quantile=` series), written over a TCP
//! connection from a pool. A connection is reused while it works; one that fails is
//! closed and the next attempt opens a new one, and one the server closed while idle is
//! noticed before it is written to. A failed batch is retryable: the exporter helper's
//! queue and retries (`sending_queue`, `retry_on_failure`) carry it until Carbon is back.
//!
//! # Example
//!
//! ```yaml
//! exporters:
//!   carbon:
//!     endpoint: graphite.internal:2003
//!     timeout: 10s
//!     max_idle_conns: 10
//!     sending_queue:
//!       num_consumers: 10
//!     retry_on_failure:
//!       max_elapsed_time: 10m
//! ```
//!
//! ```
//! use tributary_confmap::Conf;
//! use tributary_exporters::carbon::Config;
//! use tributary_pipeline_core::component::ComponentConfig;
//!
//! let config: Config = Conf::from_yaml("endpoint: graphite.internal:2003\ntimeout: 10s")?.decode()?;
//! config.validate()?;
//! assert_eq!(config.max_idle_conns, 100);
//! assert_eq!(config.helper.timeout, std::time::Duration::from_secs(10));
//! assert!(Conf::from_yaml("endpoint: nowhere")?.decode::<Config>()?.validate().is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Configuration
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | `localhost:2003` | `host:port` of Carbon's plaintext (line) receiver; a host name is looked up when connecting |
//! | `timeout` | `5s` | deadline of one attempt: connecting and writing the batch |
//! | `dialer::timeout` | `0` | deadline of connecting alone; `0`: `timeout` bounds it |
//! | `max_idle_conns` | `100` | connections kept open between exports (`0`: none, a connection per export); set it to `sending_queue::num_consumers` |
//! | `resource_to_telemetry_conversion::enabled` | `false` | resource attributes become tags of every point |
//! | `sending_queue`, `retry_on_failure` | enabled | the exporter helper's queue and retries, as in Go |
//!
//! # Where Tributary differs
//!
//! - Go writes into a pooled connection the server has closed, and that batch is lost
//!   without an error; Tributary checks a pooled connection before writing to it.
//! - Whitespace in names and tags, and `;` in names, become `_` (Go writes them as they
//!   are, which splits or corrupts the line).

mod config;
mod exporter;
mod factory;
mod plaintext;
#[cfg(test)]
mod tests;

pub use config::{Config, DEFAULT_ENDPOINT, DEFAULT_MAX_IDLE_CONNS, ResourceToTelemetryConfig};
pub use factory::factory;
pub use plaintext::to_plaintext;
