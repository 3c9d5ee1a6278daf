//! Expansion rules, each as a test, against an in-memory set of sources.

use std::collections::HashMap;

use super::*;
use crate::conf::Conf;
use crate::provider::Retrieved;

/// Sources by URI, as YAML text the way the built-in providers return it.
#[derive(Default)]
struct Sources {
    texts: HashMap<String, String>,
    fetches: Vec<String>,
}

impl Sources {
    fn with(entries: &[(&str, &str)]) -> Sources {
        Sources {
            texts: entries
                .iter()
                .map(|(uri, text)| ((*uri).to_owned(), (*text).to_owned()))
                .collect(),
            fetches: Vec::new(),
        }
    }
}

#[async_trait::async_trait]
impl Fetch for Sources {
    async fn fetch(&mut self, uri: &str) -> Result<Fetched, ExpandError> {
        self.fetches.push(uri.to_owned());
        let scheme = uri.split(':').next().unwrap_or_default();
        if !["env", "file", "yaml"].contains(&scheme) {
            return Err(ExpandError::UnknownScheme {
                scheme: scheme.to_owned(),
                known: vec!["env".into(), "file".into(), "yaml".into()],
                hint: None,
            });
        }
        // An unset variable is empty, as the env provider makes it.
        let text = self.texts.get(uri).cloned().unwrap_or_default();
        let (value, text, _) = Retrieved::from_yaml(text).into_parts();
        Ok(Fetched { value, text })
    }
}

async fn expand_with(sources: &mut Sources, yaml: &str) -> Result<Conf, Error> {
    let conf = Conf::from_yaml(yaml).unwrap();
    let value = Expander::new(sources, "env")
        .expand(conf.into_value())
        .await?;
    Ok(Conf::from_value(value).unwrap())
}

async fn expand(sources: &[(&str, &str)], yaml: &str) -> Result<Conf, Error> {
    expand_with(&mut Sources::with(sources), yaml).await
}

async fn expand_one(sources: &[(&str, &str)], value: &str) -> Result<Value, Error> {
    let mut conf = Conf::new();
    conf.set("v", value);
    let value = Expander::new(&mut Sources::with(sources), "env")
        .expand(conf.into_value())
        .await?;
    Ok(value.get("v").cloned().unwrap_or_default())
}

#[tokio::test]
async fn a_whole_value_reference_keeps_its_type_and_its_text() {
    let value = expand_one(&[("env:PORT", "0123")], "${env:PORT}")
        .await
        .unwrap();
    assert_eq!(
        value,
        Value::from(Expanded::new(Value::Int(83), "0123").with_scheme("env"))
    );
    let value = expand_one(&[("env:ON", "true")], "${env:ON}")
        .await
        .unwrap();
    assert_eq!(value.as_bool(), Some(true));
    let value = expand_one(&[("env:L", "[a, b]")], "${env:L}")
        .await
        .unwrap();
    assert_eq!(value, Value::from(vec!["a", "b"]));
    let value = expand_one(&[("env:S", "plain text")], "${env:S}")
        .await
        .unwrap();
    assert_eq!(value.as_str(), Some("plain text"));
}

#[tokio::test]
async fn every_scalar_a_reference_produced_is_marked_with_its_scheme() {
    let sources = [
        ("env:TOKEN", "s3cret"),
        ("file:/run/token", "T0KEN\n"),
        ("file:/etc/h.yaml", "authorization: plain"),
    ];
    let conf = expand(
        &sources,
        "a: ${env:TOKEN}\nb: Bearer ${env:TOKEN}\nc: ${file:/run/token}\nd: $${env:TOKEN}\nh: ${file:/etc/h.yaml}\n",
    )
    .await
    .unwrap();
    let scheme = |path: &str| match conf.get(path) {
        Some(Value::Expanded(expanded)) => expanded.scheme().map(str::to_owned),
        _ => None,
    };
    assert_eq!(scheme("a").as_deref(), Some("env"));
    assert_eq!(scheme("b").as_deref(), Some("env"), "embedded");
    assert_eq!(scheme("c").as_deref(), Some("file"));
    assert_eq!(conf.get("c").and_then(Value::as_str), Some("T0KEN\n"));
    assert_eq!(scheme("d"), None, "an escape is not a reference");
    assert_eq!(
        scheme("h::authorization"),
        None,
        "a retrieved map is configuration, like an included file"
    );
}

