use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderValue};

use super::factory;
use super::htpasswd::{Hash, md5_crypt, parse_into};
use crate::component::{ComponentConfig, Host, Kind, load_config};
use crate::configauth::{AuthConfig, AuthError};
use crate::pdata::Traces;
use crate::testing::{check_extension, settings};

async fn started(yaml: &str) -> Host {
    let config: super::Config = load_config(yaml).unwrap();
    config.validate().unwrap();
    let extension = factory()
        .create(&settings::<Traces>(Kind::Extension, "basicauth"), &config)
        .unwrap();
    let host = Host::new([("basicauth".parse().unwrap(), Arc::clone(&extension))]);
    extension.start(&host).await.unwrap();
    host
}

fn basic(user: &str, password: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let value = format!("Basic {}", STANDARD.encode(format!("{user}:{password}")));
    headers.insert("authorization", HeaderValue::from_str(&value).unwrap());
    headers
}

#[tokio::test]
async fn passes_the_conformance_suite() {
    check_extension(factory(), "client_auth: {username: u, password: p}").await;
    check_extension(factory(), "htpasswd: {inline: \"u:p\"}").await;
}

#[test]
fn md5_crypt_matches_openssl() {
    // `openssl passwd -apr1 -salt s4lt secret`, `openssl passwd -1 -salt abcdefgh "pass word"`
    assert_eq!(
        md5_crypt("secret", "s4lt", "$apr1$"),
        "$apr1$s4lt$dd.Ua3J4x4/X73gGcJ2oB1"
    );
    assert_eq!(
        md5_crypt("pass word", "abcdefgh", "$1$"),
        "$1$abcdefgh$yTpYrEJJOuAsO2Aee15/D1"
    );
}

#[tokio::test]
async fn a_server_checks_every_supported_hash() {
    let bcrypt = bcrypt::hash("b-pass", 4).unwrap();
    let inline = format!(
        "# users\nplain:p-pass\nsha:{{SHA}}5en6G6MezRroT3XKqkdPOmY/BfQ=\n\
         apr:$apr1$s4lt$dd.Ua3J4x4/X73gGcJ2oB1\nbc:{bcrypt}\n"
    );
    let yaml = format!("htpasswd:\n  inline: {inline:?}");
    let host = started(&yaml).await;
    let auth = AuthConfig::new("basicauth").server(&host).unwrap();
    for (user, password) in [
        ("plain", "p-pass"),
        ("sha", "secret"),
        ("apr", "secret"),
        ("bc", "b-pass"),
    ] {
        assert_eq!(
            auth.authenticate(&basic(user, password)).await,
            Ok(()),
            "{user}"
        );
        assert!(
            matches!(
                auth.authenticate(&basic(user, "wrong")).await,
                Err(AuthError::Invalid(_))
            ),
            "{user}"
        );
    }
    assert!(auth.authenticate(&basic("nobody", "p-pass")).await.is_err());
    assert!(matches!(
        auth.authenticate(&HeaderMap::new()).await,
        Err(AuthError::Missing(_))
    ));
    // A basicauth server is no client authenticator.
    assert!(AuthConfig::new("basicauth").client(&host).is_err());
}

#[tokio::test]
async fn inline_lines_win_over_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(".htpasswd");
    std::fs::write(&file, "alice:from-file\nbob:bob-pass\n").unwrap();
    let yaml = format!(
        "htpasswd:\n  file: {:?}\n  inline: \"alice:from-inline\"",
        file.to_str().unwrap()
    );
    let host = started(&yaml).await;
    let auth = AuthConfig::new("basicauth").server(&host).unwrap();
    assert_eq!(
        auth.authenticate(&basic("alice", "from-inline")).await,
        Ok(())
    );
    assert!(
        auth.authenticate(&basic("alice", "from-file"))
            .await
            .is_err()
    );
    assert_eq!(auth.authenticate(&basic("bob", "bob-pass")).await, Ok(()));
}

#[tokio::test]
async fn a_client_sends_basic_credentials() {
    let host = started("client_auth: {username: collector, password: s3cret}").await;
    let client = AuthConfig::new("basicauth").client(&host).unwrap();
    let mut headers = HeaderMap::new();
    client.authorize(&mut headers, None).await.unwrap();
    assert_eq!(headers, {
        let mut expected = basic("collector", "s3cret");
        expected
            .get_mut("authorization")
            .unwrap()
            .set_sensitive(true);
        expected
    });
    assert!(AuthConfig::new("basicauth").server(&host).is_err());
}

#[test]
fn unsupported_schemes_are_refused_naming_the_line() {
    let mut users = Default::default();
    let error = parse_into(&mut users, "a:p\nb:$6$salt$hash", "inline").unwrap_err();
    assert!(
        error.starts_with("inline:2: unsupported hash scheme $6$"),
        "{error}"
    );
    assert!(parse_into(&mut users, "no-colon", "f").is_err());
    assert!(matches!(Hash::clone(&users["a"]), Hash::Plain(_)));
}

#[test]
fn validation_wants_one_role() {
    let error = |yaml: &str| load_config::<super::Config>(yaml).unwrap_err();
    assert!(error("{}").to_string().contains("htpasswd"));
    assert_eq!(
        error("htpasswd: {inline: \"a:b\"}\nclient_auth: {username: a}").path(),
        "client_auth"
    );
    assert_eq!(error("htpasswd: {}").path(), "htpasswd");
    assert_eq!(
        error("client_auth: {username: \"a:b\"}").path(),
        "client_auth::username"
    );
}
