//! Config, filtering and golden tests of the filter processor.
//!
//! The OTTL examples are the upstream README's (opentelemetry-collector-contrib
//! `processor/filterprocessor/README.md`, v0.126: "Configuration" and "Examples"); the
//! legacy ones come from its older README and `testdata/config_*.yaml`. Each test names
//! the section it takes its config from.
//!
//! Upstream examples not covered, with the reason:
//! - `match_type: expr`: Go's expr language is not embedded, refused at validation.

use tributary_pipeline_core::component::{ComponentConfig, Kind, load_config};
use tributary_pipeline_core::pdata::otlp_json;
use tributary_pipeline_core::pdata::{Logs, Metrics, SignalData, Traces};
use tributary_pipeline_core::testing::Sink;

use super::{Config, ErrorMode, factory};

fn config(yaml: &str) -> Config {
    let c = load_config::<Config>(yaml).unwrap_or_else(|e| panic!("{e}"));
    c.validate().unwrap_or_else(|e| panic!("{e}"));
    c
}

/// Runs `json` through a filter with `yaml`; the request that came out (`None`: all
/// dropped) and the processor's dropped-items counter. Runs twice: on the request
/// decoded, and on its encoding as a receiver hands it over (filtered on the bytes);
/// both must agree.
async fn run<T: FromJson>(yaml: &str, json: &str) -> Result<(Option<T>, f64), String> {
    let decoded = T::from_json(json);
    let encoded = decoded.as_received();
    let on_decoded = run_one(yaml, decoded).await;
    let on_encoded = run_one(yaml, encoded).await;
    match (&on_decoded, &on_encoded) {
        (Ok((a, a_dropped)), Ok((b, b_dropped))) => {
            assert_eq!(
                a, b,
                "filtering the bytes keeps what filtering the decoded request keeps"
            );
            assert_eq!(a_dropped, b_dropped, "the dropped counts agree");
        }
        (a, b) => assert_eq!(a.as_ref().err(), b.as_ref().err(), "the errors agree"),
    }
    on_decoded
}

async fn run_one<T: FromJson>(yaml: &str, data: T) -> Result<(Option<T>, f64), String> {
    let sink = Sink::<T>::new();
    let settings = tributary_pipeline_core::testing::settings::<T>(Kind::Processor, "filter/x");
    let p = factory()
        .create(&settings, &config(yaml), sink.next())
        .unwrap_or_else(|e| panic!("{e}"));
    p.consume(data).await.map_err(|e| e.to_string())?;
    let name = match T::SIGNAL {
        tributary_pipeline_core::pdata::Signal::Traces => "spans",
        tributary_pipeline_core::pdata::Signal::Metrics => "datapoints",
        _ => "logs",
    };
    let dropped = settings.metrics().sum(
        &format!("otelcol_processor_filter_{name}_filtered"),
        &[("filter", "filter/x")],
    );
    Ok((sink.accepted().into_iter().next(), dropped))
}

/// A signal's data from OTLP/JSON, or from its protobuf encoding (kept as bytes).
trait FromJson: SignalData + PartialEq + std::fmt::Debug {
    fn from_json(json: &str) -> Self;
    /// The same data as a receiver hands it over: its encoding, not yet decoded.
    fn as_received(&self) -> Self;
}

macro_rules! from_json {
    ($($t:ty),*) => {$(
        impl FromJson for $t {
            fn from_json(json: &str) -> Self {
                <$t>::new(otlp_json::decode(json.as_bytes()).unwrap_or_else(|e| panic!("{e}")))
            }
            fn as_received(&self) -> Self {
                <$t>::decode(<$t>::encoded(self)).unwrap()
            }
        }
    )*};
}
from_json!(Traces, Metrics, Logs);

fn span_names(t: &Option<Traces>) -> Vec<String> {
    t.iter()
        .flat_map(|t| &t.request().resource_spans)
        .flat_map(|rs| &rs.scope_spans)
        .flat_map(|ss| &ss.spans)
        .map(|s| s.name.clone())
        .collect()
}

