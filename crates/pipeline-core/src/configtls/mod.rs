//! `configtls`: TLS for servers and clients with the Go Collector's `configtls` keys, on
//! rustls with the aws-lc-rs provider (one crypto provider in the whole workspace).
//!
//! ```yaml
//! receivers:
//!   otlp:
//!     protocols:
//!       grpc:
//!         tls:                                   # TlsServerConfig
//!           cert_file: /etc/otelcol/server.pem
//!           key_file: /etc/otelcol/server.key
//!           client_ca_file: /etc/otelcol/ca.pem  # mutual TLS
//!           min_version: "1.3"
//!           reload_interval: 1h
//! exporters:
//!   otlp:
//!     endpoint: backend:4317
//!     tls:                                       # TlsClientConfig
//!       ca_file: /etc/otelcol/ca.pem
//!       cert_file: /etc/otelcol/client.pem
//!       key_file: /etc/otelcol/client.key
//! ```
//!
//! Keys both sides share:
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `ca_file` / `ca_pem` | unset | CAs to trust (PEM); a server does not use them, as in Go |
//! | `include_system_ca_certs_pool` | `false` | trust the system roots besides `ca_file` |
//! | `cert_file` / `cert_pem`, `key_file` / `key_pem` | unset | the certificate chain and key (PEM); the key is a secret |
//! | `min_version` / `max_version` | `"1.2"` / `"1.3"` | protocol versions; `"1.0"` and `"1.1"` are refused: rustls does not support TLS 1.0/1.1 |
//! | `cipher_suites` | rustls' | TLS 1.2 suites by Go's names (`TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`); TLS 1.3 suites are always on, as in Go; a suite rustls lacks (CBC, RSA key exchange) is refused naming the ones it has |
//! | `curve_preferences` | rustls' | key-exchange groups: `X25519`, `P256`, `P384`, `P521` (and `X25519MLKEM768`) |
//! | `reload_interval` | `0` | server: re-read the certificate and key this often (`0`: never); refused on clients |
//! | `tpm::enabled` | `false` | refused: rustls needs the private key in memory, so TPM-held keys cannot be used |
//!
//! The server's and the client's own keys are in [`TlsServerConfig`] and
//! [`TlsClientConfig`].

mod client;
mod server;

#[cfg(test)]
mod tests;

use std::path::Path;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde::Deserialize;

use crate::component::ConfigError;

pub use client::TlsClientConfig;
pub use server::{ALPN_GRPC, ALPN_HTTP, TlsServerConfig, acceptor};

/// A TLS protocol version, as written in `min_version` / `max_version` (`"1.2"`, `"1.3"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    /// TLS 1.0: accepted in configuration, refused by validation (rustls does not speak it).
    V1_0,
    /// TLS 1.1: accepted in configuration, refused by validation.
    V1_1,
    /// TLS 1.2.
    V1_2,
    /// TLS 1.3.
    V1_3,
}

impl TlsVersion {
    /// The version as configured (`"1.2"`).
    pub fn as_str(self) -> &'static str {
        match self {
            TlsVersion::V1_0 => "1.0",
            TlsVersion::V1_1 => "1.1",
            TlsVersion::V1_2 => "1.2",
            TlsVersion::V1_3 => "1.3",
        }
    }
}

impl<'de> Deserialize<'de> for TlsVersion {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.as_str() {
            "1.0" => Ok(TlsVersion::V1_0),
            "1.1" => Ok(TlsVersion::V1_1),
            "1.2" => Ok(TlsVersion::V1_2),
            "1.3" => Ok(TlsVersion::V1_3),
            other => Err(serde::de::Error::custom(format!(
                "unknown TLS version {other:?}: use \"1.2\" or \"1.3\""
            ))),
        }
    }
}

/// `tpm`: keys held in a TPM, which the Go Collector can use; refused when enabled.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TpmConfig {
    /// Use the TPM; refused.
    pub enabled: bool,
    /// The TPM device.
    pub path: String,
    /// The owner authorization.
    pub owner_auth: String,
    /// The key's authorization.
    pub auth: String,
}

