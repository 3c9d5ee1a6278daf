//! The `nats` exporter: traces, metrics and logs published to NATS JetStream as OTLP
//! (protobuf or JSON), one message per batch.
//!
//! The Go Collector has no NATS component; the keys follow its conventions (`endpoint`,
//! per-signal blocks, `encoding` as the Kafka exporter names it, `tls` as configtls, the
//! exporter helper's `timeout`, `retry_on_failure` and `sending_queue`).
//!
//! A batch succeeds only when JetStream has acknowledged every message it became (the
//! stream stored it). No ack, a timeout, or no stream capturing the subject is retryable:
//! the exporter helper's queue and retries carry the batch until NATS is back, and with
//! `sending_queue::storage` the queue survives a crash. A batch whose encoding exceeds the
//! payload limit (`max_payload`, at most the server's) is split in halves until every
//! part fits, instead of failing forever; a single item over the limit is dropped as a
//! permanent error. Messages carry a `Content-Type` header (`application/x-protobuf` or
//! `application/json`).
//!
//! Client: the official `async-nats` crate (nats-io), built with the `aws-lc-rs` crypto
//! provider (the one rustls provider of the workspace), `jetstream` and `nkeys`.
//!
//! # Example
//!
//! ```yaml
//! exporters:
//!   nats:
//!     endpoint: nats://nats.internal:4222
//!     encoding: otlp_proto
//!     traces:
//!       subject: otlp.traces
//!     stream:
//!       name: OTLP
//!       max_age: 24h
//!     auth:
//!       credentials_file: /etc/nats/collector.creds
//!     tls:
//!       ca_file: /etc/nats/ca.pem
//!     sending_queue:
//!       storage: file_storage
//! ```
//!
//! ```
//! use tributary_confmap::Conf;
//! use tributary_exporters::nats::{Config, Encoding};
//! use tributary_pipeline_core::component::ComponentConfig;
//!
//! let config: Config = Conf::from_yaml("encoding: otlp_json\nlogs: { subject: app.logs }")?.decode()?;
//! config.validate()?;
//! assert_eq!(config.encoding, Encoding::OtlpJson);
//! assert_eq!(config.traces.subject, "otlp.traces");
//! assert!(Conf::from_yaml("logs: { subject: 'app.*' }")?.decode::<Config>()?.validate().is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Configuration
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | `nats://localhost:4222` | server URL(s), comma-separated; `tls://` asks for TLS |
//! | `encoding` | `otlp_proto` | `otlp_proto` or `otlp_json` |
//! | `traces::subject` | `otlp.traces` | subject spans are published on |
//! | `metrics::subject` | `otlp.metrics` | subject metrics are published on |
//! | `logs::subject` | `otlp.logs` | subject logs are published on |
//! | `stream::name` | empty | stream created at the first export if missing (capturing the three subjects and `stream::subjects`); empty: manage none |
//! | `stream::subjects` | `[]` | more subjects of that stream |
//! | `stream::storage` | `file` | `file` or `memory` |
//! | `stream::max_age` | `0` | oldest message kept (`0`: no limit) |
//! | `stream::max_bytes` | `-1` | stream size limit (`-1`: none) |
//! | `stream::replicas` | `1` | copies in a cluster (1–5) |
//! | `auth::token` | empty | server token |
//! | `auth::user`, `auth::password` | empty | user and password |
//! | `auth::nkey` | empty | NKey seed |
//! | `auth::credentials_file` | empty | `.creds` file (JWT and seed) |
//! | `tls` | absent | configtls client block; absent or `insecure: true`: plain TCP. `server_name_override` is refused (the client verifies the host it dials) |
//! | `max_payload` | `0` | largest message in bytes; `0`: the server's `max_payload` (less 256 bytes for headers) |
//! | `timeout` | `5s` | one export: publishing and awaiting every ack |
//! | `sending_queue`, `retry_on_failure` | enabled | the exporter helper's queue and retries |

mod config;
mod connect;
mod exporter;
mod factory;
#[cfg(test)]
mod tests;

pub use config::{
    AuthConfig, Config, DEFAULT_ENDPOINT, Encoding, SignalConfig, StorageType, StreamConfig,
};
pub use factory::factory;
