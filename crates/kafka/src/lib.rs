//! What the `kafka` receiver and exporter share, so that both read the Go Collector's
//! `configkafka` keys the same way: [`ClientSettings`] (brokers, client id, TLS, SASL,
//! metadata refresh) turned into librdkafka settings by [`ClientSettings::client_config`],
//! and the record [`Encoding`]s.
//!
//! It is a crate of its own because the receivers and exporters crates may not depend on
//! each other.
//!
//! # The client: rdkafka (librdkafka), built by the crate
//!
//! Chosen over the pure-Rust clients after checking what each needs here:
//! - `rskafka` has no consumer groups and no offset tracking, so no receiver;
//! - `confluent-kafka` 1.0 (pure Rust) joins groups only through KIP-848 (Kafka 4.0 and
//!   later brokers) and does SASL PLAIN only, no SCRAM;
//! - `rdkafka` wraps librdkafka, the client of most non-Java Kafka users (Vector, Rotel and
//!   the otel-arrow engine use it): classic and cooperative consumer groups, SCRAM, TLS,
//!   every compression codec, idempotent producing.
//!
//! librdkafka is C: the crate builds its bundled copy (configure and make, about two
//! minutes on two cores), and links OpenSSL (Debian's `libssl-dev`) for TLS and SCRAM.
//! That is why the `kafka` components are behind their own cargo feature, outside the
//! default build: the default gateway stays pure Rust with one TLS stack (rustls).

use std::time::Duration;

use rdkafka::ClientConfig;
use serde::Deserialize;
use tributary_pipeline_core::component::{ConfigError, SecretString};
use tributary_pipeline_core::configtls::TlsClientConfig;
use tributary_pipeline_core::pdata::Signal;

/// The default `brokers`: a local broker on Kafka's standard port.
pub const DEFAULT_BROKER: &str = "localhost:9092";

/// The Go Collector's `configkafka.ClientConfig`: how to reach and authenticate to the
/// cluster. Squashed into both components' configs.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientSettings {
    /// Bootstrap brokers, `host:port`.
    pub brokers: Vec<String>,
    /// Kafka version the cluster runs (`2.1.0`); checked for form only: librdkafka asks
    /// the broker which API versions it speaks.
    pub protocol_version: String,
    /// The client id the brokers see.
    pub client_id: String,
    /// Go: resolve bootstrap names to canonical names first (a no-op since franz-go);
    /// librdkafka's `client.dns.lookup` does it when set.
    pub resolve_canonical_bootstrap_servers_only: bool,
    /// Rack of this client, for fetching from the closest replica (KIP-392).
    pub rack_id: String,
    /// Idle connections are closed after this long; `0`: never.
    #[serde(with = "tributary_confmap::duration")]
    pub conn_idle_timeout: Duration,
    /// TLS to the brokers; absent (or `insecure: true`): plain TCP.
    pub tls: Option<TlsClientConfig>,
    /// SASL credentials.
    pub auth: AuthConfig,
    /// Cluster metadata refresh.
    pub metadata: MetadataConfig,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            brokers: vec![DEFAULT_BROKER.into()],
            protocol_version: String::new(),
            client_id: "otel-collector".into(),
            resolve_canonical_bootstrap_servers_only: false,
            rack_id: String::new(),
            conn_idle_timeout: Duration::from_secs(9 * 60),
            tls: None,
            auth: AuthConfig::default(),
            metadata: MetadataConfig::default(),
        }
    }
}

/// `auth`: SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), or the deprecated `plain_text`
/// and `tls` forms of older Go versions.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// SASL authentication.
    pub sasl: Option<SaslConfig>,
    /// Deprecated in Go (v0.123): SASL PLAIN with these credentials.
    pub plain_text: Option<PlainTextConfig>,
    /// Deprecated in Go (v0.124): the top-level `tls` block, here.
    pub tls: Option<TlsClientConfig>,
    /// Kerberos (GSSAPI): refused, see [`AuthConfig::validate`].
    pub kerberos: Option<Present>,
}

