//! Decoding rules, each as a test.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

use crate::conf::Conf;
use crate::secret::{SecretKind, SecretString, SecretUrl};
use crate::value::{Expanded, Value};

fn conf(yaml: &str) -> Conf {
    Conf::from_yaml(yaml).unwrap()
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Receivers {
    otlp: Otlp,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Otlp {
    protocols: Protocols,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Protocols {
    grpc: Grpc,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Grpc {
    endpoint: SocketAddr,
    #[serde(default)]
    max_recv_msg_size_mib: u32,
    #[serde(default)]
    include_metadata: bool,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Root {
    receivers: Receivers,
}

#[test]
fn nested_structs_decode() {
    let root: Root = conf(
        "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: 127.0.0.1:4317\n        max_recv_msg_size_mib: 4\n",
    )
    .decode()
    .unwrap();
    assert_eq!(
        root.receivers.otlp.protocols.grpc.endpoint,
        "127.0.0.1:4317".parse().unwrap()
    );
    assert_eq!(root.receivers.otlp.protocols.grpc.max_recv_msg_size_mib, 4);
}

#[test]
fn errors_from_a_fields_own_type_name_the_full_path() {
    let error = conf("receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: x\n")
        .decode::<Root>()
        .unwrap_err();
    assert_eq!(error.path(), "receivers::otlp::protocols::grpc::endpoint");
    assert_eq!(error.message(), "invalid socket address syntax");
    assert_eq!(
        error.to_string(),
        "receivers::otlp::protocols::grpc::endpoint: invalid socket address syntax"
    );
}

#[test]
fn unknown_keys_name_their_path_and_the_valid_keys() {
    let error = conf(
        "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: 1.2.3.4:5\n        endpont: x\n",
    )
    .decode::<Root>()
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "receivers::otlp::protocols::grpc::endpont: unknown key; valid keys: `endpoint`, \
         `max_recv_msg_size_mib`, `include_metadata`"
    );
}

#[test]
fn missing_keys_name_their_path() {
    let error = conf("receivers:\n  otlp:\n    protocols:\n      grpc: {}\n")
        .decode::<Root>()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "receivers::otlp::protocols::grpc::endpoint: missing required key"
    );
}

#[test]
fn there_is_no_weak_typing() {
    let cases = [
        (
            "include_metadata: 'true'",
            "invalid type: string \"true\", expected a boolean",
        ),
        (
            "max_recv_msg_size_mib: '4'",
            "invalid type: string \"4\", expected u32",
        ),
        (
            "max_recv_msg_size_mib: 4.5",
            "invalid type: floating point `4.5`, expected u32",
        ),
        (
            "max_recv_msg_size_mib: -1",
            "invalid value: integer `-1`, expected u32",
        ),
        (
            "max_recv_msg_size_mib: [4]",
            "invalid type: sequence, expected u32",
        ),
        ("include_metadata: null", ""),
    ];
    for (line, expected) in cases {
        let yaml = format!("endpoint: 1.2.3.4:5\n{line}\n");
        let result = conf(&yaml).decode::<Grpc>();
        if expected.is_empty() {
            // A null field is "not set" and keeps its default.
            assert!(!result.unwrap().include_metadata);
            continue;
        }
        let error = result.unwrap_err();
        assert_eq!(error.message(), expected, "{line}");
        let key = line.split(':').next().unwrap();
        assert_eq!(error.path(), key, "{line}");
    }
}

#[test]
fn a_number_is_not_a_string() {
    #[derive(Debug, Deserialize)]
    struct Named {
        #[allow(dead_code)]
        name: String,
    }
    let error = conf("name: 5\n").decode::<Named>().unwrap_err();
    assert_eq!(
        error.to_string(),
        "name: invalid type: integer `5`, expected a string"
    );
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Typed {
    #[serde(default)]
    port: Option<u16>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    ratio: Option<f64>,
    #[serde(default)]
    raw: Option<Value>,
}

fn with(key: &str, value: Value) -> Conf {
    let mut c = Conf::new();
    c.set(key, value);
    c
}

#[test]
fn an_expanded_value_gives_strings_its_text_and_others_its_type() {
    let expanded = |value: Value, text: &str| Value::from(Expanded::new(value, text));
    let typed: Typed = with("port", expanded(Value::Int(83), "0123"))
        .decode()
        .unwrap();
    assert_eq!(typed.port, Some(83));
    let typed: Typed = with("name", expanded(Value::Int(83), "0123"))
        .decode()
        .unwrap();
    assert_eq!(typed.name.as_deref(), Some("0123"));
    let typed: Typed = with("enabled", expanded(Value::Bool(true), "true"))
        .decode()
        .unwrap();
    assert_eq!(typed.enabled, Some(true));
    let typed: Typed = with("ratio", expanded(Value::Int(1), "1"))
        .decode()
        .unwrap();
    assert_eq!(typed.ratio, Some(1.0));
    let typed: Typed = with("raw", expanded(Value::Int(7), "7")).decode().unwrap();
    assert_eq!(typed.raw, Some(Value::Int(7)));
    // An env variable that is set but empty: a string field gets "", others nothing.
    let typed: Typed = with("name", expanded(Value::Null, "")).decode().unwrap();
    assert_eq!(typed.name, None);
    #[derive(Deserialize)]
    struct Required {
        name: String,
    }
    let required: Required = with("name", expanded(Value::Null, "")).decode().unwrap();
    assert_eq!(required.name, "");
    // Weak typing stays off: `t` from an env variable is not a bool.
    let error = with("enabled", Value::from("t"))
        .decode::<Typed>()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "enabled: invalid type: string \"t\", expected a boolean"
    );
}

#[test]
fn null_means_empty_or_default() {
    #[derive(Debug, Deserialize, Default, PartialEq)]
    #[serde(deny_unknown_fields, default)]
    struct Batch {
        send_batch_size: u32,
        tags: Vec<String>,
        labels: BTreeMap<String, String>,
    }
    assert_eq!(Value::Null.decode::<Batch>().unwrap(), Batch::default());
    assert_eq!(
        conf("tags:\nlabels:\n").decode::<Batch>().unwrap(),
        Batch::default()
    );
    let components: HashMap<String, Option<Batch>> = conf("batch:\nother: {send_batch_size: 3}\n")
        .decode()
        .unwrap();
    assert_eq!(components["batch"], None);
    assert_eq!(
        components["other"].as_ref().map(|b| b.send_batch_size),
        Some(3)
    );
    assert!(Value::Null.decode::<Vec<u8>>().unwrap().is_empty());
    let error = Value::Null.decode::<String>().unwrap_err();
    assert_eq!(error.to_string(), "invalid type: null, expected a string");
}

#[test]
fn null_for_a_required_field_is_missing() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Required {
        endpoint: String,
    }
    let error = conf("endpoint:\n").decode::<Required>().unwrap_err();
    assert_eq!(error.to_string(), "endpoint: missing required key");
}

#[test]
fn list_elements_are_named_by_index() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Service {
        extensions: Vec<u8>,
    }
    let error = conf("extensions: [1, 2, x]\n")
        .decode::<Service>()
        .unwrap_err();
    assert_eq!(error.path(), "extensions::2");
    let error = conf("pairs: [[1, 2], [3]]\n")
        .decode_at::<(u8, u8)>("pairs::1")
        .unwrap_err();
    assert_eq!(error.path(), "pairs::1");
}

#[test]
fn decode_at_prefixes_paths() {
    let c = conf("receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: nope\n");
    let error = c
        .get("receivers::otlp")
        .unwrap()
        .decode_at::<Otlp>("receivers::otlp")
        .unwrap_err();
    assert_eq!(error.path(), "receivers::otlp::protocols::grpc::endpoint");
    let error = c.decode_at::<Otlp>("receivers::otlp").unwrap_err();
    assert_eq!(error.path(), "receivers::otlp::protocols::grpc::endpoint");
    // An absent path decodes as null: defaults, or the missing keys.
    let error = c.decode_at::<Otlp>("receivers::nope").unwrap_err();
    assert_eq!(
        error.to_string(),
        "receivers::nope::protocols: missing required key"
    );
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Compression {
    None,
    Gzip,
    Zstd { level: i32 },
    Custom(String),
}

#[test]
fn enums_are_strings_or_single_key_maps() {
    #[derive(Debug, Deserialize)]
    struct C {
        c: Vec<Compression>,
    }
    let decoded: C = conf("c: [none, gzip, {zstd: {level: 3}}, {custom: lz4}]\n")
        .decode()
        .unwrap();
    assert_eq!(
        decoded.c,
        [
            Compression::None,
            Compression::Gzip,
            Compression::Zstd { level: 3 },
            Compression::Custom("lz4".into())
        ]
    );
    let error = conf("c: [gzip, brotli]\n").decode::<C>().unwrap_err();
    assert_eq!(error.path(), "c::1");
    assert!(
        error.message().starts_with("unknown variant `brotli`"),
        "{error}"
    );
    let error = conf("c: [{zstd: {level: x}}]\n").decode::<C>().unwrap_err();
    assert_eq!(error.path(), "c::0::zstd::level");
    let error = conf("c: [{zstd: {level: 1, extra: 2}}]\n")
        .decode::<C>()
        .unwrap_err();
    assert_eq!(error.path(), "c::0::zstd::extra");
    let error = conf("c: [zstd]\n").decode::<C>().unwrap_err();
    assert_eq!(error.path(), "c::0");
    let error = conf("c: [{a: 1, b: 2}]\n").decode::<C>().unwrap_err();
    assert_eq!(
        error.to_string(),
        "c::0: expected a string or a map with a single key, found a map with 2 keys"
    );
    let expanded = Value::from(Expanded::new(Value::Int(5), "gzip"));
    assert_eq!(expanded.decode::<Compression>().unwrap(), Compression::Gzip);
}

#[test]
fn map_keys_can_be_numbers() {
    let decoded: HashMap<u16, String> = conf("1: a\n2: b\n").decode().unwrap();
    assert_eq!(decoded[&2], "b");
    let error = conf("x: a\n").decode::<HashMap<u16, String>>().unwrap_err();
    assert!(
        error.message().contains("invalid value: string \"x\""),
        "{error}"
    );
}

#[test]
fn tuples_check_their_length() {
    let error = conf("t: [1, 2, 3]\n")
        .decode_at::<(u8, u8)>("t")
        .unwrap_err();
    assert_eq!(error.path(), "t");
    assert!(error.message().contains("invalid length 3"), "{error}");
}

#[test]
fn raw_values_can_sit_inside_typed_configs() {
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Attributes {
        actions: Vec<Action>,
    }
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Action {
        key: String,
        value: Value,
    }
    let decoded: Attributes =
        conf("actions:\n  - key: a\n    value: {x: [1, true]}\n  - key: b\n    value: 2\n")
            .decode()
            .unwrap();
    assert_eq!(decoded.actions[0].key, "a");
    assert_eq!(
        decoded.actions[0].value.get("x::1"),
        Some(&Value::Bool(true))
    );
    assert_eq!(decoded.actions[1].value, Value::Int(2));
}

#[test]
fn durations_decode_from_text_or_expanded_zero() {
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Timeouts {
        #[serde(with = "crate::duration")]
        timeout: Duration,
        #[serde(default, with = "crate::duration::option")]
        idle: Option<Duration>,
    }
    let decoded: Timeouts = conf("timeout: 1m30s\nidle: 200ms\n").decode().unwrap();
    assert_eq!(decoded.timeout, Duration::from_secs(90));
    assert_eq!(decoded.idle, Some(Duration::from_millis(200)));
    let decoded: Timeouts = conf("timeout: 0\nidle:\n").decode().unwrap();
    assert_eq!(decoded.timeout, Duration::ZERO);
    assert_eq!(decoded.idle, None);
    let decoded: Timeouts = with("timeout", Value::from(Expanded::new(Value::Int(0), "0")))
        .decode()
        .unwrap();
    assert_eq!(decoded.timeout, Duration::ZERO);
    // Issue 13: a bare integer is nanoseconds, as in Go (`flush_interval: 5`).
    let decoded: Timeouts = conf("timeout: 5\n").decode().unwrap();
    assert_eq!(decoded.timeout, Duration::from_nanos(5));
    let error = conf("timeout: -5\n").decode::<Timeouts>().unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("timeout: the duration -5ns is negative"),
        "{error}"
    );
    let error = conf("timeout: 5 s\n").decode::<Timeouts>().unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("timeout: invalid duration \"5 s\""),
        "{error}"
    );
}

