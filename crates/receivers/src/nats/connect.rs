//! Connecting to NATS with the configured credentials and TLS, and finding (or creating)
//! the stream and the durable consumer.

use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::consumer::{AckPolicy, PullConsumer, pull};
use tributary_pipeline_core::pdata::Signal;

use super::config::Config;

/// How long connecting may take before the attempt is retried.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens a connection; the client reconnects by itself afterwards.
pub(crate) async fn connect(config: &Config) -> Result<async_nats::Client, String> {
    tributary_nats::connect(
        &config.endpoint,
        &config.auth,
        config.tls.as_ref(),
        CONNECT_TIMEOUT,
    )
    .await
}

/// The durable pull consumer of `signal`, on the configured stream (both created when
/// missing; existing ones are used as they are).
pub(crate) async fn consumer(
    js: &jetstream::Context,
    config: &Config,
    signal: Signal,
) -> Result<PullConsumer, String> {
    let name = config.stream_name();
    let settings = tributary_nats::stream_config(
        name,
        &config.stream,
        [&config.traces, &config.metrics, &config.logs],
    );
    let stream = js
        .get_or_create_stream(settings)
        .await
        .map_err(|e| format!("cannot find or create stream {name:?}: {e}"))?;
    let durable = config.consumer.durable_for(signal);
    stream
        .get_or_create_consumer(
            &durable,
            pull::Config {
                durable_name: Some(durable.clone()),
                filter_subject: config.subject(signal).to_string(),
                ack_policy: AckPolicy::Explicit,
                ack_wait: config.consumer.ack_wait,
                max_ack_pending: config.consumer.max_ack_pending,
                max_deliver: config.consumer.max_deliver,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| format!("cannot find or create consumer {durable:?}: {e}"))
}