fn metric_names(m: &Option<Metrics>) -> Vec<String> {
    m.iter()
        .flat_map(|m| &m.request().resource_metrics)
        .flat_map(|rm| &rm.scope_metrics)
        .flat_map(|sm| &sm.metrics)
        .map(|m| m.name.clone())
        .collect()
}

fn log_bodies(l: &Option<Logs>) -> Vec<String> {
    use tributary_pipeline_core::pdata::proto::common::v1::any_value::Value;
    l.iter()
        .flat_map(|l| &l.request().resource_logs)
        .flat_map(|rl| &rl.scope_logs)
        .flat_map(|sl| &sl.log_records)
        .map(|r| match r.body.as_ref().and_then(|b| b.value.as_ref()) {
            Some(Value::StringValue(s)) => s.clone(),
            _ => String::new(),
        })
        .collect()
}

/// Two resources (`host.name` = localhost / other), spans with attributes and events.
const TRACES: &str = r#"{"resourceSpans":[
  {"resource":{"attributes":[{"key":"host.name","value":{"stringValue":"localhost"}}]},
   "scopeSpans":[{"scope":{"name":"lib"},"spans":[
     {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"local"}]}]},
  {"resource":{"attributes":[{"key":"host.name","value":{"stringValue":"other"}}]},
   "scopeSpans":[{"scope":{"name":"lib"},"spans":[
     {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175","name":"app_3"},
     {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b176","name":"in_container",
      "attributes":[{"key":"container.name","value":{"stringValue":"app_container_1"}}]},
     {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b177","name":"http",
      "attributes":[{"key":"http.request.method","value":{"stringValue":"GET"}}],
      "events":[{"name":"grpc.call"},{"name":"keep","attributes":[{"key":"grpc","value":{"boolValue":false}}]},
                {"name":"flagged","attributes":[{"key":"grpc","value":{"boolValue":true}}]}]}]}]}]}"#;

const METRICS: &str = r#"{"resourceMetrics":[
  {"resource":{"attributes":[{"key":"my_label","value":{"stringValue":"abc123"}},
                             {"key":"service.name","value":{"stringValue":"svc"}}]},
   "scopeMetrics":[{"scope":{"name":"lib"},"metrics":[
     {"name":"my.metric","gauge":{"dataPoints":[{"asInt":"1"}]}},
     {"name":"k8s.pod.phase","gauge":{"dataPoints":[
        {"asInt":"4","attributes":[{"key":"pod","value":{"stringValue":"a"}}]},
        {"asInt":"2","attributes":[{"key":"pod","value":{"stringValue":"b"}}]}]}},
     {"name":"latency","histogram":{"aggregationTemporality":2,"dataPoints":[{"count":"1","sum":1.0}]}},
     {"name":"quantiles","summary":{"dataPoints":[{"count":"1","sum":1.0}]}},
     {"name":"go_goroutines","sum":{"aggregationTemporality":2,"dataPoints":[{"asDouble":3.0}]}}]}]}]}"#;

const LOGS: &str = r#"{"resourceLogs":[
  {"resource":{"attributes":[{"key":"host.name","value":{"stringValue":"just_this_one_hostname"}}]},
   "scopeLogs":[{"scope":{"name":"lib"},"logRecords":[
     {"severityNumber":9,"severityText":"INFO","body":{"stringValue":"user logged in"}},
     {"severityNumber":13,"severityText":"WARN","body":{"stringValue":"my password is hunter2"}},
     {"severityNumber":17,"severityText":"ERROR","body":{"stringValue":"disk full"},
      "attributes":[{"key":"record_attr","value":{"stringValue":"prefix_x"}}]}]}]},
  {"resource":{"attributes":[{"key":"host.name","value":{"stringValue":"elsewhere"}}]},
   "scopeLogs":[{"scope":{"name":"lib"},"logRecords":[
     {"severityNumber":21,"body":{"stringValue":"remote fatal"}}]}]}]}"#;

