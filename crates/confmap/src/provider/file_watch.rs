//! Watching configuration files: one debounced OS watcher per [`FileProvider`], watching
//! directories, and a table of watched files compared by content.
//!
//! [`FileProvider`]: crate::FileProvider

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::ffi::OsString;
use std::hash::Hasher;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};

use crate::error::ProviderError;
use crate::provider::file::read_config_file;
use crate::watch::Watcher;

/// The most symlinks followed while resolving a path, as Linux's `MAXSYMLINKS`.
const MAX_SYMLINK_HOPS: usize = 40;

/// The files being watched for one provider and the OS watcher serving them.
///
/// Locking: one mutex guards the table, the debouncer included. The debouncer's thread
/// reads files without holding it. Nothing blocks on the debouncer's thread while holding
/// the lock: a stop that waits for the thread (`stop_all`) takes the debouncer out first.
#[derive(Debug)]
pub(crate) struct FileWatches {
    debounce: Duration,
    table: Mutex<Table>,
    me: Weak<FileWatches>,
}

#[derive(Default)]
struct Table {
    debouncer: Option<Debouncer<RecommendedWatcher, RecommendedCache>>,
    entries: HashMap<u64, Entry>,
    /// How many entries watch each directory.
    dir_refs: HashMap<PathBuf, usize>,
    next_id: u64,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("running", &self.debouncer.is_some())
            .field("files", &self.entries.len())
            .field("dirs", &self.dir_refs.len())
            .finish()
    }
}

struct Entry {
    path: PathBuf,
    watcher: Watcher,
    /// The content last seen; `None` when the file could not be read.
    fingerprint: Option<u64>,
    /// The directories watched for this file (canonical paths).
    dirs: BTreeSet<PathBuf>,
}

impl FileWatches {
    pub(crate) fn new(debounce: Duration) -> Arc<FileWatches> {
        Arc::new_cyclic(|me| FileWatches {
            debounce,
            table: Mutex::new(Table::default()),
            me: me.clone(),
        })
    }

    /// Reads the file and starts watching it; returns its text and the watch's id, or no id
    /// when the watch could not be set up (the reason is logged). Blocking: call it from a
    /// blocking thread.
    pub(crate) fn register(
        &self,
        path: &Path,
        watcher: Watcher,
        max_bytes: u64,
    ) -> Result<(String, Option<u64>), ProviderError> {
        let dirs = watch_dirs(path);
        let mut table = self.lock();
        // Watch before reading: a change after the read is then always reported, and one
        // before it is already in the text.
        let watched = match self.acquire_dirs(&mut table, &dirs) {
            Ok(watched) => Some(watched),
            Err(reason) => {
                tracing::warn!(path = %path.display(), %reason, "cannot watch the configuration file; changes will not be noticed");
                None
            }
        };
        let text = match read_config_file(path, max_bytes) {
            Ok(text) => text,
            Err(error) => {
                if let Some(watched) = watched {
                    release_dirs(&mut table, &watched);
                }
                stop_if_idle(&mut table);
                return Err(error);
            }
        };
        let Some(watched) = watched else {
            return Ok((text, None));
        };
        let id = table.next_id;
        table.next_id += 1;
        table.entries.insert(
            id,
            Entry {
                path: path.to_owned(),
                watcher,
                fingerprint: Some(fingerprint_bytes(text.as_bytes())),
                dirs: watched,
            },
        );
        Ok((text, Some(id)))
    }

    /// Stops one watch. Once this returns, its watcher is not called again.
    pub(crate) fn unregister(&self, id: u64) {
        let mut table = self.lock();
        if let Some(entry) = table.entries.remove(&id) {
            release_dirs(&mut table, &entry.dirs);
        }
        stop_if_idle(&mut table);
    }

    /// Stops every watch and waits for the watcher thread to end. Blocking.
    pub(crate) fn stop_all(&self) {
        let debouncer = {
            let mut table = self.lock();
            table.entries.clear();
            table.dir_refs.clear();
            table.debouncer.take()
        };
        if let Some(debouncer) = debouncer {
            debouncer.stop();
        }
    }

