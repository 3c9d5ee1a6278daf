//! Taking the part of a batch a route's condition matches, per context: whole resources,
//! single spans, metrics, data points or log records, or the whole request.

use tributary_pipeline_core::pdata::data_point::DataPointRef;
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::visit::HasAttributes;
use tributary_pipeline_core::pdata::visit::layout::{Layout, ResourceEntry};
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

/// Whether each of `items` matches, in order; the first evaluation error stops.
fn decide<'a>(
    condition: &dyn Condition,
    items: impl Iterator<Item = Item<'a>>,
) -> Result<Vec<bool>, EvalError> {
    items.map(|item| condition.matches(&item)).collect()
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

/// A record's own attributes and name, as a condition sees them.
type RecordFields<Record> = fn(&Record) -> (&[KeyValue], Option<&str>);

/// Record context (spans, log records, metrics): the records `condition` matches.
/// `fields` gives a record's own attributes and name.
fn take_records<R: Layout + Default>(
    payload: &mut Payload<R>,
    condition: &dyn Condition,
    fields: RecordFields<R::Record>,
) -> Result<Option<Payload<R>>, EvalError>
where
    Payload<R>: SignalData,
{
    let metadata = metadata(payload);
    let decisions = decide(
        condition,
        payload.records().map(|(origin, record)| {
            let (attributes, name) = fields(record);
            Item {
                attributes,
                resource_attributes: origin.resource_attributes(),
                name,
                metadata,
            }
        }),
    )?;
    Ok(split(payload, decisions, |p, keep| {
        p.retain_records(|_, _| keep());
    }))
}

fn metadata<R: Layout>(payload: &Payload<R>) -> Option<&ClientMetadata> {
    payload.metadata().map(|m| &**m)
}

/// Resource context: whole resources.
fn take_resources<R: Layout + Default>(
    payload: &mut Payload<R>,
    condition: &dyn Condition,
) -> Result<Option<Payload<R>>, EvalError>
where
    Payload<R>: SignalData,
{
    let metadata = metadata(payload);
    let decisions = decide(
        condition,
        payload.request().entries().iter().map(|entry| {
            let attributes = entry
                .resource()
                .map(|r| r.attributes.as_slice())
                .unwrap_or_default();
            Item {
                attributes,
                resource_attributes: attributes,
                name: None,
                metadata,
            }
        }),
    )?;
    Ok(split(payload, decisions, |p, keep| {
        p.retain_resources(|_| keep());
    }))
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
            Context::Span => take_records(self, condition, |span| {
                (span.attributes(), Some(span.name.as_str()))
            }),
            _ => take_resources(self, condition),
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
            Context::Log => take_records(self, condition, |record| (record.attributes(), None)),
            _ => take_resources(self, condition),
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
            Context::Metric => {
                take_records(self, condition, |metric| (&[], Some(metric.name.as_str())))
            }
            Context::Datapoint => {
                let metadata = metadata(self);
                let decisions = decide(
                    condition,
                    self.data_points()
                        .map(|(origin, point): (_, DataPointRef<'_>)| Item {
                            attributes: point.attributes(),
                            resource_attributes: origin.resource_attributes(),
                            name: None,
                            metadata,
                        }),
                )?;
                Ok(split(self, decisions, |p, keep| {
                    p.retain_data_points(|_, _| keep());
                }))
            }
            _ => take_resources(self, condition),
        }
    }
}
