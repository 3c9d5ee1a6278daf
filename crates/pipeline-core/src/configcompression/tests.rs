use std::io::Write;

use super::decompress::{window_log, zstd_window_size};
use super::*;

fn sample() -> Vec<u8> {
    (0..100_000u32)
        .flat_map(|i| (i % 251).to_le_bytes())
        .collect()
}

fn compressed(compression: Compression, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    Compressor::new(compression, &CompressionParams::default())
        .compress_into(data, &mut out)
        .unwrap();
    out
}

fn framed_snappy(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    Compressor::new(Compression::Snappy, &CompressionParams::default())
        .for_grpc()
        .compress_into(data, &mut out)
        .unwrap();
    out
}

fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    compressed(Compression::Gzip, data)
}

/// Every encoding with a body of `data` in it.
fn every_encoding(data: &[u8]) -> Vec<(Encoding, Vec<u8>)> {
    vec![
        (Encoding::Gzip, gzip(data)),
        (Encoding::Zstd, compressed(Compression::Zstd, data)),
        (Encoding::Zlib, compressed(Compression::Zlib, data)),
        (Encoding::Deflate, compressed(Compression::Deflate, data)),
        (Encoding::Deflate, raw_deflate(data)),
        (Encoding::Snappy, compressed(Compression::Snappy, data)),
        (Encoding::Snappy, framed_snappy(data)),
        (Encoding::SnappyFramed, framed_snappy(data)),
        (Encoding::Lz4, compressed(Compression::Lz4, data)),
        (Encoding::Identity, data.to_vec()),
    ]
}

#[test]
fn names_follow_the_go_collector() {
    assert_eq!(Encoding::from_http("GZIP"), Some(Encoding::Gzip));
    assert_eq!(Encoding::from_http("x-gzip"), Some(Encoding::Gzip));
    assert_eq!(Encoding::from_http(""), Some(Encoding::Identity));
    assert_eq!(
        Encoding::from_http("x-snappy-framed"),
        Some(Encoding::SnappyFramed)
    );
    assert_eq!(Encoding::from_http("lz4"), Some(Encoding::Lz4));
    assert_eq!(Encoding::from_http("br"), None);
    assert_eq!(Encoding::from_grpc("snappy"), Some(Encoding::Snappy));
    assert_eq!(Encoding::from_grpc("x-snappy-framed"), None);
    for name in [
        "gzip", "zstd", "zlib", "deflate", "snappy", "lz4", "none", "",
    ] {
        let compression = Compression::from_name(name).unwrap();
        assert!(name.is_empty() || compression.as_str() == name);
    }
    assert_eq!(Compression::from_name("brotli"), None);
}

#[test]
fn every_encoding_round_trips() {
    let data = sample();
    for (encoding, body) in every_encoding(&data) {
        let out = decompress(encoding, &body, data.len(), &mut NoBudget)
            .unwrap_or_else(|e| panic!("{encoding}: {e}"));
        assert_eq!(out, data, "{encoding}");
    }
}

#[test]
fn client_levels_round_trip() {
    let data = sample();
    for (compression, level, encoding) in [
        (Compression::Gzip, 9, Encoding::Gzip),
        (Compression::Zstd, 19, Encoding::Zstd),
        (Compression::Zlib, 5, Encoding::Zlib),
        (Compression::Deflate, 9, Encoding::Deflate),
    ] {
        let mut out = b"prefix".to_vec();
        Compressor::new(compression, &CompressionParams { level })
            .compress_into(&data, &mut out)
            .unwrap();
        assert_eq!(&out[..6], b"prefix");
        let restored = decompress(encoding, &out[6..], data.len(), &mut NoBudget).unwrap();
        assert_eq!(restored, data, "{compression} level {level}");
    }
}

/// A batch's parts compressed one by one read back as the parts joined, whatever their
/// number and sizes (none, empty ones, one larger than the output first reserved).
#[test]
fn parts_compress_as_their_concatenation() {
    let data = sample();
    let splits: [&[usize]; 5] = [&[], &[0], &[10, 10, 400_000], &[1, 2, 3, 399_994], &[0, 0]];
    for compression in [
        Compression::Gzip,
        Compression::None,
        Compression::Zstd,
        Compression::Snappy,
    ] {
        for lengths in splits {
            let mut parts: Vec<&[u8]> = Vec::new();
            let mut at = 0;
            for &length in lengths {
                let end = (at + length).min(data.len());
                parts.push(&data[at..end]);
                at = end;
            }
            let joined = parts.concat();
            let mut out = b"prefix".to_vec();
            Compressor::new(compression, &CompressionParams::default())
                .compress_parts_into(&parts, &mut out)
                .unwrap();
            assert_eq!(&out[..6], b"prefix");
            let encoding = Encoding::from_http(compression.as_str()).unwrap_or(Encoding::Identity);
            let restored = decompress(encoding, &out[6..], data.len(), &mut NoBudget)
                .unwrap_or_else(|e| panic!("{compression} {lengths:?}: {e}"));
            assert_eq!(restored, joined, "{compression} {lengths:?}");
        }
    }
}

