//! The ack ledger: how far delivery has come, kept in two alternating files.
//!
//! ```text
//! "TRIBLDG1"  generation u64  segment u64  offset u64  seq_floor u64
//! count u32  count × (start u64, end u64)  crc32c u32 (of everything before it)
//! ```
//! (all little-endian). `(segment, offset)` is the read position: every record before it
//! is done (delivered or given up on). The ranges list the sequence numbers of records
//! after it that are done too (acknowledged out of order by concurrent workers; at most
//! about as many ranges as exports were in flight). `seq_floor` is above every sequence
//! number ever assigned, so numbers are never reused even if data was lost.
//!
//! Each update writes the whole ledger to `ledger.0` or `ledger.1` in turn, so a write torn
//! by a crash damages only the newer copy and the older one is still read. If both are
//! unreadable the queue falls back to delivering everything still on disk again: a corrupt
//! ledger costs duplicates, never data.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::segments::Position;

const MAGIC: &[u8; 8] = b"TRIBLDG1";
const FIXED_LEN: usize = 8 + 8 + 8 + 8 + 8 + 4;
/// Ledgers with more ranges than this are not believed (a damaged count).
const MAX_RANGES: usize = 1 << 20;

/// The delivery state a ledger records.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Ledger {
    /// Every record before this position is done.
    pub position: Position,
    /// Every sequence number assigned so far is below this.
    pub seq_floor: u64,
    /// Half-open ranges of sequence numbers after `position` that are done, sorted and
    /// disjoint.
    pub done: Vec<(u64, u64)>,
}

impl Ledger {
    fn encode(&self, generation: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(FIXED_LEN + 16 * self.done.len() + 4);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&generation.to_le_bytes());
        out.extend_from_slice(&self.position.segment.to_le_bytes());
        out.extend_from_slice(&self.position.offset.to_le_bytes());
        out.extend_from_slice(&self.seq_floor.to_le_bytes());
        out.extend_from_slice(&(self.done.len() as u32).to_le_bytes());
        for (start, end) in &self.done {
            out.extend_from_slice(&start.to_le_bytes());
            out.extend_from_slice(&end.to_le_bytes());
        }
        let crc = crc32c::crc32c(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Decodes a ledger copy: its generation and content, or `None` if damaged.
    fn decode(bytes: &[u8]) -> Option<(u64, Ledger)> {
        let u64_at = |at: usize| -> Option<u64> {
            Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
        };
        if bytes.get(..8)? != MAGIC {
            return None;
        }
        let count = u32::from_le_bytes(bytes.get(40..44)?.try_into().ok()?) as usize;
        if count > MAX_RANGES {
            return None;
        }
        let body_len = FIXED_LEN + 16 * count;
        let crc = u32::from_le_bytes(bytes.get(body_len..body_len + 4)?.try_into().ok()?);
        if crc32c::crc32c(&bytes[..body_len]) != crc {
            return None;
        }
        let done = (0..count)
            .map(|i| Some((u64_at(FIXED_LEN + 16 * i)?, u64_at(FIXED_LEN + 16 * i + 8)?)))
            .collect::<Option<Vec<_>>>()?;
        Some((
            u64_at(8)?,
            Ledger {
                position: Position {
                    segment: u64_at(16)?,
                    offset: u64_at(24)?,
                },
                seq_floor: u64_at(32)?,
                done,
            },
        ))
    }
}

/// What was found in the ledger files when opening.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Loaded {
    /// No ledger was ever written (a new queue, or a crash before the first one).
    Missing,
    /// The newest readable copy.
    Valid(Ledger),
    /// Ledger files exist but neither copy is readable.
    Corrupt,
}

/// The two ledger files of a queue, open for updates.
#[derive(Debug)]
pub(super) struct LedgerFiles {
    slots: [(PathBuf, File); 2],
    generation: u64,
}

