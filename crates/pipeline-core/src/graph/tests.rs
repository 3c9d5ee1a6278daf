//! Graph tests with components that record what happens to them.

use std::sync::Arc;

use async_trait::async_trait;
use tributary_confmap::Conf;
use tributary_featuregate::Registry;

use super::*;
use crate::component::{BuildInfo, CreateSettings, Processor, ProcessorFactory, Stability};
use crate::consumer::{ConsumeError, Consumer, Next};
use crate::test_support::*;

/// Test components that record what happens to them, registered as every kind, and the
/// facilities to build graphs from them. Shared with the connector tests.
pub(super) struct World {
    pub journal: Journal,
    pub inlets: Inlets,
    pub sinks: Sinks,
    pub factories: Factories,
    pub facilities: CollectorFacilities,
}

impl World {
    pub fn new() -> Self {
        let journal = Journal::default();
        let inlets = Inlets::default();
        let sinks = Sinks::default();
        let mut factories = Factories::new();
        factories.add_receiver(test_receiver_factory(journal.clone(), inlets.clone()));
        factories.add_processor(test_processor_factory(journal.clone()));
        factories.add_exporter(test_exporter_factory(journal.clone(), sinks.clone()));
        factories.add_extension(test_extension_factory(journal.clone()));
        factories.add_connector(test_connector_factory(journal.clone()));
        let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
        World {
            journal,
            inlets,
            sinks,
            factories,
            facilities: CollectorFacilities::new(BuildInfo::default(), registry),
        }
    }

    pub fn plan(&self, yaml: &str) -> Result<Plan, ConfigErrors> {
        let conf = Conf::from_yaml(yaml).expect("test YAML parses");
        Plan::from_conf(&conf, &self.factories)
    }

    pub fn build(&self, yaml: &str, previous: Option<&Graph>) -> Graph {
        let plan = self
            .plan(yaml)
            .unwrap_or_else(|e| panic!("invalid test config:\n{e}"));
        Graph::build(&plan, &self.factories, &self.facilities, previous).expect("graph builds")
    }

