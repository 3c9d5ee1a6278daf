//! The server side: a certificate to present, optional client certificates to require
//! (mutual TLS), and the certificate re-read on `reload_interval`.

use std::fmt;
use std::sync::{Arc, Weak};
use std::time::Duration;

use arc_swap::ArcSwap;
use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use serde::Deserialize;
use tokio_rustls::TlsAcceptor;

use super::{
    TlsError, TlsVersion, TpmConfig, certificates, check_common, provider, read_pem, versions,
};
use crate::component::{ComponentError, ConfigError, SecretString};

/// ALPN protocols for gRPC: HTTP/2 only.
pub const ALPN_GRPC: &[&[u8]] = &[b"h2"];
/// ALPN protocols for HTTP servers: HTTP/2 preferred, HTTP/1.1 accepted.
pub const ALPN_HTTP: &[&[u8]] = &[b"h2", b"http/1.1"];

/// `tls` on a server: the Go Collector's `configtls.ServerConfig` keys.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `cert_file` / `cert_pem` | required | the server's certificate chain (PEM) |
/// | `key_file` / `key_pem` | required | its private key (PEM); a secret |
/// | `client_ca_file` | unset | require client certificates signed by these CAs (mutual TLS) |
/// | `reload_client_ca_file` | `false` | refused: the client CA file is read at start |
/// | `reload_interval` | `0` | re-read the certificate and key this often (`0`: never) |
///
/// and the shared keys of [the module](super).
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsServerConfig {
    /// Accepted as in Go, where a server does not use it.
    pub ca_file: String,
    /// Accepted as in Go, where a server does not use it.
    pub ca_pem: String,
    /// Accepted as in Go, where a server does not use it.
    pub include_system_ca_certs_pool: bool,
    /// PEM file of the server's certificate chain.
    pub cert_file: String,
    /// PEM text of the server's certificate chain.
    pub cert_pem: String,
    /// PEM file of the server's private key.
    pub key_file: String,
    /// PEM text of the server's private key: a secret, never shown.
    pub key_pem: SecretString,
    /// Lowest protocol version accepted (default 1.2).
    pub min_version: Option<TlsVersion>,
    /// Highest protocol version accepted (default 1.3).
    pub max_version: Option<TlsVersion>,
    /// TLS 1.2 cipher suites accepted, by Go's names; empty: rustls' defaults.
    pub cipher_suites: Vec<String>,
    /// Key-exchange groups accepted; empty: rustls' defaults.
    pub curve_preferences: Vec<String>,
    /// Re-read the certificate and key this often; `0` never.
    #[serde(with = "tributary_confmap::duration")]
    pub reload_interval: Duration,
    /// Refused when enabled.
    pub tpm: TpmConfig,
    /// When set, clients must present a certificate signed by one of these CAs (PEM).
    pub client_ca_file: String,
    /// Refused: the client CA file is read at start.
    pub reload_client_ca_file: bool,
}

impl fmt::Debug for TlsServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsServerConfig")
            .field("cert_file", &self.cert_file)
            .field("cert_pem", &(!self.cert_pem.is_empty()).then_some("<set>"))
            .field("key_file", &self.key_file)
            .field(
                "key_pem",
                &(!self.key_pem.is_empty()).then_some(&self.key_pem),
            )
            .field("client_ca_file", &self.client_ca_file)
            .field("min_version", &self.min_version)
            .field("max_version", &self.max_version)
            .field("cipher_suites", &self.cipher_suites)
            .field("curve_preferences", &self.curve_preferences)
            .field("reload_interval", &self.reload_interval)
            .finish_non_exhaustive()
    }
}

impl TlsServerConfig {
    /// Checks what can be checked without reading files; error paths are relative to the
    /// `tls` section.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.cert_file.is_empty() && self.cert_pem.is_empty() {
            return Err(ConfigError::at("cert_file", "is required to serve TLS"));
        }
        if self.key_file.is_empty() && self.key_pem.is_empty() {
            return Err(ConfigError::at("key_file", "is required to serve TLS"));
        }
        if !self.cert_file.is_empty() && !self.cert_pem.is_empty() {
            return Err(ConfigError::at(
                "cert_pem",
                "set either cert_file or cert_pem, not both",
            ));
        }
        if !self.key_file.is_empty() && !self.key_pem.is_empty() {
            return Err(ConfigError::at(
                "key_pem",
                "set either key_file or key_pem, not both",
            ));
        }
        if self.reload_client_ca_file {
            return Err(ConfigError::at(
                "reload_client_ca_file",
                "not supported: the client CA file is read when the server starts; reload \
                 the configuration to read it again",
            ));
        }
        check_common(
            self.min_version,
            self.max_version,
            &self.cipher_suites,
            &self.curve_preferences,
            &self.tpm,
        )
    }

    /// The accepted versions, lowest first.
    pub fn versions(&self) -> (TlsVersion, TlsVersion) {
        (
            self.min_version.unwrap_or(TlsVersion::V1_2),
            self.max_version.unwrap_or(TlsVersion::V1_3),
        )
    }

    /// The certificate and key, read now.
    fn certified_key(
        &self,
        provider: &CryptoProvider,
    ) -> Result<CertifiedKey, (&'static str, String)> {
        let chain = read_pem("certificate", &self.cert_file, &self.cert_pem)
            .map_err(|e| ("cert_file", describe(&e, &self.cert_file)))?
            .unwrap_or_default();
        let chain = certificates("certificate", &chain).map_err(|_| {
            (
                "cert_file",
                format!("{:?} holds no certificate", self.cert_file),
            )
        })?;
        let key = read_pem("private key", &self.key_file, self.key_pem.expose())
            .map_err(|e| ("key_file", describe(&e, &self.key_file)))?
            .unwrap_or_default();
        let key = PrivateKeyDer::from_pem_slice(&key).map_err(|e| {
            (
                "key_file",
                format!("{:?} holds no usable private key: {e}", self.key_file),
            )
        })?;
        let signing = provider
            .key_provider
            .load_private_key(key)
            .map_err(|e| ("key_file", format!("unusable private key: {e}")))?;
        let certified = CertifiedKey::new(chain, signing);
        certified
            .keys_match()
            .map_err(|e| ("cert_file", format!("certificate and key do not fit: {e}")))?;
        Ok(certified)
    }
}

