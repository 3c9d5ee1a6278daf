//! Traces: item counting and splitting for `ExportTraceServiceRequest`.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

use super::Signal;
use super::payload::{OtlpRequest, Payload, sealed};
use super::split::{self, impl_branch, impl_single_item};

/// A batch of spans, shared copy-on-write. See [`Payload`].
pub type Traces = Payload<ExportTraceServiceRequest>;

impl_branch!(ResourceSpans { resource, schema_url } => scope_spans: ScopeSpans);
impl_branch!(ScopeSpans { scope, schema_url } => spans: Span);

impl_single_item!(Span);

impl sealed::Sealed for ExportTraceServiceRequest {}

impl OtlpRequest for ExportTraceServiceRequest {
    const SIGNAL: Signal = Signal::Traces;

    fn item_count(&self) -> usize {
        self.resource_spans
            .iter()
            .flat_map(|rs| &rs.scope_spans)
            .map(|ss| ss.spans.len())
            .sum()
    }

    fn split_into(self, max_items: usize) -> Vec<Self> {
        split::chunk(self.resource_spans, max_items)
            .into_iter()
            .map(|resource_spans| ExportTraceServiceRequest { resource_spans })
            .collect()
    }

    fn split_front(&mut self, count: usize) -> Self {
        ExportTraceServiceRequest {
            resource_spans: split::take_front(&mut self.resource_spans, count),
        }
    }

    fn partition<K: Ord + Default>(
        self,
        keys: impl IntoIterator<Item = K>,
    ) -> std::collections::BTreeMap<K, Self> {
        split::partition(self.resource_spans, keys)
            .into_iter()
            .map(|(key, resource_spans)| (key, ExportTraceServiceRequest { resource_spans }))
            .collect()
    }

    fn append(&mut self, other: Self) {
        self.resource_spans.extend(other.resource_spans);
    }

    fn encode_once(&self) -> Vec<u8> {
        super::encode::encode_request(&self.resource_spans)
    }

    fn cut_resource(
        resource: &[u8],
        first: usize,
        then: usize,
    ) -> Result<Vec<(bytes::Bytes, usize)>, prost::DecodeError> {
        // Leaves of one item each are cut on the bytes; malformed bytes (never for a
        // checked payload) are left to the decoder, for its error.
        match split::cut_encoded_leaves(resource, first, then) {
            Some(pieces) => Ok(pieces),
            None => split::cut_encoded::<ResourceSpans, _, _>(resource, first, then),
        }
    }
}
