//! Serving an HTTP router on an [`HttpServerConfig`]: what the health check, zpages and
//! every other small HTTP extension need, so that each takes the whole Go server block
//! (TLS, auth, response headers, limits) without writing the plumbing again.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use hyper_util::service::TowerToHyperService;

use super::HttpServerConfig;
use crate::component::{ComponentError, CreateSettings, Host};
use crate::configauth::ServerAuthenticator;
use crate::configtls::ALPN_HTTP;
use crate::server::RunningServer;

impl HttpServerConfig {
    /// Serves `router` as these settings describe: binds the endpoint (TLS, connection
    /// limits, timeouts, keep-alive), answers 401 to a request the configured `auth`
    /// refuses, and adds `response_headers` to every answer. `name` names the server in
    /// logs; `host` resolves the authenticator. Returns the running server and the
    /// address it listens on (`0.0.0.0:0` for a Unix socket).
    pub async fn serve(
        &self,
        settings: &CreateSettings,
        host: &Host,
        name: &'static str,
        router: Router,
    ) -> Result<(RunningServer, SocketAddr), ComponentError> {
        let auth = self
            .auth
            .as_ref()
            .map(|auth| auth.authenticator(host, ""))
            .transpose()?;
        let response_headers = self.response_header_map();
        let router = router.layer(middleware::from_fn(move |request: Request, next: Next| {
            let auth = auth.clone();
            let response_headers = response_headers.clone();
            async move {
                // The headers alone cross the await: a request's body is not `Sync`.
                let headers = request.headers().clone();
                let mut response = match authenticate(auth.as_deref(), &headers).await {
                    Ok(()) => next.run(request).await,
                    Err(refusal) => refusal,
                };
                response.headers_mut().extend(response_headers);
                response
            }
        }));
        // A host name is looked up now, as the Go Collector does when it listens.
        let (listener, options) = self.bind(settings, "", ALPN_HTTP).await?;
        let local = listener
            .local_addr()
            .map_err(|e| ComponentError::with_source("cannot read the bound address", e))?;
        let server = RunningServer::spawn(
            name,
            listener,
            options,
            TowerToHyperService::new(router),
            settings.span().clone(),
            |task| settings.spawn(task),
        )
        .map_err(|e| ComponentError::with_source("cannot serve", e))?;
        Ok((server, local))
    }
}

/// `Ok` when no authenticator is configured or it accepts the request's headers; else the
/// 401 answer saying why.
async fn authenticate(
    auth: Option<&dyn ServerAuthenticator>,
    headers: &HeaderMap,
) -> Result<(), Response> {
    match auth {
        None => Ok(()),
        Some(auth) => auth
            .authenticate(headers)
            .await
            .map_err(|error| (StatusCode::UNAUTHORIZED, format!("{error}\n")).into_response()),
    }
}
