//! The `kafka` receiver at work: one consumer per signal in the configured group; each
//! record is decoded, handed to the pipeline, and its offset marked (stored, then
//! committed) only once the pipeline accepted it.
//!
//! Records are handled one at a time, in order. A record the pipeline refuses for now is
//! delivered again after a backoff, so a slow pipeline slows consumption (backpressure)
//! and nothing is skipped. On a rebalance, librdkafka drops the prefetched records of
//! revoked partitions without marking them, and a record in flight whose partition was
//! revoked cannot be marked any more: its new owner reads it again (a duplicate, never a
//! loss; Go contrib #50753).

use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rdkafka::ClientContext;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::message::{BorrowedMessage, Headers, Message};
use regex::Regex;
use tributary_pipeline_core::exporterhelper::Backoff;
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::prelude::*;

use super::config::{Config, Encoding};
use super::decode::{KafkaRecord, add_resource_attributes};

/// Wait after a failed fetch (broker down, metadata errors) before asking again.
const FETCH_ERROR_PAUSE: Duration = Duration::from_millis(500);

/// What a consumer counts, logged when it stops.
#[derive(Debug, Default)]
struct KafkaCounters {
    /// Records delivered and accepted.
    accepted: AtomicU64,
    /// Records that could not be decoded (skipped).
    undecodable: AtomicU64,
    /// Records the pipeline refused for good (skipped).
    refused: AtomicU64,
    /// Deliveries repeated after the pipeline refused for now.
    redelivered: AtomicU64,
    /// Records handled whose partition was revoked before their offset was marked (read
    /// again by the partition's new owner).
    unmarked_after_revoke: AtomicU64,
}

/// The running receiver of one signal.
pub(crate) struct KafkaReceiver<T> {
    shared: Arc<Shared<T>>,
    tasks: Arc<ReceiverTasks>,
}

struct Shared<T> {
    config: Config,
    encoding: Encoding,
    exclude: Vec<Regex>,
    next: Next<T>,
    metrics: ReceiverMetrics,
    counters: KafkaCounters,
    _signal: PhantomData<fn(T)>,
}

/// The consumer's callbacks: rebalances are logged, and with background commits off the
/// marked offsets are committed before partitions are given up.
struct GroupContext {
    commit_on_revoke: bool,
}

impl ClientContext for GroupContext {}

impl ConsumerContext for GroupContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(partitions) => {
                tracing::info!(
                    partitions = partitions.count(),
                    "kafka receiver: partitions revoked"
                );
                if self.commit_on_revoke
                    && let Err(error) = consumer.commit_consumer_state(CommitMode::Sync)
                {
                    // Nothing marked since the last commit is the usual cause.
                    tracing::debug!(%error, "kafka receiver: commit before revoke");
                }
            }
            Rebalance::Assign(partitions) => {
                tracing::info!(
                    partitions = partitions.count(),
                    "kafka receiver: partitions assigned"
                );
            }
            Rebalance::Error(error) => {
                tracing::warn!(%error, "kafka receiver: rebalance failed");
            }
        }
    }
}

type GroupConsumer = StreamConsumer<GroupContext>;

impl<T: KafkaRecord> KafkaReceiver<T> {
    pub(crate) fn new(settings: &CreateSettings, config: &Config, next: Next<T>) -> Self {
        let exclude = config
            .exclude_topics(T::SIGNAL)
            .iter()
            .filter_map(|pattern| Regex::new(pattern).ok())
            .collect();
        KafkaReceiver {
            shared: Arc::new(Shared {
                config: config.clone(),
                encoding: config.encoding(T::SIGNAL),
                exclude,
                next,
                metrics: ReceiverMetrics::new(
                    settings.metrics(),
                    settings.id(),
                    "kafka",
                    T::SIGNAL,
                ),
                counters: KafkaCounters::default(),
                _signal: PhantomData,
            }),
            tasks: Arc::new(ReceiverTasks::new(settings)),
        }
    }

