//! `auth: {authenticator: <id>}`: the receiver checks each request with the named
//! authenticator extension, on both protocols.

use ::http::header::CONTENT_TYPE;
use reqwest::StatusCode;
use tonic::Code;
use tributary_pipeline_core::component::{Extension, load_config};
use tributary_pipeline_core::extensions::{basicauth, bearertokenauth};
use tributary_pipeline_core::pdata::Traces;
use tributary_pipeline_core::testing;

use super::grpc::{channel, export_traces};
use super::*;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::trace_service_client::TraceServiceClient;

const JSON: &str = "application/json";

/// A host offering `bearertokenauth` (token `s3cret`) and `basicauth` (user `alice`,
/// password `wonderland`), started.
async fn host() -> Host {
    let bearer: Arc<dyn Extension> = bearertokenauth::factory()
        .create(
            &testing::settings::<Traces>(Kind::Extension, "bearertokenauth"),
            &load_config("token: s3cret").unwrap(),
        )
        .unwrap();
    let basic: Arc<dyn Extension> = basicauth::factory()
        .create(
            &testing::settings::<Traces>(Kind::Extension, "basicauth"),
            &load_config("htpasswd: {inline: \"alice:wonderland\"}").unwrap(),
        )
        .unwrap();
    let host = Host::new([
        ("bearertokenauth".parse().unwrap(), Arc::clone(&bearer)),
        ("basicauth".parse().unwrap(), Arc::clone(&basic)),
    ]);
    bearer.start(&host).await.unwrap();
    basic.start(&host).await.unwrap();
    host
}

const YAML: &str = "
protocols:
  grpc:
    endpoint: 127.0.0.1:0
    auth:
      authenticator: basicauth
  http:
    endpoint: 127.0.0.1:0
    auth:
      authenticator: bearertokenauth
";

#[tokio::test]
async fn each_protocol_checks_its_authenticator() {
    let harness = Harness::start_on(YAML, &Signal::ALL, &host().await).await;

    let url = harness.grpc_url().await;
    let status = export_traces(&url, traces(1)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    // "alice:wonderland" and "alice:wrong", base64.
    for (credentials, accepted) in [
        ("Basic YWxpY2U6d29uZGVybGFuZA==", true),
        ("Basic YWxpY2U6d3Jvbmc=", false),
        ("Bearer s3cret", false),
    ] {
        let mut request = tonic::Request::new(traces(1));
        request
            .metadata_mut()
            .insert("authorization", credentials.parse().unwrap());
        let outcome = TraceServiceClient::new(channel(&url).await)
            .export(request)
            .await;
        match outcome {
            Ok(_) => assert!(accepted, "{credentials} was accepted"),
            Err(status) => {
                assert!(!accepted, "{credentials}: {status:?}");
                assert_eq!(status.code(), Code::Unauthenticated);
            }
        }
    }

    let url = harness.http_url("/v1/traces").await;
    let client = reqwest::Client::new();
    for (credentials, status) in [
        (None, StatusCode::UNAUTHORIZED),
        (
            Some("Basic YWxpY2U6d29uZGVybGFuZA=="),
            StatusCode::UNAUTHORIZED,
        ),
        (Some("Bearer s3cret"), StatusCode::OK),
    ] {
        let mut request = client
            .post(&url)
            .header(CONTENT_TYPE, JSON)
            .body(serde_json::to_vec(&traces(1)).unwrap());
        if let Some(credentials) = credentials {
            request = request.header("authorization", credentials);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status, "{credentials:?}");
    }
    assert_eq!(harness.traces.accepted_items(), 2);
    harness.shutdown().await;
}

#[tokio::test]
async fn a_missing_or_wrong_kind_of_authenticator_fails_start() {
    for (authenticator, expected) in [
        (
            "bearertokenauth/other",
            "no extension \"bearertokenauth/other\"",
        ),
        ("headers_setter", "no extension \"headers_setter\""),
    ] {
        let yaml = format!(
            "protocols: {{http: {{endpoint: 127.0.0.1:0, auth: {{authenticator: {authenticator}}}}}}}"
        );
        let harness = Harness::create(&yaml, &[Signal::Traces]).unwrap();
        let error = harness.receivers[0]
            .1
            .start(&host().await)
            .await
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains(&format!("protocols::http::auth::authenticator: {expected}")),
            "{error}"
        );
    }
    // basicauth configured as a client offers no server authenticator.
    let client: Arc<dyn Extension> = basicauth::factory()
        .create(
            &testing::settings::<Traces>(Kind::Extension, "basicauth"),
            &load_config("client_auth: {username: a, password: b}").unwrap(),
        )
        .unwrap();
    let host = Host::new([("basicauth".parse().unwrap(), client)]);
    let harness = Harness::create(
        "protocols: {grpc: {endpoint: 127.0.0.1:0, auth: {authenticator: basicauth}}}",
        &[Signal::Traces],
    )
    .unwrap();
    let error = harness.receivers[0].1.start(&host).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("\"basicauth\" is not a server authenticator"),
        "{error}"
    );
}

#[test]
fn authenticator_and_bearer_token_exclude_each_other() {
    let error =
        try_config("protocols: {http: {auth: {authenticator: bearertokenauth, bearer_token: x}}}")
            .unwrap_err();
    assert!(
        error.contains(
            "protocols::http::auth::bearer_token: set either authenticator or bearer_token"
        ),
        "{error}"
    );
    let error = try_config("protocols: {http: {auth: {}}}").unwrap_err();
    assert!(
        error.contains("protocols::http::auth::authenticator"),
        "{error}"
    );
    let error = try_config("protocols: {http: {auth: {authenticator: \"bad id!\"}}}").unwrap_err();
    assert!(
        error.contains("protocols::http::auth::authenticator"),
        "{error}"
    );
}