#[test]
fn flattened_and_untagged_types_still_decode() {
    #[derive(Debug, Deserialize)]
    struct Outer {
        name: String,
        #[serde(flatten)]
        rest: HashMap<String, Value>,
    }
    let decoded: Outer = conf("name: x\na: 1\nb: [2]\n").decode().unwrap();
    assert_eq!(decoded.name, "x");
    assert_eq!(decoded.rest.len(), 2);
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(untagged)]
    enum Port {
        Number(u16),
        Named(String),
    }
    assert_eq!(Value::Int(80).decode::<Port>().unwrap(), Port::Number(80));
    assert_eq!(
        Value::from("http").decode::<Port>().unwrap(),
        Port::Named("http".into())
    );
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Client {
    endpoint: SecretUrl,
    #[serde(default)]
    headers: BTreeMap<String, SecretString>,
    #[serde(default)]
    auth: Option<Auth>,
    #[serde(default)]
    tokens: Vec<SecretString>,
    #[serde(default, with = "crate::duration::option")]
    timeout: Option<Duration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
enum Auth {
    Bearer { token: SecretString },
}

#[test]
fn secret_types_record_their_paths_at_any_depth() {
    let client = conf(
        "endpoint: http://u:p@h\nheaders: {Cookie: c, X-Auth: 7}\nauth: {Bearer: {token: t}}\ntokens: [a, b]\ntimeout: 1s\n",
    );
    let (decoded, secrets) = client.as_value().decode_with_secrets::<Client>().unwrap();
    let recorded: Vec<(&str, SecretKind)> = secrets.iter().collect();
    assert_eq!(
        recorded,
        [
            ("endpoint", SecretKind::Userinfo),
            ("headers::Cookie", SecretKind::Value),
            ("headers::X-Auth", SecretKind::Value),
            ("auth::Bearer::token", SecretKind::Value),
            ("tokens::0", SecretKind::Value),
            ("tokens::1", SecretKind::Value),
        ]
    );
    assert_eq!(decoded.endpoint.expose(), "http://u:p@h");
    assert_eq!(decoded.headers["X-Auth"].expose(), "7", "a number is text");
    let Some(Auth::Bearer { token }) = decoded.auth else {
        panic!("no auth");
    };
    assert_eq!(token.expose(), "t");
    assert_eq!(decoded.timeout, Some(Duration::from_secs(1)));
}

#[test]
fn a_secret_from_a_reference_is_the_text_it_was_written_as() {
    let mut client = conf("endpoint: h:1\n");
    let octal = Expanded::new(Value::Int(83), "0123").with_scheme("env");
    client.set("tokens", vec![Value::from(octal)]);
    let decoded: Client = client.decode().unwrap();
    assert_eq!(decoded.tokens[0].expose(), "0123");
}

#[test]
fn errors_do_not_show_what_a_reference_produced() {
    let mut client = conf("endpoint: http://h\n");
    client.set(
        "timeout",
        Expanded::new(Value::from("TOKENFILESECRET777\n"), "TOKENFILESECRET777\n")
            .with_scheme("file"),
    );
    let error = client.decode::<Client>().unwrap_err();
    assert_eq!(error.path(), "timeout");
    assert!(
        error
            .message()
            .starts_with("invalid duration (value from a ${file:...} reference not shown): "),
        "{error}"
    );
    assert!(!error.to_string().contains("TOKENFILESECRET777"), "{error}");
    // Written in the document, a value is the user's own text and is shown.
    let error = conf("endpoint: http://h\ntimeout: soon\n")
        .decode::<Client>()
        .unwrap_err();
    assert!(
        error.message().starts_with("invalid duration \"soon\""),
        "{error}"
    );
}

#[test]
fn a_secret_pasted_into_another_field_is_not_shown_there() {
    let error = conf("endpoint: http://h\ntokens: [T0K3N-2024]\ntimeout: T0K3N-2024\n")
        .decode::<Client>()
        .unwrap_err();
    assert_eq!(error.path(), "timeout");
    assert_eq!(
        error.message(),
        "invalid duration [REDACTED]: expected a number; expected a number with a unit, such as \"200ms\", \"5s\" or \"1m30s\""
    );
}

/// The exporter helper's keys, squashed into each exporter as in the Go Collector.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
struct Delivery {
    #[serde(with = "crate::duration")]
    timeout: Duration,
    sending_queue: Queue,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            timeout: Duration::from_secs(5),
            sending_queue: Queue::default(),
        }
    }
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
struct Queue {
    enabled: bool,
    queue_size: usize,
}

