//! Builders: assemble a [`Metrics`](super::Metrics), [`Logs`](super::Logs) or
//! [`Traces`](super::Traces) batch from plain values, for receivers of non-OTLP protocols
//! (Prometheus, StatsD, InfluxDB, syslog, Zipkin, ...).
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
mod point_value;
mod traces;

pub use logs::{LogRecordBuilder, LogsBuilder};
pub use metrics::{
    ExponentialHistogramBuilder, GaugeBuilder, HistogramBuilder, MetricsBuilder, PointBuilder,
    PointValue, SumBuilder, SummaryBuilder, Temporality,
};
pub use point_value::{ExponentialHistogramValue, HistogramValue, SummaryValue};
pub use traces::{SpanBuilder, TracesBuilder};

use super::payload::Payload;
use super::proto::common::v1::{InstrumentationScope, KeyValue};
use super::proto::resource::v1::Resource;
use super::visit::layout::{Layout, ResourceEntry, ScopeEntry};

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

/// A request being built: records go into the scope started last, in the resource started
/// last, either created empty when none was started.
#[derive(Debug, Default)]
struct Batch<R> {
    request: R,
}

impl<R: Layout> Batch<R> {
    fn resource(&mut self, attributes: Vec<KeyValue>) {
        let mut entry = R::ResourceEntry::default();
        *entry.resource_mut() = Some(Resource {
            attributes,
            ..Default::default()
        });
        self.request.entries_mut().push(entry);
    }

    fn scope(&mut self, name: &str, version: &str) {
        let mut entry = R::ScopeEntry::default();
        *entry.scope_mut() = Some(InstrumentationScope {
            name: name.to_owned(),
            version: version.to_owned(),
            ..Default::default()
        });
        self.current_scopes().push(entry);
    }

    /// Appends `record` to the current scope and returns it, to be filled in.
    fn push(&mut self, record: R::Record) -> &mut R::Record {
        let (_, records) = last_or_default(self.current_scopes()).split_mut();
        push_last(records, record)
    }

    fn item_count(&self) -> usize {
        self.request.item_count()
    }

    fn build(self) -> Payload<R> {
        Payload::new(self.request)
    }

    fn current_scopes(&mut self) -> &mut Vec<R::ScopeEntry> {
        let (_, scopes) = last_or_default(self.request.entries_mut()).split_mut();
        scopes
    }
}

/// The last item, after adding a default one to an empty vector.
fn last_or_default<T: Default>(items: &mut Vec<T>) -> &mut T {
    if items.is_empty() {
        items.push(T::default());
    }
    let index = items.len() - 1;
    &mut items[index]
}

/// Appends `item` and returns it.
fn push_last<T>(items: &mut Vec<T>, item: T) -> &mut T {
    items.push(item);
    let index = items.len() - 1;
    &mut items[index]
}

/// Now, in nanoseconds since the Unix epoch: the time of a data point or record that
/// carries none of its own. 0 if the clock is before the epoch.
pub fn now_unix_nano() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
        })
}
