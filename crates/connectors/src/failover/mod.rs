//! The `failover` connector: sends data to the first healthy level of a priority list of
//! pipelines, falls to the next level when one fails, and goes back up when a higher level
//! accepts data again. With the Go failover connector's keys and defaults.
//!
//! ```yaml
//! connectors:
//!   failover:
//!     priority_levels:
//!       - [traces/primary]
//!       - [traces/secondary, traces/audit]
//!     retry_interval: 1m
//! exporters:
//!   otlp/primary:
//!     endpoint: primary:4317
//!     # Failover sees an export failure only if the exporter reports it: no queue in
//!     # front of it, and no retries that outlast the request.
//!     sending_queue: { enabled: false }
//!     retry_on_failure: { enabled: false }
//!   otlp/secondary: { endpoint: secondary:4317 }
//! service:
//!   pipelines:
//!     traces:           { receivers: [otlp], exporters: [failover] }
//!     traces/primary:   { receivers: [failover], exporters: [otlp/primary] }
//!     traces/secondary: { receivers: [failover], exporters: [otlp/secondary] }
//!     traces/audit:     { receivers: [failover], exporters: [otlp/secondary] }
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `priority_levels` | required | levels of pipelines, highest priority first; every pipeline of a level gets the data, and the level fails if any of them does |
//! | `retry_interval` | `10m` | how often, while a lower level takes the data, one batch is tried on the levels above it first |
//! | `failover_mode` | `standard` | `standard`: stay on the level that last accepted data and try the levels above it once every `retry_interval`; `progressive`: every batch starts at the highest level and falls down until one accepts it |
//! | `retry_gap` | | deprecated in Go (contrib PR #38064) and ignored here (a warning says so) |
//! | `max_retries` | | deprecated in Go (contrib PR #38064) and ignored here (a warning says so); higher levels are retried for as long as they fail |
//!
//! | exporter pipeline | receiver pipeline | stability |
//! |---|---|---|
//! | traces | traces | development |
//! | metrics | metrics | development |
//! | logs | logs | development |
//!
//! **Behaviour.** A batch goes to the current level (at first the highest). If that level
//! fails, the same batch goes to the next, and so on; the first level that accepts it
//! becomes the current level. Once every `retry_interval`, one batch is first offered to
//! the levels above the current one, highest first: the first that accepts it becomes the
//! current level again (Go's behaviour since it retries with single batches instead of
//! probing whole levels). If every level fails, the call fails with every level's error,
//! retryable if any of them was.
//!
//! A level that failed part-way (one of its pipelines accepted the batch) still counts as
//! failed, and the next level gets the batch too: data may be duplicated across levels,
//! never lost. Every pipeline of the list must list this connector as a receiver.
//!
//! The newest Go versions can also put a `sending_queue` in front of the connector; that
//! key is not supported here (put the queue on the exporters of the levels instead).

mod config;
mod connector;
mod factory;
#[cfg(test)]
mod tests;

pub use config::{Config, FailoverMode};
pub use factory::factory;
