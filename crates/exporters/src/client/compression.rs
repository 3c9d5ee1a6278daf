//! `compression` and `compression_params`: how request bodies are compressed on the wire.

use std::cell::RefCell;
use std::fmt;
use std::io;

use serde::Deserialize;
use tributary_pipeline_core::component::ConfigError;

/// How an exporter compresses what it sends: `gzip` (the default, as in the Go Collector),
/// `zstd`, or `none` (an empty string also means none).
///
/// The Go Collector also knows `snappy`, `deflate`, `zlib` and `lz4` for some transports;
/// those are refused here with a message naming the supported ones, rather than silently
/// sending uncompressed data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compression {
    /// gzip (`grpc-encoding: gzip` / `Content-Encoding: gzip`).
    #[default]
    Gzip,
    /// Zstandard (`zstd`).
    Zstd,
    /// Uncompressed.
    None,
}

impl Compression {
    /// The name used in configuration and on the wire (`gzip`, `zstd`, `none`).
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::None => "none",
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Compression {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        match name.as_str() {
            "gzip" => Ok(Compression::Gzip),
            "zstd" => Ok(Compression::Zstd),
            "none" | "" => Ok(Compression::None),
            other => Err(serde::de::Error::custom(format!(
                "unsupported compression {other:?}: use gzip, zstd or none"
            ))),
        }
    }
}

/// `compression_params`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompressionParams {
    /// Compression level; 0 means the default: 1, the fastest, for both. gzip accepts
    /// 1–9, zstd 1–22.
    pub level: i32,
}

impl CompressionParams {
    /// Checks the level against `compression`'s range; errors name `level`.
    pub fn validate(&self, compression: Compression) -> Result<(), ConfigError> {
        let range = match compression {
            Compression::Gzip => 1..=9,
            Compression::Zstd => 1..=22,
            Compression::None => return Ok(()),
        };
        if self.level != 0 && !range.contains(&self.level) {
            return Err(ConfigError::at(
                "level",
                format!(
                    "{compression} level must be between {} and {} (or 0 for the default)",
                    range.start(),
                    range.end()
                ),
            ));
        }
        Ok(())
    }
}

/// Default gzip level: the fastest. Level 6 (tonic's and grpc-go's) costs about three
/// times the CPU for OTLP bodies about a fifth smaller; see the `otlp` docs.
const DEFAULT_GZIP_LEVEL: u32 = 1;
/// Default zstd level: the fastest; measured somewhat cheaper than zstd's default, 3.
const DEFAULT_ZSTD_LEVEL: i32 = 1;

/// Batches whose encoding is at least this large are compressed (and JSON-encoded) on a
/// blocking thread, so a large batch does not stall the async runtime.
pub(crate) const OFFLOAD_THRESHOLD: usize = 64 * 1024;

/// A compression algorithm with its level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Compressor {
    pub compression: Compression,
    level: i32,
}

impl Compressor {
    pub(crate) fn new(compression: Compression, params: &CompressionParams) -> Self {
        Compressor {
            compression,
            level: params.level,
        }
    }

    /// Appends `input`, compressed, to `out` (as is with `none`).
    pub(crate) fn compress_into(&self, input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        match self.compression {
            Compression::None => {
                out.extend_from_slice(input);
                Ok(())
            }
            Compression::Gzip => {
                let level = match self.level {
                    0 => DEFAULT_GZIP_LEVEL,
                    level => level.clamp(1, 9) as u32,
                };
                gzip_into(level, input, out)
            }
            Compression::Zstd => {
                let level = match self.level {
                    0 => DEFAULT_ZSTD_LEVEL,
                    level => level,
                };
                zstd_into(level, input, out)
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

/// The largest zstd window (base-2 log) a response may ask for: 8 MiB, what `zstd -19`
/// uses, or the window covering the output limit when that is more, but never above
/// 128 MiB, zstd's own default — the receiver's rule (`receivers::otlp`'s compression).
/// A frame's window is allocated before anything is decoded, so a peer must not pick it.
#[cfg(feature = "otlp")]
fn zstd_window_log_max(limit: u64) -> u32 {
    const MIN_WINDOW_LOG: u32 = 23;
    const MAX_WINDOW_LOG: u32 = 27;
    let covering = u64::BITS - limit.saturating_sub(1).leading_zeros();
    covering.clamp(MIN_WINDOW_LOG, MAX_WINDOW_LOG)
}

/// Decompresses a body that arrived with `encoding` (`gzip`, `zstd`, `identity`).
///
/// # Errors
///
/// An output of more than `limit` bytes is an error naming the limit, never a truncated
/// body; so is a zstd frame asking for a window above [`zstd_window_log_max`], an unknown
/// encoding, or corrupt input.
#[cfg(feature = "otlp")]
pub(crate) fn decompress(encoding: &str, input: &[u8], limit: u64) -> io::Result<Vec<u8>> {
    use std::io::Read;
    // One byte past the limit tells "exactly at the limit" from "over it".
    let read_limited = |reader: &mut dyn Read| -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        reader.take(limit.saturating_add(1)).read_to_end(&mut out)?;
        Ok(out)
    };
    let out = match encoding {
        "identity" | "" => input.to_vec(),
        "gzip" => read_limited(&mut flate2::read::GzDecoder::new(input))?,
        "zstd" => {
            let mut decoder = zstd::stream::read::Decoder::new(input)?;
            decoder.window_log_max(zstd_window_log_max(limit))?;
            read_limited(&mut decoder)?
        }
        other => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unsupported encoding {other:?}"),
            ));
        }
    };
    if out.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the decompressed body exceeds the limit of {limit} bytes"),
        ));
    }
    Ok(out)
}

