//! TLS and mutual TLS on both protocols, and TLS files that cannot be used.

use prost::Message;
use reqwest::StatusCode;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use tributary_pipeline_core::pdata::Signal;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::trace_service_client::TraceServiceClient;

use super::*;

fn read(name: &str) -> Vec<u8> {
    std::fs::read(testdata(name)).expect("test file exists")
}

/// Both protocols over TLS with the test server certificate; `extra` adds lines to each
/// `tls` section.
fn tls_yaml(extra: &str) -> String {
    let tls = format!(
        "\n    tls:\n      cert_file: {}\n      key_file: {}{extra}",
        testdata("tls/server.pem"),
        testdata("tls/server.key"),
    );
    format!(
        "protocols:\n  grpc:\n    endpoint: 127.0.0.1:0{tls}\n  http:\n    endpoint: 127.0.0.1:0{tls}\n"
    )
}

fn client_ca() -> String {
    format!("\n      client_ca_file: {}", testdata("tls/ca.pem"))
}

async fn grpc_client(
    harness: &Harness,
    identity: bool,
) -> Result<TraceServiceClient<Channel>, tonic::transport::Error> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(read("tls/ca.pem")))
        .domain_name("localhost");
    if identity {
        tls = tls.identity(Identity::from_pem(
            read("tls/client.pem"),
            read("tls/client.key"),
        ));
    }
    let url = format!("https://{}", harness.grpc_addr().await);
    let channel = Channel::from_shared(url)
        .expect("valid URL")
        .tls_config(tls)?
        .connect()
        .await?;
    Ok(TraceServiceClient::new(channel))
}

fn http_client(identity: bool) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .tls_certs_only([
            reqwest::Certificate::from_pem(&read("tls/ca.pem")).expect("CA certificate")
        ]);
    if identity {
        let mut pem = read("tls/client.pem");
        pem.extend(read("tls/client.key"));
        builder = builder.identity(reqwest::Identity::from_pem(&pem).expect("client identity"));
    }
    builder.build().expect("client builds")
}

async fn post_https(harness: &Harness, client: &reqwest::Client) -> reqwest::Result<StatusCode> {
    let url = format!("https://{}/v1/traces", harness.http_addr().await);
    client
        .post(url)
        .header("content-type", "application/x-protobuf")
        .body(traces(1).encode_to_vec())
        .send()
        .await
        .map(|r| r.status())
}

#[tokio::test]
async fn both_protocols_serve_tls() {
    let harness = Harness::start_signals(&tls_yaml(""), &[Signal::Traces]).await;
    grpc_client(&harness, false)
        .await
        .expect("TLS connection")
        .export(traces(1))
        .await
        .expect("accepted over TLS");
    assert_eq!(
        post_https(&harness, &http_client(false)).await.unwrap(),
        StatusCode::OK
    );

    // Plaintext clients are not served.
    let plaintext = super::grpc::export_traces(&harness.grpc_url().await, traces(1)).await;
    assert!(plaintext.is_err());
    let plaintext = reqwest::Client::new()
        .post(harness.http_url("/v1/traces").await)
        .header("content-type", "application/x-protobuf")
        .body(traces(1).encode_to_vec())
        .send()
        .await;
    assert!(plaintext.is_err() || !plaintext.unwrap().status().is_success());

    assert_eq!(harness.traces.accepted_items(), 2);
    harness.shutdown().await;
}

#[tokio::test]
async fn client_certificates_are_required_with_a_client_ca() {
    let harness = Harness::start_signals(&tls_yaml(&client_ca()), &[Signal::Traces]).await;
    let without = match grpc_client(&harness, false).await {
        Ok(mut client) => client.export(traces(1)).await.is_err(),
        Err(_) => true,
    };
    assert!(without, "a gRPC client without a certificate is refused");
    assert!(post_https(&harness, &http_client(false)).await.is_err());

    grpc_client(&harness, true)
        .await
        .expect("mutual TLS connection")
        .export(traces(1))
        .await
        .expect("accepted over mutual TLS");
    assert_eq!(
        post_https(&harness, &http_client(true)).await.unwrap(),
        StatusCode::OK
    );
    assert_eq!(harness.traces.accepted_items(), 2);
    harness.shutdown().await;
}

#[tokio::test]
async fn tls_versions_can_be_restricted() {
    let yaml = tls_yaml("\n      min_version: \"1.3\"");
    let harness = Harness::start_signals(&yaml, &[Signal::Traces]).await;
    let tls12_only = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&read("tls/ca.pem")).unwrap()])
        .tls_version_max(reqwest::tls::Version::TLS_1_2)
        .build()
        .unwrap();
    assert!(post_https(&harness, &tls12_only).await.is_err());
    assert_eq!(
        post_https(&harness, &http_client(false)).await.unwrap(),
        StatusCode::OK
    );
    harness.shutdown().await;
}

#[tokio::test]
async fn unusable_tls_files_fail_the_start_and_name_the_key() {
    let cases = [
        (
            "cert_file",
            "/nonexistent/server.pem".to_string(),
            "cannot read",
        ),
        (
            "key_file",
            testdata("tls/server.pem"),
            "no usable private key",
        ),
        (
            "cert_file",
            testdata("tls/server.key"),
            "holds no certificate",
        ),
        (
            "client_ca_file",
            testdata("tls/README.md"),
            "holds no certificate",
        ),
    ];
    for (key, path, message) in cases {
        let mut tls = vec![
            ("cert_file", testdata("tls/server.pem")),
            ("key_file", testdata("tls/server.key")),
        ];
        match tls.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = path.clone(),
            None => tls.push((key, path.clone())),
        }
        let tls: String = tls
            .iter()
            .map(|(k, v)| format!("\n      {k}: {v}"))
            .collect();
        let yaml = format!("protocols:\n  grpc:\n    endpoint: 127.0.0.1:0\n    tls:{tls}\n");
        let harness = Harness::create(&yaml, &[Signal::Traces]).unwrap();
        let error = harness.receivers[0]
            .1
            .start(&Host::default())
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with(&format!("protocols::grpc::tls::{key}: ")),
            "{error}"
        );
        assert!(error.contains(message), "{error}");
    }
}
