//! Telemetry data ("pdata"): the OTLP request types wrapped per signal.
//!
//! Telemetry travels through a pipeline as a [`Payload`]: one OTLP export request
//! ([`Traces`], [`Metrics`] or [`Logs`]) behind a shared, copy-on-write handle. Every receiver
//! converts its protocol into these; every exporter converts out of them. The protobuf types
//! themselves are re-exported as [`proto`].
//!
//! ```
//! use tributary_pipeline_core::pdata::{Traces, proto};
//! use proto::collector::trace::v1::ExportTraceServiceRequest;
//! use proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
//!
//! let request = ExportTraceServiceRequest {
//!     resource_spans: vec![ResourceSpans {
//!         scope_spans: vec![ScopeSpans { spans: vec![Span::default(); 5], ..Default::default() }],
//!         ..Default::default()
//!     }],
//! };
//! let traces = Traces::new(request);
//! let reader = traces.clone(); // shares the request: nothing is copied
//! assert!(reader.shares_request_with(&traces));
//!
//! let pieces = traces.split(2);
//! assert_eq!(pieces.iter().map(|p| p.item_count()).collect::<Vec<_>>(), [2, 2, 1]);
//! assert_eq!(reader.item_count(), 5); // the reader's view is unaffected
//! ```

pub mod attributes;
pub mod builder;
pub mod data_point;
mod encode;
pub mod encoded;
mod logs;
mod metadata;
mod metrics;
pub mod otlp_json;
mod payload;
mod rope;
pub mod rpc;
mod signal;
mod split;
mod traces;
pub mod value_text;
pub mod visit;
mod walker;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod visit_tests;
#[cfg(test)]
mod walker_tests;

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

pub use logs::Logs;
pub use metadata::ClientMetadata;
pub use metrics::{Metrics, data_point_count};
pub use payload::{DecodeError, OtlpRequest, Payload, lazy_decode_failures};
pub use signal::{Signal, UnknownSignal};
pub use traces::Traces;

/// The OTLP protobuf types from `opentelemetry-proto`, re-exported so components need no
/// direct dependency on it.
pub use opentelemetry_proto::tonic as proto;

/// What generic pipeline code (fanout, batching, queues) needs from a batch of telemetry.
///
/// Implemented by [`Traces`], [`Metrics`] and [`Logs`]; sealed, since the framework knows
/// how to count and split exactly these. The methods forward to [`Payload`]'s.
pub trait SignalData: Clone + fmt::Debug + Send + Sync + 'static + payload::sealed::Sealed {
    /// The OTLP request type inside.
    type Request: OtlpRequest;

    /// The signal carried.
    const SIGNAL: Signal;

    /// Number of items: spans, metric data points or log records.
    fn item_count(&self) -> usize;

    /// Size of the protobuf encoding, in bytes.
    fn encoded_len(&self) -> usize;

    /// The protobuf encoding, computed once and shared by every clone.
    fn encoded(&self) -> Bytes;

    /// The protobuf encoding as the parts whose concatenation it is, for a writer that can
    /// take them one by one; see [`Payload::encoded_parts`].
    fn encoded_parts(&self) -> &[Bytes];

    /// Decodes from protobuf, keeping the bytes for re-use.
    fn decode(bytes: Bytes) -> Result<Self, DecodeError>;

    /// Splits into pieces of at most `max_items` items (0 = no limit), in order.
    fn split(self, max_items: usize) -> Vec<Self>;

    /// Appends `other` after `self`.
    fn merge(&mut self, other: Self);

    /// The metadata of the client request the data arrived in, if its receiver kept it.
    fn metadata(&self) -> Option<&Arc<ClientMetadata>>;

    /// The same data, carrying `metadata`.
    fn with_metadata(self, metadata: Arc<ClientMetadata>) -> Self;
}

impl<R: OtlpRequest> payload::sealed::Sealed for Payload<R> {}

impl<R: OtlpRequest> SignalData for Payload<R> {
    type Request = R;
    const SIGNAL: Signal = R::SIGNAL;

    fn item_count(&self) -> usize {
        Payload::item_count(self)
    }
    fn encoded_len(&self) -> usize {
        Payload::encoded_len(self)
    }
    fn encoded(&self) -> Bytes {
        Payload::encoded(self)
    }
    fn encoded_parts(&self) -> &[Bytes] {
        Payload::encoded_parts(self)
    }
    fn decode(bytes: Bytes) -> Result<Self, DecodeError> {
        Payload::decode(bytes)
    }
    fn split(self, max_items: usize) -> Vec<Self> {
        Payload::split(self, max_items)
    }
    fn merge(&mut self, other: Self) {
        Payload::merge(self, other)
    }
    fn metadata(&self) -> Option<&Arc<ClientMetadata>> {
        Payload::metadata(self)
    }
    fn with_metadata(self, metadata: Arc<ClientMetadata>) -> Self {
        Payload::with_metadata(self, metadata)
    }
}
