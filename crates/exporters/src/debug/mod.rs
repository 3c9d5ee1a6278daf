//! The `debug` exporter: prints what passes through, for debugging pipelines.
//!
//! ```yaml
//! exporters:
//!   debug:                      # one summary line per batch
//!   debug/detailed:
//!     verbosity: detailed
//!     sampling_initial: 5
//!     sampling_thereafter: 200
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `verbosity` | `basic` | `basic`, `normal` or `detailed` (case-insensitive) |
//! | `sampling_initial` | `2` | batches printed each second before sampling |
//! | `sampling_thereafter` | `1` | then every this-many-th batch (1: all, 0: none) |
//! | `use_internal_logger` | `true` | print through the collector's log (`tracing`, level info) |
//! | `output_paths` | `[stdout]` | with `use_internal_logger: false`: `stdout`, `stderr` or file paths (appended to), each gets every batch |
//! | `timeout` | `0` (none) | deadline of one print |
//! | `retry_on_failure` | disabled | |
//! | `sending_queue` | disabled | as in Go, present only to be turned on |
//!
//! The type is also registered as `logging`, the Go Collector's name for this exporter
//! until v0.111, so old configurations (helm charts of that time) run unchanged; the
//! logging exporter's `loglevel` key is refused as unknown (use `verbosity`).
//!
//! `timeout`, `retry_on_failure` and `sending_queue` are the exporter helper's
//! [`ExporterHelperConfig`](tributary_pipeline_core::exporterhelper::ExporterHelperConfig),
//! squashed into this config and off unless set; a key that is set takes its own
//! defaults (`sending_queue: {}` is an enabled queue of 1000).
//!
//! # Output
//!
//! `basic` prints one line per batch with counts, as the Go Collector's debug exporter
//! (the message and its fields are separated by a tab):
//!
//! ```text
//! Traces    {"resource spans": 1, "spans": 2}
//! Metrics   {"resource metrics": 1, "metrics": 5, "data points": 9}
//! Logs      {"resource logs": 1, "log records": 4}
//! ```
//!
//! `normal` adds about one line per item (`ResourceTraces #0 service.name=checkout`,
//! `span-0 <trace id> <span id> http.method=GET`, `requests{host=a} 10`,
//! `user logged in #0 user=alice`); `detailed` adds every field of every item, in the Go
//! exporter's layout (`Span #0`, `    Trace ID       : ...`, `     -> http.method: Str(GET)`).
//! The output format is meant for people, and may change.
//!
//! # Behaviour
//!
//! * **Cheap at `basic`.** An export samples, queues a closure and returns; counting and
//!   printing happen on the exporter's own output thread, which also does the heavier
//!   formatting of `normal` and `detailed`, so neither formatting nor a slow terminal holds
//!   up the async runtime. The queue is bounded: if output falls far behind, exports wait.
//! * The signals of one exporter print through one thread, so their lines never interleave;
//!   shutdown waits until everything queued is written.
//! * Sampling works as zap's sampler does, per exporter and signal, per second; it applies
//!   to a batch's summary and details together. Sampled-out batches count as sent.
//!
//! # Differences from the Go Collector
//!
//! * As in Go, the default (`use_internal_logger: true`) prints through the collector's
//!   log, where the component's span names the exporter and `service::telemetry::logs`
//!   decides the format and level (info). `use_internal_logger: false` writes the lines
//!   undecorated to `output_paths` (standard output unless set); as in Go, `output_paths`
//!   with the internal logger is refused. Files are opened (created, appended to) when the
//!   exporter starts; one that cannot be opened fails the start with its path.
//! * `retry_on_failure` and `timeout` are accepted (Go has no `retry_on_failure` here).

mod config;
mod detailed;
mod exporter;
mod factory;
mod normal;
mod output;
mod print;
mod sampler;
mod values;

#[cfg(test)]
mod tests;

pub use config::{Config, Verbosity};
pub use factory::factory;
