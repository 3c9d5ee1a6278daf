//! Taking the part of a batch a route's condition matches, per context: whole resources,
//! single spans, metrics, data points or log records, or the whole request.

use std::sync::Arc;

use tributary_ottl::context::data_point_len;
use tributary_ottl::{Item as Data, TransformContext};
use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::visit::layout::Layout;
use tributary_pipeline_core::pdata::{ClientMetadata, Logs, Metrics, Payload, SignalData, Traces};

use super::condition::{Condition, Context, EvalError, Item};

/// A signal a routing connector splits.
pub(super) trait Routable: SignalData {
    /// Whether routes of `context` apply to this signal.
    fn supports(context: Context) -> bool;

    /// Moves out of `self` the part `condition` matches in `context` (what is left stays
    /// in `self`); `None` if nothing matched.
    fn take(
        &mut self,
        context: Context,
        condition: &dyn Condition,
    ) -> Result<Option<Self>, EvalError>;
}

/// Splits `payload` along `decisions` (one per item, in the walk order `retain` uses):
/// the matching part is returned, the rest stays.
fn split<R: Layout + Default>(
    payload: &mut Payload<R>,
    decisions: Vec<bool>,
    retain: impl Fn(&mut Payload<R>, &mut dyn FnMut() -> bool),
) -> Option<Payload<R>>
where
    Payload<R>: SignalData,
{
    if !decisions.contains(&true) {
        return None;
    }
    if decisions.iter().all(|d| *d) {
        // All of it: no copy.
        let empty = empty_like(payload);
        return Some(std::mem::replace(payload, empty));
    }
    let mut matched = payload.clone();
    let mut answers = decisions.iter();
    retain(&mut matched, &mut || {
        answers.next().copied().unwrap_or(false)
    });
    let mut answers = decisions.iter();
    retain(payload, &mut || !answers.next().copied().unwrap_or(false));
    Some(matched)
}

/// One resource (with no scope), or one record with its resource and scope, as
/// conditions read it.
type Visit<'v> = dyn FnMut(&mut TransformContext<'_>) -> Result<(), EvalError> + 'v;

/// The request's metadata, shared out before the walk borrows the request.
fn metadata<R: Layout>(payload: &Payload<R>) -> Option<Arc<ClientMetadata>> {
    payload.metadata().cloned()
}

