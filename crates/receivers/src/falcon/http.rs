//! The HTTP push routes: the agent's `/v1/push` and the transfer's `/api/push`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Request, Response, StatusCode};
use tributary_pipeline_core::confighttp::HttpServerConfig;
use tributary_pipeline_core::pdata::ClientMetadata;
use tributary_pipeline_core::prelude::*;
use tributary_translator_falcon::{TransferResponse, decode_push};

use super::receiver::{Sink, now_seconds};
use crate::shared::http_server::Answer;
use crate::shared::refusal;
use crate::shared::request_body::{ReadBodyError, declared_length, read_body};

/// Which route a push came to: they answer differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    /// The agent's `/v1/push`: text answers.
    Agent,
    /// The transfer's `/api/push`: a JSON reply with the counts.
    Transfer,
}

/// Answers the push routes.
pub(crate) struct HttpIntake {
    sink: Sink,
    max_body: usize,
    read_timeout: Option<Duration>,
    include_metadata: bool,
    span: tracing::Span,
}

impl HttpIntake {
    pub(crate) fn new(sink: Sink, server: &HttpServerConfig, settings: &CreateSettings) -> Self {
        HttpIntake {
            sink,
            max_body: server.max_body_size(),
            read_timeout: server.read_timeout(),
            include_metadata: server.include_metadata,
            span: settings.span().clone(),
        }
    }
}

/// A text answer as Go's `http.Error` writes it (the message and a newline).
fn text_error(status: StatusCode, message: &str) -> Response<Body> {
    let mut response = Response::new(Body::from(format!("{message}\n")));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn json(status: StatusCode, body: &serde_json::Value) -> Response<Body> {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    response
}

#[async_trait]
impl Answer for HttpIntake {
    async fn answer(&self, request: Request<Body>) -> Response<Body> {
        // Falcon's handlers take any method, as Go's `http.HandleFunc` does.
        let route = match request.uri().path() {
            "/v1/push" => Route::Agent,
            "/api/push" => Route::Transfer,
            _ => return text_error(StatusCode::NOT_FOUND, "404 page not found"),
        };
        let started = Instant::now();
        let (blank, undecodable) = match route {
            Route::Agent => ("body is blank", "connot decode body"),
            Route::Transfer => ("blank body", "decode error"),
        };
        if declared_length(request.headers()) == Some(0) {
            return text_error(StatusCode::BAD_REQUEST, blank);
        }
        if declared_length(request.headers()).is_some_and(|n| n > self.max_body as u64) {
            return self.too_large();
        }
        let metadata = self.include_metadata.then(|| {
            let mut metadata = ClientMetadata::new();
            for (name, value) in request.headers() {
                if let Ok(value) = value.to_str() {
                    metadata.insert(name.as_str(), value);
                }
            }
            Arc::new(metadata)
        });
        let body = match read_body(request.into_body(), self.max_body, self.read_timeout).await {
            Ok(body) => body,
            Err(ReadBodyError::TooLarge) => return self.too_large(),
            Err(ReadBodyError::TimedOut) => {
                return text_error(
                    StatusCode::REQUEST_TIMEOUT,
                    "the body did not arrive within read_timeout",
                );
            }
            Err(ReadBodyError::Broken(e)) => {
                return text_error(StatusCode::BAD_REQUEST, &format!("reading the body: {e}"));
            }
        };
        if body.is_empty() {
            return text_error(StatusCode::BAD_REQUEST, blank);
        }
        let push = match decode_push(&body, now_seconds()) {
            Ok(push) => push,
            Err(error) => {
                self.span
                    .in_scope(|| tracing::debug!(%error, "refused an undecodable push"));
                return text_error(StatusCode::BAD_REQUEST, undecodable);
            }
        };
        if let Err(error) = self
            .sink
            .deliver_with(&push.items, push.invalid, metadata)
            .await
        {
            return refused(route, &error);
        }
        match route {
            Route::Agent => {
                let mut response = Response::new(Body::from("success"));
                response.headers_mut().insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                );
                response
            }
            Route::Transfer => {
                let reply = TransferResponse {
                    message: "ok".into(),
                    total: push.total,
                    invalid: push.invalid,
                    latency: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
                };
                json(
                    StatusCode::OK,
                    &serde_json::json!({"msg": "success", "data": reply}),
                )
            }
        }
    }
}

impl HttpIntake {
    fn too_large(&self) -> Response<Body> {
        text_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!(
                "request larger than the receiver's max_request_body_size ({} bytes)",
                self.max_body
            ),
        )
    }
}

/// The answer when the pipeline refused: 400 when retrying cannot help, else 503 (429
/// when throttled) with `Retry-After`. Falcon's agent answers `success` whatever happens
/// downstream; a client that checks the status learns here that its push was not taken.
fn refused(route: Route, error: &ConsumeError) -> Response<Body> {
    let status = refusal::http_status(error);
    let message = if error.is_permanent() {
        format!("the pipeline refused the data: {}", error.message())
    } else {
        format!("try again later: {}", error.message())
    };
    let mut response = match route {
        Route::Agent => text_error(status, &message),
        Route::Transfer => json(status, &serde_json::json!({"msg": message})),
    };
    if let Some(delay) = refusal::retry_after(error) {
        refusal::set_retry_after(response.headers_mut(), delay);
    }
    response
}
