//! TLS for the receiver's servers: a rustls server configuration (aws-lc-rs provider, as
//! everywhere in the workspace) built from the PEM files a [`TlsConfig`] names.

use std::sync::Arc;

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio_rustls::TlsAcceptor;
use tributary_pipeline_core::component::ComponentError;

use super::config::TlsConfig;

/// ALPN protocols for gRPC: HTTP/2 only.
pub(crate) const ALPN_GRPC: &[&[u8]] = &[b"h2"];
/// ALPN protocols for OTLP/HTTP: HTTP/2 preferred, HTTP/1.1 accepted.
pub(crate) const ALPN_HTTP: &[&[u8]] = &[b"h2", b"http/1.1"];

/// Builds the TLS acceptor `config` describes, reading its files now. `path` is the
/// config path of the `tls` section, for error messages; `alpn` lists the application
/// protocols offered.
pub(crate) async fn acceptor(
    config: &TlsConfig,
    path: &str,
    alpn: &[&[u8]],
) -> Result<TlsAcceptor, ComponentError> {
    let fail = |key: &str, what: String| ComponentError::new(format!("{path}::{key}: {what}"));

    let pem = read(&config.cert_file)
        .await
        .map_err(|e| fail("cert_file", e))?;
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            fail(
                "cert_file",
                format!("{:?}: invalid PEM: {e}", config.cert_file),
            )
        })?;
    if chain.is_empty() {
        return Err(fail(
            "cert_file",
            format!("{:?} holds no certificate", config.cert_file),
        ));
    }

    let pem = read(&config.key_file)
        .await
        .map_err(|e| fail("key_file", e))?;
    let key = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        fail(
            "key_file",
            format!("{:?} holds no usable private key: {e}", config.key_file),
        )
    })?;

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = match config.versions() {
        (2, 2) => &[&rustls::version::TLS12],
        (3, 3) => &[&rustls::version::TLS13],
        _ => &[&rustls::version::TLS13, &rustls::version::TLS12],
    };
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(versions)
        .map_err(|e| fail("min_version", e.to_string()))?;

    let builder = if config.client_ca_file.is_empty() {
        builder.with_no_client_auth()
    } else {
        let verifier = client_verifier(&config.client_ca_file, provider)
            .await
            .map_err(|e| fail("client_ca_file", e))?;
        builder.with_client_cert_verifier(verifier)
    };

    let mut server = builder
        .with_single_cert(chain, key)
        .map_err(|e| fail("cert_file", format!("certificate and key do not fit: {e}")))?;
    server.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(TlsAcceptor::from(Arc::new(server)))
}

/// A verifier accepting client certificates signed by a CA in `ca_file`.
async fn client_verifier(
    ca_file: &str,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, String> {
    let pem = read(ca_file).await?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
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

async fn read(path: &str) -> Result<Vec<u8>, String> {
    tokio::fs::read(path)
        .await
        .map_err(|e| format!("cannot read {path:?}: {e}"))
}