/// The README's "Configuration" example (`filter/ottl`), traces part.
#[tokio::test]
async fn readme_ottl_example_drops_spans_and_span_events() {
    let yaml = r#"
error_mode: ignore
traces:
  span:
    - 'attributes["container.name"] == "app_container_1"'
    - 'resource.attributes["host.name"] == "localhost"'
    - 'name == "app_3"'
  spanevent:
    - 'attributes["grpc"] == true'
    - 'IsMatch(name, ".*grpc.*")'
"#;
    let (out, dropped) = run::<Traces>(yaml, TRACES).await.unwrap();
    assert_eq!(span_names(&out), ["http"]);
    assert_eq!(dropped, 3.0);
    let out = out.unwrap();
    // The localhost resource lost its only span, so it is gone.
    assert_eq!(out.request().resource_spans.len(), 1);
    let events: Vec<_> = out.request().resource_spans[0].scope_spans[0].spans[0]
        .events
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(events, ["keep"]);
}

/// The README's "Configuration" example (`filter/ottl`), metrics part.
#[tokio::test]
async fn readme_ottl_example_drops_metrics_and_data_points() {
    let yaml = r#"
error_mode: ignore
metrics:
  metric:
    - 'name == "my.metric" and resource.attributes["my_label"] == "abc123"'
    - 'type == METRIC_DATA_TYPE_HISTOGRAM'
  datapoint:
    - 'metric.type == METRIC_DATA_TYPE_SUMMARY'
    - 'resource.attributes["service.name"] == "my_service_name"'
"#;
    let (out, dropped) = run::<Metrics>(yaml, METRICS).await.unwrap();
    // The summary's only data point matched, so the summary metric went too.
    assert_eq!(metric_names(&out), ["k8s.pod.phase", "go_goroutines"]);
    assert_eq!(dropped, 3.0);
}

/// The README's "Configuration" example (`filter/ottl`), logs part.
#[tokio::test]
async fn readme_ottl_example_drops_log_records() {
    let yaml = r#"
error_mode: ignore
logs:
  log_record:
    - 'IsMatch(body, ".*password.*")'
    - 'severity_number < SEVERITY_NUMBER_WARN'
"#;
    let (out, dropped) = run::<Logs>(yaml, LOGS).await.unwrap();
    assert_eq!(log_bodies(&out), ["disk full", "remote fatal"]);
    assert_eq!(dropped, 2.0);
}

/// A request as a receiver hands it over is filtered on its bytes: what is kept is
/// copied, never decoded, and one nothing is dropped from is passed on as it came.
#[tokio::test]
async fn received_requests_are_filtered_without_decoding() {
    let yaml = "logs:\n  log_record:\n    - 'severity_number < SEVERITY_NUMBER_WARN'\n";
    let received = Logs::from_json(LOGS).as_received();
    let (out, dropped) = run_one::<Logs>(yaml, received.clone()).await.unwrap();
    let out = out.unwrap();
    assert!(!out.is_decoded(), "the kept records were copied as bytes");
    assert_eq!(dropped, 1.0);
    assert_eq!(
        log_bodies(&Some(out)),
        ["my password is hunter2", "disk full", "remote fatal"]
    );

    let yaml = "logs:\n  log_record:\n    - 'severity_number > 1000'\n";
    let (out, dropped) = run_one::<Logs>(yaml, received.clone()).await.unwrap();
    let out = out.unwrap();
    assert_eq!(dropped, 0.0);
    assert!(out.shares_request_with(&received), "passed on as received");
}

/// README "Dropping data based on a resource attribute".
#[tokio::test]
async fn readme_dropping_by_resource_attribute() {
    let yaml = "error_mode: ignore\ntraces:\n  span:\n    - 'resource.attributes[\"host.name\"] == \"localhost\"'\n";
    let (out, _) = run::<Traces>(yaml, TRACES).await.unwrap();
    assert_eq!(span_names(&out), ["app_3", "in_container", "http"]);
    // The same through the `resource` context drops the whole resource at once.
    let yaml = "traces:\n  resource:\n    - 'attributes[\"host.name\"] == \"localhost\"'\n";
    let (out, dropped) = run::<Traces>(yaml, TRACES).await.unwrap();
    assert_eq!(span_names(&out), ["app_3", "in_container", "http"]);
    assert_eq!(dropped, 1.0);
    let yaml =
        "logs:\n  log_record:\n    - 'resource.attributes[\"host.name\"] == \"elsewhere\"'\n";
    let (out, _) = run::<Logs>(yaml, LOGS).await.unwrap();
    assert_eq!(out.unwrap().request().resource_logs.len(), 1);
}

