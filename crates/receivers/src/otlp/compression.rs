//! Compressed OTLP/HTTP request bodies (`Content-Encoding`): gzip, zstd, and deflate in
//! both its zlib-wrapped and raw forms, decompressed within the size limit so a
//! decompression bomb is refused after at most `limit` bytes of output.

use std::io::Read;

use bytes::Bytes;
use http::HeaderMap;
use http::header::CONTENT_ENCODING;

use super::admission::AdmissionPermit;
use super::body::too_large;
use super::refusal::Refusal;

/// The first output buffer holds this many times the compressed size (typical OTLP
/// compression ratios), and at least this many bytes.
const EXPECTED_RATIO: usize = 4;
const MIN_BUFFER: usize = 4096;

/// How a request body is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ContentEncoding {
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
}

impl ContentEncoding {
    /// The encoding a request declares; an error naming it when it is not supported.
    pub(crate) fn of(headers: &HeaderMap) -> Result<ContentEncoding, String> {
        let Some(value) = headers.get(CONTENT_ENCODING) else {
            return Ok(ContentEncoding::Identity);
        };
        let name = value.to_str().unwrap_or("").trim();
        match name.to_ascii_lowercase().as_str() {
            "" | "identity" => Ok(ContentEncoding::Identity),
            "gzip" | "x-gzip" => Ok(ContentEncoding::Gzip),
            "zstd" => Ok(ContentEncoding::Zstd),
            "zlib" => Ok(ContentEncoding::Zlib),
            "deflate" => Ok(ContentEncoding::Deflate),
            _ => Err(format!(
                "unsupported Content-Encoding {:?}: supported are gzip, zstd, zlib and deflate",
                String::from_utf8_lossy(value.as_bytes())
            )),
        }
    }

    /// Decompresses `body`, refusing it once the output passes `limit` bytes (413) and
    /// growing `permit` with the output's buffer before each allocation.
    pub(crate) fn decompress(
        self,
        body: Bytes,
        limit: usize,
        permit: &mut AdmissionPermit,
    ) -> Result<Bytes, Refusal> {
        let input = &body[..];
        match self {
            ContentEncoding::Identity => return Ok(body),
            ContentEncoding::Gzip => read_limited(
                flate2::read::MultiGzDecoder::new(input),
                input.len(),
                limit,
                0,
                permit,
            ),
            ContentEncoding::Zlib => read_limited(
                flate2::read::ZlibDecoder::new(input),
                input.len(),
                limit,
                0,
                permit,
            ),
            ContentEncoding::Deflate if has_zlib_header(input) => read_limited(
                flate2::read::ZlibDecoder::new(input),
                input.len(),
                limit,
                0,
                permit,
            ),
            ContentEncoding::Deflate => read_limited(
                flate2::read::DeflateDecoder::new(input),
                input.len(),
                limit,
                0,
                permit,
            ),
            ContentEncoding::Zstd => {
                let mut decoder = zstd::stream::read::Decoder::with_buffer(input)
                    .map_err(|e| corrupt(self, &e))?;
                // A frame's window is allocated before anything is decoded. Allow what
                // standard compression levels use (up to 8 MiB), or the largest body when
                // that is more; a frame asking for more is refused instead of allocated.
                let window_log_max = window_log(limit).clamp(MIN_WINDOW_LOG, MAX_WINDOW_LOG);
                decoder
                    .window_log_max(window_log_max)
                    .map_err(|e| corrupt(self, &e))?;
                // The window is memory the request holds too.
                let window = zstd_window_size(input)
                    .unwrap_or(0)
                    .min(1 << window_log_max);
                read_limited(decoder, input.len(), limit, window, permit)
            }
        }
        .map(Bytes::from)
        .map_err(|error| match error {
            ReadError::Refused(refusal) => refusal,
            ReadError::Io(e) => corrupt(self, &e),
        })
    }
}

