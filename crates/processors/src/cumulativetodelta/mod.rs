//! The `cumulativetodelta` processor: turns monotonic cumulative sums and cumulative
//! histograms into deltas, remembering each stream's previous point.
//!
//! ```yaml
//! processors:
//!   cumulativetodelta:
//!     include:
//!       metrics: ["^http_.*_total$"]
//!       match_type: regexp
//!     exclude:
//!       metric_types: [histogram]
//!     max_staleness: 1h
//!     initial_value: auto
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `include` | none: all | `metrics` (names, or patterns with `match_type: regexp`), `match_type` (`strict` or `regexp`, required with `metrics`), `metric_types` (`sum`, `histogram`), `regexp` (Go's cache settings, accepted without effect): the metrics converted |
//! | `exclude` | none | the same keys: the metrics not converted; wins over `include` |
//! | `max_staleness` | `0` (forever) | how long a stream's state lives after its last point |
//! | `initial_value` | `auto` | a stream's first point: `auto` sends it only if its start time is set, not before the processor started and not its timestamp (a counter born after the collector started); `keep` sends its value as the delta; `drop` remembers it and sends nothing |
//! | `max_streams` | 1000000 | (Tributary) most streams tracked (0: no limit); points of further streams are dropped and counted (stale streams are swept first to make room) |
//!
//! What Go does, this does: a stream is the resource, scope, metric (name, unit, type,
//! monotonicity), point attributes, start time and value type, compared in full (a hash
//! collision never merges two streams); each point's delta is its value minus the
//! previous one, with the previous point's time as start time. Non-monotonic sums, gauges,
//! summaries, exponential histograms and delta metrics pass untouched.
//!
//! | case | result |
//! |---|---|
//! | a sum goes down (a reset) | the point is dropped; the next one is a delta from it |
//! | a histogram's count goes down | the point is sent whole (the new run's value) |
//! | a histogram's bucket count changes | the point is dropped; the next one is a delta from it |
//! | a NaN double | passed untouched (Prometheus staleness) |
//! | a NaN histogram sum | the previous sum is kept |
//! | `no recorded value` flag | the point is dropped |
//! | not newer than the stream's previous point | dropped, state kept (Go would emit an interval ending before it starts) |
//!
//! Under `initial_value: keep` the first point keeps its own start time (Go sets it to 0).
//! Stale state is swept on the next request after `max_staleness` has passed; the
//! processor never starts a task of its own. It counts
//! `otelcol_cumulativetodelta_streams_tracked` and
//! `otelcol_cumulativetodelta_datapoints_dropped{reason}`.
//!
//! ```
//! use tributary_processors::cumulativetodelta;
//!
//! assert_eq!(cumulativetodelta::factory().component_type(), "cumulativetodelta");
//! ```

mod config;
mod converter;
mod factory;

#[cfg(test)]
mod tests;

pub use config::{Config, DEFAULT_MAX_STREAMS, InitialValue, MatchMetrics, MetricType};
pub use factory::factory;
