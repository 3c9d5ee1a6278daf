//! Server-side decompression: the encodings a request may use, decoded within a size
//! limit and a memory budget.

use std::fmt;
use std::io::Read;

use super::release_spare;

/// How a request body (HTTP) or message (gRPC) is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// Not compressed.
    Identity,
    /// `gzip`, including concatenated gzip members.
    Gzip,
    /// `zstd`.
    Zstd,
    /// `zlib`: deflate in the zlib wrapper.
    Zlib,
    /// `deflate`: by the HTTP standard the zlib wrapper, but some clients send raw deflate;
    /// the wrapper is recognised by its header.
    Deflate,
    /// `snappy`: the block format, or the framing format when the data starts with its
    /// stream identifier.
    Snappy,
    /// `x-snappy-framed`: the snappy framing format.
    SnappyFramed,
    /// `lz4`: the LZ4 frame format.
    Lz4,
}

/// Every encoding a server can decode, by its HTTP name.
const ALL: [Encoding; 8] = [
    Encoding::Identity,
    Encoding::Gzip,
    Encoding::Zstd,
    Encoding::Zlib,
    Encoding::Deflate,
    Encoding::Snappy,
    Encoding::SnappyFramed,
    Encoding::Lz4,
];

impl Encoding {
    /// The encoding an HTTP `Content-Encoding` names (case-insensitive; `x-gzip` is gzip,
    /// empty is identity); `None` when unknown.
    pub fn from_http(name: &str) -> Option<Encoding> {
        let name = name.trim().to_ascii_lowercase();
        if name == "x-gzip" {
            return Some(Encoding::Gzip);
        }
        ALL.into_iter()
            .find(|e| e.name() == name || (name.is_empty() && *e == Encoding::Identity))
    }

    /// The encoding a gRPC `grpc-encoding` names; `None` when unknown.
    pub fn from_grpc(name: &str) -> Option<Encoding> {
        match name.trim() {
            "" | "identity" => Some(Encoding::Identity),
            "gzip" => Some(Encoding::Gzip),
            "zstd" => Some(Encoding::Zstd),
            // gRPC's deflate is the zlib format; raw deflate is recognised too.
            "deflate" => Some(Encoding::Deflate),
            "zlib" => Some(Encoding::Zlib),
            "snappy" => Some(Encoding::Snappy),
            "lz4" => Some(Encoding::Lz4),
            _ => None,
        }
    }

    /// The encodings a gRPC server decodes, as its `grpc-accept-encoding` lists them.
    pub const GRPC_ACCEPTED: &'static str = "gzip,zstd,deflate,zlib,snappy,lz4,identity";

    /// The name of the encoding on the wire (`identity` for none).
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Identity => "identity",
            Encoding::Gzip => "gzip",
            Encoding::Zstd => "zstd",
            Encoding::Zlib => "zlib",
            Encoding::Deflate => "deflate",
            Encoding::Snappy => "snappy",
            Encoding::SnappyFramed => "x-snappy-framed",
            Encoding::Lz4 => "lz4",
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Memory a request may hold: decompression takes each growth of its output from it
/// before allocating. A receiver's admission control implements it; [`NoBudget`] allows
/// anything within the size limit.
pub trait Budget {
    /// Why a growth was refused.
    type Refusal;

    /// Grows what the request holds to `bytes` in all, or refuses.
    fn grow_to(&mut self, bytes: usize) -> Result<(), Self::Refusal>;
}

/// A [`Budget`] with no bound beyond the size limit.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoBudget;

impl Budget for NoBudget {
    type Refusal = std::convert::Infallible;

    fn grow_to(&mut self, _bytes: usize) -> Result<(), Self::Refusal> {
        Ok(())
    }
}

/// Why decompression failed.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecompressError<R> {
    /// The output would pass the limit (in bytes): HTTP 413, gRPC `RESOURCE_EXHAUSTED`.
    #[error("the decompressed request is larger than the limit of {0} bytes")]
    TooLarge(usize),
    /// The input is not valid data of its encoding: HTTP 400, gRPC `INVALID_ARGUMENT`.
    #[error("cannot decompress the {encoding} data: {message}")]
    Corrupt {
        /// The encoding.
        encoding: Encoding,
        /// What is wrong.
        message: String,
    },
    /// The budget refused to grow.
    #[error("the memory budget refused the request")]
    Refused(R),
}

/// The first output buffer holds this many times the compressed size (typical OTLP
/// compression ratios), and at least this many bytes.
const EXPECTED_RATIO: usize = 4;
const MIN_BUFFER: usize = 4096;
/// deflate's largest expansion: a stream cannot decode to more than about 1032 times its
/// size, so a size hint beyond that is a lie.
const DEFLATE_MAX_RATIO: usize = 1032;

