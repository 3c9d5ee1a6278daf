//! The running zpages server.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::config::Config;
use super::pages::{self, TracezQuery};
use super::spans::SpanStore;
use crate::component::{
    BuildInfo, Component, ComponentError, CreateError, CreateSettings, Extension, Host,
};
use crate::server::RunningServer;
use crate::service::ServiceHealth;
use crate::telemetry::{MetricsRegistry, SinkRegistration};

/// The `zpages` extension: serves pages about the running collector.
pub struct ZPages {
    config: Config,
    settings: CreateSettings,
    serving: Mutex<Option<Serving>>,
}

struct Serving {
    local: SocketAddr,
    server: RunningServer,
    /// Keeps the span store fed while serving.
    _spans: SinkRegistration,
}

impl std::fmt::Debug for ZPages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZPages")
            .field("id", self.settings.id())
            .field("endpoint", &self.config.server.endpoint)
            .finish_non_exhaustive()
    }
}

/// What the pages read.
struct Sources {
    build: BuildInfo,
    health: ServiceHealth,
    gates: &'static tributary_featuregate::Registry,
    spans: Arc<SpanStore>,
    metrics: MetricsRegistry,
    expvar: bool,
}

impl Sources {
    fn answer(&self, uri: &Uri) -> Response {
        let html =
            |body: String| ([(CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
        match uri.path() {
            "/debug/servicez" => html(pages::servicez(&self.build, &self.health)),
            "/debug/pipelinez" => html(pages::pipelinez(&self.health)),
            "/debug/extensionz" => html(pages::extensionz(&self.health)),
            "/debug/featurez" => html(pages::featurez(self.gates)),
            "/debug/tracez" => html(pages::tracez(&self.spans, &TracezQuery::parse(uri.query()))),
            "/debug/expvarz" if self.expvar => {
                let mut vars = serde_json::Map::new();
                vars.insert(
                    "cmdline".into(),
                    std::env::args().collect::<Vec<_>>().into(),
                );
                for metric in self.metrics.snapshot() {
                    let total: f64 = metric.series.iter().map(|(_, v)| v).sum();
                    vars.insert(metric.name, total.into());
                }
                (
                    [(CONTENT_TYPE, "application/json; charset=utf-8")],
                    serde_json::Value::Object(vars).to_string(),
                )
                    .into_response()
            }
            _ => (StatusCode::NOT_FOUND, "404 page not found\n").into_response(),
        }
    }
}

impl ZPages {
    pub(crate) fn new(settings: &CreateSettings, config: &Config) -> Result<Self, CreateError> {
        Ok(ZPages {
            config: config.clone(),
            settings: settings.clone(),
            serving: Mutex::new(None),
        })
    }

    /// The address zpages listens on while it is started.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.serving().as_ref().map(|s| s.local)
    }

    fn serving(&self) -> std::sync::MutexGuard<'_, Option<Serving>> {
        self.serving.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl Component for ZPages {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        let Some(health) = host.service::<ServiceHealth>().map(|h| (*h).clone()) else {
            return Err(ComponentError::new(
                "zpages needs a collector to report on: its host offers no service health",
            ));
        };
        if self.serving().is_some() {
            return Err(ComponentError::new("zpages is already started"));
        }
        let spans = Arc::new(SpanStore::default());
        let registration = self
            .settings
            .metrics()
            .tracer()
            .add_sink(Arc::clone(&spans) as _);
        let sources = Arc::new(Sources {
            build: self.settings.build_info().clone(),
            health,
            gates: self.settings.feature_gates(),
            spans,
            metrics: self.settings.metrics().clone(),
            expvar: self.config.expvar.enabled,
        });
        let router = Router::new().fallback(move |uri: Uri| {
            let sources = Arc::clone(&sources);
            async move { sources.answer(&uri) }
        });
        let (server, local) = self
            .config
            .server
            .serve(&self.settings, host, "zpages", router)
            .await?;
        let lost_race = {
            let mut serving = self.serving();
            if serving.is_some() {
                Some(server)
            } else {
                self.settings.span().in_scope(|| {
                    tracing::info!(
                        endpoint = %local,
                        "zpages serving at http://{local}/debug/servicez"
                    );
                });
                *serving = Some(Serving {
                    local,
                    server,
                    _spans: registration,
                });
                None
            }
        };
        if let Some(server) = lost_race {
            // A concurrent start won: this server goes away again.
            server.stop().await;
            return Err(ComponentError::new("zpages is already started"));
        }
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        let Some(serving) = self.serving().take() else {
            return Ok(());
        };
        serving.server.stop().await;
        Ok(())
    }
}

impl Extension for ZPages {}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::component::{Kind, load_config};

    async fn get(addr: SocketAddr, path: &str, headers: &str) -> String {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: z\r\nConnection: close\r\n{headers}\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        answer
    }

    /// zpages takes Go's whole HTTP server block: here auth and response headers.
    #[tokio::test]
    async fn the_http_server_block_applies_auth_and_response_headers() {
        let config: Config = load_config(
            "{ endpoint: 127.0.0.1:0, auth: { bearer_token: s3cret }, response_headers: { X-Page: z } }",
        )
        .unwrap();
        let settings = CreateSettings::standalone(Kind::Extension, "zpages".parse().unwrap(), None);
        let zpages = ZPages::new(&settings, &config).unwrap();
        let host = Host::default().with_service(Arc::new(ServiceHealth::default()));
        zpages.start(&host).await.unwrap();
        let addr = zpages.local_addr().unwrap();

        let refused = get(addr, "/debug/servicez", "").await;
        assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
        assert!(
            refused.to_ascii_lowercase().contains("x-page: z"),
            "{refused}"
        );
        let page = get(addr, "/debug/servicez", "Authorization: Bearer s3cret\r\n").await;
        assert!(page.starts_with("HTTP/1.1 200"), "{page}");
        assert!(page.to_ascii_lowercase().contains("x-page: z"), "{page}");
        zpages.shutdown().await.unwrap();
    }
}
