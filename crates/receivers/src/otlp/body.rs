//! Reading a request body — an OTLP/HTTP body, or the one message of a gRPC call — within
//! the size limit, the read timeout and the admission budget.
//!
//! A request is weighed by the bytes that actually arrived, never by what it declared: its
//! first bytes wait for admission (in arrival order, within the waiting limit), and each
//! later chunk is admitted as it arrives, without waiting (a request holding budget must
//! not wait for others, or requests could wait on each other forever): refused as
//! throttled when the budget has no room. So a peer that announces a large body and sends
//! nothing holds nothing, and one that sends slowly holds what it sent until the read
//! timeout ends it.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body::Body;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::time::Instant;

use super::refusal::Refusal;
use crate::shared::admission::{Admission, AdmissionPermit};

/// The length of a gRPC message prefix: a compression flag and a big-endian u32 length.
pub(crate) const GRPC_PREFIX_LEN: usize = 5;

/// The refusal for a body (or decompressed message) over `limit` bytes.
pub(crate) fn too_large(limit: usize) -> Refusal {
    Refusal::TooLarge(format!(
        "request larger than the receiver's size limit ({limit} bytes: max_request_body_size \
         for HTTP, max_recv_msg_size_mib for gRPC)"
    ))
}

/// How the body is framed.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Framing {
    /// The whole body is the request (OTLP/HTTP), at most this many bytes.
    Whole { limit: usize },
    /// Exactly one length-prefixed gRPC message of at most `max_message` bytes on the
    /// wire; anything after it breaks the unary protocol.
    GrpcMessage { max_message: usize },
}

impl Framing {
    fn limit(self) -> usize {
        match self {
            Framing::Whole { limit } => limit,
            Framing::GrpcMessage { max_message } => max_message.saturating_add(GRPC_PREFIX_LEN),
        }
    }
}

/// The limits a body is read under.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadLimits {
    pub framing: Framing,
    /// How long the client has to send the body, not counting the wait for admission.
    pub read_timeout: Option<Duration>,
}

/// Reads the whole body, admitted into `admission` as it arrives; returns it with the
/// permit holding its share, to be dropped once the pipeline answered.
pub(crate) async fn read(
    mut body: Incoming,
    limits: ReadLimits,
    admission: &Admission,
) -> Result<(Bytes, AdmissionPermit), Refusal> {
    let limit = limits.framing.limit();
    let declared = body
        .size_hint()
        .exact()
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    let mut deadline = Deadline::new(limits.read_timeout);
    let mut grpc = GrpcFrameCheck::new(limits.framing);

    let Some(first) = next_chunk(&mut body, &deadline).await? else {
        let permit = admission.admit(0).await?;
        grpc.finish(0)?;
        return Ok((Bytes::new(), permit));
    };
    check_size(first.len(), limit)?;
    grpc.check(&first, first.len())?;
    let waiting_since = Instant::now();
    let mut permit = admission.admit(first.len()).await?;
    // The wait for admission is the receiver's doing, not the client's.
    deadline.extend(waiting_since.elapsed());

    let mut buffer = Buffer::One(first);
    while let Some(chunk) = next_chunk(&mut body, &deadline).await? {
        let total = buffer.len().saturating_add(chunk.len());
        check_size(total, limit)?;
        grpc.check(&chunk, total)?;
        permit.grow_to(total)?;
        // A gRPC message's length is known from its prefix.
        let expected = grpc.expected_total.or(declared).unwrap_or(0).min(limit);
        buffer = buffer.push(chunk, expected);
    }
    grpc.finish(buffer.len())?;
    Ok((buffer.into_bytes(), permit))
}

fn check_size(total: usize, limit: usize) -> Result<(), Refusal> {
    if total > limit {
        Err(too_large(limit))
    } else {
        Ok(())
    }
}

/// When the body must have arrived.
struct Deadline(Option<Instant>);

impl Deadline {
    fn new(timeout: Option<Duration>) -> Deadline {
        Deadline(timeout.and_then(|t| Instant::now().checked_add(t)))
    }

    fn extend(&mut self, by: Duration) {
        self.0 = self.0.and_then(|at| at.checked_add(by));
    }
}

