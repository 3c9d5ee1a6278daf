use tributary_pipeline_core::component::{ComponentConfig, CreateSettings, Kind, load_config};
use tributary_pipeline_core::pdata::attributes::{Attributes, key_value};
use tributary_pipeline_core::pdata::builder::{LogsBuilder, MetricsBuilder, TracesBuilder};
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::proto::logs::v1::SeverityNumber;
use tributary_pipeline_core::pdata::proto::trace::v1::span::SpanKind;
use tributary_pipeline_core::pdata::{ClientMetadata, Logs, Metrics, Traces};
use tributary_pipeline_core::testing::Sink;

use super::{Config, factory};

fn settings() -> CreateSettings {
    CreateSettings::standalone(Kind::Processor, "attributes".parse().unwrap(), None)
}

fn config(yaml: &str) -> Config {
    let config: Config = load_config(yaml).unwrap();
    config.validate().unwrap();
    config
}

async fn run_traces(yaml: &str, traces: Traces) -> Traces {
    let sink = Sink::<Traces>::new();
    let processor = factory()
        .create::<Traces>(&settings(), &config(yaml), sink.next())
        .unwrap();
    processor.consume(traces).await.unwrap();
    sink.received().pop().unwrap()
}

fn span_attributes(traces: &Traces) -> Vec<Vec<KeyValue>> {
    traces
        .records()
        .map(|(_, span)| span.attributes.clone())
        .collect()
}

fn one_span(attributes: Vec<KeyValue>) -> Traces {
    let mut builder = TracesBuilder::new();
    builder.resource(vec![key_value("service.name", "svcA")]);
    builder.span("s", [1; 16], [1; 8]).attributes(attributes);
    builder.build()
}

// The first example of processor/attributesprocessor/README.md ("attributes/example").
const README_EXAMPLE: &str = r#"
actions:
  - key: db.table
    action: delete
  - key: redacted_span
    value: true
    action: upsert
  - key: copy_key
    from_attribute: key_original
    action: update
  - key: account_id
    value: 2245
    action: insert
  - key: account_password
    action: delete
  - key: account_email
    action: hash
  - key: http.status_code
    action: convert
    converted_type: int
"#;

#[tokio::test]
async fn the_readme_example_edits_spans_as_go() {
    let traces = one_span(vec![
        key_value("db.table", "users"),
        key_value("copy_key", "old"),
        key_value("key_original", "new"),
        key_value("account_password", "hunter2"),
        key_value("account_email", "someone@example.com"),
        key_value("http.status_code", "200"),
    ]);
    let out = run_traces(README_EXAMPLE, traces).await;
    let attributes = &span_attributes(&out)[0];
    assert!(!attributes.contains_key("db.table"));
    assert!(!attributes.contains_key("account_password"));
    assert_eq!(attributes.get_bool("redacted_span"), Some(true));
    assert_eq!(attributes.get_str("copy_key"), Some("new"));
    assert_eq!(attributes.get_int("account_id"), Some(2245));
    assert_eq!(attributes.get_int("http.status_code"), Some(200));
    // sha256("someone@example.com"), as `printf %s ... | sha256sum` prints it.
    assert_eq!(
        attributes.get_str("account_email"),
        Some("72497f475e4f76d0b28f57c73a084ece576d170874eba3ee2609d9afe4b71aab")
    );
}

// The `default_value` actions of the README's sample configuration.
#[tokio::test]
async fn default_value_fills_in_for_a_missing_source() {
    let yaml = r#"
actions:
  - key: region
    from_attribute: cloud.region
    default_value: "us-east-1"
    action: insert
  - key: tenant_id
    from_context: "metadata.tenant"
    default_value: "default-tenant"
    action: upsert
"#;
    let out = run_traces(yaml, one_span(vec![])).await;
    let attributes = &span_attributes(&out)[0];
    assert_eq!(attributes.get_str("region"), Some("us-east-1"));
    assert_eq!(attributes.get_str("tenant_id"), Some("default-tenant"));
    let out = run_traces(yaml, one_span(vec![key_value("cloud.region", "eu-west-3")])).await;
    assert_eq!(
        span_attributes(&out)[0].get_str("region"),
        Some("eu-west-3")
    );
}

#[tokio::test]
async fn insert_update_and_upsert_respect_presence() {
    let yaml = r#"
actions:
  - {key: present, value: inserted, action: insert}
  - {key: absent, value: updated, action: update}
  - {key: new, value: upserted, action: upsert}
  - {key: missing_source, from_attribute: nowhere, action: upsert}
"#;
    let out = run_traces(yaml, one_span(vec![key_value("present", "kept")])).await;
    let attributes = &span_attributes(&out)[0];
    assert_eq!(attributes.get_str("present"), Some("kept"));
    assert!(!attributes.contains_key("absent"));
    assert_eq!(attributes.get_str("new"), Some("upserted"));
    assert!(!attributes.contains_key("missing_source"));
}

