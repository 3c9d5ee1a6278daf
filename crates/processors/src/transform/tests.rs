//! Config, processing and golden tests of the transform processor.
//!
//! The golden tests take the examples of the upstream README
//! (opentelemetry-collector-contrib `processor/transformprocessor/README.md`, sections
//! "Config" and "Examples"): input OTLP JSON → statements → expected output. The
//! converters and editors those examples call are golden-tested on their own against the
//! OTTL function reference in `crates/ottl/tests/function_docs.rs` (`Time`, `SHA256` and
//! the other time and hash functions among them, and the `replace_*` editors with their
//! `function` and `replacementFormat` arguments), and the metric-only functions we have
//! in `metric_tests.rs`.
//!
//! The metric functions that read or reshape histogram buckets
//! (`extract_percentile_metric`, `extract_avg_metric`,
//! `convert_exponential_histogram_to_histogram`, `merge_histogram_buckets`) are in
//! `histogram_tests.rs`.
//!
//! Upstream examples not covered, with the reason:
//! - the `profile_statements` lines of the "Config" example: Tributary has no profiles
//!   signal.

use tributary_pipeline_core::component::{ComponentConfig, load_config};
use tributary_pipeline_core::pdata::otlp_json;
use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::{Logs, Metrics, Traces};
use tributary_pipeline_core::testing::Sink;

use super::{Config, ErrorMode, StatementsEntry, factory};

fn config(yaml: &str) -> Config {
    load_config::<Config>(yaml).unwrap_or_else(|e| panic!("{e}"))
}

fn traces_json(json: &str) -> ExportTraceServiceRequest {
    otlp_json::decode(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
}

fn logs_json(json: &str) -> ExportLogsServiceRequest {
    otlp_json::decode(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
}

async fn run_traces(yaml: &str, input: &str) -> Result<ExportTraceServiceRequest, String> {
    let sink = Sink::<Traces>::new();
    let settings = tributary_pipeline_core::testing::settings::<Traces>(
        tributary_pipeline_core::component::Kind::Processor,
        "transform",
    );
    let p = factory()
        .create(&settings, &config(yaml), sink.next())
        .unwrap();
    p.consume(Traces::new(traces_json(input)))
        .await
        .map_err(|e| e.to_string())?;
    Ok(sink.accepted()[0].request().clone())
}

async fn run_logs(yaml: &str, input: &str) -> Result<ExportLogsServiceRequest, String> {
    let sink = Sink::<Logs>::new();
    let settings = tributary_pipeline_core::testing::settings::<Logs>(
        tributary_pipeline_core::component::Kind::Processor,
        "transform",
    );
    let p = factory()
        .create(&settings, &config(yaml), sink.next())
        .unwrap();
    p.consume(Logs::new(logs_json(input)))
        .await
        .map_err(|e| e.to_string())?;
    Ok(sink.accepted()[0].request().clone())
}

fn span_json(name: &str, kind: i32, attributes: &str) -> String {
    format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[
            {{"key":"service.name","value":{{"stringValue":"svc"}}}},
            {{"key":"process.command_line","value":{{"stringValue":"app --password=hunter2 --x"}}}},
            {{"key":"host.name","value":{{"stringValue":"h"}}}}]}},
          "scopeSpans":[{{"scope":{{"name":"lib"}},"spans":[{{
            "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
            "name":"{name}","kind":{kind},"attributes":{attributes}}}]}}]}}]}}"#
    )
}