/// `auth::sasl`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SaslConfig {
    /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    pub mechanism: String,
    /// User name.
    pub username: String,
    /// Password: a secret, never shown.
    pub password: SecretString,
    /// SASL handshake version (0 or 1); librdkafka always uses the KIP-152 handshake
    /// (version 1) where the broker offers it.
    pub version: i32,
    /// AWS MSK IAM settings: refused (only the mechanisms above are built).
    pub aws_msk: Option<Present>,
    /// OIDC file settings: refused.
    pub oidc_file: Option<Present>,
}

/// `auth::plain_text` (deprecated in Go): SASL PLAIN.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlainTextConfig {
    /// User name.
    pub username: String,
    /// Password: a secret, never shown.
    pub password: SecretString,
}

/// `metadata`: how cluster metadata is fetched and refreshed.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetadataConfig {
    /// Fetch metadata of every topic, not only the ones used (librdkafka fetches what it
    /// needs; accepted for compatibility).
    pub full: bool,
    /// How often metadata is refreshed.
    #[serde(with = "tributary_confmap::duration")]
    pub refresh_interval: Duration,
    /// Retries of a metadata request at start.
    pub retry: MetadataRetry,
}

impl Default for MetadataConfig {
    fn default() -> Self {
        MetadataConfig {
            full: true,
            refresh_interval: Duration::from_secs(10 * 60),
            retry: MetadataRetry::default(),
        }
    }
}

/// `metadata::retry`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetadataRetry {
    /// Attempts after the first.
    pub max: u32,
    /// Wait between attempts.
    #[serde(with = "tributary_confmap::duration")]
    pub backoff: Duration,
}

impl Default for MetadataRetry {
    fn default() -> Self {
        MetadataRetry {
            max: 3,
            backoff: Duration::from_millis(250),
        }
    }
}

/// Any value under a key that is read only to be refused with a reason when present.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Present;

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(deserializer).map(|_| Present)
    }
}

impl ClientSettings {
    /// Checks every key; errors name their path.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.brokers.is_empty() {
            return Err(ConfigError::at("brokers", "at least one broker is needed"));
        }
        for (i, broker) in self.brokers.iter().enumerate() {
            let ok = broker
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
            if !ok {
                return Err(ConfigError::at(
                    format!("brokers::{i}"),
                    format!("{broker:?} is not host:port"),
                ));
            }
        }
        if !self.protocol_version.is_empty() {
            let parts: Vec<&str> = self.protocol_version.split('.').collect();
            if !(2..=4).contains(&parts.len()) || parts.iter().any(|p| p.parse::<u32>().is_err()) {
                return Err(ConfigError::at(
                    "protocol_version",
                    format!("{:?} is not a Kafka version", self.protocol_version),
                ));
            }
        }
        if self.tls.is_some() && self.auth.tls.is_some() {
            return Err(ConfigError::at(
                "auth::tls",
                "set tls at the top level only (auth::tls is its deprecated place)",
            ));
        }
        if let Some(tls) = self.tls() {
            check_tls(tls).map_err(|e| e.within("tls"))?;
        }
        self.auth.validate().map_err(|e| e.within("auth"))
    }

    /// The TLS block in force: the top-level one, or the deprecated `auth::tls`.
    fn tls(&self) -> Option<&TlsClientConfig> {
        self.tls
            .as_ref()
            .or(self.auth.tls.as_ref())
            .filter(|tls| !tls.insecure)
    }

    /// The librdkafka settings of these keys. The caller adds its own (group, acks…).
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", self.brokers.join(","))
            .set("client.id", &self.client_id)
            .set(
                "connections.max.idle.ms",
                self.conn_idle_timeout.as_millis().to_string(),
            )
            .set(
                "topic.metadata.refresh.interval.ms",
                self.metadata.refresh_interval.as_millis().to_string(),
            )
            .set(
                "retry.backoff.ms",
                self.metadata.retry.backoff.as_millis().max(1).to_string(),
            );
        if !self.rack_id.is_empty() {
            config.set("client.rack", &self.rack_id);
        }
        if self.resolve_canonical_bootstrap_servers_only {
            config.set(
                "client.dns.lookup",
                "resolve_canonical_bootstrap_servers_only",
            );
        }
        if !self.protocol_version.is_empty() {
            // Only used by brokers older than 0.10, which cannot tell their API versions.
            config.set("broker.version.fallback", &self.protocol_version);
        }
        let sasl = self.auth.sasl_credentials();
        let tls = self.tls();
        config.set(
            "security.protocol",
            match (sasl.is_some(), tls.is_some()) {
                (false, false) => "plaintext",
                (false, true) => "ssl",
                (true, false) => "sasl_plaintext",
                (true, true) => "sasl_ssl",
            },
        );
        if let Some((mechanism, username, password)) = sasl {
            config
                .set("sasl.mechanism", mechanism)
                .set("sasl.username", username)
                .set("sasl.password", password);
        }
        if let Some(tls) = tls {
            set_tls(&mut config, tls);
        }
        config
    }
}

