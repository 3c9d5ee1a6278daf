//! The `nats` exporter's configuration.

use serde::Deserialize;
pub use tributary_nats::{
    AuthConfig, DEFAULT_ENDPOINT, Encoding, SignalConfig, StorageType, StreamConfig,
};
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};
use tributary_pipeline_core::configtls::TlsClientConfig;
use tributary_pipeline_core::exporterhelper::ExporterHelperConfig;
use tributary_pipeline_core::pdata::Signal;

/// The `nats` exporter's configuration.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// NATS server URL(s), comma-separated (`nats://`, `tls://`, or `host:port`).
    pub endpoint: String,
    /// Payload format: `otlp_proto` (default) or `otlp_json`.
    pub encoding: Encoding,
    /// Where spans are published.
    pub traces: SignalConfig,
    /// Where metrics are published.
    pub metrics: SignalConfig,
    /// Where logs are published.
    pub logs: SignalConfig,
    /// The JetStream stream to make sure of before publishing.
    pub stream: StreamConfig,
    /// Credentials: at most one of token, user/password, nkey, credentials file.
    pub auth: AuthConfig,
    /// TLS to the server; absent: plain TCP unless the endpoint says `tls://`.
    pub tls: Option<TlsClientConfig>,
    /// Largest message published, in bytes; `0`: the server's `max_payload`. A batch
    /// whose encoding is larger is split into smaller messages.
    pub max_payload: usize,
    /// `timeout` (5s: publishing one batch and awaiting its acks), `retry_on_failure`,
    /// `sending_queue`.
    #[serde(rename = "helper,squash")]
    pub helper: ExporterHelperConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            endpoint: DEFAULT_ENDPOINT.into(),
            encoding: Encoding::OtlpProto,
            traces: SignalConfig::for_signal(Signal::Traces),
            metrics: SignalConfig::for_signal(Signal::Metrics),
            logs: SignalConfig::for_signal(Signal::Logs),
            stream: StreamConfig::default(),
            auth: AuthConfig::default(),
            tls: None,
            max_payload: 0,
            helper: ExporterHelperConfig::default(),
        }
    }
}

impl Config {
    /// The subject of `signal`.
    pub fn subject(&self, signal: Signal) -> &str {
        match signal {
            Signal::Traces => &self.traces.subject,
            Signal::Metrics => &self.metrics.subject,
            Signal::Logs => &self.logs.subject,
        }
    }
}

/// Checks a subject to publish on: NATS tokens separated by `.`, no wildcards.
fn check_subject(subject: &str) -> Result<(), String> {
    if subject.is_empty() {
        return Err("must be set".into());
    }
    if subject
        .split('.')
        .any(|token| token.is_empty() || token == "*" || token == ">")
        || subject.contains(char::is_whitespace)
    {
        return Err(format!(
            "{subject:?} is not a subject to publish on (dot-separated tokens, no wildcards or spaces)"
        ));
    }
    Ok(())
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        tributary_nats::validate_connection(&self.endpoint, self.tls.as_ref())?;
        for signal in [Signal::Traces, Signal::Metrics, Signal::Logs] {
            check_subject(self.subject(signal))
                .map_err(|e| ConfigError::at(format!("{signal}::subject"), e))?;
        }
        // An empty stream name: the exporter manages no stream.
        self.stream.validate()?;
        self.auth.validate()?;
        self.helper.validate()
    }
}
