//! The `kafka` exporter's configuration: the Go Collector's keys.

use std::collections::BTreeMap;

use serde::Deserialize;
use tributary_kafka::check_topic;
pub use tributary_kafka::{ClientSettings, Encoding, Present, default_topic};
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};
use tributary_pipeline_core::exporterhelper::ExporterHelperConfig;
use tributary_pipeline_core::pdata::Signal;

/// The `kafka` exporter's configuration.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `brokers`, `client_id`, `protocol_version`, `tls`, `auth`, `metadata`, …
    #[serde(rename = "client,squash")]
    pub client: ClientSettings,
    /// Where spans go.
    pub traces: SignalConfig,
    /// Where metrics go.
    pub metrics: SignalConfig,
    /// Where logs go.
    pub logs: SignalConfig,
    /// Profiles: not a signal of this collector; accepted so Go configs load.
    pub profiles: Option<Present>,
    /// Deprecated in Go: one topic for every signal whose block names none.
    pub topic: String,
    /// Deprecated in Go: one encoding for every signal whose block names none.
    pub encoding: Option<Encoding>,
    /// A resource attribute whose value, where present, is the topic.
    pub topic_from_attribute: String,
    /// One record per trace, keyed by its trace ID (hex), so a trace stays in one
    /// partition.
    pub partition_traces_by_id: bool,
    /// One record per resource, keyed by a hash of its attributes.
    pub partition_metrics_by_resource_attributes: bool,
    /// One record per resource, keyed by a hash of its attributes.
    pub partition_logs_by_resource_attributes: bool,
    /// One record per trace ID, keyed by it.
    pub partition_logs_by_trace_id: bool,
    /// Client metadata keys copied into each record's headers.
    pub include_metadata_keys: Vec<String>,
    /// Headers added to every record.
    pub record_headers: BTreeMap<String, String>,
    /// Add an `otelcol.signal` header naming the signal.
    pub signal_header: bool,
    /// How keyed records are spread over partitions.
    pub record_partitioner: RecordPartitioner,
    /// Producer settings.
    pub producer: ProducerConfig,
    /// `timeout` (5s: delivering one batch, every record acknowledged), `retry_on_failure`,
    /// `sending_queue`.
    #[serde(rename = "helper,squash")]
    pub helper: ExporterHelperConfig,
}

/// One signal's destination.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignalConfig {
    /// Topic; empty: the deprecated top-level `topic`, else Go's default for the signal.
    pub topic: String,
    /// Encoding; absent: the deprecated top-level `encoding`, else `otlp_proto`.
    pub encoding: Option<Encoding>,
    /// A client metadata key whose first value, where present, is the topic.
    pub topic_from_metadata_key: String,
}

/// `record_partitioner`: at most one form.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecordPartitioner {
    /// Keyed records go to the partition their key hashes to.
    pub sticky_key: Option<StickyKey>,
    /// Records spread evenly, keys ignored.
    pub round_robin: Option<Present>,
    /// Records go to the partition with the least buffered: refused (librdkafka has no
    /// such partitioner).
    pub least_backup: Option<Present>,
    /// A partitioner extension: refused (no such extensions here).
    pub extension: Option<String>,
}

/// `record_partitioner::sticky_key`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StickyKey {
    /// `sarama_compat` (FNV-1a, the Go default) or `murmur2` (the Java client's).
    pub hasher: String,
}

impl Default for StickyKey {
    fn default() -> Self {
        StickyKey {
            hasher: "sarama_compat".into(),
        }
    }
}

/// `producer`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProducerConfig {
    /// Largest record value, in bytes: a batch encoding to more is split into several
    /// records rather than refused.
    pub max_message_bytes: usize,
    /// Acknowledgements awaited: `0` (none), `1` (the leader), `-1` or `all` (every
    /// in-sync replica).
    pub required_acks: RequiredAcks,
    /// `none`, `gzip`, `snappy`, `lz4` or `zstd`.
    pub compression: String,
    /// Codec settings.
    pub compression_params: CompressionParams,
    /// Records buffered before a send, at most; `0`: librdkafka's default.
    pub flush_max_messages: usize,
    /// Whether the broker may create a missing topic (its `auto.create.topics.enable`
    /// decides; librdkafka always asks).
    pub allow_auto_topic_creation: bool,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            max_message_bytes: 1_000_000,
            required_acks: RequiredAcks(1),
            compression: "none".into(),
            compression_params: CompressionParams::default(),
            flush_max_messages: 0,
            allow_auto_topic_creation: true,
        }
    }
}

/// `producer::compression_params`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompressionParams {
    /// Codec level; `0`: the codec's default.
    pub level: i32,
}

/// `producer::required_acks`: `0`, `1` or `-1` (also written `all`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequiredAcks(pub i32);

