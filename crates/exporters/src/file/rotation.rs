//! The output file: whole records only, rolled over by size, old files pruned.
//!
//! Rolled-over files are named as the Go Collector's (lumberjack's) are, so existing
//! clean-up scripts and globs keep working: `<stem>-<time>.<ext>`, where `<time>` is
//! `2006-01-02T15-04-05.000` in UTC (or local time with `localtime`), e.g.
//! `traces-2025-11-21T10-04-05.123.json`.
//!
//! Blocking I/O: used only from the writer thread.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{Local, NaiveDateTime, Utc};

const TIME_FORMAT: &str = "%Y-%m-%dT%H-%M-%S%.3f";

/// When to roll the file over and what to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RotationPolicy {
    /// Roll over before a record would take the file beyond this size.
    pub max_bytes: u64,
    /// Delete rolled-over files older than this (zero: no age limit).
    pub max_age: Duration,
    /// Keep at most this many rolled-over files (0: no count limit).
    pub max_backups: usize,
    /// Name rolled-over files by local time.
    pub localtime: bool,
}

/// An open output file that only ever holds whole records.
pub(crate) struct RotatingFile {
    path: PathBuf,
    file: File,
    /// Bytes of whole records in the file.
    len: u64,
    policy: Option<RotationPolicy>,
    /// Whether something was written since the last sync.
    dirty: bool,
}

impl RotatingFile {
    /// Opens `path`. With rotation, an existing file is continued (as lumberjack does);
    /// without, it is truncated unless `append`.
    pub(crate) fn open(
        path: &Path,
        append: bool,
        policy: Option<RotationPolicy>,
    ) -> io::Result<Self> {
        if !append && policy.is_none() {
            File::create(path)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let len = file.metadata()?.len();
        Ok(RotatingFile {
            path: path.to_path_buf(),
            file,
            len,
            policy,
            dirty: false,
        })
    }

    /// Writes one record, rolling over first if it would not fit. On failure the file is
    /// cut back to its last whole record, so a retry does not leave a torn one behind.
    pub(crate) fn write_record(&mut self, record: &[u8]) -> io::Result<()> {
        if let Some(policy) = self.policy
            && self.len > 0
            && self.len.saturating_add(record.len() as u64) > policy.max_bytes
        {
            self.rotate(policy)?;
        }
        match self.file.write_all(record) {
            Ok(()) => {
                self.len += record.len() as u64;
                self.dirty = true;
                Ok(())
            }
            Err(error) => {
                // Best effort: if even this fails, the next successful write starts after
                // the torn bytes; readers of JSON lines skip the broken line.
                if self.file.set_len(self.len).is_err() {
                    tracing::warn!(path = %self.path.display(), "could not remove a partly written record");
                }
                Err(error)
            }
        }
    }

    /// Forces written data to disk, if anything was written since the last time.
    pub(crate) fn sync(&mut self) -> io::Result<()> {
        if self.dirty {
            self.file.sync_data()?;
            self.dirty = false;
        }
        Ok(())
    }

    fn rotate(&mut self, policy: RotationPolicy) -> io::Result<()> {
        self.sync()?;
        let backup = self.unused_backup_name(policy.localtime);
        fs::rename(&self.path, &backup)?;
        self.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.len = 0;
        if let Err(error) = prune_backups(&self.path, policy) {
            tracing::warn!(path = %self.path.display(), %error, "could not remove old rolled-over files");
        }
        Ok(())
    }

    /// A backup name for now that is not taken (a rotation within the same millisecond
    /// as another gets the next millisecond).
    fn unused_backup_name(&self, localtime: bool) -> PathBuf {
        let mut time = now(localtime);
        loop {
            let candidate = backup_name(&self.path, time);
            if !candidate.exists() {
                return candidate;
            }
            time += chrono::Duration::milliseconds(1);
        }
    }
}

fn now(localtime: bool) -> NaiveDateTime {
    if localtime {
        Local::now().naive_local()
    } else {
        Utc::now().naive_utc()
    }
}

/// `dir/stem.ext` → (`stem-`, `.ext`).
fn name_parts(path: &Path) -> (String, String) {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    (format!("{stem}-"), ext)
}

pub(crate) fn backup_name(path: &Path, time: NaiveDateTime) -> PathBuf {
    let (prefix, ext) = name_parts(path);
    path.with_file_name(format!("{prefix}{}{ext}", time.format(TIME_FORMAT)))
}

/// Rolled-over files of `path`, newest first, with the time in their names.
pub(crate) fn backups(path: &Path) -> io::Result<Vec<(NaiveDateTime, PathBuf)>> {
    let (prefix, ext) = name_parts(path);
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut found = Vec::new();
    for entry in fs::read_dir(&dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(time) = name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(&ext))
            .and_then(|time| NaiveDateTime::parse_from_str(time, TIME_FORMAT).ok())
        else {
            continue;
        };
        found.push((time, entry.path()));
    }
    found.sort_by_key(|(time, _)| std::cmp::Reverse(*time));
    Ok(found)
}

