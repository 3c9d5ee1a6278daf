//! The checkpoint: every known file's fingerprint and accepted offset, stored through a
//! storage extension (in Tributary's own JSON form: Go's bbolt file cannot be read here
//! anyway).
//!
//! Each file has its own key (`file_input.knownFiles.<id>`), written when that file's
//! offset moves, and Go's key `file_input.knownFiles` holds the index: the ids of the
//! known files, written when files are found or forgotten. So an accepted batch writes
//! one small value however many files are known. A new file's key is written before the
//! index naming it, and a forgotten one is deleted after the index that drops it: a crash
//! in between leaves an unused key, never an index naming a missing one. The version-1
//! form (the whole list under the index key) is still read.

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
    /// The id of its storage key (0: none yet, read from a version-1 checkpoint).
    pub id: u64,
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

/// The index (version 2).
#[derive(Serialize, Deserialize)]
struct StoredIndex {
    version: u32,
    ids: Vec<u64>,
}

/// What the index key holds.
pub enum Index {
    /// The ids of the files, each under [`file_key`].
    Ids(Vec<u64>),
    /// A version-1 checkpoint: every file, under the index key itself.
    Files(Checkpoint),
}

/// The storage key of one file.
pub fn file_key(id: u64) -> String {
    format!("{KEY}.{id}")
}

/// The stored form of the index of `ids`.
pub fn encode_index(ids: &[u64]) -> Vec<u8> {
    serde_json::to_vec(&StoredIndex {
        version: 2,
        ids: ids.to_vec(),
    })
    .unwrap_or_default()
}

/// The index in `bytes` (either version), or why it cannot be read.
pub fn decode_index(bytes: &[u8]) -> Result<Index, String> {
    #[derive(Deserialize)]
    struct Version {
        version: u32,
    }
    let version: Version =
        serde_json::from_slice(bytes).map_err(|e| format!("unreadable checkpoint: {e}"))?;
    match version.version {
        1 => decode(bytes).map(Index::Files),
        2 => serde_json::from_slice::<StoredIndex>(bytes)
            .map(|index| Index::Ids(index.ids))
            .map_err(|e| format!("unreadable checkpoint index: {e}")),
        other => Err(format!("checkpoint version {other} is not known")),
    }
}

/// The checkpoint of version-2 files: each id with its stored value. A file whose value
/// is missing or unreadable is left out, so it is read as new: duplicates, never a loss.
pub fn from_files(values: impl IntoIterator<Item = (u64, Option<Vec<u8>>)>) -> Checkpoint {
    let files = values
        .into_iter()
        .filter_map(|(id, value)| match decode_file(id, &value?) {
            Ok(file) => Some(file),
            Err(error) => {
                tracing::warn!(%error, id, "ignoring a file's checkpoint; it is read as new");
                None
            }
        })
        .collect();
    Checkpoint { files }
}

/// The stored form of one file.
pub fn encode_file(file: &FileOffset) -> Vec<u8> {
    serde_json::to_vec(&stored_file(file.clone())).unwrap_or_default()
}

/// One file from its stored form, with its id.
pub fn decode_file(id: u64, bytes: &[u8]) -> Result<FileOffset, String> {
    let stored: StoredFile = serde_json::from_slice(bytes)
        .map_err(|e| format!("unreadable checkpoint of a file: {e}"))?;
    file_offset(id, stored)
}

fn stored_file(f: FileOffset) -> StoredFile {
    StoredFile {
        fingerprint: STANDARD.encode(&f.fingerprint),
        offset: f.offset,
        record_number: f.record_number,
        path: f.path.to_string_lossy().into_owned(),
        header_done: f.header_done,
        header_attributes: f.header_attributes,
    }
}

fn file_offset(id: u64, f: StoredFile) -> Result<FileOffset, String> {
    Ok(FileOffset {
        id,
        fingerprint: STANDARD
            .decode(&f.fingerprint)
            .map_err(|e| format!("unreadable fingerprint: {e}"))?,
        offset: f.offset,
        record_number: f.record_number,
        path: PathBuf::from(f.path),
        header_done: f.header_done,
        header_attributes: f.header_attributes,
    })
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

/// The version-1 form of `files`: all of them under one key (what tests restart from).
#[cfg(test)]
pub fn encode(files: impl Iterator<Item = FileOffset>) -> Vec<u8> {
    let stored = Stored {
        version: 1,
        files: files.map(stored_file).collect(),
    };
    serde_json::to_vec(&stored).unwrap_or_default()
}

/// A version-1 checkpoint in `bytes`, or why it cannot be read.
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
        .map(|f| file_offset(0, f))
        .collect::<Result<_, String>>()?;
    Ok(Checkpoint { files })
}
