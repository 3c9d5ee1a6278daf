//! `health_check`: an HTTP endpoint that answers 200 only while every pipeline runs and
//! makes progress, and 503 with the reasons otherwise.
//!
//! The Go Collector's health check answers 200 once the pipelines have started, whatever
//! they do afterwards; peers' health endpoints, likewise, looked healthy while forwarding
//! nothing. This one reads the collector's [`ServiceHealth`](crate::service::ServiceHealth)
//! at every request: each pipeline's progress, every component's and pipeline's latest
//! status, and the last configuration reload.
//!
//! ```yaml
//! extensions:
//!   health_check:                  # 127.0.0.1:13133, path /
//!   health_check/probe:
//!     endpoint: 0.0.0.0:13133
//!     path: /health/status
//!     stall_timeout: 1m
//!     component_health:
//!       include_recoverable_errors: true
//!       recovery_duration: 5m
//!     check_collector_pipeline:
//!       enabled: true
//!       interval: 5m
//!       exporter_failure_threshold: 1000
//!     unhealthy_on_failed_reload: false
//! service:
//!   extensions: [health_check]
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | `127.0.0.1:13133` | where to listen: `ip:port`, `[ipv6]:port`, `host-name:port` (looked up at start), or `:port` for every interface |
//! | `path` | `/` | the path answered (exactly; other paths get 404); must start with `/` |
//! | `response_body::healthy` / `::unhealthy` | unset | fixed bodies replacing the JSON report (as in Go); both are used once `response_body` is set |
//! | `stall_timeout` | `30s` | a pipeline with calls in flight and none completing for this long is stalled (see below); must be > 0 |
//! | `component_health::include_permanent_errors` | `true` | whether a `PermanentError` (a panicked task or pipeline) is unhealthy; Go's v2 defaults to `false` |
//! | `component_health::include_recoverable_errors` | `false` | whether a `RecoverableError` is unhealthy once it has lasted `recovery_duration` |
//! | `component_health::recovery_duration` | `5m` | see above |
//! | `check_collector_pipeline::enabled` | `false` | count exporter failures (see below) |
//! | `check_collector_pipeline::interval` | `5m` | the window failures are counted over; at least `1s` |
//! | `check_collector_pipeline::exporter_failure_threshold` | `5` | more failed items than this within `interval` is unhealthy; > 0 |
//! | `unhealthy_on_failed_reload` | `false` | whether a refused configuration reload is unhealthy |
//! | `tls`, `auth`, `response_headers`, `read_header_timeout`, `idle_timeout`, `keep_alives_enabled`, `max_connections`, ... | | the HTTP server block, as in Go: see [`confighttp`](crate::confighttp). `auth` refuses a request without valid credentials with 401; `cors`, `include_metadata`, `max_request_body_size` and `compression_algorithms` are accepted and have no use here (the health check reads no bodies) |
//!
//! Go's deprecated `port` is not supported and is refused as an unknown key. The health check binds through
//! [`CreateSettings::listen`](crate::component::CreateSettings::listen), so a reload that
//! changes its own configuration keeps serving on the same socket.
//!
//! # What counts
//!
//! The answer is 200 when the pipelines run (started, not shutting down) and nothing below
//! counts against them; otherwise it is 503, also while starting and shutting down. After
//! shutdown nothing listens.
//!
//! * **A stall.** Progress is measured at each pipeline's entry: a call starts when a
//!   receiver hands the pipeline a batch and completes when the pipeline (its processors
//!   and the fanout to its exporters) returns, with or without an error. A pipeline is
//!   *stalled* when for `stall_timeout` it has had at least one call in flight without a
//!   break and no call has completed
//!   ([`Progress::stalled_for`](crate::component::Progress::stalled_for)). A
//!   pipeline with nothing in flight is idle, never stalled, however long it waits for
//!   data; a batch arriving after a long pause starts a new clock. It recovers as soon as
//!   a call completes. An exporter with a sending queue returns once a batch is queued, so
//!   a backend outage behind a queue shows as that exporter's status and failures
//!   (`check_collector_pipeline`), not as a stall; a stall is something on the pipeline's
//!   path that hangs.
//! * **A component or pipeline status.** `FatalError` always counts; `PermanentError`
//!   (what [`CreateSettings::spawn`](crate::component::CreateSettings::spawn) reports for a
//!   panicked task, and a pipeline reports when a component panicked inside it) counts
//!   unless `include_permanent_errors` is off; `RecoverableError` is listed as a warning,
//!   and counts only with `include_recoverable_errors` once it has lasted
//!   `recovery_duration` (Go's v2 semantics). A component's problem is reported under every
//!   pipeline it is part of, so the answer names the pipelines affected. A permanent or
//!   fatal error sticks until a reload replaces the component or pipeline (or the
//!   collector restarts): a component that recovers reports `OK` only after a
//!   `RecoverableError`.
//! * **Exporter failures** (`check_collector_pipeline`). Go's version counted OpenCensus
//!   view exports that no longer exist, is documented as broken, and its v2 ignores the
//!   keys. Here the keys keep their meaning: an exporter that failed more than
//!   `exporter_failure_threshold` **items** (spans, data points, log records; sent and
//!   given up on, or refused by its queue, as `otelcol_exporter_send_failed_*` and
//!   `otelcol_exporter_enqueue_failed_*` count them) within the last `interval` makes its
//!   pipelines unhealthy. Counters are sampled every second. Failures before the health
//!   check started are not counted.
//! * **A refused reload.** A configuration reload that could not be applied leaves the
//!   running pipelines untouched, so by default it does not change the answer: the body
//!   reports it in `last_reload` and as a warning. `unhealthy_on_failed_reload: true`
//!   makes it count until a reload succeeds.
//!
//! # The answer
//!
//! `Content-Type: application/json`; the first three fields are the Go Collector's v1
//! body, the rest say why:
//!
//! ```json
//! {
//!   "status": "Server not available",
//!   "upSince": "2025-06-01T10:00:00.000Z",
//!   "uptime": "1h2m3.5s",
//!   "healthy": false,
//!   "running": true,
//!   "problems": ["pipeline traces/out: stalled: 2 calls in flight and none completed for 31.2s (stall_timeout is 30s)"],
//!   "warnings": ["the configuration reload at 2025-06-01T11:00:00.000Z was refused; the running pipelines are unchanged: exporters::otlp/x::endpoint: ..."],
//!   "pipelines": {
//!     "traces/out": {
//!       "healthy": false, "running": true, "stalled": true,
//!       "inflight": 2, "completed": 1042, "idle_for": "31.2s", "stalled_for": "31.2s",
//!       "status": "OK",
//!       "receivers": ["otlp"], "processors": ["batch"], "exporters": ["otlp/backend"],
//!       "problems": ["stalled: 2 calls in flight and none completed for 31.2s (stall_timeout is 30s)"],
//!       "warnings": []
//!     }
//!   },
//!   "components": {
//!     "receivers": { "otlp": { "healthy": true, "status": "OK", "since": "2025-06-01T10:00:00.000Z", "pipelines": ["traces/out"] } },
//!     "extensions": { "health_check": { "healthy": true, "status": "OK", "since": "2025-06-01T10:00:00.000Z" } }
//!   },
//!   "last_reload": { "at": "2025-06-01T11:00:00.000Z", "ok": false, "error": "exporters::otlp/x::endpoint: ..." }
//! }
//! ```
//!
//! A pipeline's `status` is `OK` unless something reported on the pipeline as a whole
//! (`PermanentError` with `error` and `status_since` when a component panicked inside
//! it). Component statuses are `Starting`, `OK`, `RecoverableError`, `PermanentError`,
//! `FatalError`, `Stopping` or `Stopped`, with `error` for the error ones; with
//! `check_collector_pipeline` enabled, an exporter also has `failed_items`, its failures
//! within the check's interval. `last_reload`
//! is `null` until the first reload. Times are RFC 3339 (UTC), durations Go's syntax. With
//! `response_body` set, the body is that fixed text instead.

mod assess;
mod config;
mod extension;
mod factory;
mod failures;
mod report;

#[cfg(test)]
mod tests;

pub use config::{CheckCollectorPipeline, ComponentHealth, Config, DEFAULT_ENDPOINT, ResponseBody};
pub use extension::HealthCheck;
pub use factory::factory;