#[test]
fn defaults_and_keys_are_the_go_ones() {
    let c = Config::default();
    assert_eq!(c.error_mode, ErrorMode::Propagate);
    let c = config(
        r#"
error_mode: ignore
trace_statements:
  - context: span
    conditions: ['kind == SPAN_KIND_SERVER']
    statements: ['set(attributes["a"], "b")']
    error_mode: silent
  - 'set(span.name, "x")'
log_statements: []
metric_statements: []
"#,
    );
    assert_eq!(c.error_mode, ErrorMode::Ignore);
    assert!(
        matches!(&c.trace_statements[1], StatementsEntry::Statement(s) if s == r#"set(span.name, "x")"#)
    );
}

#[test]
fn bad_statements_are_refused_with_their_path() {
    let e = load_config::<Config>(
        "trace_statements:\n  - context: span\n    statements: ['set(attributes[\"a\"] \"b\")']\n",
    )
    .unwrap_err();
    assert_eq!(e.path(), "trace_statements::0::statements::0", "{e}");
    assert!(e.message().contains("at byte 20"), "{e}");
    let e = load_config::<Config>("log_statements:\n  - context: span\n    statements: []\n")
        .unwrap_err();
    assert!(e.to_string().contains("unknown context \"span\""), "{e}");
    let e = load_config::<Config>("log_statements:\n  - 'set(attributes[\"a\"], \"b\")'\n")
        .unwrap_err();
    assert!(e.to_string().contains("cannot infer the context"), "{e}");
    let e = load_config::<Config>(
        "trace_statements:\n  - context: span\n    statements: ['copy_metrics(name = \"x\")']\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("undefined function"), "{e}");
    let e = load_config::<Config>(
        "metric_statements:\n  - context: datapoint\n    statements: ['convert_sum_to_gauge()']\n",
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("only available in the metric context"),
        "{e}"
    );
    let e = load_config::<Config>("error_mode: loud\n").unwrap_err();
    assert!(e.to_string().contains("error_mode"), "{e}");
    let e = load_config::<Config>("trace_statements:\n  - context: span\n    statment: []\n")
        .unwrap_err();
    assert!(e.to_string().contains("statment"), "{e}");
    assert!(Config::default().validate().is_ok());
    for (yaml, path) in [
        ("flatten_data: true\n", "flatten_data"),
        (
            "log_statements:\n  - context: log\n    shared_cache: true\n",
            "log_statements::0::shared_cache",
        ),
        (
            "log_statements:\n  - context: log\n    flatten: true\n",
            "log_statements::0::flatten",
        ),
        (
            "metric_statements:\n  - context: exemplar\n",
            "metric_statements::0::context",
        ),
    ] {
        let e = load_config::<Config>(yaml).unwrap_err();
        assert_eq!(e.path(), path, "{e}");
        assert!(e.message().contains("not supported"), "{e}");
    }
    assert!(load_config::<Config>("log_statements:\n  - context: LOG\n    shared_cache: false\n    statements: ['set(body, \"x\")']\n").is_ok());
}

/// README "Config" example, trace part.
#[tokio::test]
async fn golden_readme_config_traces() {
    let yaml = r#"
error_mode: ignore
trace_statements:
  - context: resource
    statements:
      - keep_keys(attributes, ["service.name", "service.namespace", "cloud.region", "process.command_line"])
      - replace_pattern(attributes["process.command_line"], "password\\=[^\\s]*(\\s?)", "password=***")
      - limit(attributes, 100, [])
      - truncate_all(attributes, 4096)
  - context: span
    statements:
      - set(status.code, 1) where attributes["http.path"] == "/health"
      - set(name, attributes["http.route"])
      - replace_match(attributes["http.target"], "/user/*/list/*", "/user/{userId}/list/{listId}")
      - limit(attributes, 100, [])
      - truncate_all(attributes, 4096)
"#;
    let input = span_json(
        "old",
        2,
        r#"[{"key":"http.path","value":{"stringValue":"/health"}},
            {"key":"http.route","value":{"stringValue":"/users/{id}"}},
            {"key":"http.target","value":{"stringValue":"/user/12/list/7"}}]"#,
    );
    let out = run_traces(yaml, &input).await.unwrap();
    let rs = &out.resource_spans[0];
    let keys: Vec<_> = rs
        .resource
        .as_ref()
        .unwrap()
        .attributes
        .iter()
        .map(|a| a.key.as_str())
        .collect();
    assert_eq!(keys, ["service.name", "process.command_line"]);
    let cmd = &rs.resource.as_ref().unwrap().attributes[1];
    assert_eq!(
        cmd.value.as_ref().map(tributary_ottl::Value::from_any),
        Some(tributary_ottl::Value::Str("app --password=***--x".into()))
    );
    let span = &rs.scope_spans[0].spans[0];
    assert_eq!(span.status.as_ref().unwrap().code, 1);
    assert_eq!(span.name, "/users/{id}");
    let target = span
        .attributes
        .iter()
        .find(|a| a.key == "http.target")
        .unwrap();
    assert_eq!(
        target.value.as_ref().map(tributary_ottl::Value::from_any),
        Some(tributary_ottl::Value::Str(
            "/user/{userId}/list/{listId}".into()
        ))
    );
}

/// README "Examples": "Perform transformation if field does not exist", "Rename
/// attribute", "Combine two attributes" — with the flat form and context inference.
#[tokio::test]
async fn golden_readme_examples_traces_flat() {
    let yaml = r#"
trace_statements:
  - set(span.attributes["test"], "pass") where span.attributes["test"] == nil
  - set(span.attributes["namespace"], span.attributes["k8s.namespace.name"])
  - delete_key(span.attributes, "k8s.namespace.name")
  - set(span.attributes["combined"], Concat([span.attributes["foo"], span.attributes["bar"]], " "))
"#;
    let input = span_json(
        "s",
        1,
        r#"[{"key":"k8s.namespace.name","value":{"stringValue":"ns"}},
            {"key":"foo","value":{"stringValue":"a"}},{"key":"bar","value":{"stringValue":"b"}}]"#,
    );
    let out = run_traces(yaml, &input).await.unwrap();
    let attrs = &out.resource_spans[0].scope_spans[0].spans[0].attributes;
    let get = |k: &str| {
        attrs
            .iter()
            .find(|a| a.key == k)
            .and_then(|a| a.value.as_ref())
            .map(tributary_ottl::Value::from_any)
    };
    assert_eq!(get("test"), Some(tributary_ottl::Value::Str("pass".into())));
    assert_eq!(
        get("namespace"),
        Some(tributary_ottl::Value::Str("ns".into()))
    );
    assert_eq!(get("k8s.namespace.name"), None);
    assert_eq!(
        get("combined"),
        Some(tributary_ottl::Value::Str("a b".into()))
    );
}

