//! The `nats` receiver's configuration.

use std::time::Duration;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError, SecretString};
use tributary_pipeline_core::configtls::TlsClientConfig;
use tributary_pipeline_core::pdata::Signal;

/// The default `endpoint`: a local NATS server on its standard port.
pub const DEFAULT_ENDPOINT: &str = "nats://localhost:4222";

/// The `nats` receiver's configuration.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// NATS server URL(s), comma-separated (`nats://`, `tls://`, or `host:port`).
    pub endpoint: String,
    /// Payload format of messages without a `Content-Type` header: `otlp_proto` (default)
    /// or `otlp_json`.
    pub encoding: Encoding,
    /// Where spans are read from.
    pub traces: SignalConfig,
    /// Where metrics are read from.
    pub metrics: SignalConfig,
    /// Where logs are read from.
    pub logs: SignalConfig,
    /// The JetStream stream holding the subjects (created if missing).
    pub stream: StreamConfig,
    /// The durable pull consumer.
    pub consumer: ConsumerConfig,
    /// Credentials: at most one of token, user/password, nkey, credentials file.
    pub auth: AuthConfig,
    /// TLS to the server; absent: plain TCP unless the endpoint says `tls://`.
    pub tls: Option<TlsClientConfig>,
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
    /// The encoding a `Content-Type` header names, if it names one.
    pub fn from_content_type(value: &str) -> Option<Encoding> {
        let media = value.split(';').next().unwrap_or("").trim();
        match media.to_ascii_lowercase().as_str() {
            "application/x-protobuf" | "application/protobuf" => Some(Encoding::OtlpProto),
            "application/json" => Some(Encoding::OtlpJson),
            _ => None,
        }
    }
}

/// One signal's source.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignalConfig {
    /// The subject (filter) read; wildcards allowed.
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

/// The stream consumed; created at start when missing.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StreamConfig {
    /// Stream name.
    pub name: String,
    /// Subjects of the stream, when it is created, besides the three signal subjects.
    pub subjects: Vec<String>,
    /// `file` (default) or `memory`, when it is created.
    pub storage: StorageType,
    /// Oldest message kept, when it is created; `0`: no limit.
    #[serde(with = "tributary_confmap::duration")]
    pub max_age: Duration,
    /// Largest stream size in bytes, when it is created; `-1`: no limit.
    pub max_bytes: i64,
    /// Copies kept in a cluster, when it is created.
    pub replicas: usize,
}

/// The default `stream::name`.
pub const DEFAULT_STREAM: &str = "OTLP";

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            name: DEFAULT_STREAM.into(),
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

/// The durable pull consumer's settings.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsumerConfig {
    /// Durable name; each signal's consumer is `<durable_name>_<signal>`. Collectors with
    /// the same name share the work; the server remembers what they acknowledged.
    pub durable_name: String,
    /// How long the server waits for an ack before it redelivers.
    #[serde(with = "tributary_confmap::duration")]
    pub ack_wait: Duration,
    /// Messages delivered and not yet acknowledged, at most: the backpressure bound (and
    /// the bound on what the receiver holds in memory).
    pub max_ack_pending: i64,
    /// Deliveries of one message before the server gives up on it; `-1`: no limit.
    pub max_deliver: i64,
    /// Redelivery delay asked for (`nak`) when the pipeline refuses a message for now
    /// (retryable) and gives no delay of its own.
    #[serde(with = "tributary_confmap::duration")]
    pub nak_delay: Duration,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        ConsumerConfig {
            durable_name: "tributary".into(),
            ack_wait: Duration::from_secs(30),
            max_ack_pending: 1000,
            max_deliver: -1,
            nak_delay: Duration::from_secs(1),
        }
    }
}

impl ConsumerConfig {
    /// The durable name of `signal`'s consumer.
    pub fn durable_for(&self, signal: Signal) -> String {
        format!("{}_{}", self.durable_name, signal.as_str())
    }
}

/// How the receiver authenticates.
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
    fn validate(&self) -> Result<(), ConfigError> {
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
            consumer: ConsumerConfig::default(),
            auth: AuthConfig::default(),
            tls: None,
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

/// A name the server accepts for a stream or consumer.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must be set".into());
    }
    if name.contains(['.', '*', '>', ' ', '/', '\\']) {
        return Err(format!(
            "{name:?}: cannot hold '.', '*', '>', '/', '\\' or spaces"
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
            let subject = self.subject(signal);
            if subject.is_empty()
                || subject.split('.').any(str::is_empty)
                || subject.contains(char::is_whitespace)
            {
                return Err(ConfigError::at(
                    format!("{signal}::subject"),
                    format!("{subject:?} is not a subject (dot-separated tokens, no spaces)"),
                ));
            }
        }
        check_name(&self.stream.name).map_err(|e| ConfigError::at("stream::name", e))?;
        if self.stream.replicas == 0 || self.stream.replicas > 5 {
            return Err(ConfigError::at("stream::replicas", "must be 1 to 5"));
        }
        check_name(&self.consumer.durable_name)
            .map_err(|e| ConfigError::at("consumer::durable_name", e))?;
        if self.consumer.max_ack_pending < 1 {
            return Err(ConfigError::at(
                "consumer::max_ack_pending",
                "must be at least 1: it bounds what the receiver holds unacknowledged",
            ));
        }
        if self.consumer.ack_wait.is_zero() {
            return Err(ConfigError::at("consumer::ack_wait", "must be positive"));
        }
        if self.consumer.max_deliver == 0 || self.consumer.max_deliver < -1 {
            return Err(ConfigError::at(
                "consumer::max_deliver",
                "must be -1 (no limit) or at least 1",
            ));
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
        Ok(())
    }
}