    /// Watches the directories not yet watched; returns the ones now held for the caller.
    fn acquire_dirs(
        &self,
        table: &mut Table,
        dirs: &BTreeSet<PathBuf>,
    ) -> Result<BTreeSet<PathBuf>, String> {
        if table.debouncer.is_none() {
            let me = self.me.clone();
            let debouncer = new_debouncer(self.debounce, None, move |result| {
                if let Some(watches) = me.upgrade() {
                    watches.on_events(result);
                }
            })
            .map_err(|error| format!("starting a file watcher: {error}"))?;
            table.debouncer = Some(debouncer);
        }
        let mut acquired = BTreeSet::new();
        let mut failures = Vec::new();
        for dir in dirs {
            let refs = table.dir_refs.get(dir).copied().unwrap_or(0);
            if refs == 0 {
                let Some(debouncer) = table.debouncer.as_mut() else {
                    break;
                };
                if let Err(error) = debouncer.watch(dir, RecursiveMode::NonRecursive) {
                    failures.push(format!("{}: {error}", dir.display()));
                    continue;
                }
            }
            table.dir_refs.insert(dir.clone(), refs + 1);
            acquired.insert(dir.clone());
        }
        if acquired.is_empty() {
            stop_if_idle(table);
            return Err(if failures.is_empty() {
                "no directory on the path exists".to_owned()
            } else {
                failures.join("; ")
            });
        }
        for failure in failures {
            tracing::warn!(%failure, "cannot watch a directory on a configuration file's path");
        }
        Ok(acquired)
    }

