//! [`Conf`]: a configuration document, a map at the root, addressed by `a::b::c` paths.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::decode::DecodeError;
use crate::error::Error;
use crate::path::{self, KEY_DELIMITER};
use crate::value::{Map, Value};
use crate::yaml;

/// A configuration: a map with ordered keys at the root, addressed by `a::b::c` paths.
///
/// Keys never contain `::`: a key such as `processors::batch::timeout` in a document (the
/// form the `yaml:` provider and `--set` produce) is split into nested maps when the
/// document becomes a `Conf`, as in the Go Collector.
///
/// ```
/// use tributary_confmap::Conf;
///
/// let mut conf = Conf::from_yaml("exporters:\n  otlp:\n    endpoint: a:4317\n")?;
/// conf.set("exporters::otlp::timeout", "5s");
/// assert_eq!(conf.get("exporters::otlp::endpoint").and_then(|v| v.as_str()), Some("a:4317"));
/// assert_eq!(conf.keys().collect::<Vec<_>>(), ["exporters"]);
/// # Ok::<(), tributary_confmap::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Conf {
    /// Always a [`Value::Map`]; every constructor keeps it so.
    root: Value,
}

impl Default for Conf {
    fn default() -> Conf {
        Conf::new()
    }
}

impl Conf {
    /// An empty configuration.
    pub fn new() -> Conf {
        Conf {
            root: Value::Map(Map::new()),
        }
    }

    /// Parses a YAML document. An empty document (or one with only comments) is an empty
    /// configuration; a document whose top level is not a map is an error.
    pub fn from_yaml(text: &str) -> Result<Conf, Error> {
        Conf::from_value(yaml::parse(text)?)
    }

    /// Makes a configuration from a value: a map, or null for an empty configuration.
    pub fn from_value(value: Value) -> Result<Conf, Error> {
        match value.into_typed() {
            Value::Null => Ok(Conf::new()),
            Value::Map(map) => Ok(Conf::from_map(map)),
            other => Err(Error::NotAMap {
                found: other.kind_with_article(),
            }),
        }
    }

    /// Makes a configuration from a map, splitting keys that contain `::` into nested maps.
    pub fn from_map(map: Map) -> Conf {
        Conf {
            root: Value::Map(unflatten(map)),
        }
    }

    /// The value at a `a::b::c` path; a numeric segment indexes a list. The empty path is the
    /// root map itself.
    pub fn get(&self, path: &str) -> Option<&Value> {
        self.root.get(path)
    }

    /// Whether a value exists at the path (a null value counts as existing).
    pub fn contains(&self, path: &str) -> bool {
        self.get(path).is_some()
    }

    /// Sets the value at a `a::b::c` path, creating intermediate maps and replacing anything
    /// on the way that is not a map. The empty path addresses the root, which only a map can
    /// replace; any other value is ignored there.
    pub fn set(&mut self, path: &str, value: impl Into<Value>) {
        let value = value.into();
        let mut keys = path::segments(path).peekable();
        if keys.peek().is_none() {
            if let Value::Map(map) = value {
                self.root = Value::Map(map);
            }
            return;
        }
        let mut current = &mut self.root;
        while let Some(key) = keys.next() {
            if !matches!(current, Value::Map(_)) {
                *current = Value::Map(Map::new());
            }
            let Value::Map(map) = current else {
                return;
            };
            if keys.peek().is_none() {
                map.insert(key.to_owned(), value);
                return;
            }
            current = map.entry(key.to_owned()).or_insert(Value::Null);
        }
    }

    /// Removes and returns the value at a path; `None` if there was none.
    pub fn remove(&mut self, path: &str) -> Option<Value> {
        let keys: Vec<&str> = path::segments(path).collect();
        let (last, parents) = keys.split_last()?;
        let mut current = &mut self.root;
        for key in parents {
            current = current.as_map_mut()?.get_mut(*key)?;
        }
        current.as_map_mut()?.shift_remove(*last)
    }

