//! The `nats` exporter at work: encode a batch, split it below the payload limit, publish
//! the parts to JetStream and wait for every publish ack.

use std::marker::PhantomData;
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream;
use bytes::Bytes;
use tokio::sync::Mutex;
use tributary_pipeline_core::prelude::*;

use super::config::{Config, Encoding};
use super::connect::{connect, ensure_stream};
use crate::split_to_fit::{encode_within, otlp_json};

/// Room kept below the server's `max_payload` for the message's headers (the server
/// counts headers and payload together).
const HEADER_ALLOWANCE: usize = 256;

/// Deadline of connecting and of a publish ack when `timeout` is 0 (async-nats' own).
const DEFAULT_WAIT: Duration = Duration::from_secs(5);

/// Publishes one signal's batches to JetStream.
pub(crate) struct NatsExporter<T> {
    config: Config,
    subject: String,
    /// Connected on the first export (not at start: a NATS server that is down must not
    /// keep the collector from starting; the queue holds data until it is back).
    session: Mutex<Option<jetstream::Context>>,
    _signal: PhantomData<fn(T)>,
}

impl<T: JsonData> NatsExporter<T> {
    pub(crate) fn new(config: &Config) -> Self {
        NatsExporter {
            config: config.clone(),
            subject: config.subject(T::SIGNAL).to_string(),
            session: Mutex::new(None),
            _signal: PhantomData,
        }
    }

    async fn session(&self) -> Result<jetstream::Context, ConsumeError> {
        let mut session = self.session.lock().await;
        if let Some(js) = session.as_ref() {
            return Ok(js.clone());
        }
        // `timeout: 0` disables the attempt's deadline, but connecting and waiting for an
        // ack still need one: the client's own default then.
        let timeout = Some(self.config.helper.timeout)
            .filter(|timeout| !timeout.is_zero())
            .unwrap_or(DEFAULT_WAIT);
        let client = connect(&self.config, timeout)
            .await
            .map_err(ConsumeError::retryable)?;
        let js = jetstream::ContextBuilder::new()
            .timeout(timeout)
            .build(client);
        ensure_stream(&js, &self.config)
            .await
            .map_err(ConsumeError::retryable)?;
        *session = Some(js.clone());
        Ok(js)
    }

    /// The largest payload to publish: the configured one, within what the server allows.
    fn payload_limit(&self, js: &jetstream::Context) -> usize {
        let server = js.client().max_payload().saturating_sub(HEADER_ALLOWANCE);
        match self.config.max_payload {
            0 => server,
            configured => configured.min(server),
        }
    }
}

/// Encodes `data` as `encoding`.
pub(crate) fn encode<T: JsonData>(data: &T, encoding: Encoding) -> Result<Bytes, ConsumeError> {
    match encoding {
        Encoding::OtlpProto => Ok(data.encoded()),
        Encoding::OtlpJson => otlp_json(data),
    }
}

#[async_trait]
impl<T: JsonData> Export<T> for NatsExporter<T> {
    async fn export(&self, data: T) -> Result<(), ConsumeError> {
        if data.item_count() == 0 {
            return Ok(());
        }
        let js = self.session().await?;
        let encoding = self.config.encoding;
        let messages = encode_within(data, self.payload_limit(&js), |part: &T| {
            encode(part, encoding)
        })?;
        let mut headers = HeaderMap::new();
        headers.insert("Content-Type", self.config.encoding.content_type());
        // Publish every part, then await the acks: the server stores them in order and the
        // round trips overlap. A part that is not acknowledged fails the whole batch, which
        // is retried (parts already stored are then stored again: at least once).
        let mut acks = Vec::with_capacity(messages.len());
        for payload in messages {
            let ack = js
                .publish_with_headers(self.subject.clone(), headers.clone(), payload)
                .await
                .map_err(|e| {
                    ConsumeError::retryable(format!("cannot publish to {}: {e}", self.subject))
                })?;
            acks.push(ack);
        }
        for ack in acks {
            ack.await.map_err(|e| {
                ConsumeError::retryable(format!(
                    "JetStream did not acknowledge a message on {}: {e}",
                    self.subject
                ))
            })?;
        }
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        if let Some(js) = self.session.lock().await.take() {
            // Pending publishes were awaited by their exports; flushing is best effort.
            let _ = js.client().flush().await;
        }
        Ok(())
    }
}
