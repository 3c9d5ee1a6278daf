//! Routing identifiers per signal, and splitting a batch into one part per backend.
//!
//! Each item (span, log record, metric) gets a routing identifier from the configured
//! key; the caller maps identifiers to backends on the ring. Items of one backend are
//! kept in one request, with their resource and scope, in their original order. A batch
//! that goes to a single backend is forwarded as it is, encoding included.
//!
//! A batch still held as the bytes it was received as is split on those bytes
//! ([`Payload::partition_encoded`]): each record's identifier is read from its encoding
//! (a span's or log record's trace ID, a metric's name) or from its decoded resource
//! (`service`), and each backend's part is copied out of the received bytes. Only
//! `attributes` (traces) and `resource` (metrics) decode the batch.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};

use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::pdata::encoded::{Parts, fields};
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::proto::trace::v1::span;
use tributary_pipeline_core::pdata::value_text::as_string;
use tributary_pipeline_core::pdata::{Logs, Metrics, OtlpRequest, Payload, Traces};

use super::config::RoutingKey;
use crate::otlp_signal::OtlpSignal;
use crate::resource_identity::resource_identity;

/// How routing identifiers are made: the key and, for `attributes`, the names.
#[derive(Clone, Debug)]
pub(crate) struct Router {
    /// The routing key.
    pub key: RoutingKey,
    /// `routing_attributes`.
    pub attributes: Vec<String>,
}

/// Picks a backend (an index) for a routing identifier; `None` when there is none.
pub(crate) type Choose<'a> = dyn FnMut(&[u8]) -> Option<usize> + 'a;

/// A signal the balancer can split by routing key.
pub(crate) trait Routable: OtlpSignal {
    /// The key when `routing_key` is left out: `traceID`, `service` for metrics (as Go).
    const DEFAULT_KEY: RoutingKey;

    /// Whether `key` can route this signal (as in Go: traces and logs by `traceID`,
    /// `service`, traces also by `attributes`; metrics by `service`, `resource`, `metric`).
    fn supports(key: RoutingKey) -> bool;

    /// Splits into `(backend, part)` pairs, backends ascending; the whole batch when one
    /// backend takes all of it.
    fn route(
        self,
        router: &Router,
        choose: &mut Choose<'_>,
    ) -> Result<Vec<(usize, Self)>, ConsumeError>;
}

fn no_backend() -> ConsumeError {
    ConsumeError::retryable("no backend available")
}

/// The resource's `service.name`, required by `routing_key: service` (Go refuses the
/// batch too: retrying cannot add the attribute).
fn service_name(resource: Option<&Resource>) -> Result<String, ConsumeError> {
    resource
        .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
        .map(|kv| as_string(kv.value.as_ref()))
        .ok_or_else(|| {
            ConsumeError::permanent("routing_key service: a resource has no service.name attribute")
        })
}

fn find<'a>(attributes: &'a [KeyValue], name: &str) -> Option<&'a KeyValue> {
    attributes.iter().find(|kv| kv.key == name)
}

/// A trace ID for routing: log records without one are spread over the backends.
fn trace_key(id: &[u8]) -> Cow<'_, [u8]> {
    static SPREAD: AtomicU64 = AtomicU64::new(0);
    if id.is_empty() || id.iter().all(|b| *b == 0) {
        Cow::Owned(
            SPREAD
                .fetch_add(1, Ordering::Relaxed)
                .to_be_bytes()
                .to_vec(),
        )
    } else {
        Cow::Borrowed(id)
    }
}

/// The last value of length-delimited field `tag` in an encoded message (the one a
/// decoder keeps), or empty.
fn bytes_field(message: &[u8], tag: u32) -> &[u8] {
    fields(message)
        .map_while(Result::ok)
        // Wire type 2: length-delimited.
        .filter(|f| f.tag == tag && f.wire_type == 2)
        .last()
        .map_or(&[], |f| f.value)
}

/// A span's routing identifier from its encoding: its trace ID.
fn span_trace_id(span: &[u8]) -> Cow<'_, [u8]> {
    Cow::Borrowed(bytes_field(span, SPAN_TRACE_ID))
}

/// A metric's routing identifier from its encoding: its name.
fn metric_name(metric: &[u8]) -> Cow<'_, [u8]> {
    Cow::Borrowed(bytes_field(metric, METRIC_NAME))
}

