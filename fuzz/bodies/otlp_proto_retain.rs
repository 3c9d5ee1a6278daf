//! Dropping records of an OTLP/protobuf request on its bytes (`Payload::retain_encoded`,
//! the filter processor's path): never panics, and keeps exactly what the same decisions
//! keep on the decoded request. The first byte picks the signal.

use prost::Message;
use tributary_pipeline_core::pdata::encoded::RecordFilter;
use tributary_pipeline_core::pdata::proto::common::v1::InstrumentationScope;
use tributary_pipeline_core::pdata::proto::logs::v1::LogRecord;
use tributary_pipeline_core::pdata::proto::metrics::v1::Metric;
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::proto::trace::v1::Span;
use tributary_pipeline_core::pdata::{Logs, Metrics, Traces};

/// Drops resources with an odd number of attributes, scopes whose name has an odd
/// length, and records whose re-encoded length is a multiple of 3.
fn drops_resource(resource: &Option<Resource>) -> bool {
    resource
        .as_ref()
        .is_some_and(|r| r.attributes.len() % 2 == 1)
}

fn drops_scope(scope: &Option<InstrumentationScope>) -> bool {
    scope.as_ref().is_some_and(|s| s.name.len() % 2 == 1)
}

fn drops_record(encoded_len: usize) -> bool {
    encoded_len.is_multiple_of(3)
}

struct Decide<M>(std::marker::PhantomData<M>);

impl<M: Message + Default> RecordFilter for Decide<M> {
    type Error = ();
    fn keep_resource(&mut self, resource: &mut Option<Resource>) -> Result<bool, ()> {
        Ok(!drops_resource(resource))
    }
    fn keep_scope(
        &mut self,
        _: &mut Option<Resource>,
        scope: &mut Option<InstrumentationScope>,
    ) -> Result<bool, ()> {
        Ok(!drops_scope(scope))
    }
    fn keep_record(
        &mut self,
        _: &mut Option<Resource>,
        _: &mut Option<InstrumentationScope>,
        record: &[u8],
    ) -> Result<bool, ()> {
        let record = M::decode(record).expect("a record of a checked request decodes");
        Ok(!drops_record(record.encoded_len()))
    }
}

fn decide<M>() -> Decide<M> {
    Decide(std::marker::PhantomData)
}

/// The decisions on the decoded request, as the filter's decoded path takes them.
macro_rules! expected {
    ($request:expr, $resources:ident, $scopes:ident, $records:ident) => {{
        let mut request = $request;
        request.$resources.retain_mut(|r| {
            if drops_resource(&r.resource) {
                return false;
            }
            r.$scopes.retain_mut(|s| {
                if drops_scope(&s.scope) {
                    return false;
                }
                s.$records
                    .retain(|record| !drops_record(record.encoded_len()));
                !s.$records.is_empty()
            });
            !r.$scopes.is_empty()
        });
        request
    }};
}

macro_rules! check {
    ($payload:ty, $record:ty, $bytes:expr, $resources:ident, $scopes:ident, $records:ident) => {{
        let Ok(mut payload) = <$payload>::decode($bytes) else {
            return;
        };
        let before = payload.item_count();
        let expected = expected!(payload.request().clone(), $resources, $scopes, $records);
        let mut received = <$payload>::decode(payload.encoded()).unwrap();
        let dropped = received
            .retain_encoded(&mut decide::<$record>())
            .unwrap()
            .expect("a received payload is filtered on its bytes");
        // The rebuilt bytes pass the receive-time check, with the items counted.
        let checked = <$payload>::decode(received.encoded()).expect("rebuilt bytes are valid");
        assert_eq!(checked.item_count(), received.item_count());
        assert_eq!(received.item_count(), before - dropped);
        assert_eq!(received.request(), &expected);
        // The decoded payload is left to the caller.
        let _ = payload.make_mut();
        assert_eq!(payload.retain_encoded(&mut decide::<$record>()), Ok(None));
    }};
}

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let Some((&signal, rest)) = data.split_first() else {
        return;
    };
    let bytes = bytes::Bytes::copy_from_slice(rest);
    match signal % 3 {
        0 => check!(Traces, Span, bytes, resource_spans, scope_spans, spans),
        1 => check!(
            Metrics,
            Metric,
            bytes,
            resource_metrics,
            scope_metrics,
            metrics
        ),
        _ => check!(
            Logs,
            LogRecord,
            bytes,
            resource_logs,
            scope_logs,
            log_records
        ),
    }
}
