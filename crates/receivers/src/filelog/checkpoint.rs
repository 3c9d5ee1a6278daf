//! The checkpoint: every known file's fingerprint and accepted offset, stored through a
//! storage extension under Go's key `file_input.knownFiles` (in Tributary's own JSON
//! form: Go's bbolt file cannot be read here anyway).

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

/// The storage key of the checkpoint (Go's).
pub const KEY: &str = "file_input.knownFiles";

/// Every known file's offset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checkpoint {
    /// The files, in no particular order.
    pub files: Vec<FileOffset>,
}

/// One file's identity and how far it was accepted downstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileOffset {
    /// The file's first bytes.
    pub fingerprint: Vec<u8>,
    /// Bytes before this were accepted downstream.
    pub offset: u64,
    /// How many records were read before the offset.
    pub record_number: u64,
    /// Where the file was last seen (informative).
    pub path: PathBuf,
    /// Whether the file's `header` was read to its end.
    pub header_done: bool,
    /// The attributes the file's header set.
    pub header_attributes: Vec<(String, String)>,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    version: u32,
    files: Vec<StoredFile>,
}

#[derive(Serialize, Deserialize)]
struct StoredFile {
    fingerprint: String,
    offset: u64,
    record_number: u64,
    path: String,
    #[serde(default)]
    header_done: bool,
    #[serde(default)]
    header_attributes: Vec<(String, String)>,
}

/// The stored form of `files`.
pub fn encode(files: impl Iterator<Item = FileOffset>) -> Vec<u8> {
    let stored = Stored {
        version: 1,
        files: files
            .map(|f| StoredFile {
                fingerprint: STANDARD.encode(&f.fingerprint),
                offset: f.offset,
                record_number: f.record_number,
                path: f.path.to_string_lossy().into_owned(),
                header_done: f.header_done,
                header_attributes: f.header_attributes,
            })
            .collect(),
    };
    serde_json::to_vec(&stored).unwrap_or_default()
}

/// The checkpoint in `bytes`, or why it cannot be read.
pub fn decode(bytes: &[u8]) -> Result<Checkpoint, String> {
    let stored: Stored =
        serde_json::from_slice(bytes).map_err(|e| format!("unreadable checkpoint: {e}"))?;
    if stored.version != 1 {
        return Err(format!(
            "checkpoint version {} is not known",
            stored.version
        ));
    }
    let files = stored
        .files
        .into_iter()
        .map(|f| {
            Ok(FileOffset {
                fingerprint: STANDARD
                    .decode(&f.fingerprint)
                    .map_err(|e| format!("unreadable fingerprint: {e}"))?,
                offset: f.offset,
                record_number: f.record_number,
                path: PathBuf::from(f.path),
                header_done: f.header_done,
                header_attributes: f.header_attributes,
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(Checkpoint { files })
}
