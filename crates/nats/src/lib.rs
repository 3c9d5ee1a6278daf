//! What the `nats` receiver and exporter share, so that both read the same keys the same
//! way: the payload [`Encoding`], each signal's [`SignalConfig`], the JetStream
//! [`StreamConfig`], the [`AuthConfig`] credentials, [`connect`] with credentials and TLS,
//! and the stream's server-side settings ([`stream_config`]).
//!
//! It is a crate of its own because the receivers and exporters crates may not depend on
//! each other. The client is the official `async-nats` (JetStream built in), with the
//! workspace's single crypto provider (aws-lc-rs).

use std::time::Duration;

use async_nats::jetstream::stream::{Config as JsStreamConfig, StorageType as JsStorage};
use serde::Deserialize;
use tributary_pipeline_core::component::{ConfigError, SecretString};
use tributary_pipeline_core::configtls::TlsClientConfig;
use tributary_pipeline_core::pdata::Signal;

/// The default `endpoint`: a local NATS server on its standard port.
pub const DEFAULT_ENDPOINT: &str = "nats://localhost:4222";

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

/// One signal's subject: where the exporter publishes it, or what the receiver reads.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignalConfig {
    /// The subject (the receiver's may hold wildcards).
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

/// The JetStream stream holding the signals' subjects; its settings apply when it is
/// created (an existing stream is used as its owner made it).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StreamConfig {
    /// Stream name; what empty means is the component's (see its docs).
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
    /// Copies kept in a cluster (1 to 5).
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

impl StreamConfig {
    /// Checks the name's characters (an empty name is the component's to judge) and the
    /// replica count.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_name(&self.name).map_err(|e| ConfigError::at("stream::name", e))?;
        if self.replicas == 0 || self.replicas > 5 {
            return Err(ConfigError::at("stream::replicas", "must be 1 to 5"));
        }
        Ok(())
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

/// How to authenticate: at most one of token, user/password, NKey and credentials file.
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

/// Checks the `endpoint` and the `tls` block: the NATS client verifies the name of the
/// host it connects to, so `server_name_override` cannot be honoured.
pub fn validate_connection(
    endpoint: &str,
    tls: Option<&TlsClientConfig>,
) -> Result<(), ConfigError> {
    if endpoint.trim().is_empty() {
        return Err(ConfigError::at(
            "endpoint",
            "must be set (nats://host:port)",
        ));
    }
    if let Some(tls) = tls {
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

/// A name the server accepts for a stream or consumer (empty passes: the caller decides).
pub fn check_name(name: &str) -> Result<(), String> {
    if name.contains(['.', '*', '>', ' ', '/', '\\']) {
        return Err(format!(
            "{name:?}: cannot hold '.', '*', '>', '/', '\\' or spaces"
        ));
    }
    Ok(())
}

/// Opens a connection to `endpoint` (comma-separated URLs) with `auth` and `tls`, giving
/// up on the attempt after `timeout`; the client reconnects by itself afterwards, forever.
pub async fn connect(
    endpoint: &str,
    auth: &AuthConfig,
    tls: Option<&TlsClientConfig>,
    timeout: Duration,
) -> Result<async_nats::Client, String> {
    let mut options = auth_options(auth).await?;
    if let Some(tls) = tls.filter(|tls| !tls.insecure) {
        let client = tls
            .rustls_config(&[])
            .map_err(|e| format!("cannot set up TLS: {e}"))?;
        options = options.require_tls(true).tls_client_config(client);
    }
    options
        .connection_timeout(timeout)
        .max_reconnects(None)
        .connect(endpoint)
        .await
        .map_err(|e| format!("cannot connect to NATS at {endpoint}: {e}"))
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

/// The server-side settings of stream `name`: the three signal subjects and the stream's
/// own, each once, and the configured storage and limits.
pub fn stream_config(
    name: &str,
    stream: &StreamConfig,
    signals: [&SignalConfig; 3],
) -> JsStreamConfig {
    let mut subjects: Vec<String> = signals
        .iter()
        .map(|signal| signal.subject.clone())
        .chain(stream.subjects.iter().cloned())
        .collect();
    subjects.sort();
    subjects.dedup();
    JsStreamConfig {
        name: name.to_string(),
        subjects,
        storage: match stream.storage {
            StorageType::File => JsStorage::File,
            StorageType::Memory => JsStorage::Memory,
        },
        max_age: stream.max_age,
        max_bytes: stream.max_bytes,
        num_replicas: stream.replicas,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_round_trip_and_parameters_are_ignored() {
        for encoding in [Encoding::OtlpProto, Encoding::OtlpJson] {
            assert_eq!(
                Encoding::from_content_type(encoding.content_type()),
                Some(encoding)
            );
        }
        assert_eq!(
            Encoding::from_content_type("Application/JSON; charset=utf-8"),
            Some(Encoding::OtlpJson)
        );
        assert_eq!(Encoding::from_content_type("text/plain"), None);
    }

    #[test]
    fn auth_takes_one_method_and_user_with_password() {
        let mut auth = AuthConfig {
            user: "u".into(),
            ..AuthConfig::default()
        };
        assert!(auth.validate().is_err(), "user without password");
        auth.password = "p".into();
        assert!(auth.validate().is_ok());
        auth.token = "t".into();
        assert!(auth.validate().is_err(), "two methods");
    }

    #[test]
    fn stream_subjects_are_the_signals_and_extras_once_each() {
        let signals = [Signal::Traces, Signal::Metrics, Signal::Logs].map(SignalConfig::for_signal);
        let stream = StreamConfig {
            subjects: vec!["otlp.logs".into(), "extra.>".into()],
            storage: StorageType::Memory,
            ..StreamConfig::default()
        };
        let config = stream_config("OTLP", &stream, [&signals[0], &signals[1], &signals[2]]);
        assert_eq!(config.name, "OTLP");
        assert_eq!(
            config.subjects,
            ["extra.>", "otlp.logs", "otlp.metrics", "otlp.traces"]
        );
        assert_eq!(config.storage, JsStorage::Memory);
        assert!(check_name("a.b").is_err() && check_name("").is_ok());
    }
}