/// Runs CPU-heavy `work` on a blocking thread when `heavy`, inline otherwise (moving a
/// small job to another thread costs more than doing it).
pub(crate) async fn run_cpu_bound<R: Send + 'static>(
    heavy: bool,
    work: impl FnOnce() -> R + Send + 'static,
) -> Result<R, tokio::task::JoinError> {
    if heavy {
        tokio::task::spawn_blocking(work).await
    } else {
        Ok(work())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn compressed_bodies_round_trip_at_default_and_explicit_levels() {
        let input: Vec<u8> = (0..50_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        for (compression, level) in [
            (Compression::Gzip, 0),
            (Compression::Gzip, 9),
            (Compression::Zstd, 0),
            (Compression::Zstd, 19),
            (Compression::None, 0),
        ] {
            let compressor = Compressor::new(compression, &CompressionParams { level });
            let mut out = b"prefix".to_vec();
            compressor.compress_into(&input, &mut out).unwrap();
            assert_eq!(&out[..6], b"prefix");
            let body = &out[6..];
            let restored = match compression {
                Compression::None => body.to_vec(),
                Compression::Gzip => {
                    let mut restored = Vec::new();
                    flate2::read::GzDecoder::new(body)
                        .read_to_end(&mut restored)
                        .unwrap();
                    restored
                }
                Compression::Zstd => zstd::decode_all(body).unwrap(),
            };
            assert_eq!(restored, input, "{compression} level {level}");
        }
    }

    #[cfg(feature = "otlp")]
    fn compressed(compression: Compression, input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        Compressor::new(compression, &CompressionParams::default())
            .compress_into(input, &mut out)
            .unwrap();
        out
    }

    #[cfg(feature = "otlp")]
    #[test]
    fn a_body_at_the_limit_decompresses_and_one_over_it_is_an_error() {
        let input = vec![b'x'; 1000];
        for (encoding, compression) in [
            ("gzip", Compression::Gzip),
            ("zstd", Compression::Zstd),
            ("identity", Compression::None),
        ] {
            let body = compressed(compression, &input);
            assert_eq!(
                decompress(encoding, &body, 1000).unwrap(),
                input,
                "{encoding}"
            );
            let error = decompress(encoding, &body, 999).unwrap_err();
            assert_eq!(
                error.to_string(),
                "the decompressed body exceeds the limit of 999 bytes",
                "{encoding}"
            );
        }
    }

    #[cfg(feature = "otlp")]
    #[test]
    fn a_zstd_frame_asking_for_a_window_above_the_cap_is_refused() {
        use std::io::Write;
        let frame = |window_log: u32| {
            let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
            encoder.window_log(window_log).unwrap();
            // Without a content size the frame states its window instead.
            encoder.include_contentsize(false).unwrap();
            encoder.write_all(&[1u8; 1000]).unwrap();
            encoder.finish().unwrap()
        };
        // 4 MiB of output allowed: windows up to 8 MiB pass, 16 MiB is refused.
        let limit = 4 << 20;
        assert_eq!(decompress("zstd", &frame(23), limit).unwrap(), [1u8; 1000]);
        assert!(decompress("zstd", &frame(24), limit).is_err());
        // A larger limit allows the window covering it, up to 128 MiB.
        assert!(decompress("zstd", &frame(24), 16 << 20).is_ok());
        assert!(decompress("zstd", &frame(28), u64::MAX).is_err());
    }

    #[test]
    fn levels_are_checked_per_algorithm() {
        let params = |level| CompressionParams { level };
        assert!(params(0).validate(Compression::Gzip).is_ok());
        assert!(params(9).validate(Compression::Gzip).is_ok());
        assert_eq!(
            params(10).validate(Compression::Gzip).unwrap_err().path(),
            "level"
        );
        assert!(params(22).validate(Compression::Zstd).is_ok());
        assert!(params(-1).validate(Compression::Zstd).is_err());
        assert!(params(99).validate(Compression::None).is_ok());
    }
}
