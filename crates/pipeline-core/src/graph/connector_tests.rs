//! Graph tests for connectors: validation, build and start order across signals, cycles,
//! error propagation and reload.

use tributary_confmap::Conf;

use super::tests::World;
use super::*;
use crate::test_support::*;

/// traces/in → fwd → traces/out and metrics/out.
const JOINED: &str = r#"
receivers: { test_in: {} }
processors: { tag/in: { tag: in }, tag/out: { tag: out } }
exporters: { mem/out: {}, mem/metrics: {} }
connectors: { fwd: {} }
service:
  pipelines:
    traces/in: { receivers: [test_in], processors: [tag/in], exporters: [fwd] }
    traces/out: { receivers: [fwd], processors: [tag/out], exporters: [mem/out] }
    metrics/out: { receivers: [fwd], exporters: [mem/metrics] }
"#;

#[tokio::test]
async fn a_connector_joins_pipelines_across_signals_once_per_signal_pair() {
    let world = World::new();
    let graph = world.build(JOINED, None);
    let created = world.journal.matching("create connector");
    assert_eq!(
        created,
        ["create connector fwd traces", "create connector fwd traces"],
        "one instance per (from, to) pair: traces to traces, traces to metrics"
    );
    graph.start().await.unwrap();
    world.inlets.get("test_in").consume(spans()).await.unwrap();
    assert_eq!(world.sinks.received("mem/out"), [vec!["in", "out"]]);
    graph.shutdown().await;
}

#[tokio::test]
async fn downstream_pipelines_start_before_the_connector_and_stop_after_it() {
    let world = World::new();
    let graph = world.build(JOINED, None);
    world.journal.take();
    graph.start().await.unwrap();
    let started = world.journal.take();
    let at = |line: &str| {
        started
            .iter()
            .position(|l| l == line)
            .unwrap_or_else(|| panic!("{line} missing in {started:?}"))
    };
    assert!(at("start processor tag/out") < at("start connector fwd"));
    assert!(at("start connector fwd") < at("start processor tag/in"));
    assert!(at("start processor tag/in") < at("start receiver test_in"));
    assert_eq!(at("start receiver test_in"), started.len() - 1);

    graph.shutdown().await;
    let stopped = world.journal.take();
    let at = |line: &str| stopped.iter().position(|l| l == line).unwrap();
    assert_eq!(at("stop receiver test_in"), 0);
    assert!(at("stop processor tag/in") < at("stop connector fwd"));
    assert!(at("stop connector fwd") < at("stop processor tag/out"));
    assert!(at("stop processor tag/out") < at("stop exporter mem/out"));
}