fn describe(error: &TlsError, path: &str) -> String {
    match error {
        TlsError::Read { source, .. } => format!("cannot read {path:?}: {source}"),
        other => other.to_string(),
    }
}

/// The server's certificate, swapped for a fresh read every `reload_interval`.
struct ReloadingCert {
    current: ArcSwap<CertifiedKey>,
}

impl fmt::Debug for ReloadingCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReloadingCert")
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

/// Re-reads the certificate every `interval` while the server holds `cert`; stops once the
/// server (and with it the last strong reference) is gone. A read that fails keeps the
/// certificate in use and logs why.
async fn reload(
    config: TlsServerConfig,
    provider: Arc<CryptoProvider>,
    cert: Weak<ReloadingCert>,
    path: String,
) {
    let mut ticks = tokio::time::interval(config.reload_interval);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        if cert.strong_count() == 0 {
            return;
        }
        let (read_config, read_provider) = (config.clone(), Arc::clone(&provider));
        let read =
            tokio::task::spawn_blocking(move || read_config.certified_key(&read_provider)).await;
        let Some(cert) = cert.upgrade() else { return };
        match read {
            Ok(Ok(key)) => {
                cert.current.store(Arc::new(key));
                tracing::debug!(tls = %path, "TLS certificate reloaded");
            }
            Ok(Err((key, message))) => {
                tracing::warn!(tls = %path, "{key}: {message}; keeping the certificate in use");
            }
            Err(error) => tracing::warn!(tls = %path, %error, "TLS certificate reload failed"),
        }
    }
}

/// Builds the TLS acceptor `config` describes, reading its files now (on a blocking
/// thread). `path` is the config path of the `tls` section, for error messages; `alpn`
/// lists the application protocols offered. With `reload_interval`, a task re-reads the
/// certificate for as long as the acceptor lives.
pub async fn acceptor(
    config: &TlsServerConfig,
    path: &str,
    alpn: &[&[u8]],
) -> Result<TlsAcceptor, ComponentError> {
    let fail = |key: &str, what: String| ComponentError::new(format!("{path}::{key}: {what}"));
    let provider = Arc::new(
        provider(&config.cipher_suites, &config.curve_preferences)
            .map_err(|e| fail("cipher_suites", e.to_string()))?,
    );
    let (read_config, read_provider) = (config.clone(), Arc::clone(&provider));
    let certified = tokio::task::spawn_blocking(move || read_config.certified_key(&read_provider))
        .await
        .map_err(|e| fail("cert_file", e.to_string()))?
        .map_err(|(key, message)| fail(key, message))?;
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&versions(config.min_version, config.max_version))
        .map_err(|e| fail("min_version", e.to_string()))?;
    let builder = if config.client_ca_file.is_empty() {
        builder.with_no_client_auth()
    } else {
        let verifier = client_verifier(&config.client_ca_file, Arc::clone(&provider))
            .await
            .map_err(|e| fail("client_ca_file", e))?;
        builder.with_client_cert_verifier(verifier)
    };
    let cert = Arc::new(ReloadingCert {
        current: ArcSwap::from_pointee(certified),
    });
    let mut server = builder.with_cert_resolver(Arc::clone(&cert) as _);
    server.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    if !config.reload_interval.is_zero() {
        tokio::spawn(reload(
            config.clone(),
            provider,
            Arc::downgrade(&cert),
            path.to_string(),
        ));
    }
    Ok(TlsAcceptor::from(Arc::new(server)))
}

/// A verifier accepting client certificates signed by a CA in `ca_file`.
async fn client_verifier(
    ca_file: &str,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, String> {
    let pem = tokio::fs::read(ca_file)
        .await
        .map_err(|e| format!("cannot read {ca_file:?}: {e}"))?;
    let mut roots = RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| format!("{ca_file:?}: invalid PEM: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("{ca_file:?}: unusable CA certificate: {e}"))?;
    }
    if roots.is_empty() {
        return Err(format!("{ca_file:?} holds no certificate"));
    }
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| format!("{ca_file:?}: {e}"))
}
