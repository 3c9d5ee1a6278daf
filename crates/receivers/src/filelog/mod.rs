//! The `filelog` receiver: follows log files and sends each line (or multi-line entry) as
//! a log record, with checkpoints that advance only when the pipeline accepted the lines.
//!
//! It takes the Go Collector contrib `filelogreceiver`'s keys and defaults. Every
//! `poll_interval` it lists the files `include` matches (globs with `*`, `?`, `[...]` and
//! `**`), minus `exclude` and files older than `exclude_older_than`, and reads what is
//! new in each. Entries end at newlines, or where `multiline`'s pattern says; an entry
//! longer than `max_log_size` is cut into pieces; an unterminated last entry is sent
//! once the file has not changed for `force_flush_period`. Whitespace around an entry is
//! trimmed, and entries that are empty after trimming are skipped. Without `operators`
//! each record has the
//! entry as its body (a string in `encoding`, bytes with `nop`), the observed time (the
//! timestamp is left for parsers, as in Go), the `attributes`, the `log.file.*`
//! attributes asked for, and the `resource` as its resource.
//!
//! # File identity
//!
//! A file is known by its fingerprint, its first `fingerprint_size` bytes, not by its
//! path, as in Go. Rotation by rename keeps a file's fingerprint, so it is read on from
//! its offset under its new name (and a file renamed out of `include` is read to its end
//! at the next poll: files stay open between polls); a new file under the old name starts
//! differently and is read from its beginning. With `copytruncate`, the copy keeps the
//! fingerprint (read on, if `include` matches it) and the truncated original is new. A
//! file that grows past its fingerprint keeps its identity. Empty files wait until they
//! have a first byte. Files found at the first poll without a checkpoint start at their
//! end unless `start_at: beginning`; files found later are read from their beginning.
//! Lines written to a file between the last read and a `copytruncate` are only in the
//! copy: `include` must match the copies for them to be read (as in Go).
//!
//! # Checkpoints advance on export
//!
//! With `storage: <extension id>` (a `file_storage` extension), the receiver stores each
//! known file's fingerprint and offset under its own key (`file_input.knownFiles.<id>`,
//! written when that file moves, so a batch writes one small value however many files
//! are known), with the list of ids under `file_input.knownFiles`, and a restart resumes
//! from there. Unlike Go, which stores *read* offsets (lines read but not
//! yet exported are lost on a crash, contrib #31074), the offset moves only after the
//! pipeline accepted a batch: the receiver reads at most [`MAX_BATCH_RECORDS`] records
//! (and 4 MiB) of one file, hands them to the pipeline, and when `consume` returned `Ok`
//! advances the offset and writes the checkpoint, before reading the next batch. A
//! batch refused with a retryable error is read again at the next poll (after the
//! retries of `retry_on_failure`, when enabled); one refused for good is dropped and
//! counted. So after a crash at any moment, what is re-sent is at most the one batch in
//! flight: duplicates are bounded by [`MAX_BATCH_RECORDS`] records.
//!
//! With `operators`, a line is read once: it enters the operators, which may hold it to
//! join it with later lines (`recombine`, `container`). Each entry remembers where it
//! was read, and a file's checkpoint never passes the oldest line of it that an operator
//! still holds, or that the operators emitted and the pipeline refused (kept and sent
//! again before more is read). A crash reads those lines again: what is re-sent is the
//! batch in flight plus the lines after the oldest held one.
//!
//! A configuration reload that keeps the receiver's configuration keeps it running. One
//! that changes it starts the new instance (from the checkpoint) before the old one
//! stops, so lines read by both during the hand-over may be sent twice; none is lost,
//! since each instance checkpoints only what was accepted from it.
//!
//! What "accepted" means depends on what follows the receiver:
//!
//! * an exporter with a **persistent sending queue** (`sending_queue: {storage:
//!   file_storage}`, with or without batching inside the queue): accepted means written
//!   to the queue's files, so a `kill -9` of the collector at any moment loses no line;
//!   the agent's default configuration is built this way;
//! * a `batch` **processor** or an in-memory sending queue: accepted means taken into
//!   memory; a crash loses what was held there (and the checkpoint already moved past
//!   it). Use a persistent queue where lines must survive crashes.
//!
//! # Example
//!
//! ```yaml
//! extensions:
//!   file_storage:
//!     directory: /var/lib/otelcol/file_storage
//! receivers:
//!   filelog:
//!     include: [ /var/log/myservice/*.log ]
//!     exclude: [ /var/log/myservice/debug.log ]
//!     start_at: beginning
//!     include_file_path: true
//!     multiline:
//!       line_start_pattern: '^\d{4}-\d{2}-\d{2}'
//!     attributes: { service: myservice }
//!     storage: file_storage
//! ```
//!
//! The same, decoded and checked as the collector does it:
//!
//! ```
//! use tributary_pipeline_core::component::{ComponentConfig, load_config};
//! use tributary_receivers::filelog::Config;
//!
//! let config: Config = load_config(
//!     r#"
//! include: [ /var/log/myservice/*.log ]
//! start_at: beginning
//! multiline: { line_start_pattern: '^\d{4}-\d{2}-\d{2}' }
//! storage: file_storage
//! "#,
//! )?;
//! config.validate()?;
//! assert_eq!(config.poll_interval.as_millis(), 200);
//! assert_eq!(config.fingerprint_size, 1000);
//! let refused = load_config::<Config>("include: [a.log]\ncompression: zstd");
//! assert!(refused.unwrap_err().to_string().contains("compression"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Configuration
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `include` | (required) | glob patterns of the files to read |
//! | `exclude` | `[]` | glob patterns of matched files to leave out |
//! | `exclude_older_than` | `0s` (off) | leave out files not modified for this long |
//! | `start_at` | `end` | `beginning` or `end`: where files found at the first poll without a checkpoint start |
//! | `poll_interval` | `200ms` | how often files are listed and read |
//! | `fingerprint_size` | `1kb` | how many first bytes identify a file (at least 16) |
//! | `max_log_size` | `1MiB` | the longest entry; longer ones are cut |
//! | `max_concurrent_files` | `1024` | how many files one poll opens and reads; when more match, each poll takes the next ones in turn (those waiting are closed, so a file renamed out of `include` while waiting is not read to its end) |
//! | `max_batches` | `0` | accepted; files are read one after another, so there are no batches of files |
//! | `encoding` | `utf-8` | `nop` (bytes bodies), `utf-8`, `utf8-raw`, `ascii`, `utf-16le`, `utf-16be`, or a WHATWG/IANA label (`big5`, `shift_jis`, `iso-8859-1`, `windows-1252`, ...) |
//! | `multiline` | newlines | `line_start_pattern` or `line_end_pattern` (one of them), `omit_pattern` |
//! | `preserve_leading_whitespaces` / `preserve_trailing_whitespaces` | `false` | keep whitespace around entries |
//! | `force_flush_period` | `500ms` | after how long without change an unterminated last entry is sent (0: never) |
//! | `include_file_name` | `true` | `log.file.name` |
//! | `include_file_path` | `false` | `log.file.path` |
//! | `include_file_name_resolved` / `include_file_path_resolved` | `false` | `log.file.name_resolved` / `log.file.path_resolved` (symbolic links followed) |
//! | `include_file_owner_name` / `include_file_owner_group_name` | `false` | `log.file.owner.name` / `log.file.owner.group.name` (from `/etc/passwd`, `/etc/group`) |
//! | `include_file_permissions` | `false` | `log.file.permissions` (`0644`) |
//! | `include_file_record_number` | `false` | `log.file.record_number` (1 for a file's first entry) |
//! | `compression` | `""` | `gzip`: every file is gzip; `auto`: names ending in `.gz` are |
//! | `ordering_criteria` | none | `regex` (named groups from each path), `sort_by: [{sort_type: numeric\|alphabetical\|timestamp\|mtime, regex_key, ascending: false, layout, location}]`, `top_n: 1`, `group_by`: read only the first `top_n` files (per group); see [`OrderingCriteria`] |
//! | `acquire_fs_lock` | `false` | take a shared `flock` on each file before reading it (a file locked exclusively by its writer waits for a later poll) |
//! | `delete_after_read` | `false` | delete a file once all of it was accepted (needs `start_at: beginning`) |
//! | `header` | none | `pattern` (a regex matching each header line at a file's start), `metadata_operators` (stanza operators turning a header line into attributes, added to every later entry of the file); needs `start_at: beginning` |
//! | `attributes` / `resource` | `{}` | record and resource attributes: strings, or `EXPR(...)` |
//! | `operators` | `[]` | the [stanza operators](crate::stanza) each entry goes through (`json_parser`, `regex_parser`, `container`, `recombine`, `move`, ...) |
//! | `storage` | none | the storage extension keeping checkpoints |
//! | `retry_on_failure` | `enabled: false`, `1s`, `30s`, `5m` | retry a refused batch with backoff (`enabled`, `initial_interval`, `max_interval`, `max_elapsed_time`) |
//!
//! `attributes` and `resource` values may be `EXPR(...)` expressions (the
//! subset of expr-lang at [`Expr`](crate::stanza::Expr), such as `env("HOSTNAME")` or
//! `body`): record attributes are evaluated for each entry, resource attributes once at
//! start. Go's feature gates `filelog.allowFileDeletion` and
//! `filelog.allowHeaderMetadataParsing` are not needed for `delete_after_read` and
//! `header`.
//!
//! # Differences from the Go Collector
//!
//! * Offsets are checkpointed when the pipeline accepted the lines, not when they were
//!   read (see above); a retryable refusal re-reads the batch later instead of dropping
//!   it (Go drops it once its retries, if any, are over).
//! * The checkpoint is Tributary's JSON (version 2: an index and a key per file; version
//!   1 is still read) in the storage extension, not Go's bbolt file; a Go checkpoint is
//!   not read.
//! * With `operators`, an entry enters the operators as a string (bytes with `nop`)
//!   with the `attributes`, the `log.file.*` attributes and the `resource`; what they
//!   emit is the batch. Go checkpoints past lines `recombine` or `container` hold; here
//!   the checkpoint waits for them (see above). The operators are flushed every poll
//!   (what is due) and at shutdown (everything). An entry `recombine` joins from lines
//!   of several files (a `source_identifier` other than the file) holds back only its
//!   first file's checkpoint once it was emitted and refused.
//! * `utf8-raw` replaces invalid UTF-8 like `utf-8` (a Rust string must be valid).
//!
//! # Crates
//!
//! `glob` (rust-lang's) lists the files: it walks only the directories a pattern needs.
//! `encoding_rs` (Firefox's, already in the tree) decodes the encodings. `flate2` reads
//! gzip files; `regex` matches the multiline patterns (linear time on any input).

