use super::*;

fn server(yaml: &str) -> Result<TlsServerConfig, ConfigError> {
    let config: TlsServerConfig = tributary_confmap::Conf::from_yaml(yaml)
        .map_err(|e| ConfigError::new(e.to_string()))?
        .decode()
        .map_err(|e| ConfigError::new(e.to_string()))?;
    config.validate().map(|()| config)
}

#[test]
fn tls_1_0_and_1_1_are_refused_saying_why() {
    let error = server("{cert_file: a, key_file: b, min_version: \"1.1\"}").unwrap_err();
    assert_eq!(error.path(), "min_version");
    assert!(
        error
            .message()
            .contains("rustls does not support TLS 1.0/1.1"),
        "{error}"
    );
    let client: Result<TlsClientConfig, _> = load_config_client("{max_version: \"1.0\"}");
    assert!(
        client
            .unwrap_err()
            .message()
            .contains("rustls does not support TLS 1.0/1.1")
    );
}

fn load_config_client(yaml: &str) -> Result<TlsClientConfig, ConfigError> {
    let config: TlsClientConfig = tributary_confmap::Conf::from_yaml(yaml)
        .map_err(|e| ConfigError::new(e.to_string()))?
        .decode()
        .map_err(|e| ConfigError::new(e.to_string()))?;
    config.validate().map(|()| config)
}

#[test]
fn tpm_keys_are_refused_saying_why() {
    let error = load_config_client("{tpm: {enabled: true, path: /dev/tpmrm0}}").unwrap_err();
    assert_eq!(error.path(), "tpm::enabled");
    assert!(
        error
            .message()
            .contains("rustls needs the private key in memory")
    );
    let error = server("{cert_file: a, key_file: b, tpm: {enabled: true}}").unwrap_err();
    assert_eq!(error.path(), "tpm::enabled");
}

#[test]
fn cipher_suites_and_curves_are_those_rustls_has() {
    server(
        "{cert_file: a, key_file: b, cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256], \
         curve_preferences: [X25519, P256]}",
    )
    .unwrap();
    let error = server("{cert_file: a, key_file: b, cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]}")
        .unwrap_err();
    assert_eq!(error.path(), "cipher_suites::0");
    assert!(
        error
            .message()
            .contains("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
        "{error}"
    );
    assert_eq!(
        server("{cert_file: a, key_file: b, curve_preferences: [P224]}")
            .unwrap_err()
            .path(),
        "curve_preferences::0"
    );
    let narrowed = provider(
        &["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".to_string()],
        &["P256".to_string()],
    )
    .unwrap();
    assert!(narrowed.cipher_suites.iter().all(|s| {
        matches!(s, rustls::SupportedCipherSuite::Tls13(_))
            || suite_name(s) == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
    }));
    assert_eq!(narrowed.kx_groups.len(), 1);
}

#[test]
fn a_server_needs_a_certificate_and_a_key_from_a_file_or_inline() {
    assert_eq!(server("{key_file: b}").unwrap_err().path(), "cert_file");
    assert_eq!(server("{cert_pem: a}").unwrap_err().path(), "key_file");
    assert_eq!(
        server("{cert_file: a, cert_pem: a, key_file: b}")
            .unwrap_err()
            .path(),
        "cert_pem"
    );
    server("{cert_pem: a, key_pem: b, reload_interval: 1h, client_ca_file: c}").unwrap();
    assert_eq!(
        server("{cert_file: a, key_file: b, reload_client_ca_file: true}")
            .unwrap_err()
            .path(),
        "reload_client_ca_file"
    );
    assert_eq!(
        load_config_client("{reload_interval: 1h}")
            .unwrap_err()
            .path(),
        "reload_interval"
    );
}

/// A self-signed certificate for `localhost` and its key, PEM.
fn self_signed() -> (String, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    (cert.cert.pem(), cert.signing_key.serialize_pem())
}

#[tokio::test]
async fn the_certificate_is_read_again_on_the_reload_interval() {
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let (first_cert, first_key) = self_signed();
    std::fs::write(&cert_path, &first_cert).unwrap();
    std::fs::write(&key_path, &first_key).unwrap();
    let config = TlsServerConfig {
        cert_file: cert_path.to_str().unwrap().into(),
        key_file: key_path.to_str().unwrap().into(),
        reload_interval: std::time::Duration::from_millis(50),
        ..TlsServerConfig::default()
    };
    let acceptor = acceptor(&config, "tls", ALPN_HTTP).await.unwrap();
    let before = served_certificate(&acceptor).await;
    assert_eq!(before, pem_der(&first_cert));
    let (second_cert, second_key) = self_signed();
    std::fs::write(&key_path, &second_key).unwrap();
    std::fs::write(&cert_path, &second_cert).unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while served_certificate(&acceptor).await != pem_der(&second_cert) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the certificate was not reloaded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn pem_der(pem: &str) -> Vec<u8> {
    certificates("certificate", pem.as_bytes()).unwrap()[0].to_vec()
}

/// The certificate `acceptor` presents in a real handshake over loopback.
async fn served_certificate(acceptor: &TlsAcceptor) -> Vec<u8> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = acceptor.clone();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let _ = acceptor.accept(stream).await;
    });
    let client = TlsClientConfig {
        insecure_skip_verify: true,
        ..TlsClientConfig::default()
    }
    .rustls_config(ALPN_HTTP)
    .unwrap();
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(client))
        .connect(name, stream)
        .await
        .unwrap();
    let served = tls.get_ref().1.peer_certificates().unwrap()[0].to_vec();
    drop(tls);
    server.await.unwrap();
    served
}

use std::sync::Arc;
use tokio_rustls::TlsAcceptor;
