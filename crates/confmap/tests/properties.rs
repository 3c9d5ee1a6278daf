//! Properties of merging, expansion, YAML and durations, checked on generated inputs.

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use tributary_confmap::{
    Conf, EnvProvider, Map, Provider, ProviderError, Resolver, ResolverSettings, Retrieved, Value,
    Watcher, duration,
};

/// Keys as configurations use them (no `::`, which would nest).
fn key() -> impl Strategy<Value = String> {
    "[a-z_][a-z0-9_/-]{0,6}"
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        // Floats that YAML prints and reads back exactly.
        (-1_000_000i32..1_000_000, 0u32..4)
            .prop_map(|(m, e)| Value::Float(f64::from(m) / f64::from(10u32.pow(e)) + 0.5)),
        any::<String>().prop_map(Value::String),
        prop::sample::select(vec![
            "0123", "true", "~", "null", "yes", "1.5", "- x", "a: b", "#", ""
        ])
        .prop_map(Value::from),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::List),
            prop::collection::vec((key(), inner), 0..5)
                .prop_map(|entries| Value::Map(entries.into_iter().collect())),
        ]
    })
}

fn conf() -> impl Strategy<Value = Conf> {
    prop::collection::vec((key(), value()), 0..6)
        .prop_map(|entries| Conf::from_map(entries.into_iter().collect::<Map>()))
}

proptest! {
    #[test]
    fn merging_an_empty_map_is_the_identity(c in conf()) {
        let mut left = Conf::new();
        left.merge(c.clone());
        prop_assert_eq!(&left, &c);
        let mut right = c.clone();
        right.merge(Conf::new());
        prop_assert_eq!(&right, &c);
    }

    #[test]
    fn merging_is_idempotent(c in conf()) {
        let mut twice = c.clone();
        twice.merge(c.clone());
        prop_assert_eq!(twice, c);
    }

    #[test]
    fn merged_keys_keep_their_first_position(a in conf(), b in conf()) {
        // Merging is not associative (a later scalar can drop a map that an even later map
        // would have merged into), but key order is predictable: earlier keys first.
        let mut merged = a.clone();
        merged.merge(b.clone());
        let mut expected: Vec<&str> = a.keys().collect();
        expected.extend(b.keys().filter(|key| !a.as_map().unwrap().contains_key(*key)));
        prop_assert_eq!(merged.keys().collect::<Vec<_>>(), expected);
    }

    #[test]
    fn the_later_source_wins_at_every_leaf(a in conf(), b in conf()) {
        let mut merged = a.clone();
        merged.merge(b.clone());
        for (path, leaf) in leaves(b.as_value(), String::new()) {
            prop_assert_eq!(merged.get(&path), Some(&leaf), "at {}", path);
        }
    }

    #[test]
    fn set_then_get_returns_the_value(c in conf(), path in prop::collection::vec(key(), 1..4), v in value()) {
        let path = path.join("::");
        let mut c = c;
        c.set(&path, v.clone());
        prop_assert_eq!(c.get(&path), Some(&v));
    }

    #[test]
    fn yaml_printing_round_trips(c in conf()) {
        let text = c.to_yaml();
        let back = Conf::from_yaml(&text);
        prop_assert!(back.is_ok(), "{:?}\n{}", back, text);
        prop_assert_eq!(back.unwrap(), c, "{}", text);
    }

    #[test]
    fn a_value_decodes_into_itself(v in value()) {
        prop_assert_eq!(v.decode::<Value>().unwrap(), v);
    }

    #[test]
    fn decoding_any_value_into_typed_configs_never_panics(v in value()) {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Typed {
            #[serde(default)]
            name: String,
            #[serde(default)]
            count: Option<u32>,
            #[serde(default)]
            items: Vec<std::collections::BTreeMap<String, Vec<Mode>>>,
            #[serde(default, with = "tributary_confmap::duration::option")]
            timeout: Option<Duration>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[allow(dead_code)]
        enum Mode { A, B(u8), C { x: bool } }
        let _ = v.decode::<Typed>();
        let _ = v.decode::<std::collections::HashMap<String, Option<Typed>>>();
        let _ = v.decode::<(bool, i8, String)>();
        let _ = v.decode::<Vec<Mode>>();
        if let Err(error) = v.decode_at::<Typed>("root") {
            prop_assert!(error.path().starts_with("root"), "{}", error);
        }
    }

    #[test]
    fn durations_print_and_parse_back(nanos in 0u64..=i64::MAX as u64) {
        let d = Duration::from_nanos(nanos);
        prop_assert_eq!(duration::parse(&duration::format(d)), Ok(d));
    }

    #[test]
    fn the_duration_parser_never_panics(text in "[-+0-9.a-zµ]{0,12}") {
        let _ = duration::parse(&text);
    }
}

/// Every non-map value below `value`, with its path (maps are merged, so only their leaves
/// are sure to survive as they are).
fn leaves(value: &Value, path: String) -> Vec<(String, Value)> {
    match value {
        Value::Map(map) if !map.is_empty() => map
            .iter()
            .flat_map(|(key, item)| {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}::{key}")
                };
                leaves(item, child)
            })
            .collect(),
        Value::Map(_) => Vec::new(),
        other => vec![(path, other.clone())],
    }
}

