//! The tracker on real files: identity across rotation, truncation and replacement,
//! offsets that move only on acceptance, checkpoints.

use std::io::Write;
use std::path::{Path, PathBuf};

use tributary_pipeline_core::component::load_config;
use tributary_pipeline_core::pdata::Logs;
use tributary_pipeline_core::pdata::proto::common::v1::any_value;

use super::super::checkpoint::{self, Checkpoint, decode};
use super::super::{Config, Delivery, Downstream, Tracker};

/// Records what it accepted; refuses while `refuse` is set.
#[derive(Default)]
struct Recorder {
    lines: Vec<String>,
    attributes: Vec<Vec<(String, String)>>,
    refuse: bool,
    /// The checkpoint storage: key → value.
    checkpoint: std::collections::BTreeMap<String, Vec<u8>>,
    /// How many values each checkpoint stored.
    writes: Vec<usize>,
}

impl Downstream for Recorder {
    fn deliver(&mut self, logs: Logs) -> Delivery {
        if self.refuse {
            return Delivery::Refused;
        }
        for resource in &logs.request().resource_logs {
            for scope in &resource.scope_logs {
                for record in &scope.log_records {
                    let body = match record.body.as_ref().and_then(|b| b.value.as_ref()) {
                        Some(any_value::Value::StringValue(s)) => s.clone(),
                        other => format!("{other:?}"),
                    };
                    self.lines.push(body);
                    self.attributes.push(
                        record
                            .attributes
                            .iter()
                            .map(|kv| {
                                let value = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                                    Some(any_value::Value::StringValue(s)) => s.clone(),
                                    other => format!("{other:?}"),
                                };
                                (kv.key.clone(), value)
                            })
                            .collect(),
                    );
                }
            }
        }
        Delivery::Accepted
    }

    fn checkpoint(&mut self, writes: Vec<(String, Option<Vec<u8>>)>) -> bool {
        self.writes.push(writes.len());
        for (key, value) in writes {
            match value {
                Some(value) => self.checkpoint.insert(key, value),
                None => self.checkpoint.remove(&key),
            };
        }
        true
    }

    fn stopping(&self) -> bool {
        false
    }
}

fn config(dir: &Path, extra: &str) -> Config {
    let mut yaml = format!(
        "include: ['{}/*.log*']\nfingerprint_size: 16\n{extra}\n",
        dir.display()
    );
    for default in ["start_at: beginning", "force_flush_period: 0s"] {
        let key = default.split(':').next().unwrap_or_default();
        if !extra.contains(key) {
            yaml.push_str(default);
            yaml.push('\n');
        }
    }
    load_config(&yaml).unwrap()
}

fn append(path: &PathBuf, text: &str) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

fn numbered(from: usize, to: usize) -> String {
    (from..to)
        .map(|i| format!("line number {i:05}\n"))
        .collect()
}

fn expected(from: usize, to: usize) -> Vec<String> {
    (from..to).map(|i| format!("line number {i:05}")).collect()
}

#[test]
fn rename_rotation_reads_every_line_once() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let mut tracker = Tracker::new(&config(dir.path(), ""), None).unwrap();
    let mut sink = Recorder::default();
    append(&log, &numbered(0, 10));
    tracker.poll(&mut sink);
    append(&log, &numbered(10, 20));
    std::fs::rename(&log, dir.path().join("app.log.1")).unwrap();
    append(&log, &numbered(20, 30));
    tracker.poll(&mut sink);
    append(&log, &numbered(30, 40));
    tracker.poll(&mut sink);
    assert_eq!(sink.lines, expected(0, 40));
}