impl Default for Queue {
    fn default() -> Self {
        Queue {
            enabled: true,
            queue_size: 1000,
        }
    }
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Exporter {
    endpoint: String,
    #[serde(default)]
    compression: Option<String>,
    #[serde(rename = "delivery,squash")]
    delivery: Delivery,
}

/// Decodes `yaml` as the section `exporters::otlp`.
fn exporter(yaml: &str) -> Result<Exporter, crate::DecodeError> {
    conf(yaml).as_value().decode_at("exporters::otlp")
}

#[test]
fn squashed_keys_sit_in_the_parents_map() {
    let decoded =
        exporter("endpoint: h:1\ntimeout: 1s\nsending_queue: {queue_size: 5}\ncompression: gzip\n")
            .unwrap();
    assert_eq!(decoded.endpoint, "h:1");
    assert_eq!(decoded.compression.as_deref(), Some("gzip"));
    assert_eq!(
        decoded.delivery,
        Delivery {
            timeout: Duration::from_secs(1),
            sending_queue: Queue {
                enabled: true,
                queue_size: 5
            },
        }
    );
}

#[test]
fn absent_or_null_squashed_keys_take_the_squashed_types_defaults() {
    let decoded = exporter("endpoint: h:1\n").unwrap();
    assert_eq!(decoded.delivery, Delivery::default());
    let decoded = exporter("endpoint: h:1\ntimeout:\nsending_queue:\n").unwrap();
    assert_eq!(decoded.delivery, Delivery::default());
    // A struct with squashed fields may itself be null: everything from nothing.
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Optional {
        #[serde(default)]
        label: String,
        #[serde(rename = "delivery,squash")]
        delivery: Delivery,
    }
    let decoded: Optional = Value::Null.decode().unwrap();
    assert_eq!(decoded.delivery, Delivery::default());
}

#[test]
fn an_unknown_key_of_the_parent_names_its_path_and_every_level_s_keys() {
    let error = exporter("endpoint: h:1\nendpont: x\ntimeout: 1s\n").unwrap_err();
    assert_eq!(
        error.to_string(),
        "exporters::otlp::endpont: unknown key; valid keys: `endpoint`, `compression`, \
         `timeout`, `sending_queue`"
    );
    // Null or not, a key nobody knows is an error.
    let error = exporter("endpoint: h:1\nretry_on_failure:\n").unwrap_err();
    assert_eq!(error.path(), "exporters::otlp::retry_on_failure");
}

#[test]
fn an_unknown_key_inside_a_squashed_part_names_its_full_path() {
    let error = exporter("endpoint: h:1\nsending_queue: {queue_sise: 5}\n").unwrap_err();
    assert_eq!(
        error.to_string(),
        "exporters::otlp::sending_queue::queue_sise: unknown key; valid keys: `enabled`, \
         `queue_size`"
    );
}

#[test]
fn errors_in_squashed_values_name_the_parents_path() {
    let error = exporter("endpoint: h:1\ntimeout: soon\n").unwrap_err();
    assert_eq!(error.path(), "exporters::otlp::timeout");
    assert!(error.message().starts_with("invalid duration"), "{error}");
    let error = exporter("endpoint: h:1\nsending_queue: {enabled: 'yes'}\n").unwrap_err();
    assert_eq!(
        error.to_string(),
        "exporters::otlp::sending_queue::enabled: invalid type: string \"yes\", expected a boolean"
    );
    let error = exporter("endpoint: h:1\nsending_queue: 5\n").unwrap_err();
    assert_eq!(error.path(), "exporters::otlp::sending_queue");
    // A required key of the squashed part is missing at the parent's level.
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Required {
        #[serde(rename = "client,squash")]
        client: Endpoint,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Endpoint {
        endpoint: String,
    }
    let error = conf("a: {}\n").decode_at::<Required>("a").unwrap_err();
    assert_eq!(error.to_string(), "a::endpoint: missing required key");
}

#[test]
fn squashed_parts_nest_and_sit_side_by_side() {
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Client {
        endpoint: String,
        #[serde(default)]
        headers: BTreeMap<String, SecretString>,
    }
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Transport {
        #[serde(rename = "client,squash")]
        client: Client,
        #[serde(default)]
        proxy_url: Option<SecretUrl>,
    }
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Http {
        #[serde(default)]
        encoding: String,
        #[serde(rename = "transport,squash")]
        transport: Transport,
        #[serde(rename = "delivery,squash")]
        delivery: Delivery,
    }
    let http = conf(
        "exporters:\n  otlp_http:\n    endpoint: http://h\n    headers: {x-key: s3cret}\n    \
         proxy_url: http://u:p@proxy\n    encoding: json\n    timeout: 2s\n",
    );
    let (decoded, secrets) = http
        .get("exporters::otlp_http")
        .unwrap()
        .decode_with_secrets::<Http>()
        .unwrap();
    assert_eq!(decoded.encoding, "json");
    assert_eq!(decoded.transport.client.endpoint, "http://h");
    assert_eq!(decoded.transport.client.headers["x-key"].expose(), "s3cret");
    assert_eq!(
        decoded
            .transport
            .proxy_url
            .map(|url| url.expose().to_owned()),
        Some("http://u:p@proxy".to_owned())
    );
    assert_eq!(decoded.delivery.timeout, Duration::from_secs(2));
    // Secrets of squashed parts are recorded where they sit, so print-config hides them.
    let recorded: Vec<(&str, SecretKind)> = secrets.iter().collect();
    assert_eq!(
        recorded,
        [
            ("proxy_url", SecretKind::Userinfo),
            ("headers::x-key", SecretKind::Value),
        ]
    );
    let mut printed = http.get("exporters::otlp_http").unwrap().clone();
    secrets.redact(&mut printed);
    assert_eq!(
        printed.get("headers::x-key"),
        Some(&Value::from(crate::REDACTED))
    );
    assert_eq!(
        printed.get("proxy_url"),
        Some(&Value::from("http://[REDACTED]@proxy"))
    );
    let error = conf("endpoint: h\ntimeout: 1s\nheader: {}\n")
        .as_value()
        .decode_at::<Http>("exporters::otlp_http")
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "exporters::otlp_http::header: unknown key; valid keys: `encoding`, `endpoint`, \
         `headers`, `proxy_url`, `timeout`, `sending_queue`"
    );
}

#[test]
fn a_squashed_map_takes_the_keys_left() {
    #[derive(Debug, Deserialize)]
    struct Processor {
        name: String,
        #[serde(rename = "rest,squash")]
        rest: BTreeMap<String, Value>,
    }
    let decoded: Processor = conf("name: x\na: 1\nb: ~\n").decode().unwrap();
    assert_eq!(decoded.name, "x");
    assert_eq!(decoded.rest.keys().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(decoded.rest["b"], Value::Null);
}

mod squash_properties {
    use proptest::prelude::*;
    use serde::Deserialize;

    use crate::value::{Map, Value};

    /// The keys of [`Squashed`], written out in one struct.
    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default, deny_unknown_fields)]
    struct Flat {
        a: u32,
        b: String,
        c: u32,
        d: bool,
        e: u32,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Squashed {
        a: u32,
        b: String,
        #[serde(rename = "inner,squash")]
        inner: Inner,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Inner {
        c: u32,
        #[serde(rename = "deep,squash")]
        deep: Deep,
        e: u32,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Deep {
        d: bool,
    }

    impl From<Squashed> for Flat {
        fn from(s: Squashed) -> Flat {
            Flat {
                a: s.a,
                b: s.b,
                c: s.inner.c,
                d: s.inner.deep.d,
                e: s.inner.e,
            }
        }
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            (0i64..5).prop_map(Value::Int),
            any::<bool>().prop_map(Value::Bool),
            "[a-z]{0,3}".prop_map(Value::from),
        ]
    }

    fn section() -> impl Strategy<Value = Map> {
        let key = prop::sample::select(vec!["a", "b", "c", "d", "e", "f"]);
        prop::collection::vec((key, value()), 0..8).prop_map(|entries| {
            entries
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value))
                .collect()
        })
    }