#[test]
fn a_metrics_pipeline_fed_by_a_traces_connector_is_built_first() {
    let world = World::new();
    let plan = world.plan(JOINED).unwrap();
    let position = |wanted: &str| {
        plan.connections
            .order
            .iter()
            .position(|step| match step {
                Step::Pipeline(id) => id.to_string() == wanted,
                Step::Connector(c) => c.to_string() == wanted,
            })
            .unwrap()
    };
    assert!(position("metrics/out") < position(r#"connector "fwd" (traces to metrics)"#));
    assert!(position(r#"connector "fwd" (traces to metrics)"#) < position("traces/in"));
    assert!(position("traces/out") < position(r#"connector "fwd" (traces to traces)"#));
}

#[test]
fn a_cycle_is_refused_and_named() {
    let world = World::new();
    let errors = world.errors(
        r#"
receivers: { test_in: {} }
processors: { tag: {} }
exporters: { mem: {} }
connectors: { fwd/a: {}, fwd/b: {} }
service:
  pipelines:
    traces/in: { receivers: [test_in], exporters: [fwd/a] }
    traces/a: { receivers: [fwd/a], processors: [tag], exporters: [fwd/b] }
    traces/b: { receivers: [fwd/b], exporters: [fwd/a, mem] }
"#,
    );
    assert_eq!(
        errors,
        [
            r#"service::pipelines: cycle detected: connector "fwd/a" (traces to traces) -> processor "tag" in pipeline "traces/a" -> connector "fwd/b" (traces to traces) -> connector "fwd/a" (traces to traces)"#
        ]
    );
}

#[test]
fn a_connector_listed_on_one_side_only_is_refused_as_go_does() {
    let world = World::new();
    let exporter_only = world.errors(
        r#"
receivers: { test_in: {} }
connectors: { fwd: {} }
service:
  pipelines:
    traces: { receivers: [test_in], exporters: [fwd] }
"#,
    );
    assert_eq!(
        exporter_only,
        [
            r#"service::pipelines::traces::exporters: connector "fwd" used as exporter in traces pipeline but not used in any supported receiver pipeline (no pipeline lists it as a receiver; fwd connects traces to traces, traces to metrics)"#
        ]
    );
    let receiver_only = world.errors(
        r#"
exporters: { mem: {} }
connectors: { fwd: {} }
service:
  pipelines:
    traces: { receivers: [fwd], exporters: [mem] }
"#,
    );
    assert_eq!(
        receiver_only,
        [
            r#"service::pipelines::traces::receivers: connector "fwd" used as receiver in traces pipeline but not used in any supported exporter pipeline (no pipeline lists it as an exporter; fwd connects traces to traces, traces to metrics)"#
        ]
    );
}

#[test]
fn an_unsupported_signal_pair_names_both_pipelines() {
    let world = World::new();
    let errors = world.errors(
        r#"
receivers: { test_in: {} }
exporters: { mem: {} }
connectors: { fwd: {} }
service:
  pipelines:
    metrics/in: { receivers: [test_in], exporters: [fwd] }
    traces/out: { receivers: [fwd], exporters: [mem] }
"#,
    );
    assert_eq!(
        errors,
        [
            r#"service::pipelines::metrics/in::exporters: connector "fwd" used as exporter in metrics pipeline but not used in any supported receiver pipeline (it is a receiver of "traces/out"; fwd connects traces to traces, traces to metrics)"#,
            r#"service::pipelines::traces/out::receivers: connector "fwd" used as receiver in traces pipeline but not used in any supported exporter pipeline (it is an exporter of "metrics/in"; fwd connects traces to traces, traces to metrics)"#,
        ]
    );
}

#[test]
fn undeclared_unknown_and_ambiguous_connectors_are_refused() {
    let world = World::new();
    let errors = world.errors(
        r#"
receivers: { test_in: {} }
exporters: { mem: {} }
connectors: { nope: {} }
service:
  pipelines:
    traces/in: { receivers: [test_in], exporters: [fwd/missing] }
"#,
    );
    assert_eq!(
        errors,
        [
            r#"connectors::nope: unknown connector type "nope"; known connector types: fwd"#,
            r#"service::pipelines::traces/in::exporters: references exporter "fwd/missing" which is not configured"#,
        ]
    );
    let errors = world.errors(
        r#"
receivers: { test_in: {} }
exporters: { fwd: {} }
connectors: { fwd: {} }
service:
  pipelines:
    traces/in: { receivers: [test_in], exporters: [fwd] }
"#,
    );
    assert_eq!(
        errors,
        [
            r#"exporters::fwd: unknown exporter type "fwd"; known exporter types: mem, memory"#,
            r#"connectors::fwd: ambiguous ID: found both "fwd" exporter and "fwd" connector; rename one of them (e.g. "fwd/connector")"#,
        ]
    );
}

#[tokio::test]
async fn a_connector_returns_what_its_downstream_pipelines_returned() {
    let world = World::new();
    let mut factories = world.factories.clone();
    factories.add_processor(super::tests::panicker_factory());
    let yaml = r#"
receivers: { test_in: {} }
processors: { panic: {} }
exporters: { mem/ok: {}, mem/never: {} }
connectors: { fwd: {} }
service:
  pipelines:
    traces/in: { receivers: [test_in], exporters: [fwd] }
    traces/ok: { receivers: [fwd], exporters: [mem/ok] }
    traces/failing: { receivers: [fwd], processors: [panic], exporters: [mem/never] }
"#;
    let plan = Plan::from_conf(&Conf::from_yaml(yaml).unwrap(), &factories).unwrap();
    let graph = Graph::build(&plan, &factories, &world.facilities, None).unwrap();
    graph.start().await.unwrap();
    let error = world
        .inlets
        .get("test_in")
        .consume(spans())
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("traces/failing"),
        "the error names the failed pipeline: {error}"
    );
    assert!(error.is_permanent(), "{error}");
    assert_eq!(
        world.sinks.received("mem/ok"),
        [Vec::<String>::new()],
        "the healthy sibling got the data"
    );
    graph.shutdown().await;
}

#[tokio::test]
async fn a_reload_keeps_an_unchanged_connector_and_rebuilds_it_when_its_downstream_changes() {
    let world = World::new();
    let old = world.build(JOINED, None);
    old.start().await.unwrap();

    let same = world.build(JOINED, Some(&old));
    assert_eq!(same.fresh_components(), Vec::<(Kind, String)>::new());
    drop(same);

    // Only the downstream traces pipeline changes: the traces-to-traces instance and the
    // upstream pipeline exporting to it are rebuilt; traces-to-metrics is kept.
    let changed = JOINED.replace("tag/out: { tag: out }", "tag/out: { tag: changed }");
    world.journal.take();
    let new = world.build(&changed, Some(&old));
    let mut fresh = new.fresh_components();
    fresh.sort();
    assert_eq!(
        fresh,
        [
            (Kind::Processor, "tag/in".to_string()),
            (Kind::Processor, "tag/out".to_string()),
            (Kind::Connector, "fwd".to_string()),
        ]
    );
    assert_eq!(
        world.journal.matching("create connector"),
        ["create connector fwd traces"],
        "one instance rebuilt"
    );
    new.start().await.unwrap();
    new.switch_over();
    old.retire(Some(&new)).await;
    assert_eq!(
        world.journal.matching("stop connector"),
        ["stop connector fwd"],
        "the replaced instance stopped, the kept one did not"
    );
    world.inlets.get("test_in").consume(spans()).await.unwrap();
    assert_eq!(
        world.sinks.received("mem/out").last().unwrap(),
        &vec!["in".to_string(), "changed".to_string()]
    );
    new.shutdown().await;
}

#[tokio::test]
async fn a_connector_counts_what_it_consumed_and_what_it_produced_per_pipeline() {
    let world = World::new();
    let graph = world.build(JOINED, None);
    graph.start().await.unwrap();
    for _ in 0..2 {
        world.inlets.get("test_in").consume(spans()).await.unwrap();
    }
    let value = |name: &str, labels: &[(&str, &str)]| {
        world.facilities.metrics.value(name, labels).unwrap_or(0.0)
    };
    let to_traces = [
        ("connector", "fwd"),
        ("otel_signal", "traces"),
        ("otel_signal_output", "traces"),
    ];
    assert_eq!(value("otelcol_connector_consumed_items", &to_traces), 2.0);
    let mut produced = to_traces.to_vec();
    produced.push(("pipeline", "traces/out"));
    assert_eq!(value("otelcol_connector_produced_items", &produced), 2.0);
    let to_metrics = [
        ("connector", "fwd"),
        ("otel_signal", "traces"),
        ("otel_signal_output", "metrics"),
    ];
    assert_eq!(value("otelcol_connector_consumed_items", &to_metrics), 2.0);
    // Each traces batch became an empty metrics batch: no items.
    let mut produced = to_metrics.to_vec();
    produced.push(("pipeline", "metrics/out"));
    assert_eq!(value("otelcol_connector_produced_items", &produced), 0.0);

    // The connector reports its status as a connector.
    let statuses = world.facilities.status.snapshot();
    assert!(
        statuses.iter().any(|(source, _)| *source
            == StatusSource::Component(Kind::Connector, "fwd".parse().unwrap())),
        "{statuses:?}"
    );
    graph.shutdown().await;
}
