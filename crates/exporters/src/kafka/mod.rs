//! The `kafka` exporter: traces, metrics and logs produced to Kafka topics, with the Go
//! Collector's keys (`exporter/kafkaexporter`, `pkg/kafka/configkafka`).
//!
//! A batch becomes one record, or one per trace / resource when a `partition_*_by_*` key
//! asks for it, or one per topic when `topic_from_attribute` or a
//! `topic_from_metadata_key` chooses topics; `raw` (a log body each) and `jaeger_proto` /
//! `jaeger_json` (a span each, see below) write one record per item. A record whose
//! encoding exceeds `producer::max_message_bytes` is **split in halves until every part
//! fits** rather than refused or retried forever (the Go exporter's contrib #36982); a
//! single span, data point or log record over the limit cannot be sent and is a permanent
//! error.
//!
//! A batch succeeds only when every one of its records is acknowledged as
//! `producer::required_acks` asks. A failed record fails the batch, which the exporter
//! helper retries (at least once: records already stored are written again). Retryable:
//! a broker down, a timeout, a leader change, an unknown topic; permanent: a record the
//! broker finds too large (lower `max_message_bytes`), authorization failures.
//!
//! Client: rdkafka (librdkafka, bundled); see [`tributary_kafka`] for why. It is behind
//! the `kafka` cargo feature, outside the default build.
//!
//! Differences from Go:
//! - Encodings written: `otlp_proto`, `otlp_json`, `zipkin_proto`, `zipkin_json`,
//!   `jaeger_proto`, `jaeger_json` (traces) and `raw` (logs: each record's value is a log
//!   body). `zipkin_thrift` is refused at config time (nor does Go write it).
//! - Jaeger spans also carry the dropped attribute, event and link counts as the
//!   specification's `otel.dropped_*` tags (Go's translator drops them); see
//!   [`tributary_translator_jaeger`].
//! - `record_partitioner`: `sticky_key` with `sarama_compat` uses librdkafka's FNV-1a
//!   partitioner (the same hash; Sarama folds negative 32-bit hashes differently, so a
//!   key may land on another partition than with Go); `murmur2` is the Java client's;
//!   `round_robin` spreads at random. `least_backup` and extensions are refused.
//! - `protocol_version` only matters for brokers older than 0.10 (librdkafka asks newer
//!   ones); `metadata::full` and `metadata::retry::max` are accepted and not needed.
//! - Kerberos, AWS MSK IAM and OIDC are refused; PLAIN and SCRAM-SHA-256/512 are built.
//!
//! # Jaeger records
//!
//! With `jaeger_proto` or `jaeger_json`, as Go's Jaeger marshaler: every span is
//! translated to a Jaeger `model.Span` (the `tributary-translator-jaeger` crate, Go's
//! `ProtoFromTraces`) with its resource as its `process`, and becomes one record, keyed by
//! its trace ID as Jaeger writes it (`TraceID.String()`: hex without leading zeros, e.g.
//! `10000000000000002`) whatever `partition_traces_by_id` says. `jaeger_proto` is the
//! span's protobuf; `jaeger_json` the span as gogo `jsonpb.Marshaler{}` writes it
//! (`{"traceId":"AAAAAAAAAAEAAAAAAAAAAg==","spanId":"AAAAAAAAAAM=","operationName":...}`):
//! what Tributary's and Go's `kafka` receivers read. A span whose record is over
//! `max_message_bytes` cannot be split and is a permanent error.
//!
//! ```yaml
//! exporters:
//!   kafka/jaeger:
//!     brokers: [kafka-1:9092]
//!     traces: { topic: jaeger-spans, encoding: jaeger_proto }
//! ```
//!
//! # Example
//!
//! ```yaml
//! exporters:
//!   kafka:
//!     brokers: [kafka-1:9092, kafka-2:9092]
//!     traces: { topic: otlp_spans, encoding: otlp_proto }
//!     logs: { topic: app_logs, encoding: raw }
//!     partition_traces_by_id: true
//!     producer:
//!       max_message_bytes: 1000000
//!       required_acks: all
//!       compression: zstd
//!     auth:
//!       sasl: { mechanism: SCRAM-SHA-512, username: collector, password: ${env:KAFKA_PASSWORD} }
//!     tls: { ca_file: /etc/kafka/ca.pem }
//!     sending_queue: { storage: file_storage }
//! ```
//!
//! ```
//! use tributary_confmap::Conf;
//! use tributary_exporters::kafka::{Config, Encoding};
//! use tributary_pipeline_core::component::ComponentConfig;
//! use tributary_pipeline_core::pdata::Signal;
//!
//! let config: Config = Conf::from_yaml("topic: everything\nlogs: { encoding: raw }")?.decode()?;
//! config.validate()?;
//! assert_eq!(config.topic(Signal::Traces), "everything");
//! assert_eq!(config.encoding(Signal::Logs), Encoding::Raw);
//! let default: Config = Conf::from_yaml("{}")?.decode()?;
//! assert_eq!(default.topic(Signal::Metrics), "otlp_metrics");
//! assert!(Conf::from_yaml("traces: { encoding: raw }")?.decode::<Config>()?.validate().is_err());
//! let jaeger: Config = Conf::from_yaml("traces: { encoding: jaeger_json }")?.decode()?;
//! jaeger.validate()?;
//! assert_eq!(jaeger.encoding(Signal::Traces), Encoding::JaegerJson);
//! assert!(Conf::from_yaml("logs: { encoding: jaeger_proto }")?.decode::<Config>()?.validate().is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Configuration
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `brokers` | `[localhost:9092]` | bootstrap brokers |
//! | `client_id` | `otel-collector` | the client id brokers see |
//! | `protocol_version` | empty | Kafka version, for brokers older than 0.10 |
//! | `rack_id` | empty | `client.rack` |
//! | `conn_idle_timeout` | `9m` | idle connections closed after |
//! | `resolve_canonical_bootstrap_servers_only` | `false` | resolve bootstrap names to canonical names first |
//! | `tls` | absent | configtls client block (`ca_file`/`ca_pem`, `cert_*`, `key_*`, `insecure_skip_verify`); `auth::tls` is its deprecated place |
//! | `auth::sasl` | absent | `mechanism` (`PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512`), `username`, `password`, `version` |
//! | `auth::plain_text` | absent | deprecated: SASL PLAIN `username`, `password` |
//! | `metadata::refresh_interval` | `10m` | cluster metadata refresh |
//! | `metadata::retry::backoff` | `250ms` | wait between retried requests |
//! | `traces`, `metrics`, `logs` | see below | per signal: `topic`, `encoding`, `topic_from_metadata_key` |
//! | `traces::topic` / `metrics::topic` / `logs::topic` | `otlp_spans` / `otlp_metrics` / `otlp_logs` | topic of the signal |
//! | `*::encoding` | `otlp_proto` | `otlp_proto`, `otlp_json`, `zipkin_proto`/`zipkin_json`/`jaeger_proto`/`jaeger_json` (traces), `raw` (logs) |
//! | `*::topic_from_metadata_key` | empty | client metadata key whose value is the topic (before all else) |
//! | `topic`, `encoding` | empty | deprecated: for every signal that names none |
//! | `topic_from_attribute` | empty | resource attribute whose value is the topic |
//! | `partition_traces_by_id` | `false` | one record per trace, keyed by trace ID (`jaeger_*`: always one per span, keyed by trace ID) |
//! | `partition_metrics_by_resource_attributes` | `false` | one record per resource, keyed by its attributes |
//! | `partition_logs_by_resource_attributes` | `false` | the same for logs |
//! | `partition_logs_by_trace_id` | `false` | one record per trace ID |
//! | `include_metadata_keys` | `[]` | client metadata copied into record headers |
//! | `record_headers` | `{}` | headers added to every record |
//! | `signal_header` | `false` | add an `otelcol.signal` header |
//! | `record_partitioner` | `sticky_key` (`sarama_compat`) | `sticky_key: {hasher: sarama_compat\|murmur2}` or `round_robin` |
//! | `producer::max_message_bytes` | `1000000` | largest record value; larger batches are split |
//! | `producer::required_acks` | `1` | `0`, `1`, `-1`/`all` |
//! | `producer::compression` | `none` | `none`, `gzip`, `snappy`, `lz4`, `zstd` |
//! | `producer::compression_params::level` | `0` | codec level; `0`: its default |
//! | `producer::flush_max_messages` | `0` | records per produce request, at most (`batch.num.messages`) |
//! | `producer::allow_auto_topic_creation` | `true` | accepted; the broker's `auto.create.topics.enable` decides |
//! | `timeout` | `5s` | one batch: every record acknowledged (`message.timeout.ms`) |
//! | `sending_queue`, `retry_on_failure` | enabled | the exporter helper's queue and retries |

mod config;
mod exporter;
mod factory;
mod records;
#[cfg(test)]
mod tests;

pub use config::{
    ClientSettings, CompressionParams, Config, Encoding, ProducerConfig, RecordPartitioner,
    RequiredAcks, SignalConfig, StickyKey, default_topic,
};
pub use factory::factory;
