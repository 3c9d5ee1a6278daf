//! The HTTP front: the gateway's routes, each read into points, enriched, filtered and
//! handed to the pipeline before the answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use serde_json::json;
use tributary_pipeline_core::configcompression::{DecompressError, Encoding, NoBudget, decompress};
use tributary_pipeline_core::prelude::*;
use tributary_pipeline_core::server::PeerAddr;
use tributary_pipeline_core::telemetry::Counter;

use super::config::Config;
use super::metricbeat::parse_bulk;
use super::opentsdb::parse_opentsdb;
use super::point::{DropReason, Enrichment, Point, pre_filter, to_metrics};
use super::standard::parse_standard;
use super::tagged_route::{PathTags, TaggedImporter, path_segments, take_step};
use crate::shared::http_server::{Answer, ReceiverServer};
use crate::shared::refusal;
use crate::shared::request_body::{ReadBodyError, declared_length, read_body};

/// The `lookout` receiver: one HTTP server with every importer's routes.
pub(crate) struct LookoutReceiver {
    settings: CreateSettings,
    config: Config,
    intake: Arc<Intake>,
    server: ReceiverServer,
}

impl LookoutReceiver {
    pub(crate) fn new(settings: &CreateSettings, config: &Config, next: Next<Metrics>) -> Self {
        let server = &config.server;
        let id = settings.id().to_string();
        let dropped = DropReason::ALL.map(|reason| {
            settings.metrics().counter(
                "otelcol_receiver_lookout_dropped_points",
                "Points left out by the gateway's pre-filter: names over 200 characters, \
                 no tags or more than 20, empty or over-long tag keys, older than two days.",
                &[("receiver", id.as_str()), ("reason", reason.label())],
            )
        });
        LookoutReceiver {
            settings: settings.clone(),
            config: config.clone(),
            intake: Arc::new(Intake {
                next,
                metrics: ReceiverMetrics::new(
                    settings.metrics(),
                    settings.id(),
                    "http",
                    Signal::Metrics,
                ),
                dropped,
                max_body: server.max_body_size(),
                encodings: server.encodings(),
                read_timeout: server.read_timeout(),
                write_timeout: server.write_timeout(),
                step: config.step,
                tokens: config.tokens.clone(),
                elasticsearch_version: config.elasticsearch_version.clone(),
                span: settings.span().clone(),
            }),
            server: ReceiverServer::default(),
        }
    }

    /// The address the server listens on, once started.
    #[cfg(test)]
    pub(crate) fn local_addr(&self) -> Option<std::net::SocketAddr> {
        self.server.local_addr()
    }
}

#[async_trait]
impl Component for LookoutReceiver {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        self.server
            .start(
                &self.config.server,
                &self.settings,
                host,
                "Lookout receiver",
                Arc::clone(&self.intake),
            )
            .await?;
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.server.stop().await;
        Ok(())
    }
}

/// What a request is handled with.
struct Intake {
    next: Next<Metrics>,
    metrics: ReceiverMetrics,
    dropped: [Counter; 4],
    max_body: usize,
    encodings: Vec<Encoding>,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    step: i64,
    tokens: Vec<String>,
    elasticsearch_version: String,
    span: tracing::Span,
}

/// An answer other than success: the status, the message (in the body and, as Lookout,
/// the `Err` header) and any extra headers.
struct Refusal {
    status: StatusCode,
    message: String,
    headers: Vec<(&'static str, String)>,
    retry_after: Option<Duration>,
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Refusal {
            status,
            message: message.into(),
            headers: Vec::new(),
            retry_after: None,
        }
    }

    fn bad(message: impl Into<String>) -> Self {
        Refusal::new(StatusCode::BAD_REQUEST, message)
    }

    fn too_large(limit: usize) -> Self {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request larger than the receiver's max_request_body_size ({limit} bytes)"),
        )
    }

    fn into_response(self) -> Response<Body> {
        let mut response = Response::new(Body::from(self.message.clone()));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        // A header holds visible ASCII only: the body has the message in full.
        let header_text: String = self
            .message
            .chars()
            .map(|c| {
                if c.is_ascii_graphic() || c == ' ' {
                    c
                } else {
                    '?'
                }
            })
            .take(512)
            .collect();
        let err = self
            .headers
            .iter()
            .find(|(name, _)| *name == "Err")
            .map(|(_, v)| v.clone())
            .unwrap_or(header_text);
        if let Ok(value) = HeaderValue::from_str(&err) {
            headers.insert("Err", value);
        }
        for (name, value) in &self.headers {
            if *name != "Err"
                && let Ok(value) = HeaderValue::from_str(value)
            {
                headers.insert(*name, value);
            }
        }
        if let Some(delay) = self.retry_after {
            refusal::set_retry_after(headers, delay);
        }
        response
    }
}

fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response<Body> {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    response
}

/// Which importer a route belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Route {
    /// `POST /datas`: the SDK's standard protocol.
    Standard,
    /// `POST /lookout/metrics/{k}/{v}...` (the standard protocol) or
    /// `PUT|POST /prom/metrics/job/{job}/{k}/{v}...`: tags in the path.
    Tagged(TaggedImporter, PathTags),
    /// `POST /opentsdb/api/put`.
    OpenTsdb,
    /// `POST /beat[/<index>[/<type>]]/_bulk`.
    Bulk,
}

#[async_trait]
impl Answer for Intake {
    async fn answer(&self, request: Request<Body>) -> Response<Body> {
        let route = match self.route(&request) {
            Ok(route) => route,
            Err(response) => return response,
        };
        let started = Instant::now();
        let import = self.import(route.clone(), request);
        let outcome = match self.write_timeout {
            Some(limit) => tokio::time::timeout(limit, import)
                .await
                .unwrap_or_else(|_| {
                    Err(Refusal::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "no answer from the pipeline within write_timeout",
                    ))
                }),
            None => import.await,
        };
        match outcome {
            Ok(Imported::Done) => match route {
                Route::Standard | Route::Tagged(TaggedImporter::Lookout, _) => {
                    text(StatusCode::OK, "")
                }
                _ => text(StatusCode::ACCEPTED, ""),
            },
            Ok(Imported::Bulk(bulk)) => json_response(
                StatusCode::OK,
                bulk.response(started.elapsed().as_millis() as u64),
            ),
            Err(refusal) => {
                self.span.in_scope(|| {
                    tracing::debug!(status = %refusal.status, message = %refusal.message, "refused a request");
                });
                refusal.into_response()
            }
        }
    }
}

/// What an import answers on success.
enum Imported {
    /// `200` or `202` with no body.
    Done,
    /// The bulk response.
    Bulk(super::metricbeat::Bulk),
}