/// What of configtls librdkafka (OpenSSL) can take; the rest is refused.
fn check_tls(tls: &TlsClientConfig) -> Result<(), ConfigError> {
    tls.validate()?;
    if !tls.server_name_override.is_empty() {
        return Err(ConfigError::at(
            "server_name_override",
            "not supported by the Kafka client (it verifies the broker's advertised name)",
        ));
    }
    if !tls.cipher_suites.is_empty() || !tls.curve_preferences.is_empty() {
        return Err(ConfigError::at(
            "cipher_suites",
            "cipher_suites and curve_preferences are not supported by the Kafka client (OpenSSL's defaults apply)",
        ));
    }
    if tls.min_version.is_some() || tls.max_version.is_some() {
        return Err(ConfigError::at(
            "min_version",
            "min_version and max_version are not supported by the Kafka client (OpenSSL offers TLS 1.2 and 1.3)",
        ));
    }
    Ok(())
}

fn set_tls(config: &mut ClientConfig, tls: &TlsClientConfig) {
    if !tls.ca_file.is_empty() {
        config.set("ssl.ca.location", &tls.ca_file);
    } else if !tls.ca_pem.is_empty() {
        config.set("ssl.ca.pem", &tls.ca_pem);
    }
    if !tls.cert_file.is_empty() {
        config.set("ssl.certificate.location", &tls.cert_file);
    } else if !tls.cert_pem.is_empty() {
        config.set("ssl.certificate.pem", &tls.cert_pem);
    }
    if !tls.key_file.is_empty() {
        config.set("ssl.key.location", &tls.key_file);
    } else if !tls.key_pem.expose().is_empty() {
        config.set("ssl.key.pem", tls.key_pem.expose());
    }
    if tls.insecure_skip_verify {
        config
            .set("enable.ssl.certificate.verification", "false")
            .set("ssl.endpoint.identification.algorithm", "none");
    } else {
        config.set("ssl.endpoint.identification.algorithm", "https");
    }
}

