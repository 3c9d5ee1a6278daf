use std::sync::Arc;

use tributary_confmap::Conf;
use tributary_pipeline_core::component::{ComponentConfig, Kind, Router, decode_config};
use tributary_pipeline_core::consumer::{ConsumeError, Consumer};
use tributary_pipeline_core::pdata::attributes::{Attributes, key_value};
use tributary_pipeline_core::pdata::builder::{LogsBuilder, MetricsBuilder, TracesBuilder};
use tributary_pipeline_core::pdata::data_point::DataPointRef;
use tributary_pipeline_core::pdata::{ClientMetadata, Logs, Metrics, SignalData, Traces};
use tributary_pipeline_core::testing::{self, Sink};

use super::condition::{Expr, Literal, Operand};
use super::parser::{parse_condition, parse_statement};
use super::*;

fn config(yaml: &str) -> Result<Config, String> {
    let conf = Conf::from_yaml(yaml).unwrap();
    decode_config::<Config>(conf.as_value()).map_err(|e| e.to_string())
}

/// Sinks for `ids` and the router over them.
fn pipelines<T: SignalData>(ids: &[&str]) -> (Vec<Arc<Sink<T>>>, Router<T>) {
    let sinks: Vec<_> = ids.iter().map(|_| Sink::<T>::new()).collect();
    let router = Router::new(
        ids.iter()
            .zip(&sinks)
            .map(|(id, sink)| (id.parse().unwrap(), sink.next())),
    );
    (sinks, router)
}

fn connector<T: SignalData>(
    yaml: &str,
    router: Router<T>,
) -> Arc<dyn tributary_pipeline_core::component::Connector<T>> {
    let config = config(yaml).unwrap_or_else(|e| panic!("{e}"));
    factory()
        .create::<T, T>(
            &testing::settings::<T>(Kind::Connector, "routing"),
            &config,
            router,
        )
        .unwrap_or_else(|e| panic!("{e}"))
}

/// One resource per tenant, each with one span per entry of `spans` (its `env`).
fn traces(tenants: &[&str], spans: &[&str]) -> Traces {
    let mut builder = TracesBuilder::new();
    for tenant in tenants {
        builder
            .resource(vec![key_value("tenant", *tenant)])
            .scope("s", "");
        for (i, env) in spans.iter().enumerate() {
            builder
                .span(&format!("{tenant}-{i}"), [1; 16], [i as u8 + 1; 8])
                .attribute("env", *env);
        }
    }
    builder.build()
}

fn span_names(batches: &[Traces]) -> Vec<String> {
    batches
        .iter()
        .flat_map(|t| t.records().map(|(_, s)| s.name.clone()).collect::<Vec<_>>())
        .collect()
}

#[tokio::test]
async fn conformance() {
    testing::check_connector(
        factory(),
        "table: [{ condition: 'attributes[\"t\"] == \"a\"', pipelines: [traces/conformance] }]",
    )
    .await;
}

