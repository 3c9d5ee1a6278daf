//! `Rope`: a payload's known protobuf encoding, kept as the list of encodings it was merged
//! from, and cutting it by items at resource boundaries without decoding.
//!
//! Protobuf concatenation of two export requests is their merge (the request's only field
//! is the repeated list of resources), so merging payloads appends their parts here in
//! O(parts) and the parts are joined into one buffer once, when the whole encoding is first
//! asked for.

use std::ops::Range;
use std::slice;
use std::sync::OnceLock;

use bytes::{Bytes, BytesMut};

use super::payload::OtlpRequest;
use super::walker::{self, Invalid};

/// A known encoding: parts whose concatenation is the encoding, with its item count.
#[derive(Clone, Debug)]
pub(crate) struct Rope {
    /// The parts, when there are two or more; empty when `joined` holds the only one.
    parts: Vec<Bytes>,
    /// The whole encoding in one buffer: the only part, or the parts joined on first ask.
    joined: OnceLock<Bytes>,
    /// Bytes in all parts.
    len: usize,
    /// Items (spans, data points, log records) in all parts.
    items: usize,
}

impl Rope {
    /// One encoding holding `items` items.
    pub fn single(bytes: Bytes, items: usize) -> Self {
        Rope {
            len: bytes.len(),
            parts: Vec::new(),
            joined: OnceLock::from(bytes),
            items,
        }
    }

