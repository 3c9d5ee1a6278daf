//! The OTLP receiver's decompression of request bodies and gRPC messages (every
//! `Content-Encoding`: gzip, zstd, zlib, deflate raw or wrapped, snappy block and framed,
//! lz4), within a size limit and a memory budget: never a panic; never more output than
//! the limit; never more memory held than the budget granted; a refused budget is the
//! only way to get its refusal; and what the exporters compress decompresses back to
//! itself, even at exactly the limit.

use tributary_pipeline_core::configcompression::{
    Budget, Compression, CompressionParams, Compressor, DecompressError, Encoding, NoBudget,
    decompress,
};

/// The `Content-Encoding`s the receiver decodes, picked by the input's first byte.
const ENCODINGS: [&str; 8] = [
    "identity",
    "gzip",
    "zstd",
    "zlib",
    "deflate",
    "snappy",
    "x-snappy-framed",
    "lz4",
];

/// Admission control as the decompressor sees it: grants growth up to `cap`, and records
/// the most it granted.
struct Recorded {
    cap: usize,
    granted: usize,
    refused: bool,
}

impl Budget for Recorded {
    type Refusal = ();

    fn grow_to(&mut self, bytes: usize) -> Result<(), ()> {
        if bytes > self.cap {
            self.refused = true;
            return Err(());
        }
        self.granted = self.granted.max(bytes);
        Ok(())
    }
}

/// How the exporters compress what a receiver decodes as `encoding`.
fn compressor(encoding: Encoding) -> Compressor {
    let params = CompressionParams::default();
    let compression = match encoding {
        Encoding::Identity => Compression::None,
        Encoding::Gzip => Compression::Gzip,
        Encoding::Zstd => Compression::Zstd,
        Encoding::Zlib => Compression::Zlib,
        Encoding::Deflate => Compression::Deflate,
        Encoding::Snappy | Encoding::SnappyFramed => Compression::Snappy,
        Encoding::Lz4 => Compression::Lz4,
    };
    let compressor = Compressor::new(compression, &params);
    // gRPC's snappy is the framing format.
    if encoding == Encoding::SnappyFramed {
        compressor.for_grpc()
    } else {
        compressor
    }
}

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let encoding = Encoding::from_http(ENCODINGS[usize::from(selector & 7)]).expect("a known name");
    // From 16 bytes to 512 KiB: small limits reach the too-large paths.
    let limit = 16usize << ((selector >> 3) & 0x0f);
    // Half the limit when the top bit is set: admission refuses before the limit is hit.
    let cap = if selector & 0x80 != 0 {
        limit / 2
    } else {
        usize::MAX
    };
    let mut budget = Recorded {
        cap,
        granted: 0,
        refused: false,
    };
    match decompress(encoding, body, limit, &mut budget) {
        Ok(out) => {
            assert!(out.len() <= limit);
            assert!(out.capacity() <= budget.granted, "held more than granted");
            if encoding == Encoding::Identity {
                assert_eq!(out, body);
            }
        }
        Err(DecompressError::TooLarge(reported)) => assert_eq!(reported, limit),
        Err(DecompressError::Refused(())) => assert!(budget.refused),
        Err(DecompressError::Corrupt { .. }) => {}
    }

    let mut compressed = Vec::new();
    compressor(encoding)
        .compress_into(body, &mut compressed)
        .expect("compressing into memory");
    let back = decompress(encoding, &compressed, body.len(), &mut NoBudget)
        .unwrap_or_else(|e| panic!("{encoding} of {} bytes: {e}", body.len()));
    assert_eq!(back, body);
}
