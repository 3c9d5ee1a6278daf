//! Client-side compression: a [`Compression`] with its level, and kept compressor states.

use std::cell::RefCell;
use std::io::{self, Write};

use super::{Compression, CompressionParams, release_spare};

/// Default gzip/zlib/deflate level: the fastest. Level 6 (tonic's and grpc-go's) costs
/// about three times the CPU for OTLP bodies about a fifth smaller.
const DEFAULT_DEFLATE_LEVEL: u32 = 1;
/// Default zstd level: the fastest; measured somewhat cheaper than zstd's default, 3.
const DEFAULT_ZSTD_LEVEL: i32 = 1;

/// A compression algorithm with its level: what a client compresses each request with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Compressor {
    /// The algorithm.
    pub compression: Compression,
    level: i32,
    /// snappy in the framing format rather than one block (gRPC's snappy codec).
    snappy_framed: bool,
}

impl Compressor {
    /// `compression` at `params`' level, for HTTP bodies (snappy as one block).
    pub fn new(compression: Compression, params: &CompressionParams) -> Self {
        Compressor {
            compression,
            level: params.level,
            snappy_framed: false,
        }
    }

    /// The same, for gRPC messages: snappy in the framing format, as Go's gRPC snappy
    /// codec sends and expects it.
    pub fn for_grpc(mut self) -> Self {
        self.snappy_framed = true;
        self
    }

    fn deflate_level(&self) -> u32 {
        match self.level {
            0 => DEFAULT_DEFLATE_LEVEL,
            level => level.clamp(1, 9) as u32,
        }
    }

    /// Appends the concatenation of `parts`, compressed, to `out`: what
    /// [`compress_into`](Self::compress_into) appends for the parts joined (the same
    /// bytes once decompressed). gzip and `none` read the parts one by one, so a batch
    /// merged from many received requests (a payload's
    /// [`encoded_parts`](crate::pdata::Payload::encoded_parts)) is not first copied into
    /// one buffer; the other algorithms join them.
    pub fn compress_parts_into<P: AsRef<[u8]>>(
        &self,
        parts: &[P],
        out: &mut Vec<u8>,
    ) -> io::Result<()> {
        match (self.compression, parts) {
            (_, [one]) => self.compress_into(one.as_ref(), out),
            (Compression::None, _) => {
                for part in parts {
                    out.extend_from_slice(part.as_ref());
                }
                Ok(())
            }
            (Compression::Gzip, _) => {
                gzip_into(self.deflate_level(), parts, out)?;
                release_spare(out);
                Ok(())
            }
            _ => {
                let mut joined = Vec::with_capacity(parts.iter().map(|p| p.as_ref().len()).sum());
                for part in parts {
                    joined.extend_from_slice(part.as_ref());
                }
                self.compress_into(&joined, out)
            }
        }
    }

    /// Appends `input`, compressed, to `out` (as is with `none`). The output buffer is
    /// sized by a guess; room left over beyond an eighth is given back.
    pub fn compress_into(&self, input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        self.compress_one_into(input, out)?;
        if self.compression != Compression::None {
            release_spare(out);
        }
        Ok(())
    }

    fn compress_one_into(&self, input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        match self.compression {
            Compression::None => {
                out.extend_from_slice(input);
                Ok(())
            }
            Compression::Gzip => gzip_into(self.deflate_level(), &[input], out),
            Compression::Zlib | Compression::Deflate => {
                let mut encoder = flate2::write::ZlibEncoder::new(
                    out,
                    flate2::Compression::new(self.deflate_level()),
                );
                encoder.write_all(input)?;
                encoder.finish().map(|_| ())
            }
            Compression::Zstd => {
                let level = match self.level {
                    0 => DEFAULT_ZSTD_LEVEL,
                    level => level,
                };
                zstd_into(level, input, out)
            }
            Compression::Snappy if self.snappy_framed => {
                let mut encoder = snap::write::FrameEncoder::new(out);
                encoder.write_all(input)?;
                encoder.flush()
            }
            Compression::Snappy => {
                let start = out.len();
                out.resize(start + snap::raw::max_compress_len(input.len()), 0);
                let written = snap::raw::Encoder::new()
                    .compress(input, &mut out[start..])
                    .map_err(io::Error::other)?;
                out.truncate(start + written);
                Ok(())
            }
            Compression::Lz4 => {
                let mut encoder = lz4_flex::frame::FrameEncoder::new(out);
                encoder.write_all(input)?;
                encoder.finish().map(|_| ()).map_err(io::Error::other)
            }
        }
    }
}

// Compressor states are large (zlib's window and hash tables, zstd's context: hundreds of
// KiB) and expensive to set up; making one per request cost as much as compressing a
// typical batch. Each thread keeps one per algorithm and reuses it.
thread_local! {
    static GZIP: RefCell<Option<(u32, flate2::Compress)>> = const { RefCell::new(None) };
    static ZSTD: RefCell<Option<(i32, zstd::bulk::Compressor<'static>)>> = const { RefCell::new(None) };
}

/// gzip (RFC 1952): a 10-byte header, raw deflate, CRC-32 and length.
fn gzip_into<P: AsRef<[u8]>>(level: u32, parts: &[P], out: &mut Vec<u8>) -> io::Result<()> {
    let extra_flags = if level == 1 { 4 } else { 0 };
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, extra_flags, 0xff]);
    let total: usize = parts.iter().map(|part| part.as_ref().len()).sum();
    GZIP.with(|cell| {
        let mut slot = cell.borrow_mut();
        let deflate = match &mut *slot {
            Some((kept, deflate)) if *kept == level => {
                deflate.reset();
                deflate
            }
            slot => {
                let (_, deflate) = slot.insert((
                    level,
                    flate2::Compress::new(flate2::Compression::new(level), false),
                ));
                deflate
            }
        };
        out.reserve(total / 2 + 64);
        let last = parts.len().saturating_sub(1);
        let empty: &[u8] = &[];
        // No parts: one empty input, still finished into a valid stream.
        let inputs = parts
            .iter()
            .map(AsRef::as_ref)
            .chain(parts.is_empty().then_some(empty));
        for (index, input) in inputs.enumerate() {
            let flush = if index == last {
                flate2::FlushCompress::Finish
            } else {
                flate2::FlushCompress::None
            };
            let start = deflate.total_in();
            loop {
                let consumed = (deflate.total_in() - start) as usize;
                let status = deflate
                    .compress_vec(&input[consumed..], out, flush)
                    .map_err(io::Error::other)?;
                let done = if index == last {
                    status == flate2::Status::StreamEnd
                } else {
                    (deflate.total_in() - start) as usize == input.len()
                };
                if done {
                    break;
                }
                // Out of room: grow and go on.
                out.reserve(out.capacity().max(4096));
            }
        }
        Ok::<(), io::Error>(())
    })?;
    let mut crc = flate2::Crc::new();
    for part in parts {
        crc.update(part.as_ref());
    }
    out.extend_from_slice(&crc.sum().to_le_bytes());
    // ISIZE: the input's length modulo 2^32.
    out.extend_from_slice(&(total as u32).to_le_bytes());
    Ok(())
}

/// One zstd frame holding `input`.
fn zstd_into(level: i32, input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
    ZSTD.with(|cell| {
        let mut slot = cell.borrow_mut();
        let compressor = match &mut *slot {
            Some((kept, compressor)) if *kept == level => compressor,
            slot => &mut slot.insert((level, zstd::bulk::Compressor::new(level)?)).1,
        };
        let compressed = compressor.compress(input)?;
        out.extend_from_slice(&compressed);
        Ok(())
    })
}