impl AuthConfig {
    /// One SASL form at most, a mechanism librdkafka is built with, and credentials.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.kerberos.is_some() {
            return Err(ConfigError::at(
                "kerberos",
                "Kerberos (GSSAPI) is not built into this collector's Kafka client",
            ));
        }
        if self.sasl.is_some() && self.plain_text.is_some() {
            return Err(ConfigError::at(
                "plain_text",
                "set sasl or the deprecated plain_text, not both",
            ));
        }
        if let Some(plain) = &self.plain_text
            && plain.username.is_empty()
        {
            return Err(ConfigError::at("plain_text::username", "must be set"));
        }
        let Some(sasl) = &self.sasl else {
            return Ok(());
        };
        match sasl.mechanism.as_str() {
            "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512" => {}
            "AWS_MSK_IAM_OAUTHBEARER" | "AWS_MSK_IAM" | "OIDCFILE" | "GSSAPI" => {
                return Err(ConfigError::at(
                    "sasl::mechanism",
                    format!(
                        "{:?} is not built into this collector's Kafka client (PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 are)",
                        sasl.mechanism
                    ),
                ));
            }
            other => {
                return Err(ConfigError::at(
                    "sasl::mechanism",
                    format!("{other:?}: expected PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"),
                ));
            }
        }
        if sasl.aws_msk.is_some() || sasl.oidc_file.is_some() {
            return Err(ConfigError::at(
                "sasl::aws_msk",
                "aws_msk and oidc_file belong to mechanisms this client does not have",
            ));
        }
        if sasl.username.is_empty() {
            return Err(ConfigError::at("sasl::username", "must be set"));
        }
        if !(0..=1).contains(&sasl.version) {
            return Err(ConfigError::at("sasl::version", "must be 0 or 1"));
        }
        Ok(())
    }

    /// Mechanism, user and password, from `sasl` or the deprecated `plain_text`.
    fn sasl_credentials(&self) -> Option<(&str, &str, &str)> {
        if let Some(sasl) = &self.sasl {
            return Some((&sasl.mechanism, &sasl.username, sasl.password.expose()));
        }
        self.plain_text
            .as_ref()
            .map(|plain| ("PLAIN", plain.username.as_str(), plain.password.expose()))
    }
}

/// Go's default topic of each signal.
pub fn default_topic(signal: Signal) -> &'static str {
    match signal {
        Signal::Traces => "otlp_spans",
        Signal::Metrics => "otlp_metrics",
        Signal::Logs => "otlp_logs",
    }
}

/// Checks a topic name as Kafka does: 1 to 249 of `[a-zA-Z0-9._-]`, not `.` or `..`.
pub fn check_topic(topic: &str) -> Result<(), String> {
    if topic.is_empty()
        || topic.len() > 249
        || topic == "."
        || topic == ".."
        || !topic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(format!(
            "{topic:?} is not a Kafka topic name (1 to 249 of a-z A-Z 0-9 . _ -)"
        ));
    }
    Ok(())
}

/// A record's encoding: the Go Collector's names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// The OTLP `Export*ServiceRequest` as protobuf.
    #[default]
    OtlpProto,
    /// The same request as OTLP/JSON.
    OtlpJson,
    /// Traces: one Jaeger `model.Span` per record, protobuf.
    JaegerProto,
    /// Traces: one Jaeger `model.Span` per record, JSON (jsonpb).
    JaegerJson,
    /// Traces: a Zipkin v2 `ListOfSpans`, protobuf.
    ZipkinProto,
    /// Traces: a Zipkin v2 JSON array of spans.
    ZipkinJson,
    /// Traces: Zipkin v1 Thrift.
    ZipkinThrift,
    /// Logs: the record's value is the log body, as bytes.
    Raw,
    /// Logs: the record's value is the log body, as UTF-8 text.
    Text,
    /// Logs: the record's value is a JSON value, the log body.
    Json,
}

