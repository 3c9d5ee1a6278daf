//! `Payload`: one batch of telemetry of one signal, shared copy-on-write.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use prost::Message;

use super::rope::Rope;
use super::walker;
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

    /// Divides the request among keys, one key per record (span, log record or metric) in
    /// order: each key's request holds its records in order, under copies of their
    /// resource's and scope's descriptions. Records beyond the keys go to `K::default()`.
    fn partition<K: Ord + Default>(self, keys: impl IntoIterator<Item = K>) -> BTreeMap<K, Self>;

    /// Appends every resource of `other` after this request's resources.
    fn append(&mut self, other: Self);

    /// Decodes one resource of this request type from its encoding, divides it and encodes
    /// the pieces as top-level request fields, each with its items: the first `first`
    /// items, then pieces of at most `then` (`usize::MAX`: the rest in one). Used to cut a
    /// payload kept as bytes.
    /// The request's protobuf encoding (prost's bytes), with each nested message's length
    /// computed once.
    #[doc(hidden)]
    fn encode_once(&self) -> Vec<u8>;

    #[doc(hidden)]
    fn cut_resource(
        resource: &[u8],
        first: usize,
        then: usize,
    ) -> Result<Vec<(Bytes, usize)>, prost::DecodeError>;
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

/// Lazy decodes that failed since the process started. See [`lazy_decode_failures`].
static LAZY_DECODE_FAILURES: AtomicU64 = AtomicU64::new(0);

/// Whether a walker refusal that prost accepted was already logged as a warning.
static WALKER_FALLBACK_WARNED: AtomicBool = AtomicBool::new(false);

/// How many times decoding a payload kept as bytes failed on first use, since the process
/// started. **Should always be 0**: [`Payload::decode`] accepts bytes only when a walk over
/// them accepts exactly what the protobuf decoder accepts (proved by differential tests),
/// so the later decode cannot fail. Were it ever to, the payload is logged as an error,
/// counted here, and reads as an empty request (no panic); its received bytes are still
/// what an unchanged payload exports.
pub fn lazy_decode_failures() -> u64 {
    LAZY_DECODE_FAILURES.load(Ordering::Relaxed)
}

/// The shared state of a payload: the request, its encoding, or both.
///
/// At least one of the two is always set. When both are, they agree: `rope` is the
/// encoding of `request` (or of a request that decodes to it) and its item count is the
/// request's.
struct Inner<R> {
    /// The request. Unset while the payload is only bytes: decoded on first read, once,
    /// race-free, and shared by every clone.
    request: OnceLock<R>,
    /// The encoding, kept while it is known to match the request: set when the payload was
    /// decoded from bytes or merged from payloads with known encodings, or on the first
    /// call to [`Payload::encoded`]. Re-used by every exporter that sends protobuf, so a
    /// fanout encodes once, and an unchanged payload is forwarded as received.
    rope: OnceLock<Rope>,
}

impl<R: OtlpRequest> Clone for Inner<R> {
    /// A copy is about to be edited ([`Payload::make_mut`]), so a decoded request is copied
    /// and its encoding left behind; a payload still only bytes copies its bytes (cheap,
    /// shared) and is decoded by the editor.
    fn clone(&self) -> Self {
        match self.request.get() {
            Some(request) => Inner {
                request: OnceLock::from(request.clone()),
                rope: OnceLock::new(),
            },
            None => Inner {
                request: OnceLock::new(),
                rope: self.rope.clone(),
            },
        }
    }
}

impl<R: OtlpRequest> Inner<R> {
    fn from_request(request: R) -> Self {
        Inner {
            request: OnceLock::from(request),
            rope: OnceLock::new(),
        }
    }

    fn from_rope(rope: Rope) -> Self {
        Inner {
            request: OnceLock::new(),
            rope: OnceLock::from(rope),
        }
    }

    /// The request, decoded from the encoding on first use.
    fn request(&self) -> &R {
        self.request.get_or_init(|| decode_rope(self.rope.get()))
    }