/// A log record's routing identifier from its encoding, as [`trace_key`] makes it.
fn log_trace_key(record: &[u8]) -> Cow<'_, [u8]> {
    trace_key(bytes_field(record, LOG_TRACE_ID))
}

/// `Span.trace_id`, `LogRecord.trace_id` and `Metric.name`.
const SPAN_TRACE_ID: u32 = 1;
const LOG_TRACE_ID: u32 = 9;
const METRIC_NAME: u32 = 1;

/// Splits a batch held as bytes by the backend `choose` picks for each record's
/// identifier: the resource's `service.name` for `service`, or for `record_key` what
/// `record_id` reads from the record's encoding. `None` when the batch is decoded
/// already, or `key` is neither (it needs the decoded batch).
fn route_encoded<R: OtlpRequest>(
    batch: &Payload<R>,
    key: RoutingKey,
    record_key: RoutingKey,
    record_id: fn(&[u8]) -> Cow<'_, [u8]>,
    choose: &mut Choose<'_>,
) -> Result<Option<Parts<R>>, ConsumeError> {
    if batch.is_decoded() || (key != RoutingKey::Service && key != record_key) {
        return Ok(None);
    }
    batch.partition_encoded(|resource, _, record| {
        let backend = if key == RoutingKey::Service {
            choose(service_name(resource.as_ref())?.as_bytes())
        } else {
            choose(&record_id(record))
        };
        backend.ok_or_else(no_backend)
    })
}

/// Go's `SpanKind.String()` names.
fn kind_name(kind: i32) -> &'static str {
    match span::SpanKind::try_from(kind) {
        Ok(span::SpanKind::Internal) => "Internal",
        Ok(span::SpanKind::Server) => "Server",
        Ok(span::SpanKind::Client) => "Client",
        Ok(span::SpanKind::Producer) => "Producer",
        Ok(span::SpanKind::Consumer) => "Consumer",
        _ => "Unspecified",
    }
}

/// Groups the backends chosen for each item (in walk order); `Ok(Single)` when all agree.
enum Decisions {
    Single(usize),
    Many(Vec<usize>),
    Empty,
}

fn decide(choices: Vec<usize>) -> Decisions {
    match choices.first() {
        None => Decisions::Empty,
        Some(first) if choices.iter().all(|c| c == first) => Decisions::Single(*first),
        Some(_) => Decisions::Many(choices),
    }
}

impl Routable for Traces {
    const DEFAULT_KEY: RoutingKey = RoutingKey::TraceId;

    fn supports(key: RoutingKey) -> bool {
        matches!(
            key,
            RoutingKey::TraceId | RoutingKey::Service | RoutingKey::Attributes
        )
    }

    fn route(
        self,
        router: &Router,
        choose: &mut Choose<'_>,
    ) -> Result<Vec<(usize, Self)>, ConsumeError> {
        let key = RoutingKey::TraceId;
        if let Some(parts) = route_encoded(&self, router.key, key, span_trace_id, choose)? {
            return Ok(parts);
        }
        let request = self.request();
        let mut choices = Vec::new();
        for rs in &request.resource_spans {
            let resource_backend = match router.key {
                RoutingKey::Service => Some(
                    choose(service_name(rs.resource.as_ref())?.as_bytes())
                        .ok_or_else(no_backend)?,
                ),
                _ => None,
            };
            for ss in &rs.scope_spans {
                for s in &ss.spans {
                    let backend = match resource_backend {
                        Some(b) => b,
                        None if router.key == RoutingKey::Attributes => {
                            let mut id = String::new();
                            for name in &router.attributes {
                                let value = match name.as_str() {
                                    "span.kind" => kind_name(s.kind).to_string(),
                                    "span.name" => s.name.clone(),
                                    _ => find(&s.attributes, name)
                                        .or_else(|| {
                                            ss.scope
                                                .as_ref()
                                                .and_then(|sc| find(&sc.attributes, name))
                                        })
                                        .or_else(|| {
                                            rs.resource
                                                .as_ref()
                                                .and_then(|r| find(&r.attributes, name))
                                        })
                                        .map(|kv| as_string(kv.value.as_ref()))
                                        .unwrap_or_default(),
                                };
                                id.push_str(name);
                                id.push('=');
                                id.push_str(&value);
                                id.push('|');
                            }
                            choose(id.as_bytes()).ok_or_else(no_backend)?
                        }
                        None => choose(&s.trace_id).ok_or_else(no_backend)?,
                    };
                    choices.push(backend);
                }
            }
        }
        Ok(match decide(choices) {
            Decisions::Empty => Vec::new(),
            Decisions::Single(b) => vec![(b, self)],
            Decisions::Many(choices) => {
                let metadata = self.metadata().cloned();
                self.into_request()
                    .partition(choices)
                    .into_iter()
                    .map(|(b, r)| (b, with_metadata(Payload::new(r), metadata.clone())))
                    .collect()
            }
        })
    }
}