    /// Merges a later configuration into this one: maps merge key by key, recursively; a
    /// list, a scalar or null from `later` replaces what was there. Keys keep the position
    /// they first appeared at; new keys are appended.
    pub fn merge(&mut self, later: Conf) {
        if let (Value::Map(base), Value::Map(later)) = (&mut self.root, later.root) {
            merge_maps(base, later);
        }
    }

    /// The top-level keys, in document order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.as_map()
            .into_iter()
            .flat_map(|map| map.keys().map(String::as_str))
    }

    /// The number of top-level keys.
    pub fn len(&self) -> usize {
        self.as_map().map_or(0, Map::len)
    }

    /// Whether the configuration has no keys.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The map at a path as a configuration of its own; `None` if the path is absent or holds
    /// something other than a map. Null counts as an empty map.
    pub fn sub(&self, path: &str) -> Option<Conf> {
        match self.get(path)?.typed() {
            Value::Map(map) => Some(Conf {
                root: Value::Map(map.clone()),
            }),
            Value::Null => Some(Conf::new()),
            _ => None,
        }
    }

    /// Decodes the whole configuration into a typed struct; see [`Value::decode`] for the
    /// rules.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, DecodeError> {
        self.root.decode()
    }

    /// Decodes the value at a path into a typed struct, naming full paths in errors. A path
    /// that is absent decodes as null, so a struct gets its defaults.
    pub fn decode_at<T: DeserializeOwned>(&self, path: &str) -> Result<T, DecodeError> {
        self.get(path).unwrap_or(&Value::Null).decode_at(path)
    }

    /// The root as a value (always a [`Value::Map`]).
    pub fn as_value(&self) -> &Value {
        &self.root
    }

    /// The root as a value (always a [`Value::Map`]).
    pub fn into_value(self) -> Value {
        self.root
    }

    /// The root map.
    pub fn as_map(&self) -> Option<&Map> {
        self.root.as_map()
    }

    /// Writes the configuration as a YAML document, for a `print-config` command. Expanded
    /// references print as their typed values.
    pub fn to_yaml(&self) -> String {
        yaml::to_string(&self.root)
    }
}