/// README "Dropping metrics with invalid type".
#[tokio::test]
async fn readme_dropping_metrics_with_invalid_type() {
    let json = r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[
        {"name":"empty"},{"name":"ok","gauge":{"dataPoints":[{"asInt":"1"}]}}]}]}]}"#;
    let yaml = "error_mode: ignore\nmetrics:\n  metric:\n    - 'type == METRIC_DATA_TYPE_NONE'\n";
    let (out, _) = run::<Metrics>(yaml, json).await.unwrap();
    assert_eq!(metric_names(&out), ["ok"]);
}

/// README "Dropping specific metric and value".
#[tokio::test]
async fn readme_dropping_specific_metric_and_value() {
    let yaml = "error_mode: ignore\nmetrics:\n  datapoint:\n    - 'metric.name == \"k8s.pod.phase\" and value_int == 4'\n";
    let (out, dropped) = run::<Metrics>(yaml, METRICS).await.unwrap();
    assert_eq!(dropped, 1.0);
    let out = out.unwrap();
    let phase = &out.request().resource_metrics[0].scope_metrics[0].metrics[1];
    assert_eq!(tributary_ottl::context::data_point_len(phase), 1);
}

/// README "Dropping non-HTTP spans" and "Dropping HTTP spans".
#[tokio::test]
async fn readme_dropping_http_and_non_http_spans() {
    let yaml = "error_mode: ignore\ntraces:\n  span:\n    - 'attributes[\"http.request.method\"] == nil'\n";
    let (out, _) = run::<Traces>(yaml, TRACES).await.unwrap();
    assert_eq!(span_names(&out), ["http"]);
    let yaml = "error_mode: ignore\ntraces:\n  span:\n    - 'attributes[\"http.request.method\"] != nil'\n";
    let (out, _) = run::<Traces>(yaml, TRACES).await.unwrap();
    assert_eq!(span_names(&out), ["local", "app_3", "in_container"]);
}

/// README "OTTL Functions": `HasAttrKeyOnDatapoint("http.method")` and
/// `HasAttrOnDatapoint("http.method", "GET")` (metric context).
#[tokio::test]
async fn readme_has_attr_on_datapoint_functions() {
    let yaml = "metrics:\n  metric:\n    - 'HasAttrKeyOnDatapoint(\"pod\")'\n";
    let (out, dropped) = run::<Metrics>(yaml, METRICS).await.unwrap();
    assert!(!metric_names(&out).contains(&"k8s.pod.phase".to_string()));
    assert_eq!(dropped, 2.0);
    let yaml = "metrics:\n  metric:\n    - 'HasAttrOnDatapoint(\"pod\", \"b\")'\n";
    let (out, _) = run::<Metrics>(yaml, METRICS).await.unwrap();
    assert_eq!(metric_names(&out).len(), 4);
    let yaml = "metrics:\n  metric:\n    - 'HasAttrOnDatapoint(\"pod\", \"c\")'\n";
    let (out, _) = run::<Metrics>(yaml, METRICS).await.unwrap();
    assert_eq!(metric_names(&out).len(), 5);
}

/// Dropping everything: no request goes further (Go's `ErrSkipProcessingData`).
#[tokio::test]
async fn a_request_left_empty_goes_no_further() {
    let yaml = "logs:\n  log_record: ['true']\n";
    let (out, dropped) = run::<Logs>(yaml, LOGS).await.unwrap();
    assert!(out.is_none());
    assert_eq!(dropped, 4.0);
}

/// Old README: `filter/1` metrics include (regexp) and exclude (strict).
#[tokio::test]
async fn legacy_metric_names_and_resource_attributes() {
    let yaml = r#"
metrics:
  include:
    match_type: regexp
    metric_names: ['k8s\..*', 'go_.*', 'my\..*']
    resource_attributes:
      - key: my_label
        value: abc123
  exclude:
    match_type: strict
    metric_names: [my.metric]
"#;
    let (out, dropped) = run::<Metrics>(yaml, METRICS).await.unwrap();
    assert_eq!(metric_names(&out), ["k8s.pod.phase", "go_goroutines"]);
    assert_eq!(dropped, 3.0);
    // Resource attributes alone: "the filtering is only done at resource level".
    let yaml = "metrics:\n  exclude:\n    match_type: strict\n    resource_attributes:\n      - {key: my_label, value: abc123}\n";
    let (out, _) = run::<Metrics>(yaml, METRICS).await.unwrap();
    assert!(out.is_none());
}

