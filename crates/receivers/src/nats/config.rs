//! The `nats` receiver's configuration.

use std::time::Duration;

use serde::Deserialize;
pub use tributary_nats::{
    AuthConfig, DEFAULT_ENDPOINT, Encoding, SignalConfig, StorageType, StreamConfig,
};
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};
use tributary_pipeline_core::configtls::TlsClientConfig;
use tributary_pipeline_core::pdata::Signal;

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

/// The default `stream::name` (an empty name means it too).
pub const DEFAULT_STREAM: &str = "OTLP";

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

impl Default for Config {
    fn default() -> Self {
        Config {
            endpoint: DEFAULT_ENDPOINT.into(),
            encoding: Encoding::OtlpProto,
            traces: SignalConfig::for_signal(Signal::Traces),
            metrics: SignalConfig::for_signal(Signal::Metrics),
            logs: SignalConfig::for_signal(Signal::Logs),
            stream: StreamConfig {
                name: DEFAULT_STREAM.into(),
                ..StreamConfig::default()
            },
            consumer: ConsumerConfig::default(),
            auth: AuthConfig::default(),
            tls: None,
        }
    }
}

impl Config {
    /// The stream's name: `stream::name`, or [`DEFAULT_STREAM`] when that is empty.
    pub fn stream_name(&self) -> &str {
        if self.stream.name.is_empty() {
            DEFAULT_STREAM
        } else {
            &self.stream.name
        }
    }

    /// The subject of `signal`.
    pub fn subject(&self, signal: Signal) -> &str {
        match signal {
            Signal::Traces => &self.traces.subject,
            Signal::Metrics => &self.metrics.subject,
            Signal::Logs => &self.logs.subject,
        }
    }
}

/// A name the server accepts for a consumer.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must be set".into());
    }
    tributary_nats::check_name(name)
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        tributary_nats::validate_connection(&self.endpoint, self.tls.as_ref())?;
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
        self.stream.validate()?;
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
        self.auth.validate()
    }
}