/// Why TLS settings could not be put to use.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file could not be read.
    #[error("reading {what} {path:?}: {source}")]
    Read {
        /// What the file holds (`CA certificates`, `client certificate`, `client key`).
        what: &'static str,
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// PEM data held nothing usable.
    #[error("invalid {what}: {message}")]
    Pem {
        /// What the data should hold.
        what: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// rustls refused the settings.
    #[error("TLS setup: {0}")]
    Rustls(#[from] rustls::Error),
    /// The server name to verify is not a valid DNS name or IP address.
    #[error("invalid server name {0:?}")]
    ServerName(String),
}

/// The rustls name of a TLS 1.2 suite in Go's spelling (`TLS_ECDHE_..._SHA256`).
fn suite_name(suite: &rustls::SupportedCipherSuite) -> String {
    format!("{:?}", suite.suite())
}

/// The key-exchange group names accepted in `curve_preferences`, Go's first.
fn group_matches(group: &dyn rustls::crypto::SupportedKxGroup, name: &str) -> bool {
    let rustls_name = format!("{:?}", group.name());
    let go_name = match rustls_name.as_str() {
        "secp256r1" => "P256",
        "secp384r1" => "P384",
        "secp521r1" => "P521",
        "X25519" => "X25519",
        other => other,
    };
    name.eq_ignore_ascii_case(go_name) || name.eq_ignore_ascii_case(&rustls_name)
}

/// The aws-lc-rs provider narrowed to `cipher_suites` and `curve_preferences`.
fn provider(cipher_suites: &[String], curves: &[String]) -> Result<CryptoProvider, TlsError> {
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    if !cipher_suites.is_empty() {
        provider.cipher_suites.retain(|suite| {
            matches!(suite, rustls::SupportedCipherSuite::Tls13(_))
                || cipher_suites.contains(&suite_name(suite))
        });
    }
    if !curves.is_empty() {
        provider
            .kx_groups
            .retain(|group| curves.iter().any(|name| group_matches(*group, name)));
    }
    Ok(provider)
}

/// The checks both sides share; error paths are relative to the `tls` section.
fn check_common(
    min_version: Option<TlsVersion>,
    max_version: Option<TlsVersion>,
    cipher_suites: &[String],
    curves: &[String],
    tpm: &TpmConfig,
) -> Result<(), ConfigError> {
    for (path, version) in [("min_version", min_version), ("max_version", max_version)] {
        if let Some(version @ (TlsVersion::V1_0 | TlsVersion::V1_1)) = version {
            return Err(ConfigError::at(
                path,
                format!(
                    "TLS {} is not supported: rustls does not support TLS 1.0/1.1; use \"1.2\" \
                     or \"1.3\"",
                    version.as_str()
                ),
            ));
        }
    }
    if let (Some(min), Some(max)) = (min_version, max_version)
        && min > max
    {
        return Err(ConfigError::at(
            "max_version",
            "must not be lower than min_version",
        ));
    }
    let available = rustls::crypto::aws_lc_rs::default_provider();
    for (i, name) in cipher_suites.iter().enumerate() {
        let known = available.cipher_suites.iter().any(|suite| {
            matches!(suite, rustls::SupportedCipherSuite::Tls12(_)) && suite_name(suite) == *name
        });
        if !known {
            let names: Vec<String> = available
                .cipher_suites
                .iter()
                .filter(|s| matches!(s, rustls::SupportedCipherSuite::Tls12(_)))
                .map(suite_name)
                .collect();
            return Err(ConfigError::at(
                format!("cipher_suites::{i}"),
                format!(
                    "{name:?} is not a TLS 1.2 suite rustls supports (TLS 1.3 suites are always \
                     on); use one of {}",
                    names.join(", ")
                ),
            ));
        }
    }
    for (i, name) in curves.iter().enumerate() {
        if !available
            .kx_groups
            .iter()
            .any(|group| group_matches(*group, name))
        {
            return Err(ConfigError::at(
                format!("curve_preferences::{i}"),
                format!("unknown curve {name:?}: use X25519, P256, P384, P521 or X25519MLKEM768"),
            ));
        }
    }
    if tpm.enabled {
        return Err(ConfigError::at(
            "tpm::enabled",
            "TPM-held keys are not supported: rustls needs the private key in memory; use \
             key_file or key_pem",
        ));
    }
    Ok(())
}

/// The rustls versions between `min` and `max` (defaults 1.2 and 1.3), newest first.
fn versions(
    min: Option<TlsVersion>,
    max: Option<TlsVersion>,
) -> Vec<&'static rustls::SupportedProtocolVersion> {
    let min = min.unwrap_or(TlsVersion::V1_2);
    let max = max.unwrap_or(TlsVersion::V1_3);
    let mut versions = Vec::new();
    if min <= TlsVersion::V1_3 && TlsVersion::V1_3 <= max {
        versions.push(&rustls::version::TLS13);
    }
    if min <= TlsVersion::V1_2 && TlsVersion::V1_2 <= max {
        versions.push(&rustls::version::TLS12);
    }
    versions
}

/// The PEM bytes from `file` or `pem`, whichever is set.
fn read_pem(what: &'static str, file: &str, pem: &str) -> Result<Option<Vec<u8>>, TlsError> {
    if !file.is_empty() {
        return std::fs::read(Path::new(file))
            .map(Some)
            .map_err(|source| TlsError::Read {
                what,
                path: file.to_string(),
                source,
            });
    }
    Ok((!pem.is_empty()).then(|| pem.as_bytes().to_vec()))
}

fn certificates(what: &'static str, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem {
            what,
            message: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Pem {
            what,
            message: "no PEM certificate found".into(),
        });
    }
    Ok(certs)
}