/// The next chunk of data; `None` at the end of the body. Trailers are skipped.
async fn next_chunk(body: &mut Incoming, deadline: &Deadline) -> Result<Option<Bytes>, Refusal> {
    loop {
        let frame = match deadline.0 {
            Some(at) => match tokio::time::timeout_at(at, body.frame()).await {
                Ok(frame) => frame,
                Err(_) => {
                    return Err(Refusal::TimedOut(
                        "the request body did not arrive within the read timeout".into(),
                    ));
                }
            },
            None => body.frame().await,
        };
        let Some(frame) = frame else {
            return Ok(None);
        };
        let frame =
            frame.map_err(|e| Refusal::Malformed(format!("cannot read the request body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            return Ok(Some(data));
        }
    }
}

/// Checks a gRPC call's body as it arrives: the announced message fits the limit, and
/// nothing follows it.
struct GrpcFrameCheck {
    max_message: Option<usize>,
    prefix: [u8; GRPC_PREFIX_LEN],
    prefix_filled: usize,
    /// Prefix and message, once the prefix is known.
    expected_total: Option<usize>,
}

impl GrpcFrameCheck {
    fn new(framing: Framing) -> GrpcFrameCheck {
        GrpcFrameCheck {
            max_message: match framing {
                Framing::Whole { .. } => None,
                Framing::GrpcMessage { max_message } => Some(max_message),
            },
            prefix: [0; GRPC_PREFIX_LEN],
            prefix_filled: 0,
            expected_total: None,
        }
    }

    /// Takes `chunk`, after which `total` bytes have arrived.
    fn check(&mut self, chunk: &[u8], total: usize) -> Result<(), Refusal> {
        let Some(max_message) = self.max_message else {
            return Ok(());
        };
        if self.prefix_filled < GRPC_PREFIX_LEN {
            let take = (GRPC_PREFIX_LEN - self.prefix_filled).min(chunk.len());
            self.prefix[self.prefix_filled..self.prefix_filled + take]
                .copy_from_slice(&chunk[..take]);
            self.prefix_filled += take;
            if self.prefix_filled == GRPC_PREFIX_LEN {
                let [_, a, b, c, d] = self.prefix;
                let length =
                    usize::try_from(u32::from_be_bytes([a, b, c, d])).unwrap_or(usize::MAX);
                if length > max_message {
                    // As grpc-go answers: the client must not retry this message.
                    return Err(Refusal::TooLarge(format!(
                        "received message larger than max ({length} vs. {max_message})"
                    )));
                }
                self.expected_total = Some(GRPC_PREFIX_LEN + length);
            }
        }
        match self.expected_total {
            Some(expected) if total > expected => Err(Refusal::ProtocolViolation(
                "grpc: client streaming protocol violation: more than one request message in a \
                 unary call"
                    .into(),
            )),
            _ => Ok(()),
        }
    }

    /// Checks the body ended after exactly one whole message.
    fn finish(&self, total: usize) -> Result<(), Refusal> {
        if self.max_message.is_none() {
            return Ok(());
        }
        match self.expected_total {
            None if total == 0 => Err(Refusal::ProtocolViolation("missing request message".into())),
            None => Err(Refusal::ProtocolViolation(
                "the request ended inside the message prefix".into(),
            )),
            Some(expected) if total < expected => Err(Refusal::ProtocolViolation(format!(
                "the request ended inside its message: {} of {} bytes arrived",
                total - GRPC_PREFIX_LEN,
                expected - GRPC_PREFIX_LEN
            ))),
            Some(_) => Ok(()),
        }
    }
}

/// The body so far: one chunk kept as received, or several joined.
enum Buffer {
    One(Bytes),
    Many(BytesMut),
}

impl Buffer {
    fn len(&self) -> usize {
        match self {
            Buffer::One(bytes) => bytes.len(),
            Buffer::Many(joined) => joined.len(),
        }
    }

    /// Appends `chunk`. The first join sizes the buffer for the declared length, but
    /// never past twice what has arrived, so a peer cannot make the receiver reserve memory
    /// for bytes it did not send; from there the buffer grows by doubling.
    fn push(self, chunk: Bytes, declared: usize) -> Buffer {
        let mut joined = match self {
            Buffer::One(first) => {
                let needed = first.len() + chunk.len();
                let capacity = declared.min(needed.saturating_mul(2)).max(needed);
                let mut joined = BytesMut::with_capacity(capacity);
                joined.extend_from_slice(&first);
                joined
            }
            Buffer::Many(joined) => joined,
        };
        joined.extend_from_slice(&chunk);
        Buffer::Many(joined)
    }

    fn into_bytes(self) -> Bytes {
        match self {
            Buffer::One(bytes) => bytes,
            Buffer::Many(joined) => joined.freeze(),
        }
    }
}