/// What a decompressed body's size is expected to be, to size the first output buffer.
#[derive(Clone, Copy)]
enum Expected {
    /// A typical multiple of the compressed size (`EXPECTED_RATIO`).
    Typical(usize),
    /// The size the input says it decodes to, if it says and it is plausible; otherwise
    /// as `Typical`. A hint is only a first guess: the output still grows past it (and is
    /// still refused past the limit) if it lied.
    Hinted(usize, Option<usize>),
}

impl Expected {
    /// The first buffer's size: one byte past a hint, so that reading to the end of a
    /// body of exactly that size needs no second buffer.
    fn first_buffer(self) -> usize {
        match self {
            Expected::Hinted(_, Some(size)) => size.saturating_add(1),
            Expected::Hinted(compressed, None) | Expected::Typical(compressed) => {
                compressed.saturating_mul(EXPECTED_RATIO).max(MIN_BUFFER)
            }
        }
    }
}

/// The decompressed size a gzip body states in its last member's trailer (ISIZE, RFC 1952
/// §2.3.1: the size modulo 2^32), when it is plausible: within what deflate can expand
/// the body to. For a single-member body (what clients send) it is exact; for several
/// members it is the last one's and the output grows past it.
fn gzip_size_hint(input: &[u8]) -> Option<usize> {
    // A header (10 bytes), an empty deflate block (2) and the trailer (8).
    const SMALLEST_MEMBER: usize = 20;
    let trailer = input
        .len()
        .checked_sub(4)
        .filter(|_| input.len() >= SMALLEST_MEMBER)?;
    let size = u32::from_le_bytes(input[trailer..].try_into().ok()?) as usize;
    (size <= input.len().saturating_mul(DEFLATE_MAX_RATIO)).then_some(size)
}

/// The zstd window (base-2 log) allowed whatever the limit: 8 MiB, what `zstd -19` uses.
const MIN_WINDOW_LOG: u32 = 23;
/// The largest zstd window allowed: 128 MiB, zstd's own default limit.
const MAX_WINDOW_LOG: u32 = 27;

/// The snappy framing format's stream identifier chunk.
const SNAPPY_STREAM_IDENTIFIER: &[u8] = b"\xff\x06\x00\x00sNaPpY";

/// Decompresses `input`, encoded with `encoding`, into at most `limit` bytes, taking
/// memory from `budget` before allocating it. `Identity` copies nothing: use the input as
/// it is instead of calling this.
pub fn decompress<B: Budget>(
    encoding: Encoding,
    input: &[u8],
    limit: usize,
    budget: &mut B,
) -> Result<Vec<u8>, DecompressError<B::Refusal>> {
    let corrupt = |error: &dyn fmt::Display| DecompressError::Corrupt {
        encoding,
        message: error.to_string(),
    };
    let result = match encoding {
        Encoding::Identity => {
            if input.len() > limit {
                return Err(DecompressError::TooLarge(limit));
            }
            budget
                .grow_to(input.len())
                .map_err(DecompressError::Refused)?;
            return Ok(input.to_vec());
        }
        Encoding::Gzip => read_limited(
            flate2::read::MultiGzDecoder::new(input),
            Expected::Hinted(input.len(), gzip_size_hint(input)),
            limit,
            0,
            budget,
        ),
        Encoding::Zlib => read_limited(
            flate2::read::ZlibDecoder::new(input),
            Expected::Typical(input.len()),
            limit,
            0,
            budget,
        ),
        Encoding::Deflate if has_zlib_header(input) => read_limited(
            flate2::read::ZlibDecoder::new(input),
            Expected::Typical(input.len()),
            limit,
            0,
            budget,
        ),
        Encoding::Deflate => read_limited(
            flate2::read::DeflateDecoder::new(input),
            Expected::Typical(input.len()),
            limit,
            0,
            budget,
        ),
        Encoding::Zstd => {
            let mut decoder =
                zstd::stream::read::Decoder::with_buffer(input).map_err(|e| corrupt(&e))?;
            // A frame's window is allocated before anything is decoded. Allow what
            // standard compression levels use (up to 8 MiB), or the largest body when
            // that is more; a frame asking for more is refused instead of allocated.
            let window_log_max = window_log(limit).clamp(MIN_WINDOW_LOG, MAX_WINDOW_LOG);
            decoder
                .window_log_max(window_log_max)
                .map_err(|e| corrupt(&e))?;
            // The window is memory the request holds too.
            let window = zstd_window_size(input)
                .unwrap_or(0)
                .min(1 << window_log_max);
            read_limited(
                decoder,
                Expected::Typical(input.len()),
                limit,
                window,
                budget,
            )
        }
        // A block is never empty (it starts with its length); an empty body is a framed
        // stream of nothing, which is what the framing encoder writes for an empty message.
        Encoding::Snappy if !input.is_empty() && !input.starts_with(SNAPPY_STREAM_IDENTIFIER) => {
            return snappy_block(input, limit, budget);
        }
        // The framing format's chunks hold at most 64 KiB each: bounded decoder memory.
        Encoding::Snappy | Encoding::SnappyFramed => read_limited(
            snap::read::FrameDecoder::new(input),
            Expected::Typical(input.len()),
            limit,
            0,
            budget,
        ),
        // LZ4 frames' blocks are at most 4 MiB: bounded decoder memory.
        Encoding::Lz4 => read_limited(
            lz4_flex::frame::FrameDecoder::new(input),
            Expected::Typical(input.len()),
            limit,
            4 << 20,
            budget,
        ),
    };
    result.map_err(|error| match error {
        ReadError::TooLarge => DecompressError::TooLarge(limit),
        ReadError::Refused(refusal) => DecompressError::Refused(refusal),
        ReadError::Io(e) => corrupt(&e),
    })
}

