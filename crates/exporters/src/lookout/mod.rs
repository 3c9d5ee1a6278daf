//! The `lookout` exporter: metrics relayed to a SOFALookout gateway (or another
//! Tributary `lookout` receiver) in the standard protocol, as Lookout's "standard" relay
//! exporter sends them. The Go Collector has no such exporter; the keys are ours.
//!
//! ```yaml
//! exporters:
//!   lookout:
//!     endpoint: http://central-gateway:7200     # posts to /datas
//!     sending_queue: { storage: file_storage }   # survive gateway outages
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | required | the gateway; a URL without a path gets `/datas` |
//! | `timeout` | `5s` | deadline of one request |
//! | `compression` | `snappy` | `snappy` (the raw block format, `Content-Encoding: snappy`) or `none` (plain text); others are refused: a gateway reads neither |
//! | `headers`, `tls`, `proxy_url`, `auth`, ... | as [`confighttp`](tributary_pipeline_core::confighttp) | the HTTP client block; a token goes in `headers: { X-Lookout-Token: ... }` |
//! | `app` | `lookoutgateway` | the `app` header (a gateway refuses posts without it) |
//! | `client_ip` | empty | the `Client-Ip` header; empty: not sent |
//! | `retry_on_failure`, `sending_queue` | as the exporter helper | retries and queue |
//!
//! # The request
//!
//! `POST <endpoint>` with `Content-Type: application/json`, `app`, `X-Lookout-Gateway: 1`,
//! `Client-Ip` when configured. The body is measurements joined by TAB, one per time,
//! tag set and name prefix: `{"time":<epoch ms>,"tags":{..},"<prefix>":{"<last>":v}}`,
//! the name split at its last `.` (a name without one is a top-level number) — the
//! inverse of the receiver's `K.<sub>` rule, so names arrive unchanged. Tags are the
//! resource's attributes overlaid by the point's, as text. A measurement of delta
//! monotonic sums carries `_type_: c`, so a gateway reads a `.count` back as a delta
//! counter. Histograms and exponential histograms give `<name>.count` and `.sum` (and
//! `.min`, `.max`), summaries `.count` and `.sum`; points with no recorded value or a
//! non-finite value are skipped and counted in `otelcol_exporter_lookout_skipped_points`.
//!
//! # Answers
//!
//! `2xx` is success. Unlike Lookout's relay (which counted failures and dropped the batch)
//! `429` and `5xx` are retried, after `Retry-After` when sent, and a `Wait-Minutes: N`
//! answer (a gateway's `403 APP_NAME_NULL`) is a throttle of N minutes; other `4xx` are
//! permanent. The message of a refusal includes the gateway's `Err` header.

mod config;
mod exporter;
mod factory;
mod measurements;

#[cfg(test)]
mod tests;

pub use config::Config;
pub use factory::factory;
