//! Reading an OTLP/HTTP request body within the size limit and the admission budget.

use bytes::{Bytes, BytesMut};
use http_body::Body;
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::admission::AdmissionPermit;
use super::refusal::Refusal;

/// The refusal for a body over `limit` bytes.
pub(crate) fn too_large(limit: usize) -> Refusal {
    Refusal::TooLarge(format!(
        "request body larger than max_request_body_size ({limit} bytes)"
    ))
}

/// Reads the whole body. Stops with 413 as soon as more than `limit` bytes arrived, and
/// grows `permit` as bytes arrive beyond what it was admitted for (a body without
/// `Content-Length`). A body that arrives in one piece is kept as is, without a copy.
pub(crate) async fn read(
    mut body: Incoming,
    limit: usize,
    permit: &mut AdmissionPermit,
) -> Result<Bytes, Refusal> {
    let expected = body
        .size_hint()
        .exact()
        .and_then(|n| usize::try_from(n).ok());
    let mut collected = Collected::Empty;
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| Refusal::Malformed(format!("cannot read the request body: {e}")))?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        total = total.saturating_add(chunk.len());
        if total > limit {
            return Err(too_large(limit));
        }
        permit.grow_to(total)?;
        collected = collected.push(chunk, expected.unwrap_or(total).min(limit));
    }
    Ok(collected.into_bytes())
}

/// The body so far: nothing, one chunk kept as received, or several joined.
enum Collected {
    Empty,
    One(Bytes),
    Many(BytesMut),
}

impl Collected {
    fn push(self, chunk: Bytes, capacity: usize) -> Collected {
        match self {
            Collected::Empty => Collected::One(chunk),
            Collected::One(first) => {
                let mut joined = BytesMut::with_capacity(capacity.max(first.len() + chunk.len()));
                joined.extend_from_slice(&first);
                joined.extend_from_slice(&chunk);
                Collected::Many(joined)
            }
            Collected::Many(mut joined) => {
                joined.extend_from_slice(&chunk);
                Collected::Many(joined)
            }
        }
    }

    fn into_bytes(self) -> Bytes {
        match self {
            Collected::Empty => Bytes::new(),
            Collected::One(bytes) => bytes,
            Collected::Many(joined) => joined.freeze(),
        }
    }
}
