//! The `kafka` exporter at work: a batch becomes records (one, or one per topic and
//! partition key), each encoded and split below `max_message_bytes`, all produced at
//! once; the batch succeeds when every record is acknowledged as `required_acks` asks.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::join_all;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;
use tributary_pipeline_core::pdata::ClientMetadata;
use tributary_pipeline_core::prelude::*;

use super::config::{Config, Encoding};
use super::records::{KafkaData, RecordPlan};
use crate::split_to_fit::encode_within;

/// librdkafka's own limit on a produce request is set this far above
/// `max_message_bytes`, so a record at the limit (plus key, headers and framing) passes.
const REQUEST_OVERHEAD: usize = 64 * 1024;

/// How long a record waits for room in librdkafka's queue when the export has no
/// deadline of its own.
const DEFAULT_WAIT: Duration = Duration::from_secs(30);

/// Produces one signal's batches.
pub(crate) struct KafkaExporter<T> {
    config: Config,
    producer: FutureProducer,
    encoding: Encoding,
    plan: RecordPlan,
    _signal: PhantomData<fn(T)>,
}

/// One record to produce.
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub(crate) topic: Arc<str>,
    pub(crate) key: Option<Vec<u8>>,
    pub(crate) value: Bytes,
}

impl<T: KafkaData> KafkaExporter<T> {
    pub(crate) fn new(config: &Config) -> Result<Self, String> {
        let mut client = config.client.client_config();
        let timeout_ms = if config.helper.timeout.is_zero() {
            300_000
        } else {
            config.helper.timeout.as_millis().max(1)
        };
        let producer_config = &config.producer;
        client
            .set("message.timeout.ms", timeout_ms.to_string())
            .set(
                "acks",
                match producer_config.required_acks.0 {
                    -1 => "all".to_string(),
                    n => n.to_string(),
                },
            )
            .set("compression.type", &producer_config.compression)
            .set(
                "message.max.bytes",
                (producer_config.max_message_bytes + REQUEST_OVERHEAD)
                    .clamp(1_000_000, 1_000_000_000)
                    .to_string(),
            )
            .set("partitioner", config.partitioner())
            .set(
                "allow.auto.create.topics",
                producer_config.allow_auto_topic_creation.to_string(),
            );
        if producer_config.compression_params.level != 0 {
            client.set(
                "compression.level",
                producer_config.compression_params.level.to_string(),
            );
        }
        if producer_config.flush_max_messages > 0 {
            client.set(
                "batch.num.messages",
                producer_config.flush_max_messages.to_string(),
            );
        }
        let producer: FutureProducer = client
            .create()
            .map_err(|e| format!("cannot create the Kafka producer: {e}"))?;
        Ok(KafkaExporter {
            encoding: config.encoding(T::SIGNAL),
            plan: RecordPlan::new(config, T::SIGNAL),
            config: config.clone(),
            producer,
            _signal: PhantomData,
        })
    }

    /// The headers every record of this batch carries.
    fn headers(&self, metadata: Option<&ClientMetadata>) -> OwnedHeaders {
        let mut headers = OwnedHeaders::new();
        for (key, value) in &self.config.record_headers {
            headers = headers.insert(Header {
                key,
                value: Some(value.as_bytes()),
            });
        }
        if self.config.signal_header {
            headers = headers.insert(Header {
                key: "otelcol.signal",
                value: Some(T::SIGNAL.as_str().as_bytes()),
            });
        }
        if let Some(metadata) = metadata {
            for key in &self.config.include_metadata_keys {
                for value in metadata.get(key) {
                    headers = headers.insert(Header {
                        key,
                        value: Some(value.as_bytes()),
                    });
                }
            }
        }
        headers
    }

    /// The records of one batch, each within `max_message_bytes`.
    pub(crate) fn records_of(&self, data: T) -> Result<Vec<Outgoing>, ConsumeError> {
        let limit = self.config.producer.max_message_bytes;
        let mut records = Vec::new();
        for (topic, key, part) in self.plan.divide(data) {
            if let Some(items) = part.encode_each(self.encoding)? {
                // One record per item (raw log bodies, Jaeger spans): nothing to split.
                for item in items {
                    if item.value.len() > limit {
                        return Err(ConsumeError::permanent(format!(
                            "a {} record of {} bytes (one item) is over max_message_bytes ({limit})",
                            self.encoding.as_str(),
                            item.value.len()
                        )));
                    }
                    records.push(Outgoing {
                        topic: Arc::clone(&topic),
                        key: item.key.or_else(|| key.clone()),
                        value: item.value,
                    });
                }
                continue;
            }
            let encoding = self.encoding;
            for value in encode_within(part, limit, |part: &T| part.encode_as(encoding))? {
                records.push(Outgoing {
                    topic: Arc::clone(&topic),
                    key: key.clone(),
                    value,
                });
            }
        }
        Ok(records)
    }
}

/// Whether a produce error can go away by itself (a retry may succeed).
fn is_retryable(error: &KafkaError) -> bool {
    use RDKafkaErrorCode as Code;
    !matches!(
        error.rdkafka_error_code(),
        Some(
            Code::MessageSizeTooLarge
                | Code::InvalidMessageSize
                | Code::InvalidMessage
                | Code::InvalidRecord
                | Code::MessageBatchTooLarge
                | Code::TopicAuthorizationFailed
                | Code::ClusterAuthorizationFailed
                | Code::InvalidTopic
                | Code::InvalidRequiredAcks
                | Code::UnsupportedForMessageFormat
        )
    )
}

#[async_trait]
impl<T: KafkaData> Export<T> for KafkaExporter<T> {
    async fn export(&self, data: T) -> Result<(), ConsumeError> {
        if data.item_count() == 0 {
            return Ok(());
        }
        let headers = self.headers(data.metadata().map(|m| &**m));
        let records = self.records_of(data)?;
        let wait = Some(self.config.helper.timeout)
            .filter(|t| !t.is_zero())
            .unwrap_or(DEFAULT_WAIT);
        // Every record is handed to librdkafka at once (it batches them per partition);
        // then every acknowledgement is awaited. One failure fails the batch, which is
        // retried whole: records already stored are stored again (at least once).
        let deliveries = records.iter().map(|record| {
            let mut future_record = FutureRecord::to(&record.topic)
                .payload(record.value.as_ref())
                .headers(headers.clone());
            if let Some(key) = &record.key {
                future_record = future_record.key(key.as_slice());
            }
            self.producer.send(future_record, Timeout::After(wait))
        });
        let mut first_error: Option<ConsumeError> = None;
        for (result, record) in join_all(deliveries).await.into_iter().zip(&records) {
            if let Err((error, _)) = result {
                let message = match error.rdkafka_error_code() {
                    Some(RDKafkaErrorCode::MessageSizeTooLarge) => format!(
                        "the broker refused a {}-byte record to {} as too large: lower producer::max_message_bytes below the topic's max.message.bytes",
                        record.value.len(),
                        record.topic
                    ),
                    _ => format!("cannot produce to {}: {error}", record.topic),
                };
                let error = if is_retryable(&error) {
                    ConsumeError::retryable(message)
                } else {
                    ConsumeError::permanent(message)
                };
                // A permanent error decides the batch's fate: retrying would not help.
                match &first_error {
                    Some(seen) if seen.is_permanent() => {}
                    Some(_) if !error.is_permanent() => {}
                    _ => first_error = Some(error),
                }
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        // Everything produced was awaited by its export; flushing is best effort.
        let producer = self.producer.clone();
        let _ = tokio::task::spawn_blocking(move || producer.flush(Duration::from_secs(5))).await;
        Ok(())
    }
}
