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

use bytes::Bytes;
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
    /// Whether the body is compressed: its decompressed output will be admitted too.
    pub compressed: bool,
    /// The longest the request waits in line for its turn to be read while the budget is
    /// out (see [`Admission::turn`]).
    pub line_wait: Duration,
}

/// How long a request waits in line for its turn when its client names no deadline:
/// less than the 5 s an OpenTelemetry Collector's exporter and the 10 s an SDK's gives
/// each attempt, so that it is still waited for once admitted.
pub(crate) const DEFAULT_LINE_WAIT: Duration = Duration::from_secs(4);

/// How many times the bytes that arrived first a request may be admitted for, when it
/// announced more (see [`Assembly::reservation`]).
const RESERVATION_FACTOR: usize = 4;
/// What a request announcing at least this much is admitted for at least, however few of
/// its bytes arrived first (see [`Assembly::reservation`]).
const RESERVATION_FLOOR: usize = 64 * 1024;
/// For a compressed body, the output expected per byte of it (OTLP protobuf compresses
/// about 5 to 10 times), admitted up front with the body.
const EXPECTED_EXPANSION: usize = 8;

/// Reads the whole body, admitted into `admission` as it arrives; returns it with the
/// permit holding its share, to be dropped once the pipeline answered.
pub(crate) async fn read(
    mut body: Incoming,
    limits: ReadLimits,
    admission: &Admission,
) -> Result<(Bytes, AdmissionPermit), Refusal> {
    let declared = body
        .size_hint()
        .exact()
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    let mut deadline = Deadline::new(limits.read_timeout);
    let mut assembly = Assembly::new(limits.framing, declared);

    // While the budget is out, the body stays unread (in flow control) until its turn.
    if let Err(refusal) = admission.turn(limits.line_wait).await {
        drain_refused(&mut body, limits.framing, declared).await;
        return Err(refusal.into());
    }
    let Some(first) = next_chunk(&mut body, &deadline).await? else {
        let permit = admission.admit(0).await?;
        return Ok((assembly.finish()?, permit));
    };
    let total = assembly.check(&first)?;
    let waiting_since = Instant::now();
    let mut permit = match admission
        .admit(assembly.reservation(total, limits.compressed))
        .await
    {
        Ok(permit) => permit,
        Err(refusal) => {
            drain_refused(&mut body, limits.framing, declared).await;
            return Err(refusal.into());
        }
    };
    // The wait for admission is the receiver's doing, not the client's.
    deadline.extend(waiting_since.elapsed());
    assembly.keep(first);

    while let Some(chunk) = next_chunk(&mut body, &deadline).await? {
        let total = assembly.check(&chunk)?;
        permit.grow_to(total)?;
        assembly.keep(chunk);
    }
    Ok((assembly.finish()?, permit))
}

/// The most of a refused HTTP body read (and discarded) so that the refusal reaches its
/// client, and how long that may take.
const DRAIN_LIMIT: usize = 1024 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(1);

/// Reads and discards what is left of a small HTTP body refused for lack of room, so that
/// its connection stays open. HTTP/1.1 cannot go on past an unread body: the server closes
/// the connection after the 429, and a client that sends its next request on it meanwhile
/// sees a broken connection instead of an answer. Reading a small body costs little
/// beside the decoding that is saved. gRPC streams are reset one by one without harm, and
/// large or slow bodies are left unread.
async fn drain_refused(body: &mut Incoming, framing: Framing, declared: Option<usize>) {
    if !matches!(framing, Framing::Whole { .. }) || declared.is_some_and(|n| n > DRAIN_LIMIT) {
        return;
    }
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        let mut read = 0;
        while read <= DRAIN_LIMIT {
            match body.frame().await {
                Some(Ok(frame)) => read += frame.data_ref().map_or(0, Bytes::len),
                _ => break,
            }
        }
    })
    .await;
}

/// The body of one gRPC call arriving in `chunks`, framed as [`read`] frames it: the whole
/// length-prefixed message (prefix included), or why the call is refused.
// Exposed for the fuzz targets.
#[doc(hidden)]
pub fn frame_grpc_message(
    chunks: impl IntoIterator<Item = Bytes>,
    max_message: usize,
) -> Result<Bytes, String> {
    let mut assembly = Assembly::new(Framing::GrpcMessage { max_message }, None);
    for chunk in chunks {
        assembly
            .check(&chunk)
            .map_err(|refusal| refusal.message())?;
        assembly.keep(chunk);
    }
    assembly.finish().map_err(|refusal| refusal.message())
}

/// A body put together from its chunks: each is checked against the size limit and the
/// framing before it is kept, so that [`read`] can admit the bytes in between.
struct Assembly {
    limit: usize,
    /// The length the request declared (`Content-Length`), if any.
    declared: Option<usize>,
    grpc: GrpcFrameCheck,
    buffer: Option<Buffer>,
}

