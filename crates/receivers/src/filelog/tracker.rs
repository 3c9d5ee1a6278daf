//! Which files are which, and how far each was accepted downstream.
//!
//! A file is known by its fingerprint, its first `fingerprint_size` bytes, not by its
//! path: a file renamed by rotation keeps its fingerprint and so its offset; a file that
//! grew past its old fingerprint still starts with it; a new file under an old name
//! (replaced, or truncated and rewritten by `copytruncate`) starts differently and is read
//! from its beginning. Files matched at one poll stay open until the next, so a file
//! renamed away from the `include` patterns is still read to its end.
//!
//! Offsets move only when downstream accepted a batch: the tracker reads a batch, hands
//! it over, and advances (and checkpoints) when that returned `Ok`. A refused batch is
//! read again at the next poll.
//!
//! With operators, lines are consumed when they enter the operators, which may hold them
//! (`recombine`, `container`) or emit them later. Each entry carries its
//! [`Origin`](stanza::Origin), and the checkpoint of a file never passes the oldest entry
//! of it that an operator holds or that was refused and waits to be sent again: a crash
//! reads those lines again instead of losing them.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use flate2::read::MultiGzDecoder;
use tributary_pipeline_core::pdata::Logs;
use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::builder::{LogsBuilder, now_unix_nano};
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;

use crate::stanza::{self, Entry, Expr, Pipeline};

use super::checkpoint::{self, Checkpoint};
use super::config::{Compression, Config, expression};
use super::encoding::Encoding;
mod records;

use records::{entries_to_logs, plain_value, read_header};

use super::ordering::FileOrdering;
use super::split::Splitter;

/// The most records one batch holds. Files are read one batch at a time, so this bounds
/// what a crash of the receiver may send twice.
pub const MAX_BATCH_RECORDS: usize = 1000;
/// The most bytes of a file read into one batch (plus one entry).
const MAX_BATCH_BYTES: usize = 4 << 20;
/// What a batch reads first: a thousand lines of 250 bytes. Reading the whole 4 MiB
/// for a batch that keeps a thousand short lines read and copied every byte about twenty
/// times, into a fresh buffer each time (a third of the receiver's CPU in page faults and
/// copies); the window grows, up to the batch limit, only when one entry needs more.
const FIRST_READ: usize = 256 << 10;
/// How many polls a file that is no longer matched stays known (Go keeps three).
const KNOWN_GENERATIONS: u64 = 3;

/// What downstream did with a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Accepted: the offset moves past the batch.
    Accepted,
    /// Refused for good (bad data): counted, and the offset moves past it too.
    Dropped,
    /// Refused for now: the batch is read again at the next poll.
    Refused,
}

/// Where the tracker's batches and checkpoints go.
pub trait Downstream {
    /// Hands a batch over (blocking until downstream answered).
    fn deliver(&mut self, logs: Logs) -> Delivery;
    /// Stores checkpoint values in order: each key set to its value, or deleted (`None`).
    /// Returns whether all were stored.
    fn checkpoint(&mut self, writes: Vec<(String, Option<Vec<u8>>)>) -> bool;
    /// Whether the receiver is shutting down (stop between batches).
    fn stopping(&self) -> bool;
}

/// What the operators emitted and downstream refused for now: sent again before
/// anything else is read.
struct Pending {
    logs: Logs,
    /// The oldest origin of each file among its entries.
    origins: Vec<stanza::Origin>,
}

/// One known file.
#[derive(Debug)]
struct Known {
    /// Its checkpoint key's id.
    id: u64,
    fingerprint: Vec<u8>,
    /// Everything before it was accepted downstream.
    offset: u64,
    record_number: u64,
    path: PathBuf,
    /// Open from the poll that last matched it until the next.
    file: Option<File>,
    /// The poll that last matched it.
    generation: u64,
    gzip: bool,
    /// A gzip file's decoder and its position in the decompressed stream.
    decoder: Option<(MultiGzDecoder<File>, u64)>,
    /// An unterminated tail: its length and when it last changed.
    tail: Option<(usize, Instant)>,
    /// Whether the header (with `header`) was read to its end.
    header_done: bool,
    /// The attributes the header set.
    header_attributes: Vec<KeyValue>,
}