/// A snappy block: its length is stated up front, so it is checked before allocating.
fn snappy_block<B: Budget>(
    input: &[u8],
    limit: usize,
    budget: &mut B,
) -> Result<Vec<u8>, DecompressError<B::Refusal>> {
    let corrupt = |error: snap::Error| DecompressError::Corrupt {
        encoding: Encoding::Snappy,
        message: error.to_string(),
    };
    let length = snap::raw::decompress_len(input).map_err(corrupt)?;
    if length > limit {
        return Err(DecompressError::TooLarge(limit));
    }
    budget.grow_to(length).map_err(DecompressError::Refused)?;
    let mut out = vec![0; length];
    let written = snap::raw::Decoder::new()
        .decompress(input, &mut out)
        .map_err(corrupt)?;
    out.truncate(written);
    Ok(out)
}

/// Whether `data` starts with a zlib header (RFC 1950: deflate method, check bits).
fn has_zlib_header(data: &[u8]) -> bool {
    match data {
        [cmf, flg, ..] => cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

/// The window a zstd frame asks for, from its header (RFC 8878 §3.1.1.1): the content size
/// for a single-segment frame, else what the window descriptor says. `None` when `data`
/// does not start with a readable frame header (the decoder will say why).
pub(crate) fn zstd_window_size(data: &[u8]) -> Option<usize> {
    const MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
    let (magic, rest) = data.split_first_chunk::<4>()?;
    if *magic != MAGIC {
        return None;
    }
    let (&descriptor, rest) = rest.split_first()?;
    let single_segment = descriptor & 0x20 != 0;
    if !single_segment {
        let window_descriptor = *rest.first()?;
        let exponent = u32::from(window_descriptor >> 3);
        let mantissa = usize::from(window_descriptor & 7);
        let base = 1usize.checked_shl(10 + exponent)?;
        return Some(base + base / 8 * mantissa);
    }
    // Single segment: the window is the content size, after the dictionary ID.
    let dictionary_id_len = [0, 1, 2, 4][usize::from(descriptor & 3)];
    let size_field = &rest.get(dictionary_id_len..)?;
    let size = match descriptor >> 6 {
        0 => u64::from(*size_field.first()?),
        1 => u64::from(u16::from_le_bytes(*size_field.first_chunk::<2>()?)) + 256,
        2 => u64::from(u32::from_le_bytes(*size_field.first_chunk::<4>()?)),
        _ => u64::from_le_bytes(*size_field.first_chunk::<8>()?),
    };
    usize::try_from(size).ok()
}

/// The base-2 log of the smallest window covering `limit` bytes.
pub(crate) fn window_log(limit: usize) -> u32 {
    usize::BITS - limit.saturating_sub(1).leading_zeros()
}

enum ReadError<R> {
    TooLarge,
    Refused(R),
    Io(std::io::Error),
}

/// Reads `reader` to its end into one buffer of at most `limit` bytes. The buffer grows
/// geometrically; each growth is first taken from `budget`, together with the decoder's
/// own `overhead`, so the memory a request holds is admitted before it is allocated. One
/// byte past `limit` is read to tell "exactly at the limit" from "over it".
fn read_limited<B: Budget>(
    mut reader: impl Read,
    expected: Expected,
    limit: usize,
    overhead: usize,
    budget: &mut B,
) -> Result<Vec<u8>, ReadError<B::Refusal>> {
    let ceiling = limit.saturating_add(1);
    let mut out: Vec<u8> = Vec::new();
    loop {
        if out.len() == out.capacity() {
            if out.len() > limit {
                return Err(ReadError::TooLarge);
            }
            let target = if out.capacity() == 0 {
                expected.first_buffer()
            } else {
                out.capacity().saturating_mul(2)
            }
            .min(ceiling);
            budget
                .grow_to(target.saturating_add(overhead))
                .map_err(ReadError::Refused)?;
            out.reserve_exact(target - out.len());
        }
        let room = out.capacity() - out.len();
        let read = (&mut reader)
            .take(room as u64)
            .read_to_end(&mut out)
            .map_err(ReadError::Io)?;
        if read < room {
            break;
        }
    }
    if out.len() > limit {
        return Err(ReadError::TooLarge);
    }
    release_spare(&mut out);
    Ok(out)
}
