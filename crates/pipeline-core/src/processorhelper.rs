//! Processors from a function over the data.
//!
//! Most processors edit each request and hand it on: [`from_fn`] builds one from a
//! closure over the mutable request, so a processor is its config, its closure and a
//! factory line. The closure edits through [`Payload::make_mut`](crate::pdata::Payload::make_mut)
//! (or the [`pdata`](crate::pdata) visitors, which call it only when they change
//! something), so data another pipeline still shares is copied only when this processor
//! actually changes it. A request left without items is dropped rather than sent on, as
//! the Go Collector's processors do with `ErrSkipProcessingData`: filtering is removing
//! items.
//!
//! The framework records the Go Collector's `otelcol_processor_incoming_items` and
//! `otelcol_processor_outgoing_items` (labels `processor`, `otel_signal`) for every
//! processor, built this way or not.
//!
//! ```
//! use tributary_pipeline_core::component::{ComponentConfig, ProcessorFactory, Stability};
//! use tributary_pipeline_core::pdata::Traces;
//! use tributary_pipeline_core::processorhelper;
//!
//! /// Drops spans whose name is on a deny list.
//! #[derive(Clone, Debug, Default, serde::Deserialize)]
//! #[serde(default, deny_unknown_fields)]
//! struct Config {
//!     names: Vec<String>,
//! }
//! impl ComponentConfig for Config {}
//!
//! fn factory() -> ProcessorFactory<Config> {
//!     ProcessorFactory::new("drop_spans").with_traces(
//!         |_settings, config: &Config, next| {
//!             let names = config.names.clone();
//!             Ok(processorhelper::from_fn(next, move |traces: &mut Traces| {
//!                 let listed = |name: &String| names.contains(name);
//!                 let any = traces.request().resource_spans.iter()
//!                     .flat_map(|rs| &rs.scope_spans)
//!                     .any(|ss| ss.spans.iter().any(|span| listed(&span.name)));
//!                 if any {
//!                     // Only now is the data copied, if another pipeline shares it.
//!                     for rs in &mut traces.make_mut().resource_spans {
//!                         for ss in &mut rs.scope_spans {
//!                             ss.spans.retain(|span| !listed(&span.name));
//!                         }
//!                     }
//!                 }
//!                 Ok(())
//!             }))
//!         },
//!         Stability::Alpha,
//!     )
//! }
//! # let _ = factory();
//! ```

use std::sync::Arc;

use async_trait::async_trait;

use crate::component::{Component, Processor};
use crate::consumer::{Capabilities, ConsumeError, Consumer, Next};
use crate::pdata::SignalData;

/// A processor that runs `process` on each request, then hands the request to `next`
/// unless it has no items left. An error from `process` is the answer to the caller, and
/// the request goes no further.
///
/// The processor has nothing to start or stop; a processor with a lifecycle implements
/// [`Component`] and [`Consumer`] itself.
pub fn from_fn<T, F>(next: Next<T>, process: F) -> Arc<dyn Processor<T>>
where
    T: SignalData,
    F: Fn(&mut T) -> Result<(), ConsumeError> + Send + Sync + 'static,
{
    Arc::new(FnProcessor { process, next })
}

struct FnProcessor<T, F> {
    process: F,
    next: Next<T>,
}

impl<T: SignalData, F: Send + Sync + 'static> Component for FnProcessor<T, F> {}

#[async_trait]
impl<T, F> Consumer<T> for FnProcessor<T, F>
where
    T: SignalData,
    F: Fn(&mut T) -> Result<(), ConsumeError> + Send + Sync + 'static,
{
    async fn consume(&self, mut data: T) -> Result<(), ConsumeError> {
        (self.process)(&mut data)?;
        if data.item_count() == 0 {
            return Ok(());
        }
        self.next.consume(data).await
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { mutates_data: true }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdata::Traces;
    use crate::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
    use crate::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use crate::testing::Sink;

    fn spans(names: &[&str]) -> Traces {
        Traces::new(ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: names
                        .iter()
                        .map(|name| Span {
                            name: name.to_string(),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
        })
    }

    fn drop_named(name: &'static str) -> impl Fn(&mut Traces) -> Result<(), ConsumeError> {
        move |traces: &mut Traces| {
            for rs in &mut traces.make_mut().resource_spans {
                for ss in &mut rs.scope_spans {
                    ss.spans.retain(|span| span.name != name);
                }
            }
            Ok(())
        }
    }

    #[tokio::test]
    async fn the_function_edits_and_an_emptied_request_goes_no_further() {
        let sink = Sink::<Traces>::new();
        let processor = from_fn(sink.next(), drop_named("healthz"));
        processor.consume(spans(&["a", "healthz"])).await.unwrap();
        processor.consume(spans(&["healthz"])).await.unwrap();
        assert_eq!(sink.calls(), 1);
        assert_eq!(sink.accepted_items(), 1);
    }

    #[tokio::test]
    async fn data_shared_with_another_pipeline_is_copied_only_when_changed() {
        let sink = Sink::<Traces>::new();
        let processor = from_fn(sink.next(), drop_named("healthz"));
        let shared = spans(&["a", "b"]);
        processor.consume(shared.clone()).await.unwrap();
        let edited = spans(&["a", "healthz"]);
        processor.consume(edited.clone()).await.unwrap();
        assert_eq!(edited.item_count(), 2, "the other holder keeps its data");
        assert_eq!(sink.accepted()[1].item_count(), 1);
    }

    #[tokio::test]
    async fn an_error_of_the_function_is_the_answer() {
        let sink = Sink::<Traces>::new();
        let processor = from_fn(sink.next(), |_: &mut Traces| {
            Err(ConsumeError::permanent("malformed"))
        });
        let error = processor.consume(spans(&["a"])).await.unwrap_err();
        assert!(error.is_permanent());
        assert_eq!(sink.calls(), 0);
    }

    #[tokio::test]
    async fn a_processor_from_a_function_passes_the_conformance_suite() {
        #[derive(Debug, Default, serde::Deserialize)]
        #[serde(default, deny_unknown_fields)]
        struct Config {}
        impl crate::component::ComponentConfig for Config {}
        let factory = crate::component::ProcessorFactory::new("noop").with_logs(
            |_, _: &Config, next| Ok(from_fn(next, |_| Ok(()))),
            crate::component::Stability::Development,
        );
        crate::testing::check_processor(factory, "").await;
    }
}