/// Deletes rolled-over files beyond `max_backups` and older than `max_age`.
fn prune_backups(path: &Path, policy: RotationPolicy) -> io::Result<()> {
    let cutoff = (!policy.max_age.is_zero()).then(|| {
        let age = chrono::Duration::from_std(policy.max_age).unwrap_or(chrono::Duration::MAX);
        now(policy.localtime) - age
    });
    for (index, (time, backup)) in backups(path)?.into_iter().enumerate() {
        let too_many = policy.max_backups > 0 && index >= policy.max_backups;
        let too_old = cutoff.is_some_and(|cutoff| time < cutoff);
        if too_many || too_old {
            fs::remove_file(&backup)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(max_bytes: u64, max_backups: usize) -> RotationPolicy {
        RotationPolicy {
            max_bytes,
            max_age: Duration::ZERO,
            max_backups,
            localtime: false,
        }
    }

    #[test]
    fn rolls_over_by_size_and_keeps_at_most_max_backups() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        let mut file = RotatingFile::open(&path, false, Some(policy(100, 3))).unwrap();
        let record = [b'x'; 40];
        for _ in 0..20 {
            file.write_record(&record).unwrap();
        }
        // Two records fit in 100 bytes, a third does not: 20 records make 10 files.
        assert_eq!(fs::metadata(&path).unwrap().len(), 80);
        let kept = backups(&path).unwrap();
        assert_eq!(kept.len(), 3, "{kept:?}");
        for (_, backup) in &kept {
            assert_eq!(fs::metadata(backup).unwrap().len(), 80);
            let name = backup.file_name().unwrap().to_str().unwrap();
            assert!(
                name.starts_with("out-") && name.ends_with(".json"),
                "{name}"
            );
        }
        let times: Vec<_> = kept.iter().map(|(t, _)| *t).collect();
        let mut sorted = times.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(times, sorted, "newest first, all distinct");
        sorted.dedup();
        assert_eq!(sorted.len(), 3);
    }

    #[test]
    fn a_record_larger_than_the_limit_gets_a_file_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.bin");
        let mut file = RotatingFile::open(&path, false, Some(policy(10, 0))).unwrap();
        file.write_record(b"small").unwrap();
        file.write_record(&[0u8; 50]).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().len(), 50);
        assert_eq!(backups(&path).unwrap().len(), 1);
    }

    #[test]
    fn old_backups_are_pruned_by_age() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aged.json");
        let old = backup_name(&path, (Utc::now() - chrono::Duration::days(10)).naive_utc());
        let recent = backup_name(&path, (Utc::now() - chrono::Duration::hours(1)).naive_utc());
        fs::write(&old, b"old").unwrap();
        fs::write(&recent, b"recent").unwrap();
        fs::write(dir.path().join("aged-notatime.json"), b"unrelated").unwrap();
        let mut file = RotatingFile::open(
            &path,
            false,
            Some(RotationPolicy {
                max_bytes: 4,
                max_age: Duration::from_secs(7 * 86400),
                max_backups: 0,
                localtime: false,
            }),
        )
        .unwrap();
        file.write_record(b"abcd").unwrap();
        file.write_record(b"efgh").unwrap();
        assert!(!old.exists(), "older than max_days is removed");
        assert!(recent.exists());
        assert!(dir.path().join("aged-notatime.json").exists());
        assert_eq!(backups(&path).unwrap().len(), 2);
    }

    #[test]
    fn with_rotation_an_existing_file_is_continued_without_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keep.json");
        fs::write(&path, b"earlier\n").unwrap();
        let mut file = RotatingFile::open(&path, false, Some(policy(1 << 20, 1))).unwrap();
        file.write_record(b"later\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"earlier\nlater\n");

        let mut file = RotatingFile::open(&path, false, None).unwrap();
        file.write_record(b"fresh\n").unwrap();
        assert_eq!(
            fs::read(&path).unwrap(),
            b"fresh\n",
            "truncated without append"
        );

        let mut file = RotatingFile::open(&path, true, None).unwrap();
        file.write_record(b"more\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"fresh\nmore\n");
    }

    #[test]
    fn backup_names_follow_lumberjack() {
        let time = NaiveDateTime::parse_from_str("2025-11-21T10-04-05.123", TIME_FORMAT).unwrap();
        assert_eq!(
            backup_name(Path::new("/var/log/otel/traces.json"), time),
            PathBuf::from("/var/log/otel/traces-2025-11-21T10-04-05.123.json")
        );
        assert_eq!(
            backup_name(Path::new("spans"), time),
            PathBuf::from("spans-2025-11-21T10-04-05.123")
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_disk_fails_the_write_with_the_os_error() {
        // /dev/full accepts opening and refuses every write with ENOSPC.
        let mut file = RotatingFile::open(Path::new("/dev/full"), true, None).unwrap();
        let error = file.write_record(b"record\n").unwrap_err();
        assert_eq!(error.raw_os_error(), Some(28), "ENOSPC: {error}");
    }
}
