//! The HTTP client of scrapes and `http_sd_configs`: Prometheus's `tls_config` on the
//! shared rustls setup, redirects, HTTP/2, and `basic_auth` / `authorization` per request.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::HeaderValue;
use http::header::AUTHORIZATION;
use tributary_pipeline_core::component::ComponentError;
use tributary_pipeline_core::configtls::{TlsClientConfig, TlsVersion};

use super::config::{Authorization, BasicAuth, TlsConfig};

/// A client for `what` (named in errors); certificate files are read now: call at start.
pub(crate) fn build_client(
    what: &str,
    t: &TlsConfig,
    follow_redirects: bool,
    enable_http2: bool,
    user_agent: &str,
) -> Result<reqwest::Client, ComponentError> {
    let tls_version = |v: &str| match v {
        "TLS12" => Some(TlsVersion::V1_2),
        "TLS13" => Some(TlsVersion::V1_3),
        _ => None,
    };
    let tls = TlsClientConfig {
        ca_file: t.ca_file.clone(),
        ca_pem: t.ca.clone(),
        cert_file: t.cert_file.clone(),
        cert_pem: t.cert.clone(),
        key_file: t.key_file.clone(),
        key_pem: t.key.clone(),
        server_name_override: t.server_name.clone(),
        insecure_skip_verify: t.insecure_skip_verify,
        min_version: tls_version(&t.min_version),
        max_version: tls_version(&t.max_version),
        ..TlsClientConfig::default()
    };
    let alpn: &[&[u8]] = if enable_http2 {
        &[b"h2", b"http/1.1"]
    } else {
        &[b"http/1.1"]
    };
    let rustls = tls
        .rustls_config(alpn)
        .map_err(|e| ComponentError::with_source(format!("{what}: tls_config"), e))?;
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(rustls)
        .user_agent(user_agent)
        .redirect(if follow_redirects {
            reqwest::redirect::Policy::limited(10)
        } else {
            reqwest::redirect::Policy::none()
        });
    if !enable_http2 {
        builder = builder.http1_only();
    }
    builder
        .build()
        .map_err(|e| ComponentError::with_source(format!("{what}: building the HTTP client"), e))
}

/// Adds the credentials to `request` (see [`credentials`]).
pub(crate) async fn authorize(
    mut request: reqwest::RequestBuilder,
    basic: Option<&BasicAuth>,
    authorization: Option<&Authorization>,
) -> Result<reqwest::RequestBuilder, String> {
    for value in credentials(basic, authorization).await? {
        request = request.header(AUTHORIZATION, value);
    }
    Ok(request)
}

/// The `Authorization` headers of `basic` and `authorization` (a configuration has at
/// most one); `*_file` credentials are read each time, so a rotated secret is picked up
/// as Prometheus does. The values are marked sensitive (kept out of debug output).
pub(crate) async fn credentials(
    basic: Option<&BasicAuth>,
    authorization: Option<&Authorization>,
) -> Result<Vec<HeaderValue>, String> {
    let mut values = Vec::new();
    if let Some(auth) = basic {
        let username = if auth.username_file.is_empty() {
            auth.username.clone()
        } else {
            read_secret(&auth.username_file).await?
        };
        let password = if auth.password_file.is_empty() {
            auth.password.expose().to_owned()
        } else {
            read_secret(&auth.password_file).await?
        };
        let encoded = BASE64.encode(format!("{username}:{password}"));
        values.push(sensitive(format!("Basic {encoded}"))?);
    }
    if let Some(auth) = authorization {
        let credentials = if auth.credentials_file.is_empty() {
            auth.credentials.expose().to_owned()
        } else {
            read_secret(&auth.credentials_file).await?
        };
        values.push(sensitive(format!("{} {credentials}", auth.kind))?);
    }
    Ok(values)
}

fn sensitive(value: String) -> Result<HeaderValue, String> {
    let mut value = HeaderValue::try_from(value)
        .map_err(|_| "credentials: not a valid HTTP header value".to_owned())?;
    value.set_sensitive(true);
    Ok(value)
}

async fn read_secret(path: &str) -> Result<String, String> {
    tokio::fs::read_to_string(path)
        .await
        .map(|s| s.trim().to_owned())
        .map_err(|e| format!("reading {path}: {e}"))
}