#[test]
fn a_file_renamed_out_of_the_patterns_is_read_to_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let config = config(dir.path(), "").clone();
    let mut config = config;
    config.include = vec![log.display().to_string()];
    let mut tracker = Tracker::new(&config, None).unwrap();
    let mut sink = Recorder::default();
    append(&log, &numbered(0, 5));
    tracker.poll(&mut sink);
    append(&log, &numbered(5, 10));
    std::fs::rename(&log, dir.path().join("rotated")).unwrap();
    append(&log, &numbered(10, 15));
    tracker.poll(&mut sink);
    tracker.poll(&mut sink);
    assert_eq!(sink.lines, expected(0, 15));
}

#[test]
fn copytruncate_truncation_and_replacement_read_each_line_once() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let mut tracker = Tracker::new(&config(dir.path(), ""), None).unwrap();
    let mut sink = Recorder::default();
    append(&log, &numbered(0, 10));
    tracker.poll(&mut sink);
    // copytruncate: the copy keeps the fingerprint, the original starts over.
    std::fs::copy(&log, dir.path().join("app.log.1")).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&log)
        .unwrap();
    append(&log, &numbered(10, 20));
    tracker.poll(&mut sink);
    // Replaced under the same name.
    std::fs::remove_file(&log).unwrap();
    append(&log, &numbered(20, 30));
    tracker.poll(&mut sink);
    // Truncated and rewritten.
    std::fs::write(&log, numbered(30, 35)).unwrap();
    tracker.poll(&mut sink);
    let mut lines = sink.lines.clone();
    lines.sort();
    assert_eq!(lines, expected(0, 35));
}

#[test]
fn a_refused_batch_is_read_again_and_the_checkpoint_holds_only_accepted_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let config = config(dir.path(), "include_file_record_number: true");
    let mut tracker = Tracker::new(&config, None).unwrap();
    let mut sink = Recorder::default();
    append(&log, &numbered(0, 3));
    tracker.poll(&mut sink);
    let accepted = sink.checkpoint.clone();
    sink.refuse = true;
    append(&log, &numbered(3, 6));
    tracker.poll(&mut sink);
    assert_eq!(sink.checkpoint, accepted);
    let offsets = restored(&accepted);
    assert_eq!(offsets.files[0].offset, numbered(0, 3).len() as u64);
    sink.refuse = false;
    tracker.poll(&mut sink);
    assert_eq!(sink.lines, expected(0, 6));
    let numbers: Vec<_> = sink
        .attributes
        .iter()
        .map(|a| {
            a.iter()
                .find(|(k, _)| k == "log.file.record_number")
                .unwrap()
                .1
                .clone()
        })
        .collect();
    assert_eq!(
        numbers,
        ["1", "2", "3", "4", "5", "6"].map(|n| format!("Some(IntValue({n}))"))
    );
}

/// The checkpoint a restart reads from a storage's values.
fn restored(storage: &std::collections::BTreeMap<String, Vec<u8>>) -> Checkpoint {
    match checkpoint::decode_index(&storage[checkpoint::KEY]).unwrap() {
        checkpoint::Index::Files(files) => files,
        checkpoint::Index::Ids(ids) => checkpoint::from_files(
            ids.into_iter()
                .map(|id| (id, storage.get(&checkpoint::file_key(id)).cloned())),
        ),
    }
}

