//! The `kafka` receiver: traces, metrics and logs consumed from Kafka topics in a
//! consumer group, with the Go Collector's keys (`receiver/kafkareceiver`,
//! `pkg/kafka/configkafka`).
//!
//! **At least once by default.** A record's offset is marked only after the pipeline
//! accepted it (`message_marking::after: true`, Go's default is `false`), and marked
//! offsets are committed at once (`autocommit::enable: false`; with it on, librdkafka
//! commits them every `autocommit::interval`). A collector killed at any point reads
//! again from the last accepted record: duplicates are possible, losses are not.
//!
//! Records are handled one at a time, in order, per signal. A record the pipeline refuses
//! for now (memory limiter, a full queue) is delivered again after `error_backoff` and
//! consumption waits meanwhile: backpressure, not loss (Go moves on, or restarts the
//! session). A record that cannot be decoded or that the pipeline refuses for good is
//! logged, counted (the receiver's failed items) and skipped.
//!
//! Rebalances (Go contrib #50753): marked offsets are committed before partitions are
//! given up; librdkafka discards what it prefetched from revoked partitions without
//! marking it; a record in flight whose partition was revoked is not marked (its new
//! owner reads it again). Nothing fetched is lost or marked twice.
//!
//! Client: rdkafka (librdkafka, bundled); see [`tributary_kafka`] for why. It is behind
//! the `kafka` cargo feature, outside the default build.
//!
//! Encodings read: `otlp_proto`, `otlp_json`; traces also `jaeger_proto` and
//! `jaeger_json` (one Jaeger span per record, its process inside; the JSON as gogo
//! `jsonpb` writes it, see [`tributary_translator_jaeger::span_from_json`]),
//! `zipkin_proto`, `zipkin_json`; logs also `raw` (the value as a bytes body), `text`
//! (UTF-8 body) and `json` (a JSON body). Refused: `zipkin_thrift`, encoding extensions.
//!
//! # Example
//!
//! ```yaml
//! receivers:
//!   kafka:
//!     brokers: [kafka-1:9092, kafka-2:9092]
//!     group_id: gateways
//!     initial_offset: earliest
//!     traces: { topics: [otlp_spans], encoding: otlp_proto }
//!     logs: { topics: ["^app-logs-.*"], exclude_topics: ["^app-logs-debug$"], encoding: json }
//!     group_rebalance_strategies: [sticky]
//!     header_extraction: { extract_headers: true, headers: [tenant] }
//!     auth:
//!       sasl: { mechanism: SCRAM-SHA-512, username: collector, password: ${env:KAFKA_PASSWORD} }
//! ```
//!
//! ```
//! use tributary_confmap::Conf;
//! use tributary_pipeline_core::component::ComponentConfig;
//! use tributary_pipeline_core::pdata::Signal;
//! use tributary_receivers::kafka::Config;
//!
//! let config: Config = Conf::from_yaml("group_id: g\nlogs: { topics: [a, b], encoding: text }")?.decode()?;
//! config.validate()?;
//! assert_eq!(config.topics(Signal::Logs), ["a", "b"]);
//! assert_eq!(config.topics(Signal::Traces), ["otlp_spans"]);
//! assert!(Conf::from_yaml("initial_offset: oldest")?.decode::<Config>()?.validate().is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Configuration
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `brokers`, `client_id`, `protocol_version`, `rack_id`, `conn_idle_timeout`, `resolve_canonical_bootstrap_servers_only`, `tls`, `auth`, `metadata` | as the `kafka` exporter | the client: see its table |
//! | `group_id` | `otel-collector` | consumer group |
//! | `group_instance_id` | empty | static membership (KIP-345) |
//! | `initial_offset` | `latest` | `latest` or `earliest`, without a committed offset |
//! | `session_timeout` | `10s` | member dropped when silent this long |
//! | `heartbeat_interval` | `3s` | member heartbeat |
//! | `group_rebalance_strategies` | `[range]` | `range`, `roundrobin`, `sticky` (librdkafka's cooperative sticky); `group_rebalance_strategy` is its deprecated single form |
//! | `autocommit::enable` | `false` | commit marked offsets in the background (else each at once) |
//! | `autocommit::interval` | `1s` | background commit interval |
//! | `message_marking::after` | `true` | mark after the pipeline accepted (`false`: before; at most once) |
//! | `message_marking::on_error` | `false` | skip a record still refused after `error_backoff::max_elapsed_time` |
//! | `message_marking::on_permanent_error` | – | accepted; such records are always counted and skipped |
//! | `error_backoff` | enabled, `100ms` to `5s`, ×1.5, jitter 0.5, no limit | waits before delivering a refused record again |
//! | `min_fetch_size` | `1` | `fetch.min.bytes` |
//! | `default_fetch_size` | `1048576` | accepted (Sarama's) |
//! | `max_fetch_size` | `0` | `fetch.max.bytes`; `0`: librdkafka's |
//! | `max_partition_fetch_size` | `1048576` | `max.partition.fetch.bytes` |
//! | `max_fetch_wait` | `250ms` | `fetch.wait.max.ms` |
//! | `traces`, `metrics`, `logs` | topics `otlp_spans` / `otlp_metrics` / `otlp_logs` | per signal: `topics` (`^` = regex), `encoding`, `exclude_topics` |
//! | `topic`, `encoding` | empty | deprecated: for every signal that names none |
//! | `header_extraction` | off | `extract_headers`, `headers`: copied to resource attributes `kafka.header.<name>` |
//! | `use_leader_epoch`, `partition_processing`, `telemetry`, `profiles` | – | accepted for Go configs |

mod config;
mod decode;
mod factory;
mod receiver;
#[cfg(test)]
mod tests;

pub use config::{
    AutoCommit, ClientSettings, Config, Encoding, ErrorBackoff, HeaderExtraction, MessageMarking,
    SignalConfig, default_topic,
};
pub use decode::KafkaRecord;
pub use factory::factory;
