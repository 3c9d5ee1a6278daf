use proptest::prelude::*;
use tributary_pipeline_core::component::load_config;
use tributary_pipeline_core::pdata::Signal;
use tributary_pipeline_core::pdata::attributes::{any_value, key_value};
use tributary_pipeline_core::pdata::proto::common::v1::{InstrumentationScope, KeyValue};

use super::*;

fn props(yaml: &str) -> MatchProperties {
    load_config_props(yaml).unwrap()
}

fn load_config_props(yaml: &str) -> Result<MatchProperties, String> {
    #[derive(Clone, Debug, Default, serde::Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Wrapper {
        include: Option<MatchProperties>,
    }
    impl tributary_pipeline_core::component::ComponentConfig for Wrapper {}
    let indented: String = yaml.lines().map(|l| format!("  {l}\n")).collect();
    load_config::<Wrapper>(&format!("include:\n{indented}"))
        .map(|w| w.include.unwrap_or_default())
        .map_err(|e| e.to_string())
}

fn span<'a>(
    resource: &'a [KeyValue],
    attributes: &'a [KeyValue],
    name: &'a str,
    kind: i32,
) -> Subject<'a> {
    Subject {
        resource,
        scope: None,
        attributes,
        item: Item::Span { name, kind },
    }
}

// From processor/attributesprocessor/README.md, "Include/Exclude Filtering": services
// svcA/svcB are included unless the span says `redact_trace: false`.
#[test]
fn the_readme_include_exclude_example_selects_as_go() {
    let include = props("match_type: strict\nservices: [svcA, svcB]");
    let exclude = props("match_type: strict\nattributes:\n  - {key: redact_trace, value: false}");
    let matcher = Matcher::compile(Some(&include), Some(&exclude), Signal::Traces).unwrap();
    let svc_a = [key_value("service.name", "svcA")];
    let svc_c = [key_value("service.name", "svcC")];
    let keep = [key_value("redact_trace", false)];
    let other = [key_value("redact_trace", "false")];
    assert!(matcher.selects(&span(&svc_a, &[], "s", 0)));
    assert!(!matcher.selects(&span(&svc_c, &[], "s", 0)));
    assert!(!matcher.selects(&span(&svc_a, &keep, "s", 0)));
    // Strict equality is typed: the string "false" is not the bool false.
    assert!(matcher.selects(&span(&svc_a, &other, "s", 0)));
}

// From the same README: regexp services `auth.*`, excluding span names `login.*`.
#[test]
fn regexp_matches_anywhere_and_exclude_wins() {
    let include = props("match_type: regexp\nservices: [\"auth.*\"]");
    let exclude = props("match_type: regexp\nspan_names: [\"login.*\"]");
    let matcher = Matcher::compile(Some(&include), Some(&exclude), Signal::Traces).unwrap();
    let auth = [key_value("service.name", "my-authsvc")];
    assert!(matcher.selects(&span(&auth, &[], "GET /", 0)));
    assert!(!matcher.selects(&span(&auth, &[], "user-login", 0)));
}

#[test]
fn every_property_of_a_block_must_match() {
    let include = props(
        "match_type: strict\nspan_names: [a]\nspan_kinds: [SPAN_KIND_SERVER]\nresources: [{key: env}]\nlibraries: [{name: lib, version: \"1.0\"}]",
    );
    let matcher = Matcher::compile(Some(&include), None, Signal::Traces).unwrap();
    let resource = [key_value("env", "prod")];
    let scope = InstrumentationScope {
        name: "lib".into(),
        version: "1.0".into(),
        ..Default::default()
    };
    let mut subject = span(&resource, &[], "a", 2);
    subject.scope = Some(&scope);
    assert!(matcher.selects(&subject));
    let mut wrong_kind = subject;
    wrong_kind.item = Item::Span { name: "a", kind: 3 };
    assert!(!matcher.selects(&wrong_kind));
    let mut no_scope = subject;
    no_scope.scope = None;
    assert!(!matcher.selects(&no_scope));
    let mut no_env = subject;
    no_env.resource = &[];
    assert!(!matcher.selects(&no_env));
}

