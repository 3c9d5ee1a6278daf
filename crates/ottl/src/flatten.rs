//! The `flatten(target, prefix?, depth?, resolveConflicts?)` editor's algorithm, as
//! `pkg/ottl/ottlfuncs` (`func_flatten.go`) has it: the items of nested maps and lists
//! move to the root under dotted keys (`address.street`, `occupants.0`), down to `depth`
//! levels of nesting (a map or list below it stays whole), under `prefix` when given.
//!
//! A key written twice keeps its first place and takes the last value, as Go's
//! `pcommon.Map.PutEmpty`. With `resolveConflicts`, a key that is already written is
//! written again with the suffix `.0`, then `.1`..., and the plain items of a list are
//! written under the list's own key (`occupants`, then `occupants.0`...) rather than
//! under `key.index`; the maps and lists inside a list keep `key.index` as their prefix.
//!
//! One difference from Go, on purpose: the items of a list inside a list are written
//! under `key.i.j` here (with `resolveConflicts`, under `key.i`), where Go, whose helper
//! forgets a dot, writes them under `key.ij`.

use std::collections::HashMap;

use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, KeyValue, any_value};

/// Flattens `map` in place. `depth`: the levels of nesting to flatten (`None`: all).
pub(crate) fn flatten(
    map: &mut Vec<KeyValue>,
    prefix: Option<&str>,
    depth: Option<usize>,
    resolve_conflicts: bool,
) {
    let mut out = Flattened {
        items: Vec::with_capacity(map.len()),
        suffixes: resolve_conflicts.then(HashMap::new),
    };
    out.map(prefix, std::mem::take(map), depth, 0);
    *map = out.items;
}

/// The flattened map being built.
struct Flattened {
    items: Vec<KeyValue>,
    /// With `resolveConflicts`: the next suffix of each key written.
    suffixes: Option<HashMap<String, usize>>,
}

/// Whether `value` is a map or a list, which flattening opens when deep enough.
fn nests(value: &Option<AnyValue>) -> bool {
    matches!(
        value,
        Some(AnyValue {
            value: Some(any_value::Value::KvlistValue(_) | any_value::Value::ArrayValue(_)),
        })
    )
}

impl Flattened {
    fn map(
        &mut self,
        prefix: Option<&str>,
        map: Vec<KeyValue>,
        depth: Option<usize>,
        level: usize,
    ) {
        for kv in map {
            let key = match prefix {
                Some(p) => format!("{p}.{}", kv.key),
                None => kv.key,
            };
            self.value(key, kv.value, depth, level);
        }
    }

    fn value(&mut self, key: String, value: Option<AnyValue>, depth: Option<usize>, level: usize) {
        let deeper = |level: usize| depth.is_none_or(|d| level < d);
        match value {
            Some(AnyValue {
                value: Some(any_value::Value::KvlistValue(inner)),
            }) if deeper(level) => self.map(Some(&key), inner.values, depth, level + 1),
            Some(AnyValue {
                value: Some(any_value::Value::ArrayValue(list)),
            }) if deeper(level) => {
                for (i, item) in list.values.into_iter().enumerate() {
                    let item = Some(item);
                    if self.suffixes.is_some() && !(nests(&item) && deeper(level + 1)) {
                        self.put(key.clone(), item);
                    } else {
                        self.value(format!("{key}.{i}"), item, depth, level + 1);
                    }
                }
            }
            value => self.put(key, value),
        }
    }

    /// Writes one item (with `resolveConflicts`, under a suffixed key when `key` is taken).
    fn put(&mut self, key: String, value: Option<AnyValue>) {
        let key = match &mut self.suffixes {
            Some(suffixes) if self.items.iter().any(|kv| kv.key == key) => {
                let next = suffixes.entry(key.clone()).or_insert(0);
                let suffixed = format!("{key}.{next}");
                *next += 1;
                suffixed
            }
            Some(suffixes) => {
                suffixes.insert(key.clone(), 0);
                key
            }
            None => key,
        };
        match self.items.iter_mut().find(|kv| kv.key == key) {
            Some(existing) => existing.value = value,
            None => self.items.push(KeyValue {
                key,
                value,
                ..Default::default()
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Value, kvs_from_map, map_from_kvs};

    use crate::value::{test_map as map, test_str as s};

    fn flattened(
        input: Value,
        prefix: Option<&str>,
        depth: Option<usize>,
        resolve: bool,
    ) -> Vec<(String, Value)> {
        let Value::Map(m) = input else {
            panic!("not a map")
        };
        let mut kvs = kvs_from_map(&m);
        flatten(&mut kvs, prefix, depth, resolve);
        map_from_kvs(&kvs)
    }

    fn pairs(entries: &[(&str, Value)]) -> Vec<(String, Value)> {
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    /// Go's `Test_flatten` "conflicting map" cases, with the suffixes counting from 0.
    #[test]
    fn a_key_written_twice_takes_a_suffix_when_resolving_conflicts() {
        let input = map(&[
            (
                "address",
                map(&[("street", s("first")), ("house", Value::Int(1234))]),
            ),
            ("address.street", s("second")),
            ("occupants", Value::List(vec![s("user 1"), s("user 2")])),
        ]);
        assert_eq!(
            flattened(input.clone(), None, None, true),
            pairs(&[
                ("address.street", s("first")),
                ("address.house", Value::Int(1234)),
                ("address.street.0", s("second")),
                ("occupants", s("user 1")),
                ("occupants.0", s("user 2")),
            ])
        );
        // Without resolveConflicts the later value wins, in the first one's place.
        assert_eq!(
            flattened(input, None, None, false),
            pairs(&[
                ("address.street", s("second")),
                ("address.house", Value::Int(1234)),
                ("occupants.0", s("user 1")),
                ("occupants.1", s("user 2")),
            ])
        );
    }

    #[test]
    fn maps_inside_lists_keep_their_index_when_resolving_conflicts() {
        let input = map(&[
            (
                "a",
                Value::List(vec![
                    map(&[("b", Value::Int(1))]),
                    map(&[("b", Value::Int(2))]),
                ]),
            ),
            ("a.0.b", Value::Int(3)),
            ("a.0.b.0", Value::Int(4)),
        ]);
        assert_eq!(
            flattened(input, Some("p"), None, true),
            pairs(&[
                ("p.a.0.b", Value::Int(1)),
                ("p.a.1.b", Value::Int(2)),
                ("p.a.0.b.0", Value::Int(3)),
                // Taken by the suffixed key before: suffixed in turn.
                ("p.a.0.b.0.0", Value::Int(4)),
            ])
        );
    }

    #[test]
    fn below_the_depth_lists_and_maps_stay_whole_and_resolve_as_one_value() {
        let list = Value::List(vec![s("x"), s("y")]);
        let input = map(&[("a", map(&[("l", list.clone())])), ("a.l", s("z"))]);
        assert_eq!(
            flattened(input, None, Some(1), true),
            pairs(&[("a.l", list), ("a.l.0", s("z"))])
        );
    }
}
