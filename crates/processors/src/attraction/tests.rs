use proptest::prelude::*;
use tributary_pipeline_core::pdata::attributes::{Attributes, key_value};
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;

use super::{ActionConfig, Actions};

fn action(key: &str, action: &str, value: Option<&str>) -> ActionConfig {
    ActionConfig {
        key: key.to_string(),
        value: value.map(|v| serde_json::Value::String(v.to_string())),
        action: action.to_string(),
        ..Default::default()
    }
}

fn attributes() -> impl Strategy<Value = Vec<KeyValue>> {
    proptest::collection::btree_map("[a-d]", "[a-z]{0,3}", 0..5).prop_map(|map| {
        map.into_iter()
            .map(|(key, value)| key_value(key, value))
            .collect()
    })
}

proptest! {
    // insert never overwrites, update never adds, upsert always leaves the value; no
    // other key changes and no key appears twice.
    #[test]
    fn writes_respect_presence(original in attributes(), key in "[a-d]", op in prop::sample::select(vec!["insert", "update", "upsert"])) {
        let actions = Actions::compile(&[action(&key, op, Some("new"))]).unwrap();
        let mut edited = original.clone();
        actions.apply(&mut edited, None);
        let before = original.get_str(&key);
        let expected = match (op, before) {
            ("insert", Some(old)) => Some(old),
            ("update", None) => None,
            _ => Some("new"),
        };
        prop_assert_eq!(edited.get_str(&key), expected);
        for kv in &original {
            if kv.key != key {
                prop_assert_eq!(edited.get_str(&kv.key), original.get_str(&kv.key));
            }
        }
        let mut keys: Vec<&str> = edited.iter().map(|kv| kv.key.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        prop_assert_eq!(keys.len(), edited.len());
    }

    // delete by pattern removes exactly the matching keys; hash keeps every key and
    // turns each matching value into 64 hex digits.
    #[test]
    fn delete_and_hash_by_pattern(original in attributes(), pattern in "[a-d]") {
        let delete = Actions::compile(&[ActionConfig { pattern: pattern.clone(), action: "delete".into(), ..Default::default() }]).unwrap();
        let mut deleted = original.clone();
        delete.apply(&mut deleted, None);
        prop_assert!(deleted.iter().all(|kv| !kv.key.contains(&pattern)));
        prop_assert_eq!(deleted.len(), original.iter().filter(|kv| !kv.key.contains(&pattern)).count());

        let hash = Actions::compile(&[ActionConfig { pattern: pattern.clone(), action: "HASH".into(), ..Default::default() }]).unwrap();
        let mut hashed = original.clone();
        hash.apply(&mut hashed, None);
        prop_assert_eq!(hashed.len(), original.len());
        for kv in &hashed {
            if kv.key.contains(&pattern) {
                let digest = kv.value.as_ref().and_then(|v| match v.value.as_ref()? {
                    tributary_pipeline_core::pdata::proto::common::v1::any_value::Value::StringValue(s) => Some(s.clone()),
                    _ => None,
                }).unwrap_or_default();
                prop_assert_eq!(digest.len(), 64);
                prop_assert!(digest.bytes().all(|b| b.is_ascii_hexdigit()));
            }
        }
    }
}
