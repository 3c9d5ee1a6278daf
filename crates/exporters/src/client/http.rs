//! The reqwest client of the HTTP exporters, built from the shared HTTP client block.

use std::time::Duration;

use tributary_pipeline_core::component::ComponentError;
use tributary_pipeline_core::confighttp::HttpClientConfig;

/// Builds the HTTP client `settings` describe: pooled connections, TLS (files are read
/// now: call it at start), default headers, user agent, proxy; `timeout` is the attempt
/// deadline that also bounds connecting unless `dialer::timeout` is set.
pub(crate) fn http_client(
    settings: &HttpClientConfig,
    timeout: Duration,
    user_agent: String,
) -> Result<reqwest::Client, ComponentError> {
    let tls = settings
        .tls
        .rustls_config(settings.alpn())
        .map_err(|e| ComponentError::with_source("tls", e))?;
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .user_agent(user_agent)
        .default_headers(settings.headers.to_header_map())
        .pool_idle_timeout(settings.idle_timeout())
        .pool_max_idle_per_host(settings.idle_per_host())
        .cookie_store(settings.cookies.enabled);
    if !settings.force_attempt_http2 {
        builder = builder.http1_only();
    }
    if let Some(timeout) = settings.dialer.connect_timeout(timeout) {
        builder = builder.connect_timeout(timeout);
    }
    if let Some((interval, timeout)) = settings.http2_pings() {
        builder = builder
            .http2_keep_alive_interval(interval)
            .http2_keep_alive_timeout(timeout);
    }
    if !settings.proxy_url.is_empty() {
        // reqwest's error would quote the URL, credentials and all.
        let proxy = reqwest::Proxy::all(settings.proxy_url.expose()).map_err(|e| {
            ComponentError::with_source(
                format!("proxy_url \"{}\"", settings.proxy_url),
                e.without_url(),
            )
        })?;
        builder = builder.proxy(proxy);
    }
    builder
        .build()
        .map_err(|e| ComponentError::with_source("building the HTTP client", e))
}