impl Assembly {
    fn new(framing: Framing, declared: Option<usize>) -> Assembly {
        Assembly {
            limit: framing.limit(),
            declared,
            grpc: GrpcFrameCheck::new(framing),
            buffer: None,
        }
    }

    fn len(&self) -> usize {
        self.buffer.as_ref().map_or(0, Buffer::len)
    }

    /// Checks that `chunk` may join the body; returns the body's length with it. The
    /// chunk must then be passed to [`keep`](Self::keep).
    fn check(&mut self, chunk: &[u8]) -> Result<usize, Refusal> {
        let total = self.len().saturating_add(chunk.len());
        check_size(total, self.limit)?;
        self.grpc.check(chunk, total)?;
        Ok(total)
    }

    /// The length the request announced (its gRPC length prefix, else its
    /// `Content-Length`), within the size limit.
    fn announced(&self) -> Option<usize> {
        self.grpc
            .expected_total
            .or(self.declared)
            .map(|n| n.min(self.limit))
    }

    /// What to admit a request for once its first `arrived` bytes are in: what it
    /// announced (and, `compressed`, the output expected of it, within the size limit),
    /// but never more than [`RESERVATION_FACTOR`] times that share of what arrived.
    ///
    /// Admitting only what arrived lets a burst of concurrent requests each take a first
    /// HTTP/2 frame's worth, spend the whole budget on first frames, and then be refused
    /// one by one as the rest of each body (or its decompressed output) finds no room: the
    /// work of reading them is lost, and at four times saturation goodput fell to a third.
    /// Admitting what they announce would let silent clients reserve the budget with a few
    /// bytes each (issue 11, defect 1). In between, a request announcing a normal size is
    /// admitted whole from its first frame, while a stalled client holds at most a few
    /// times what it sent, or [`RESERVATION_FLOOR`]: a first frame cut short by HTTP/2
    /// flow control (the connection's window nearly spent, as it is under overload) would
    /// otherwise admit a normal request for a fraction of itself, and the rest would be
    /// refused as it arrived.
    fn reservation(&self, arrived: usize, compressed: bool) -> usize {
        let Some(announced) = self.announced() else {
            return arrived;
        };
        let expected_output = if compressed { EXPECTED_EXPANSION } else { 0 };
        let whole =
            announced.saturating_add(announced.saturating_mul(expected_output).min(self.limit));
        whole
            .min(
                arrived
                    .saturating_mul(RESERVATION_FACTOR * (1 + expected_output))
                    .max(RESERVATION_FLOOR),
            )
            .max(arrived)
    }

    /// Appends a chunk [`check`](Self::check) accepted. A buffer that must grow grows to
    /// what the request is admitted for at its new length ([`reservation`](Self::reservation)):
    /// never more than its admission holds, and in few steps when HTTP/2 flow control cuts
    /// the body into small frames (doubling from the first of them cost a copy per step).
    /// Without an announced length (chunked HTTP), by doubling.
    fn keep(&mut self, chunk: Bytes) {
        let needed = self.len() + chunk.len();
        let grow_to = match self.announced() {
            Some(announced) if needed <= announced => self.reservation(needed, false),
            _ => needed.saturating_mul(2),
        };
        self.buffer = Some(match self.buffer.take() {
            None => Buffer::One(chunk),
            Some(buffer) => buffer.push(chunk, grow_to),
        });
    }

    /// The whole body, once it ended; refused when it ended before its framing did.
    fn finish(self) -> Result<Bytes, Refusal> {
        self.grpc.finish(self.len())?;
        Ok(self.buffer.map_or_else(Bytes::new, Buffer::into_bytes))
    }
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
    Many(Vec<u8>),
}

impl Buffer {
    fn len(&self) -> usize {
        match self {
            Buffer::One(bytes) => bytes.len(),
            Buffer::Many(joined) => joined.len(),
        }
    }

    /// Appends `chunk`, growing to `grow_to` bytes (at least the new length) when full.
    fn push(self, chunk: Bytes, grow_to: usize) -> Buffer {
        let (mut joined, first) = match self {
            Buffer::One(first) => (Vec::new(), Some(first)),
            Buffer::Many(joined) => (joined, None),
        };
        let needed = first.as_ref().map_or(joined.len(), Bytes::len) + chunk.len();
        if needed > joined.capacity() {
            joined.reserve_exact(grow_to.max(needed) - joined.len());
        }
        if let Some(first) = first {
            joined.extend_from_slice(&first);
        }
        joined.extend_from_slice(&chunk);
        Buffer::Many(joined)
    }