    /// The consumer of this signal, subscribed (no I/O yet: librdkafka connects in the
    /// background, so a broker that is down does not keep the collector from starting).
    fn consumer(&self) -> Result<GroupConsumer, String> {
        let config = &self.shared.config;
        let mut client = config.client.client_config();
        client
            .set("group.id", &config.group_id)
            .set("auto.offset.reset", &config.initial_offset)
            .set(
                "session.timeout.ms",
                config.session_timeout.as_millis().to_string(),
            )
            .set(
                "heartbeat.interval.ms",
                config.heartbeat_interval.as_millis().to_string(),
            )
            .set(
                "partition.assignment.strategy",
                config.assignment_strategy(),
            )
            .set("enable.auto.commit", config.autocommit.enable.to_string())
            .set(
                "auto.commit.interval.ms",
                config.autocommit.interval.as_millis().max(1).to_string(),
            )
            // Offsets are stored by the receiver, once a record is handled.
            .set("enable.auto.offset.store", "false")
            .set("fetch.min.bytes", config.min_fetch_size.to_string())
            .set(
                "max.partition.fetch.bytes",
                config.max_partition_fetch_size.to_string(),
            )
            .set(
                "fetch.wait.max.ms",
                config.max_fetch_wait.as_millis().to_string(),
            );
        if config.max_fetch_size > 0 {
            client.set("fetch.max.bytes", config.max_fetch_size.to_string());
        }
        if !config.group_instance_id.is_empty() {
            client.set("group.instance.id", &config.group_instance_id);
        }
        let consumer: GroupConsumer = client
            .create_with_context(GroupContext {
                commit_on_revoke: !config.autocommit.enable,
            })
            .map_err(|e| format!("cannot create the Kafka consumer: {e}"))?;
        let topics = config.topics(T::SIGNAL);
        let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer
            .subscribe(&topics)
            .map_err(|e| format!("cannot subscribe to {topics:?}: {e}"))?;
        Ok(consumer)
    }
}

#[async_trait]
impl<T: KafkaRecord> Component for KafkaReceiver<T> {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        let consumer = self.consumer().map_err(ComponentError::new)?;
        let shared = Arc::clone(&self.shared);
        let stop = self.tasks.stop_token();
        tracing::info!(
            brokers = %self.shared.config.client.brokers.join(","),
            group_id = %self.shared.config.group_id,
            topics = ?self.shared.config.topics(T::SIGNAL),
            "kafka receiver consuming"
        );
        self.tasks
            .spawn(async move { shared.consume(consumer, stop).await });
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.tasks.shutdown(receiverhelper::SHUTDOWN_DEADLINE).await
    }
}

impl<T: KafkaRecord> Shared<T> {
    /// Handles records until shutdown, then commits what was marked and leaves the group.
    async fn consume(self: Arc<Self>, consumer: GroupConsumer, stop: CancellationToken) {
        loop {
            let message = tokio::select! {
                message = consumer.recv() => message,
                () = stop.cancelled() => break,
            };
            match message {
                Ok(message) => {
                    if !self.handle(&consumer, &message, &stop).await {
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "kafka receiver: fetching failed");
                    tokio::select! {
                        () = tokio::time::sleep(FETCH_ERROR_PAUSE) => {}
                        () = stop.cancelled() => break,
                    }
                }
            }
        }
        let counters = &self.counters;
        tracing::info!(
            accepted = counters.accepted.load(Ordering::Relaxed),
            undecodable = counters.undecodable.load(Ordering::Relaxed),
            refused = counters.refused.load(Ordering::Relaxed),
            redelivered = counters.redelivered.load(Ordering::Relaxed),
            unmarked_after_revoke = counters.unmarked_after_revoke.load(Ordering::Relaxed),
            "kafka receiver stopping"
        );
        // Commit what was marked, then close in a blocking thread: leaving the group
        // waits for the coordinator.
        tokio::task::spawn_blocking(move || {
            if let Err(error) = consumer.commit_consumer_state(CommitMode::Sync) {
                tracing::debug!(%error, "kafka receiver: final commit");
            }
            consumer.unsubscribe();
            drop(consumer);
        })
        .await
        .ok();
    }