#[test]
fn log_properties_match_body_severity_text_and_number() {
    let include = props(
        "match_type: regexp\nlog_bodies: [\"^user .* failed\"]\nlog_severity_texts: [\"(?i)warn\"]\nlog_severity_number: {min: WARN, match_undefined: true}",
    );
    let matcher = Matcher::compile(Some(&include), None, Signal::Logs).unwrap();
    let body = any_value("user bob failed");
    let log = |number| Subject {
        resource: &[],
        scope: None,
        attributes: &[],
        item: Item::Log {
            body: Some(&body),
            severity_text: "Warning",
            severity_number: number,
        },
    };
    assert!(matcher.selects(&log(13)));
    assert!(matcher.selects(&log(0)));
    assert!(!matcher.selects(&log(9)));
}

#[test]
fn metric_names_match_data_points() {
    let include = props("match_type: strict\nmetric_names: [http.requests]");
    let matcher = Matcher::compile(Some(&include), None, Signal::Metrics).unwrap();
    let point = |metric_name| Subject {
        resource: &[],
        scope: None,
        attributes: &[],
        item: Item::DataPoint { metric_name },
    };
    assert!(matcher.selects(&point("http.requests")));
    assert!(!matcher.selects(&point("http.requests.total")));
}

#[test]
fn errors_name_the_key() {
    let bad = props("match_type: regexp\nspan_names: [ok, \"(\"]");
    let error = Matcher::compile(Some(&bad), None, Signal::Traces).unwrap_err();
    assert_eq!(error.path(), "include::span_names::1", "{error}");

    let no_type = props("span_names: [a]");
    let error = Matcher::check(Some(&no_type), None).unwrap_err();
    assert_eq!(error.path(), "include::match_type", "{error}");

    let empty = props("match_type: strict");
    assert!(Matcher::check(Some(&empty), None).is_err());

    let for_logs = props("match_type: strict\nlog_bodies: [a]");
    let error = Matcher::compile(None, Some(&for_logs), Signal::Traces).unwrap_err();
    assert_eq!(error.path(), "exclude::log_bodies", "{error}");
    assert!(Matcher::compile(None, Some(&for_logs), Signal::Logs).is_ok());

    let regexp_int = props("match_type: regexp\nattributes: [{key: a, value: 1}]");
    let error = Matcher::check(Some(&regexp_int), None).unwrap_err();
    assert_eq!(error.path(), "include::attributes::0::value", "{error}");

    let unknown = load_config_props("match_type: strict\nspan_name: [a]").unwrap_err();
    assert!(unknown.contains("span_name"), "{unknown}");
    let severity =
        load_config_props("match_type: strict\nlog_severity_number: {min: LOUD}").unwrap_err();
    assert!(severity.contains("LOUD"), "{severity}");
}

#[test]
fn severity_names_read_as_go() {
    assert_eq!(config::parse_severity_name("TRACE"), Some(1));
    assert_eq!(config::parse_severity_name("info"), Some(9));
    assert_eq!(config::parse_severity_name("WARN2"), Some(14));
    assert_eq!(config::parse_severity_name("FATAL4"), Some(24));
    assert_eq!(config::parse_severity_name("FATAL5"), None);
}

