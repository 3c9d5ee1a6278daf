//! `compression` and `compression_params`: how request bodies are compressed on the wire,
//! by [`configcompression`](tributary_pipeline_core::configcompression)'s compressors.

#[cfg(feature = "otlp")]
use std::io;

pub use tributary_pipeline_core::configcompression::{Compression, CompressionParams, Compressor};

/// Batches whose encoding is at least this large are compressed (and JSON-encoded) on a
/// blocking thread, so a large batch does not stall the async runtime.
pub(crate) const OFFLOAD_THRESHOLD: usize = 64 * 1024;

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
    use super::*;

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
}
