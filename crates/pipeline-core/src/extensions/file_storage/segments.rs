//! The files of one queue's directory: segment names, positions, and directory syncs.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::format::{SEGMENT_HEADER_LEN, segment_header};

/// A place in the log: a byte offset in a segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct Position {
    /// The segment's id.
    pub segment: u64,
    /// The byte offset in it.
    pub offset: u64,
}

impl Position {
    /// The first record of a segment.
    pub fn start_of(segment: u64) -> Position {
        Position {
            segment,
            offset: SEGMENT_HEADER_LEN,
        }
    }
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} offset {}", segment_name(self.segment), self.offset)
    }
}

/// The file name of segment `id`: 20 decimal digits, so names sort like ids.
pub(super) fn segment_name(id: u64) -> String {
    format!("{id:020}.seg")
}

/// The path of segment `id` in `dir`.
pub(super) fn segment_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(segment_name(id))
}

/// The ids of the segment files in `dir`, in order. Other files are ignored.
pub(super) fn list_segments(dir: &Path) -> io::Result<Vec<u64>> {
    let mut ids = Vec::new();
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(digits) = name.strip_suffix(".seg")
            && digits.len() == 20
            && let Ok(id) = digits.parse::<u64>()
        {
            ids.push(id);
        }
    }
    ids.sort_unstable();
    Ok(ids)
}

/// Makes the directory's entries (files created, renamed or deleted) durable.
pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Creates segment `id` with its header. With `sync`, the file and the directory entry
/// are made durable before returning.
pub(super) fn create_segment(dir: &Path, id: u64, sync: bool) -> io::Result<File> {
    let path = segment_path(dir, id);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)?;
    file.write_all_at(&segment_header(id), 0)?;
    if sync {
        file.sync_data()?;
        sync_dir(dir)?;
    }
    Ok(file)
}

/// Opens an existing segment for appending at its end.
pub(super) fn open_segment(dir: &Path, id: u64) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(segment_path(dir, id))
}