proptest! {
    // include AND NOT exclude, whatever the names: strict equality with the same list in
    // both blocks never selects; with one block, selection is list membership.
    #[test]
    fn strict_names_select_by_membership(names in proptest::collection::vec("[a-c]{1,2}", 1..4), name in "[a-c]{1,2}") {
        let block = MatchProperties {
            match_type: MatchType::Strict,
            span_names: names.clone(),
            ..Default::default()
        };
        let include = Matcher::compile(Some(&block), None, Signal::Traces).unwrap();
        let exclude = Matcher::compile(None, Some(&block), Signal::Traces).unwrap();
        let both = Matcher::compile(Some(&block), Some(&block), Signal::Traces).unwrap();
        let subject = span(&[], &[], &name, 0);
        prop_assert_eq!(include.selects(&subject), names.contains(&name));
        prop_assert_eq!(exclude.selects(&subject), !names.contains(&name));
        prop_assert!(!both.selects(&subject));
    }

    // A regexp made of the literal name (escaped) selects exactly the names containing it.
    #[test]
    fn regexp_is_an_unanchored_search(needle in "[a-z.]{1,3}", name in "[a-z.]{0,6}") {
        let block = MatchProperties {
            match_type: MatchType::Regexp,
            span_names: vec![regex::escape(&needle)],
            ..Default::default()
        };
        let matcher = Matcher::compile(Some(&block), None, Signal::Traces).unwrap();
        prop_assert_eq!(matcher.selects(&span(&[], &[], &name, 0)), name.contains(&needle));
    }

    // Any pattern text either compiles or is refused with its key; never a panic.
    #[test]
    fn any_pattern_compiles_or_is_refused(pattern in ".{0,12}") {
        let block = MatchProperties {
            match_type: MatchType::Regexp,
            services: vec![pattern],
            ..Default::default()
        };
        if let Err(error) = Matcher::compile(Some(&block), None, Signal::Traces) {
            prop_assert_eq!(error.path(), "include::services::0");
        }
    }
}

#[test]
fn each_signal_takes_the_keys_go_takes() {
    let attributes_for_metrics = props("match_type: strict\nattributes: [{key: a}]");
    let error = Matcher::compile(Some(&attributes_for_metrics), None, Signal::Metrics).unwrap_err();
    assert_eq!(error.path(), "include::attributes", "{error}");
    let resources_for_metrics = props("match_type: strict\nresources: [{key: a}]");
    assert!(Matcher::compile(Some(&resources_for_metrics), None, Signal::Metrics).is_ok());
    let bad_kind = props("match_type: strict\nspan_kinds: [SPAN_KIND_SERVER, server]");
    let error = Matcher::compile(Some(&bad_kind), None, Signal::Traces).unwrap_err();
    assert_eq!(error.path(), "include::span_kinds::1", "{error}");
    let regexp_kind = props("match_type: regexp\nspan_kinds: [server]");
    assert!(Matcher::compile(Some(&regexp_kind), None, Signal::Traces).is_ok());
    let services_for_logs = props("match_type: strict\nservices: [a]");
    let error = Matcher::compile(Some(&services_for_logs), None, Signal::Logs).unwrap_err();
    assert_eq!(error.path(), "include::services", "{error}");
}

#[test]
fn regexp_attributes_match_scalars_by_their_text_only() {
    let block = props("match_type: regexp\nattributes: [{key: code, value: '^2'}]");
    let matcher = Matcher::compile(Some(&block), None, Signal::Traces).unwrap();
    let int = [key_value("code", 200_i64)];
    let list = [KeyValue {
        key: "code".into(),
        value: Some(
            tributary_pipeline_core::pdata::proto::common::v1::AnyValue {
                value: Some(
                    tributary_pipeline_core::pdata::proto::common::v1::any_value::Value::ArrayValue(
                        Default::default(),
                    ),
                ),
            },
        ),
        ..Default::default()
    }];
    assert!(matcher.selects(&span(&[], &int, "s", 0)));
    assert!(!matcher.selects(&span(&[], &list, "s", 0)));
}

#[test]
fn a_resource_without_a_service_name_reads_as_gos_placeholder() {
    let block = props("match_type: strict\nservices: [\"<nil-service-name>\"]");
    let matcher = Matcher::compile(Some(&block), None, Signal::Traces).unwrap();
    assert!(matcher.selects(&span(&[], &[], "s", 0)));
    assert!(!matcher.selects(&span(&[key_value("service.name", "a")], &[], "s", 0)));
}
