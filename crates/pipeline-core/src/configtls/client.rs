//! The client side: how a client authenticates its server and itself.

use std::fmt;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use serde::Deserialize;
use std::time::Duration;

use super::{
    TlsError, TlsVersion, TpmConfig, certificates, check_common, provider, read_pem, versions,
};
use crate::component::{ConfigError, SecretString};

/// `tls` on a client: the Go Collector's `configtls.ClientConfig` keys.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `insecure` | `false` | gRPC only: connect in plaintext (an `http://` endpoint does too) |
/// | `insecure_skip_verify` | `false` | accept any server certificate (still encrypted) |
/// | `ca_file` / `ca_pem` | system roots | trust only these CAs (PEM) |
/// | `include_system_ca_certs_pool` | `false` | with `ca_file`: trust the system roots as well |
/// | `cert_file` / `cert_pem`, `key_file` / `key_pem` | none | client certificate (mutual TLS) |
/// | `server_name_override` | the endpoint's host | the name the server certificate must carry |
/// | `min_version` / `max_version` | `1.2` / `1.3` | protocol versions offered (1.0/1.1 refused: rustls does not support them) |
/// | `cipher_suites`, `curve_preferences` | rustls' | see [the module](super) |
/// | `reload_interval` | `0` | refused on clients: certificates are read at start |
/// | `tpm::enabled` | `false` | refused: rustls needs the private key in memory |
///
/// Empty strings mean "not set", as in Go. The private key is a [`SecretString`]: never
/// shown in `Debug` output or by `print-config`.
#[derive(Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsClientConfig {
    /// gRPC only: use no TLS at all.
    pub insecure: bool,
    /// Skip verifying the server's certificate chain and name.
    pub insecure_skip_verify: bool,
    /// PEM file of the CAs to trust.
    pub ca_file: String,
    /// PEM text of the CAs to trust.
    pub ca_pem: String,
    /// Trust the system's roots besides `ca_file` / `ca_pem`.
    pub include_system_ca_certs_pool: bool,
    /// PEM file of the client certificate chain.
    pub cert_file: String,
    /// PEM text of the client certificate chain.
    pub cert_pem: String,
    /// PEM file of the client private key.
    pub key_file: String,
    /// PEM text of the client private key: a secret, never shown.
    pub key_pem: SecretString,
    /// Verify the server certificate against this name instead of the endpoint's host.
    pub server_name_override: String,
    /// Lowest protocol version offered (default 1.2).
    pub min_version: Option<TlsVersion>,
    /// Highest protocol version offered (default 1.3).
    pub max_version: Option<TlsVersion>,
    /// TLS 1.2 cipher suites offered, by Go's names; empty: rustls' defaults.
    pub cipher_suites: Vec<String>,
    /// Key-exchange groups offered (`X25519`, `P256`, `P384`, `P521`, `X25519MLKEM768`);
    /// empty: rustls' defaults.
    pub curve_preferences: Vec<String>,
    /// Refused on clients: certificates are read when the client starts.
    #[serde(with = "tributary_confmap::duration")]
    pub reload_interval: Duration,
    /// Refused when enabled: see [`TpmConfig`].
    pub tpm: TpmConfig,
}

impl fmt::Debug for TlsClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsClientConfig")
            .field("insecure", &self.insecure)
            .field("insecure_skip_verify", &self.insecure_skip_verify)
            .field("ca_file", &self.ca_file)
            .field("ca_pem", &(!self.ca_pem.is_empty()).then_some("<set>"))
            .field(
                "include_system_ca_certs_pool",
                &self.include_system_ca_certs_pool,
            )
            .field("cert_file", &self.cert_file)
            .field("cert_pem", &(!self.cert_pem.is_empty()).then_some("<set>"))
            .field("key_file", &self.key_file)
            .field(
                "key_pem",
                &(!self.key_pem.is_empty()).then_some(&self.key_pem),
            )
            .field("server_name_override", &self.server_name_override)
            .field("min_version", &self.min_version)
            .field("max_version", &self.max_version)
            .field("cipher_suites", &self.cipher_suites)
            .field("curve_preferences", &self.curve_preferences)
            .field("reload_interval", &self.reload_interval)
            .field("tpm", &self.tpm)
            .finish()
    }
}

