use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderValue};

use super::factory;
use crate::component::{ComponentConfig, Extension, Host, Kind, load_config};
use crate::configauth::{AuthConfig, AuthError, ClientAuthenticator, ServerAuthenticator};
use crate::pdata::Traces;
use crate::testing::{check_extension, settings};

async fn started(yaml: &str) -> (Arc<dyn Extension>, Host) {
    let config: super::Config = load_config(yaml).unwrap();
    config.validate().unwrap();
    let extension = factory()
        .create(
            &settings::<Traces>(Kind::Extension, "bearertokenauth"),
            &config,
        )
        .unwrap();
    let host = Host::new([("bearertokenauth".parse().unwrap(), Arc::clone(&extension))]);
    extension.start(&host).await.unwrap();
    (extension, host)
}

fn server(host: &Host) -> Arc<dyn ServerAuthenticator> {
    AuthConfig::new("bearertokenauth").server(host).unwrap()
}

fn header(name: &str, value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
        HeaderValue::from_str(value).unwrap(),
    );
    headers
}

#[tokio::test]
async fn passes_the_conformance_suite() {
    check_extension(factory(), "token: s3cret").await;
}

#[tokio::test]
async fn a_server_accepts_only_its_tokens() {
    let (_extension, host) = started("tokens: [one, two]").await;
    let auth = server(&host);
    for good in ["Bearer one", "bearer two", "BEARER one"] {
        assert_eq!(
            auth.authenticate(&header("authorization", good)).await,
            Ok(())
        );
    }
    for bad in ["Bearer three", "Bearer on", "Basic one", "one", "Bearerone"] {
        assert!(
            matches!(
                auth.authenticate(&header("authorization", bad)).await,
                Err(AuthError::Invalid(_))
            ),
            "{bad}"
        );
    }
    assert!(matches!(
        auth.authenticate(&HeaderMap::new()).await,
        Err(AuthError::Missing(_))
    ));
}

#[tokio::test]
async fn header_and_scheme_are_configurable() {
    let (_extension, host) = started("header: x-api-key\nscheme: \"\"\ntoken: k1").await;
    let auth = server(&host);
    assert_eq!(auth.authenticate(&header("x-api-key", "k1")).await, Ok(()));
    assert!(
        auth.authenticate(&header("authorization", "Bearer k1"))
            .await
            .is_err()
    );

    let client = AuthConfig::new("bearertokenauth").client(&host).unwrap();
    let mut headers = HeaderMap::new();
    client.authorize(&mut headers, None).await.unwrap();
    assert_eq!(headers.get("x-api-key").unwrap(), "k1");
}

#[tokio::test]
async fn a_client_sends_the_first_token() {
    let (_extension, host) = started("token: s3cret").await;
    let client: Arc<dyn ClientAuthenticator> =
        AuthConfig::new("bearertokenauth").client(&host).unwrap();
    let mut headers = header("authorization", "Basic old");
    client.authorize(&mut headers, None).await.unwrap();
    assert_eq!(headers.get("authorization").unwrap(), "Bearer s3cret");
    assert!(headers.get("authorization").unwrap().is_sensitive());
}

#[tokio::test]
async fn the_token_file_is_read_again_when_it_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens");
    std::fs::write(&path, "first\n").unwrap();
    let yaml = format!("filename: {:?}\ntoken: ignored", path.to_str().unwrap());
    let (extension, host) = started(&yaml).await;
    let auth = server(&host);
    assert_eq!(
        auth.authenticate(&header("authorization", "Bearer first"))
            .await,
        Ok(())
    );
    assert!(
        auth.authenticate(&header("authorization", "Bearer ignored"))
            .await
            .is_err()
    );

    // A longer file: the size changes even where the modification time is coarse.
    std::fs::write(&path, "second-token\nthird-token\n").unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while auth
        .authenticate(&header("authorization", "Bearer third-token"))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the file was not re-read"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        auth.authenticate(&header("authorization", "Bearer first"))
            .await
            .is_err()
    );

    // An unreadable file keeps the tokens read before.
    std::fs::remove_file(&path).unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        auth.authenticate(&header("authorization", "Bearer second-token"))
            .await,
        Ok(())
    );
    extension.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_missing_token_file_fails_start() {
    let config: super::Config = load_config("filename: /nonexistent/tokens").unwrap();
    let extension = factory()
        .create(
            &settings::<Traces>(Kind::Extension, "bearertokenauth"),
            &config,
        )
        .unwrap();
    let error = extension.start(&Host::default()).await.unwrap_err();
    assert!(error.to_string().contains("filename"), "{error}");
}

#[test]
fn validation_follows_the_go_collector() {
    let error = |yaml: &str| load_config::<super::Config>(yaml).unwrap_err();
    assert!(error("{}").to_string().contains("no bearer token"));
    assert_eq!(error("token: a\ntokens: [b]").path(), "tokens");
    assert_eq!(error("token: a\nheader: \"bad header\"").path(), "header");
    assert_eq!(error("tokens: [\"\"]").path(), "tokens::0");
    assert!(load_config::<super::Config>("token: a\nextra: 1").is_err());
}