    /// Handles a debounced batch: re-reads the files it may concern and reports those whose
    /// content changed.
    fn on_events(&self, result: DebounceEventResult) {
        let events = match result {
            Ok(events) => events,
            Err(errors) => {
                for error in errors {
                    tracing::warn!(%error, "file watch error");
                }
                return;
            }
        };
        let rescan = events.iter().any(|event| event.need_rescan());
        let touched: Vec<&PathBuf> = events
            .iter()
            .filter(|event| is_relevant(event.kind))
            .flat_map(|event| event.paths.iter())
            .collect();
        if !rescan && touched.is_empty() {
            return;
        }
        let candidates: Vec<(u64, PathBuf)> = {
            let table = self.lock();
            table
                .entries
                .iter()
                .filter(|(_, entry)| rescan || touched.iter().any(|path| entry.concerns(path)))
                .map(|(id, entry)| (*id, entry.path.clone()))
                .collect()
        };
        // Read outside the lock: closing a watch never waits for file I/O.
        let observed: Vec<(u64, Option<u64>, BTreeSet<PathBuf>)> = candidates
            .into_iter()
            .map(|(id, path)| (id, fingerprint_file(&path), watch_dirs(&path)))
            .collect();
        let mut table = self.lock();
        // One file may be watched twice for one resolver (after a failed resolution, its
        // watch and the last good one's are both kept): report such a change once, or one
        // edit would be read as two and reloaded twice.
        let mut reported: Vec<Watcher> = Vec::new();
        for (id, fingerprint, dirs) in observed {
            let old_dirs = match table.entries.get_mut(&id) {
                Some(entry) => {
                    if entry.fingerprint != fingerprint {
                        entry.fingerprint = fingerprint;
                        if !reported.iter().any(|w| w.reports_like(&entry.watcher)) {
                            entry.watcher.changed();
                            reported.push(entry.watcher.clone());
                        }
                    }
                    if entry.dirs == dirs || dirs.is_empty() {
                        continue;
                    }
                    std::mem::take(&mut entry.dirs)
                }
                None => continue,
            };
            // A symlink on the path now points elsewhere: follow it. Acquire before
            // releasing so a directory in both sets stays watched throughout.
            let acquired = self
                .acquire_dirs(&mut table, &dirs)
                .unwrap_or_else(|reason| {
                    tracing::warn!(%reason, "cannot follow a configuration file to its new directory");
                    BTreeSet::new()
                });
            release_dirs(&mut table, &old_dirs);
            match table.entries.get_mut(&id) {
                Some(entry) => entry.dirs = acquired,
                None => release_dirs(&mut table, &acquired),
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        // Every update leaves the table consistent, so a panic elsewhere does not poison it.
        self.table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Entry {
    /// Whether an event on `path` may change this file: something in one of its directories,
    /// or one of the directories itself.
    fn concerns(&self, path: &Path) -> bool {
        self.dirs.contains(path)
            || path
                .parent()
                .is_some_and(|parent| self.dirs.contains(parent))
    }
}

/// Stops watching directories no entry needs any more.
fn release_dirs(table: &mut Table, dirs: &BTreeSet<PathBuf>) {
    for dir in dirs {
        let Some(refs) = table.dir_refs.get_mut(dir) else {
            continue;
        };
        *refs -= 1;
        if *refs == 0 {
            table.dir_refs.remove(dir);
            if let Some(debouncer) = table.debouncer.as_mut() {
                // The directory may be gone already (a swapped Kubernetes data directory).
                let _ = debouncer.unwatch(dir);
            }
        }
    }
}

/// Ends the watcher thread when nothing is watched; the next watch starts a new one.
fn stop_if_idle(table: &mut Table) {
    if table.entries.is_empty()
        && table.dir_refs.is_empty()
        && let Some(debouncer) = table.debouncer.take()
    {
        debouncer.stop_nonblocking();
    }
}

/// Whether an event kind can mean new content. Opening or reading a file (which this
/// watcher does itself) cannot; finishing a write can.
fn is_relevant(kind: EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

fn fingerprint_bytes(bytes: &[u8]) -> u64 {
    // SipHash with fixed keys: stable within the process, which is all a comparison needs.
    let mut hasher = DefaultHasher::new();
    hasher.write(bytes);
    hasher.finish()
}

fn fingerprint_file(path: &Path) -> Option<u64> {
    std::fs::read(path)
        .ok()
        .map(|bytes| fingerprint_bytes(&bytes))
}

/// The directories to watch to see every change of `path`: its own directory, the directory
/// of every symlink met while resolving it (a swap of the symlink shows there), and the
/// directory it finally resolves to. Canonical paths; directories that do not exist are left
/// out.
pub(crate) fn watch_dirs(path: &Path) -> BTreeSet<PathBuf> {
    let mut dirs = BTreeSet::new();
    let Ok(absolute) = std::path::absolute(path) else {
        return dirs;
    };
    let mut add = |dir: &Path| {
        if let Ok(canonical) = std::fs::canonicalize(dir) {
            dirs.insert(canonical);
        }
    };
    if let Some(parent) = absolute.parent() {
        add(parent);
    }
    let mut pending: VecDeque<Part> = absolute.components().map(Part::from).collect();
    let mut current = PathBuf::new();
    let mut hops = 0;
    while let Some(part) = pending.pop_front() {
        match part {
            Part::Root(root) => current = PathBuf::from(root),
            Part::Parent => {
                current.pop();
            }
            Part::Current => {}
            Part::Name(name) => {
                let candidate = current.join(&name);
                let is_symlink = std::fs::symlink_metadata(&candidate)
                    .is_ok_and(|meta| meta.file_type().is_symlink());
                let target = if is_symlink && hops < MAX_SYMLINK_HOPS {
                    std::fs::read_link(&candidate).ok()
                } else {
                    None
                };
                match target {
                    Some(target) => {
                        hops += 1;
                        add(&current);
                        let parts: Vec<Part> = target.components().map(Part::from).collect();
                        for part in parts.into_iter().rev() {
                            pending.push_front(part);
                        }
                    }
                    None => current = candidate,
                }
            }
        }
    }
    if let Some(parent) = current.parent() {
        add(parent);
    }
    dirs
}

/// An owned path component.
enum Part {
    Root(OsString),
    Parent,
    Current,
    Name(OsString),
}

impl From<Component<'_>> for Part {
    fn from(component: Component<'_>) -> Part {
        match component {
            Component::Prefix(_) | Component::RootDir => {
                Part::Root(component.as_os_str().to_owned())
            }
            Component::ParentDir => Part::Parent,
            Component::CurDir => Part::Current,
            Component::Normal(name) => Part::Name(name.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_file_is_watched_through_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.yaml");
        std::fs::write(&file, "a: 1").unwrap();
        let canonical = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(watch_dirs(&file), BTreeSet::from([canonical]));
    }

    #[test]
    fn kubernetes_style_symlinks_add_the_data_directory() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("..2024_01_01");
        std::fs::create_dir(&data).unwrap();
        std::fs::write(data.join("c.yaml"), "a: 1").unwrap();
        std::os::unix::fs::symlink("..2024_01_01", dir.path().join("..data")).unwrap();
        std::os::unix::fs::symlink("..data/c.yaml", dir.path().join("c.yaml")).unwrap();
        let dirs = watch_dirs(&dir.path().join("c.yaml"));
        let root = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(
            dirs,
            BTreeSet::from([root.clone(), root.join("..2024_01_01")])
        );
    }

    #[test]
    fn a_symlinked_parent_directory_adds_the_directory_holding_the_link() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("v1")).unwrap();
        std::fs::write(dir.path().join("v1/c.yaml"), "a: 1").unwrap();
        std::os::unix::fs::symlink("v1", dir.path().join("current")).unwrap();
        let dirs = watch_dirs(&dir.path().join("current/c.yaml"));
        let root = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(dirs, BTreeSet::from([root.clone(), root.join("v1")]));
    }

    #[test]
    fn symlink_loops_end() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("b", dir.path().join("a")).unwrap();
        std::os::unix::fs::symlink("a", dir.path().join("b")).unwrap();
        let dirs = watch_dirs(&dir.path().join("a"));
        assert!(dirs.contains(&std::fs::canonicalize(dir.path()).unwrap()));
    }

    #[test]
    fn a_change_seen_by_two_watches_of_one_resolver_is_reported_once() {
        use notify::event::{DataChange, ModifyKind};
        use notify_debouncer_full::DebouncedEvent;

        use crate::watch::ChangeHub;

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.yaml");
        let uri = format!("file:{}", file.display());
        // A debounce longer than the test: only the batch handed over below is seen.
        let watches = FileWatches::new(Duration::from_secs(3600));
        let hub = ChangeHub::new();
        let other_hub = ChangeHub::new();
        // The last good resolution's watch, then a failed one's, then another receiver's.
        std::fs::write(&file, "a: 1").unwrap();
        watches.register(&file, hub.watcher(&uri), 1 << 20).unwrap();
        std::fs::write(&file, "a: [").unwrap();
        watches.register(&file, hub.watcher(&uri), 1 << 20).unwrap();
        watches
            .register(&file, other_hub.watcher(&uri), 1 << 20)
            .unwrap();

        std::fs::write(&file, "a: 2").unwrap();
        let event = notify::Event::new(EventKind::Modify(ModifyKind::Data(DataChange::Any)))
            .add_path(file.clone());
        watches.on_events(Ok(vec![DebouncedEvent::new(
            event,
            std::time::Instant::now(),
        )]));
        assert_eq!(hub.reports(), 1, "one resolver, one report");
        assert_eq!(other_hub.reports(), 1);
        // Dropped without waiting for the watcher thread, which sleeps a quarter debounce.
        drop(watches);
    }

    #[test]
    fn opening_and_reading_are_not_changes() {
        use notify::event::{CreateKind, ModifyKind};
        assert!(!is_relevant(EventKind::Access(AccessKind::Open(
            AccessMode::Any
        ))));
        assert!(!is_relevant(EventKind::Access(AccessKind::Close(
            AccessMode::Read
        ))));
        assert!(is_relevant(EventKind::Access(AccessKind::Close(
            AccessMode::Write
        ))));
        assert!(is_relevant(EventKind::Create(CreateKind::File)));
        assert!(is_relevant(EventKind::Modify(ModifyKind::Any)));
    }
}