/// README `set_semconv_span_name`: the three sanitization examples, with
/// `set_semconv_span_name("1.43.0", "original_span_name")` in the flat form (the span
/// context is inferred from the function).
#[tokio::test]
async fn golden_readme_set_semconv_span_name() {
    let yaml = "trace_statements:\n  - set_semconv_span_name(\"1.43.0\", \"original_span_name\")\n";
    let method = r#"{"key":"http.request.method","value":{"stringValue":"GET"}}"#;
    let route = r#"{"key":"http.route","value":{"stringValue":"/api/v1/users/{id}"}}"#;
    let path = r#"{"key":"url.path","value":{"stringValue":"/api/v1/users/123"}}"#;
    for (name, attributes, want, original) in [
        (
            "GET /api/v1/users/123",
            format!("[{method},{route},{path}]"),
            "GET /api/v1/users/{id}",
            Some("GET /api/v1/users/123"),
        ),
        (
            "GET /api/v1/users/123",
            format!("[{method},{path}]"),
            "GET",
            Some("GET /api/v1/users/123"),
        ),
        (
            "GET /api/v1/users/{id}",
            format!("[{method},{route},{path}]"),
            "GET /api/v1/users/{id}",
            None,
        ),
    ] {
        let out = run_traces(yaml, &span_json(name, 2, &attributes))
            .await
            .unwrap();
        let span = &out.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(span.name, want);
        let kept = span
            .attributes
            .iter()
            .find(|a| a.key == "original_span_name")
            .and_then(|a| a.value.as_ref())
            .map(tributary_ottl::Value::from_any);
        assert_eq!(kept, original.map(|o| tributary_ottl::Value::Str(o.into())));
    }
}

/// README "Examples": "Parsing JSON logs", "Move field to attribute", "Get Severity of
/// an Unstructured Log Body".
#[tokio::test]
async fn golden_readme_examples_logs() {
    let yaml = r#"
log_statements:
  - context: log
    statements:
      - merge_maps(cache, ParseJSON(body), "upsert") where IsMatch(body, "^\\{")
      - set(attributes["attr1"], cache["attr1"])
      - set(attributes["attr2"], cache["attr2"])
  - context: log
    conditions:
      - IsString(body) and IsMatch(body, "\\sINFO[:\\s]")
    statements:
      - set(severity_number, SEVERITY_NUMBER_INFO)
  - context: log
    statements:
      - set(attributes["body"], body)
"#;
    let input = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[
        {"body":{"stringValue":"{\"attr1\":\"v1\",\"attr2\":2}"}},
        {"body":{"stringValue":"2024 INFO: started"}}]}]}]}"#;
    let out = run_logs(yaml, input).await.unwrap();
    let logs = &out.resource_logs[0].scope_logs[0].log_records;
    let get = |i: usize, k: &str| {
        logs[i]
            .attributes
            .iter()
            .find(|a| a.key == k)
            .and_then(|a| a.value.as_ref())
            .map(tributary_ottl::Value::from_any)
    };
    assert_eq!(
        get(0, "attr1"),
        Some(tributary_ottl::Value::Str("v1".into()))
    );
    assert_eq!(get(0, "attr2"), Some(tributary_ottl::Value::Float(2.0)));
    assert_eq!(logs[0].severity_number, 0);
    assert_eq!(logs[1].severity_number, 9);
    assert_eq!(get(1, "attr1"), None, "the cache is per item");
    assert_eq!(
        get(1, "body"),
        Some(tributary_ottl::Value::Str("2024 INFO: started".into()))
    );
}

