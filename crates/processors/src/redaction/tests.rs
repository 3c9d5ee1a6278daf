use tributary_pipeline_core::component::{CreateSettings, Kind, load_config};
use tributary_pipeline_core::pdata::attributes::{Attributes, key_value};
use tributary_pipeline_core::pdata::builder::{LogsBuilder, MetricsBuilder, TracesBuilder};
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::{Logs, Metrics, Traces};
use tributary_pipeline_core::testing::Sink;

use super::{Config, factory};

fn settings() -> CreateSettings {
    CreateSettings::standalone(Kind::Processor, "redaction".parse().unwrap(), None)
}

async fn redact_span(yaml: &str, attributes: Vec<KeyValue>) -> Traces {
    let config: Config = load_config(yaml).unwrap();
    let mut traces = TracesBuilder::new();
    traces.resource(vec![key_value("service.name", "svc")]);
    traces
        .span("s", [1; 16], [1; 8])
        .attributes(attributes.clone())
        .event("e", 1, attributes);
    let sink = Sink::<Traces>::new();
    let processor = factory()
        .create::<Traces>(&settings(), &config, sink.next())
        .unwrap();
    processor.consume(traces.build()).await.unwrap();
    sink.received().pop().unwrap()
}

fn span_attributes(traces: &Traces) -> Vec<KeyValue> {
    traces.records().next().unwrap().1.attributes.clone()
}

// The example configuration of processor/redactionprocessor/README.md (card number
// patterns, md5 hashing, debug summary), without its `url_sanitizer` block (refused here).
const README_EXAMPLE: &str = r#"
allow_all_keys: false
allowed_keys:
  - description
  - group
  - id
  - name
ignored_keys:
  - safe_attribute
redact_all_types: true
blocked_key_patterns:
  - ".*token.*"
  - ".*api_key.*"
blocked_values:
  - "4[0-9]{12}(?:[0-9]{3})?"
  - "(5[1-5][0-9]{14})"
hash_function: md5
allowed_values:
  - ".+@mycompany.com"
summary: debug
"#;

#[tokio::test]
async fn the_readme_example_removes_masks_and_summarizes() {
    let out = redact_span(
        README_EXAMPLE,
        vec![
            key_value("name", "checkout"),
            key_value("description", "paid with 4111111111111111"),
            key_value("id", "owner@mycompany.com"),
            key_value("credit_card", "5105105105105100"),
            key_value("safe_attribute", "4111111111111111"),
            key_value("group", 4111111111111111_i64),
        ],
    )
    .await;
    let attributes = span_attributes(&out);
    // redact_all_types: the number is checked by its text and masked (hashed) to a string.
    assert_eq!(
        attributes.get_str("group"),
        attributes
            .get_str("description")
            .map(|d| d.trim_start_matches("paid with "))
    );
    assert_eq!(attributes.get_str("name"), Some("checkout"));
    // md5("4111111111111111"), as `printf %s 4111111111111111 | md5sum` prints it.
    assert_eq!(
        attributes.get_str("description"),
        Some("paid with 5910f4ea0062a0e29afd3dccc741e3ce")
    );
    assert_eq!(attributes.get_str("id"), Some("owner@mycompany.com"));
    assert!(!attributes.contains_key("credit_card"));
    assert_eq!(
        attributes.get_str("safe_attribute"),
        Some("4111111111111111")
    );
    assert_eq!(
        attributes.get_str("redaction.redacted.keys"),
        Some("credit_card")
    );
    assert_eq!(attributes.get_int("redaction.redacted.count"), Some(1));
    assert_eq!(
        attributes.get_str("redaction.masked.keys"),
        Some("description,group")
    );
    assert_eq!(attributes.get_int("redaction.masked.count"), Some(2));
    assert_eq!(attributes.get_str("redaction.allowed.keys"), Some("id"));
    assert_eq!(attributes.get_int("redaction.allowed.count"), Some(1));
    assert_eq!(attributes.get_int("redaction.ignored.count"), Some(1));

    // Span events and the resource get the same treatment.
    let (origin, span) = out.records().next().unwrap();
    assert!(!span.events[0].attributes.contains_key("credit_card"));
    assert!(!origin.resource_attributes().contains_key("service.name"));
    assert_eq!(
        origin
            .resource_attributes()
            .get_str("redaction.redacted.keys"),
        Some("service.name")
    );
}