/// With many files known, a batch stores the one file that moved, not the list; the
/// index changes only when files are found or forgotten; a restart from the stored
/// values resumes every file, and a version-1 checkpoint is still read.
#[test]
fn a_batch_stores_only_the_file_that_moved() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "");
    let path = |file: usize| dir.path().join(format!("f{file:02}.log"));
    // Lines that differ from the first byte, so each file has its own fingerprint.
    let lines = |file: usize, from: usize, to: usize| -> String {
        (from..to)
            .map(|n| format!("{file:02}/{n:02} some text\n"))
            .collect()
    };
    let line = |file: usize, n: usize| format!("{file:02}/{n:02} some text");
    for file in 0..20 {
        append(&path(file), &lines(file, 0, 2));
    }
    let mut tracker = Tracker::new(&config, None).unwrap();
    let mut sink = Recorder::default();
    tracker.poll(&mut sink);
    assert_eq!(sink.lines.len(), 40);
    assert_eq!(sink.checkpoint.len(), 21, "an index and a key per file");
    sink.writes.clear();
    append(&path(7), &lines(7, 2, 3));
    tracker.poll(&mut sink);
    assert_eq!(sink.writes, [1], "one file's key");
    let checkpoint = restored(&sink.checkpoint);
    assert_eq!(checkpoint.files.len(), 20);

    append(&path(7), &lines(7, 3, 4));
    append(&path(11), &lines(11, 2, 3));
    let mut restarted = Tracker::new(&config, Some(checkpoint)).unwrap();
    let mut after = Recorder::default();
    restarted.poll(&mut after);
    let mut read = after.lines.clone();
    read.sort();
    assert_eq!(read, [line(7, 3), line(11, 2)]);

    let version_1 =
        std::collections::BTreeMap::from([(checkpoint::KEY.to_string(), tracker.encode())]);
    let mut migrated = Tracker::new(&config, Some(restored(&version_1))).unwrap();
    let mut sink = Recorder::default();
    migrated.poll(&mut sink);
    let mut read = sink.lines.clone();
    read.sort();
    assert_eq!(read, [line(7, 3), line(11, 2)]);
    assert_eq!(sink.checkpoint.len(), 21, "stored again in the new form");
    assert_eq!(restored(&sink.checkpoint).files.len(), 20);
}

#[test]
fn a_restart_resumes_from_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let config = config(dir.path(), "start_at: end");
    append(&log, &numbered(0, 5));
    let mut tracker = Tracker::new(&config, None).unwrap();
    let mut sink = Recorder::default();
    tracker.poll(&mut sink);
    assert!(sink.lines.is_empty(), "start_at: end skips what was there");
    append(&log, &numbered(5, 8));
    tracker.poll(&mut sink);
    let checkpoint = decode(&tracker.encode()).unwrap();
    append(&log, &numbered(8, 10));
    let mut restarted = Tracker::new(&config, Some(checkpoint)).unwrap();
    restarted.poll(&mut sink);
    assert_eq!(sink.lines, expected(5, 10));
}

#[test]
fn an_unterminated_line_waits_for_the_flush_period_and_files_get_their_attributes() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let config = config(
        dir.path(),
        "force_flush_period: 1ms\ninclude_file_path: true\nattributes: {team: core}",
    );
    let mut tracker = Tracker::new(&config, None).unwrap();
    let mut sink = Recorder::default();
    append(&log, "complete\npartial");
    tracker.poll(&mut sink);
    assert_eq!(sink.lines, ["complete"]);
    std::thread::sleep(std::time::Duration::from_millis(5));
    tracker.poll(&mut sink);
    assert_eq!(sink.lines, ["complete", "partial"]);
    let attributes = &sink.attributes[0];
    let path = log.display().to_string();
    for pair in [
        ("team", "core"),
        ("log.file.name", "app.log"),
        ("log.file.path", path.as_str()),
    ] {
        assert!(
            attributes.contains(&(pair.0.to_string(), pair.1.to_string())),
            "{attributes:?}"
        );
    }
}

#[test]
fn gzip_files_are_decompressed_and_deleted_after_read_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.log.gz");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::default(),
    );
    encoder.write_all(numbered(0, 2000).as_bytes()).unwrap();
    encoder.finish().unwrap();
    let config = config(dir.path(), "compression: auto\ndelete_after_read: true");
    let mut tracker = Tracker::new(&config, None).unwrap();
    let mut sink = Recorder::default();
    tracker.poll(&mut sink);
    assert_eq!(sink.lines, expected(0, 2000));
    assert!(!path.exists(), "deleted once read and accepted");
}