    proptest! {
        /// Squashing changes where fields live in Rust, never what a document means: the
        /// same documents decode, to the same values, and an error names a key present.
        #[test]
        fn squashed_parts_decode_as_if_written_out(section in section()) {
            let value = Value::Map(section.clone());
            let flat = value.decode_at::<Flat>("x");
            let squashed = value.decode_at::<Squashed>("x").map(Flat::from);
            match (flat, squashed) {
                (Ok(flat), Ok(squashed)) => prop_assert_eq!(flat, squashed),
                (Err(_), Err(error)) => {
                    let key = error.path().strip_prefix("x::").unwrap_or_default();
                    prop_assert!(section.contains_key(key), "{}", error);
                }
                (flat, squashed) => prop_assert!(false, "{:?} vs {:?}", flat, squashed),
            }
        }
    }
}

/// A `,present` field gets its null (Go's `configoptional`: `batch:` means on), under its
/// plain key, and error messages never show the suffix.
#[test]
fn a_present_field_receives_null_under_its_plain_key() {
    #[derive(Debug, Default, serde::Deserialize, PartialEq)]
    #[serde(default)]
    struct Batch {
        size: u32,
    }
    fn present_means_on<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Batch>, D::Error> {
        Ok(Some(Option::<Batch>::deserialize(d)?.unwrap_or_default()))
    }
    #[derive(Debug, Default, serde::Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Queue {
        #[serde(rename = "batch,present", deserialize_with = "present_means_on")]
        batch: Option<Batch>,
        timeout: Option<u32>,
    }
    use serde::Deserialize;
    let decode = |yaml: &str| {
        crate::Conf::from_yaml(yaml)
            .unwrap()
            .as_value()
            .decode::<Queue>()
    };
    assert_eq!(
        decode("batch:\ntimeout:").unwrap().batch,
        Some(Batch::default())
    );
    assert_eq!(
        decode("batch: { size: 3 }").unwrap().batch,
        Some(Batch { size: 3 })
    );
    assert_eq!(decode("timeout: 1").unwrap().batch, None);
    let error = decode("batch: { size: x }").unwrap_err().to_string();
    assert!(error.starts_with("batch::size:"), "{error}");
    let error = decode("bacth: {}").unwrap_err().to_string();
    assert!(
        error.contains("`batch`") && !error.contains(",present"),
        "{error}"
    );
}