#[tokio::test]
async fn a_bare_name_uses_the_default_scheme() {
    let value = expand_one(&[("env:HOST", "example.com")], "${HOST}")
        .await
        .unwrap();
    assert_eq!(value.as_str(), Some("example.com"));
}

#[tokio::test]
async fn embedded_references_insert_their_text() {
    let value = expand_one(
        &[("env:HOST", "example.com"), ("env:PORT", "04317")],
        "http://${env:HOST}:${PORT}/v1",
    )
    .await
    .unwrap();
    assert_eq!(value.as_str(), Some("http://example.com:04317/v1"));
}

#[tokio::test]
async fn nested_references_resolve_inside_out() {
    let mut sources = Sources::with(&[
        ("env:DIR", "/etc/otel"),
        ("file:/etc/otel/x.yaml", "endpoint: a:4317"),
    ]);
    let conf = expand_with(&mut sources, "exporter: ${file:${env:DIR}/x.yaml}\n")
        .await
        .unwrap();
    assert_eq!(
        conf.get("exporter::endpoint").and_then(Value::as_str),
        Some("a:4317")
    );
    assert_eq!(sources.fetches, ["env:DIR", "file:/etc/otel/x.yaml"]);
}

#[tokio::test]
async fn double_dollars_are_literal_dollars() {
    let sources = [("env:A", "a"), ("env:B", "b"), ("env:X", "x")];
    for (input, expected) in [
        ("$$", "$"),
        ("cost: $$5", "cost: $5"),
        ("$${env:X}", "${env:X}"),
        ("$$$${X}", "$${X}"),
        ("$$${X}", "$x"),
        // The Go Collector leaves `${env:B}` unexpanded here; we do not.
        ("$${A} ${env:B}", "${A} b"),
        ("${env:B} $${A}", "b ${A}"),
        ("$VAR stays", "$VAR stays"),
        ("pre ${env:A", "pre ${env:A"),
    ] {
        assert_eq!(
            expand_one(&sources, input).await.unwrap().as_str(),
            Some(expected),
            "{input}"
        );
    }
}

#[tokio::test]
async fn retrieved_values_are_expanded_again_and_unescaped_once() {
    let sources = [
        ("env:A", "${env:B}"),
        ("env:B", "deep"),
        ("env:P", "pa$$word"),
        ("env:Q", "$${env:B}"),
    ];
    for (input, expected) in [
        ("${env:A}", "deep"),
        ("x-${env:A}", "x-deep"),
        ("${env:P}", "pa$word"),
        ("${env:Q}", "${env:B}"),
    ] {
        assert_eq!(
            expand_one(&sources, input).await.unwrap().as_str(),
            Some(expected),
            "{input}"
        );
    }
}

#[tokio::test]
async fn cycles_are_errors_naming_the_chain() {
    let error = expand(
        &[("env:A", "${env:B}"), ("env:B", "x ${env:A}")],
        "exporters:\n  otlp:\n    endpoint: ${env:A}\n",
    )
    .await
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "exporters::otlp::endpoint: ${env:A}: expansion cycle: env:A -> env:B -> env:A"
    );
    let error = expand_one(&[("env:SELF", "${SELF}")], "${SELF}")
        .await
        .unwrap_err();
    assert!(
        error.to_string().ends_with("env:SELF -> env:SELF"),
        "{error}"
    );
}

