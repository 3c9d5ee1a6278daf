//! The HTTP server of a receiver that answers every path with one handler: started once at
//! `start`, stopped at `shutdown`, its address kept for tests.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::Router;
use axum::extract::Request;
use axum::response::Response;
use tributary_pipeline_core::confighttp::HttpServerConfig;
use tributary_pipeline_core::prelude::*;
use tributary_pipeline_core::server::RunningServer;

/// What answers every request a receiver's server takes, whatever its path (as Go's
/// handlers do: clients post to whatever URL they were given).
#[async_trait]
pub(crate) trait Answer: Send + Sync + 'static {
    /// The response to `request`.
    async fn answer(&self, request: Request) -> Response;
}

/// A receiver's HTTP server: none until started, none again after shutdown.
#[derive(Default)]
pub(crate) struct ReceiverServer {
    /// Held across `start` so two starts cannot both serve.
    running: tokio::sync::Mutex<Option<RunningServer>>,
    local_addr: Mutex<Option<SocketAddr>>,
}

impl ReceiverServer {
    /// Serves every path with `intake` as `config` says, naming the server `name` in its
    /// logs; the address it listens on is returned. A second start before shutdown is
    /// refused.
    pub(crate) async fn start(
        &self,
        config: &HttpServerConfig,
        settings: &CreateSettings,
        host: &Host,
        name: &'static str,
        intake: Arc<impl Answer>,
    ) -> Result<SocketAddr, ComponentError> {
        let mut running = self.running.lock().await;
        if running.is_some() {
            return Err(ComponentError::new(format!(
                "the {} receiver is already started",
                settings.id().component_type()
            )));
        }
        let router = Router::new().fallback(move |request: Request| {
            let intake = Arc::clone(&intake);
            async move { intake.answer(request).await }
        });
        let (server, addr) = config.serve(settings, host, name, router).await?;
        *running = Some(server);
        *self.local_addr.lock().unwrap_or_else(|e| e.into_inner()) = Some(addr);
        Ok(addr)
    }

    /// Stops the server, if it runs, and waits for it.
    pub(crate) async fn stop(&self) {
        if let Some(server) = self.running.lock().await.take() {
            server.stop().await;
        }
    }

    /// The address the server listens on, once started.
    #[cfg(test)]
    pub(crate) fn local_addr(&self) -> Option<SocketAddr> {
        *self.local_addr.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// An HTTP answer other than success, as plain text: a status, the reason, and the delay
/// a throttled or busy client is told to wait (`Retry-After`).
#[cfg(any(feature = "prometheusremotewrite", feature = "deepflow"))]
pub(crate) struct TextRefusal {
    pub(crate) status: http::StatusCode,
    pub(crate) message: String,
    pub(crate) retry_after: Option<std::time::Duration>,
}

#[cfg(any(feature = "prometheusremotewrite", feature = "deepflow"))]
impl TextRefusal {
    /// A refusal with no retry delay.
    pub(crate) fn new(status: http::StatusCode, message: impl Into<String>) -> Self {
        TextRefusal {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The response: the reason and a newline, `text/plain`, and `Retry-After` if set.
    pub(crate) fn into_response(self) -> Response {
        let mut response = Response::new(axum::body::Body::from(self.message + "\n"));
        *response.status_mut() = self.status;
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        if let Some(delay) = self.retry_after {
            super::refusal::set_retry_after(response.headers_mut(), delay);
        }
        response
    }
}