/// Old README: `filter/2` logs include by resource attribute (strict and regexp), and
/// `logs/regexp_record`.
#[tokio::test]
async fn legacy_logs_by_resource_and_record_attributes() {
    let yaml = "logs:\n  include:\n    match_type: strict\n    resource_attributes:\n      - {key: host.name, value: just_this_one_hostname}\n";
    let (out, _) = run::<Logs>(yaml, LOGS).await.unwrap();
    assert_eq!(
        log_bodies(&out),
        ["user logged in", "my password is hunter2", "disk full"]
    );
    let yaml = "logs:\n  include:\n    match_type: regexp\n    resource_attributes:\n      - {key: host.name, value: 'else.*'}\n";
    let (out, _) = run::<Logs>(yaml, LOGS).await.unwrap();
    assert_eq!(log_bodies(&out), ["remote fatal"]);
    let yaml = "logs:\n  exclude:\n    match_type: regexp\n    record_attributes:\n      - {key: record_attr, value: 'prefix_.*'}\n";
    let (out, _) = run::<Logs>(yaml, LOGS).await.unwrap();
    assert_eq!(
        log_bodies(&out),
        ["user logged in", "my password is hunter2", "remote fatal"]
    );
}

/// `testdata/config_logs_min_severity.yaml`, `config_logs_severity_strict.yaml`,
/// `config_logs_body_regexp.yaml`.
#[tokio::test]
async fn legacy_logs_by_severity_and_body() {
    let yaml = "logs:\n  include:\n    match_type: strict\n    severity_number:\n      min: WARN\n      match_undefined: true\n";
    let (out, _) = run::<Logs>(yaml, LOGS).await.unwrap();
    assert_eq!(
        log_bodies(&out),
        ["my password is hunter2", "disk full", "remote fatal"]
    );
    let yaml = "logs:\n  exclude:\n    match_type: strict\n    severity_texts: [INFO, WARN]\n";
    let (out, _) = run::<Logs>(yaml, LOGS).await.unwrap();
    assert_eq!(log_bodies(&out), ["disk full", "remote fatal"]);
    let yaml = "logs:\n  exclude:\n    match_type: regexp\n    bodies: ['^remote', 'password']\n";
    let (out, _) = run::<Logs>(yaml, LOGS).await.unwrap();
    assert_eq!(log_bodies(&out), ["user logged in", "disk full"]);
    // A block with nothing to match is ignored, as Go's `isEmpty`.
    let yaml = "logs:\n  include:\n    match_type: strict\n";
    let (out, _) = run::<Logs>(yaml, LOGS).await.unwrap();
    assert_eq!(log_bodies(&out).len(), 4);
}

/// Old README "Filter Spans from Traces" (with `regexp` for its misspelt `regex`).
#[tokio::test]
async fn legacy_spans_include_exclude() {
    let yaml = r#"
spans:
  exclude:
    match_type: regexp
    span_names: ['^app_', 'hello/world']
    attributes:
      - key: container.name
        value: (app_container_1|app_container_2)
"#;
    let (out, _) = run::<Traces>(yaml, TRACES).await.unwrap();
    // Both properties must match one span: none has the name and the attribute.
    assert_eq!(span_names(&out), ["local", "app_3", "in_container", "http"]);
    let yaml = "spans:\n  exclude:\n    match_type: regexp\n    span_names: ['^app_', '^local$']\n";
    let (out, dropped) = run::<Traces>(yaml, TRACES).await.unwrap();
    assert_eq!(span_names(&out), ["in_container", "http"]);
    assert_eq!(dropped, 2.0);
    let yaml = "spans:\n  include:\n    match_type: strict\n    libraries: [{name: lib}]\n    span_names: [http]\n";
    let (out, _) = run::<Traces>(yaml, TRACES).await.unwrap();
    assert_eq!(span_names(&out), ["http"]);
}