/// README `ParseCEF`, `ParseCLF`, `ParseELF`, `ParseLEEF`: the examples, each on a log
/// body, in the flat form (the log context is inferred from the converters).
#[tokio::test]
async fn golden_readme_log_parsing_functions() {
    let yaml = r#"
log_statements:
  - set(log.attributes["parsed"], ParseCEF(log.body)) where IsMatch(log.body, "CEF:")
  - set(log.attributes["parsed"], ParseCLF(log.body)) where IsMatch(log.body, "HTTP/1")
  - set(log.attributes["parsed"], ParseELF(log.body)) where IsMatch(log.body, "^#Version")
  - set(log.attributes["parsed"], ParseLEEF(log.body)) where IsMatch(log.body, "^LEEF:")
"#;
    let bodies = [
        r"CEF:0|Security|threatmanager|1.0|100|worm successfully stopped|10|src=10.0.0.1 dst=2.1.2.2 spt=1232",
        r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326"#,
        r"#Version: 1.0\n#Fields: time cs-method cs-uri\n00:34:23 GET /foo/bar.html",
        r"LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=10.50.1.1\tdst=2.10.20.20\tsev=5",
        r"LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^sev=5",
    ];
    let records: Vec<String> = bodies
        .iter()
        .map(|b| format!(r#"{{"body":{{"stringValue":"{b}"}}}}"#))
        .collect();
    let input = format!(
        r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{}]}}]}}]}}"#,
        records.join(",")
    );
    let out = run_logs(yaml, &input).await.unwrap();
    let logs = &out.resource_logs[0].scope_logs[0].log_records;
    let parsed = |i: usize, key: &str| {
        let map = logs[i]
            .attributes
            .iter()
            .find(|a| a.key == "parsed")
            .and_then(|a| a.value.as_ref())
            .map(tributary_ottl::Value::from_any);
        let Some(tributary_ottl::Value::Map(map)) = map else {
            panic!("record {i} has no parsed map: {map:?}")
        };
        map.into_iter()
            .find(|(k, _)| k == key)
            // Maps are rendered as JSON, keys sorted.
            .map(|(_, v)| v.to_display())
            .unwrap_or_default()
    };
    assert_eq!(parsed(0, "cef.name"), "worm successfully stopped");
    assert_eq!(
        parsed(0, "cef.extensions"),
        r#"{"dst":"2.1.2.2","spt":"1232","src":"10.0.0.1"}"#
    );
    assert_eq!(parsed(1, "clf.request_uri"), "/apache_pb.gif");
    assert_eq!(parsed(1, "clf.status"), "200");
    assert_eq!(
        parsed(2, "elf.entries"),
        r#"[{"elf.cs-method":"GET","elf.cs-uri":"/foo/bar.html","elf.time":"00:34:23"}]"#
    );
    assert_eq!(parsed(3, "leef.product.version"), "4.0 SP1");
    assert_eq!(
        parsed(4, "leef.attributes"),
        r#"{"dst":"10.0.0.5","sev":"5","src":"10.0.1.8"}"#
    );
}

#[tokio::test]
async fn error_modes() {
    let input = span_json("s", 1, "[]");
    let statements = "  - context: span\n    statements:\n      - set(attributes[\"x\"], 1 + name)\n      - set(attributes[\"after\"], true)\n";
    let e = run_traces(&format!("trace_statements:\n{statements}"), &input)
        .await
        .unwrap_err();
    assert!(e.contains("must be int64"), "{e}");
    for mode in ["ignore", "silent"] {
        let out = run_traces(
            &format!("error_mode: {mode}\ntrace_statements:\n{statements}"),
            &input,
        )
        .await
        .unwrap();
        let attrs = &out.resource_spans[0].scope_spans[0].spans[0].attributes;
        assert!(
            attrs.iter().any(|a| a.key == "after"),
            "{mode}: the next statement runs"
        );
    }
}