fn corrupt(encoding: ContentEncoding, error: &std::io::Error) -> Refusal {
    let name = match encoding {
        ContentEncoding::Identity => "identity",
        ContentEncoding::Gzip => "gzip",
        ContentEncoding::Zstd => "zstd",
        ContentEncoding::Zlib => "zlib",
        ContentEncoding::Deflate => "deflate",
    };
    Refusal::Malformed(format!(
        "cannot decompress the {name} request body: {error}"
    ))
}

/// Whether `data` starts with a zlib header (RFC 1950: deflate method, check bits).
fn has_zlib_header(data: &[u8]) -> bool {
    match data {
        [cmf, flg, ..] => cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

/// The zstd window (base-2 log) allowed whatever the limit: 8 MiB, what `zstd -19` uses.
const MIN_WINDOW_LOG: u32 = 23;
/// The largest zstd window allowed: 128 MiB, zstd's own default limit.
const MAX_WINDOW_LOG: u32 = 27;

/// The window a zstd frame asks for, from its header (RFC 8878 §3.1.1.1): the content size
/// for a single-segment frame, else what the window descriptor says. `None` when `data`
/// does not start with a readable frame header (the decoder will say why).
fn zstd_window_size(data: &[u8]) -> Option<usize> {
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
fn window_log(limit: usize) -> u32 {
    usize::BITS - limit.saturating_sub(1).leading_zeros()
}

enum ReadError {
    Refused(Refusal),
    Io(std::io::Error),
}

/// Reads `reader` to its end into one buffer of at most `limit` bytes. The buffer grows
/// geometrically; each growth is first taken from `permit`, together with the decoder's
/// own `overhead` (a zstd window), so the memory a request holds is admitted before it is
/// allocated. One byte past `limit` is read to tell "exactly at the limit" from "over it".
fn read_limited(
    mut reader: impl Read,
    compressed: usize,
    limit: usize,
    overhead: usize,
    permit: &mut AdmissionPermit,
) -> Result<Vec<u8>, ReadError> {
    let ceiling = limit.saturating_add(1);
    let mut out: Vec<u8> = Vec::new();
    loop {
        if out.len() == out.capacity() {
            if out.len() > limit {
                return Err(ReadError::Refused(too_large(limit)));
            }
            let target = if out.capacity() == 0 {
                compressed.saturating_mul(EXPECTED_RATIO).max(MIN_BUFFER)
            } else {
                out.capacity().saturating_mul(2)
            }
            .min(ceiling);
            permit
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
        return Err(ReadError::Refused(too_large(limit)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use http::HeaderValue;

    use super::*;
    use crate::otlp::admission::Admission;
    use crate::otlp::config::AdmissionConfig;

    fn unlimited() -> AdmissionPermit {
        let admission = Admission::new(
            &AdmissionConfig {
                request_limit_mib: 0,
                waiting_limit_mib: 0,
            },
            Default::default(),
        );
        futures_ready(admission.admit(0))
    }

    /// The result of a future that is ready at once (admission with room to spare).
    fn futures_ready<T>(future: impl std::future::Future<Output = Result<T, Refusal>>) -> T {
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        match std::pin::pin!(future).poll(&mut context) {
            std::task::Poll::Ready(result) => result.expect("admitted"),
            std::task::Poll::Pending => panic!("admission had to wait"),
        }
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn raw_deflate(data: &[u8]) -> Vec<u8> {
        let mut encoder =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn encoding(name: &str) -> Result<ContentEncoding, String> {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_ENCODING, HeaderValue::from_str(name).unwrap());
        ContentEncoding::of(&headers)
    }

    #[test]
    fn recognises_the_supported_encodings() {
        assert_eq!(
            ContentEncoding::of(&HeaderMap::new()),
            Ok(ContentEncoding::Identity)
        );
        assert_eq!(encoding("GZIP"), Ok(ContentEncoding::Gzip));
        assert_eq!(encoding("zstd"), Ok(ContentEncoding::Zstd));
        assert_eq!(encoding("zlib"), Ok(ContentEncoding::Zlib));
        assert_eq!(encoding("deflate"), Ok(ContentEncoding::Deflate));
        assert_eq!(encoding("identity"), Ok(ContentEncoding::Identity));
        assert!(encoding("br").unwrap_err().contains("\"br\""));
    }

    #[test]
    fn every_encoding_round_trips() {
        let data: Vec<u8> = (0..100_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let cases = [
            (ContentEncoding::Gzip, gzip(&data)),
            (
                ContentEncoding::Zstd,
                zstd::encode_all(&data[..], 3).unwrap(),
            ),
            (ContentEncoding::Zlib, zlib(&data)),
            (ContentEncoding::Deflate, zlib(&data)),
            (ContentEncoding::Deflate, raw_deflate(&data)),
            (ContentEncoding::Identity, data.clone()),
        ];
        for (encoding, compressed) in cases {
            let out = encoding
                .decompress(Bytes::from(compressed), data.len(), &mut unlimited())
                .unwrap_or_else(|e| panic!("{encoding:?}: {e:?}"));
            assert_eq!(&out[..], &data[..], "{encoding:?}");
        }
    }

    #[test]
    fn concatenated_gzip_members_are_read_whole() {
        let mut two = gzip(b"hello ");
        two.extend(gzip(b"world"));
        let out = ContentEncoding::Gzip
            .decompress(Bytes::from(two), 100, &mut unlimited())
            .unwrap();
        assert_eq!(&out[..], b"hello world");
    }

    #[test]
    fn bombs_stop_at_the_limit() {
        let zeros = vec![0u8; 50 << 20];
        for (encoding, bomb) in [
            (ContentEncoding::Gzip, gzip(&zeros)),
            (
                ContentEncoding::Zstd,
                zstd::encode_all(&zeros[..], 3).unwrap(),
            ),
            (ContentEncoding::Deflate, raw_deflate(&zeros)),
        ] {
            assert!(bomb.len() < 512 << 10, "{encoding:?} bomb is small");
            let refusal = encoding
                .decompress(Bytes::from(bomb), 1 << 20, &mut unlimited())
                .unwrap_err();
            assert!(matches!(refusal, Refusal::TooLarge(_)), "{refusal:?}");
        }
    }

    #[test]
    fn exactly_the_limit_is_accepted() {
        let data = vec![7u8; 10_000];
        let out = ContentEncoding::Gzip
            .decompress(Bytes::from(gzip(&data)), 10_000, &mut unlimited())
            .unwrap();
        assert_eq!(out.len(), 10_000);
        let refusal = ContentEncoding::Gzip
            .decompress(Bytes::from(gzip(&data)), 9_999, &mut unlimited())
            .unwrap_err();
        assert!(matches!(refusal, Refusal::TooLarge(_)));
    }

    #[test]
    fn corrupt_bodies_are_malformed() {
        for encoding in [
            ContentEncoding::Gzip,
            ContentEncoding::Zstd,
            ContentEncoding::Zlib,
            ContentEncoding::Deflate,
        ] {
            let refusal = encoding
                .decompress(
                    Bytes::from_static(b"\xff\xfenot compressed at all"),
                    1000,
                    &mut unlimited(),
                )
                .unwrap_err();
            assert!(
                matches!(refusal, Refusal::Malformed(_)),
                "{encoding:?}: {refusal:?}"
            );
        }
    }

    #[test]
    fn decompressed_bytes_count_against_admission() {
        let admission = Admission::new(
            &AdmissionConfig {
                request_limit_mib: 2,
                waiting_limit_mib: 0,
            },
            Default::default(),
        );
        let _others = futures_ready(admission.admit(3 << 19));
        let mut permit = futures_ready(admission.admit(1000));
        let data = vec![1u8; 1 << 20];
        let refusal = ContentEncoding::Gzip
            .decompress(Bytes::from(gzip(&data)), 2 << 20, &mut permit)
            .unwrap_err();
        assert!(
            matches!(&refusal, Refusal::Refused(e) if e.is_throttled()),
            "{refusal:?}"
        );
    }

    #[test]
    fn the_zstd_window_is_read_from_the_frame_header() {
        let data = vec![3u8; 300_000];
        // Size known up front: a single-segment frame whose window is the content size.
        let single = zstd::bulk::compress(&data, 3).unwrap();
        assert_eq!(single[4] & 0x20, 0x20, "single segment");
        assert_eq!(zstd_window_size(&single), Some(300_000));
        // Streamed with a 32 MiB window and no size: the window descriptor says 2^25.
        let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        encoder.window_log(25).unwrap();
        encoder.include_contentsize(false).unwrap();
        encoder.long_distance_matching(true).unwrap();
        encoder.write_all(&data).unwrap();
        let streamed = encoder.finish().unwrap();
        assert_eq!(zstd_window_size(&streamed), Some(1 << 25));
        assert_eq!(zstd_window_size(b"not zstd"), None);
        assert_eq!(zstd_window_size(&streamed[..5]), None);
    }

    #[test]
    fn a_zstd_window_counts_against_admission() {
        let admission = Admission::new(
            &AdmissionConfig {
                request_limit_mib: 16,
                waiting_limit_mib: 0,
            },
            Default::default(),
        );
        let mut permit = futures_ready(admission.admit(1000));
        let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        encoder.window_log(25).unwrap();
        encoder.include_contentsize(false).unwrap();
        encoder.write_all(&[1u8; 1000]).unwrap();
        let frame = encoder.finish().unwrap();
        // The 32 MiB window alone is more than the 16 MiB budget.
        let refusal = ContentEncoding::Zstd
            .decompress(Bytes::from(frame), 20 << 20, &mut permit)
            .unwrap_err();
        assert!(matches!(refusal, Refusal::TooLarge(_)), "{refusal:?}");
    }

    #[test]
    fn zstd_windows_cover_the_limit() {
        assert_eq!(window_log(1 << 20), 20);
        assert_eq!(window_log((1 << 20) + 1), 21);
        assert_eq!(window_log(20 << 20), 25);
    }

    #[test]
    fn zstd_frames_with_oversized_windows_are_refused() {
        let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        encoder.window_log(28).unwrap();
        encoder.include_contentsize(false).unwrap();
        encoder.write_all(&[1u8; 1000]).unwrap();
        let frame = encoder.finish().unwrap();
        let refusal = ContentEncoding::Zstd
            .decompress(Bytes::from(frame), 1 << 20, &mut unlimited())
            .unwrap_err();
        assert!(matches!(refusal, Refusal::Malformed(_)), "{refusal:?}");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bodies_never_panic_or_pass_the_limit(
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048),
            limit in 1usize..4096,
        ) {
            for encoding in [
                ContentEncoding::Gzip,
                ContentEncoding::Zstd,
                ContentEncoding::Zlib,
                ContentEncoding::Deflate,
            ] {
                if let Ok(out) = encoding.decompress(Bytes::from(body.clone()), limit, &mut unlimited()) {
                    proptest::prop_assert!(out.len() <= limit);
                }
            }
        }

        #[test]
        fn round_trips_within_the_limit(
            data in proptest::collection::vec(0u8..4, 0..20_000),
        ) {
            for (encoding, compressed) in [
                (ContentEncoding::Gzip, gzip(&data)),
                (ContentEncoding::Zstd, zstd::encode_all(&data[..], 1).unwrap()),
                (ContentEncoding::Deflate, raw_deflate(&data)),
            ] {
                let out = encoding
                    .decompress(Bytes::from(compressed), data.len(), &mut unlimited())
                    .unwrap();
                proptest::prop_assert_eq!(&out[..], &data[..]);
            }
        }
    }
}