/// Whether each item (resource, or record in `walk`'s order, which is the order of
/// `retain` below) matches `condition`; the first evaluation error stops.
fn decide<R: Layout>(
    payload: &mut Payload<R>,
    condition: &dyn Condition,
    walk: fn(&mut R, &mut Visit<'_>) -> Result<(), EvalError>,
) -> Result<Vec<bool>, EvalError>
where
    Payload<R>: SignalData,
{
    let metadata = metadata(payload);
    let mut decisions = Vec::new();
    // Conditions read through a `TransformContext`, which holds the data mutably: the
    // request is copied here only if another pipeline shares it.
    walk(payload.make_mut(), &mut |ctx| {
        decisions.push(condition.matches_data(ctx, metadata.as_deref())?);
        Ok(())
    })?;
    Ok(decisions)
}

/// Record context (spans, log records, metrics): the records `condition` matches.
fn take_records<R: Layout + Default>(
    payload: &mut Payload<R>,
    condition: &dyn Condition,
    walk: fn(&mut R, &mut Visit<'_>) -> Result<(), EvalError>,
) -> Result<Option<Payload<R>>, EvalError>
where
    Payload<R>: SignalData,
{
    let decisions = decide(payload, condition, walk)?;
    Ok(split(payload, decisions, |p, keep| {
        p.retain_records(|_, _| keep());
    }))
}

/// Resource context: whole resources.
fn take_resources<R: Layout + Default>(
    payload: &mut Payload<R>,
    condition: &dyn Condition,
    walk: fn(&mut R, &mut Visit<'_>) -> Result<(), EvalError>,
) -> Result<Option<Payload<R>>, EvalError>
where
    Payload<R>: SignalData,
{
    let decisions = decide(payload, condition, walk)?;
    Ok(split(payload, decisions, |p, keep| {
        p.retain_resources(|_| keep());
    }))
}

/// Visits each resource without a scope (resource context).
macro_rules! resource_walk {
    ($request:ty, $resources:ident) => {
        |request: &mut $request, visit: &mut Visit<'_>| {
            let mut cache = Vec::new();
            for r in &mut request.$resources {
                visit(&mut TransformContext {
                    resource: &mut r.resource,
                    scope: None,
                    item: Data::None,
                    cache: &mut cache,
                })?;
            }
            Ok(())
        }
    };
}

/// Visits each record with its resource and scope, as `$item` makes it.
macro_rules! record_walk {
    ($request:ty, $resources:ident, $scopes:ident, $records:ident, $item:expr) => {
        |request: &mut $request, visit: &mut Visit<'_>| {
            let mut cache = Vec::new();
            for r in &mut request.$resources {
                for s in &mut r.$scopes {
                    for record in &mut s.$records {
                        visit(&mut TransformContext {
                            resource: &mut r.resource,
                            scope: Some(&mut s.scope),
                            item: $item(record),
                            cache: &mut cache,
                        })?;
                    }
                }
            }
            Ok(())
        }
    };
}

/// Request context: everything, if the request's metadata matches.
fn take_request<R: Layout + Default>(
    payload: &mut Payload<R>,
    condition: &dyn Condition,
) -> Result<Option<Payload<R>>, EvalError>
where
    Payload<R>: SignalData,
{
    let metadata = payload.metadata().map(|m| &**m);
    let item = Item {
        metadata,
        ..Item::default()
    };
    if !condition.matches(&item)? {
        return Ok(None);
    }
    let empty = empty_like(payload);
    Ok(Some(std::mem::replace(payload, empty)))
}

/// An empty payload carrying `payload`'s metadata.
fn empty_like<R: Layout + Default>(payload: &Payload<R>) -> Payload<R>
where
    Payload<R>: SignalData,
{
    let empty = Payload::new(R::default());
    match payload.metadata() {
        Some(metadata) => empty.with_metadata(metadata.clone()),
        None => empty,
    }
}

impl Routable for Traces {
    fn supports(context: Context) -> bool {
        matches!(
            context,
            Context::Resource | Context::Span | Context::Request
        )
    }

    fn take(
        &mut self,
        context: Context,
        condition: &dyn Condition,
    ) -> Result<Option<Self>, EvalError> {
        match context {
            Context::Request => take_request(self, condition),
            Context::Span => take_records(
                self,
                condition,
                record_walk!(
                    ExportTraceServiceRequest,
                    resource_spans,
                    scope_spans,
                    spans,
                    Data::Span
                ),
            ),
            _ => take_resources(
                self,
                condition,
                resource_walk!(ExportTraceServiceRequest, resource_spans),
            ),
        }
    }
}

impl Routable for Logs {
    fn supports(context: Context) -> bool {
        matches!(context, Context::Resource | Context::Log | Context::Request)
    }

    fn take(
        &mut self,
        context: Context,
        condition: &dyn Condition,
    ) -> Result<Option<Self>, EvalError> {
        match context {
            Context::Request => take_request(self, condition),
            Context::Log => take_records(
                self,
                condition,
                record_walk!(
                    ExportLogsServiceRequest,
                    resource_logs,
                    scope_logs,
                    log_records,
                    Data::Log
                ),
            ),
            _ => take_resources(
                self,
                condition,
                resource_walk!(ExportLogsServiceRequest, resource_logs),
            ),
        }
    }
}

impl Routable for Metrics {
    fn supports(context: Context) -> bool {
        matches!(
            context,
            Context::Resource | Context::Metric | Context::Datapoint | Context::Request
        )
    }

    fn take(
        &mut self,
        context: Context,
        condition: &dyn Condition,
    ) -> Result<Option<Self>, EvalError> {
        match context {
            Context::Request => take_request(self, condition),
            Context::Metric => take_records(
                self,
                condition,
                record_walk!(
                    ExportMetricsServiceRequest,
                    resource_metrics,
                    scope_metrics,
                    metrics,
                    Data::Metric
                ),
            ),
            Context::Datapoint => {
                let decisions = decide(self, condition, |request, visit| {
                    let mut cache = Vec::new();
                    for r in &mut request.resource_metrics {
                        for s in &mut r.scope_metrics {
                            for metric in &mut s.metrics {
                                for i in 0..data_point_len(metric) {
                                    visit(&mut TransformContext {
                                        resource: &mut r.resource,
                                        scope: Some(&mut s.scope),
                                        item: Data::DataPoint(metric, i),
                                        cache: &mut cache,
                                    })?;
                                }
                            }
                        }
                    }
                    Ok(())
                })?;
                Ok(split(self, decisions, |p, keep| {
                    p.retain_data_points(|_, _| keep());
                }))
            }
            _ => take_resources(
                self,
                condition,
                resource_walk!(ExportMetricsServiceRequest, resource_metrics),
            ),
        }
    }
}
