//! The `falcon_rate` processor: Open-Falcon's COUNTER semantics, turning counters into
//! per-second rates the way Falcon graph stores them (seed-systems §1.6).
//!
//! For each series (resource attributes, metric name and data point attributes, so a
//! changed `step` starts a new series as in Falcon's RRD file names), a point gives
//! `(v − v_prev) / (t − t_prev)` per second, with `t` the points' timestamps:
//! - the series' **first point gives nothing** (there is nothing to compare it with);
//! - a **reset** (`v < v_prev`) gives nothing — Falcon's RRD `DERIVE` has `min=0`, so a
//!   reset is unknown, never a negative spike — and the new value is the next baseline;
//! - points further apart than **`heartbeat_steps` × step** (Falcon's RRD heartbeat,
//!   `2 × step`) give nothing, and the later point is the next baseline; within the
//!   heartbeat, irregular intervals divide by the real Δt;
//! - a point not newer than the series' last one (late, or a duplicate) gives nothing and
//!   leaves the state alone;
//! - with `truncate_to_int`, values are truncated to integers before the difference, as
//!   Falcon graph does (`int(value)`) before its RRD update.
//!
//! Converted metrics become gauges of doubles (the rate); their points keep their
//! timestamps and attributes, and `counterType`, if present, reads `GAUGE`. Points that
//! give no rate are dropped and counted in `otelcol_processor_falcon_rate_dropped_points`
//! (labels `processor`, `reason`).
//!
//! Which metrics are counters: cumulative monotonic sums — what the `falcon` receiver
//! makes of `COUNTER` and `DERIVE` items, with their `step` as a data point attribute —
//! plus the metrics named in `metrics` and those whose points carry
//! `counterType: COUNTER|DERIVE`. Deltas, histograms and summaries are never touched.
//!
//! Falcon graph aligns points to step slots before its RRD computes the rate; put
//! `falcon_align` before this processor for the same slots. The state is the last point
//! of each series, bounded by `max_series` and `max_stale`; a reload that changes this
//! processor's config hands it to the new instance, so no series loses a rate to the
//! reload (series the new config no longer converts go stale and are forgotten).
//!
//! ```yaml
//! processors:
//!   falcon_align: {}
//!   falcon_rate:
//!     metrics: [net.if.in.bytes]     # counters sent as gauges
//!     truncate_to_int: false
//! service:
//!   pipelines:
//!     metrics:
//!       receivers: [falcon]
//!       processors: [falcon_align, falcon_rate]
//!       exporters: [otlp]
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `cumulative_sums` | `true` | convert cumulative monotonic sums |
//! | `metrics` | `[]` | also convert these metrics (exact names), gauges included |
//! | `counter_type_attribute` | `counterType` | also convert metrics whose points have this attribute at `COUNTER` or `DERIVE`; empty: off |
//! | `step_attribute` | `step` | data point attribute with the series' step in seconds |
//! | `default_step` | `60s` | step of a series without a valid step attribute |
//! | `heartbeat_steps` | `2` | points further apart than this many steps give no rate; 0: no limit |
//! | `truncate_to_int` | `false` | truncate values to integers first (Falcon graph's `int(value)`) |
//! | `max_series` | `100000` | most series remembered; a point of a further one is dropped and counted |
//! | `max_stale` | `15m` | forget a series not seen for this long; 0: never |

mod config;
mod factory;
mod rate;
#[cfg(test)]
mod tests;

pub use config::Config;
pub use factory::factory;