/// The framing encoder writes nothing for an empty message (not even the stream
/// identifier), so an empty body named `snappy` (gRPC's name for the framing format) is
/// an empty message, not a corrupt block.
#[test]
fn an_empty_snappy_body_is_an_empty_message() {
    assert!(framed_snappy(b"").is_empty());
    for encoding in [Encoding::Snappy, Encoding::SnappyFramed] {
        assert_eq!(decompress(encoding, b"", 0, &mut NoBudget).unwrap(), b"");
    }
}

#[test]
fn concatenated_gzip_members_are_read_whole() {
    let mut two = gzip(b"hello ");
    two.extend(gzip(b"world"));
    let out = decompress(Encoding::Gzip, &two, 100, &mut NoBudget).unwrap();
    assert_eq!(out, b"hello world");
}

#[test]
fn bombs_stop_at_the_limit() {
    let zeros = vec![0u8; 50 << 20];
    for (encoding, bomb) in every_encoding(&zeros) {
        if encoding == Encoding::Identity {
            continue;
        }
        // snappy cannot compress better than about 21:1.
        assert!(bomb.len() < 3 << 20, "{encoding} bomb is small");
        let error = decompress(encoding, &bomb, 1 << 20, &mut NoBudget).unwrap_err();
        assert_eq!(error, DecompressError::TooLarge(1 << 20), "{encoding}");
    }
}

/// A budget that counts the most it was asked for, and refuses past `max`.
struct Counting {
    max: usize,
    peak: usize,
}

impl Budget for Counting {
    type Refusal = usize;

    fn grow_to(&mut self, bytes: usize) -> Result<(), usize> {
        self.peak = self.peak.max(bytes);
        if bytes > self.max { Err(bytes) } else { Ok(()) }
    }
}

#[test]
fn output_is_taken_from_the_budget_before_it_is_allocated() {
    let data = vec![1u8; 1 << 20];
    for (encoding, body) in every_encoding(&data) {
        let mut budget = Counting {
            max: usize::MAX,
            peak: 0,
        };
        decompress(encoding, &body, 2 << 20, &mut budget).unwrap();
        assert!(budget.peak >= data.len(), "{encoding}: {}", budget.peak);
        let mut tight = Counting {
            max: 512 << 10,
            peak: 0,
        };
        assert!(
            matches!(
                decompress(encoding, &body, 2 << 20, &mut tight),
                Err(DecompressError::Refused(_))
            ),
            "{encoding}"
        );
    }
}

#[test]
fn a_gzip_body_is_read_into_one_buffer_of_the_size_it_states() {
    let data = sample();
    let mut budget = Counting {
        max: usize::MAX,
        peak: 0,
    };
    let out = decompress(Encoding::Gzip, &gzip(&data), 1 << 30, &mut budget).unwrap();
    assert_eq!(out, data);
    // The trailer's size, plus the byte that finds the end: no doubling, no spare room.
    assert_eq!(budget.peak, data.len() + 1);
    assert!(out.capacity() <= data.len() + 1);
}

#[test]
fn an_implausible_gzip_size_is_not_trusted() {
    let mut body = gzip(b"a short body");
    let trailer = body.len() - 4;
    body[trailer..].copy_from_slice(&u32::MAX.to_le_bytes());
    let mut budget = Counting {
        max: usize::MAX,
        peak: 0,
    };
    // The stated size is checked once decoded, so the body is corrupt; what matters is
    // that its claim of 4 GiB was never reserved.
    let error = decompress(Encoding::Gzip, &body, 1 << 30, &mut budget).unwrap_err();
    assert!(matches!(error, DecompressError::Corrupt { .. }), "{error}");
    assert!(budget.peak <= 4096, "reserved {}", budget.peak);
}

#[test]
fn finished_buffers_keep_little_spare_room() {
    let data = sample();
    for (encoding, body) in every_encoding(&data) {
        let out = decompress(encoding, &body, 1 << 30, &mut NoBudget).unwrap();
        assert!(
            out.capacity() - out.len() <= out.len() / 8 + 1024,
            "{encoding}: {} bytes in a buffer of {}",
            out.len(),
            out.capacity()
        );
    }
    for compression in [Compression::Gzip, Compression::Zstd, Compression::Zlib] {
        let mut out = Vec::with_capacity(data.len());
        let compressor = Compressor::new(compression, &CompressionParams::default());
        compressor
            .compress_parts_into(&[&data[..1000], &data[1000..]], &mut out)
            .unwrap();
        assert!(
            out.capacity() - out.len() <= out.len() / 8 + 1024,
            "{compression:?}: {} bytes in a buffer of {}",
            out.len(),
            out.capacity()
        );
    }
}