impl Intake {
    /// The importer of a request, or the answer to requests that import nothing (probes,
    /// the Elasticsearch impersonation's calls, unknown paths and methods).
    // The `Err` is the answer itself, sent at once: boxing it would only add an allocation.
    #[allow(clippy::result_large_err)]
    fn route(&self, request: &Request<Body>) -> Result<Route, Response<Body>> {
        let path = request.uri().path().trim_end_matches('/').to_owned();
        let method = request.method().clone();
        let not_allowed = |allowed: &'static str| {
            let mut response = Refusal::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("{method} is not allowed here: use {allowed}"),
            )
            .into_response();
            response
                .headers_mut()
                .insert(http::header::ALLOW, HeaderValue::from_static(allowed));
            response
        };
        let segments = path_segments(&path);
        match segments.as_slice() {
            ["datas"] => match method {
                Method::GET | Method::HEAD => Err(text(StatusCode::OK, "OK")),
                Method::POST => Ok(Route::Standard),
                _ => Err(not_allowed("GET, POST")),
            },
            ["lookout", "metrics"] if method == Method::GET || method == Method::HEAD => {
                Err(text(StatusCode::OK, "OK"))
            }
            ["opentsdb", "api", "put"] => match method {
                Method::POST => Ok(Route::OpenTsdb),
                _ => Err(not_allowed("POST")),
            },
            ["beat"] => match method {
                Method::GET | Method::HEAD => Err(json_response(StatusCode::OK, self.es_info())),
                _ => Err(not_allowed("GET, HEAD")),
            },
            ["beat", "_template", _] => match method {
                // The template "exists", so Metricbeat loads none; a PUT is acknowledged.
                Method::GET | Method::HEAD => Err(json_response(StatusCode::OK, json!({}))),
                Method::PUT | Method::POST => {
                    Err(json_response(StatusCode::OK, json!({"acknowledged": true})))
                }
                _ => Err(not_allowed("GET, HEAD, PUT")),
            },
            ["beat", .., "_bulk"] if segments.len() <= 4 => match method {
                Method::POST | Method::PUT => Ok(Route::Bulk),
                _ => Err(not_allowed("POST, PUT")),
            },
            // `/lookout/metrics/{k}/{v}...` and `/prom/metrics/job/{job}/{k}/{v}...`.
            _ => match TaggedImporter::route(&segments) {
                Some((importer, path_tags)) => {
                    let (accepted, allowed) = match importer {
                        TaggedImporter::Lookout => (method == Method::POST, "GET, POST"),
                        TaggedImporter::Prometheus => {
                            (method == Method::POST || method == Method::PUT, "PUT, POST")
                        }
                    };
                    if !accepted {
                        return Err(not_allowed(allowed));
                    }
                    let path_tags = path_tags.map_err(|e| Refusal::bad(e).into_response())?;
                    Ok(Route::Tagged(importer, path_tags))
                }
                None => Err(Refusal::new(
                    StatusCode::NOT_FOUND,
                    format!(
                        "no importer at {path:?}: post to /datas, /lookout/metrics/..., \
                         /prom/metrics/job/..., /opentsdb/api/put or /beat/_bulk"
                    ),
                )
                .into_response()),
            },
        }
    }

    /// What `GET /beat` answers: an Elasticsearch root document.
    fn es_info(&self) -> serde_json::Value {
        json!({
            "name": "tributary-lookout",
            "cluster_name": "lookout",
            "cluster_uuid": "tributary-lookout",
            "version": {
                "number": self.elasticsearch_version,
                "build_flavor": "default",
                "build_snapshot": false,
                "lucene_version": "6.4.1",
            },
            "tagline": "You Know, for Search",
        })
    }

    async fn import(&self, route: Route, request: Request<Body>) -> Result<Imported, Refusal> {
        let headers = request.headers().clone();
        let peer = request.extensions().get::<PeerAddr>().copied();
        let mut enrichment = Enrichment {
            client_ip: header(&headers, "client-ip").or_else(|| peer.map(|p| p.0.ip().to_string())),
            ..Enrichment::default()
        };
        // The step a delta counter spans and non-standard times align to.
        let mut step = self.step;
        match &route {
            Route::Standard => {
                let Some(app) = header(&headers, "app") else {
                    let mut refusal = Refusal::new(StatusCode::FORBIDDEN, "APP_NAME_NULL");
                    refusal.headers = vec![
                        ("Wait-Minutes", "5".to_owned()),
                        ("Err", "APP_NAME_NULL".to_owned()),
                    ];
                    return Err(refusal);
                };
                if !self.tokens.is_empty() {
                    let token = header(&headers, "x-lookout-token").or_else(|| {
                        header(&headers, "authorization")
                            .map(|a| a.strip_prefix("Bearer ").unwrap_or(&a).trim().to_owned())
                    });
                    if !token.is_some_and(|t| self.tokens.contains(&t)) {
                        let mut refusal = Refusal::new(StatusCode::UNAUTHORIZED, "TOKEN_INVALID");
                        refusal.headers = vec![("Err", "TOKEN_INVALID".to_owned())];
                        return Err(refusal);
                    }
                }
                enrichment.extra_tags.push(("app".to_owned(), app));
            }
            Route::Tagged(_, path_tags) => {
                step = path_tags.step;
                enrichment.extra_tags = path_tags.tags.clone();
                enrichment.align_step_s = (step > 0).then_some(step);
            }
            Route::OpenTsdb => {
                let app = header(&headers, "app")
                    .ok_or_else(|| Refusal::bad("the app header is required"))?;
                let mut tags = vec![("app".to_owned(), app)];
                if let Some(s) = header(&headers, "step") {
                    tags.push(("step".to_owned(), s));
                } else {
                    return Err(Refusal::bad("the step header is required"));
                }
                if let Some(ip) = header(&headers, "ip") {
                    enrichment.client_ip = Some(ip);
                }
                step = take_step(&mut tags).map_err(Refusal::bad)?;
                enrichment.extra_tags = tags;
                enrichment.align_step_s = (step > 0).then_some(step);
            }
            Route::Bulk => {
                enrichment.align_step_s = (step > 0).then_some(step);
            }
        }
        let encoding = self.encoding(headers.get(CONTENT_ENCODING))?;
        if declared_length(&headers).is_some_and(|n| n > self.max_body as u64) {
            return Err(Refusal::too_large(self.max_body));
        }
        let body = self.read(request.into_body()).await?;
        let max_body = self.max_body;
        let now_ms = (now_unix_nano() / 1_000_000) as i64;
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let decode_route = route.clone();
        // Decompression and parsing are CPU work: off the async runtime.
        let decoded = tokio::task::spawn_blocking(move || -> Result<Decoded, Refusal> {
            let plain = match encoding {
                Encoding::Identity => body,
                encoding => Bytes::from(
                    decompress(encoding, &body, max_body, &mut NoBudget).map_err(|e| match e {
                        DecompressError::TooLarge(limit) => Refusal::too_large(limit),
                        other => Refusal::bad(other.to_string()),
                    })?,
                ),
            };
            match decode_route {
                Route::Standard => parse_standard(&plain, now_ms)
                    .map(|points| Decoded::Points(points, Vec::new()))
                    .map_err(|e| Refusal::bad(e.to_string())),
                Route::Tagged(importer, _) => importer
                    .decode(&plain, content_type.as_deref(), now_ms)
                    .map(|points| Decoded::Points(points, Vec::new()))
                    .map_err(Refusal::bad),
                Route::OpenTsdb => parse_opentsdb(&plain)
                    .map(|(points, failed)| Decoded::Points(points, failed))
                    .map_err(Refusal::bad),
                Route::Bulk => parse_bulk(&plain, now_ms)
                    .map(Decoded::Bulk)
                    .map_err(|e| Refusal::bad(es_error(&e))),
            }
        })
        .await
        .map_err(|e| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
        let (points, failed, bulk) = match decoded {
            Decoded::Points(points, failed) => (points, failed, None),
            Decoded::Bulk(mut bulk) => (std::mem::take(&mut bulk.points), Vec::new(), Some(bulk)),
        };
        let points = self.enrich_and_filter(points, &enrichment, now_ms);
        let metrics = to_metrics(points, step);
        receiverhelper::deliver(&self.next, &self.metrics, metrics)
            .await
            .map_err(refusal_for)?;
        if !failed.is_empty() {
            // As OpenTSDB: the good points are written, the request answers 400.
            return Err(Refusal::bad(format!(
                "{} data point(s) failed: {}",
                failed.len(),
                failed.join("; ")
            )));
        }
        Ok(match bulk {
            Some(bulk) => Imported::Bulk(bulk),
            None => Imported::Done,
        })
    }

    fn enrich_and_filter(
        &self,
        points: Vec<Point>,
        enrichment: &Enrichment,
        now_ms: i64,
    ) -> Vec<Point> {
        let mut kept = Vec::with_capacity(points.len());
        for mut point in points {
            enrichment.apply(&mut point);
            match pre_filter(&mut point, now_ms) {
                Ok(()) => kept.push(point),
                Err(reason) => {
                    let index = DropReason::ALL
                        .iter()
                        .position(|r| *r == reason)
                        .unwrap_or(0);
                    self.dropped[index].inc();
                }
            }
        }
        kept
    }

    /// The `Content-Encoding`, when `compression_algorithms` (or, for the Lookout SDK's
    /// raw snappy, this receiver) accepts it.
    fn encoding(&self, header: Option<&HeaderValue>) -> Result<Encoding, Refusal> {
        let Some(header) = header else {
            return Ok(Encoding::Identity);
        };
        let name = header.to_str().unwrap_or_default().trim();
        Encoding::from_http(name)
            .filter(|e| *e == Encoding::Snappy || self.encodings.contains(e))
            .ok_or_else(|| {
                Refusal::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    format!("unsupported Content-Encoding {name:?}"),
                )
            })
    }

    async fn read(&self, body: Body) -> Result<Bytes, Refusal> {
        read_body(body, self.max_body, self.read_timeout)
            .await
            .map_err(|e| match e {
                ReadBodyError::TooLarge => Refusal::too_large(self.max_body),
                ReadBodyError::TimedOut => Refusal::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "the body did not arrive within read_timeout",
                ),
                ReadBodyError::Broken(e) => Refusal::bad(format!("reading the body: {e}")),
            })
    }
}

/// A decoded body.
enum Decoded {
    /// Points, and the reasons of the items that could not be read.
    Points(Vec<Point>, Vec<String>),
    /// A bulk request.
    Bulk(super::metricbeat::Bulk),
}

/// An Elasticsearch error body for a bulk request refused as a whole.
fn es_error(reason: &str) -> String {
    json!({
        "error": {"type": "illegal_argument_exception", "reason": reason},
        "status": 400,
    })
    .to_string()
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// The answer to a pipeline's refusal: 400 when retrying cannot help, 429 when
/// throttled and 503 otherwise, with `Retry-After` when known.
fn refusal_for(error: ConsumeError) -> Refusal {
    if error.is_permanent() {
        return Refusal::bad(format!(
            "the pipeline refused the data: {}",
            error.message()
        ));
    }
    let status = if error.is_throttled() {
        StatusCode::TOO_MANY_REQUESTS
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut refusal = Refusal::new(status, format!("try again later: {}", error.message()));
    refusal.retry_after = error.retry_after();
    refusal
}
