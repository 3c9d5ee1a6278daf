//! Client-side compression: a [`Compression`] with its level, and kept compressor states.

use std::cell::RefCell;
use std::io::{self, Write};

use super::{Compression, CompressionParams};

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

    /// Appends `input`, compressed, to `out` (as is with `none`).
    pub fn compress_into(&self, input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        match self.compression {
            Compression::None => {
                out.extend_from_slice(input);
                Ok(())
            }
            Compression::Gzip => gzip_into(self.deflate_level(), input, out),
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
fn gzip_into(level: u32, input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
    let extra_flags = if level == 1 { 4 } else { 0 };
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, extra_flags, 0xff]);
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
        out.reserve(input.len() / 2 + 64);
        loop {
            let consumed = deflate.total_in() as usize;
            let status = deflate
                .compress_vec(&input[consumed..], out, flate2::FlushCompress::Finish)
                .map_err(io::Error::other)?;
            if status == flate2::Status::StreamEnd {
                return Ok::<(), io::Error>(());
            }
            // Out of room: grow and go on.
            out.reserve(out.capacity().max(4096));
        }
    })?;
    let mut crc = flate2::Crc::new();
    crc.update(input);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(input.len() as u32).to_le_bytes());
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