#[test]
fn exclude_and_empty_files() {
    let dir = tempfile::tempdir().unwrap();
    append(&dir.path().join("a.log"), "kept\n");
    append(&dir.path().join("b.log"), "excluded\n");
    append(&dir.path().join("c.log"), "");
    let config = config(
        dir.path(),
        &format!("exclude: ['{}/b.log']", dir.path().display()),
    );
    let mut tracker = Tracker::new(&config, None).unwrap();
    let mut sink = Recorder::default();
    tracker.poll(&mut sink);
    assert_eq!(sink.lines, ["kept"]);
    append(&dir.path().join("c.log"), "late\n");
    tracker.poll(&mut sink);
    assert_eq!(sink.lines, ["kept", "late"]);
}

#[test]
fn operators_parse_entries_and_container_partial_lines_are_recombined() {
    let dir = tempfile::tempdir().unwrap();
    // Docker's json-file driver splits a long line into parts without a trailing newline.
    let docker = dir.path().join("container-abc.log");
    append(
        &docker,
        concat!(
            r#"{"log":"first part ","stream":"stdout","time":"2024-01-01T00:00:00.000000001Z"}"#,
            "\n",
            r#"{"log":"and the rest\n","stream":"stdout","time":"2024-01-01T00:00:00.000000002Z"}"#,
            "\n",
            r#"{"log":"whole\n","stream":"stderr","time":"2024-01-01T00:00:00.000000003Z"}"#,
            "\n",
        ),
    );
    let config = config(
        dir.path(),
        "operators:\n  - type: container\n    format: docker\n    add_metadata_from_filepath: false",
    );
    let mut tracker = Tracker::new(&config, None).unwrap();
    let mut sink = Recorder::default();
    tracker.poll(&mut sink);
    tracker.flush_operators(i64::MAX, &mut sink);
    let mut lines = sink.lines.clone();
    lines.sort();
    assert_eq!(lines, ["first part and the rest", "whole"]);
}

#[test]
fn ordering_criteria_reads_only_the_newest_rotated_file_per_group() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("web.20240101.log", "web old\n"),
        ("web.20240102.log", "web new\n"),
        ("db.20231231.log", "db old\n"),
        ("db.20240103.log", "db new\n"),
        ("unrelated.log", "no date\n"),
    ] {
        append(&dir.path().join(name), text);
    }
    let config = config(
        dir.path(),
        r#"ordering_criteria:
  regex: '(?P<service>[a-z]+)\.(?P<date>\d{8})\.log'
  group_by: '/(?P<service>[a-z]+)\.\d{8}\.log'
  top_n: 1
  sort_by:
    - regex_key: date
      sort_type: timestamp
      layout: '%Y%m%d'"#,
    );
    let mut tracker = Tracker::new(&config, None).unwrap();
    let mut sink = Recorder::default();
    tracker.poll(&mut sink);
    let mut lines = sink.lines.clone();
    lines.sort();
    assert_eq!(lines, ["db new", "web new"]);
}

#[test]
fn cri_partial_lines_are_recombined_per_stream() {
    let dir = tempfile::tempdir().unwrap();
    append(
        &dir.path().join("pod.log"),
        concat!(
            "2024-01-01T00:00:00.000000001Z stdout P first part \n",
            "2024-01-01T00:00:00.000000002Z stderr F an error\n",
            "2024-01-01T00:00:00.000000003Z stdout P middle \n",
            "2024-01-01T00:00:00.000000004Z stdout F end\n",
        ),
    );
    let config = config(
        dir.path(),
        // Whitespace ending a partial line is part of the message (trimmed by default,
        // as in Go).
        "preserve_trailing_whitespaces: true\noperators:\n  - type: container\n    add_metadata_from_filepath: false",
    );
    let mut tracker = Tracker::new(&config, None).unwrap();
    let mut sink = Recorder::default();
    tracker.poll(&mut sink);
    tracker.flush_operators(i64::MAX, &mut sink);
    let mut lines = sink.lines.clone();
    lines.sort();
    assert_eq!(lines, ["an error", "first part middle end"]);
}