impl TlsClientConfig {
    /// Checks combinations the Go Collector checks, plus the versions rustls supports.
    /// Error paths are relative to the `tls` section.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.ca_file.is_empty() && !self.ca_pem.is_empty() {
            return Err(ConfigError::at(
                "ca_pem",
                "set either ca_file or ca_pem, not both",
            ));
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
        let has_cert = !self.cert_file.is_empty() || !self.cert_pem.is_empty();
        let has_key = !self.key_file.is_empty() || !self.key_pem.is_empty();
        if has_cert != has_key {
            let path = if has_cert { "key_file" } else { "cert_file" };
            return Err(ConfigError::at(
                path,
                "a client certificate needs both a certificate and a key",
            ));
        }
        check_common(
            self.min_version,
            self.max_version,
            &self.cipher_suites,
            &self.curve_preferences,
            &self.tpm,
        )?;
        if !self.reload_interval.is_zero() {
            return Err(ConfigError::at(
                "reload_interval",
                "not supported on clients: the certificates are read when the client starts; \
                 reload the configuration to read them again",
            ));
        }
        if !self.server_name_override.is_empty()
            && ServerName::try_from(self.server_name_override.clone()).is_err()
        {
            return Err(ConfigError::at(
                "server_name_override",
                "must be a DNS name or an IP address",
            ));
        }
        Ok(())
    }

    /// The name to verify the server certificate against, when overridden.
    pub fn server_name_override(&self) -> Option<&str> {
        (!self.server_name_override.is_empty()).then_some(self.server_name_override.as_str())
    }

    /// Builds the rustls client configuration, reading the PEM files, offering `alpn`.
    pub fn rustls_config(&self, alpn: &[&[u8]]) -> Result<ClientConfig, TlsError> {
        let provider = Arc::new(provider(&self.cipher_suites, &self.curve_preferences)?);

        let versions = versions(self.min_version, self.max_version);

        let mut verifier = self.verifier(&provider)?;
        if let Some(name) = self.server_name_override() {
            let name = ServerName::try_from(name.to_string())
                .map_err(|_| TlsError::ServerName(name.to_string()))?;
            verifier = Arc::new(VerifyAsName {
                inner: verifier,
                name,
            });
        }

        let builder = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&versions)?
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let mut config = match self.client_identity()? {
            Some((chain, key)) => builder.with_client_auth_cert(chain, key)?,
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(config)
    }

    fn verifier(
        &self,
        provider: &Arc<CryptoProvider>,
    ) -> Result<Arc<dyn ServerCertVerifier>, TlsError> {
        if self.insecure_skip_verify {
            return Ok(Arc::new(AcceptAnyServerCert {
                algorithms: provider.signature_verification_algorithms,
            }));
        }
        let cas = read_pem("CA certificates", &self.ca_file, &self.ca_pem)?;
        let Some(cas) = cas else {
            return Ok(Arc::new(rustls_platform_verifier::Verifier::new(
                provider.clone(),
            )?));
        };
        let cas = certificates("CA certificates", &cas)?;
        if self.include_system_ca_certs_pool {
            return Ok(Arc::new(
                rustls_platform_verifier::Verifier::new_with_extra_roots(cas, provider.clone())?,
            ));
        }
        let mut roots = RootCertStore::empty();
        for ca in cas {
            roots.add(ca)?;
        }
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map(|v| v as Arc<dyn ServerCertVerifier>)
            .map_err(|e| TlsError::Pem {
                what: "CA certificates",
                message: e.to_string(),
            })
    }

    fn client_identity(
        &self,
    ) -> Result<Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>, TlsError> {
        let Some(chain) = read_pem("client certificate", &self.cert_file, &self.cert_pem)? else {
            return Ok(None);
        };
        let Some(key) = read_pem("client key", &self.key_file, self.key_pem.expose())? else {
            return Ok(None);
        };
        let chain = certificates("client certificate", &chain)?;
        let key = PrivateKeyDer::from_pem_slice(&key).map_err(|e| TlsError::Pem {
            what: "client key",
            message: e.to_string(),
        })?;
        Ok(Some((chain, key)))
    }
}

/// `insecure_skip_verify`: accepts any certificate, but still checks that the server holds
/// its key (handshake signatures), as Go's `InsecureSkipVerify` does.
#[derive(Debug)]
struct AcceptAnyServerCert {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// `server_name_override`: verifies the certificate against a fixed name instead of the
/// host the connection was made to.
#[derive(Debug)]
struct VerifyAsName {
    inner: Arc<dyn ServerCertVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for VerifyAsName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }

    fn root_hint_subjects(&self) -> Option<&[rustls::DistinguishedName]> {
        self.inner.root_hint_subjects()
    }
}
