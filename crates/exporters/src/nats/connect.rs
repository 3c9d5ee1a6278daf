//! Connecting to NATS with the configured credentials and TLS.

use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::stream::{Config as JsStreamConfig, StorageType as JsStorage};

use super::config::{AuthConfig, Config, StorageType};

/// Opens a connection; the client reconnects by itself afterwards, forever (a queue in
/// front of the exporter holds data meanwhile).
pub(crate) async fn connect(
    config: &Config,
    timeout: Duration,
) -> Result<async_nats::Client, String> {
    let mut options = auth_options(&config.auth).await?;
    if let Some(tls) = config.tls.as_ref().filter(|tls| !tls.insecure) {
        let client = tls
            .rustls_config(&[])
            .map_err(|e| format!("cannot set up TLS: {e}"))?;
        options = options.require_tls(true).tls_client_config(client);
    }
    options
        .connection_timeout(timeout)
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

/// Creates the configured stream, or checks that it exists (an existing stream's settings
/// are left as its owner made them).
pub(crate) async fn ensure_stream(js: &jetstream::Context, config: &Config) -> Result<(), String> {
    let stream = &config.stream;
    if stream.name.is_empty() {
        return Ok(());
    }
    let mut subjects: Vec<String> = [&config.traces, &config.metrics, &config.logs]
        .iter()
        .map(|signal| signal.subject.clone())
        .chain(stream.subjects.iter().cloned())
        .collect();
    subjects.sort();
    subjects.dedup();
    js.get_or_create_stream(JsStreamConfig {
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
    .map(drop)
    .map_err(|e| format!("cannot create stream {:?}: {e}", stream.name))
}