/// How far one batch read a file, and the header state after it.
struct BatchRead {
    consumed: u64,
    record_number: u64,
    header_done: bool,
    header_attributes: Vec<KeyValue>,
}

impl Known {
    /// Moves past a batch read from the file's offset.
    fn advance(&mut self, read: BatchRead) {
        self.offset += read.consumed;
        self.record_number = read.record_number;
        self.header_done = read.header_done;
        self.header_attributes = read.header_attributes;
        self.tail = None;
    }
}

/// The receiver's files: discovery, identity, reading and offsets.
pub struct Tracker {
    config: Config,
    splitter: Splitter,
    encoding: Encoding,
    known: Vec<Known>,
    generation: u64,
    resource: Vec<KeyValue>,
    attributes: Vec<KeyValue>,
    /// The stanza operators, when `operators` lists any.
    operators: Option<Pipeline>,
    /// `ordering_criteria`, when set.
    ordering: Option<FileOrdering>,
    /// Where the next poll's window of `max_concurrent_files` starts.
    window_start: usize,
    /// Whether the last poll matched more files than `max_concurrent_files` (warned).
    over_limit: bool,
    /// `attributes` given as `EXPR(...)`, evaluated for each entry.
    attribute_exprs: Vec<(String, Expr)>,
    /// `header`: its pattern and metadata operators.
    header: Option<(regex::bytes::Regex, Pipeline)>,
    /// The read buffer, kept between batches so that its pages stay mapped.
    read_buffer: Vec<u8>,
    /// The id the next file found gets.
    next_id: u64,
    /// What the storage holds of each file, as last stored.
    stored: HashMap<u64, checkpoint::FileOffset>,
    /// The index as last stored.
    stored_ids: Vec<u64>,
    /// Entries the operators emitted that downstream refused for now.
    pending: Option<Pending>,
}

impl Tracker {
    /// A tracker for a validated `config`, resuming from `checkpoint` if there is one.
    pub fn new(config: &Config, checkpoint: Option<Checkpoint>) -> Result<Tracker, String> {
        let encoding = Encoding::parse(&config.encoding)?;
        let max = config.effective_max_log_size();
        let (leading, trailing) = (
            config.preserve_leading_whitespaces,
            config.preserve_trailing_whitespaces,
        );
        let splitter = match &config.multiline {
            Some(multiline) => multiline
                .build(max, leading, trailing)
                .map_err(|e| e.to_string())?,
            None => Splitter::newline(encoding, max, leading, trailing),
        };
        let files = checkpoint.map(|c| c.files).unwrap_or_default();
        // A version-1 checkpoint has no ids: its files get new ones, and everything is
        // stored again at the first checkpoint.
        let had_ids = files.iter().all(|f| f.id != 0);
        let mut next_id = files.iter().map(|f| f.id).max().unwrap_or(0) + 1;
        let (stored, stored_ids) = if had_ids {
            let mut ids: Vec<u64> = files.iter().map(|f| f.id).collect();
            ids.sort_unstable();
            (files.iter().map(|f| (f.id, f.clone())).collect(), ids)
        } else {
            (HashMap::new(), Vec::new())
        };
        let known = files
            .into_iter()
            .map(|f| Known {
                id: if f.id != 0 {
                    f.id
                } else {
                    next_id += 1;
                    next_id - 1
                },
                fingerprint: f.fingerprint,
                offset: f.offset,
                record_number: f.record_number,
                path: f.path,
                file: None,
                generation: 0,
                gzip: false,
                decoder: None,
                tail: None,
                header_done: f.header_done,
                header_attributes: f
                    .header_attributes
                    .iter()
                    .map(|(k, v)| key_value(k, v.as_str()))
                    .collect(),
            })
            .collect();
        let statics = |map: &std::collections::BTreeMap<String, String>| {
            map.iter()
                .filter(|(_, v)| expression(v).is_none())
                .map(|(k, v)| key_value(k, v.as_str()))
                .collect::<Vec<_>>()
        };
        let exprs = |map: &std::collections::BTreeMap<String, String>| {
            map.iter()
                .filter_map(|(k, v)| Some((k.clone(), expression(v)?)))
                .map(|(k, source)| Ok((k, Expr::parse(source).map_err(|e| e.to_string())?)))
                .collect::<Result<Vec<_>, String>>()
        };
        // Resource expressions are evaluated once (they usually read `env(...)`); record
        // attribute expressions for each entry.
        let mut resource = statics(&config.resource);
        for (key, expr) in exprs(&config.resource)? {
            resource.push(key_value(
                &key,
                expr.evaluate(&Entry::default()).into_any_value(),
            ));
        }
        let attribute_exprs = exprs(&config.attributes)?;
        let operators = if config.operators.is_empty() {
            None
        } else {
            Some(Pipeline::build(&config.operators).map_err(|e| format!("operators: {e}"))?)
        };
        let ordering = config
            .ordering_criteria
            .as_ref()
            .map(|o| o.build().map_err(|e| format!("ordering_criteria: {e}")))
            .transpose()?;
        let header = match &config.header {
            Some(header) => Some((
                regex::bytes::Regex::new(&header.pattern).map_err(|e| format!("header: {e}"))?,
                Pipeline::build(&header.metadata_operators).map_err(|e| format!("header: {e}"))?,
            )),
            None => None,
        };
        Ok(Tracker {
            pending: None,
            read_buffer: Vec::new(),
            next_id,
            stored,
            stored_ids,
            window_start: 0,
            over_limit: false,
            header,
            ordering,
            operators,
            splitter,
            encoding,
            known,
            generation: 0,
            resource,
            attributes: statics(&config.attributes),
            attribute_exprs,
            config: config.clone(),
        })
    }

