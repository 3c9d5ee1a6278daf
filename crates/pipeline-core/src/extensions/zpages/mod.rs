//! `zpages`: HTML pages about the running collector, as the Go Collector's zpages
//! extension serves them.
//!
//! | page | shows |
//! |---|---|
//! | `/debug/servicez` | command, version, process ID, start time, uptime, the last reload |
//! | `/debug/pipelinez` | every pipeline, its status, and its receivers, processors and exporters with theirs |
//! | `/debug/extensionz` | every extension and its status |
//! | `/debug/featurez` | every feature gate: enabled, stage, description, versions, reference |
//! | `/debug/tracez` | the collector's own spans (one per receive and per export) by name, counted in Go's latency buckets (>0s, >10µs, … >100s) and errors; each count links to the latest samples |
//! | `/debug/expvarz` | with `expvar::enabled`: the command line and every internal metric (summed over its series) as JSON, in place of Go's runtime variables |
//!
//! ```yaml
//! extensions:
//!   zpages:                       # 127.0.0.1:55679
//!   zpages/public:
//!     endpoint: 0.0.0.0:55679
//!     expvar: { enabled: true }
//! service:
//!   extensions: [zpages]
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | `127.0.0.1:55679` | where to listen: `ip:port`, `[ipv6]:port`, `host-name:port`, `:port`, or a socket path with `transport: unix` |
//! | `expvar::enabled` | `false` | serve `/debug/expvarz` |
//! | `tls`, `auth`, `response_headers`, `max_connections`, timeouts, ... | | the rest of Go's HTTP server block ([`HttpServerConfig`](crate::confighttp::HttpServerConfig)), as in Go's zpages: TLS, an authenticator extension (401 without valid credentials), headers on every answer |
//! Spans are recorded only while `service::telemetry::traces::level` is not `none`; the
//! span store keeps at most 1024 span names and 5 samples per cell, so its memory is
//! bounded whatever components record.

mod config;
mod extension;
mod factory;
mod pages;
mod spans;

pub use config::{Config, DEFAULT_ENDPOINT, Expvar};
pub use extension::ZPages;
pub use factory::factory;
