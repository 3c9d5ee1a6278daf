//! The `metricstarttime` processor: sets the start time of cumulative points that have
//! none (typically from Prometheus sources).
//!
//! ```yaml
//! processors:
//!   metricstarttime:
//!     strategy: true_reset_point
//!     gc_interval: 10m
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `strategy` | `true_reset_point` | `true_reset_point`, `subtract_initial_point` or `start_time_metric` (below) |
//! | `gc_interval` | `10m` | streams not seen for this long are forgotten (checked once per interval); one that comes back starts anew |
//! | `start_time_metric_regex` | `""`: `^process_start_time_seconds$` | with `start_time_metric` only: the name pattern of the metric holding the start time, in seconds |
//! | `max_streams` | 1000000 | (Tributary) most streams tracked (0: no limit); points of further streams pass on without a start time, counted in `otelcol_metricstarttime_datapoints_unadjusted{reason="stream_limit"}` |
//!
//! Only cumulative points (sums, histograms, exponential histograms, summaries) whose
//! start time is 0 are touched; everything else passes untouched.
//!
//! - `true_reset_point`: a stream's first point is a *true reset point*: its start time is
//!   its own time, and later points keep that start until the value (the count for
//!   distributions, or the sum at an unchanged count) goes down, whose point starts a new
//!   run. This is the Prometheus translator's
//!   [`StartTimeAdjuster`](tributary_translator_prometheus::to_otlp::StartTimeAdjuster),
//!   the same one the Prometheus receivers use, keyed by OTLP stream.
//! - `subtract_initial_point`: a stream's first point is dropped and remembered; later
//!   points carry its time as start time and their values minus its values (counts, sums,
//!   buckets; summary quantiles stay as observed; min and max are removed). After a reset
//!   the new run starts at the previous point's time, from zero. A histogram whose bucket
//!   layout (count of buckets, or exponential scale) changes is taken as a new initial
//!   point and dropped.
//! - `start_time_metric`: every such point of a resource gets the value of the resource's
//!   start-time metric (the first point of the first gauge or sum whose name matches) as
//!   its start time; a resource without one falls back to `true_reset_point`.
//!
//! A stream is the resource, scope, metric and point attributes, compared in full. State
//! is swept from requests, never by a task of the processor, once per `gc_interval`; the
//! reset adjuster measures a stream's age in the data's own time (against the newest
//! point it saw), so a sender whose clock is off neither wipes nor pins the state. It counts
//! `otelcol_metricstarttime_streams_tracked` and
//! `otelcol_metricstarttime_datapoints_dropped{reason="initial_point"}`.
//!
//! ```
//! use tributary_processors::metricstarttime;
//!
//! assert_eq!(metricstarttime::factory().component_type(), "metricstarttime");
//! ```

mod adjuster;
mod config;
mod factory;
mod subtract;

#[cfg(test)]
mod tests;

pub use config::{Config, DEFAULT_MAX_STREAMS, DEFAULT_START_TIME_METRIC, Strategy};
pub use factory::factory;