/// A part carries the client metadata of the batch it came from.
fn with_metadata<R: tributary_pipeline_core::pdata::OtlpRequest>(
    part: Payload<R>,
    metadata: Option<std::sync::Arc<tributary_pipeline_core::pdata::ClientMetadata>>,
) -> Payload<R> {
    match metadata {
        Some(m) => part.with_metadata(m),
        None => part,
    }
}

impl Routable for Logs {
    const DEFAULT_KEY: RoutingKey = RoutingKey::TraceId;

    fn supports(key: RoutingKey) -> bool {
        matches!(key, RoutingKey::TraceId | RoutingKey::Service)
    }

    fn route(
        self,
        router: &Router,
        choose: &mut Choose<'_>,
    ) -> Result<Vec<(usize, Self)>, ConsumeError> {
        let key = RoutingKey::TraceId;
        if let Some(parts) = route_encoded(&self, router.key, key, log_trace_key, choose)? {
            return Ok(parts);
        }
        let request = self.request();
        let mut choices = Vec::new();
        for rl in &request.resource_logs {
            let resource_backend = match router.key {
                RoutingKey::Service => Some(
                    choose(service_name(rl.resource.as_ref())?.as_bytes())
                        .ok_or_else(no_backend)?,
                ),
                _ => None,
            };
            for sl in &rl.scope_logs {
                for record in &sl.log_records {
                    choices.push(match resource_backend {
                        Some(b) => b,
                        None => choose(&trace_key(&record.trace_id)).ok_or_else(no_backend)?,
                    });
                }
            }
        }
        Ok(match decide(choices) {
            Decisions::Empty => Vec::new(),
            Decisions::Single(b) => vec![(b, self)],
            Decisions::Many(choices) => {
                let metadata = self.metadata().cloned();
                self.into_request()
                    .partition(choices)
                    .into_iter()
                    .map(|(b, r)| (b, with_metadata(Payload::new(r), metadata.clone())))
                    .collect()
            }
        })
    }
}

impl Routable for Metrics {
    const DEFAULT_KEY: RoutingKey = RoutingKey::Service;

    fn supports(key: RoutingKey) -> bool {
        matches!(
            key,
            RoutingKey::Service | RoutingKey::Resource | RoutingKey::Metric
        )
    }

    fn route(
        self,
        router: &Router,
        choose: &mut Choose<'_>,
    ) -> Result<Vec<(usize, Self)>, ConsumeError> {
        let key = RoutingKey::Metric;
        if let Some(parts) = route_encoded(&self, router.key, key, metric_name, choose)? {
            return Ok(parts);
        }
        let request = self.request();
        let mut choices = Vec::new();
        for rm in &request.resource_metrics {
            let resource_backend = match router.key {
                RoutingKey::Service => Some(
                    choose(service_name(rm.resource.as_ref())?.as_bytes())
                        .ok_or_else(no_backend)?,
                ),
                RoutingKey::Resource => Some(
                    choose(resource_identity(rm.resource.as_ref()).as_bytes())
                        .ok_or_else(no_backend)?,
                ),
                _ => None,
            };
            for sm in &rm.scope_metrics {
                for metric in &sm.metrics {
                    choices.push(match resource_backend {
                        Some(b) => b,
                        None => choose(metric.name.as_bytes()).ok_or_else(no_backend)?,
                    });
                }
            }
        }
        Ok(match decide(choices) {
            Decisions::Empty => Vec::new(),
            Decisions::Single(b) => vec![(b, self)],
            Decisions::Many(choices) => {
                let metadata = self.metadata().cloned();
                self.into_request()
                    .partition(choices)
                    .into_iter()
                    .map(|(b, r)| (b, with_metadata(Payload::new(r), metadata.clone())))
                    .collect()
            }
        })
    }
}
