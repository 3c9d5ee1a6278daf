//! The running pprof server, and the profile of the whole run for `save_to_file`.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tokio_util::sync::CancellationToken;

use super::config::Config;
use super::profile::{CpuProfile, ProfileError};
use crate::component::{
    Component, ComponentError, CreateError, CreateSettings, Extension, Host, check_endpoint,
};
use crate::confighttp::HttpServerConfig;
use crate::server::RunningServer;

/// The longest CPU profile one request may ask for.
const MAX_SECONDS: u64 = 600;

/// Profiles Go serves that have no counterpart here, and why.
const UNSUPPORTED: [(&str, &str); 7] = [
    (
        "heap",
        "heap profiles need a profiling allocator; this collector uses the system allocator",
    ),
    (
        "allocs",
        "allocation profiles need a profiling allocator; this collector uses the system allocator",
    ),
    ("block", "block profiles are a Go runtime feature"),
    ("mutex", "mutex profiles are a Go runtime feature"),
    ("goroutine", "goroutines are a Go runtime feature"),
    (
        "threadcreate",
        "thread creation profiles are a Go runtime feature",
    ),
    ("trace", "execution traces are a Go runtime feature"),
];

/// The `pprof` extension: CPU profiles over HTTP, and of the whole run to a file.
pub struct Pprof {
    config: Config,
    settings: CreateSettings,
    serving: Mutex<Option<Serving>>,
}

struct Serving {
    local: SocketAddr,
    server: RunningServer,
    stop: CancellationToken,
    /// The profile of the whole run, for `save_to_file`.
    whole_run: Option<CpuProfile>,
}

impl std::fmt::Debug for Pprof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pprof")
            .field("id", self.settings.id())
            .field("endpoint", &self.config.endpoint)
            .finish_non_exhaustive()
    }
}

impl Pprof {
    pub(crate) fn new(settings: &CreateSettings, config: &Config) -> Result<Self, CreateError> {
        check_endpoint(&config.endpoint).map_err(|e| CreateError::new(format!("endpoint: {e}")))?;
        Ok(Pprof {
            config: config.clone(),
            settings: settings.clone(),
            serving: Mutex::new(None),
        })
    }

    /// The address pprof listens on while it is started.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.serving().as_ref().map(|s| s.local)
    }

    fn serving(&self) -> std::sync::MutexGuard<'_, Option<Serving>> {
        self.serving.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn text(status: StatusCode, body: String) -> Response {
    (status, [(CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// `/debug/pprof/profile?seconds=N`: samples for N seconds (30 by default, as in Go).
async fn profile(uri: Uri, stop: CancellationToken) -> Response {
    let mut seconds = 30;
    for pair in uri.query().unwrap_or("").split('&') {
        if let Some(value) = pair.strip_prefix("seconds=") {
            match value.parse::<u64>() {
                Ok(n) if (1..=MAX_SECONDS).contains(&n) => seconds = n,
                _ => {
                    return text(
                        StatusCode::BAD_REQUEST,
                        format!("seconds must be an integer from 1 to {MAX_SECONDS}\n"),
                    );
                }
            }
        }
    }
    let started = match tokio::task::spawn_blocking(CpuProfile::start).await {
        Ok(Ok(profile)) => profile,
        Ok(Err(error)) => {
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("Could not enable CPU profiling: {error}\n"),
            );
        }
        Err(error) => return text(StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")),
    };
    // A shutdown ends the sampling early rather than holding the server up.
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_secs(seconds)) => {}
        _ = stop.cancelled() => {}
    }
    match tokio::task::spawn_blocking(move || started.finish()).await {
        Ok(Ok(body)) => (
            [
                (CONTENT_TYPE, "application/octet-stream"),
                (CONTENT_DISPOSITION, "attachment; filename=\"profile\""),
            ],
            body,
        )
            .into_response(),
        Ok(Err(error)) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")),
        Err(error) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")),
    }
}

fn index() -> Response {
    let mut body = String::from(
        "<!DOCTYPE html>\n<html><head><title>/debug/pprof/</title></head><body>\
         <h1>/debug/pprof/</h1><ul>\
         <li><a href=\"profile?seconds=30\">profile</a>: CPU profile (pprof protobuf, gzip); \
         <code>seconds</code> sets its length</li>\
         <li><a href=\"cmdline\">cmdline</a>: the command line</li></ul>\
         <p>Not available:</p><ul>",
    );
    for (name, why) in UNSUPPORTED {
        body.push_str(&format!("<li>{name}: {why}</li>"));
    }
    body.push_str("</ul></body></html>\n");
    ([(CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

async fn answer(uri: Uri, stop: CancellationToken) -> Response {
    let Some(name) = uri.path().strip_prefix("/debug/pprof/") else {
        return text(StatusCode::NOT_FOUND, "404 page not found\n".into());
    };
    match name {
        "" => index(),
        "profile" => profile(uri, stop).await,
        "cmdline" => text(
            StatusCode::OK,
            std::env::args().collect::<Vec<_>>().join("\0"),
        ),
        name => match UNSUPPORTED.iter().find(|(n, _)| *n == name) {
            Some((_, why)) => text(StatusCode::NOT_IMPLEMENTED, format!("{why}\n")),
            None => text(StatusCode::NOT_FOUND, "Unknown profile\n".into()),
        },
    }
}

#[async_trait]
impl Component for Pprof {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        if self.serving().is_some() {
            return Err(ComponentError::new("pprof is already started"));
        }
        let whole_run = if self.config.save_to_file.is_empty() {
            None
        } else {
            Some(
                CpuProfile::start()
                    .map_err(|e: ProfileError| ComponentError::new(format!("save_to_file: {e}")))?,
            )
        };
        let stop = CancellationToken::new();
        let stopping = stop.clone();
        let router = Router::new().fallback(move |uri: Uri| answer(uri, stopping.clone()));
        // Go's pprof takes only an endpoint (confignet's TCP address): the HTTP server
        // block's defaults around it.
        let (server, local) = HttpServerConfig::with_endpoint(&self.config.endpoint)
            .serve(&self.settings, host, "pprof", router)
            .await?;
        let lost_race = {
            let mut serving = self.serving();
            if serving.is_some() {
                Some(server)
            } else {
                self.settings.span().in_scope(|| {
                    tracing::info!(endpoint = %local, "pprof serving at http://{local}/debug/pprof/");
                });
                *serving = Some(Serving {
                    local,
                    server,
                    stop,
                    whole_run,
                });
                None
            }
        };
        if let Some(server) = lost_race {
            // A concurrent start won: this server goes away again.
            server.stop().await;
            return Err(ComponentError::new("pprof is already started"));
        }
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        let Some(serving) = self.serving().take() else {
            return Ok(());
        };
        serving.stop.cancel();
        serving.server.stop().await;
        if let Some(profile) = serving.whole_run {
            let path = self.config.save_to_file.clone();
            let written = tokio::task::spawn_blocking(move || {
                let body = profile.finish().map_err(|e| e.to_string())?;
                std::fs::write(&path, body).map_err(|e| format!("cannot write {path}: {e}"))
            })
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r);
            if let Err(error) = written {
                return Err(ComponentError::new(format!("save_to_file: {error}")));
            }
        }
        Ok(())
    }
}

impl Extension for Pprof {}