impl<'de> Deserialize<'de> for RequiredAcks {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Number(i32),
            Text(String),
        }
        match Form::deserialize(deserializer)? {
            Form::Number(n @ (-1..=1)) => Ok(RequiredAcks(n)),
            Form::Text(text) if text == "all" => Ok(RequiredAcks(-1)),
            Form::Text(text) => match text.parse::<i32>() {
                Ok(n @ (-1..=1)) => Ok(RequiredAcks(n)),
                _ => Err(serde::de::Error::custom(format!(
                    "required_acks {text:?}: expected 0, 1, -1 or all"
                ))),
            },
            Form::Number(n) => Err(serde::de::Error::custom(format!(
                "required_acks {n}: expected 0, 1, -1 or all"
            ))),
        }
    }
}

impl Config {
    fn signal(&self, signal: Signal) -> &SignalConfig {
        match signal {
            Signal::Traces => &self.traces,
            Signal::Metrics => &self.metrics,
            Signal::Logs => &self.logs,
        }
    }

    /// The topic of `signal`: its block's, else the deprecated top-level one, else Go's
    /// default.
    pub fn topic(&self, signal: Signal) -> &str {
        let own = &self.signal(signal).topic;
        if !own.is_empty() {
            own
        } else if !self.topic.is_empty() {
            &self.topic
        } else {
            default_topic(signal)
        }
    }

    /// The encoding of `signal`.
    pub fn encoding(&self, signal: Signal) -> Encoding {
        self.signal(signal)
            .encoding
            .or(self.encoding)
            .unwrap_or_default()
    }

    /// The client metadata key naming `signal`'s topic, if any.
    pub fn topic_from_metadata_key(&self, signal: Signal) -> &str {
        &self.signal(signal).topic_from_metadata_key
    }

    /// librdkafka's `partitioner` for keyed records.
    pub fn partitioner(&self) -> &'static str {
        let p = &self.record_partitioner;
        if p.round_robin.is_some() {
            // Keys are ignored: spread at random, which evens out like round robin.
            "random"
        } else if p
            .sticky_key
            .as_ref()
            .is_some_and(|sticky| sticky.hasher == "murmur2")
        {
            "murmur2_random"
        } else {
            "fnv1a_random"
        }
    }
}

/// Checks an encoding against the signal: what the exporter can write for it.
fn check_encoding(signal: Signal, encoding: Encoding) -> Result<(), String> {
    let ok = match encoding {
        Encoding::OtlpProto | Encoding::OtlpJson => true,
        Encoding::ZipkinProto
        | Encoding::ZipkinJson
        | Encoding::JaegerProto
        | Encoding::JaegerJson => signal == Signal::Traces,
        Encoding::Raw => signal == Signal::Logs,
        Encoding::ZipkinThrift => {
            return Err(
                "zipkin_thrift cannot be written, as with the Go exporter: use otlp_proto, otlp_json, zipkin_proto, zipkin_json, jaeger_proto or jaeger_json"
                    .to_string(),
            );
        }
        Encoding::Text | Encoding::Json => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} cannot encode {}",
            encoding.as_str(),
            signal.as_str()
        ))
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        self.client.validate()?;
        for signal in [Signal::Traces, Signal::Metrics, Signal::Logs] {
            check_topic(self.topic(signal))
                .map_err(|e| ConfigError::at(format!("{signal}::topic"), e))?;
            check_encoding(signal, self.encoding(signal))
                .map_err(|e| ConfigError::at(format!("{signal}::encoding"), e))?;
        }
        if self.producer.max_message_bytes < 1024 {
            return Err(ConfigError::at(
                "producer::max_message_bytes",
                "must be at least 1024",
            ));
        }
        if self.producer.max_message_bytes > 1_000_000_000 {
            return Err(ConfigError::at(
                "producer::max_message_bytes",
                "must be at most 1000000000 (librdkafka's limit)",
            ));
        }
        match self.producer.compression.as_str() {
            "none" | "gzip" | "snappy" | "lz4" | "zstd" => {}
            other => {
                return Err(ConfigError::at(
                    "producer::compression",
                    format!("{other:?}: expected none, gzip, snappy, lz4 or zstd"),
                ));
            }
        }
        let p = &self.record_partitioner;
        let forms = [
            p.sticky_key.is_some(),
            p.round_robin.is_some(),
            p.least_backup.is_some(),
            p.extension.is_some(),
        ];
        if forms.iter().filter(|set| **set).count() > 1 {
            return Err(ConfigError::at(
                "record_partitioner",
                "set one of sticky_key, round_robin, least_backup, extension",
            ));
        }
        if p.least_backup.is_some() || p.extension.is_some() {
            return Err(ConfigError::at(
                "record_partitioner",
                "least_backup and partitioner extensions are not supported (sticky_key and round_robin are)",
            ));
        }
        if let Some(sticky) = &p.sticky_key
            && !matches!(sticky.hasher.as_str(), "sarama_compat" | "murmur2")
        {
            return Err(ConfigError::at(
                "record_partitioner::sticky_key::hasher",
                format!("{:?}: expected sarama_compat or murmur2", sticky.hasher),
            ));
        }
        if self.partition_logs_by_resource_attributes && self.partition_logs_by_trace_id {
            return Err(ConfigError::at(
                "partition_logs_by_trace_id",
                "partition logs by resource attributes or by trace ID, not both",
            ));
        }
        self.helper.validate()
    }
}
