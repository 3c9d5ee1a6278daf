//! Connecting to NATS with the configured credentials and TLS, and finding (or creating)
//! the stream and the durable consumer.

use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::consumer::{AckPolicy, PullConsumer, pull};
use async_nats::jetstream::stream::{Config as JsStreamConfig, StorageType as JsStorage};
use tributary_pipeline_core::pdata::Signal;

use super::config::{AuthConfig, Config, StorageType};

/// How long connecting may take before the attempt is retried.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens a connection; the client reconnects by itself afterwards.
pub(crate) async fn connect(config: &Config) -> Result<async_nats::Client, String> {
    let mut options = auth_options(&config.auth).await?;
    if let Some(tls) = config.tls.as_ref().filter(|tls| !tls.insecure) {
        let client = tls
            .rustls_config(&[])
            .map_err(|e| format!("cannot set up TLS: {e}"))?;
        options = options.require_tls(true).tls_client_config(client);
    }
    options
        .connection_timeout(CONNECT_TIMEOUT)
        .max_reconnects(None)
        .connect(config.endpoint.as_str())
        .await
        .map_err(|e| format!("cannot connect to NATS at {}: {e}", config.endpoint))
}

async fn auth_options(auth: &AuthConfig) -> Result<async_nats::ConnectOptions, String> {
    let options = async_nats::ConnectOptions::new();
    Ok(if !auth.token.is_empty() {
        options.token(auth.token.expose().to_string())
    } else if !auth.user.is_empty() {
        options.user_and_password(auth.user.clone(), auth.password.expose().to_string())
    } else if !auth.nkey.is_empty() {
        options.nkey(auth.nkey.expose().to_string())
    } else if !auth.credentials_file.is_empty() {
        options
            .credentials_file(&auth.credentials_file)
            .await
            .map_err(|e| {
                format!(
                    "cannot read credentials_file {:?}: {e}",
                    auth.credentials_file
                )
            })?
    } else {
        options
    })
}

/// The durable pull consumer of `signal`, on the configured stream (both created when
/// missing; existing ones are used as they are).
pub(crate) async fn consumer(
    js: &jetstream::Context,
    config: &Config,
    signal: Signal,
) -> Result<PullConsumer, String> {
    let stream = &config.stream;
    let mut subjects: Vec<String> = [&config.traces, &config.metrics, &config.logs]
        .iter()
        .map(|signal| signal.subject.clone())
        .chain(stream.subjects.iter().cloned())
        .collect();
    subjects.sort();
    subjects.dedup();
    let stream = js
        .get_or_create_stream(JsStreamConfig {
            name: stream.name.clone(),
            subjects,
            storage: match stream.storage {
                StorageType::File => JsStorage::File,
                StorageType::Memory => JsStorage::Memory,
            },
            max_age: stream.max_age,
            max_bytes: stream.max_bytes,
            num_replicas: stream.replicas,
            ..Default::default()
        })
        .await
        .map_err(|e| format!("cannot find or create stream {:?}: {e}", config.stream.name))?;
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
