//! Test components that record what happens to them, shared by the graph and service tests.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::Deserialize;

use crate::component::{
    Component, ComponentConfig, ComponentError, Connector, ConnectorFactory, CreateSettings,
    Exporter, ExporterFactory, ExtensionFactory, Host, Processor, ProcessorFactory, Receiver,
    ReceiverFactory, Router, Stability,
};
use crate::consumer::{ConsumeError, Consumer, Next};
use crate::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use crate::pdata::proto::common::v1::{AnyValue, KeyValue, any_value};
use crate::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use crate::pdata::{Metrics, Traces};

/// One batch of one span.
pub(crate) fn spans() -> Traces {
    Traces::new(ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span::default()],
                ..Default::default()
            }],
            ..Default::default()
        }],
    })
}

/// What happened, in order: "create receiver otlp traces", "start exporter mem", ...
#[derive(Clone, Default)]
pub(crate) struct Journal(pub(crate) Arc<Mutex<Vec<String>>>);

impl Journal {
    pub(crate) fn push(&self, line: String) {
        self.0.lock().unwrap().push(line);
    }
    pub(crate) fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
    pub(crate) fn matching(&self, prefix: &str) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.starts_with(prefix))
            .cloned()
            .collect()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct TestConfig {
    tag: String,
    fail_start: bool,
}
impl ComponentConfig for TestConfig {
    fn validate(&self) -> Result<(), crate::component::ConfigError> {
        if self.tag == "invalid" {
            return Err(crate::component::ConfigError::at(
                "tag",
                "must not be \"invalid\"",
            ));
        }
        Ok(())
    }
}

/// Lifecycle recorder shared by all test components.
pub(crate) struct Recorded {
    journal: Journal,
    name: String,
    fail_start: bool,
}

#[async_trait]
impl Component for Recorded {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        self.journal.push(format!("start {}", self.name));
        if self.fail_start {
            return Err(ComponentError::new("refused to start"));
        }
        Ok(())
    }
    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.journal.push(format!("stop {}", self.name));
        Ok(())
    }
}

impl crate::component::Extension for Recorded {}

pub(crate) fn recorded(
    journal: &Journal,
    settings: &CreateSettings,
    config: &TestConfig,
) -> Recorded {
    let name = format!("{} {}", settings.kind(), settings.id());
    journal.push(format!(
        "create {name} {}",
        settings.signal().map_or("", |s| s.as_str())
    ));
    Recorded {
        journal: journal.clone(),
        name,
        fail_start: config.fail_start,
    }
}

/// A receiver whose output the test drives through `Inlets`.
/// Each receiver's output, by receiver ID.
pub(crate) type InletList = Vec<(String, Next<Traces>)>;

#[derive(Clone, Default)]
pub(crate) struct Inlets(pub(crate) Arc<Mutex<InletList>>);

impl Inlets {
    pub(crate) fn get(&self, id: &str) -> Next<Traces> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|(name, _)| name == id)
            .map(|(_, next)| next.clone())
            .expect("receiver was created")
    }
}

/// Receivers of type `test_in` (traces and metrics) whose traces output the test drives
/// through `inlets`.
pub(crate) fn test_receiver_factory(
    journal: Journal,
    inlets: Inlets,
) -> ReceiverFactory<TestConfig> {
    let metrics_journal = journal.clone();
    ReceiverFactory::new("test_in")
        .with_traces(
            move |s, c: &TestConfig, next: Next<Traces>| {
                inlets.0.lock().unwrap().push((s.id().to_string(), next));
                Ok(Arc::new(recorded(&journal, s, c)) as Arc<dyn Receiver>)
            },
            Stability::Beta,
        )
        .with_metrics(
            move |s, c: &TestConfig, _next: Next<Metrics>| {
                Ok(Arc::new(recorded(&metrics_journal, s, c)) as Arc<dyn Receiver>)
            },
            Stability::Beta,
        )
}

/// Adds its tag as a resource attribute, so the test can see which processors data went
/// through and in which order.
pub(crate) struct Tagger {
    lifecycle: Recorded,
    tag: String,
    next: Next<Traces>,
}
#[async_trait]
impl Component for Tagger {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        self.lifecycle.start(host).await
    }
    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.lifecycle.shutdown().await
    }
}
#[async_trait]
impl Consumer<Traces> for Tagger {
    async fn consume(&self, mut data: Traces) -> Result<(), ConsumeError> {
        for rs in &mut data.make_mut().resource_spans {
            rs.resource
                .get_or_insert_default()
                .attributes
                .push(KeyValue {
                    key: "tag".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue(self.tag.clone())),
                    }),
                    ..Default::default()
                });
        }
        self.next.consume(data).await
    }
}

/// Processors of type `tag` (traces only) that add their tag to each resource.
pub(crate) fn test_processor_factory(journal: Journal) -> ProcessorFactory<TestConfig> {
    ProcessorFactory::new("tag").with_traces(
        move |s, c: &TestConfig, next| {
            Ok(Arc::new(Tagger {
                lifecycle: recorded(&journal, s, c),
                tag: c.tag.clone(),
                next,
            }) as Arc<dyn Processor<Traces>>)
        },
        Stability::Alpha,
    )
}