#[tokio::test]
async fn hash_matches_go_for_every_scalar_type() {
    let yaml = "actions:\n  - {pattern: '^h\\.', action: hash}\n";
    let out = run_traces(
        yaml,
        one_span(vec![
            key_value("h.s", "abc"),
            key_value("h.b", true),
            key_value("h.i", 1_i64),
            tributary_pipeline_core::pdata::proto::common::v1::KeyValue {
                key: "h.empty".into(),
                value: None,
                ..Default::default()
            },
            key_value("other", "abc"),
        ]),
    )
    .await;
    let attributes = &span_attributes(&out)[0];
    // Known SHA-256 digests: of "abc"; of the byte 0x01; of 1 as 8 little-endian bytes.
    assert_eq!(
        attributes.get_str("h.s"),
        Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    assert_eq!(
        attributes.get_str("h.b"),
        Some("4bf5122f344554c53bde2ebb8cd2b7e3d1600ad631c385a5d7cce23c7785459a")
    );
    assert_eq!(
        attributes.get_str("h.i"),
        Some("7c9fa136d4413fa6173637e883b6998d32e1d675f88cddff9dcbcf331820f4b8")
    );
    assert_eq!(attributes.get_str("other"), Some("abc"));
    // An empty value becomes the empty string, as Go does for every non-scalar.
    assert_eq!(attributes.get_str("h.empty"), Some(""));
}

#[tokio::test]
async fn extract_writes_named_groups() {
    let yaml = r#"
actions:
  - key: http.url
    pattern: ^(?P<http_protocol>.*):\/\/(?P<http_domain>[^\/]*)(?P<http_path>\/[^?]*)?
    action: extract
"#;
    let out = run_traces(
        yaml,
        one_span(vec![key_value("http.url", "https://example.com/a/b?x=1")]),
    )
    .await;
    let attributes = &span_attributes(&out)[0];
    assert_eq!(attributes.get_str("http_protocol"), Some("https"));
    assert_eq!(attributes.get_str("http_domain"), Some("example.com"));
    assert_eq!(attributes.get_str("http_path"), Some("/a/b"));
    assert_eq!(
        attributes.get_str("http.url"),
        Some("https://example.com/a/b?x=1")
    );
}

#[tokio::test]
async fn convert_follows_go_and_leaves_what_does_not_convert() {
    let yaml = r#"
actions:
  - {key: a, converted_type: int, action: convert}
  - {key: b, converted_type: double, action: convert}
  - {key: c, converted_type: string, action: convert}
  - {key: d, converted_type: int, action: convert}
  - {key: e, converted_type: int, action: convert}
"#;
    let out = run_traces(
        yaml,
        one_span(vec![
            key_value("a", 3.9_f64),
            key_value("b", "2.5"),
            key_value("c", 7_i64),
            key_value("d", "seven"),
            key_value("e", true),
        ]),
    )
    .await;
    let attributes = &span_attributes(&out)[0];
    assert_eq!(attributes.get_int("a"), Some(3));
    assert_eq!(attributes.get_double("b"), Some(2.5));
    assert_eq!(attributes.get_str("c"), Some("7"));
    assert_eq!(attributes.get_str("d"), Some("seven"));
    assert_eq!(attributes.get_int("e"), Some(1));
}

#[tokio::test]
async fn from_context_reads_client_metadata() {
    let yaml = r#"
actions:
  - {key: tenant, from_context: metadata.x-tenant, action: insert}
  - {key: scopes, from_context: x-scope, action: insert}
"#;
    let mut metadata = ClientMetadata::new();
    metadata.insert("X-Tenant", "acme");
    metadata.insert("x-scope", "a");
    metadata.insert("x-scope", "b");
    let traces = one_span(vec![]).with_metadata(std::sync::Arc::new(metadata));
    let out = run_traces(yaml, traces).await;
    let attributes = &span_attributes(&out)[0];
    assert_eq!(attributes.get_str("tenant"), Some("acme"));
    assert_eq!(attributes.get_str("scopes"), Some("a;b"));
}

#[tokio::test]
async fn include_and_exclude_choose_the_spans() {
    let yaml = r#"
include:
  match_type: regexp
  services: ["svc"]
  span_kinds: [SPAN_KIND_SERVER]
exclude:
  match_type: strict
  span_names: [healthz]
actions:
  - {key: touched, value: true, action: insert}
"#;
    let mut builder = TracesBuilder::new();
    builder.resource(vec![key_value("service.name", "svcA")]);
    builder
        .span("GET /", [1; 16], [1; 8])
        .kind(SpanKind::Server);
    builder
        .span("healthz", [1; 16], [2; 8])
        .kind(SpanKind::Server);
    builder.span("db", [1; 16], [3; 8]).kind(SpanKind::Client);
    let out = run_traces(yaml, builder.build()).await;
    let touched: Vec<bool> = span_attributes(&out)
        .iter()
        .map(|a| a.contains_key("touched"))
        .collect();
    assert_eq!(touched, [true, false, false]);
}

#[tokio::test]
async fn logs_and_data_points_are_edited() {
    let yaml = r#"
include:
  match_type: strict
  log_severity_number: {min: WARN}
actions:
  - {key: alert, value: yes, action: upsert}
"#;
    let mut logs = LogsBuilder::new();
    logs.record("low").severity(SeverityNumber::Info, "INFO");
    logs.record("high").severity(SeverityNumber::Error, "ERROR");
    let sink = Sink::<Logs>::new();
    let processor = factory()
        .create::<Logs>(&settings(), &config(yaml), sink.next())
        .unwrap();
    processor.consume(logs.build()).await.unwrap();
    let out = sink.received().pop().unwrap();
    let alerts: Vec<Option<String>> = out
        .records()
        .map(|(_, r)| r.attributes.get_str("alert").map(str::to_string))
        .collect();
    assert_eq!(alerts, [None, Some("yes".to_string())]);

    let yaml = "include:\n  match_type: strict\n  metric_names: [m]\nactions:\n  - {key: k, action: delete}\n";
    let mut metrics = MetricsBuilder::new();
    metrics.gauge("m", "1").int(vec![key_value("k", "v")], 1, 1);
    metrics.gauge("n", "1").int(vec![key_value("k", "v")], 1, 1);
    let sink = Sink::<Metrics>::new();
    let processor = factory()
        .create::<Metrics>(&settings(), &config(yaml), sink.next())
        .unwrap();
    processor.consume(metrics.build()).await.unwrap();
    let out = sink.received().pop().unwrap();
    let kept: Vec<bool> = out
        .data_points()
        .map(|(_, p)| p.attributes().contains_key("k"))
        .collect();
    assert_eq!(kept, [false, true]);
}

#[test]
fn invalid_configs_are_refused_naming_the_key() {
    let cases = [
        ("actions: []", "actions"),
        ("actions: [{key: a, action: explode}]", "actions::0::action"),
        ("actions: [{key: a, action: insert}]", "actions::0::value"),
        (
            "actions: [{key: a, value: 1, from_attribute: b, action: upsert}]",
            "actions::0::value",
        ),
        (
            "actions: [{key: a, value: 1, pattern: x, action: upsert}]",
            "actions::0::pattern",
        ),
        ("actions: [{action: delete}]", "actions::0::key"),
        (
            "actions: [{key: a, pattern: '(', action: delete}]",
            "actions::0::pattern",
        ),
        (
            "actions: [{key: a, pattern: '(x)', action: extract}]",
            "actions::0::pattern",
        ),
        (
            "actions: [{key: a, pattern: '(?P<n>x)(y)', action: extract}]",
            "actions::0::pattern",
        ),
        (
            "actions: [{key: a, converted_type: float, action: convert}]",
            "actions::0::converted_type",
        ),
        (
            "actions: [{key: a, from_context: auth.subject, action: insert}]",
            "actions::0::from_context",
        ),
        (
            "actions: [{key: a, from_context: client.address, action: insert}]",
            "actions::0::from_context",
        ),
        (
            "include: {span_names: [a]}\nactions: [{key: a, action: delete}]",
            "include::match_type",
        ),
    ];
    for (yaml, path) in cases {
        let error = load_config::<Config>(yaml).unwrap_err();
        assert_eq!(error.path(), path, "{yaml}: {error}");
    }
    let error = load_config::<Config>("actions: [{key: a, action: delete, valu: 1}]").unwrap_err();
    assert!(error.to_string().contains("valu"), "{error}");
}

#[test]
fn a_property_for_another_signal_fails_that_pipeline_only() {
    let config = config(
        "include: {match_type: strict, log_bodies: [x]}\nactions: [{key: a, action: delete}]",
    );
    let error = factory()
        .create::<Traces>(&settings(), &config, Sink::<Traces>::new().next())
        .err()
        .unwrap();
    assert!(error.to_string().contains("log_bodies"), "{error}");
    assert!(
        factory()
            .create::<Logs>(&settings(), &config, Sink::<Logs>::new().next())
            .is_ok()
    );
}

#[tokio::test]
async fn the_attributes_processor_passes_the_conformance_suite() {
    tributary_pipeline_core::testing::check_processor(
        factory(),
        "actions: [{key: a, value: b, action: upsert}]",
    )
    .await;
}