/// Serves `tree:` with one fixed configuration, so expansion can be checked on generated
/// values through the public resolver.
struct TreeProvider(Value);

#[async_trait::async_trait]
impl Provider for TreeProvider {
    fn scheme(&self) -> &str {
        "tree"
    }

    async fn retrieve(&self, _uri: &str, _: Option<Watcher>) -> Result<Retrieved, ProviderError> {
        Ok(Retrieved::new(self.0.clone()))
    }

    async fn shutdown(&self) -> Result<(), ProviderError> {
        Ok(())
    }
}

/// Resolves a configuration holding `text` at key `v`; returns what `v` became.
fn expand(text: &str) -> Result<Value, tributary_confmap::Error> {
    let mut tree = Conf::new();
    tree.set("v", text);
    let settings = ResolverSettings {
        providers: vec![
            Arc::new(EnvProvider::new()),
            Arc::new(TreeProvider(tree.into_value())),
        ],
        ..ResolverSettings::new(["tree:root"])
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let resolver = Resolver::new(settings)?;
        let conf = resolver.resolve().await?;
        Ok(conf.get("v").cloned().unwrap_or_default())
    })
}

/// Text built from the characters that matter to the tokenizer.
fn tricky_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "$", "$$", "{", "}", "${", ":", "env:", "-", "A", "x", " ", "é",
        ]),
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn a_string_without_dollars_is_unchanged(text in "[^$]*") {
        prop_assert_eq!(expand(&text).unwrap(), Value::String(text));
    }

    #[test]
    fn escaped_dollars_round_trip(text in any::<String>()) {
        let escaped = text.replace('$', "$$");
        prop_assert_eq!(expand(&escaped).unwrap(), Value::String(text));
    }

    #[test]
    fn escaped_text_around_a_reference_is_kept(before in any::<String>(), after in any::<String>()) {
        // SAFETY: the name is unique to this test; no other code reads or writes it.
        unsafe { std::env::set_var("TRIBUTARY_PROPERTY_WORD", "word") };
        let text = format!(
            "{}${{env:TRIBUTARY_PROPERTY_WORD}}{}",
            before.replace('$', "$$"),
            after.replace('$', "$$")
        );
        let expected = format!("{before}word{after}");
        let expanded = expand(&text).unwrap();
        prop_assert_eq!(expanded.as_str(), Some(expected.as_str()));
    }

    #[test]
    fn expansion_never_panics(text in tricky_text()) {
        let _ = expand(&text);
    }

    #[test]
    fn yaml_parsing_never_panics(text in "[-:\\[\\]{}&*!|>'\"#%@` \na-z0-9]{0,40}") {
        let _ = Conf::from_yaml(&text);
    }
}