#[test]
fn header_lines_become_attributes_of_the_file_and_are_not_sent() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("data.log");
    append(
        &log,
        "# host: db-1\n# format: v2\nfirst\n# not a header any more\n",
    );
    let config = config(
        dir.path(),
        r#"header:
  pattern: '^#'
  metadata_operators:
    - type: regex_parser
      regex: '^# (?P<key>[a-z]+): (?P<value>.*)$'
    - type: move
      from: attributes.value
      to: attributes.header_value"#,
    );
    let mut tracker = Tracker::new(&config, None).unwrap();
    let mut sink = Recorder::default();
    tracker.poll(&mut sink);
    assert_eq!(sink.lines, ["first", "# not a header any more"]);
    let attributes = &sink.attributes[0];
    assert!(
        attributes.contains(&("header_value".into(), "v2".into())),
        "{attributes:?}"
    );
    // A restart keeps the header's attributes for the rest of the file.
    let checkpoint = decode(&tracker.encode()).unwrap();
    append(&log, "later\n");
    let mut restarted = Tracker::new(&config, Some(checkpoint)).unwrap();
    let mut after = Recorder::default();
    restarted.poll(&mut after);
    assert_eq!(after.lines, ["later"]);
    assert!(after.attributes[0].contains(&("header_value".into(), "v2".into())));
}

#[test]
fn expression_attributes_are_evaluated() {
    let dir = tempfile::tempdir().unwrap();
    append(&dir.path().join("a.log"), "hello\n");
    let config = config(
        dir.path(),
        r#"attributes: {shout: 'EXPR(body + "!")', plain: text}"#,
    );
    let mut tracker = Tracker::new(&config, None).unwrap();
    let mut sink = Recorder::default();
    tracker.poll(&mut sink);
    let attributes = &sink.attributes[0];
    assert!(
        attributes.contains(&("shout".into(), "hello!".into())),
        "{attributes:?}"
    );
    assert!(
        attributes.contains(&("plain".into(), "text".into())),
        "{attributes:?}"
    );
}

#[test]
fn acquire_fs_lock_waits_for_a_writer_holding_an_exclusive_lock() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("locked.log");
    append(&log, "written under lock\n");
    let writer = std::fs::File::open(&log).unwrap();
    writer.lock().unwrap();
    let config = config(dir.path(), "acquire_fs_lock: true");
    let mut tracker = Tracker::new(&config, None).unwrap();
    let mut sink = Recorder::default();
    tracker.poll(&mut sink);
    assert!(sink.lines.is_empty());
    writer.unlock().unwrap();
    tracker.poll(&mut sink);
    assert_eq!(sink.lines, ["written under lock"]);
}

#[test]
fn more_files_than_max_concurrent_files_are_all_read_in_turn() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..5 {
        append(
            &dir.path().join(format!("f{i}.log")),
            &format!("file {i}\n"),
        );
    }
    let config = config(dir.path(), "max_concurrent_files: 2");
    let mut tracker = Tracker::new(&config, None).unwrap();
    let mut sink = Recorder::default();
    for _ in 0..3 {
        tracker.poll(&mut sink);
    }
    let mut lines = sink.lines.clone();
    lines.sort();
    assert_eq!(lines, ["file 0", "file 1", "file 2", "file 3", "file 4"]);
}

/// A batch reads a small window first and grows it for an entry that does not fit: lines
/// longer than the first read (256 KiB) still arrive whole, between short ones, and
/// batches of short lines hold their thousand records.
#[test]
fn entries_longer_than_the_first_read_arrive_whole() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let long = "x".repeat(700 << 10);
    let mut text = numbered(0, 1500);
    text.push_str(&long);
    text.push('\n');
    text.push_str(&numbered(1500, 3000));
    append(&log, &text);
    let mut tracker = Tracker::new(&config(dir.path(), ""), None).unwrap();
    let mut sink = Recorder::default();
    tracker.poll(&mut sink);
    let mut want = expected(0, 1500);
    want.push(long);
    want.extend(expected(1500, 3000));
    assert_eq!(sink.lines.len(), want.len());
    assert!(sink.lines == want, "lines differ");
}