impl Serialize for Conf {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.root.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Conf {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Conf, D::Error> {
        Conf::from_value(Value::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

impl From<Conf> for Value {
    fn from(conf: Conf) -> Value {
        conf.root
    }
}

impl TryFrom<Value> for Conf {
    type Error = Error;

    fn try_from(value: Value) -> Result<Conf, Error> {
        Conf::from_value(value)
    }
}

/// Merges `later` into `base`: maps recursively, everything else replaced.
pub(crate) fn merge_maps(base: &mut Map, later: Map) {
    for (key, value) in later {
        match (base.get_mut(&key), value) {
            (Some(Value::Map(existing)), Value::Map(incoming)) => merge_maps(existing, incoming),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Splits keys containing `::` into nested maps, recursively through maps (not lists).
/// Entries combine as a merge in document order, so `a::b: 1` next to `a: {c: 2}` gives
/// `a: {b: 1, c: 2}`.
pub(crate) fn unflatten(map: Map) -> Map {
    let mut out = Map::with_capacity(map.len());
    for (key, value) in map {
        let value = unflatten_value(value);
        let mut keys = key.split(KEY_DELIMITER).collect::<Vec<_>>();
        let Some(first) = keys.first().map(|k| (*k).to_owned()) else {
            continue;
        };
        let mut nested = value;
        while keys.len() > 1 {
            let Some(last) = keys.pop() else { break };
            nested = Value::Map(Map::from_iter([(last.to_owned(), nested)]));
        }
        let mut single = Map::with_capacity(1);
        single.insert(first, nested);
        merge_maps(&mut out, single);
    }
    out
}

/// Unflattens the maps inside a value.
pub(crate) fn unflatten_value(value: Value) -> Value {
    match value {
        Value::Map(map) => Value::Map(unflatten(map)),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(yaml: &str) -> Conf {
        Conf::from_yaml(yaml).unwrap()
    }

    #[test]
    fn empty_documents_are_empty_configurations() {
        assert!(conf("").is_empty());
        assert!(conf("# nothing here\n").is_empty());
        assert!(conf("~").is_empty());
    }

    #[test]
    fn a_non_map_top_level_is_refused() {
        let error = Conf::from_yaml("- a\n- b\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "the top level of a configuration must be a map, found a list"
        );
        assert!(Conf::from_yaml("just text").is_err());
    }

    #[test]
    fn get_and_set_address_nested_keys() {
        let mut c = conf("a:\n  b: 1\n");
        c.set("a::c::d", "x");
        c.set("e", vec![1, 2]);
        assert_eq!(c.get("a::b"), Some(&Value::Int(1)));
        assert_eq!(c.get("a::c::d").and_then(Value::as_str), Some("x"));
        assert_eq!(c.get("e::1"), Some(&Value::Int(2)));
        assert_eq!(c.keys().collect::<Vec<_>>(), ["a", "e"]);
        assert!(c.contains("a::c"));
        assert!(!c.contains("a::z"));
    }

    #[test]
    fn set_replaces_scalars_on_the_way_with_maps() {
        let mut c = conf("a: 1\n");
        c.set("a::b", true);
        assert_eq!(c.get("a::b"), Some(&Value::Bool(true)));
        c.set("", Value::from(3));
        assert_eq!(c.get("a::b"), Some(&Value::Bool(true)));
        c.set("", Conf::new());
        assert!(c.is_empty());
    }

    #[test]
    fn remove_takes_the_value_out() {
        let mut c = conf("a:\n  b: 1\n  c: 2\n");
        assert_eq!(c.remove("a::b"), Some(Value::Int(1)));
        assert_eq!(c.remove("a::b"), None);
        assert_eq!(c.remove("x::y"), None);
        assert_eq!(c.to_yaml(), "a:\n  c: 2\n");
    }

    #[test]
    fn merge_is_deep_for_maps_and_replaces_lists_and_scalars() {
        let mut base = conf("a:\n  b: 1\n  c: [1, 2]\n  d: {x: 1}\nkeep: yes\n");
        base.merge(conf("a:\n  c: [3]\n  d: {y: 2}\n  b: null\nnew: 1\n"));
        let expected = conf("a:\n  b: null\n  c: [3]\n  d: {x: 1, y: 2}\nkeep: yes\nnew: 1\n");
        assert_eq!(base, expected);
        assert_eq!(base.keys().collect::<Vec<_>>(), ["a", "keep", "new"]);
    }

    #[test]
    fn a_later_scalar_replaces_a_map_and_a_later_map_replaces_a_scalar() {
        let mut c = conf("a: {b: 1}\nx: 1\n");
        c.merge(conf("a: 2\nx: {y: 1}\n"));
        assert_eq!(c, conf("a: 2\nx: {y: 1}\n"));
    }

    #[test]
    fn keys_with_the_delimiter_become_nested_maps() {
        let c = conf(
            "processors::batch::timeout: 2s\nprocessors:\n  batch:\n    send_batch_size: 10\n",
        );
        assert_eq!(
            c,
            conf("processors:\n  batch:\n    timeout: 2s\n    send_batch_size: 10\n")
        );
        let in_list = conf("l:\n  - a::b: 1\n");
        assert_eq!(
            in_list
                .get("l::0")
                .and_then(Value::as_map)
                .map(|m| m.contains_key("a::b")),
            Some(true)
        );
    }

    #[test]
    fn sub_returns_a_map_as_its_own_conf() {
        let c = conf("receivers:\n  otlp:\n    protocols: {}\n  empty:\nscalar: 1\n");
        let otlp = c.sub("receivers::otlp").unwrap();
        assert_eq!(otlp.keys().collect::<Vec<_>>(), ["protocols"]);
        assert_eq!(c.sub("receivers::empty"), Some(Conf::new()));
        assert_eq!(c.sub("scalar"), None);
        assert_eq!(c.sub("missing"), None);
    }

    #[test]
    fn to_yaml_round_trips() {
        let c = conf("b: 1\na:\n  s: '0123'\n  l: [x, 'true']\n  n: null\n");
        let again = conf(&c.to_yaml());
        assert_eq!(again, c);
        assert_eq!(again.keys().collect::<Vec<_>>(), ["b", "a"]);
    }
}