#[tokio::test]
async fn error_modes_decide_what_a_failing_condition_does() {
    // Comparing is never an error, but a condition that is not a boolean is.
    let failing = "traces:\n  span:\n    - 'attributes[\"http.request.method\"]'\n    - 'name == \"app_3\"'\n";
    let e = run::<Traces>(failing, TRACES).await.unwrap_err();
    assert!(e.contains("must be a boolean"), "{e}");
    for mode in ["ignore", "silent"] {
        let (out, _) = run::<Traces>(&format!("error_mode: {mode}\n{failing}"), TRACES)
            .await
            .unwrap();
        assert_eq!(span_names(&out), ["local", "in_container", "http"]);
    }
}

#[test]
fn defaults_keys_and_refusals() {
    let c = Config::default();
    assert_eq!(c.error_mode, ErrorMode::Propagate);
    assert!(c.validate().is_ok());
    for (yaml, path, says) in [
        (
            "traces:\n  span: ['name == \"x\"']\nspans:\n  exclude: {match_type: strict, span_names: [x]}\n",
            "traces",
            "at the same time",
        ),
        (
            "metrics:\n  metric: ['name == \"x\"']\n  exclude: {match_type: strict, metric_names: [x]}\n",
            "metrics",
            "at the same time",
        ),
        (
            "logs:\n  log_record: ['body == \"x\"']\n  include: {match_type: strict, bodies: [x]}\n",
            "logs",
            "at the same time",
        ),
        (
            "metrics:\n  exclude:\n    match_type: expr\n    expressions: ['MetricName == \"x\"']\n",
            "metrics::exclude::match_type",
            "expr",
        ),
        (
            "traces:\n  span: ['name = \"x\"']\n",
            "traces::span::0",
            "byte",
        ),
        (
            "metrics:\n  datapoint: ['true', 'HasAttrOnDatapoint(\"a\", \"b\")']\n",
            "metrics::datapoint::1",
            "only available in the metric context",
        ),
        (
            "logs:\n  log_record: ['span.name == \"x\"']\n",
            "logs::log_record::0",
            "log context",
        ),
        (
            "metrics:\n  include: {metric_names: [x]}\n",
            "metrics::include::match_type",
            "required",
        ),
        (
            "trace_conditions: ['span.name == \"x\"']\ntraces:\n  span: ['true']\n",
            "trace_conditions",
            "at the same time",
        ),
        (
            "metric_conditions: ['metric.name == \"x\"']\nmetrics:\n  exclude: {match_type: strict, metric_names: [x]}\n",
            "metric_conditions",
            "at the same time",
        ),
        (
            "log_conditions: [{context: span, conditions: ['true']}]\n",
            "log_conditions::0::context",
            "unknown context",
        ),
        (
            "log_conditions: ['attributes[\"x\"] == 1']\n",
            "log_conditions::0",
            "cannot infer the context",
        ),
        (
            "profiles: {profile: ['true']}\n",
            "profiles",
            "profiles signal",
        ),
    ] {
        let e = load_config::<Config>(yaml)
            .and_then(|c| c.validate().map(|()| c))
            .expect_err(yaml);
        assert_eq!(e.path(), path, "{yaml}: {e}");
        assert!(e.message().contains(says), "{yaml}: {e}");
    }
    let e = load_config::<Config>("traces:\n  spans: []\n").unwrap_err();
    assert!(e.to_string().contains("spans"), "{e}");
}