impl LedgerFiles {
    /// Opens (creating) `ledger.0` and `ledger.1` in `dir` and reads the newest valid copy.
    pub fn open(dir: &Path) -> io::Result<(LedgerFiles, Loaded)> {
        let mut best: Option<(u64, Ledger)> = None;
        let mut any_bytes = false;
        let mut open_slot = |name: &str| -> io::Result<(PathBuf, File)> {
            let path = dir.join(name);
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)?;
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)?;
            any_bytes |= !bytes.is_empty();
            if let Some((generation, ledger)) = Ledger::decode(&bytes)
                && best.as_ref().is_none_or(|(g, _)| generation > *g)
            {
                best = Some((generation, ledger));
            }
            Ok((path, file))
        };
        let slots = [open_slot("ledger.0")?, open_slot("ledger.1")?];
        let (generation, loaded) = match best {
            Some((generation, ledger)) => (generation, Loaded::Valid(ledger)),
            None if any_bytes => (0, Loaded::Corrupt),
            None => (0, Loaded::Missing),
        };
        Ok((LedgerFiles { slots, generation }, loaded))
    }

    /// Writes `ledger` over the older copy; with `sync`, waits until it is on disk. On
    /// error the newer copy may be damaged but the other one still holds the previous
    /// state.
    pub fn store(&mut self, ledger: &Ledger, sync: bool) -> Result<(), (PathBuf, io::Error)> {
        let generation = self.generation + 1;
        let (path, file) = &self.slots[(generation % 2) as usize];
        let bytes = ledger.encode(generation);
        let written = file
            .write_all_at(&bytes, 0)
            .and_then(|()| if sync { file.sync_data() } else { Ok(()) });
        written.map_err(|e| (path.clone(), e))?;
        self.generation = generation;
        Ok(())
    }

    /// Waits until the latest copy is on disk.
    pub fn sync(&self) -> Result<(), (PathBuf, io::Error)> {
        let (path, file) = &self.slots[(self.generation % 2) as usize];
        file.sync_data().map_err(|e| (path.clone(), e))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn ledger(offset: u64) -> Ledger {
        Ledger {
            position: Position { segment: 3, offset },
            seq_floor: 99,
            done: vec![(10, 12), (15, 16)],
        }
    }

    #[test]
    fn the_newest_copy_wins() {
        let dir = tempfile::tempdir().unwrap();
        let (mut files, loaded) = LedgerFiles::open(dir.path()).unwrap();
        assert_eq!(loaded, Loaded::Missing);
        files.store(&ledger(100), true).unwrap();
        files.store(&ledger(200), true).unwrap();
        files.store(&ledger(300), false).unwrap();
        drop(files);
        let (_, loaded) = LedgerFiles::open(dir.path()).unwrap();
        assert_eq!(loaded, Loaded::Valid(ledger(300)));
    }

    #[test]
    fn a_torn_newest_copy_falls_back_to_the_older_one() {
        let dir = tempfile::tempdir().unwrap();
        let (mut files, _) = LedgerFiles::open(dir.path()).unwrap();
        files.store(&ledger(100), true).unwrap(); // generation 1 → ledger.1
        files.store(&ledger(200), true).unwrap(); // generation 2 → ledger.0
        drop(files);
        let path = dir.path().join("ledger.0");
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 7);
        std::fs::write(&path, bytes).unwrap();
        let (mut files, loaded) = LedgerFiles::open(dir.path()).unwrap();
        assert_eq!(loaded, Loaded::Valid(ledger(100)));
        // The next update goes over the damaged copy and is found again.
        files.store(&ledger(400), true).unwrap();
        drop(files);
        assert_eq!(
            LedgerFiles::open(dir.path()).unwrap().1,
            Loaded::Valid(ledger(400))
        );
    }

    #[test]
    fn both_copies_damaged_is_reported_as_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["ledger.0", "ledger.1"] {
            std::fs::File::create(dir.path().join(name))
                .unwrap()
                .write_all(b"TRIBLDG1 garbage garbage garbage garbage garbage")
                .unwrap();
        }
        assert_eq!(LedgerFiles::open(dir.path()).unwrap().1, Loaded::Corrupt);
    }

    #[test]
    fn every_single_byte_flip_is_detected() {
        let encoded = ledger(100).encode(5);
        for at in 0..encoded.len() {
            let mut bytes = encoded.clone();
            bytes[at] ^= 0x01;
            assert_ne!(
                Ledger::decode(&bytes),
                Some((5, ledger(100))),
                "flip at {at}"
            );
        }
        assert_eq!(Ledger::decode(&encoded), Some((5, ledger(100))));
    }
}
