//! Builders: assemble a [`Metrics`](super::Metrics) or [`Logs`](super::Logs) batch from
//! plain values, for receivers of non-OTLP protocols (Prometheus, StatsD, InfluxDB,
//! syslog, ...).
//!
//! A builder is flat: [`resource`](MetricsBuilder::resource) starts a resource,
//! [`scope`](MetricsBuilder::scope) starts an instrumentation scope in it, and every metric
//! or log record goes into the scope started last (a default resource and scope are
//! created if none was started). Points and records are pushed straight into the OTLP
//! request, so a batch costs no allocation beyond its data (the attribute lists, strings
//! and bucket vectors the caller hands over) and the vectors' amortised growth.
//!
//! Values follow the OTLP data model and are checked where a mistake would be silent:
//! a histogram needs one more bucket count than bounds and increasing bounds, and its
//! `count` is the sum of its bucket counts ([`PointError`]).

mod logs;
mod metrics;

pub use logs::{LogRecordBuilder, LogsBuilder};
pub use metrics::{
    ExponentialHistogramBuilder, ExponentialHistogramValue, GaugeBuilder, HistogramBuilder,
    HistogramValue, MetricsBuilder, SumBuilder, SummaryBuilder, SummaryValue, Temporality,
};

use super::proto::common::v1::InstrumentationScope;

/// Why a data point was refused: its value breaks an OTLP data model rule.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PointError {
    /// A histogram needs one bucket count per bound, plus one for the overflow bucket.
    #[error(
        "a histogram with {bounds} bounds needs {} bucket counts, got {bucket_counts}",
        bounds + 1
    )]
    BucketCounts {
        /// Number of explicit bounds.
        bounds: usize,
        /// Number of bucket counts given.
        bucket_counts: usize,
    },
    /// Histogram bounds must be strictly increasing (and not NaN).
    #[error("histogram bounds must be strictly increasing, got {0:?}")]
    Bounds(Vec<f64>),
    /// An exponential histogram's scale must be within -10..=20.
    #[error("exponential histogram scale {0} is outside -10..=20")]
    Scale(i32),
    /// A summary quantile must be within 0..=1.
    #[error("summary quantile {0} is outside 0..=1")]
    Quantile(f64),
}

/// An instrumentation scope from its name and version (either may be empty).
fn scope(name: &str, version: &str) -> InstrumentationScope {
    InstrumentationScope {
        name: name.to_owned(),
        version: version.to_owned(),
        ..Default::default()
    }
}
