//! One batch as bytes in the file: a JSON line, or a length-prefixed message.
//!
//! | format | compression | record |
//! |---|---|---|
//! | `json` | none | the OTLP/JSON request, then `\n` |
//! | `proto` | none | 4-byte big-endian length, then the protobuf request |
//! | either | `zstd` | 4-byte big-endian length, then the zstd frame of the JSON (no newline) or protobuf request |
//!
//! These are the Go Collector's file exporter formats, which its `otlpjsonfile` receiver
//! (JSON lines) reads back.

use super::config::{FileCompression, Format};
use tributary_pipeline_core::pdata::otlp_json::JsonData;

/// zstd level of compressed records (zstd's default, Go's `SpeedDefault`).
const ZSTD_LEVEL: i32 = 3;

/// Why a batch could not be turned into a record (never the disk's fault).
#[derive(Debug, thiserror::Error)]
pub(crate) enum EncodeError {
    #[error("encoding OTLP/JSON: {0}")]
    Json(#[from] tributary_pipeline_core::pdata::otlp_json::EncodeError),
    #[error("compressing: {0}")]
    Compress(std::io::Error),
    #[error("a {0}-byte record is larger than the 4 GiB a length prefix can describe")]
    TooLarge(usize),
    #[error("encoding panicked: {0}")]
    Panicked(String),
}

/// How records are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RecordFormat {
    pub format: Format,
    pub compression: FileCompression,
}

impl RecordFormat {
    /// Appends `data`'s record to `out`.
    pub(crate) fn encode<T: JsonData>(
        self,
        data: &T,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        match (self.format, self.compression) {
            (Format::Json, FileCompression::None) => {
                data.write_otlp_json(out)?;
                out.push(b'\n');
            }
            (Format::Proto, FileCompression::None) => {
                // The cached encoding: an unchanged payload received over OTLP is written
                // without re-encoding.
                let message = data.encoded();
                push_len(out, message.len())?;
                out.extend_from_slice(&message);
            }
            (format, FileCompression::Zstd) => {
                let compressed = match format {
                    Format::Json => {
                        let mut json = Vec::with_capacity(data.encoded_len() * 2);
                        data.write_otlp_json(&mut json)?;
                        zstd::bulk::compress(&json, ZSTD_LEVEL)
                    }
                    Format::Proto => zstd::bulk::compress(&data.encoded(), ZSTD_LEVEL),
                }
                .map_err(EncodeError::Compress)?;
                push_len(out, compressed.len())?;
                out.extend_from_slice(&compressed);
            }
        }
        Ok(())
    }
}

fn push_len(out: &mut Vec<u8>, len: usize) -> Result<(), EncodeError> {
    let len = u32::try_from(len).map_err(|_| EncodeError::TooLarge(len))?;
    out.extend_from_slice(&len.to_be_bytes());
    Ok(())
}
