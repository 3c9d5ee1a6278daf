//! The `falcon_align` processor: Open-Falcon transfer's step alignment (seed-systems §1.5).
//!
//! Each data point's step is read from its `step` attribute (as the `falcon` receiver
//! keeps it), else `default_step`; it is raised to `min_step` (Falcon transfer's
//! `minStep`, 30 s), and the point's time becomes `ts - ts % step`: the start of its step
//! slot, as transfer aligns graph, judge and p8s items. Where the step was raised, the
//! step attribute is rewritten to the raised step (keeping its type), since transfer hands
//! graph the clamped step and the step names the series. Points of every kind are aligned;
//! their start times are left alone. Falcon transfer leaves the timestamps of items for
//! OpenTSDB and InfluxDB raw: run those exporters in a pipeline without this processor.
//!
//! ```yaml
//! processors:
//!   falcon_align:
//!     min_step: 30s
//!     default_step: 60s
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `step_attribute` | `step` | data point attribute with the step in seconds (int, double or decimal string) |
//! | `default_step` | `60s` | step of a point without a valid step attribute; `0s` leaves such points alone |
//! | `min_step` | `30s` | smaller steps are raised to this first; `0s`: no clamp |
//! | `metrics` | `[]` | align only these metrics (exact names); empty: all |

mod align;
mod config;
mod factory;
#[cfg(test)]
mod tests;

pub use config::Config;
pub use factory::factory;