#[test]
fn the_subset_parses() {
    let parsed = parse_condition(
        Context::Span,
        r#"not (attributes["a"] == "x" or resource.attributes["b"] != 2) and name == nil"#,
    )
    .unwrap();
    assert!(matches!(parsed, Expr::And(..)), "{parsed:?}");
    assert_eq!(
        parse_statement(
            Context::Resource,
            r#"route() where attributes["k"] == true"#
        )
        .unwrap(),
        Expr::Compare {
            left: Operand::Attribute("k".into()),
            equal: true,
            right: Operand::Literal(Literal::Bool(true)),
        }
    );
    assert_eq!(
        parse_condition(Context::Request, r#"request["X-Tenant"] == "a\"b""#).unwrap(),
        Expr::Compare {
            left: Operand::Request("X-Tenant".into()),
            equal: true,
            right: Operand::Literal(Literal::String("a\"b".into())),
        }
    );
    for ok in [
        "1.5 == attributes[\"f\"]",
        "-3 != attributes[\"i\"]",
        "true",
    ] {
        parse_condition(Context::Log, ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
}

#[test]
fn anything_else_is_refused_with_the_column_and_what_was_expected() {
    let cases = [
        (
            Context::Resource,
            r#"attributes["a"] > 1"#,
            r#"cannot parse "attributes[\"a\"] > 1" at column 17: expected `==` or `!=`, found `>`"#,
        ),
        (
            Context::Resource,
            r#"IsMatch(attributes["a"], "x.*")"#,
            r#"at column 1: expected `attributes["..."]`, `resource.attributes["..."]` or a literal, found `IsMatch`"#,
        ),
        (
            Context::Metric,
            r#"attributes["a"] == "x""#,
            r#"at column 1: expected `resource.attributes["..."]`, `name` or a literal, found `attributes`"#,
        ),
        (
            Context::Resource,
            r#"attributes["a"] == "x"#,
            r#"at column 20: expected a closing `"`, found the end"#,
        ),
        (
            Context::Span,
            r#"(name == "a""#,
            "at column 13: expected `)`, `and` or `or`, found the end",
        ),
        (
            Context::Request,
            r#"attributes["a"] == "x""#,
            r#"at column 1: expected `request["..."]` or a literal, found `attributes`"#,
        ),
    ];
    for (context, source, want) in cases {
        let error = parse_condition(context, source).unwrap_err().to_string();
        assert!(error.contains(want), "{source}: {error}");
    }
    let error = parse_statement(Context::Resource, r#"drop() where name == "a""#)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("expected `route()`, the only function of routing statements, found `drop`"),
        "{error}"
    );
}

#[test]
fn validation_names_the_route_and_follows_go() {
    let cases = [
        (
            "table: []",
            "table: invalid routing table: the routing table is empty",
        ),
        (
            "table: [{ condition: 'true' }]",
            "table::0::pipelines: invalid route: no pipelines defined",
        ),
        (
            "table: [{ pipelines: [traces/a] }]",
            "table::0: invalid route: no condition or statement provided",
        ),
        (
            "table: [{ condition: 'true', statement: 'route()', pipelines: [traces/a] }]",
            "table::0: invalid route: both condition and statement provided",
        ),
        (
            "table: [{ context: request, statement: 'route()', pipelines: [traces/a] }]",
            "table::0::statement: \"request\" context requires a 'condition'",
        ),
        (
            "table: [{ context: scope, condition: 'true', pipelines: [traces/a] }]",
            "table::0::context",
        ),
        (
            "table: [{ condition: 'true', pipelines: [traces/a] }, { condition: 'attributes[\"a\"] =~ \"x\"', pipelines: [traces/a] }]",
            "table::1::condition: cannot parse",
        ),
        (
            "match_once: true\ntable: [{ condition: 'true', pipelines: [traces/a] }]",
            "match_once: no longer supported: the Go routing connector deprecated match_once in v0.116.0",
        ),
        (
            "error_mode: loud\ntable: [{ condition: 'true', pipelines: [traces/a] }]",
            "error_mode",
        ),
    ];
    for (yaml, want) in cases {
        let error = config(yaml).unwrap_err();
        assert!(error.starts_with(want), "{yaml}:\n{error}");
    }
    let ok = config(
        "default_pipelines: [traces/b]\nerror_mode: ignore\ntable: [{ context: span, statement: 'route() where name == \"x\"', pipelines: [traces/a] }]",
    )
    .unwrap();
    assert_eq!(ok.error_mode, ErrorMode::Ignore);
    assert!(ok.validate().is_ok());
}

#[tokio::test]
async fn resource_context_moves_whole_resources_and_the_rest_goes_to_the_defaults() {
    let (sinks, router) = pipelines::<Traces>(&["traces/a", "traces/b", "traces/default"]);
    let connector = connector(
        r#"
default_pipelines: [traces/default]
table:
  - condition: attributes["tenant"] == "a"
    pipelines: [traces/a]
  - statement: route() where attributes["tenant"] == "b" or attributes["tenant"] == "a"
    pipelines: [traces/b]
"#,
        router,
    );
    connector
        .consume(traces(&["a", "b", "c"], &["prod", "dev"]))
        .await
        .unwrap();
    assert_eq!(span_names(&sinks[0].accepted()), ["a-0", "a-1"]);
    assert_eq!(
        span_names(&sinks[1].accepted()),
        ["b-0", "b-1"],
        "the first matching route takes a resource"
    );
    assert_eq!(span_names(&sinks[2].accepted()), ["c-0", "c-1"]);
}

#[tokio::test]
async fn span_context_moves_single_spans_keeping_their_resource() {
    let (sinks, router) = pipelines::<Traces>(&["traces/prod", "traces/rest"]);
    let connector = connector(
        r#"
default_pipelines: [traces/rest]
table:
  - context: span
    condition: attributes["env"] == "prod" and resource.attributes["tenant"] != "b"
    pipelines: [traces/prod]
"#,
        router,
    );
    connector
        .consume(traces(&["a", "b"], &["prod", "dev"]))
        .await
        .unwrap();
    let prod = sinks[0].accepted();
    assert_eq!(span_names(&prod), ["a-0"]);
    let (origin, _) = prod[0].records().next().unwrap();
    assert_eq!(origin.resource_attributes().get_str("tenant"), Some("a"));
    assert_eq!(span_names(&sinks[1].accepted()), ["a-1", "b-0", "b-1"]);
}

#[tokio::test]
async fn request_context_routes_by_client_metadata() {
    let (sinks, router) = pipelines::<Logs>(&["logs/acme", "logs/rest"]);
    let connector = connector(
        r#"
default_pipelines: [logs/rest]
table:
  - context: request
    condition: request["X-Tenant"] == "acme"
    pipelines: [logs/acme]
"#,
        router,
    );
    let logs = || {
        let mut builder = LogsBuilder::new();
        builder.resource(vec![]).scope("s", "");
        builder.record("hello");
        builder.build()
    };
    let mut acme = ClientMetadata::new();
    acme.insert("x-tenant", "other");
    acme.insert("x-tenant", "acme");
    connector
        .consume(logs().with_metadata(Arc::new(acme)))
        .await
        .unwrap();
    connector.consume(logs()).await.unwrap();
    assert_eq!(sinks[0].accepted_items(), 1);
    assert!(
        sinks[0].accepted()[0].metadata().is_some(),
        "metadata travels on"
    );
    assert_eq!(sinks[1].accepted_items(), 1);
}

#[tokio::test]
async fn log_and_datapoint_contexts_split_records() {
    let (sinks, router) = pipelines::<Logs>(&["logs/errors"]);
    let logs_connector = connector(
        r#"
table:
  - context: log
    condition: attributes["level"] == "error"
    pipelines: [logs/errors]
"#,
        router,
    );
    let mut builder = LogsBuilder::new();
    builder.resource(vec![]).scope("s", "");
    builder.record("a").attribute("level", "error");
    builder.record("b").attribute("level", "info");
    logs_connector.consume(builder.build()).await.unwrap();
    assert_eq!(
        sinks[0].accepted_items(),
        1,
        "the other record is dropped: no default"
    );

    let (sinks, router) = pipelines::<Metrics>(&["metrics/big", "metrics/rest"]);
    let connector = connector(
        r#"
default_pipelines: [metrics/rest]
table:
  - context: datapoint
    condition: attributes["size"] == 10 or attributes["size"] == 10.0
    pipelines: [metrics/big]
  - context: metric
    condition: name == "other"
    pipelines: [metrics/big]
"#,
        router,
    );
    let mut builder = MetricsBuilder::new();
    builder.resource(vec![]).scope("s", "");
    let mut gauge = builder.gauge("g", "1");
    gauge.int(vec![key_value("size", 10)], 1, 1);
    gauge.int(vec![key_value("size", 2)], 1, 2);
    builder.gauge("other", "1").int(vec![], 1, 3);
    connector.consume(builder.build()).await.unwrap();
    let big = sinks[0].accepted();
    let sizes: Vec<Option<i64>> = big
        .iter()
        .flat_map(|m| {
            m.data_points()
                .map(|(_, p): (_, DataPointRef<'_>)| p.attributes().get_int("size"))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(sizes, [Some(10), None]);
    assert_eq!(sinks[1].accepted_items(), 1);
}

#[tokio::test]
async fn a_failing_route_fails_the_call_and_the_others_still_get_their_part() {
    let (sinks, router) = pipelines::<Traces>(&["traces/a", "traces/b"]);
    sinks[0].refuse_with(Some(ConsumeError::retryable("backend down")));
    let connector = connector(
        r#"
default_pipelines: [traces/b]
table:
  - condition: attributes["tenant"] == "a"
    pipelines: [traces/a]
"#,
        router,
    );
    let error = connector
        .consume(traces(&["a", "b"], &["x"]))
        .await
        .unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert_eq!(span_names(&sinks[1].accepted()), ["b-0"]);
}

#[test]
fn creation_refuses_unknown_pipelines_and_contexts_of_another_signal() {
    let settings = testing::settings::<Metrics>(Kind::Connector, "routing");
    let (_, router) = pipelines::<Metrics>(&["metrics/a"]);
    let span =
        config("table: [{ context: span, condition: 'true', pipelines: [metrics/a] }]").unwrap();
    let error = factory()
        .create::<Metrics, Metrics>(&settings, &span, router.clone())
        .err()
        .unwrap();
    assert_eq!(
        error.to_string(),
        "table[0]: the span context does not apply to metrics"
    );
    let unknown = config("table: [{ condition: 'true', pipelines: [metrics/b] }]").unwrap();
    let error = factory()
        .create::<Metrics, Metrics>(&settings, &unknown, router)
        .err()
        .unwrap();
    assert!(
        error.to_string().starts_with(
            "table[0]: pipeline \"metrics/b\" does not list this connector as a receiver"
        ),
        "{error}"
    );
}

/// A condition of a richer language that fails on every item.
#[derive(Debug)]
struct Failing;
impl Condition for Failing {
    fn matches(&self, _: &Item<'_>) -> Result<bool, EvalError> {
        Err(EvalError("attributes[\"x\"] is not a number".into()))
    }
}

#[tokio::test]
async fn error_mode_decides_what_a_failing_condition_does() {
    use super::connector::{CompiledRoute, Routing};
    for (mode, fails) in [
        (ErrorMode::Propagate, true),
        (ErrorMode::Ignore, false),
        (ErrorMode::Silent, false),
    ] {
        let (matched, default) = (Sink::<Traces>::new(), Sink::<Traces>::new());
        let routing = Routing {
            routes: vec![CompiledRoute {
                context: Context::Resource,
                condition: Arc::new(Failing),
                consumer: matched.next(),
                name: "table[0]".into(),
            }],
            default: Some(default.next()),
            error_mode: mode,
        };
        let outcome = routing.consume(traces(&["a"], &["x"])).await;
        if fails {
            let error = outcome.unwrap_err();
            assert!(error.is_permanent(), "{error}");
            assert!(
                error.to_string().contains("table[0]: the condition failed"),
                "{error}"
            );
            assert_eq!(default.calls(), 0);
        } else {
            outcome.unwrap();
            assert_eq!(
                (matched.calls(), default.accepted_items()),
                (0, 1),
                "{mode:?}: the data goes on as if the route did not match"
            );
        }
    }
}

/// The Go routing connector's README (opentelemetry-collector-contrib
/// `connector/routingconnector/README.md`, "Configuration" and "Examples"): resource
/// context by attribute, span context, `route() where` statements with converters, and
/// a mix with the default pipelines. Full OTTL: paths, converters, `<`/`>`, enums.
#[tokio::test]
async fn readme_examples_route_with_full_ottl() {
    let (sinks, router) = pipelines::<Traces>(&["traces/acme", "traces/ecorp", "traces/other"]);
    let routing = connector(
        r#"
default_pipelines: [traces/other]
error_mode: ignore
table:
  - statement: route() where resource.attributes["tenant"] == "acme"
    pipelines: [traces/acme]
  - statement: route() where IsMatch(resource.attributes["tenant"], ".*corp")
    pipelines: [traces/ecorp]
"#,
        router,
    );
    routing
        .consume(traces(&["acme", "ecorp", "initech"], &["x"]))
        .await
        .unwrap();
    assert_eq!(span_names(&sinks[0].accepted()), ["acme-0"]);
    assert_eq!(span_names(&sinks[1].accepted()), ["ecorp-0"]);
    assert_eq!(span_names(&sinks[2].accepted()), ["initech-0"]);

    // Span context, with a converter and the span's own fields.
    let (sinks, router) = pipelines::<Traces>(&["traces/prod", "traces/other"]);
    let routing = connector(
        r#"
default_pipelines: [traces/other]
table:
  - context: span
    condition: attributes["env"] == "prod" and Len(name) > 3 and kind == SPAN_KIND_UNSPECIFIED
    pipelines: [traces/prod]
"#,
        router,
    );
    routing
        .consume(traces(&["a", "bb"], &["prod", "dev"]))
        .await
        .unwrap();
    assert_eq!(span_names(&sinks[0].accepted()), ["bb-0"]);
    assert_eq!(span_names(&sinks[1].accepted()), ["a-0", "a-1", "bb-1"]);
}

/// README: log context by severity, metric context by name, datapoint context.
#[tokio::test]
async fn ottl_log_metric_and_datapoint_contexts() {
    let (sinks, router) = pipelines::<Logs>(&["logs/errors", "logs/other"]);
    let routing = connector(
        r#"
default_pipelines: [logs/other]
table:
  - context: log
    condition: severity_number >= SEVERITY_NUMBER_ERROR or IsMatch(body, "panic")
    pipelines: [logs/errors]
"#,
        router,
    );
    let mut builder = LogsBuilder::new();
    builder.resource(vec![]).scope("s", "");
    use tributary_pipeline_core::pdata::proto::logs::v1::SeverityNumber;
    builder
        .record("fine")
        .severity(SeverityNumber::Info, "INFO");
    builder
        .record("bad")
        .severity(SeverityNumber::Error, "ERROR");
    builder
        .record("kernel panic")
        .severity(SeverityNumber::Info, "INFO");
    routing.consume(builder.build()).await.unwrap();
    assert_eq!(sinks[0].accepted_items(), 2);
    assert_eq!(sinks[1].accepted_items(), 1);

    let (sinks, router) = pipelines::<Metrics>(&["metrics/cpu", "metrics/big", "metrics/other"]);
    let routing = connector(
        r#"
default_pipelines: [metrics/other]
table:
  - context: metric
    condition: IsMatch(name, "^system\\.cpu\\.")
    pipelines: [metrics/cpu]
  - context: datapoint
    condition: value_double > 10.0
    pipelines: [metrics/big]
"#,
        router,
    );
    let mut builder = MetricsBuilder::new();
    builder.resource(vec![]).scope("s", "");
    builder.gauge("system.cpu.time", "s").double(vec![], 1, 1.0);
    let mut queue = builder.gauge("queue.size", "1");
    queue.double(vec![], 1, 5.0);
    queue.double(vec![], 2, 50.0);
    routing.consume(builder.build()).await.unwrap();
    assert_eq!(sinks[0].accepted_items(), 1);
    assert_eq!(sinks[1].accepted_items(), 1);
    assert_eq!(sinks[2].accepted_items(), 1);
}

#[test]
fn ottl_errors_name_the_route_and_the_column() {
    for (yaml, want) in [
        (
            "table: [{ context: span, condition: 'attributes[\"a\"] == ', pipelines: [traces/a] }]",
            "table::0::condition: cannot parse",
        ),
        (
            "table: [{ context: log, condition: 'span.name == \"x\"', pipelines: [logs/a] }]",
            "table::0::condition: cannot parse \"span.name == \\\"x\\\"\" at column 1: expected valid OTTL",
        ),
        (
            "table: [{ statement: 'set(attributes[\"a\"], 1)', pipelines: [traces/a] }]",
            "table::0::statement: cannot parse",
        ),
    ] {
        let error = config(yaml).unwrap_err();
        assert!(error.starts_with(want), "{yaml}:\n{error}");
    }
}