    /// How many files are known (matched lately or restored from the checkpoint).
    pub fn known_files(&self) -> usize {
        self.known.len()
    }

    /// One poll: lists the files, reads what is new in each, hands it downstream batch by
    /// batch, and checkpoints after every accepted batch.
    pub fn poll(&mut self, downstream: &mut dyn Downstream) {
        if !self.deliver_pending(downstream) {
            // Downstream still refuses: reading more would only pile up entries.
            return;
        }
        self.generation += 1;
        let first_poll = self.generation == 1;
        let mut matched = Vec::new();
        let (window, waiting) = self.matched_paths();
        for path in window {
            if let Some(index) = self.identify(&path, first_poll, &matched) {
                matched.push(index);
            }
        }
        // Files known before (a rotated file's rest) are read before new ones.
        matched.sort_unstable();
        // Files open since the last poll that no pattern matches now (renamed away or
        // deleted) are read to their end, then closed.
        for index in 0..self.known.len() {
            let known = &self.known[index];
            // A file left out of this poll's window waits for its turn, known but closed
            // (open files stay within max_concurrent_files).
            if known.generation != self.generation && waiting.contains(&known.path) {
                let known = &mut self.known[index];
                known.generation = self.generation;
                known.file = None;
                known.decoder = None;
                continue;
            }
            if known.file.is_some() && known.generation != self.generation {
                if self.still_same(index) {
                    self.read(index, true, downstream);
                }
                self.known[index].file = None;
                self.known[index].decoder = None;
            }
        }
        for &index in &matched {
            if downstream.stopping() {
                break;
            }
            let drained = self.read(index, false, downstream);
            // Not while an operator holds some of it: a crash would read it again.
            if drained
                && self.config.delete_after_read
                && !self.held_back().contains_key(&self.known[index].id)
            {
                let known = &mut self.known[index];
                known.file = None;
                if std::fs::remove_file(&known.path).is_ok() {
                    tracing::debug!(path = %known.path.display(), "deleted a file read to its end");
                }
            }
        }
        self.flush_operators(stanza::now_nanos(), downstream);
        let oldest = self.generation.saturating_sub(KNOWN_GENERATIONS);
        let before = self.known.len();
        self.known
            .retain(|k| k.generation > oldest || k.file.is_some());
        if self.known.len() != before {
            self.store_checkpoint(downstream);
        }
    }

    /// Sends what the operators (`recombine`, `container`) hold for longer than their
    /// flush period, or everything with `i64::MAX` (at shutdown).
    pub fn flush_operators(&mut self, now: i64, downstream: &mut dyn Downstream) {
        if !self.deliver_pending(downstream) {
            return;
        }
        let Some(pipeline) = self.operators.as_mut() else {
            return;
        };
        let mut out = Vec::new();
        pipeline.flush(now, &mut out);
        if !out.is_empty() {
            self.deliver_emitted(out, downstream);
            self.store_checkpoint(downstream);
        }
    }

