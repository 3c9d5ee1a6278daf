//! The `file` exporter: writes traces, metrics and logs to a file as OTLP/JSON lines or
//! length-prefixed protobuf, with size-based rotation.
//!
//! ```yaml
//! exporters:
//!   file:
//!     path: /var/lib/otel/telemetry.jsonl
//!     rotation:
//!       max_megabytes: 50
//!       max_backups: 5
//!   file/raw:
//!     path: ./spans.pb
//!     format: proto
//!     compression: zstd
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `path` | required | the file; every signal of the exporter writes to it |
//! | `format` | `json` | `json`: one OTLP/JSON `Export*ServiceRequest` per line; `proto`: 4-byte big-endian length + protobuf request |
//! | `compression` | none | `zstd`: each record compressed and length-prefixed, for either format |
//! | `append` | `false` | keep an existing file's content (not with `rotation` or `compression`) |
//! | `rotation::max_megabytes` | `100` | roll over before the file would exceed this size |
//! | `rotation::max_backups` | `100` | rolled-over files kept (0: all) |
//! | `rotation::max_days` | `0` | delete rolled-over files older than this (0: never) |
//! | `rotation::localtime` | `false` | rolled-over file names in local time instead of UTC |
//! | `flush_interval` | `1s` | how often written data is forced to disk (`fsync`); 0: after every write |
//! | `create_directory` / `directory_permissions` | `false` / `0755` | create the file's directory |
//! | `group_by::enabled` | `false` | one file per resource attribute value, replacing the `*` in `path` |
//! | `group_by::resource_attribute` | `fileexporter.path_segment` | the (string) attribute naming the file; resources without it are not written |
//! | `group_by::max_open_files` | `100` | files open at once; the least recently written is closed beyond that |
//! | `timeout` | `0` (none) | deadline of one write |
//! | `retry_on_failure` | disabled | retries of failed writes |
//! | `sending_queue` | disabled | the exporter helper's queue |
//!
//! `timeout`, `retry_on_failure` and `sending_queue` are the exporter helper's
//! [`ExporterHelperConfig`](tributary_pipeline_core::exporterhelper::ExporterHelperConfig),
//! squashed into this config and off unless set; a key that is set takes its own
//! defaults (`sending_queue: {}` is an enabled queue of 1000).
//!
//! Rotation is on when the `rotation` section is present (`rotation: {}` uses the defaults;
//! like any key, `rotation:` with nothing after it means "not set");
//! rolled-over files are named `<stem>-<time>.<ext>` (`telemetry-2025-11-21T10-04-05.123.jsonl`),
//! as the Go Collector names them.
//!
//! # Behaviour
//!
//! * **Readable by the Go Collector.** JSON lines are what its `otlpjsonfile` receiver reads;
//!   the framing of `proto` and `zstd` records is its file exporter's. Non-finite doubles
//!   are written as `"NaN"`, `"Infinity"` and `"-Infinity"`, as the protobuf JSON mapping
//!   says, instead of `null` (which readers take as "no value").
//! * **Pass-through protobuf.** With `format: proto`, a batch's cached encoding is written as
//!   it is: data received over OTLP is not re-encoded.
//! * **Off the runtime.** A dedicated thread owns the file: it encodes (JSON can be heavy),
//!   writes and syncs, so neither encoding nor a slow disk holds up the async runtime. The
//!   file is opened (and the thread started) when the exporter starts, never when it is
//!   created, so `validate` leaves nothing on disk; shutdown joins the thread (waiting at
//!   most 10 s), so the file is closed when it returns.
//! * **Whole records, durable acknowledgement.** Each batch is written with one write,
//!   straight to the file, before the export reports success, so a successful export means
//!   the data is in the file (and on disk within `flush_interval`). A write that fails (disk
//!   full) is cut back to the last whole record, returned as a retryable error, and reported
//!   as the component's status (`RecoverableError`, back to `Ok` on the next success).
//!   Shutdown writes everything sent before it and syncs the file.
//! * A record larger than `max_megabytes` goes into a file of its own rather than being
//!   refused (lumberjack refuses it).
//! * **`group_by`.** `path: ./data/*/telemetry.jsonl` writes each resource to the file its
//!   `resource_attribute` names; a batch is divided by value, one record per file. The
//!   value cannot lead outside the path's prefix (`..` and a leading `/` are dropped, as Go
//!   guards against traversal). Directories are created as needed (with
//!   `directory_permissions`), files are opened on first use and kept open up to
//!   `max_open_files`. A failure after part of a batch was written is permanent (a retry
//!   would write that part twice), as in Go.
//!
//! # Differences from the Go Collector
//!
//! * Go buffers writes in memory and flushes them every `flush_interval`, acknowledging
//!   data that is not yet in the file; here nothing is buffered and `flush_interval` is the
//!   `fsync` period instead.
//! * Encoding extensions (`encoding`) are not supported; configurations that set one are
//!   refused with a message saying so (use `format`).
//! * `group_by` files are always appended to: Go truncates a file when it opens it, also
//!   when it reopens one it had closed to stay within `max_open_files`, losing what it wrote.
//! * `timeout`, `retry_on_failure` and `sending_queue` are accepted (Go's file exporter has
//!   none) and off by default, which is Go's behaviour.

mod config;
mod exporter;
mod factory;
mod group;
mod record;
mod rotation;
mod writer;

#[cfg(test)]
mod tests;

pub use config::{Config, FileCompression, Format, GroupByConfig, RotationConfig};
pub use factory::factory;
