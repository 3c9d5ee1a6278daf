//! Connecting to NATS with the configured credentials and TLS, and the stream.

use std::time::Duration;

use async_nats::jetstream;

use super::config::Config;

/// Opens a connection; the client reconnects by itself afterwards, forever (a queue in
/// front of the exporter holds data meanwhile).
pub(crate) async fn connect(
    config: &Config,
    timeout: Duration,
) -> Result<async_nats::Client, String> {
    tributary_nats::connect(&config.endpoint, &config.auth, config.tls.as_ref(), timeout).await
}

/// Creates the configured stream, or checks that it exists (an existing stream's settings
/// are left as its owner made them).
pub(crate) async fn ensure_stream(js: &jetstream::Context, config: &Config) -> Result<(), String> {
    let name = &config.stream.name;
    if name.is_empty() {
        return Ok(());
    }
    let settings = tributary_nats::stream_config(
        name,
        &config.stream,
        [&config.traces, &config.metrics, &config.logs],
    );
    js.get_or_create_stream(settings)
        .await
        .map(drop)
        .map_err(|e| format!("cannot create stream {name:?}: {e}"))
}
