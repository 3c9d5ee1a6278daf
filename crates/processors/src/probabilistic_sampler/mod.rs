//! The `probabilistic_sampler` processor: keeps a percentage of spans or log records,
//! decided per item from its trace ID (or an attribute), as the Go Collector's
//! `probabilisticsamplerprocessor` does — the same decisions for the same trace IDs.
//!
//! ```yaml
//! processors:
//!   probabilistic_sampler:
//!     sampling_percentage: 15.3
//!     mode: proportional        # or equalizing, hash_seed
//!     sampling_precision: 4
//!   probabilistic_sampler/logs:
//!     sampling_percentage: 10
//!     mode: hash_seed
//!     hash_seed: 22
//!     attribute_source: record
//!     from_attribute: logID
//!     sampling_priority: priority
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `sampling_percentage` | `0` | percentage kept; above 100 means 100; a float32 as in Go |
//! | `hash_seed` | `0` | seed of the `hash_seed` mode's FNV hash; setting it selects that mode when `mode` is unset |
//! | `mode` | unset | `hash_seed`, `equalizing` or `proportional`; unset is `hash_seed` when `hash_seed` is set (or, for logs, `attribute_source: record`), else `proportional` |
//! | `fail_closed` | `true` | drop items without randomness or with an invalid or inconsistent trace state (else keep them) |
//! | `sampling_precision` | `4` | hex digits of the `th` thresholds written, 1–14 |
//! | `attribute_source` | `traceID` | logs: `traceID` or `record` (hash `from_attribute`) |
//! | `from_attribute` | `""` | logs: the record attribute hashed when there is no trace ID, or with `record` |
//! | `sampling_priority` | `""` | logs: a record attribute holding that record's minimum percentage; 0 drops it |
//!
//! ## Modes
//!
//! - `hash_seed`: Go's legacy FNV-1a (32-bit) hash of the seed (4 bytes, little endian)
//!   and the trace ID; the low 14 bits are a bucket, kept when below
//!   `⌊sampling_percentage × 163.84⌋` (computed in float32 as Go does). The decision is
//!   expressed as OpenTelemetry randomness and threshold, so a kept span's trace state
//!   gets `ot=rv:<hash randomness>;th:<threshold>`. A span arriving with an `rv` or `th`
//!   is an error in this mode (`fail_closed` decides).
//! - `equalizing` and `proportional`: OpenTelemetry consistent probability sampling. The
//!   randomness is the trace state's `rv`, else the trace ID's last 56 bits; the
//!   threshold is `th`. `equalizing` samples at the configured probability; items
//!   already sampled at a lower probability pass when their randomness allows.
//!   `proportional` multiplies the arriving probability (`th`) by the configured one.
//!   A kept span's `th` is updated (never to a higher probability); a kept log record
//!   gets the `sampling.threshold` attribute (and `sampling.randomness` carries `rv`).
//!
//! A span attribute `sampling.priority` (int, double or numeric string) of 0 drops the
//! span, above 0 keeps it, whatever the mode.
//!
//! Metrics: `otelcol_processor_probabilistic_sampler_count_traces_sampled` and
//! `..._count_logs_sampled`, labelled `sampled="true"|"false"`.

mod config;
mod factory;
mod sampler;
#[cfg(test)]
mod tests;

pub use config::{AttributeSource, Config, Mode};
pub use factory::factory;
