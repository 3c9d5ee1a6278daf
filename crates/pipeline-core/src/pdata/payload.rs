//! `Payload`: one batch of telemetry of one signal, shared copy-on-write.

use std::fmt;
use std::sync::{Arc, OnceLock};

use bytes::{Bytes, BytesMut};
use prost::Message;

use super::{ClientMetadata, Signal};

/// An OTLP export request type that a [`Payload`] can carry.
///
/// Implemented for the three `Export*ServiceRequest` types of `opentelemetry-proto`; the
/// trait is sealed because the framework's splitting and counting know exactly these shapes.
pub trait OtlpRequest:
    Message + Default + Clone + PartialEq + fmt::Debug + Send + Sync + 'static + sealed::Sealed
{
    /// The signal this request carries.
    const SIGNAL: Signal;

    /// Number of items: spans, metric data points or log records.
    fn item_count(&self) -> usize;

    /// Splits into requests of at most `max_items` items each, keeping order. Resources,
    /// scopes and metric descriptions are copied into every piece that holds some of their
    /// items. `max_items` must be at least 1.
    fn split_into(self, max_items: usize) -> Vec<Self>;

    /// Moves the first `count` items into a request of their own and leaves the rest in
    /// `self`, both in order; the item that crosses the cut (a metric's data points) is
    /// divided. `count` must be less than [`item_count`](Self::item_count).
    fn split_front(&mut self, count: usize) -> Self;

    /// Appends every resource of `other` after this request's resources.
    fn append(&mut self, other: Self);
}

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// The reason bytes could not be read as an OTLP request.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid OTLP {signal} protobuf: {source}")]
pub struct DecodeError {
    signal: Signal,
    #[source]
    source: prost::DecodeError,
}

struct Inner<R> {
    request: R,
    /// The request's protobuf encoding, kept while it is known to match `request`: set when
    /// the payload was decoded from bytes, or on the first call to [`Payload::encoded`].
    /// Re-used by every exporter that sends protobuf, so a fanout encodes once.
    encoded: OnceLock<Bytes>,
}

impl<R: Clone> Clone for Inner<R> {
    /// A copy is about to be edited, so its encoding is not carried over.
    fn clone(&self) -> Self {
        Inner {
            request: self.request.clone(),
            encoded: OnceLock::new(),
        }
    }
}

/// One batch of telemetry of one signal (an OTLP export request), shared copy-on-write.
///
/// Cloning a payload is cheap: every clone shares the same request. Handing the same payload
/// to several read-only consumers therefore copies nothing. A consumer that edits the data
/// calls [`Payload::make_mut`], which copies the request only if someone else still holds
/// it, so a mutating branch of a fanout never affects its siblings.
///
/// Use the aliases [`Traces`](super::Traces), [`Metrics`](super::Metrics) and
/// [`Logs`](super::Logs).
pub struct Payload<R> {
    inner: Arc<Inner<R>>,
    metadata: Option<Arc<ClientMetadata>>,
}

impl<R> Clone for Payload<R> {
    fn clone(&self) -> Self {
        Payload {
            inner: Arc::clone(&self.inner),
            metadata: self.metadata.clone(),
        }
    }
}

impl<R: OtlpRequest> fmt::Debug for Payload<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Payload")
            .field("signal", &R::SIGNAL)
            .field("items", &self.item_count())
            .field("request", &self.inner.request)
            .finish()
    }
}

impl<R: OtlpRequest> PartialEq for Payload<R> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner) || self.inner.request == other.inner.request
    }
}

impl<R: OtlpRequest> Default for Payload<R> {
    fn default() -> Self {
        Payload::new(R::default())
    }
}

impl<R: OtlpRequest> From<R> for Payload<R> {
    fn from(request: R) -> Self {
        Payload::new(request)
    }
}

impl<R: OtlpRequest> Payload<R> {
    /// Wraps a request.
    pub fn new(request: R) -> Self {
        Payload {
            inner: Arc::new(Inner {
                request,
                encoded: OnceLock::new(),
            }),
            metadata: None,
        }
    }

    /// Decodes a request from its protobuf encoding and keeps the bytes, so an exporter that
    /// sends the unchanged payload as protobuf re-uses them instead of encoding again.
    pub fn decode(bytes: Bytes) -> Result<Self, DecodeError> {
        let request = R::decode(bytes.clone()).map_err(|source| DecodeError {
            signal: R::SIGNAL,
            source,
        })?;
        let encoded = OnceLock::new();
        let _ = encoded.set(bytes);
        Ok(Payload {
            inner: Arc::new(Inner { request, encoded }),
            metadata: None,
        })
    }