    /// Hands over what the operators emitted; if downstream refuses it for now, keeps it
    /// (with its origins, which hold the checkpoint back) to send again.
    fn deliver_emitted(
        &mut self,
        out: Vec<stanza::Entry>,
        downstream: &mut dyn Downstream,
    ) -> Delivery {
        let origins = oldest_per_file(out.iter().filter_map(|e| e.origin))
            .into_values()
            .collect();
        let logs = entries_to_logs(out);
        let delivery = downstream.deliver(logs.clone());
        if delivery == Delivery::Refused {
            self.pending = Some(Pending { logs, origins });
        }
        delivery
    }

    /// Sends again what downstream refused; returns whether nothing waits any more.
    fn deliver_pending(&mut self, downstream: &mut dyn Downstream) -> bool {
        let Some(pending) = self.pending.take() else {
            return true;
        };
        if downstream.deliver(pending.logs.clone()) == Delivery::Refused {
            self.pending = Some(pending);
            return false;
        }
        self.store_checkpoint(downstream);
        true
    }

    /// For each file, the oldest origin of an entry the operators hold or that waits to
    /// be sent again: its checkpoint stays there.
    fn held_back(&self) -> HashMap<u64, stanza::Origin> {
        let held = self
            .operators
            .as_ref()
            .map(Pipeline::held)
            .unwrap_or_default();
        let pending = self.pending.iter().flat_map(|p| p.origins.iter().copied());
        oldest_per_file(held.into_iter().chain(pending))
    }

    /// The checkpoint of one known file, at `offset` after `record_number` records.
    fn snapshot(k: &Known, offset: u64, record_number: u64) -> checkpoint::FileOffset {
        checkpoint::FileOffset {
            id: k.id,
            fingerprint: k.fingerprint.clone(),
            offset,
            record_number,
            path: k.path.clone(),
            header_done: k.header_done,
            header_attributes: k
                .header_attributes
                .iter()
                .map(|kv| (kv.key.clone(), plain_value(kv.value.as_ref()).to_string()))
                .collect(),
        }
    }

    /// The checkpoint of every known file, in the version-1 form (one value).
    #[cfg(test)]
    pub fn encode(&self) -> Vec<u8> {
        checkpoint::encode(
            self.known
                .iter()
                .map(|k| Self::snapshot(k, k.offset, k.record_number)),
        )
    }

    /// Stores what changed since the last checkpoint: the keys of files whose offset
    /// moved or that are new, then the index if files were found or forgotten, then the
    /// deletion of forgotten files' keys (the order the `checkpoint` module explains).
    pub fn store_checkpoint(&mut self, downstream: &mut dyn Downstream) {
        let mut writes = Vec::new();
        let held_back = self.held_back();
        for known in &self.known {
            let (offset, record_number) = match held_back.get(&known.id) {
                Some(origin) if origin.offset < known.offset => {
                    (origin.offset, origin.record_number)
                }
                _ => (known.offset, known.record_number),
            };
            // Header attributes change only with the offset (they are read in a batch).
            let unchanged = self.stored.get(&known.id).is_some_and(|stored| {
                stored.offset == offset
                    && stored.record_number == record_number
                    && stored.header_done == known.header_done
                    && stored.header_attributes.len() == known.header_attributes.len()
                    && stored.fingerprint == known.fingerprint
                    && stored.path == known.path
            });
            if unchanged {
                continue;
            }
            let current = Self::snapshot(known, offset, record_number);
            writes.push((
                checkpoint::file_key(known.id),
                Some(checkpoint::encode_file(&current)),
            ));
            self.stored.insert(known.id, current);
        }
        let mut ids: Vec<u64> = self.known.iter().map(|k| k.id).collect();
        ids.sort_unstable();
        if ids != self.stored_ids {
            writes.push((
                checkpoint::KEY.to_string(),
                Some(checkpoint::encode_index(&ids)),
            ));
            for gone in self
                .stored_ids
                .iter()
                .filter(|id| ids.binary_search(id).is_err())
            {
                writes.push((checkpoint::file_key(*gone), None));
                self.stored.remove(gone);
            }
            self.stored_ids = ids;
        }
        if !writes.is_empty() && !downstream.checkpoint(writes) {
            // Not known what the storage holds now: store everything next time.
            self.stored.clear();
            self.stored_ids.clear();
        }
    }

