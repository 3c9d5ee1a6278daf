//! The `nats` receiver at work: one durable pull consumer per signal; each message is
//! decoded, handed to the pipeline, and acknowledged only once the pipeline accepted it.

use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, AckKind};
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::Semaphore;
use tributary_pipeline_core::prelude::*;

use super::config::{Config, Encoding};
use super::connect::{connect, consumer};

/// First wait before reconnecting after a session failed; doubled up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(200);
/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Messages asked for per pull request, at most.
const MAX_PULL_BATCH: usize = 256;

/// Decodes one message's payload: by its `Content-Type` header when that names OTLP
/// protobuf or JSON, else as `default` says.
pub fn decode_message<T: JsonData>(
    payload: &[u8],
    content_type: Option<&str>,
    default: Encoding,
) -> Result<T, UndecodableMessage> {
    let encoding = content_type
        .and_then(Encoding::from_content_type)
        .unwrap_or(default);
    let undecodable = |reason: String| UndecodableMessage { encoding, reason };
    match encoding {
        Encoding::OtlpProto => {
            T::decode(Bytes::copy_from_slice(payload)).map_err(|e| undecodable(e.to_string()))
        }
        Encoding::OtlpJson => T::from_otlp_json(payload).map_err(|e| undecodable(e.to_string())),
    }
}

/// A message whose payload is not the OTLP request it should hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndecodableMessage {
    /// The encoding it was read as.
    pub encoding: Encoding,
    /// What the decoder said.
    pub reason: String,
}

impl std::fmt::Display for UndecodableMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not OTLP ({:?}): {}", self.encoding, self.reason)
    }
}

impl std::error::Error for UndecodableMessage {}

/// The running receiver of one signal.
pub(crate) struct NatsReceiver<T> {
    shared: Arc<Session<T>>,
    tasks: Arc<ReceiverTasks>,
}

/// What the consuming task and every message handler share.
struct Session<T> {
    config: Config,
    next: Next<T>,
    metrics: ReceiverMetrics,
    /// Messages terminated because they could not be decoded (or the pipeline refused
    /// them for good).
    terminated: AtomicU64,
    _signal: PhantomData<fn(T)>,
}

impl<T: JsonData> NatsReceiver<T> {
    pub(crate) fn new(settings: &CreateSettings, config: &Config, next: Next<T>) -> Self {
        NatsReceiver {
            shared: Arc::new(Session {
                config: config.clone(),
                next,
                metrics: ReceiverMetrics::new(settings.metrics(), settings.id(), "nats", T::SIGNAL),
                terminated: AtomicU64::new(0),
                _signal: PhantomData,
            }),
            tasks: Arc::new(ReceiverTasks::new(settings)),
        }
    }
}

#[async_trait]
impl<T: JsonData> Component for NatsReceiver<T> {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        // Connecting happens in the background and is retried: a NATS server that is down
        // must not keep the collector from starting.
        let shared = Arc::clone(&self.shared);
        let tasks = Arc::clone(&self.tasks);
        self.tasks.spawn(async move { shared.run(tasks).await });
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.tasks.shutdown(receiverhelper::SHUTDOWN_DEADLINE).await
    }
}