    pub fn errors(&self, yaml: &str) -> Vec<String> {
        match self.plan(yaml) {
            Ok(_) => vec![],
            Err(e) => e.0.iter().map(|e| e.to_string()).collect(),
        }
    }
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
async fn a_failed_start_of_a_successor_leaves_the_running_statuses_as_they_were() {
    let world = World::new();
    let running = r#"
receivers: { test_in: {} }
processors: { tag: { tag: x } }
exporters: { mem: {} }
service:
  pipelines:
    traces: { receivers: [test_in], processors: [tag], exporters: [mem] }
"#;
    // `tag` changes (a new instance under the running one's name); `test_in/new` fails.
    let refused = r#"
receivers: { test_in: {}, test_in/new: { fail_start: true } }
processors: { tag: { tag: y } }
exporters: { mem: {}, mem/new: {} }
service:
  pipelines:
    traces: { receivers: [test_in, test_in/new], processors: [tag], exporters: [mem, mem/new] }
"#;
    let old = world.build(running, None);
    old.start().await.unwrap();
    let before = world.facilities.status.snapshot();
    assert_eq!(before.len(), 3, "{before:?}");

    let new = world.build(refused, Some(&old));
    new.start().await.unwrap_err();
    assert_eq!(
        world.facilities.status.snapshot(),
        before,
        "the refused configuration's components left no status behind"
    );
    drop(new);
    old.shutdown().await;
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
pub(super) fn panicker_factory() -> ProcessorFactory<TestConfig> {
    ProcessorFactory::new("panic").with_traces(
        |_: &CreateSettings, _: &TestConfig, _: Next<Traces>| {
            Ok(Arc::new(Panicker) as Arc<dyn Processor<Traces>>)
        },
        Stability::Development,
    )
}

#[tokio::test]
async fn a_panic_in_a_pipeline_is_an_error_and_a_reported_status() {
    let mut world = World::new();
    world.factories.add_processor(panicker_factory());
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

/// A processor that drops every other span it is given.
fn halving_factory() -> ProcessorFactory<TestConfig> {
    ProcessorFactory::new("halve").with_traces(
        |_: &CreateSettings, _: &TestConfig, next: Next<Traces>| {
            Ok(crate::processorhelper::from_fn(
                next,
                |traces: &mut Traces| {
                    for rs in &mut traces.make_mut().resource_spans {
                        for ss in &mut rs.scope_spans {
                            let mut keep = false;
                            ss.spans.retain(|_| {
                                keep = !keep;
                                keep
                            });
                        }
                    }
                    Ok(())
                },
            ))
        },
        Stability::Development,
    )
}

#[tokio::test]
async fn every_processor_counts_its_incoming_and_outgoing_items() {
    let mut world = World::new();
    world.factories.add_processor(halving_factory());
    let graph = world.build(
        "receivers: { test_in: {} }\nprocessors: { halve: {}, tag: {} }\nexporters: { mem: {} }\nservice: { pipelines: { traces: { receivers: [test_in], processors: [halve, tag], exporters: [mem] } } }\n",
        None,
    );
    graph.start().await.unwrap();
    let inlet = world.inlets.get("test_in");
    for _ in 0..3 {
        let mut four = spans();
        four.make_mut().resource_spans[0].scope_spans[0].spans = vec![Default::default(); 4];
        inlet.consume(four).await.unwrap();
    }
    let value = |name: &str, processor: &str| {
        world
            .facilities
            .metrics
            .value(name, &[("processor", processor), ("otel_signal", "traces")])
    };
    assert_eq!(
        value("otelcol_processor_incoming_items", "halve"),
        Some(12.0)
    );
    assert_eq!(
        value("otelcol_processor_outgoing_items", "halve"),
        Some(6.0)
    );
    assert_eq!(value("otelcol_processor_incoming_items", "tag"), Some(6.0));
    assert_eq!(value("otelcol_processor_outgoing_items", "tag"), Some(6.0));
    graph.shutdown().await;
}

/// Issue 13: a `service` section that did not decode hid every other problem, so a config
/// took one validate run per stage to fix.
#[test]
fn every_problem_is_reported_at_once() {
    let world = World::new();
    let errors = world.errors(
        "receivers: { jaeger: {}, test_in: { tag: invalid } }\nexporters: { mem: {} }\nservice: { telemetry: { tracez: {} }, pipelines: { traces: { receivers: [test_in], exporters: [mem] } } }\n",
    );
    let has = |text: &str| errors.iter().any(|e| e.contains(text));
    assert!(
        has("service::telemetry::tracez: unknown key"),
        "{errors:#?}"
    );
    assert!(
        has("receivers::jaeger: unknown receiver type"),
        "{errors:#?}"
    );
    assert!(
        has("receivers::test_in::tag: must not be \"invalid\""),
        "{errors:#?}"
    );
    assert_eq!(
        errors.len(),
        3,
        "no noise from the undecoded service section: {errors:#?}"
    );
}

/// Within one component too: a bad value hides neither a second bad value nor the unknown
/// keys beside it; each problem is its own line with the component's path.
#[test]
fn every_problem_inside_one_component_is_reported_at_once() {
    let world = World::new();
    let errors = world.errors(
        "receivers: { test_in: { tag: [x], fail_start: maybe, tga: a, extra: { b: 1 } } }\nexporters: { mem: {} }\nservice: { pipelines: { traces: { receivers: [test_in], exporters: [mem] } } }\n",
    );
    let paths: Vec<&str> = errors
        .iter()
        .map(|e| e.split(": ").next().unwrap_or_default())
        .collect();
    assert_eq!(
        paths,
        [
            "receivers::test_in::tag",
            "receivers::test_in::fail_start",
            "receivers::test_in::tga",
            "receivers::test_in::extra",
        ],
        "{errors:#?}"
    );
}