    /// The regular files `include` matches and `exclude` does not, not older than
    /// `exclude_older_than`, at most `max_concurrent_files`: when more match, a window
    /// of them that moves on at each poll.
    fn matched_paths(&mut self) -> (Vec<PathBuf>, Vec<PathBuf>) {
        let excluded: Vec<glob::Pattern> = self
            .config
            .exclude
            .iter()
            .filter_map(|p| glob::Pattern::new(p).ok())
            .collect();
        let mut paths = Vec::new();
        for pattern in &self.config.include {
            let Ok(entries) = glob::glob(pattern) else {
                continue;
            };
            for path in entries.flatten() {
                if excluded.iter().any(|e| e.matches_path(&path)) {
                    continue;
                }
                let Ok(metadata) = std::fs::metadata(&path) else {
                    continue;
                };
                if !metadata.is_file() {
                    continue;
                }
                if !self.config.exclude_older_than.is_zero() {
                    let age = metadata
                        .modified()
                        .ok()
                        .and_then(|m| SystemTime::now().duration_since(m).ok())
                        .unwrap_or(Duration::ZERO);
                    if age > self.config.exclude_older_than {
                        continue;
                    }
                }
                paths.push(path);
            }
        }
        paths.sort();
        paths.dedup();
        if let Some(ordering) = &self.ordering {
            paths = ordering.select(paths);
        }
        let max = self.config.max_concurrent_files;
        if paths.len() > max {
            if !self.over_limit {
                tracing::warn!(
                    matched = paths.len(),
                    max_concurrent_files = max,
                    "more files match than max_concurrent_files; each poll reads the next ones in turn"
                );
            }
            // A window that moves on each poll, so every file gets its turn.
            let start = self.window_start % paths.len();
            paths.rotate_left(start);
            let waiting = paths.split_off(max);
            self.window_start = start + max;
            self.over_limit = true;
            return (paths, waiting);
        }
        self.over_limit = false;
        (paths, Vec::new())
    }

    /// Opens `path` and finds (or adds) its known file; `None` for an empty or
    /// unreadable file, or one already matched at this poll through another path.
    fn identify(&mut self, path: &Path, first_poll: bool, matched: &[usize]) -> Option<usize> {
        let mut file = File::open(path)
            .map_err(|error| tracing::debug!(path = %path.display(), %error, "cannot open a matched file"))
            .ok()?;
        if self.config.acquire_fs_lock && file.try_lock_shared().is_err() {
            // A writer holds it exclusively; the lock goes with the handle.
            return None;
        }
        let fingerprint = read_fingerprint(&mut file, self.config.fingerprint_size).ok()?;
        if fingerprint.is_empty() {
            return None;
        }
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let gzip = match self.config.compression() {
            Compression::None => false,
            Compression::Gzip => true,
            Compression::Auto => path.extension().is_some_and(|e| e == "gz"),
        };
        let same = self
            .known
            .iter()
            .position(|k| !k.fingerprint.is_empty() && fingerprint.starts_with(&k.fingerprint));
        if let Some(index) = same {
            if matched.contains(&index) {
                return None;
            }
            let known = &mut self.known[index];
            if known.fingerprint.len() < fingerprint.len() {
                known.fingerprint = fingerprint;
            }
            if !gzip && size < known.offset {
                // Shorter than what was read, yet starting the same: rewritten in place.
                known.offset = 0;
                known.record_number = 0;
                known.tail = None;
            }
            // The fingerprint read moved the shared file position under the decoder.
            known.decoder = None;
            known.path = path.to_path_buf();
            known.file = Some(file);
            known.generation = self.generation;
            known.gzip = gzip;
            return Some(index);
        }
        let offset = if first_poll && !self.config.start_at_beginning() {
            if gzip {
                decompressed_len(&file).unwrap_or(0)
            } else {
                size
            }
        } else {
            0
        };
        self.next_id += 1;
        self.known.push(Known {
            id: self.next_id - 1,
            fingerprint,
            offset,
            record_number: 0,
            path: path.to_path_buf(),
            file: Some(file),
            generation: self.generation,
            gzip,
            decoder: None,
            tail: None,
            header_done: false,
            header_attributes: Vec::new(),
        });
        Some(self.known.len() - 1)
    }

