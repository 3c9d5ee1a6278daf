//! Every problem at once: what one decoding reports, each rule as a test.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::conf::Conf;
use crate::secret::SecretString;
use crate::value::Value;

fn problems<T: serde::de::DeserializeOwned + std::fmt::Debug>(yaml: &str) -> Vec<String> {
    let error = Conf::from_yaml(yaml)
        .unwrap()
        .as_value()
        .decode_at::<T>("exporters::otlp")
        .unwrap_err();
    error
        .problems()
        .map(|(path, message)| format!("{path}: {message}"))
        .collect()
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Exporter {
    endpoint: String,
    compression: Compression,
    #[serde(with = "crate::duration")]
    timeout: Duration,
    tls: Tls,
    headers: BTreeMap<String, String>,
    ports: Vec<u16>,
    #[serde(rename = "delivery,squash")]
    delivery: Delivery,
}

impl Default for Exporter {
    fn default() -> Self {
        Exporter {
            endpoint: String::new(),
            compression: Compression::Gzip,
            timeout: Duration::from_secs(5),
            tls: Tls::default(),
            headers: BTreeMap::new(),
            ports: Vec::new(),
            delivery: Delivery::default(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Compression {
    Gzip,
    None,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Tls {
    insecure: bool,
    ca_file: String,
    auth: Option<Auth>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Auth {
    token: SecretString,
    scheme: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Delivery {
    queue_size: usize,
    retry: Retry,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Retry {
    enabled: bool,
}

#[test]
fn a_valid_section_still_decodes() {
    let exporter: Exporter = Conf::from_yaml(
        "endpoint: h:4317\ncompression: none\ntls: {auth: {token: t, scheme: Bearer}}\nqueue_size: 3\n",
    )
    .unwrap()
    .decode()
    .unwrap();
    assert_eq!(exporter.delivery.queue_size, 3);
    let auth = exporter.tls.auth.unwrap();
    assert_eq!((auth.token.expose(), auth.scheme.as_str()), ("t", "Bearer"));
}

/// The Go exporter's 2020 testdata: a bad value does not hide the unknown keys after it.
#[test]
fn a_bad_value_does_not_hide_the_unknown_keys_beside_it() {
    assert_eq!(
        problems::<Exporter>(
            "endpoint: h:4317\ncompression: \"on\"\nca_file: /x.pem\nper_rpc_auth: {type: bearer}\n"
        ),
        [
            "exporters::otlp::compression: unknown variant `on`, expected `gzip` or `none`",
            "exporters::otlp::ca_file: unknown key; valid keys: `endpoint`, `compression`, \
             `timeout`, `tls`, `headers`, `ports`, `queue_size`, `retry`",
            "exporters::otlp::per_rpc_auth: unknown key; valid keys: `endpoint`, \
             `compression`, `timeout`, `tls`, `headers`, `ports`, `queue_size`, `retry`",
        ]
    );
}

#[test]
fn unknown_keys_are_reported_at_every_depth_in_document_order() {
    let found = problems::<Exporter>(
        "tls:\n  insecur: true\n  auth: {token: t, scheme: s, realm: r}\n  ca_fil: x\nendpont: h\nretry: {enable: true}\n",
    );
    let paths: Vec<&str> = found
        .iter()
        .map(|p| p.split(": ").next().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "exporters::otlp::tls::insecur",
            "exporters::otlp::tls::auth::realm",
            "exporters::otlp::tls::ca_fil",
            "exporters::otlp::endpont",
            "exporters::otlp::retry::enable",
        ],
        "{found:#?}"
    );
}

#[test]
fn bad_values_of_siblings_are_all_reported() {
    assert_eq!(
        problems::<Exporter>(
            "timeout: soon\nendpoint: [a]\ntls: {insecure: \"yes\", ca_file: 3}\nqueue_size: -1\nretry: {enabled: 1}\n"
        ),
        [
            "exporters::otlp::timeout: invalid duration \"soon\": expected a number; expected a \
             number with a unit, such as \"200ms\", \"5s\" or \"1m30s\"",
            "exporters::otlp::endpoint: invalid type: sequence, expected a string",
            "exporters::otlp::tls::insecure: invalid type: string \"yes\", expected a boolean",
            "exporters::otlp::tls::ca_file: invalid type: integer `3`, expected a string",
            "exporters::otlp::queue_size: invalid value: integer `-1`, expected usize",
            "exporters::otlp::retry::enabled: invalid type: integer `1`, expected a boolean",
        ]
    );
}

#[test]
fn list_elements_and_map_values_are_checked_one_by_one() {
    assert_eq!(
        problems::<Exporter>("ports: [1, x, 3, 70000]\nheaders: {a: b, c: [d], e: f, g: {}}\n"),
        [
            "exporters::otlp::ports::1: invalid type: string \"x\", expected u16",
            "exporters::otlp::ports::3: invalid value: integer `70000`, expected u16",
            "exporters::otlp::headers::c: invalid type: sequence, expected a string",
            "exporters::otlp::headers::g: invalid type: map, expected a string",
        ]
    );
}

#[test]
fn a_missing_required_key_is_reported_with_the_problems_beside_it() {
    assert_eq!(
        problems::<Exporter>("tls: {auth: {scheme: 7, tokn: t}}\ntimeout: soon\n"),
        [
            "exporters::otlp::tls::auth::scheme: invalid type: integer `7`, expected a string",
            "exporters::otlp::tls::auth::tokn: unknown key; valid keys: `token`, `scheme`",
            "exporters::otlp::tls::auth::token: missing required key",
            "exporters::otlp::timeout: invalid duration \"soon\": expected a number; expected a \
             number with a unit, such as \"200ms\", \"5s\" or \"1m30s\"",
        ]
    );
}

/// Leaving a bad value out makes its required key missing: that is not reported again.
#[test]
fn a_bad_required_value_is_not_also_missing() {
    assert_eq!(
        problems::<Exporter>("tls: {auth: {token: [t], scheme: [s]}}\n"),
        [
            "exporters::otlp::tls::auth::token: invalid type: sequence, expected a secret (a \
             string, number or boolean)",
            "exporters::otlp::tls::auth::scheme: invalid type: sequence, expected a string",
        ]
    );
}

/// A list left shorter by a bad element is not reported as too short.
#[test]
fn a_tuple_missing_a_bad_element_is_not_also_too_short() {
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Pair {
        pair: (u8, u8),
        other: u8,
    }
    let pair: Pair = Conf::from_yaml("pair: [1, 2]\nother: 3\n")
        .unwrap()
        .decode()
        .unwrap();
    assert_eq!(
        pair,
        Pair {
            pair: (1, 2),
            other: 3
        }
    );
    let error = Conf::from_yaml("pair: [1, x]\nother: y\n")
        .unwrap()
        .decode::<Pair>()
        .unwrap_err();
    let paths: Vec<&str> = error.problems().map(|(path, _)| path).collect();
    assert_eq!(paths, ["pair::1", "other"], "{error}");
}

#[test]
fn the_content_of_an_enum_variant_is_checked_with_its_siblings() {
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "snake_case", deny_unknown_fields)]
    enum Sizer {
        Items { limit: u32 },
    }
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Queue {
        sizer: Sizer,
        size: u32,
    }
    let queue: Queue = Conf::from_yaml("sizer: {items: {limit: 1}}\nsize: 2\n")
        .unwrap()
        .decode()
        .unwrap();
    let expected = Queue {
        sizer: Sizer::Items { limit: 1 },
        size: 2,
    };
    assert_eq!(queue, expected);
    let error = Conf::from_yaml("sizer: {items: {limit: x}}\nsize: y\n")
        .unwrap()
        .decode::<Queue>()
        .unwrap_err();
    let paths: Vec<&str> = error.problems().map(|(path, _)| path).collect();
    assert_eq!(paths, ["sizer::items::limit", "size"], "{error}");
}

#[test]
fn every_unknown_key_of_a_squashing_struct_is_reported_with_its_bad_values() {
    assert_eq!(
        problems::<Exporter>("queue_sise: 3\ntimeout: x\nretyr: {}\nretry: {enabled: []}\n"),
        [
            "exporters::otlp::queue_sise: unknown key; valid keys: `endpoint`, `compression`, \
             `timeout`, `tls`, `headers`, `ports`, `queue_size`, `retry`",
            "exporters::otlp::timeout: invalid duration \"x\": expected a number; expected a \
             number with a unit, such as \"200ms\", \"5s\" or \"1m30s\"",
            "exporters::otlp::retyr: unknown key; valid keys: `endpoint`, `compression`, \
             `timeout`, `tls`, `headers`, `ports`, `queue_size`, `retry`",
            "exporters::otlp::retry::enabled: invalid type: sequence, expected a boolean",
        ]
    );
}

#[test]
fn the_error_shows_one_problem_per_line_and_its_first_as_path_and_message() {
    let error = Conf::from_yaml("endpoint: []\ntimeot: 1s\n")
        .unwrap()
        .decode::<Exporter>()
        .unwrap_err();
    assert_eq!(error.path(), "endpoint");
    assert_eq!(error.message(), "invalid type: sequence, expected a string");
    assert_eq!(error.problems().count(), 2);
    let text = error.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("endpoint: invalid type"), "{text}");
    assert!(lines[1].starts_with("timeot: unknown key"), "{text}");
}

#[test]
fn no_problem_shows_a_secret() {
    let error = Conf::from_yaml(
        "tls: {auth: {token: S3CRET-TOKEN, scheme: s}}\nendpoint: [S3CRET-TOKEN]\ntimeout: S3CRET-TOKEN\n",
    )
    .unwrap()
    .decode::<Exporter>()
    .unwrap_err();
    assert_eq!(error.problems().count(), 2, "{error}");
    assert!(!error.to_string().contains("S3CRET"), "{error}");
}

#[test]
fn a_decoding_stops_after_a_hundred_problems_and_says_so() {
    let ports = vec!["x"; 1000].join(", ");
    let error = Conf::from_yaml(&format!("ports: [{ports}]\n"))
        .unwrap()
        .decode::<Exporter>()
        .unwrap_err();
    let found: Vec<(&str, &str)> = error.problems().collect();
    assert_eq!(found.len(), 101);
    assert_eq!(found[99].0, "ports::99");
    assert_eq!(
        found[100],
        (
            "",
            "checking stopped after 100 problems; fix these and check again"
        )
    );
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Typed {
        a: u8,
        b: bool,
        c: String,
        d: Vec<u8>,
        inner: Inner,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Inner {
        e: u8,
        f: bool,
    }

    /// One entry of a section and whether it is a problem.
    #[derive(Debug, Clone)]
    enum Entry {
        Good(&'static str, Value),
        Bad(&'static str, Value),
        Unknown(&'static str),
    }

    fn entry() -> impl Strategy<Value = Entry> {
        prop_oneof![
            (0i64..256).prop_map(|i| Entry::Good("a", Value::Int(i))),
            (256i64..300).prop_map(|i| Entry::Bad("a", Value::Int(i))),
            any::<bool>().prop_map(|b| Entry::Good("b", Value::Bool(b))),
            Just(Entry::Bad("b", Value::from("yes"))),
            "[a-z]{0,3}".prop_map(|s| Entry::Good("c", Value::from(s))),
            Just(Entry::Bad("c", Value::Int(1))),
            Just(Entry::Good("d", Value::List(vec![Value::Int(1)]))),
            Just(Entry::Bad("d", Value::from("x"))),
            Just(Entry::Good(
                "inner",
                Value::from_iter([("e", Value::Int(1))])
            )),
            Just(Entry::Bad(
                "inner",
                Value::from_iter([("f", Value::Int(1))])
            )),
            prop::sample::select(vec!["g", "h", "i"]).prop_map(Entry::Unknown),
        ]
    }

    proptest! {
        /// A section decodes exactly when none of its entries is a problem, and then
        /// every problem is reported, in document order.
        #[test]
        fn every_problem_and_nothing_else_is_reported(entries in prop::collection::vec(entry(), 0..8)) {
            let mut section = indexmap::IndexMap::new();
            for entry in &entries {
                let (key, value) = match entry {
                    Entry::Good(key, value) | Entry::Bad(key, value) => (*key, value.clone()),
                    Entry::Unknown(key) => (*key, Value::Int(0)),
                };
                // A later entry of the same key replaces an earlier one in place.
                section.insert(key.to_owned(), (value, entry.clone()));
            }
            let expected: Vec<String> = section
                .iter()
                .filter_map(|(key, (_, entry))| match entry {
                    Entry::Good(..) => None,
                    Entry::Bad("inner", _) => Some(format!("x::{key}::f")),
                    Entry::Bad(..) | Entry::Unknown(_) => Some(format!("x::{key}")),
                })
                .collect();
            let value = Value::Map(
                section.into_iter().map(|(key, (value, _))| (key, value)).collect(),
            );
            match value.decode_at::<Typed>("x") {
                Ok(_) => prop_assert!(expected.is_empty(), "{:?}", expected),
                Err(error) => {
                    let found: Vec<&str> = error.problems().map(|(path, _)| path).collect();
                    prop_assert_eq!(found, expected);
                }
            }
        }
    }
}