    /// The encoding, encoding the request on first use.
    fn rope(&self) -> &Rope {
        self.rope.get_or_init(|| {
            let request = self.request();
            Rope::single(Bytes::from(request.encode_once()), request.item_count())
        })
    }

    /// Whether the request was decoded or built (not only bytes).
    fn is_decoded(&self) -> bool {
        self.request.get().is_some()
    }

    /// Takes the request out, decoding it if it is only bytes.
    fn into_request(self) -> R {
        match self.request.into_inner() {
            Some(request) => request,
            None => decode_rope(self.rope.get()),
        }
    }
}

/// Decodes a payload kept as bytes: cannot fail for bytes the walker accepted. If it ever
/// did, the failure is logged and counted and the request reads as empty.
fn decode_rope<R: OtlpRequest>(rope: Option<&Rope>) -> R {
    let Some(rope) = rope else {
        // Unreachable: a payload always holds its request or its encoding.
        return R::default();
    };
    match rope.decode() {
        Ok(request) => request,
        Err(error) => {
            LAZY_DECODE_FAILURES.fetch_add(1, Ordering::Relaxed);
            tracing::error!(
                signal = %R::SIGNAL,
                bytes = rope.len(),
                items = rope.items(),
                %error,
                "BUG: decoding an OTLP payload accepted on receipt failed; it reads as empty"
            );
            R::default()
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
/// A payload [decoded](Payload::decode) from protobuf is only *checked* and counted when it
/// arrives: it keeps the bytes and decodes them on the first [`request`](Payload::request)
/// or [`make_mut`](Payload::make_mut). A pass-through pipeline (receive, batch, export as
/// protobuf) therefore never decodes: merging payloads joins their encodings, and
/// exporters send [`encoded`](Payload::encoded) bytes, as received.
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
    /// Shows the request if it was decoded; a payload that is still only bytes shows their
    /// size (formatting does not decode).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Payload");
        debug
            .field("signal", &R::SIGNAL)
            .field("items", &self.item_count());
        match self.inner.request.get() {
            Some(request) => debug.field("request", request),
            None => debug.field("encoded_len", &self.encoded_len()),
        };
        debug.finish()
    }
}

impl<R: OtlpRequest> PartialEq for Payload<R> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner) || self.request() == other.request()
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
        Payload::from_inner(Inner::from_request(request), None)
    }

    fn from_inner(inner: Inner<R>, metadata: Option<Arc<ClientMetadata>>) -> Self {
        Payload {
            inner: Arc::new(inner),
            metadata,
        }
    }

    /// Reads a request from its protobuf encoding and keeps the bytes, so an exporter that
    /// sends the unchanged payload as protobuf re-uses them instead of encoding again.
    ///
    /// The bytes are checked in one pass that accepts exactly what the protobuf decoder
    /// accepts and counts the items, without decoding them; they are decoded on the first
    /// [`request`](Self::request) or [`make_mut`](Self::make_mut). An error here is the
    /// protobuf decoder's.
    pub fn decode(bytes: Bytes) -> Result<Self, DecodeError> {
        match walker::validate(R::SIGNAL, &bytes) {
            Ok(items) => Ok(Payload::from_inner(
                Inner::from_rope(Rope::single(bytes, items)),
                None,
            )),
            Err(refusal) => {
                // Let the decoder decide, for its error message. Should it accept what the
                // walk refused (a walker bug the tests guard against), the request is kept
                // decoded: nothing is refused that the decoder reads.
                let request = R::decode(&bytes[..]).map_err(|source| DecodeError {
                    signal: R::SIGNAL,
                    source,
                })?;
                if !WALKER_FALLBACK_WARNED.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        signal = %R::SIGNAL,
                        reason = refusal.0,
                        "BUG: the OTLP wire check refused a request the decoder accepts; decoded it (reported once)"
                    );
                }
                let items = request.item_count();
                Ok(Payload::from_inner(
                    Inner {
                        request: OnceLock::from(request),
                        rope: OnceLock::from(Rope::single(bytes, items)),
                    },
                    None,
                ))
            }
        }
    }

    /// A payload of protobuf bytes this process wrote itself (a receiver encoding what it
    /// read without building the request first), holding `items` items. Unlike
    /// [`decode`](Self::decode) the bytes are not checked (debug builds do check them): they
    /// must be a valid encoding of the request, or the first decode logs a bug and reads an
    /// empty request.
    pub fn from_own_encoding(bytes: Bytes, items: usize) -> Self {
        debug_assert_eq!(
            walker::validate(R::SIGNAL, &bytes),
            Ok(items),
            "an own encoding that does not check"
        );
        Payload::from_unchecked_bytes(bytes, items)
    }

    /// A payload of `bytes` said to hold `items` items, not checked: for bytes built from
    /// checked ones, and for testing what happens should a lazy decode ever fail.
    pub(crate) fn from_unchecked_bytes(bytes: Bytes, items: usize) -> Self {
        Payload::from_inner(Inner::from_rope(Rope::single(bytes, items)), None)
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

    /// The request, read-only. A payload kept as bytes is decoded on the first call (once,
    /// for every clone).
    pub fn request(&self) -> &R {
        self.inner.request()
    }

    /// The request, for editing. Copies it first if another clone of this payload still
    /// holds it (copy-on-write); the copy is private to this payload. A payload kept as
    /// bytes is decoded, and its bytes dropped.
    pub fn make_mut(&mut self) -> &mut R {
        let inner = Arc::make_mut(&mut self.inner);
        if !inner.is_decoded() {
            let request: R = decode_rope(inner.rope.get());
            inner.request = OnceLock::from(request);
        }
        // Any edit may change the encoding.
        inner.rope.take();
        match inner.request.get_mut() {
            Some(request) => request,
            // Unreachable: set just above.
            None => unreachable!("a decoded payload holds its request"),
        }
    }

    /// Takes the request out, copying it only if another clone still holds it (a payload
    /// kept as bytes is decoded).
    pub fn into_request(self) -> R {
        match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner.into_request(),
            Err(shared) => match shared.request.get() {
                Some(request) => request.clone(),
                None => decode_rope(shared.rope.get()),
            },
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

    /// Whether the request has been decoded (or was built): `false` while the payload is
    /// only the bytes it was decoded from or merged of.
    pub fn is_decoded(&self) -> bool {
        self.inner.is_decoded()
    }

    /// Number of items: spans, metric data points or log records. Counted when the payload
    /// was decoded from bytes; never decodes.
    pub fn item_count(&self) -> usize {
        match self.inner.rope.get() {
            Some(rope) => rope.items(),
            None => self.inner.request().item_count(),
        }
    }

    /// Whether the payload holds no items.
    pub fn is_empty(&self) -> bool {
        self.item_count() == 0
    }

    /// Size of the request's protobuf encoding, in bytes. Never decodes.
    pub fn encoded_len(&self) -> usize {
        match self.inner.rope.get() {
            Some(rope) => rope.len(),
            None => self.inner.request().encoded_len(),
        }
    }

    /// The request's protobuf encoding. Computed once and shared by every clone: the bytes
    /// a payload was decoded from, the merged payloads' encodings joined (once), or the
    /// request encoded.
    pub fn encoded(&self) -> Bytes {
        self.inner.rope().joined()
    }

    /// The request's protobuf encoding as the parts whose concatenation it is (one part
    /// unless payloads with known encodings were merged). A writer that can take them one
    /// by one (compression, framing) avoids joining them into one buffer.
    pub fn encoded_parts(&self) -> &[Bytes] {
        self.inner.rope().parts()
    }

    /// Splits into payloads of at most `max_items` items each, in order. A payload already
    /// within the limit is returned as is (no copy). `max_items` of 0 means no limit.
    ///
    /// A payload with a known encoding is cut on its bytes: whole resources are sliced out,
    /// spans and log records are copied as they are, and only a resource of metrics that
    /// crosses a cut is decoded.
    pub fn split(self, max_items: usize) -> Vec<Self> {
        if max_items == 0 || self.item_count() <= max_items {
            return vec![self];
        }
        let metadata = self.metadata.clone();
        if let Some(rope) = self.inner.rope.get()
            && let Ok(chunks) = rope.cut::<R>(max_items, Some(max_items))
        {
            return chunks
                .into_iter()
                .map(|rope| Payload::from_inner(Inner::from_rope(rope), metadata.clone()))
                .collect();
        }
        self.into_request()
            .split_into(max_items)
            .into_iter()
            .map(|request| Payload::from_inner(Inner::from_request(request), metadata.clone()))
            .collect()
    }

    /// Moves the first `count` items into a payload of their own (with the same client
    /// metadata) and leaves the rest in `self`, both in order. With `count` at or above
    /// [`item_count`](Self::item_count), everything moves and `self` is left empty (no copy).
    ///
    /// A payload with a known encoding is cut on its bytes, as in [`split`](Self::split).
    pub fn split_front(&mut self, count: usize) -> Self {
        if count >= self.item_count() {
            let metadata = self.metadata.clone();
            let all = std::mem::replace(self, Payload::new(R::default()));
            self.metadata = metadata;
            return all;
        }
        if let Some(rope) = self.inner.rope.get()
            && let Ok(chunks) = rope.cut::<R>(count, None)
            && let Ok([front, rest]) = <[Rope; 2]>::try_from(chunks)
            && front.items() == count
        {
            self.inner = Arc::new(Inner::from_rope(rest));
            return Payload::from_inner(Inner::from_rope(front), self.metadata.clone());
        }
        let front = self.make_mut().split_front(count);
        Payload::from_inner(Inner::from_request(front), self.metadata.clone())
    }

    /// Whether the payload holds nothing at all (not even an empty resource).
    fn is_blank(&self) -> bool {
        match self.inner.rope.get() {
            Some(rope) => rope.len() == 0,
            None => *self.inner.request() == R::default(),
        }
    }

    /// Appends `other`'s resources after this payload's. The result keeps this payload's
    /// metadata: merge only payloads whose metadata does not matter or is the same.
    ///
    /// When both encodings are known, or either payload is still only bytes, the result is
    /// their encodings concatenated (protobuf concatenation of export requests is their
    /// merge) with the item counts added, in time proportional to the number of parts and
    /// without decoding; a side whose encoding is not known yet is encoded (an exporter
    /// sending protobuf would encode it anyway). Otherwise the requests are appended.
    pub fn merge(&mut self, other: Self) {
        if other.is_blank() {
            return;
        }
        if self.is_blank() {
            let metadata = self.metadata.take();
            *self = other;
            self.metadata = metadata;
            return;
        }
        let bytes_known = self.inner.rope.get().is_some() && other.inner.rope.get().is_some();
        if !(bytes_known || !self.is_decoded() || !other.is_decoded()) {
            self.make_mut().append(other.into_request());
            return;
        }
        // Take `other`'s encoding (and its request, when it is decoded and not shared).
        let (rope, other_request) = match Arc::try_unwrap(other.inner) {
            Ok(mut inner) => {
                inner.rope();
                let request = inner.request.take();
                (inner.rope.take(), request)
            }
            Err(shared) => (Some(shared.rope().shared_copy()), None),
        };
        let Some(rope) = rope else {
            return; // Unreachable: `rope()` sets it.
        };
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => {
                inner.rope();
                // Keep the decoded request only when both sides had theirs at hand.
                match (inner.request.get_mut(), other_request) {
                    (Some(request), Some(other)) => request.append(other),
                    _ => drop(inner.request.take()),
                }
                if let Some(own) = inner.rope.get_mut() {
                    own.append(rope);
                }
            }
            None => {
                let mut own = self.inner.rope().shared_copy();
                own.append(rope);
                self.inner = Arc::new(Inner::from_rope(own));
            }
        }
    }

    /// Merges many payloads into one, in order. Linear in the total size: payloads with
    /// known encodings are joined as a list of parts (see [`merge`](Self::merge)).
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