#[tokio::test]
async fn long_chains_are_capped() {
    let sources: Vec<(String, String)> = (0..=MAX_DEPTH)
        .map(|i| (format!("env:V{i}"), format!("${{env:V{}}}", i + 1)))
        .collect();
    let borrowed: Vec<(&str, &str)> = sources
        .iter()
        .map(|(uri, text)| (uri.as_str(), text.as_str()))
        .collect();
    let error = expand_one(&borrowed, "${env:V0}").await.unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Expand {
                source: ExpandError::TooDeep {
                    limit: MAX_DEPTH,
                    ..
                },
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn embedding_a_map_or_list_is_an_error_naming_path_and_uri() {
    let error = expand(
        &[("file:x.yaml", "a: 1")],
        "receivers:\n  r:\n    endpoint: \"http://${file:x.yaml}\"\n",
    )
    .await
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "receivers::r::endpoint: ${file:x.yaml}: file:x.yaml resolved to a map, which cannot be \
         embedded in a string; only a scalar can (a reference that is the whole value keeps any type)"
    );
    let error = expand_one(&[("env:L", "[1]")], "x${env:L}")
        .await
        .unwrap_err();
    assert!(error.to_string().contains("resolved to a list"), "{error}");
}

#[tokio::test]
async fn an_unset_variable_is_empty_embedded_and_null_alone() {
    assert_eq!(
        expand_one(&[], "a${env:UNSET}b").await.unwrap().as_str(),
        Some("ab")
    );
    let alone = expand_one(&[], "${env:UNSET}").await.unwrap();
    assert!(alone.is_null());
    assert_eq!(alone.as_str(), Some(""));
}

#[tokio::test]
async fn references_inside_retrieved_maps_expand_with_their_paths() {
    let error = expand(
        &[("file:exporters.yaml", "otlp:\n  endpoint: ${nope:x}\n")],
        "exporters: ${file:exporters.yaml}\n",
    )
    .await
    .unwrap_err();
    assert!(
        error.to_string().starts_with(
            "exporters::otlp::endpoint: ${file:exporters.yaml}: unknown scheme `nope`"
        ),
        "{error}"
    );
    let conf = expand(
        &[
            ("file:exporters.yaml", "otlp::endpoint: ${env:E}\n"),
            ("env:E", "a:1"),
        ],
        "exporters: ${file:exporters.yaml}\n",
    )
    .await
    .unwrap();
    assert_eq!(
        conf.get("exporters::otlp::endpoint")
            .and_then(Value::as_str),
        Some("a:1")
    );
}

#[tokio::test]
async fn only_values_are_expanded_not_keys() {
    let conf = expand(&[("env:K", "v")], "\"${env:K}\": ${env:K}\n")
        .await
        .unwrap();
    assert_eq!(conf.get("${env:K}").and_then(Value::as_str), Some("v"));
}

#[tokio::test]
async fn list_items_expand_and_errors_name_their_index() {
    let conf = expand(&[("env:A", "a")], "l: [x, '${env:A}']\n")
        .await
        .unwrap();
    assert_eq!(conf.get("l::1").and_then(Value::as_str), Some("a"));
    let error = expand(&[], "l: [x, 'y${nope:x}']\n").await.unwrap_err();
    assert!(
        error.to_string().starts_with("l::1: ${nope:x}: unknown"),
        "{error}"
    );
}

#[tokio::test]
async fn each_uri_is_retrieved_once() {
    let mut sources = Sources::with(&[("env:A", "a")]);
    expand_with(&mut sources, "x: ${env:A}\ny: ${env:A}-${A}\n")
        .await
        .unwrap();
    assert_eq!(sources.fetches, ["env:A"]);
}

#[tokio::test]
async fn runaway_growth_is_stopped() {
    let sources: Vec<(String, String)> = (0..40)
        .map(|i| {
            (
                format!("env:G{i}"),
                format!("${{env:G{0}}}${{env:G{0}}}", i + 1),
            )
        })
        .chain([("env:G40".to_owned(), "x".repeat(1024))])
        .collect();
    let borrowed: Vec<(&str, &str)> = sources
        .iter()
        .map(|(uri, text)| (uri.as_str(), text.as_str()))
        .collect();
    let error = expand_one(&borrowed, "${env:G0}").await.unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Expand {
                source: ExpandError::TooLong { .. },
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn strings_without_dollars_are_not_touched() {
    let mut sources = Sources::default();
    let conf = expand_with(&mut sources, "a: 'plain {text}'\nb: 1\n")
        .await
        .unwrap();
    assert_eq!(conf.get("a"), Some(&Value::from("plain {text}")));
    assert!(sources.fetches.is_empty());
}