#[tokio::test]
async fn stars_mask_each_match_and_info_writes_counts_only() {
    let yaml = "allow_all_keys: true\nblocked_values: ['\\d{4}']\nsummary: info\n";
    let out = redact_span(
        yaml,
        vec![
            key_value("pin", "pins 1234 and 5678"),
            key_value("n", 1234_i64),
        ],
    )
    .await;
    let attributes = span_attributes(&out);
    assert_eq!(attributes.get_str("pin"), Some("pins **** and ****"));
    // Only string values are checked, as in Go.
    assert_eq!(attributes.get_int("n"), Some(1234));
    assert_eq!(attributes.get_int("redaction.masked.count"), Some(1));
    assert!(!attributes.contains_key("redaction.masked.keys"));
}

#[tokio::test]
async fn blocked_key_patterns_mask_the_whole_value_and_silent_adds_nothing() {
    let yaml = "allow_all_keys: true\nblocked_key_patterns: ['.*token.*']\nhash_function: sha3\n";
    let out = redact_span(
        yaml,
        vec![key_value("api_token", "abc"), key_value("other", "abc")],
    )
    .await;
    let attributes = span_attributes(&out);
    // SHA3-256("abc"), the FIPS 202 test vector.
    assert_eq!(
        attributes.get_str("api_token"),
        Some("3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532")
    );
    assert_eq!(attributes.get_str("other"), Some("abc"));
    assert!(!attributes.iter().any(|kv| kv.key.starts_with("redaction.")));
}

#[tokio::test]
async fn hmac_uses_the_key_and_summaries_merge_with_earlier_ones() {
    let yaml = "allow_all_keys: true\nblocked_values: ['secret']\nhash_function: hmac-sha256\nhmac_key: 0123456789abcdef0123456789abcdef\nsummary: debug\n";
    let out = redact_span(
        yaml,
        vec![
            key_value("a", "secret"),
            key_value("redaction.masked.keys", "z"),
            key_value("redaction.masked.count", 1_i64),
        ],
    )
    .await;
    let attributes = span_attributes(&out);
    assert_eq!(attributes.get_str("a").map(str::len), Some(64));
    assert_ne!(attributes.get_str("a"), Some("secret"));
    assert_eq!(attributes.get_str("redaction.masked.keys"), Some("a,z"));
    assert_eq!(attributes.get_int("redaction.masked.count"), Some(2));
}

#[tokio::test]
async fn summaries_survive_an_allow_list_and_ignored_patterns_and_all_types_apply() {
    let yaml = "allowed_keys: [n]\nignored_key_patterns: ['^k8s\\.']\nredact_all_types: true\nblocked_values: ['^4242$']\nsummary: info\n";
    let out = redact_span(
        yaml,
        vec![
            key_value("n", 4242_i64),
            key_value("k8s.pod.name", "4242"),
            key_value("redaction.redacted.count", 2_i64),
            key_value("gone", "x"),
        ],
    )
    .await;
    let attributes = span_attributes(&out);
    assert_eq!(attributes.get_str("n"), Some("****"));
    assert_eq!(attributes.get_str("k8s.pod.name"), Some("4242"));
    assert!(!attributes.contains_key("gone"));
    assert_eq!(attributes.get_int("redaction.redacted.count"), Some(3));
    assert_eq!(attributes.get_int("redaction.ignored.count"), Some(1));
}