/// The context-inferred lists of newer Go versions (`trace_conditions`,
/// `log_conditions`, ...): bare strings form one group whose context is the deepest its
/// paths name; groups give `context`, `conditions` and their own `error_mode`.
#[tokio::test]
async fn context_inferred_condition_lists() {
    let yaml = "trace_conditions:\n  - 'span.name == \"app_3\"'\n  - 'resource.attributes[\"host.name\"] == \"localhost\"'\n";
    let (out, dropped) = run::<Traces>(yaml, TRACES).await.unwrap();
    assert_eq!(span_names(&out), ["in_container", "http"]);
    assert_eq!(dropped, 2.0);
    let yaml = r#"
log_conditions:
  - context: log
    conditions: ['severity_number < SEVERITY_NUMBER_WARN']
  - context: Resource
    error_mode: silent
    conditions: ['attributes["x"]', 'attributes["host.name"] == "elsewhere"']
"#;
    let (out, _) = run::<Logs>(yaml, LOGS).await.unwrap();
    assert_eq!(log_bodies(&out), ["my password is hunter2", "disk full"]);
    // The scope context drops whole scopes.
    let yaml = "metric_conditions:\n  - context: scope\n    conditions: ['name == \"lib\"']\n";
    let (out, dropped) = run::<Metrics>(yaml, METRICS).await.unwrap();
    assert!(out.is_none());
    assert_eq!(dropped, 6.0);
    let e = load_config::<Config>(
        "trace_conditions:\n  - 'span.name == \"x\"'\n  - {context: span, conditions: []}\n",
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("multiple configuration styles"),
        "{e}"
    );
    let e = load_config::<Config>("trace_conditions:\n  - {context: span, condition: []}\n")
        .unwrap_err();
    assert!(e.to_string().contains("condition"), "{e}");
}

#[tokio::test]
async fn the_filter_processor_passes_the_conformance_suite() {
    tributary_pipeline_core::testing::check_processor(factory(), "").await;
    tributary_pipeline_core::testing::check_processor(
        factory(),
        "error_mode: ignore\ntraces:\n  span: ['name == \"x\"']\nmetrics:\n  datapoint: ['value_int > 3']\nlogs:\n  log_record: ['severity_number < SEVERITY_NUMBER_WARN']\n",
    )
    .await;
}

mod properties {
    use proptest::prelude::*;
    use tributary_pipeline_core::pdata::Traces;
    use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
    use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, KeyValue, any_value};
    use tributary_pipeline_core::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};

    use super::super::processor::Filters;
    use super::config;

    fn request(shape: &[Vec<Vec<i64>>]) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: shape
                .iter()
                .map(|scopes| ResourceSpans {
                    scope_spans: scopes
                        .iter()
                        .map(|spans| ScopeSpans {
                            spans: spans
                                .iter()
                                .map(|i| Span {
                                    attributes: vec![KeyValue {
                                        key: "i".into(),
                                        value: Some(AnyValue {
                                            value: Some(any_value::Value::IntValue(*i)),
                                        }),
                                        ..Default::default()
                                    }],
                                    ..Default::default()
                                })
                                .collect(),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                })
                .collect(),
        }
    }

    proptest! {
        /// Whatever the shape, the filter keeps exactly the spans no condition matches,
        /// in order, counts the others, and leaves no empty scope or resource.
        #[test]
        fn keeps_exactly_the_unmatched_spans(
            shape in prop::collection::vec(
                prop::collection::vec(prop::collection::vec(0i64..10, 0..5), 0..4), 0..4),
            limit in 0i64..10,
        ) {
            let filters = Filters::compile(&config(&format!(
                "traces:\n  span: ['attributes[\"i\"] < {limit}']\n"
            ))).unwrap();
            let mut traces = Traces::new(request(&shape));
            let dropped = filters.traces(&mut traces).unwrap();
            let all: Vec<i64> = shape.iter().flatten().flatten().copied().collect();
            let want: Vec<i64> = all.iter().copied().filter(|i| *i >= limit).collect();
            let kept: Vec<i64> = traces.request().resource_spans.iter()
                .flat_map(|rs| &rs.scope_spans)
                .flat_map(|ss| &ss.spans)
                .map(|s| match s.attributes[0].value.as_ref().and_then(|v| v.value.as_ref()) {
                    Some(any_value::Value::IntValue(i)) => *i,
                    _ => -1,
                })
                .collect();
            prop_assert_eq!(&kept, &want);
            prop_assert_eq!(dropped, all.len() - want.len());
            for rs in &traces.request().resource_spans {
                prop_assert!(!rs.scope_spans.is_empty());
                for ss in &rs.scope_spans {
                    prop_assert!(!ss.spans.is_empty());
                }
            }
        }
    }
}