impl Encoding {
    /// Go's name of the encoding.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::OtlpProto => "otlp_proto",
            Encoding::OtlpJson => "otlp_json",
            Encoding::JaegerProto => "jaeger_proto",
            Encoding::JaegerJson => "jaeger_json",
            Encoding::ZipkinProto => "zipkin_proto",
            Encoding::ZipkinJson => "zipkin_json",
            Encoding::ZipkinThrift => "zipkin_thrift",
            Encoding::Raw => "raw",
            Encoding::Text => "text",
            Encoding::Json => "json",
        }
    }

    /// The `Content-Type` a record of this encoding carries in its headers.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::OtlpProto | Encoding::JaegerProto | Encoding::ZipkinProto => {
                "application/x-protobuf"
            }
            Encoding::OtlpJson | Encoding::JaegerJson | Encoding::ZipkinJson | Encoding::Json => {
                "application/json"
            }
            Encoding::ZipkinThrift => "application/x-thrift",
            Encoding::Raw => "application/octet-stream",
            Encoding::Text => "text/plain",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tributary_confmap::Conf;

    fn settings(yaml: &str) -> ClientSettings {
        Conf::from_yaml(yaml).unwrap().decode().unwrap()
    }

    fn get(config: &ClientConfig, key: &str) -> Option<String> {
        config.get(key).map(str::to_string)
    }

    #[test]
    fn defaults_are_gos() {
        let s = ClientSettings::default();
        assert_eq!(s.brokers, ["localhost:9092"]);
        assert_eq!(s.client_id, "otel-collector");
        s.validate().unwrap();
        let config = s.client_config();
        assert_eq!(get(&config, "bootstrap.servers").unwrap(), "localhost:9092");
        assert_eq!(get(&config, "security.protocol").unwrap(), "plaintext");
        assert_eq!(
            get(&config, "topic.metadata.refresh.interval.ms").unwrap(),
            "600000"
        );
    }

    #[test]
    fn sasl_and_tls_set_the_security_protocol() {
        let s = settings(
            "brokers: [a:9092, b:9093]\nauth: {sasl: {mechanism: SCRAM-SHA-512, username: u, password: p}}\ntls: {ca_file: /ca.pem, insecure_skip_verify: true}",
        );
        s.validate().unwrap();
        let config = s.client_config();
        assert_eq!(get(&config, "bootstrap.servers").unwrap(), "a:9092,b:9093");
        assert_eq!(get(&config, "security.protocol").unwrap(), "sasl_ssl");
        assert_eq!(get(&config, "sasl.mechanism").unwrap(), "SCRAM-SHA-512");
        assert_eq!(get(&config, "sasl.password").unwrap(), "p");
        assert_eq!(get(&config, "ssl.ca.location").unwrap(), "/ca.pem");
        assert_eq!(
            get(&config, "enable.ssl.certificate.verification").unwrap(),
            "false"
        );

        let plain = settings("auth: {plain_text: {username: u, password: p}}");
        plain.validate().unwrap();
        let config = plain.client_config();
        assert_eq!(get(&config, "security.protocol").unwrap(), "sasl_plaintext");
        assert_eq!(get(&config, "sasl.mechanism").unwrap(), "PLAIN");

        let insecure = settings("tls: {insecure: true}");
        assert_eq!(
            get(&insecure.client_config(), "security.protocol").unwrap(),
            "plaintext"
        );
    }

    #[test]
    fn what_cannot_be_honoured_is_refused_with_its_path() {
        for (yaml, path) in [
            ("brokers: []", "brokers"),
            ("brokers: [nohost]", "brokers::0"),
            ("protocol_version: latest", "protocol_version"),
            (
                "auth: {sasl: {mechanism: AWS_MSK_IAM_OAUTHBEARER, username: u}}",
                "auth::sasl::mechanism",
            ),
            ("auth: {sasl: {mechanism: PLAIN}}", "auth::sasl::username"),
            ("auth: {kerberos: {realm: X}}", "auth::kerberos"),
            (
                "tls: {server_name_override: x}",
                "tls::server_name_override",
            ),
            ("tls: {min_version: '1.3'}", "tls::min_version"),
            ("tls: {}\nauth: {tls: {}}", "auth::tls"),
        ] {
            let error = settings(yaml).validate().unwrap_err();
            assert_eq!(error.path(), path, "{yaml}: {error}");
        }
        settings("protocol_version: 2.1.0").validate().unwrap();
    }

    #[test]
    fn encodings_take_gos_names() {
        for name in [
            "otlp_proto",
            "otlp_json",
            "jaeger_proto",
            "jaeger_json",
            "zipkin_proto",
            "zipkin_json",
            "zipkin_thrift",
            "raw",
            "text",
            "json",
        ] {
            #[derive(Deserialize)]
            struct Block {
                encoding: Encoding,
            }
            let block: Block = Conf::from_yaml(&format!("encoding: {name}"))
                .unwrap()
                .decode()
                .unwrap();
            assert_eq!(block.encoding.as_str(), name);
        }
    }
}