    /// The same payload, carrying the metadata of the request it arrived in.
    pub fn with_metadata(mut self, metadata: Arc<ClientMetadata>) -> Self {
        self.metadata = Some(metadata);
        self
    }

    /// The metadata of the request the payload arrived in, if its receiver kept it.
    pub fn metadata(&self) -> Option<&Arc<ClientMetadata>> {
        self.metadata.as_ref()
    }

    /// The signal this payload carries.
    pub fn signal(&self) -> Signal {
        R::SIGNAL
    }

    /// The request, read-only.
    pub fn request(&self) -> &R {
        &self.inner.request
    }

    /// The request, for editing. Copies it first if another clone of this payload still
    /// holds it (copy-on-write); the copy is private to this payload.
    pub fn make_mut(&mut self) -> &mut R {
        let inner = Arc::make_mut(&mut self.inner);
        // Any edit may change the encoding.
        inner.encoded.take();
        &mut inner.request
    }

    /// Takes the request out, copying it only if another clone still holds it.
    pub fn into_request(self) -> R {
        match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner.request,
            Err(shared) => shared.request.clone(),
        }
    }

    /// Whether this is the only handle to the request, so [`make_mut`](Self::make_mut)
    /// will not copy.
    pub fn is_unique(&self) -> bool {
        Arc::strong_count(&self.inner) == 1
    }

    /// Whether two payloads share the same request (no copy was made between them).
    pub fn shares_request_with(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Number of items: spans, metric data points or log records.
    pub fn item_count(&self) -> usize {
        self.inner.request.item_count()
    }

    /// Whether the payload holds no items.
    pub fn is_empty(&self) -> bool {
        self.item_count() == 0
    }

    /// Size of the request's protobuf encoding, in bytes.
    pub fn encoded_len(&self) -> usize {
        match self.inner.encoded.get() {
            Some(bytes) => bytes.len(),
            None => self.inner.request.encoded_len(),
        }
    }

    /// The request's protobuf encoding. Computed once and shared by every clone.
    pub fn encoded(&self) -> Bytes {
        self.inner
            .encoded
            .get_or_init(|| Bytes::from(self.inner.request.encode_to_vec()))
            .clone()
    }

    /// Splits into payloads of at most `max_items` items each, in order. A payload already
    /// within the limit is returned as is (no copy). `max_items` of 0 means no limit.
    pub fn split(self, max_items: usize) -> Vec<Self> {
        if max_items == 0 || self.item_count() <= max_items {
            return vec![self];
        }
        let metadata = self.metadata.clone();
        self.into_request()
            .split_into(max_items)
            .into_iter()
            .map(|request| Payload {
                metadata: metadata.clone(),
                ..Payload::new(request)
            })
            .collect()
    }

    /// Moves the first `count` items into a payload of their own (with the same client
    /// metadata) and leaves the rest in `self`, both in order. With `count` at or above
    /// [`item_count`](Self::item_count), everything moves and `self` is left empty (no copy).
    pub fn split_front(&mut self, count: usize) -> Self {
        if count >= self.item_count() {
            let metadata = self.metadata.clone();
            let all = std::mem::replace(self, Payload::new(R::default()));
            self.metadata = metadata;
            return all;
        }
        let front = self.make_mut().split_front(count);
        Payload {
            metadata: self.metadata.clone(),
            ..Payload::new(front)
        }
    }

    /// Appends `other`'s resources after this payload's. The result keeps this payload's
    /// metadata: merge only payloads whose metadata does not matter or is the same.
    pub fn merge(&mut self, other: Self) {
        if other.inner.request == R::default() {
            return;
        }
        // Protobuf concatenation of two export requests is their merge (the only field is
        // the repeated list of resources), so known encodings combine without re-encoding.
        let encoded = match (self.inner.encoded.get(), other.inner.encoded.get()) {
            (Some(a), Some(b)) => {
                let mut joined = BytesMut::with_capacity(a.len() + b.len());
                joined.extend_from_slice(a);
                joined.extend_from_slice(b);
                Some(joined.freeze())
            }
            _ => None,
        };
        self.make_mut().append(other.into_request());
        if let Some(bytes) = encoded {
            let _ = self.inner.encoded.set(bytes);
        }
    }

    /// Merges many payloads into one, in order.
    pub fn concat(payloads: impl IntoIterator<Item = Self>) -> Self {
        let mut iter = payloads.into_iter();
        let Some(mut first) = iter.next() else {
            return Payload::default();
        };
        for next in iter {
            first.merge(next);
        }
        first
    }
}
