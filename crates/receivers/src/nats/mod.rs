//! The `nats` receiver: traces, metrics and logs read from NATS JetStream as OTLP
//! (protobuf or JSON), through a durable pull consumer per signal.
//!
//! The Go Collector has no NATS component; the keys follow its conventions (`endpoint`,
//! per-signal blocks, `encoding` as the Kafka receiver names it, `tls` as configtls).
//!
//! Delivery is at least once. A message is acknowledged only after the pipeline accepted
//! its data, so a collector that crashes (or is killed) leaves it unacknowledged and the
//! server delivers it again after `consumer::ack_wait`. A retryable refusal (a full queue,
//! a memory limit, a backend down) answers `nak` with a delay (the error's own retry
//! delay, else `consumer::nak_delay`), so the server redelivers it later. A message that
//! cannot be decoded, or that the pipeline refuses for good, is terminated (`term`: never
//! redelivered), logged and counted (`otelcol_receiver_failed_<items>` for undecodable
//! ones). At most `consumer::max_ack_pending` messages are unacknowledged at once: the
//! server stops delivering there, which is the receiver's backpressure and memory bound.
//!
//! The receiver creates the stream (capturing the three signal subjects and
//! `stream::subjects`) and its consumers when they are missing; existing ones are used as
//! they are. It connects in the background and reconnects forever, so a NATS server that
//! is down or restarts never stops the collector. A message's `Content-Type` header
//! (`application/x-protobuf`, `application/json`, as the `nats` exporter sets it) chooses
//! its decoding; `encoding` applies to messages without one.
//!
//! Client: the official `async-nats` crate (nats-io), built with the `aws-lc-rs` crypto
//! provider (the one rustls provider of the workspace), `jetstream` and `nkeys`.
//!
//! # Example
//!
//! ```yaml
//! receivers:
//!   nats:
//!     endpoint: nats://nats.internal:4222
//!     stream:
//!       name: OTLP
//!     consumer:
//!       durable_name: gateway
//!       max_ack_pending: 500
//!     auth:
//!       user: collector
//!       password: ${env:NATS_PASSWORD}
//! ```
//!
//! ```
//! use tributary_confmap::Conf;
//! use tributary_pipeline_core::component::ComponentConfig;
//! use tributary_receivers::nats::Config;
//!
//! let config: Config = Conf::from_yaml("consumer: { durable_name: gw, max_ack_pending: 10 }")?.decode()?;
//! config.validate()?;
//! assert_eq!(config.consumer.durable_for(tributary_pipeline_core::pdata::Signal::Logs), "gw_logs");
//! assert!(Conf::from_yaml("consumer: { max_ack_pending: 0 }")?.decode::<Config>()?.validate().is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Configuration
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | `nats://localhost:4222` | server URL(s), comma-separated; `tls://` asks for TLS |
//! | `encoding` | `otlp_proto` | decoding of messages without a `Content-Type` header: `otlp_proto` or `otlp_json` |
//! | `traces::subject` | `otlp.traces` | subject (filter) spans are read from |
//! | `metrics::subject` | `otlp.metrics` | subject metrics are read from |
//! | `logs::subject` | `otlp.logs` | subject logs are read from |
//! | `stream::name` | `OTLP` | the stream consumed (created if missing); empty also means `OTLP` |
//! | `stream::subjects` | `[]` | more subjects, when the stream is created |
//! | `stream::storage` | `file` | `file` or `memory`, when the stream is created |
//! | `stream::max_age` | `0` | oldest message kept (`0`: no limit), when the stream is created |
//! | `stream::max_bytes` | `-1` | stream size limit (`-1`: none), when the stream is created |
//! | `stream::replicas` | `1` | copies in a cluster (1–5), when the stream is created |
//! | `consumer::durable_name` | `tributary` | durable consumer name; each signal's is `<durable_name>_<signal>` |
//! | `consumer::ack_wait` | `30s` | redelivery after this long without an ack |
//! | `consumer::max_ack_pending` | `1000` | unacknowledged messages at most (backpressure) |
//! | `consumer::max_deliver` | `-1` | deliveries of one message at most (`-1`: no limit) |
//! | `consumer::nak_delay` | `1s` | redelivery delay after a retryable refusal without its own |
//! | `auth::token` | empty | server token |
//! | `auth::user`, `auth::password` | empty | user and password |
//! | `auth::nkey` | empty | NKey seed |
//! | `auth::credentials_file` | empty | `.creds` file (JWT and seed) |
//! | `tls` | absent | configtls client block; absent or `insecure: true`: plain TCP. `server_name_override` is refused (the client verifies the host it dials) |

mod config;
mod connect;
mod factory;
mod receiver;
#[cfg(test)]
mod tests;

pub use config::{
    AuthConfig, Config, ConsumerConfig, DEFAULT_ENDPOINT, DEFAULT_STREAM, Encoding, SignalConfig,
    StorageType, StreamConfig,
};
pub use factory::factory;
pub use receiver::{UndecodableMessage, decode_message};