/// Keeps what it receives, as the tags on each batch.
pub(crate) struct Sink {
    lifecycle: Recorded,
    received: Arc<Mutex<Vec<Vec<String>>>>,
}
#[async_trait]
impl Component for Sink {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        self.lifecycle.start(host).await
    }
    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.lifecycle.shutdown().await
    }
}
#[async_trait]
impl Consumer<Traces> for Sink {
    async fn consume(&self, data: Traces) -> Result<(), ConsumeError> {
        let tags = data
            .request()
            .resource_spans
            .iter()
            .flat_map(|rs| rs.resource.iter().flat_map(|r| &r.attributes))
            .filter_map(|kv| match kv.value.as_ref()?.value.as_ref()? {
                any_value::Value::StringValue(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        self.received.lock().unwrap().push(tags);
        Ok(())
    }
}

/// What each exporter received: per batch, the tags on it.
pub(crate) type Received = Arc<Mutex<Vec<Vec<String>>>>;

#[derive(Clone, Default)]
pub(crate) struct Sinks(pub(crate) Arc<Mutex<Vec<(String, Received)>>>);
impl Sinks {
    pub(crate) fn received(&self, id: &str) -> Vec<Vec<String>> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(name, _)| name == id)
            .flat_map(|(_, r)| r.lock().unwrap().clone())
            .collect()
    }
}

/// Exporters of type `mem` (alias `memory`; traces and metrics) that keep the tags of
/// each traces batch in `sinks`.
pub(crate) fn test_exporter_factory(journal: Journal, sinks: Sinks) -> ExporterFactory<TestConfig> {
    let metrics_journal = journal.clone();
    ExporterFactory::new("mem")
        .with_alias("memory")
        .with_traces(
            move |s, c: &TestConfig| {
                let received = Arc::new(Mutex::new(Vec::new()));
                sinks
                    .0
                    .lock()
                    .unwrap()
                    .push((s.id().to_string(), received.clone()));
                Ok(Arc::new(Sink {
                    lifecycle: recorded(&journal, s, c),
                    received,
                }) as Arc<dyn Exporter<Traces>>)
            },
            Stability::Stable,
        )
        .with_metrics(
            move |s, c: &TestConfig| {
                Ok(Arc::new(MetricsSink(recorded(&metrics_journal, s, c)))
                    as Arc<dyn Exporter<Metrics>>)
            },
            Stability::Stable,
        )
}

pub(crate) struct MetricsSink(pub(crate) Recorded);
#[async_trait]
impl Component for MetricsSink {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        self.0.start(host).await
    }
    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.0.shutdown().await
    }
}
#[async_trait]
impl Consumer<Metrics> for MetricsSink {
    async fn consume(&self, _data: Metrics) -> Result<(), ConsumeError> {
        Ok(())
    }
}

/// Extensions of type `ext`.
pub(crate) fn test_extension_factory(journal: Journal) -> ExtensionFactory<TestConfig> {
    ExtensionFactory::new(
        "ext",
        move |s, c: &TestConfig| {
            Ok(Arc::new(recorded(&journal, s, c)) as Arc<dyn crate::component::Extension>)
        },
        Stability::Beta,
    )
}

/// Waits until `check` holds, polling; panics naming `what` after 30 seconds.
pub(crate) async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Passes traces on to every pipeline it feeds.
pub(crate) struct Forward {
    lifecycle: Recorded,
    next: Next<Traces>,
}
#[async_trait]
impl Component for Forward {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        self.lifecycle.start(host).await
    }
    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.lifecycle.shutdown().await
    }
}
#[async_trait]
impl Consumer<Traces> for Forward {
    async fn consume(&self, data: Traces) -> Result<(), ConsumeError> {
        self.next.consume(data).await
    }
}

/// Turns each traces batch into an empty metrics batch.
pub(crate) struct Summarize {
    lifecycle: Recorded,
    next: Next<Metrics>,
}
#[async_trait]
impl Component for Summarize {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        self.lifecycle.start(host).await
    }
    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.lifecycle.shutdown().await
    }
}
#[async_trait]
impl Consumer<Traces> for Summarize {
    async fn consume(&self, _data: Traces) -> Result<(), ConsumeError> {
        self.next.consume(Metrics::new(Default::default())).await
    }
}

/// Connectors of type `fwd`: traces to traces (passed on) and traces to metrics.
pub(crate) fn test_connector_factory(journal: Journal) -> ConnectorFactory<TestConfig> {
    let metrics_journal = journal.clone();
    ConnectorFactory::new("fwd")
        .with_traces_to_traces(
            move |s, c: &TestConfig, router: Router<Traces>| {
                Ok(Arc::new(Forward {
                    lifecycle: recorded(&journal, s, c),
                    next: router.next(),
                }) as Arc<dyn Connector<Traces>>)
            },
            Stability::Alpha,
        )
        .with_traces_to_metrics(
            move |s, c: &TestConfig, router: Router<Metrics>| {
                Ok(Arc::new(Summarize {
                    lifecycle: recorded(&metrics_journal, s, c),
                    next: router.next(),
                }) as Arc<dyn Connector<Traces>>)
            },
            Stability::Development,
        )
}