    /// The body, without spare room: it lives on in the pipeline (batches, queues) long
    /// after it was read.
    fn into_bytes(self) -> Bytes {
        match self {
            Buffer::One(bytes) => bytes,
            Buffer::Many(mut joined) => {
                if joined.capacity() - joined.len() > joined.len() / 8 {
                    joined.shrink_to_fit();
                }
                Bytes::from(joined)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A gRPC body's first `arrived` bytes, announcing a `length`-byte message.
    fn grpc_first_chunk(length: u32, arrived: usize) -> Assembly {
        let mut assembly = Assembly::new(
            Framing::GrpcMessage {
                max_message: 4 << 20,
            },
            None,
        );
        let mut chunk = vec![0u8];
        chunk.extend(length.to_be_bytes());
        chunk.resize(arrived.max(GRPC_PREFIX_LEN), 0);
        assembly.check(&chunk).unwrap();
        assembly
    }

    /// An HTTP body of `pieces` chunks of 1,000 bytes announcing `declared`, with the
    /// buffer's capacity after each chunk.
    fn assembled_in_pieces(pieces: usize, declared: Option<usize>) -> (Assembly, Vec<usize>) {
        let piece = Bytes::from(vec![7u8; 1000]);
        let mut assembly = Assembly::new(Framing::Whole { limit: 20 << 20 }, declared);
        let mut capacities = Vec::new();
        for _ in 0..pieces {
            assembly.check(&piece).unwrap();
            assembly.keep(piece.clone());
            if let Some(Buffer::Many(joined)) = &assembly.buffer {
                capacities.push(joined.capacity());
            }
        }
        (assembly, capacities)
    }

    #[test]
    fn a_body_arriving_in_pieces_is_held_without_spare_room() {
        // Announced: the buffer grows towards the announced length, never past it, and in
        // few steps: at once to the floor, then to four times what arrived.
        let (assembly, mut capacities) = assembled_in_pieces(100, Some(100_000));
        assert!(capacities.iter().all(|&c| c <= 100_000), "{capacities:?}");
        capacities.dedup();
        assert_eq!(capacities, [RESERVATION_FLOOR, 100_000]);
        assert_eq!(assembly.finish().unwrap().len(), 100_000);
        // A body within the floor is allocated once, whole.
        let (_, capacities) = assembled_in_pieces(40, Some(40_000));
        assert!(capacities.iter().all(|&c| c == 40_000), "{capacities:?}");
        // Not announced (chunked HTTP): doubling, and the spare room given back at the end.
        let (assembly, capacities) = assembled_in_pieces(70, None);
        assert!(
            capacities.last().is_some_and(|&c| c > 80_000),
            "grew by doubling: spare room to give back"
        );
        let body = assembly.finish().unwrap();
        assert_eq!(body.len(), 70_000);
    }

    #[test]
    fn a_request_is_admitted_whole_from_its_first_frame() {
        let assembly = grpc_first_chunk(40_000, 16_384);
        assert_eq!(assembly.reservation(16_384, false), 40_005);
    }

    #[test]
    fn a_stalled_request_reserves_only_a_few_times_what_it_sent_or_the_floor() {
        let assembly = grpc_first_chunk(4_000_000, GRPC_PREFIX_LEN);
        assert_eq!(
            assembly.reservation(GRPC_PREFIX_LEN, false),
            RESERVATION_FLOOR
        );
        let assembly = grpc_first_chunk(4_000_000, 32_768);
        assert_eq!(assembly.reservation(32_768, false), 4 * 32_768);
    }

    #[test]
    fn a_first_frame_cut_short_still_admits_a_normal_request_whole() {
        // The connection's window let only 1,000 bytes of a 25 kB request through first.
        let assembly = grpc_first_chunk(25_000, 1_000);
        assert_eq!(assembly.reservation(1_000, false), 25_005);
    }

    #[test]
    fn a_compressed_body_reserves_its_expected_output_within_the_limit() {
        let mut assembly = Assembly::new(Framing::Whole { limit: 20 << 20 }, Some(8_000));
        assembly.check(&[0; 8_000]).unwrap();
        assert_eq!(assembly.reservation(8_000, true), 8_000 * 9);
        let mut small_limit = Assembly::new(Framing::Whole { limit: 10_000 }, Some(8_000));
        small_limit.check(&[0; 8_000]).unwrap();
        assert_eq!(small_limit.reservation(8_000, true), 18_000);
    }

    #[test]
    fn without_an_announced_length_only_what_arrived_is_admitted() {
        let mut assembly = Assembly::new(Framing::Whole { limit: 20 << 20 }, None);
        assembly.check(&[0; 1_000]).unwrap();
        assert_eq!(assembly.reservation(1_000, true), 1_000);
    }
}