mod checkpoint;
mod config;
mod encoding;
mod factory;
mod ordering;
mod owner;
mod receiver;
mod split;
mod tracker;

#[cfg(test)]
mod tests;

pub use checkpoint::{Checkpoint, FileOffset};
pub use config::{
    Compression, Config, DEFAULT_FINGERPRINT_SIZE, DEFAULT_MAX_LOG_SIZE, HeaderConfig,
    MIN_FINGERPRINT_SIZE, RetryOnFailure,
};
pub use encoding::Encoding;
pub use factory::factory;
pub use ordering::{FileOrdering, OrderingCriteria, SortRule};
pub use split::{Multiline, SplitError, Splitter, Token};
pub use tracker::{Delivery, Downstream, MAX_BATCH_RECORDS, Tracker};

/// Splits `data` as the receiver would with `config` (newlines or `multiline`), the
/// rest too when `at_end`; returns the entries and how many bytes they used. The
/// entry point of the line splitter's fuzz target.
pub fn split_entries(config: &Config, data: &[u8], at_end: bool) -> Result<Vec<Vec<u8>>, String> {
    let encoding = Encoding::parse(&config.encoding)?;
    let splitter = match &config.multiline {
        Some(multiline) => multiline
            .build(
                config.effective_max_log_size(),
                config.preserve_leading_whitespaces,
                config.preserve_trailing_whitespaces,
            )
            .map_err(|e| e.to_string())?,
        None => Splitter::newline(
            encoding,
            config.effective_max_log_size(),
            config.preserve_leading_whitespaces,
            config.preserve_trailing_whitespaces,
        ),
    };
    let (entries, _) = splitter.split_all(data, at_end);
    Ok(entries.into_iter().map(<[u8]>::to_vec).collect())
}