#[tokio::test]
async fn log_bodies_and_scope_attributes_are_redacted_as_go() {
    let config: Config = load_config(
        "allowed_keys: [user, msg]\nblocked_values: ['\\d{4}-\\d{4}']\nsummary: debug\n",
    )
    .unwrap();
    let body = tributary_pipeline_core::pdata::proto::common::v1::AnyValue {
        value: Some(
            tributary_pipeline_core::pdata::proto::common::v1::any_value::Value::KvlistValue(
                tributary_pipeline_core::pdata::proto::common::v1::KeyValueList {
                    values: vec![
                        key_value("msg", "card 1234-5678"),
                        key_value("password", "hunter2"),
                    ],
                },
            ),
        ),
    };
    let mut logs = LogsBuilder::new();
    logs.record(body).attribute("user", "bob");
    logs.record("plain 1111-2222 text");
    let mut built = logs.build();
    for rl in &mut built.make_mut().resource_logs {
        for sl in &mut rl.scope_logs {
            sl.scope.get_or_insert_default().attributes = vec![key_value("secret", "x")];
        }
    }
    let sink = Sink::<Logs>::new();
    factory()
        .create::<Logs>(&settings(), &config, sink.next())
        .unwrap()
        .consume(built)
        .await
        .unwrap();
    let out = sink.received().pop().unwrap();
    let records: Vec<_> = out.records().collect();
    let (origin, first) = records[0];
    assert!(!origin.scope_attributes().contains_key("secret"));
    let body = format!("{:?}", first.body);
    assert!(
        body.contains("card ****") && !body.contains("hunter2"),
        "{body}"
    );
    assert_eq!(
        first.attributes.get_str("redaction.body.masked.keys"),
        Some("msg")
    );
    assert_eq!(
        first.attributes.get_str("redaction.body.redacted.keys"),
        Some("password")
    );
    assert_eq!(
        first.attributes.get_int("redaction.body.redacted.count"),
        Some(1)
    );
    let (_, second) = records[1];
    let body = format!("{:?}", second.body);
    assert!(body.contains("plain **** text"), "{body}");
    assert_eq!(
        second.attributes.get_str("redaction.body.masked.keys"),
        Some("body")
    );
}

#[tokio::test]
async fn logs_and_data_points_are_redacted() {
    let config: Config = load_config("allowed_keys: [keep]").unwrap();
    let mut logs = LogsBuilder::new();
    logs.record("body")
        .attribute("keep", "x")
        .attribute("drop", "y");
    let sink = Sink::<Logs>::new();
    factory()
        .create::<Logs>(&settings(), &config, sink.next())
        .unwrap()
        .consume(logs.build())
        .await
        .unwrap();
    let out = sink.received().pop().unwrap();
    let (_, record) = out.records().next().unwrap();
    assert_eq!(record.attributes.len(), 1);
    assert!(record.attributes.contains_key("keep"));

    let mut metrics = MetricsBuilder::new();
    metrics
        .gauge("m", "1")
        .int(vec![key_value("keep", "x"), key_value("drop", "y")], 1, 1);
    let sink = Sink::<Metrics>::new();
    factory()
        .create::<Metrics>(&settings(), &config, sink.next())
        .unwrap()
        .consume(metrics.build())
        .await
        .unwrap();
    let out = sink.received().pop().unwrap();
    let (_, point) = out.data_points().next().unwrap();
    assert_eq!(point.attributes().len(), 1);
}

#[test]
fn unsupported_and_invalid_options_are_refused_naming_the_key() {
    let cases = [
        ("hash_function: sha256", "hash_function"),
        ("hash_function: hmac-sha512", "hmac_key"),
        ("summary: loud", "summary"),
        ("blocked_values: ['(']", "blocked_values::0"),
        ("allowed_values: [a, '[']", "allowed_values::1"),
        ("blocked_key_patterns: ['(']", "blocked_key_patterns::0"),
        ("hash_function: hmac-sha256\nhmac_key: short", "hmac_key"),
        ("ignored_key_patterns: ['(']", "ignored_key_patterns::0"),
        (
            "url_sanitizer: {enabled: true, attributes: [url]}",
            "url_sanitizer",
        ),
        ("db_sanitizer: {enabled: true}", "db_sanitizer"),
        (
            "db_sanitizer: {sql: {enabled: true, attributes: [db.statement]}}",
            "db_sanitizer",
        ),
    ];
    for (yaml, path) in cases {
        let error = load_config::<Config>(yaml).unwrap_err();
        assert_eq!(error.path(), path, "{yaml}: {error}");
    }
    assert!(load_config::<Config>("url_sanitizer: {enabled: false}").is_ok());
    assert!(load_config::<Config>("allowed_key: [a]").is_err());
}

#[tokio::test]
async fn the_redaction_processor_passes_the_conformance_suite() {
    tributary_pipeline_core::testing::check_processor(factory(), "allow_all_keys: true").await;
}
