//! Test components that record what happens to them, shared by the graph and service tests.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::Deserialize;

use crate::component::{
    Component, ComponentConfig, ComponentError, CreateError, CreateSettings, Exporter,
    ExporterFactory, ExtensionFactory, Host, Processor, ProcessorFactory, Receiver,
    ReceiverFactory, Stability,
};
use crate::consumer::{ConsumeError, Consumer, Next};
use crate::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use crate::pdata::proto::common::v1::{AnyValue, KeyValue, any_value};
use crate::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use crate::pdata::{Metrics, Signal, Traces};

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

pub(crate) struct TestReceiverFactory(pub(crate) Journal, pub(crate) Inlets);
impl ReceiverFactory for TestReceiverFactory {
    type Config = TestConfig;
    fn component_type(&self) -> &'static str {
        "test_in"
    }
    fn stability(&self, signal: Signal) -> Stability {
        match signal {
            Signal::Logs => Stability::Undefined,
            _ => Stability::Beta,
        }
    }
    fn create_traces(
        &self,
        s: &CreateSettings,
        c: &TestConfig,
        next: Next<Traces>,
    ) -> Result<Arc<dyn Receiver>, CreateError> {
        self.1.0.lock().unwrap().push((s.id().to_string(), next));
        Ok(Arc::new(recorded(&self.0, s, c)))
    }
    fn create_metrics(
        &self,
        s: &CreateSettings,
        c: &TestConfig,
        _next: Next<Metrics>,
    ) -> Result<Arc<dyn Receiver>, CreateError> {
        Ok(Arc::new(recorded(&self.0, s, c)))
    }
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

pub(crate) struct TestProcessorFactory(pub(crate) Journal);
impl ProcessorFactory for TestProcessorFactory {
    type Config = TestConfig;
    fn component_type(&self) -> &'static str {
        "tag"
    }
    fn stability(&self, signal: Signal) -> Stability {
        if signal == Signal::Traces {
            Stability::Alpha
        } else {
            Stability::Undefined
        }
    }
    fn create_traces(
        &self,
        s: &CreateSettings,
        c: &TestConfig,
        next: Next<Traces>,
    ) -> Result<Arc<dyn Processor<Traces>>, CreateError> {
        Ok(Arc::new(Tagger {
            lifecycle: recorded(&self.0, s, c),
            tag: c.tag.clone(),
            next,
        }))
    }
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

pub(crate) struct TestExporterFactory(pub(crate) Journal, pub(crate) Sinks);
impl ExporterFactory for TestExporterFactory {
    type Config = TestConfig;
    fn component_type(&self) -> &'static str {
        "mem"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["memory"]
    }
    fn stability(&self, signal: Signal) -> Stability {
        if signal == Signal::Logs {
            Stability::Undefined
        } else {
            Stability::Stable
        }
    }
    fn create_traces(
        &self,
        s: &CreateSettings,
        c: &TestConfig,
    ) -> Result<Arc<dyn Exporter<Traces>>, CreateError> {
        let received = Arc::new(Mutex::new(Vec::new()));
        self.1
            .0
            .lock()
            .unwrap()
            .push((s.id().to_string(), received.clone()));
        Ok(Arc::new(Sink {
            lifecycle: recorded(&self.0, s, c),
            received,
        }))
    }
    fn create_metrics(
        &self,
        s: &CreateSettings,
        c: &TestConfig,
    ) -> Result<Arc<dyn Exporter<Metrics>>, CreateError> {
        Ok(Arc::new(MetricsSink(recorded(&self.0, s, c))))
    }
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

pub(crate) struct TestExtensionFactory(pub(crate) Journal);
impl ExtensionFactory for TestExtensionFactory {
    type Config = TestConfig;
    fn component_type(&self) -> &'static str {
        "ext"
    }
    fn stability(&self) -> Stability {
        Stability::Beta
    }
    fn create(
        &self,
        s: &CreateSettings,
        c: &TestConfig,
    ) -> Result<Arc<dyn crate::component::Extension>, CreateError> {
        Ok(Arc::new(recorded(&self.0, s, c)))
    }
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