    /// Whether a file kept open still starts with its fingerprint (it was not truncated
    /// and rewritten behind the handle).
    fn still_same(&mut self, index: usize) -> bool {
        let known = &mut self.known[index];
        let Some(file) = known.file.as_mut() else {
            return false;
        };
        read_fingerprint(file, known.fingerprint.len()).is_ok_and(|f| f == known.fingerprint)
    }

    /// Reads the file from its offset, batch by batch; `finishing` sends an
    /// unterminated tail at once (the file will not be read again). Returns whether the
    /// file was read and accepted to its end.
    fn read(&mut self, index: usize, finishing: bool, downstream: &mut dyn Downstream) -> bool {
        let chunk = self.config.effective_max_log_size().max(64 << 10) * 2;
        let most = chunk.max(MAX_BATCH_BYTES);
        let mut window = FIRST_READ.min(most);
        let file_attributes = self.file_attributes(index);
        loop {
            // Entries refused for now are sent again first (at the next poll).
            if downstream.stopping() || self.pending.is_some() {
                return false;
            }
            let offset = self.known[index].offset;
            let mut data = std::mem::take(&mut self.read_buffer);
            if let Err(error) = self.read_at(index, offset, window, &mut data) {
                let path = self.known[index].path.display().to_string();
                tracing::warn!(%path, %error, "reading a file failed");
                return false;
            }
            let file_ended = data.len() < window;
            let mut builder = LogsBuilder::new();
            builder.resource(self.resource.clone()).scope("", "");
            let (mut consumed, mut records) = (0usize, 0u64);
            let observed = now_unix_nano();
            let mut record_number = self.known[index].record_number;
            let mut entries = Vec::new();
            // Header progress, committed with the offset when the batch is accepted.
            let mut header_done = self.known[index].header_done || self.header.is_none();
            let mut header_attributes = self.known[index].header_attributes.clone();
            while records < MAX_BATCH_RECORDS as u64 && consumed < MAX_BATCH_BYTES {
                let rest = &data[consumed..];
                let token = match self.splitter.next(rest, false) {
                    Some(token) if token.consumed > 0 => token,
                    _ if file_ended
                        && !rest.is_empty()
                        && self.flush_due(index, rest.len(), finishing) =>
                    {
                        match self.splitter.next(rest, true) {
                            Some(token) if token.consumed > 0 => token,
                            _ => break,
                        }
                    }
                    _ => break,
                };
                let bytes = &rest[token.range.clone()];
                let start = offset + consumed as u64;
                consumed += token.consumed;
                if bytes.is_empty() {
                    continue;
                }
                if !header_done {
                    if let Some((pattern, metadata)) = self.header.as_mut()
                        && pattern.is_match(bytes)
                    {
                        read_header(metadata, self.encoding.body(bytes), &mut header_attributes);
                        continue;
                    }
                    header_done = true;
                }
                let with_header: Vec<KeyValue>;
                let file_attributes: &[KeyValue] = if header_attributes.is_empty() {
                    &file_attributes
                } else {
                    with_header = file_attributes
                        .iter()
                        .chain(&header_attributes)
                        .cloned()
                        .collect();
                    &with_header
                };
                record_number += 1;
                records += 1;
                if self.operators.is_some() {
                    let mut entry = self.entry(bytes, observed, file_attributes, record_number);
                    entry.origin = Some(stanza::Origin {
                        source: self.known[index].id,
                        offset: start,
                        record_number: record_number - 1,
                    });
                    entries.push(entry);
                    continue;
                }
                let body = self.encoding.body(bytes);
                let computed = self.computed_attributes(&body);
                let mut record = builder.record(body);
                record
                    .observed_time(observed)
                    .attributes(self.attributes.iter().cloned())
                    .attributes(computed)
                    .attributes(file_attributes.iter().cloned());
                if self.config.include_file_record_number {
                    record.attribute("log.file.record_number", record_number as i64);
                }
            }
            if consumed == 0 {
                let ended = file_ended && data.is_empty();
                if !file_ended && window < most {
                    // One entry is longer than the window: read more of it.
                    window = (window * 2).min(most);
                    self.read_buffer = data;
                    continue;
                }
                self.read_buffer = data;
                return ended;
            }
            // Bodies and entries own copies of what they took from the buffer.
            self.read_buffer = data;
            let read = BatchRead {
                consumed: consumed as u64,
                record_number,
                header_done,
                header_attributes,
            };
            if let Some(pipeline) = self.operators.as_mut() {
                let mut out = Vec::new();
                for entry in entries {
                    pipeline.process(entry, &mut out);
                }
                // The operators hold or emitted the lines: they are not read again. The
                // origins of what they hold, or of a refused batch, hold the checkpoint.
                self.known[index].advance(read);
                let outcome = if out.is_empty() {
                    Delivery::Accepted
                } else {
                    self.deliver_emitted(out, downstream)
                };
                self.store_checkpoint(downstream);
                if outcome == Delivery::Refused {
                    return false;
                }
                continue;
            }
            if records > 0 {
                // Encoded here, and the records freed here: the exporter sends the bytes.
                let built = builder.build();
                let logs = Logs::from_own_encoding(built.encoded(), built.item_count());
                if downstream.deliver(logs) == Delivery::Refused {
                    return false;
                }
            }
            self.known[index].advance(read);
            self.store_checkpoint(downstream);
        }
    }

