//! The `deltatocumulative` processor: accumulates delta sums, histograms and exponential
//! histograms into cumulative ones, keeping a running total per stream.
//!
//! ```yaml
//! processors:
//!   deltatocumulative:
//!     max_stale: 5m
//!     max_streams: 100000
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `max_stale` | `5m` | a stream without new points for this long is forgotten (must be positive); it starts over if it comes back |
//! | `max_streams` | 9223372036854775807 (no limit) | most streams tracked; points of further streams are dropped and counted (stale streams are swept first to make room) |
//!
//! What Go does, this does: the first delta of a stream is its total and keeps its start
//! time; each later delta is added, and the point sent is the total, from the stream's
//! start time to the delta's time. Cumulative metrics, gauges and summaries pass untouched.
//! A stream is the resource, scope, metric (name, unit, type, monotonicity, temporality)
//! and point attributes, compared in full: a hash collision never merges two streams.
//!
//! | case | result |
//! |---|---|
//! | start time before the stream's (an older run, or two senders of one stream) | dropped, counted `older_start` |
//! | time not after the stream's last point (out of order, duplicate) | dropped, counted `out_of_order` |
//! | a gap (a delta starting after the last one ended) | added: the missing deltas are unknown, the total is what arrived |
//! | a histogram's explicit bounds change | the total starts over from that point |
//! | exponential histograms of other scales | merged at the coarser scale, downscaled further so that at most 160 buckets are spanned; a wider zero threshold absorbs the buckets inside it |
//! | an exponential scale outside [-10, 20] | dropped, counted `invalid_scale` |
//! | `no recorded value` flag | passed on as is, the total unchanged |
//!
//! Stale streams are swept at most once a minute, from the next request (the processor
//! starts no task; an idle processor's state cannot grow). It counts
//! `otelcol_deltatocumulative_streams_tracked` and
//! `otelcol_deltatocumulative_datapoints_dropped{reason}`.
//!
//! ```
//! use tributary_processors::deltatocumulative;
//!
//! assert_eq!(deltatocumulative::factory().component_type(), "deltatocumulative");
//! ```

mod accumulator;
mod config;
mod exponential;
mod factory;

#[cfg(test)]
mod tests;

pub use config::Config;
pub use factory::factory;