impl<T: JsonData> Session<T> {
    /// Consumes until shutdown, opening a new session whenever one fails.
    async fn run(self: Arc<Self>, tasks: Arc<ReceiverTasks>) {
        let stop = tasks.stop_token();
        let mut backoff = MIN_BACKOFF;
        while !stop.is_cancelled() {
            match Arc::clone(&self).consume(&tasks).await {
                Ok(()) => return,
                Err(error) => {
                    tracing::warn!(%error, retry_in = ?backoff, "nats receiver: consuming failed");
                }
            }
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                () = stop.cancelled() => return,
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// One session: connect, find the consumer, and handle messages until shutdown (`Ok`)
    /// or until the connection or consumer fails (`Err`).
    async fn consume(self: Arc<Self>, tasks: &ReceiverTasks) -> Result<(), String> {
        let stop = tasks.stop_token();
        let client = tokio::select! {
            client = connect(&self.config) => client?,
            () = stop.cancelled() => return Ok(()),
        };
        let js = jetstream::new(client);
        let consumer = tokio::select! {
            consumer = consumer(&js, &self.config, T::SIGNAL) => consumer?,
            () = stop.cancelled() => return Ok(()),
        };
        let max_ack_pending = usize::try_from(self.config.consumer.max_ack_pending)
            .unwrap_or(1)
            .min(Semaphore::MAX_PERMITS);
        let mut messages = consumer
            .stream()
            .max_messages_per_batch(max_ack_pending.min(MAX_PULL_BATCH))
            .messages()
            .await
            .map_err(|e| format!("cannot pull messages: {e}"))?;
        tracing::info!(
            endpoint = %self.config.endpoint,
            durable = %self.config.consumer.durable_for(T::SIGNAL),
            "nats receiver consuming"
        );
        // Handlers run concurrently, as many as may be unacknowledged: the server stops
        // delivering at `max_ack_pending`, and so does this loop, which bounds memory.
        let in_flight = Arc::new(Semaphore::new(max_ack_pending));
        loop {
            let permit = tokio::select! {
                permit = Arc::clone(&in_flight).acquire_owned() => permit.map_err(|e| e.to_string())?,
                () = stop.cancelled() => return Ok(()),
            };
            let message = tokio::select! {
                message = messages.next() => message,
                () = stop.cancelled() => return Ok(()),
            };
            let message = match message {
                Some(Ok(message)) => message,
                Some(Err(error)) => {
                    use async_nats::jetstream::consumer::pull::MessagesErrorKind;
                    // A missed heartbeat is reported and the stream keeps pulling; any other
                    // error ends this session and a new one starts.
                    if error.kind() == MessagesErrorKind::MissingHeartbeat {
                        tracing::debug!(%error, "nats receiver: missed heartbeat");
                        continue;
                    }
                    return Err(format!("pulling messages failed: {error}"));
                }
                None => return Err("the message stream ended".into()),
            };
            let session = Arc::clone(&self);
            tasks.spawn(async move {
                session.handle(message).await;
                drop(permit);
            });
        }
    }

    /// Delivers one message and answers the server: `ack` once the pipeline accepted it,
    /// `nak` with a delay when it refused for now, `term` when it can never be taken.
    async fn handle(&self, message: jetstream::Message) {
        let content_type = message
            .headers
            .as_ref()
            .and_then(|headers| headers.get("Content-Type"))
            .map(|value| value.as_str());
        let data = match decode_message::<T>(&message.payload, content_type, self.config.encoding) {
            Ok(data) => data,
            Err(error) => {
                let total = self.terminated.fetch_add(1, Ordering::Relaxed) + 1;
                self.metrics.record_failed(1);
                tracing::warn!(
                    subject = %message.subject,
                    %error,
                    terminated = total,
                    "nats receiver: undecodable message terminated"
                );
                answer(&message, AckKind::Term).await;
                return;
            }
        };
        let kind = match receiverhelper::deliver(&self.next, &self.metrics, data).await {
            Ok(()) => AckKind::Ack,
            Err(error) if error.is_retryable() => {
                let delay = error
                    .retry_after()
                    .unwrap_or(self.config.consumer.nak_delay);
                tracing::debug!(%error, ?delay, "nats receiver: pipeline refused for now, nak");
                AckKind::Nak(Some(delay))
            }
            Err(error) => {
                let total = self.terminated.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::warn!(%error, terminated = total, "nats receiver: pipeline refused a message for good, terminated");
                AckKind::Term
            }
        };
        answer(&message, kind).await;
    }
}

/// Sends `kind` for `message`. A lost answer is not an error: the server redelivers the
/// message after `ack_wait` (at least once).
async fn answer(message: &jetstream::Message, kind: AckKind) {
    if let Err(error) = message.ack_with(kind).await {
        tracing::debug!(%error, "nats receiver: answering the server failed; it will redeliver");
    }
}
