//! `configcompression`: compressed request bodies, for servers (decompression within
//! a size limit and a memory budget) and for clients (`compression`,
//! `compression_params`), with the Go Collector's algorithm names.
//!
//! | name | server: `Content-Encoding` / `grpc-encoding` | client: `compression` | format |
//! |---|---|---|---|
//! | `gzip` (also `x-gzip` on HTTP) | yes | yes (default of both OTLP exporters) | RFC 1952, concatenated members read whole |
//! | `zstd` | yes | yes | RFC 8878; a frame asking for a window above 8 MiB or the limit (at most 128 MiB) is refused |
//! | `zlib` | yes | yes | RFC 1950 |
//! | `deflate` | yes | yes (zlib-wrapped, as HTTP defines it) | zlib-wrapped, or raw deflate (told apart by the header) |
//! | `snappy` | yes: block format, or framed when the body starts with the framed stream identifier | yes: block format on HTTP (as Go's `confighttp`), framed on gRPC (as Go's gRPC snappy codec) | |
//! | `x-snappy-framed` | yes (HTTP) | no | snappy framing format |
//! | `lz4` | yes | yes | LZ4 frame format (as Go's `pierrec/lz4` reader) |
//! | `none` / `""` / `identity` | uncompressed | uncompressed | |
//!
//! `compression_params::level`: gzip, zlib and deflate 1–9, zstd 1–22; `0` (the default)
//! means the fastest level, 1. snappy and lz4 have no levels.
//!
//! # Bombs
//!
//! [`decompress`] never produces more than its `limit` (the server's body or message
//! limit): one byte more and the request is refused as too large. Output grows
//! geometrically, and each growth is first taken from a [`Budget`] (the receiver's
//! admission control), together with the decoder's own memory (a zstd window), so what a
//! request holds is admitted before it is allocated. A snappy block states its length up
//! front, which is checked against the limit before anything is allocated.
//!
//! Crates: `flate2` (zlib-rs backend), `zstd`, `snap` (block and framed snappy) and
//! `lz4_flex` (frame format), all pure Rust but zstd, whose C library the workspace already
//! builds.

mod compress;
mod decompress;

#[cfg(test)]
mod tests;

use std::fmt;

use serde::Deserialize;

use crate::component::ConfigError;

pub use compress::Compressor;
pub use decompress::{Budget, DecompressError, Encoding, NoBudget, decompress};

/// Gives back a finished buffer's unused capacity when it is more than an eighth of what
/// it holds. Compressed and decompressed bodies are sized by a guess and grown by
/// doubling, and live on (in batches, queues, exports in flight) long after they are
/// written: under load, thousands at once, and the spare room was a third of the memory
/// they held. Shrinking is cheap: glibc's allocator splits the block in place, no copy.
pub(crate) fn release_spare(buffer: &mut Vec<u8>) {
    let spare = buffer.capacity() - buffer.len();
    if spare > 1024 && spare > buffer.len() / 8 {
        buffer.shrink_to_fit();
    }
}

/// How a client compresses what it sends (`compression`): the Go Collector's names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Compression {
    /// gzip (`grpc-encoding: gzip` / `Content-Encoding: gzip`).
    #[default]
    Gzip,
    /// Zstandard (`zstd`).
    Zstd,
    /// zlib (`zlib`).
    Zlib,
    /// zlib-wrapped deflate (`deflate`).
    Deflate,
    /// snappy (`snappy`): block format over HTTP, framed over gRPC.
    Snappy,
    /// LZ4 frames (`lz4`).
    Lz4,
    /// Uncompressed (`none` or an empty string).
    None,
}

impl Compression {
    /// The name used in configuration and on the wire (`gzip`, `zstd`, ..., `none`).
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Zlib => "zlib",
            Compression::Deflate => "deflate",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::None => "none",
        }
    }

    /// The compression a configured name means; `None` for an unknown name.
    pub fn from_name(name: &str) -> Option<Compression> {
        Some(match name {
            "gzip" => Compression::Gzip,
            "zstd" => Compression::Zstd,
            "zlib" => Compression::Zlib,
            "deflate" => Compression::Deflate,
            "snappy" => Compression::Snappy,
            "lz4" => Compression::Lz4,
            "none" | "" => Compression::None,
            _ => return None,
        })
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
        Compression::from_name(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unsupported compression {name:?}: use gzip, zstd, zlib, deflate, snappy, lz4 \
                 or none"
            ))
        })
    }
}

/// `compression_params`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompressionParams {
    /// Compression level; 0 means the default: 1, the fastest. gzip, zlib and deflate
    /// accept 1–9, zstd 1–22; snappy and lz4 have no levels.
    pub level: i32,
}

impl CompressionParams {
    /// Checks the level against `compression`'s range; errors name `level`.
    pub fn validate(&self, compression: Compression) -> Result<(), ConfigError> {
        let range = match compression {
            Compression::Gzip | Compression::Zlib | Compression::Deflate => 1..=9,
            Compression::Zstd => 1..=22,
            Compression::Snappy | Compression::Lz4 => {
                if self.level != 0 {
                    return Err(ConfigError::at(
                        "level",
                        format!("{compression} has no compression levels"),
                    ));
                }
                return Ok(());
            }
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
