//! `compression`: how request bodies are compressed on the wire.

use std::fmt;

use serde::Deserialize;

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