    /// The concatenation of `parts`, holding `items` items. Empty parts are dropped.
    fn from_parts(mut parts: Vec<Bytes>, items: usize) -> Self {
        parts.retain(|part| !part.is_empty());
        let len = parts.iter().map(Bytes::len).sum();
        match parts.len() {
            0 => Rope::single(Bytes::new(), items),
            1 => Rope::single(parts.pop().unwrap_or_default(), items),
            _ => Rope {
                parts,
                joined: OnceLock::new(),
                len,
                items,
            },
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn items(&self) -> usize {
        self.items
    }

    /// The parts, in order (one when the encoding is a single buffer).
    pub fn parts(&self) -> &[Bytes] {
        if self.parts.is_empty() {
            self.joined.get().map_or(&[], slice::from_ref)
        } else {
            &self.parts
        }
    }

    /// The fewest parts that make up the encoding: the joined buffer once there is one.
    fn pieces(&self) -> &[Bytes] {
        match self.joined.get() {
            Some(joined) => slice::from_ref(joined),
            None => &self.parts,
        }
    }

    /// The whole encoding in one buffer, joined once and cached.
    pub fn joined(&self) -> Bytes {
        self.joined
            .get_or_init(|| {
                let mut joined = BytesMut::with_capacity(self.len);
                for part in &self.parts {
                    joined.extend_from_slice(part);
                }
                joined.freeze()
            })
            .clone()
    }

    /// Appends `other`'s encoding after this one's. O(parts of `other`).
    pub fn append(&mut self, other: Rope) {
        if self.parts.is_empty() {
            if let Some(only) = self.joined.take()
                && !only.is_empty()
            {
                self.parts.push(only);
            }
        } else {
            // A cached join no longer covers everything.
            self.joined.take();
        }
        let Rope {
            parts,
            joined,
            len,
            items,
        } = other;
        match joined.into_inner() {
            Some(joined) => self.parts.push(joined),
            None => self.parts.extend(parts),
        }
        self.parts.retain(|part| !part.is_empty());
        self.len += len;
        self.items += items;
        if self.parts.len() <= 1 {
            let only = self.parts.pop().unwrap_or_default();
            self.joined = OnceLock::from(only);
        }
    }

    /// The same encoding in as few parts as are at hand, for appending elsewhere while
    /// this one is still shared.
    pub fn shared_copy(&self) -> Rope {
        Rope::from_parts(self.pieces().to_vec(), self.items)
    }

    /// Decodes the parts into a request: merging each part in order is decoding their
    /// concatenation.
    pub fn decode<R: OtlpRequest>(&self) -> Result<R, prost::DecodeError> {
        let mut request = R::default();
        for part in self.pieces() {
            request.merge(&part[..])?;
        }
        Ok(request)
    }

    /// Cuts the encoding by items into chunks, the first of at most `first` items and the
    /// next ones of at most `then` items each (`None`: everything after the first chunk
    /// in one), without decoding: whole resources are sliced out of the parts; a resource
    /// of spans or log records that crosses a cut is divided on its bytes too, and only a
    /// resource of metrics that crosses one is decoded, divided and encoded again. Items
    /// keep their order; a resource holding no items goes with the chunk being filled.
    ///
    /// The encoding must be valid (every rope is: it was checked by the walker or encoded
    /// by prost). `first` must be below the item count, and `then` at least 1.
    pub fn cut<R: OtlpRequest>(
        &self,
        first: usize,
        then: Option<usize>,
    ) -> Result<Vec<Rope>, CutError> {
        let then = then.unwrap_or(usize::MAX).max(1);
        let mut chunks = Vec::new();
        let mut current = Builder::default();
        let mut limit = first;
        for (index, part) in self.parts().iter().enumerate() {
            let mut rest: &[u8] = part;
            while !rest.is_empty() {
                let start = part.len() - rest.len();
                let resource = walker::top_level_field(R::SIGNAL, &mut rest)?;
                let range = start..part.len() - rest.len();
                let Some((body, weight)) = resource else {
                    // Not a resource (an unknown field): it goes where it is.
                    current.push_slice(index, part, range);
                    continue;
                };
                loop {
                    if weight == 0 || current.items + weight <= limit {
                        current.push_slice(index, part, range);
                        current.items += weight;
                        break;
                    }
                    if current.items == limit {
                        chunks.push(current.finish());
                        limit = then;
                        continue;
                    }
                    // The resource crosses the cut: divide it.
                    let room = limit - current.items;
                    let mut pieces = R::cut_resource(body, room, then)?.into_iter();
                    if let Some((bytes, items)) = pieces.next() {
                        current.push_owned(bytes, items);
                    }
                    chunks.push(current.finish());
                    limit = then;
                    let mut pieces = pieces.peekable();
                    while let Some((bytes, items)) = pieces.next() {
                        current.push_owned(bytes, items);
                        if pieces.peek().is_some() {
                            chunks.push(current.finish());
                        }
                    }
                    break;
                }
            }
        }
        chunks.push(current.finish());
        Ok(chunks)
    }
}

/// Cutting a rope failed: its bytes were not what the walker accepted. Should never happen;
/// the caller falls back to decoding.
#[derive(Debug)]
pub(crate) enum CutError {
    Invalid(#[allow(dead_code)] Invalid),
    Decode(#[allow(dead_code)] prost::DecodeError),
}

impl From<Invalid> for CutError {
    fn from(invalid: Invalid) -> Self {
        CutError::Invalid(invalid)
    }
}

impl From<prost::DecodeError> for CutError {
    fn from(error: prost::DecodeError) -> Self {
        CutError::Decode(error)
    }
}

/// A chunk being filled: parts, with adjacent slices of the same source part coalesced.
#[derive(Default)]
struct Builder {
    parts: Vec<Bytes>,
    /// A slice of source part `.0` not yet cut out: `.2` of `.1`.
    open: Option<(usize, Bytes, Range<usize>)>,
    items: usize,
}

impl Builder {
    fn push_slice(&mut self, index: usize, part: &Bytes, range: Range<usize>) {
        if let Some((open_index, _, open)) = &mut self.open
            && *open_index == index
            && open.end == range.start
        {
            open.end = range.end;
            return;
        }
        self.close();
        self.open = Some((index, part.clone(), range));
    }

    fn push_owned(&mut self, bytes: Bytes, items: usize) {
        self.close();
        self.parts.push(bytes);
        self.items += items;
    }

    fn close(&mut self) {
        if let Some((_, part, range)) = self.open.take() {
            self.parts.push(if range == (0..part.len()) {
                part
            } else {
                part.slice(range)
            });
        }
    }

    fn finish(&mut self) -> Rope {
        self.close();
        let items = std::mem::take(&mut self.items);
        Rope::from_parts(std::mem::take(&mut self.parts), items)
    }
}