#[tokio::test]
async fn span_events_scopes_and_datapoints() {
    let yaml = r#"
trace_statements:
  - context: spanevent
    statements: ['set(attributes["span"], span.name) where name == "exception"']
  - context: scope
    statements: ['set(version, "2")']
metric_statements:
  - context: datapoint
    conditions: ['metric.name == "m"']
    statements: ['set(attributes["d"], value_double * 2.0)', 'delete_key(attributes, "drop")']
"#;
    let input = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"op","events":[{"name":"exception"},{"name":"other"}]}]}]}]}"#;
    let out = run_traces(yaml, input).await.unwrap();
    let ss = &out.resource_spans[0].scope_spans[0];
    assert_eq!(ss.scope.as_ref().unwrap().version, "2");
    assert_eq!(ss.spans[0].events[0].attributes[0].key, "span");
    assert!(ss.spans[0].events[1].attributes.is_empty());

    let sink = Sink::<Metrics>::new();
    let settings = tributary_pipeline_core::testing::settings::<Metrics>(
        tributary_pipeline_core::component::Kind::Processor,
        "transform",
    );
    let p = factory()
        .create(&settings, &config(yaml), sink.next())
        .unwrap();
    let m: ExportMetricsServiceRequest = otlp_json::decode(
        br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[
            {"name":"m","gauge":{"dataPoints":[{"asDouble":1.5,"attributes":[{"key":"drop","value":{"stringValue":"x"}}]}]}},
            {"name":"n","gauge":{"dataPoints":[{"asDouble":1.5}]}}]}]}]}"#,
    )
    .unwrap();
    p.consume(Metrics::new(m)).await.unwrap();
    let out = sink.accepted()[0].request().clone();
    let metrics = &out.resource_metrics[0].scope_metrics[0].metrics;
    let dp = |i: usize| match &metrics[i].data {
        Some(tributary_pipeline_core::pdata::proto::metrics::v1::metric::Data::Gauge(g)) => {
            g.data_points[0].clone()
        }
        _ => panic!(),
    };
    assert_eq!(dp(0).attributes.len(), 1);
    assert_eq!(dp(0).attributes[0].key, "d");
    assert!(dp(1).attributes.is_empty());
}

#[tokio::test]
async fn the_transform_processor_passes_the_conformance_suite() {
    tributary_pipeline_core::testing::check_processor(factory(), "").await;
    tributary_pipeline_core::testing::check_processor(
        factory(),
        "trace_statements: ['set(span.name, \"x\")']\nlog_statements: ['set(log.body, \"x\")']\nmetric_statements: ['set(metric.name, \"x\")']\n",
    )
    .await;
}

/// The transform sections of the Go configs in `tests/go_configs` (the OpenTelemetry
/// demo, the Coralogix Helm example) decode and compile unchanged.
#[test]
fn go_corpus_transform_sections_validate() {
    let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/go_configs/full/");
    for (file, key) in [
        ("demo-otelcol-config.yaml", "  transform:"),
        (
            "helm-coralogix-exporter-helper.yaml",
            "  transform/prometheus:",
        ),
    ] {
        let text = std::fs::read_to_string(format!("{corpus}{file}")).unwrap();
        let section: Vec<&str> = text
            .lines()
            .skip_while(|l| *l != key)
            .skip(1)
            .take_while(|l| l.trim().is_empty() || l.starts_with("    "))
            .map(|l| l.get(4..).unwrap_or(""))
            .collect();
        assert!(section.len() > 3, "{file}: section not found");
        let config =
            load_config::<Config>(&section.join("\n")).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(!config.trace_statements.is_empty() || !config.metric_statements.is_empty());
    }
}

/// README "Examples": "Convert Sum to Gauge" style (`convert_sum_to_gauge()` in the
/// flat form, its context inferred from the function).
#[tokio::test]
async fn golden_convert_sum_to_gauge_flat() {
    let sink = Sink::<Metrics>::new();
    let settings = tributary_pipeline_core::testing::settings::<Metrics>(
        tributary_pipeline_core::component::Kind::Processor,
        "transform",
    );
    let yaml = "metric_statements:\n  - convert_sum_to_gauge() where metric.name == \"s\"\n";
    let p = factory()
        .create(&settings, &config(yaml), sink.next())
        .unwrap();
    let m: ExportMetricsServiceRequest = otlp_json::decode(
        br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[
            {"name":"s","sum":{"aggregationTemporality":2,"dataPoints":[{"asInt":"3"}]}},
            {"name":"t","sum":{"aggregationTemporality":2,"dataPoints":[{"asInt":"3"}]}}]}]}]}"#,
    )
    .unwrap();
    p.consume(Metrics::new(m)).await.unwrap();
    let out = sink.accepted()[0].request().clone();
    let metrics = &out.resource_metrics[0].scope_metrics[0].metrics;
    use tributary_pipeline_core::pdata::proto::metrics::v1::metric::Data;
    assert!(matches!(metrics[0].data, Some(Data::Gauge(_))));
    assert!(matches!(metrics[1].data, Some(Data::Sum(_))));
}
