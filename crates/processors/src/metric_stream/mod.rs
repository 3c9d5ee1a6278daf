//! Metric stream identity and bounded per-stream state, shared by the stateful temporality
//! processors ([`cumulativetodelta`](crate::cumulativetodelta),
//! [`deltatocumulative`](crate::deltatocumulative),
//! [`metricstarttime`](crate::metricstarttime)).
//!
//! A stream is what the OTLP data model calls one: the resource, the scope, the metric's
//! name, unit, type, monotonicity and temporality, and the data point's attributes. Its
//! [`StreamId`] is a canonical byte encoding of all of these (attributes sorted by key,
//! each part length-prefixed), so two streams are equal exactly when their identities are:
//! the map hashes that encoding with std's keyed SipHash (a peer cannot aim collisions at
//! it) and compares the whole encoding on a hash match, so a collision never merges two
//! streams. The price is memory: each tracked stream keeps its identity bytes.
//!
//! [`StreamTable`] holds one value per stream, bounded by a stream limit and by staleness:
//! streams not seen for `max_stale` are dropped by [`StreamTable::sweep`], which the
//! processors call from `consume` (at most once a sweep interval, and whenever the table is
//! full), so the state never outgrows what the data of one interval can add.

mod table;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;

use prost::Message;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use tributary_pipeline_core::pdata::proto::metrics::v1::{Metric, metric::Data};

pub(crate) use table::{Admission, StreamTable};

/// The identity of one metric stream; see the [module docs](self).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct StreamId(Box<[u8]>);

/// The part of a [`StreamId`] that every point of one metric shares: resource, scope and
/// metric. Built once per metric, extended per point.
#[derive(Clone, Debug)]
pub(crate) struct MetricIdentity {
    prefix: Vec<u8>,
}

impl MetricIdentity {
    /// The identity shared by the points of `metric` under `resource` and `scope`.
    pub fn new(
        resource: &[KeyValue],
        scope: Option<&InstrumentationScope>,
        metric: &Metric,
    ) -> Self {
        let mut prefix = Vec::with_capacity(128);
        put_attributes(&mut prefix, resource);
        match scope {
            Some(scope) => {
                put_str(&mut prefix, &scope.name);
                put_str(&mut prefix, &scope.version);
                put_attributes(&mut prefix, &scope.attributes);
            }
            None => {
                put_str(&mut prefix, "");
                put_str(&mut prefix, "");
                put_attributes(&mut prefix, &[]);
            }
        }
        put_str(&mut prefix, &metric.name);
        put_str(&mut prefix, &metric.unit);
        // Type, monotonicity and temporality: a sum and a gauge of the same name are
        // different streams, as are a delta and a cumulative sum.
        let (kind, monotonic, temporality) = match &metric.data {
            Some(Data::Gauge(_)) => (1u8, false, 0),
            Some(Data::Sum(s)) => (2, s.is_monotonic, s.aggregation_temporality),
            Some(Data::Histogram(h)) => (3, false, h.aggregation_temporality),
            Some(Data::ExponentialHistogram(e)) => (4, false, e.aggregation_temporality),
            Some(Data::Summary(_)) => (5, false, 0),
            None => (0, false, 0),
        };
        prefix.push(kind);
        prefix.push(u8::from(monotonic));
        prefix.extend_from_slice(&temporality.to_le_bytes());
        MetricIdentity { prefix }
    }

    /// The identity of the stream of a point with `attributes`; `extra` distinguishes
    /// streams further where a processor needs it (Go's cumulativetodelta keys by the
    /// point's start time and value type as well).
    pub fn point(&self, attributes: &[KeyValue], extra: &[u8]) -> StreamId {
        let mut bytes = Vec::with_capacity(self.prefix.len() + 16 * attributes.len() + 16);
        bytes.extend_from_slice(&self.prefix);
        put_attributes(&mut bytes, attributes);
        put_bytes(&mut bytes, extra);
        StreamId(bytes.into_boxed_slice())
    }
}

/// Runs `edit` on every metric of `request` with its resource attributes and scope; a
/// metric for which it returns `false` is removed, and so are the scopes and resources
/// left without metrics.
pub(crate) fn edit_metrics(
    request: &mut ExportMetricsServiceRequest,
    mut edit: impl FnMut(&[KeyValue], Option<&InstrumentationScope>, &mut Metric) -> bool,
) {
    request.resource_metrics.retain_mut(|rm| {
        let resource: &[KeyValue] = rm
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or(&[]);
        rm.scope_metrics.retain_mut(|sm| {
            let scope = sm.scope.as_ref();
            sm.metrics
                .retain_mut(|metric| edit(resource, scope, metric));
            !sm.metrics.is_empty()
        });
        !rm.scope_metrics.is_empty()
    });
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(bytes);
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    put_bytes(out, text.as_bytes());
}

/// Attributes in key order, each as its protobuf encoding: the same set in another order
/// is the same stream, as in Go's map hash.
fn put_attributes(out: &mut Vec<u8>, attributes: &[KeyValue]) {
    let mut sorted: Vec<&KeyValue> = attributes.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    out.extend_from_slice(&(sorted.len() as u64).to_le_bytes());
    for kv in sorted {
        put_bytes(out, &kv.encode_to_vec());
    }
}

/// The counters every stateful temporality processor keeps, under `processor="<id>"`.
/// Instances of one processor in several pipelines add to the same series; each takes its
/// own streams out of the gauge when it is dropped.
#[derive(Debug)]
pub(crate) struct StreamMetrics {
    tracked: tributary_pipeline_core::telemetry::Gauge,
    /// What this instance added to `tracked`.
    counted: i64,
    registry: tributary_pipeline_core::telemetry::MetricsRegistry,
    component_type: &'static str,
    id: String,
}

impl StreamMetrics {
    /// The counters of the processor `settings` describes, named after `component_type`.
    pub fn new(
        settings: &tributary_pipeline_core::component::CreateSettings,
        component_type: &'static str,
    ) -> Self {
        let id = settings.id().to_string();
        let registry = settings.metrics().clone();
        let tracked = registry.gauge(
            &format!("otelcol_{component_type}_streams_tracked"),
            "Number of metric streams whose state the processor holds.",
            &[("processor", id.as_str())],
        );
        StreamMetrics {
            tracked,
            counted: 0,
            registry,
            component_type,
            id,
        }
    }

    /// Records that this instance now tracks `streams` streams.
    pub fn set_tracked(&mut self, streams: usize) {
        let streams = streams as i64;
        if streams != self.counted {
            self.tracked.add(streams - self.counted);
            self.counted = streams;
        }
    }

    /// Counts `n` data points dropped for `reason`.
    pub fn dropped(&self, reason: &str, n: u64) {
        if n == 0 {
            return;
        }
        self.registry
            .counter(
                &format!("otelcol_{}_datapoints_dropped", self.component_type),
                "Number of data points the processor dropped, by reason.",
                &[("processor", self.id.as_str()), ("reason", reason)],
            )
            .add(n);
    }
}

impl StreamMetrics {
    /// Counts `n` data points passed on without the processor's change, for `reason`.
    pub fn unadjusted(&self, reason: &str, n: u64) {
        if n == 0 {
            return;
        }
        self.registry
            .counter(
                &format!("otelcol_{}_datapoints_unadjusted", self.component_type),
                "Number of data points the processor passed on unchanged, by reason.",
                &[("processor", self.id.as_str()), ("reason", reason)],
            )
            .add(n);
    }
}

impl Drop for StreamMetrics {
    fn drop(&mut self) {
        self.tracked.add(-self.counted);
    }
}
