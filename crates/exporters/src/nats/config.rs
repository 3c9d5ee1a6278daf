//! The `nats` exporter's configuration.

use std::time::Duration;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError, SecretString};
use tributary_pipeline_core::configtls::TlsClientConfig;
use tributary_pipeline_core::exporterhelper::ExporterHelperConfig;
use tributary_pipeline_core::pdata::Signal;

/// The default `endpoint`: a local NATS server on its standard port.
pub const DEFAULT_ENDPOINT: &str = "nats://localhost:4222";

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

/// The payload format of a message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// The OTLP `Export*ServiceRequest` as protobuf.
    #[default]
    OtlpProto,
    /// The same request as OTLP/JSON.
    OtlpJson,
}

impl Encoding {
    /// The `Content-Type` header value messages carry, so a consumer can tell.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::OtlpProto => "application/x-protobuf",
            Encoding::OtlpJson => "application/json",
        }
    }
}

/// One signal's destination.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignalConfig {
    /// The subject messages are published on.
    pub subject: String,
}

impl SignalConfig {
    /// The default subject of `signal`: `otlp.<signal>`.
    pub fn for_signal(signal: Signal) -> Self {
        SignalConfig {
            subject: format!("otlp.{}", signal.as_str()),
        }
    }
}

impl Default for SignalConfig {
    fn default() -> Self {
        SignalConfig::for_signal(Signal::Traces)
    }
}

/// The stream the exporter creates (or finds) at start.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StreamConfig {
    /// Stream name; empty: the exporter manages no stream and one must already capture
    /// the subjects (a publish nobody stores fails and is retried).
    pub name: String,
    /// Subjects of the stream besides the three signal subjects.
    pub subjects: Vec<String>,
    /// `file` (default) or `memory`.
    pub storage: StorageType,
    /// Oldest message kept; `0`: no limit.
    #[serde(with = "tributary_confmap::duration")]
    pub max_age: Duration,
    /// Largest stream size in bytes; `-1`: no limit.
    pub max_bytes: i64,
    /// Copies kept in a cluster.
    pub replicas: usize,
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            name: String::new(),
            subjects: Vec::new(),
            storage: StorageType::File,
            max_age: Duration::ZERO,
            max_bytes: -1,
            replicas: 1,
        }
    }
}

/// Where a stream keeps its messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageType {
    /// On disk: survives a server restart.
    #[default]
    File,
    /// In memory.
    Memory,
}

/// How the exporter authenticates.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// A server token.
    pub token: SecretString,
    /// User name (with `password`).
    pub user: String,
    /// Password of `user`.
    pub password: SecretString,
    /// An NKey seed (`SU...`).
    pub nkey: SecretString,
    /// A `.creds` file (user JWT and NKey seed), as `nsc` writes it.
    pub credentials_file: String,
}

impl AuthConfig {
    /// Checks that at most one method is chosen, and that user and password come together.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let chosen = [
            !self.token.is_empty(),
            !self.user.is_empty() || !self.password.is_empty(),
            !self.nkey.is_empty(),
            !self.credentials_file.is_empty(),
        ];
        if chosen.iter().filter(|set| **set).count() > 1 {
            return Err(ConfigError::at(
                "auth",
                "choose one of token, user/password, nkey and credentials_file",
            ));
        }
        if self.user.is_empty() != self.password.is_empty() {
            return Err(ConfigError::at(
                "auth",
                "user and password must be set together",
            ));
        }
        Ok(())
    }
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
        if self.endpoint.trim().is_empty() {
            return Err(ConfigError::at(
                "endpoint",
                "must be set (nats://host:port)",
            ));
        }
        for signal in [Signal::Traces, Signal::Metrics, Signal::Logs] {
            check_subject(self.subject(signal))
                .map_err(|e| ConfigError::at(format!("{signal}::subject"), e))?;
        }
        let name = &self.stream.name;
        if name.contains(['.', '*', '>', ' ', '/', '\\']) {
            return Err(ConfigError::at(
                "stream::name",
                format!("{name:?}: a stream name cannot hold '.', '*', '>', '/', '\\' or spaces"),
            ));
        }
        if self.stream.replicas == 0 || self.stream.replicas > 5 {
            return Err(ConfigError::at("stream::replicas", "must be 1 to 5"));
        }
        self.auth.validate()?;
        if let Some(tls) = &self.tls {
            tls.validate().map_err(|e| e.within("tls"))?;
            if tls.server_name_override().is_some() {
                return Err(ConfigError::at(
                    "tls::server_name_override",
                    "not supported: the NATS client verifies the name of the host it connects to",
                ));
            }
        }
        self.helper.validate()
    }
}
