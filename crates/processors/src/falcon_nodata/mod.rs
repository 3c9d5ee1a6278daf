//! The `falcon_nodata` processor: Open-Falcon's nodata, absence detection for configured
//! series (seed-systems §1.7).
//!
//! Each `series` entry is one Falcon nodata row: a metric name and attributes (Falcon's
//! endpoint and tags, on the resource or the data points), the step, and the `mock` value.
//! Every distinct series matching an entry (the first entry that matches) is watched: its
//! last point's time is remembered as data passes through, unchanged. Every
//! `check_interval` the processor judges as Falcon's nodata judge does:
//! - the **timeout** is `180 s` for steps under 60 s and `3 × step` otherwise, i.e.
//!   `max(3 × step, 180 s)`; a series is absent when its last point is older than
//!   `now − timeout`;
//! - an absent series gets **one point at `now − now % step − 2 × step`** — two steps back,
//!   so it never overwrites real data — carrying the `mock` value, or, without `mock`, a
//!   **staleness marker** (flag `FLAG_NO_RECORDED_VALUE`, value Prometheus' stale NaN);
//! - while it stays absent it gets another point once per step (Falcon re-marks a series
//!   whose last value equals the mock, unless marked within the last step); a new point of
//!   the series ends the absence.
//!
//! The point has the series' last point's resource, metric (a gauge, or a sum of the same
//! temporality) and attributes, under the scope `falcon_nodata`, and is sent to the next
//! consumer by the processor's own task; a refusal is logged and counted. Times are the
//! points' timestamps (Falcon compares graph's last point with the clock): a series whose
//! source's clock runs behind is judged by that clock; a point without a time counts as
//! seen when it passes. Gauges and sums are watched; histograms and summaries are not.
//!
//! **State**: one entry per watched series (its last time and the shape of its point),
//! at most `max_series`; points of further series pass untracked and are counted. On a
//! reload that changes this processor's config, the new instance takes the state over
//! from the old one (`CreateSettings::carried_over`): the series its rows still select
//! carry on with their last-seen times, under the new rows' steps and mock values, and the
//! series no row selects any more are dropped. Only series seen since the collector
//! started can be found absent; Falcon's collector reads the last points from graph
//! instead.
//!
//! Own metrics (label `processor`): `otelcol_processor_falcon_nodata_points` (emitted),
//! `_send_failed_points`, `_untracked_points`, and the gauge `_series`.
//!
//! ```yaml
//! processors:
//!   falcon_nodata:
//!     check_interval: 60s
//!     series:
//!       - metric: agent.alive
//!         attributes: { host.name: host-01 }
//!         step: 60s
//!         mock: -1
//!       - metric: cpu.idle        # every host: one series per host, staleness markers
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `series` | `[]` | the rows: which series to watch and what to emit |
//! | `series[].metric` | required | metric name (exact) |
//! | `series[].attributes` | `{}` | attribute values a series must have (resource or data point) |
//! | `series[].step` | from `step_attribute` | the series' step (whole seconds) |
//! | `series[].mock` | none | value of the emitted point; none: a staleness marker |
//! | `check_interval` | `60s` | how often absent series are looked for |
//! | `step_attribute` | `step` | data point attribute with the step in seconds |
//! | `default_step` | `60s` | step when neither the row nor the point gives one |
//! | `max_series` | `10000` | most series watched at once |

mod absence;
mod config;
mod factory;
mod processor;
#[cfg(test)]
mod tests;

pub use config::{Config, SeriesSelector};
pub use factory::factory;