#[test]
fn exactly_the_limit_is_accepted() {
    let data = vec![7u8; 10_000];
    for (encoding, body) in every_encoding(&data) {
        assert_eq!(
            decompress(encoding, &body, 10_000, &mut NoBudget)
                .unwrap()
                .len(),
            10_000,
            "{encoding}"
        );
        assert_eq!(
            decompress(encoding, &body, 9_999, &mut NoBudget).unwrap_err(),
            DecompressError::TooLarge(9_999),
            "{encoding}"
        );
    }
}

#[test]
fn corrupt_bodies_are_corrupt() {
    for encoding in [
        Encoding::Gzip,
        Encoding::Zstd,
        Encoding::Zlib,
        Encoding::Deflate,
        Encoding::SnappyFramed,
        Encoding::Lz4,
    ] {
        let error = decompress(
            encoding,
            b"\xff\xfenot compressed at all",
            1000,
            &mut NoBudget,
        )
        .unwrap_err();
        assert!(
            matches!(error, DecompressError::Corrupt { .. }),
            "{encoding}: {error:?}"
        );
    }
}

#[test]
fn a_corrupt_snappy_block_is_corrupt() {
    // Claims 5 bytes, then an invalid tag sequence. (Garbage claiming more than the limit
    // is refused as too large before anything is decoded.)
    let error = decompress(Encoding::Snappy, b"\x05\xff\xff", 1000, &mut NoBudget).unwrap_err();
    assert!(
        matches!(error, DecompressError::Corrupt { .. }),
        "{error:?}"
    );
}

#[test]
fn the_zstd_window_is_read_from_the_frame_header() {
    let data = vec![3u8; 300_000];
    let single = zstd::bulk::compress(&data, 3).unwrap();
    assert_eq!(single[4] & 0x20, 0x20, "single segment");
    assert_eq!(zstd_window_size(&single), Some(300_000));
    let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    encoder.window_log(25).unwrap();
    encoder.include_contentsize(false).unwrap();
    encoder.long_distance_matching(true).unwrap();
    encoder.write_all(&data).unwrap();
    let streamed = encoder.finish().unwrap();
    assert_eq!(zstd_window_size(&streamed), Some(1 << 25));
    assert_eq!(zstd_window_size(b"not zstd"), None);
    assert_eq!(zstd_window_size(&streamed[..5]), None);
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
    let error = decompress(Encoding::Zstd, &frame, 1 << 20, &mut NoBudget).unwrap_err();
    assert!(
        matches!(error, DecompressError::Corrupt { .. }),
        "{error:?}"
    );
}

#[test]
fn a_snappy_block_claiming_more_than_the_limit_allocates_nothing() {
    // A block header claiming 2^32-1 bytes, and no data.
    let claim = [0xff, 0xff, 0xff, 0xff, 0x0f];
    let mut budget = Counting {
        max: usize::MAX,
        peak: 0,
    };
    let error = decompress(Encoding::Snappy, &claim, 1 << 20, &mut budget).unwrap_err();
    assert_eq!(error, DecompressError::TooLarge(1 << 20));
    assert_eq!(budget.peak, 0);
}

#[test]
fn levels_are_checked_per_algorithm() {
    let params = |level| CompressionParams { level };
    assert!(params(0).validate(Compression::Gzip).is_ok());
    assert!(params(9).validate(Compression::Zlib).is_ok());
    assert_eq!(
        params(10)
            .validate(Compression::Deflate)
            .unwrap_err()
            .path(),
        "level"
    );
    assert!(params(22).validate(Compression::Zstd).is_ok());
    assert!(params(-1).validate(Compression::Zstd).is_err());
    assert!(params(1).validate(Compression::Snappy).is_err());
    assert!(params(0).validate(Compression::Lz4).is_ok());
    assert!(params(99).validate(Compression::None).is_ok());
}

proptest::proptest! {
    #[test]
    fn arbitrary_bodies_never_panic_or_pass_the_limit(
        body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048),
        limit in 1usize..4096,
    ) {
        for encoding in [
            Encoding::Gzip,
            Encoding::Zstd,
            Encoding::Zlib,
            Encoding::Deflate,
            Encoding::Snappy,
            Encoding::SnappyFramed,
            Encoding::Lz4,
        ] {
            if let Ok(out) = decompress(encoding, &body, limit, &mut NoBudget) {
                proptest::prop_assert!(out.len() <= limit);
            }
        }
    }

    #[test]
    fn round_trips_within_the_limit(data in proptest::collection::vec(0u8..4, 0..20_000)) {
        for (encoding, body) in every_encoding(&data) {
            let out = decompress(encoding, &body, data.len(), &mut NoBudget).unwrap();
            proptest::prop_assert_eq!(&out[..], &data[..]);
        }
    }
}