    /// Whether an unterminated tail of `len` bytes is sent now: when finishing, or when
    /// it has not changed for `force_flush_period`.
    fn flush_due(&mut self, index: usize, len: usize, finishing: bool) -> bool {
        if finishing {
            return true;
        }
        let period = self.config.force_flush_period;
        let known = &mut self.known[index];
        match known.tail {
            Some((seen, since)) if seen == len => !period.is_zero() && since.elapsed() >= period,
            _ => {
                known.tail = Some((len, Instant::now()));
                false
            }
        }
    }

    /// Up to `len` bytes of the file from `offset` (decompressed for gzip), into `data`
    /// (emptied first).
    fn read_at(
        &mut self,
        index: usize,
        offset: u64,
        len: usize,
        data: &mut Vec<u8>,
    ) -> io::Result<()> {
        data.clear();
        let known = &mut self.known[index];
        let Some(file) = known.file.as_mut() else {
            return Ok(());
        };
        // Room for the whole window and read_to_end's end-of-file probe, so it never
        // reallocates.
        data.reserve(len + 64);
        if !known.gzip {
            file.seek(SeekFrom::Start(offset))?;
            file.take(len as u64).read_to_end(data)?;
            return Ok(());
        }
        let reusable = matches!(&known.decoder, Some((_, position)) if *position == offset);
        if !reusable {
            // A clone shares the position; nothing else seeks until the next poll.
            let mut source = file.try_clone()?;
            source.seek(SeekFrom::Start(0))?;
            let mut decoder = MultiGzDecoder::new(source);
            io::copy(&mut (&mut decoder).take(offset), &mut io::sink())?;
            known.decoder = Some((decoder, offset));
        }
        if let Some((decoder, position)) = known.decoder.as_mut() {
            decoder.take(len as u64).read_to_end(data)?;
            *position += data.len() as u64;
        }
        Ok(())
    }
}

/// The oldest of `origins` for each file.
fn oldest_per_file(origins: impl Iterator<Item = stanza::Origin>) -> HashMap<u64, stanza::Origin> {
    let mut oldest: HashMap<u64, stanza::Origin> = HashMap::new();
    for origin in origins {
        oldest
            .entry(origin.source)
            .and_modify(|o| {
                if origin.offset < o.offset {
                    *o = origin;
                }
            })
            .or_insert(origin);
    }
    oldest
}

/// The first `size` bytes of `file` (fewer if it is shorter).
fn read_fingerprint(file: &mut File, size: usize) -> io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(0))?;
    let mut fingerprint = Vec::with_capacity(size);
    file.take(size as u64).read_to_end(&mut fingerprint)?;
    Ok(fingerprint)
}

/// The decompressed length of a gzip file (where `start_at: end` starts).
fn decompressed_len(file: &File) -> io::Result<u64> {
    let mut source = file.try_clone()?;
    source.seek(SeekFrom::Start(0))?;
    io::copy(&mut MultiGzDecoder::new(source), &mut io::sink())
}
