use std::sync::Arc;

use http::{HeaderMap, HeaderValue};

use super::factory;
use crate::component::{ComponentConfig, Host, Kind, load_config};
use crate::configauth::AuthConfig;
use crate::pdata::{ClientMetadata, Traces};
use crate::testing::{check_extension, settings};

const YAML: &str = r#"
headers:
  - key: X-Scope-OrgID
    from_context: x-tenant
    default_value: anonymous
  - key: X-Source
    value: gateway
    action: insert
  - key: X-Existing
    value: replaced
    action: update
  - key: X-Missing
    value: never
    action: update
  - key: X-Debug
    action: delete
"#;

async fn host(yaml: &str) -> Host {
    let config: super::Config = load_config(yaml).unwrap();
    config.validate().unwrap();
    let extension = factory()
        .create(
            &settings::<Traces>(Kind::Extension, "headers_setter"),
            &config,
        )
        .unwrap();
    let host = Host::new([("headers_setter".parse().unwrap(), Arc::clone(&extension))]);
    extension.start(&host).await.unwrap();
    host
}

#[tokio::test]
async fn passes_the_conformance_suite() {
    check_extension(factory(), YAML).await;
}

#[tokio::test]
async fn headers_follow_the_metadata_and_the_actions() {
    let host = host(YAML).await;
    let setter = AuthConfig::new("headers_setter").client(&host).unwrap();
    assert!(AuthConfig::new("headers_setter").server(&host).is_err());

    let mut metadata = ClientMetadata::new();
    metadata.insert("X-Tenant", "acme");
    let mut headers = HeaderMap::new();
    headers.insert("x-source", HeaderValue::from_static("kept"));
    headers.insert("x-existing", HeaderValue::from_static("old"));
    headers.insert("x-debug", HeaderValue::from_static("1"));
    setter
        .authorize(&mut headers, Some(&metadata))
        .await
        .unwrap();
    assert_eq!(headers.get("x-scope-orgid").unwrap(), "acme");
    assert_eq!(headers.get("x-source").unwrap(), "kept", "insert keeps");
    assert_eq!(headers.get("x-existing").unwrap(), "replaced");
    assert!(headers.get("x-missing").is_none(), "update never adds");
    assert!(headers.get("x-debug").is_none());

    let mut headers = HeaderMap::new();
    setter.authorize(&mut headers, None).await.unwrap();
    assert_eq!(headers.get("x-scope-orgid").unwrap(), "anonymous");
    assert_eq!(headers.get("x-source").unwrap(), "gateway");
}

#[test]
fn validation_names_the_header() {
    let error = |yaml: &str| load_config::<super::Config>(yaml).unwrap_err();
    assert_eq!(error("{}").path(), "headers");
    assert_eq!(error("headers: [{key: a}]").path(), "headers::0");
    assert_eq!(
        error("headers: [{key: a, value: b, from_context: c}]").path(),
        "headers::0::from_context"
    );
    assert_eq!(
        error("headers: [{key: a, from_attribute: sub}]").path(),
        "headers::0::from_attribute"
    );
    assert_eq!(
        error("headers: [{key: \"a b\", value: c}]").path(),
        "headers::0::key"
    );
    assert!(
        load_config::<super::Config>("headers: [{key: a, action: replace, value: b}]").is_err()
    );
    load_config::<super::Config>("headers: [{key: a, action: delete}]").unwrap();
}
