//! Graph tests with components that record what happens to them.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::Deserialize;
use tributary_confmap::Conf;
use tributary_featuregate::Registry;

use super::*;
use crate::component::{
    BuildInfo, ComponentConfig, CreateError, CreateSettings, Exporter, ExporterFactory,
    ExtensionFactory, Processor, ProcessorFactory, Receiver, ReceiverFactory, Stability,
};
use crate::config::CollectorConfig;
use crate::consumer::{ConsumeError, Consumer, Next};
use crate::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use crate::pdata::proto::common::v1::{AnyValue, KeyValue, any_value};
use crate::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use crate::pdata::{Metrics, Signal};

/// What happened, in order: "create receiver otlp traces", "start exporter mem", ...
#[derive(Clone, Default)]
struct Journal(Arc<Mutex<Vec<String>>>);

impl Journal {
    fn push(&self, line: String) {
        self.0.lock().unwrap().push(line);
    }
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
    fn matching(&self, prefix: &str) -> Vec<String> {
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
struct TestConfig {
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
struct Recorded {
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

fn recorded(journal: &Journal, settings: &CreateSettings, config: &TestConfig) -> Recorded {
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
#[derive(Clone, Default)]
struct Inlets(Arc<Mutex<Vec<(String, Next<Traces>)>>>);

impl Inlets {
    fn get(&self, id: &str) -> Next<Traces> {
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

struct TestReceiverFactory(Journal, Inlets);
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
struct Tagger {
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

struct TestProcessorFactory(Journal);
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
struct Sink {
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

#[derive(Clone, Default)]
struct Sinks(Arc<Mutex<Vec<(String, Arc<Mutex<Vec<Vec<String>>>>)>>>);
impl Sinks {
    fn received(&self, id: &str) -> Vec<Vec<String>> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(name, _)| name == id)
            .flat_map(|(_, r)| r.lock().unwrap().clone())
            .collect()
    }
}

struct TestExporterFactory(Journal, Sinks);
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

struct MetricsSink(Recorded);
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

struct TestExtensionFactory(Journal);
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

struct World {
    journal: Journal,
    inlets: Inlets,
    sinks: Sinks,
    factories: Factories,
    facilities: CollectorFacilities,
}

impl World {
    fn new() -> Self {
        let journal = Journal::default();
        let inlets = Inlets::default();
        let sinks = Sinks::default();
        let mut factories = Factories::new();
        factories.add_receiver(TestReceiverFactory(journal.clone(), inlets.clone()));
        factories.add_processor(TestProcessorFactory(journal.clone()));
        factories.add_exporter(TestExporterFactory(journal.clone(), sinks.clone()));
        factories.add_extension(TestExtensionFactory(journal.clone()));
        let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
        World {
            journal,
            inlets,
            sinks,
            factories,
            facilities: CollectorFacilities::new(BuildInfo::default(), registry),
        }
    }

    fn plan(&self, yaml: &str) -> Result<Plan, ConfigErrors> {
        let conf = Conf::from_yaml(yaml).expect("test YAML parses");
        Plan::new(CollectorConfig::from_conf(&conf)?, &self.factories)
    }

    fn build(&self, yaml: &str, previous: Option<&Graph>) -> Graph {
        let plan = self
            .plan(yaml)
            .unwrap_or_else(|e| panic!("invalid test config:\n{e}"));
        Graph::build(&plan, &self.factories, &self.facilities, previous).expect("graph builds")
    }

    fn errors(&self, yaml: &str) -> Vec<String> {
        match self.plan(yaml) {
            Ok(_) => vec![],
            Err(e) => e.0.iter().map(|e| e.to_string()).collect(),
        }
    }
}

fn spans() -> Traces {
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

const TWO_PIPELINES: &str = r#"
receivers:
  test_in: {}
processors:
  tag/a: { tag: a }
  tag/b: { tag: b }
exporters:
  mem/1: {}
  mem/2: {}
extensions:
  ext: {}
service:
  extensions: [ext]
  pipelines:
    traces/one:
      receivers: [test_in]
      processors: [tag/a, tag/b]
      exporters: [mem/1, mem/2]
    traces/two:
      receivers: [test_in]
      processors: [tag/b]
      exporters: [mem/1]
    metrics:
      receivers: [test_in]
      exporters: [mem/1]
"#;

#[test]
fn every_validation_error_names_its_path() {
    let world = World::new();
    let errors = world.errors(
        r#"
receivers:
  test_in: {}
  nope: {}
processors:
  tag: { tag: invalid }
  tag/x: { colour: red }
exporters:
  mem: {}
extensions:
  ext: {}
service:
  extensions: [ext, ext/missing]
  pipelines:
    traces:
      receivers: [test_in, test_in/2]
      processors: [tag, tag]
      exporters: [mem]
    logs:
      receivers: [test_in]
      exporters: []
"#,
    );
    let expected = [
        r#"receivers::nope: unknown receiver type "nope"; known receiver types: test_in"#,
        r#"processors::tag::tag: must not be "invalid""#,
        "processors::tag/x::colour: unknown key; valid keys: `tag`, `fail_start`",
        r#"service::extensions: references extension "ext/missing" which is not configured"#,
        r#"service::pipelines::logs::exporters: must list at least one exporter"#,
        r#"service::pipelines::logs::receivers: receiver "test_in" does not support logs"#,
        r#"service::pipelines::traces::receivers: references receiver "test_in/2" which is not configured"#,
        r#"service::pipelines::traces::processors: processor "tag" is listed twice"#,
    ];
    for want in expected {
        assert!(
            errors.iter().any(|e| e.starts_with(want)),
            "missing {want:?} in:\n{}",
            errors.join("\n")
        );
    }
    assert_eq!(errors.len(), expected.len(), "{}", errors.join("\n"));
}

#[test]
fn structural_errors() {
    let world = World::new();
    assert_eq!(world.errors(""), ["the configuration is empty"]);
    let errors = world.errors("receivers: {}\nexporter: {}\n");
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("exporter: unknown section")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.starts_with("service: missing")),
        "{errors:?}"
    );
    let errors = world.errors("receivers: { test_in: {} }\nexporters: { mem: {} }\nservice: { pipelines: { profiles: { receivers: [test_in], exporters: [mem] } } }\n");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("service::pipelines") && e.contains("unknown pipeline signal")),
        "{errors:?}"
    );
    let errors = world
        .errors("receivers: { test_in: {} }\nexporters: { mem: {} }\nservice: { pipelines: {} }\n");
    assert_eq!(
        errors,
        ["service::pipelines: at least one pipeline is required"]
    );
}

#[test]
fn aliases_resolve_to_the_same_factory() {
    let world = World::new();
    assert_eq!(
        world.errors("receivers: { test_in: {} }\nexporters: { memory: {} }\nservice: { pipelines: { traces: { receivers: [test_in], exporters: [memory] } } }\n"),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn instances_are_shared_as_the_collector_shares_them() {
    let world = World::new();
    let graph = world.build(TWO_PIPELINES, None);
    let created = world.journal.matching("create");
    let count = |line: &str| created.iter().filter(|l| l.as_str() == line).count();
    // One receiver per (signal, ID), however many pipelines list it.
    assert_eq!(count("create receiver test_in traces"), 1);
    assert_eq!(count("create receiver test_in metrics"), 1);
    // One exporter per (signal, ID).
    assert_eq!(count("create exporter mem/1 traces"), 1);
    assert_eq!(count("create exporter mem/1 metrics"), 1);
    // Processors per pipeline.
    assert_eq!(count("create processor tag/b traces"), 2);
    graph.start().await.unwrap();

    // The shared receiver feeds both pipelines; each pipeline's processors run in order.
    world.inlets.get("test_in").consume(spans()).await.unwrap();
    let mut to_first = world.sinks.received("mem/1");
    to_first.sort();
    assert_eq!(to_first, [vec!["a", "b"], vec!["b"]]);
    assert_eq!(world.sinks.received("mem/2"), [vec!["a", "b"]]);
    graph.shutdown().await;
}

#[tokio::test]
async fn start_and_shutdown_order() {
    let world = World::new();
    let yaml = r#"
receivers: { test_in: {} }
processors: { tag/a: {}, tag/b: {} }
exporters: { mem: {} }
extensions: { ext: {} }
service:
  extensions: [ext]
  pipelines:
    traces: { receivers: [test_in], processors: [tag/a, tag/b], exporters: [mem] }
"#;
    let graph = world.build(yaml, None);
    world.journal.take();
    graph.start().await.unwrap();
    assert_eq!(
        world.journal.take(),
        [
            "start extension ext",
            "start exporter mem",
            "start processor tag/b",
            "start processor tag/a",
            "start receiver test_in",
        ]
    );
    graph.shutdown().await;
    assert_eq!(
        world.journal.take(),
        [
            "stop receiver test_in",
            "stop processor tag/a",
            "stop processor tag/b",
            "stop exporter mem",
            "stop extension ext",
        ]
    );
}

#[tokio::test]
async fn a_failed_start_stops_what_started_and_reports_it() {
    let world = World::new();
    let yaml = r#"
receivers: { test_in: { fail_start: true } }
processors: { tag: {} }
exporters: { mem: {} }
service:
  pipelines:
    traces: { receivers: [test_in], processors: [tag], exporters: [mem] }
"#;
    let graph = world.build(yaml, None);
    world.journal.take();
    let err = graph.start().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to start receiver test_in: refused to start"
    );
    assert_eq!(
        world.journal.take(),
        [
            "start exporter mem",
            "start processor tag",
            "start receiver test_in",
            "stop processor tag",
            "stop exporter mem",
        ]
    );
}

#[tokio::test]
async fn a_rebuild_keeps_what_did_not_change() {
    let world = World::new();
    let before = r#"
receivers: { test_in: {} }
processors: { tag: { tag: x } }
exporters: { mem/kept: {}, mem/changed: {} , mem/removed: {} }
service:
  pipelines:
    traces: { receivers: [test_in], processors: [tag], exporters: [mem/kept, mem/changed, mem/removed] }
"#;
    let after = r#"
receivers: { test_in: {} }
processors: { tag: { tag: y } }
exporters: { mem/kept: {}, mem/changed: { tag: new }, mem/added: {} }
service:
  pipelines:
    traces: { receivers: [test_in], processors: [tag], exporters: [mem/kept, mem/changed, mem/added] }
"#;
    let old = world.build(before, None);
    old.start().await.unwrap();
    world.inlets.get("test_in").consume(spans()).await.unwrap();

    world.journal.take();
    let new = world.build(after, Some(&old));
    let mut fresh = new.fresh_components();
    fresh.sort();
    assert_eq!(
        fresh,
        [
            (Kind::Processor, "tag".to_string()),
            (Kind::Exporter, "mem/added".to_string()),
            (Kind::Exporter, "mem/changed".to_string()),
        ],
        "the receiver and the unchanged exporter are taken over"
    );
    new.start().await.unwrap();
    new.switch_over();
    old.retire(Some(&new)).await;
    let mut stopped = world.journal.matching("stop");
    stopped.sort();
    assert_eq!(
        stopped,
        [
            "stop exporter mem/changed",
            "stop exporter mem/removed",
            "stop processor tag"
        ]
    );

    // The same receiver now feeds the new pipeline.
    world.inlets.get("test_in").consume(spans()).await.unwrap();
    assert_eq!(world.sinks.received("mem/kept"), [vec!["x"], vec!["y"]]);
    assert_eq!(world.sinks.received("mem/added"), [vec!["y"]]);
    new.shutdown().await;
}

#[tokio::test]
async fn an_unchanged_pipeline_is_kept_whole() {
    let world = World::new();
    let old = world.build(TWO_PIPELINES, None);
    old.start().await.unwrap();
    let new = world.build(TWO_PIPELINES, Some(&old));
    assert_eq!(new.fresh_components(), Vec::<(Kind, String)>::new());
    new.start().await.unwrap();
    new.switch_over();
    world.journal.take();
    old.retire(Some(&new)).await;
    assert_eq!(
        world.journal.take(),
        Vec::<String>::new(),
        "nothing stopped"
    );
    new.shutdown().await;
}

/// A processor that panics on every call.
struct Panicker;
#[async_trait]
impl Component for Panicker {}
#[async_trait]
impl Consumer<Traces> for Panicker {
    async fn consume(&self, _data: Traces) -> Result<(), ConsumeError> {
        panic!("boom")
    }
}
struct PanickerFactory;
impl ProcessorFactory for PanickerFactory {
    type Config = TestConfig;
    fn component_type(&self) -> &'static str {
        "panic"
    }
    fn stability(&self, _: Signal) -> Stability {
        Stability::Development
    }
    fn create_traces(
        &self,
        _: &CreateSettings,
        _: &TestConfig,
        _: Next<Traces>,
    ) -> Result<Arc<dyn Processor<Traces>>, CreateError> {
        Ok(Arc::new(Panicker))
    }
}

#[tokio::test]
async fn a_panic_in_a_pipeline_is_an_error_and_a_reported_status() {
    let mut world = World::new();
    world.factories.add_processor(PanickerFactory);
    let graph = world.build(
        "receivers: { test_in: {} }\nprocessors: { panic: {} }\nexporters: { mem: {} }\nservice: { pipelines: { traces: { receivers: [test_in], processors: [panic], exporters: [mem] } } }\n",
        None,
    );
    graph.start().await.unwrap();
    let err = world
        .inlets
        .get("test_in")
        .consume(spans())
        .await
        .unwrap_err();
    assert!(err.is_permanent());
    assert!(
        err.message().contains("a component panicked: boom"),
        "{err}"
    );
    let statuses = world.facilities.status.snapshot();
    assert!(statuses.iter().any(|(source, entry)| {
        *source == StatusSource::Pipeline("traces".parse().unwrap())
            && matches!(&entry.status, ComponentStatus::PermanentError(m) if m.contains("boom"))
    }));
    graph.shutdown().await;
}
