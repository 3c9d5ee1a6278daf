//! The `collectd` receiver at work: an HTTP server taking `write_http` JSON posts.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::{Method, StatusCode, header};
use tributary_pipeline_core::configcompression::{self, DecompressError, Encoding, NoBudget};
use tributary_pipeline_core::prelude::*;

use super::config::Config;
use super::record::decode;
use crate::shared::http_server::{Answer, ReceiverServer};
use crate::shared::refusal;
use crate::shared::request_body::{ReadBodyError, read_body};
use tributary_pipeline_core::confighttp::percent::{Plus, decode_strict};

/// The running receiver.
pub(crate) struct CollectdReceiver {
    config: Config,
    settings: CreateSettings,
    intake: Arc<Intake>,
    server: ReceiverServer,
}

/// What every request needs.
struct Intake {
    next: Next<Metrics>,
    metrics: ReceiverMetrics,
    attributes_prefix: String,
    encodings: Vec<Encoding>,
    max_body_size: usize,
}

impl CollectdReceiver {
    pub(crate) fn new(settings: &CreateSettings, config: &Config, next: Next<Metrics>) -> Self {
        CollectdReceiver {
            config: config.clone(),
            settings: settings.clone(),
            intake: Arc::new(Intake {
                next,
                metrics: ReceiverMetrics::new(
                    settings.metrics(),
                    settings.id(),
                    "http",
                    Signal::Metrics,
                ),
                attributes_prefix: config.attributes_prefix.clone(),
                encodings: config.server.encodings(),
                max_body_size: config.server.max_body_size(),
            }),
            server: ReceiverServer::default(),
        }
    }

    /// Where the receiver listens, once started.
    #[cfg(test)]
    pub(crate) fn local_addr(&self) -> Option<std::net::SocketAddr> {
        self.server.local_addr()
    }
}

#[async_trait]
impl Component for CollectdReceiver {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        let local = self
            .server
            .start(
                &self.config.served(),
                &self.settings,
                host,
                "collectd",
                Arc::clone(&self.intake),
            )
            .await?;
        tracing::info!(endpoint = %local, "collectd receiver listening");
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.server.stop().await;
        Ok(())
    }
}

#[async_trait]
impl Answer for Intake {
    async fn answer(&self, request: Request) -> Response {
        if request.method() != Method::POST {
            return bad_request("only POST is accepted");
        }
        let attributes =
            query_attributes(request.uri().query().unwrap_or(""), &self.attributes_prefix);
        let encoding = match request.headers().get(header::CONTENT_ENCODING) {
            None => Encoding::Identity,
            Some(value) => match value.to_str().ok().and_then(Encoding::from_http) {
                Some(encoding) if self.encodings.contains(&encoding) => encoding,
                _ => return bad_request("unsupported Content-Encoding"),
            },
        };
        let body = match read_body(request.into_body(), self.max_body_size, None).await {
            Ok(body) => body,
            Err(ReadBodyError::TooLarge) => return too_large(self.max_body_size),
            Err(error) => return bad_request(&format!("cannot read the body: {error}")),
        };
        let body = match encoding {
            Encoding::Identity => body.to_vec(),
            encoding => {
                match configcompression::decompress(
                    encoding,
                    &body,
                    self.max_body_size,
                    &mut NoBudget,
                ) {
                    Ok(body) => body,
                    Err(DecompressError::TooLarge(limit)) => return too_large(limit),
                    Err(error) => return bad_request(&error.to_string()),
                }
            }
        };
        let data = match decode(&body, &attributes) {
            Ok(data) => data,
            Err(error) => {
                tracing::debug!(%error, "refusing a malformed collectd body");
                self.metrics.record_failed(1);
                return bad_request(&error.to_string());
            }
        };
        match receiverhelper::deliver(&self.next, &self.metrics, data).await {
            Ok(()) => (StatusCode::OK, "OK").into_response(),
            Err(error) => refused(&error),
        }
    }
}

/// The query parameters named with `prefix`, as attributes named without it; empty
/// values are skipped, and a name given twice keeps its first value (Go's `Get`).
pub(crate) fn query_attributes(query: &str, prefix: &str) -> Vec<(String, String)> {
    let mut attributes: Vec<(String, String)> = Vec::new();
    if prefix.is_empty() {
        return attributes;
    }
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (Some(name), Some(value)) = (percent_decode(name), percent_decode(value)) else {
            continue;
        };
        let Some(key) = name.strip_prefix(prefix) else {
            continue;
        };
        if value.is_empty() || attributes.iter().any(|(k, _)| k == key) {
            continue;
        }
        attributes.push((key.to_owned(), value));
    }
    attributes
}

/// A query component decoded as Go's `url.QueryUnescape` does (`+` is a space); `None`
/// for a malformed escape or text that is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    decode_strict(text, Plus::Space)
}

fn bad_request(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, message.to_owned()).into_response()
}

fn too_large(limit: usize) -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the request body is larger than the limit of {limit} bytes"),
    )
        .into_response()
}

/// The pipeline's refusal as HTTP: permanent 400, retryable 503, throttled 429, with
/// `Retry-After` when a delay is known.
fn refused(error: &ConsumeError) -> Response {
    let mut response = (refusal::http_status(error), error.to_string()).into_response();
    if let Some(delay) = refusal::retry_after(error) {
        // At least a second: `Retry-After: 0` would invite an immediate retry.
        refusal::set_retry_after(response.headers_mut(), delay.max(Duration::from_secs(1)));
    }
    response
}