    /// Handles one record; `false` when shutdown came first (the record is then left
    /// unmarked, to be read again).
    async fn handle(
        &self,
        consumer: &GroupConsumer,
        message: &BorrowedMessage<'_>,
        stop: &CancellationToken,
    ) -> bool {
        let skip = self
            .exclude
            .iter()
            .any(|pattern| pattern.is_match(message.topic()));
        if skip {
            self.mark(consumer, message);
            return true;
        }
        let decoded = match message.payload() {
            Some(value) => T::decode_record(value, self.encoding),
            None => Err("the record has no value".to_string()),
        };
        let mut data = match decoded {
            Ok(data) => data,
            Err(error) => {
                let total = self.counters.undecodable.fetch_add(1, Ordering::Relaxed) + 1;
                self.metrics.record_failed(1);
                tracing::warn!(
                    topic = message.topic(),
                    partition = message.partition(),
                    offset = message.offset(),
                    encoding = self.encoding.as_str(),
                    %error,
                    undecodable = total,
                    "kafka receiver: record skipped"
                );
                self.mark(consumer, message);
                return true;
            }
        };
        if self.config.header_extraction.extract_headers {
            add_resource_attributes(&mut data, &self.header_attributes(message));
        }
        if !self.config.message_marking.after {
            // At most once, as asked: marked before the pipeline sees it.
            self.mark(consumer, message);
        }
        let accepted = self.deliver(data, stop).await;
        if accepted.is_none() {
            return false;
        }
        if self.config.message_marking.after {
            self.mark(consumer, message);
        }
        true
    }

    /// Delivers `data` until the pipeline accepts it or refuses it for good (`Some`), or
    /// shutdown comes (`None`). Gives up on a record refused for now only when
    /// `error_backoff::max_elapsed_time` ran out and `message_marking::on_error` is on.
    async fn deliver(&self, data: T, stop: &CancellationToken) -> Option<()> {
        let backoff = &self.config.error_backoff;
        let mut schedule = Backoff::new(&backoff.as_retry());
        let started = Instant::now();
        loop {
            match receiverhelper::deliver(&self.next, &self.metrics, data.clone()).await {
                Ok(()) => {
                    self.counters.accepted.fetch_add(1, Ordering::Relaxed);
                    return Some(());
                }
                Err(error) if error.is_retryable() => {
                    let out_of_time = !backoff.max_elapsed_time.is_zero()
                        && started.elapsed() >= backoff.max_elapsed_time;
                    if out_of_time && self.config.message_marking.on_error {
                        self.counters.refused.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(%error, "kafka receiver: record refused past max_elapsed_time, skipped");
                        return Some(());
                    }
                    self.counters.redelivered.fetch_add(1, Ordering::Relaxed);
                    // Disabled: the first wait every time, as documented.
                    let next = if backoff.enabled {
                        schedule.next_delay()
                    } else {
                        backoff.initial_interval
                    };
                    let pause = error.retry_after().unwrap_or(next);
                    tracing::debug!(%error, ?pause, "kafka receiver: pipeline refused for now, delivering again");
                    tokio::select! {
                        () = tokio::time::sleep(pause) => {}
                        () = stop.cancelled() => return None,
                    }
                }
                Err(error) => {
                    let total = self.counters.refused.fetch_add(1, Ordering::Relaxed) + 1;
                    tracing::warn!(%error, refused = total, "kafka receiver: pipeline refused a record for good, skipped");
                    return Some(());
                }
            }
        }
    }

    /// Stores the record's offset (the next to read) and, with background commits off,
    /// commits it.
    fn mark(&self, consumer: &GroupConsumer, message: &BorrowedMessage<'_>) {
        if let Err(error) = consumer.store_offset_from_message(message) {
            // The partition was revoked meanwhile: its new owner reads the record again.
            self.counters
                .unmarked_after_revoke
                .fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%error, topic = message.topic(), partition = message.partition(), "kafka receiver: offset not marked");
            return;
        }
        if !self.config.autocommit.enable
            && let Err(error) = consumer.commit_consumer_state(CommitMode::Async)
        {
            tracing::debug!(%error, "kafka receiver: commit");
        }
    }

    /// The configured headers of `message`, as `kafka.header.<name>` attributes.
    fn header_attributes(&self, message: &BorrowedMessage<'_>) -> Vec<KeyValue> {
        let Some(headers) = message.headers() else {
            return Vec::new();
        };
        self.config
            .header_extraction
            .headers
            .iter()
            .filter_map(|name| {
                let header = headers.iter().find(|h| h.key == name)?;
                let value = String::from_utf8_lossy(header.value?).into_owned();
                Some(key_value(format!("kafka.header.{name}"), value))
            })
            .collect()
    }
}
