//! The `interval` processor: holds the latest point of every cumulative stream and sends
//! them all on once per `interval`, so a backend receives one point per stream per
//! interval however often the sources report. The keys, defaults and semantics are the
//! Go Collector's `intervalprocessor`.
//!
//! ```yaml
//! processors:
//!   interval:
//!     interval: 15s
//!     pass_through:
//!       gauge: false
//!       summary: true
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `interval` | `60s` | how often the held points are sent on; more than 0 |
//! | `pass_through::gauge` | `false` | gauges go straight through instead of being held |
//! | `pass_through::summary` | `false` | summaries go straight through instead of being held |
//!
//! Held: monotonic cumulative sums, cumulative histograms and exponential histograms, and
//! gauges and summaries unless passed through. Passed straight through, unchanged: every
//! delta metric and non-monotonic sums. A stream (resource, scope, metric name, unit,
//! kind, temporality and monotonicity, point attributes) keeps only its newest point (by
//! timestamp); after each send the state is empty, so a stream that stops reporting is
//! not sent again. At shutdown what is held is sent, and later data passes through.
//!
//! Deltas pass through as the Go README describes. Upstream's pull request #50922 (merged
//! September 2026) makes the Go processor sum deltas over the interval instead; that is
//! not done here yet: deltas still arrive whole downstream, only not reduced.
//!
//! State is bounded: at most 500,000 streams are held; points of further streams pass
//! through unaggregated (never dropped) and are counted in
//! `otelcol_processor_interval_streams_overflow` (a metric of ours; Go has no bound).
//! A failed send of the held points is logged (the Go processor does the same).
//!
//! ```
//! use tributary_processors::interval;
//!
//! assert_eq!(interval::factory().component_type(), "interval");
//! ```

mod config;
mod factory;
mod processor;
mod state;

#[cfg(test)]
mod tests;

pub use config::{Config, PassThrough};
pub use factory::factory;