/// A `recombine` that joins each `start` line with the lines after it, holding the last
/// group until the next `start` (or shutdown).
const RECOMBINE: &str = r#"operators:
  - type: recombine
    combine_field: body
    is_first_entry: body startsWith "start"
    force_flush_period: 1h"#;

/// The first file's checkpoint in a storage's values: offset and record number.
fn stored_position(storage: &std::collections::BTreeMap<String, Vec<u8>>) -> (u64, u64) {
    let files = restored(storage).files;
    assert_eq!(files.len(), 1);
    (files[0].offset, files[0].record_number)
}

/// Lines an operator holds are consumed but not checkpointed: a crash (a new tracker from
/// the stored checkpoint) reads them again; once sent, the checkpoint moves past them.
#[test]
fn lines_an_operator_holds_are_not_checkpointed_until_sent() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let config = config(dir.path(), RECOMBINE);
    let first = "start 1\n| detail\n";
    append(&log, &format!("{first}start 2\n| detail\n"));
    let mut tracker = Tracker::new(&config, None).unwrap();
    let mut sink = Recorder::default();
    tracker.poll(&mut sink);
    assert_eq!(sink.lines, ["start 1\n| detail"]);
    assert_eq!(
        stored_position(&sink.checkpoint),
        (first.len() as u64, 2),
        "the checkpoint stops where the held group starts"
    );

    // A crash now: the restarted tracker reads the held group again, and only it.
    let mut restarted = Tracker::new(&config, Some(restored(&sink.checkpoint))).unwrap();
    let mut after_crash = Recorder::default();
    restarted.poll(&mut after_crash);
    restarted.flush_operators(i64::MAX, &mut after_crash);
    assert_eq!(after_crash.lines, ["start 2\n| detail"]);

    // Without a crash: polls that read nothing new keep holding; the flush sends it and
    // the checkpoint moves to the end.
    tracker.poll(&mut sink);
    assert_eq!(stored_position(&sink.checkpoint).0, first.len() as u64);
    tracker.flush_operators(i64::MAX, &mut sink);
    assert_eq!(sink.lines, ["start 1\n| detail", "start 2\n| detail"]);
    let end = std::fs::metadata(&log).unwrap().len();
    assert_eq!(stored_position(&sink.checkpoint), (end, 4));
}

/// What the operators emitted and downstream refused is kept and sent first at the next
/// poll, in order and once; until then the checkpoint stays before it.
#[test]
fn entries_emitted_and_refused_are_sent_again_before_more_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let config = config(dir.path(), RECOMBINE);
    append(&log, "start 1\nstart 2\n");
    let mut tracker = Tracker::new(&config, None).unwrap();
    let mut sink = Recorder {
        refuse: true,
        ..Recorder::default()
    };
    tracker.poll(&mut sink);
    assert!(sink.lines.is_empty());
    assert_eq!(stored_position(&sink.checkpoint), (0, 0));
    append(&log, "start 3\n");
    tracker.poll(&mut sink);
    assert_eq!(stored_position(&sink.checkpoint), (0, 0), "still refused");

    sink.refuse = false;
    tracker.poll(&mut sink);
    assert_eq!(sink.lines, ["start 1", "start 2"]);
    assert_eq!(
        stored_position(&sink.checkpoint),
        ("start 1\nstart 2\n".len() as u64, 2)
    );
    tracker.flush_operators(i64::MAX, &mut sink);
    assert_eq!(sink.lines, ["start 1", "start 2", "start 3"]);
    let end = std::fs::metadata(&log).unwrap().len();
    assert_eq!(stored_position(&sink.checkpoint), (end, 3));
}
