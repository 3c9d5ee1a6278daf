//! Field paths, as Go's stanza writes them: `body`, `body.a.b`, `attributes.x`,
//! `resource.x`, and brackets for keys with dots: `attributes["dotted.key"]`.

use std::fmt;

use serde::{Deserialize, Deserializer};

use super::entry::Entry;
use super::value::{Map, Value};

/// Which part of an entry a field lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Root {
    /// The body.
    Body,
    /// The attributes map.
    Attributes,
    /// The resource map.
    Resource,
}

/// A parsed field path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// Where the path starts.
    pub root: Root,
    /// Map keys below the root.
    pub keys: Vec<String>,
}

/// Why a field path could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid field `{path}`: {reason}")]
pub struct FieldError {
    /// The path as written.
    pub path: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Field {
    /// The body.
    pub fn body() -> Field {
        Field {
            root: Root::Body,
            keys: Vec::new(),
        }
    }

    /// The attributes map.
    pub fn attributes() -> Field {
        Field {
            root: Root::Attributes,
            keys: Vec::new(),
        }
    }

    /// `attributes.<key>`.
    pub fn attribute(key: &str) -> Field {
        Field {
            root: Root::Attributes,
            keys: vec![key.to_string()],
        }
    }

    /// Parses a path such as `attributes["k8s.pod.name"]` or `body.message`.
    pub fn parse(path: &str) -> Result<Field, FieldError> {
        let error = |reason: &str| FieldError {
            path: path.to_string(),
            reason: reason.to_string(),
        };
        let mut parts = Vec::new();
        let bytes = path.as_bytes();
        let mut i = 0;
        let mut current = String::new();
        let mut expect_key = true;
        while i < bytes.len() {
            match bytes[i] {
                b'.' => {
                    if expect_key && !(parts.is_empty() && current.is_empty()) && current.is_empty()
                    {
                        return Err(error("empty key"));
                    }
                    if !current.is_empty() {
                        parts.push(std::mem::take(&mut current));
                    }
                    expect_key = true;
                    i += 1;
                }
                b'[' => {
                    if !current.is_empty() {
                        parts.push(std::mem::take(&mut current));
                    }
                    let quote = *bytes.get(i + 1).ok_or_else(|| error("unterminated `[`"))?;
                    if quote != b'"' && quote != b'\'' {
                        return Err(error("a bracketed key must be quoted: [\"key\"]"));
                    }
                    let start = i + 2;
                    let end = path[start..]
                        .find(quote as char)
                        .map(|p| start + p)
                        .ok_or_else(|| error("unterminated quote"))?;
                    if bytes.get(end + 1) != Some(&b']') {
                        return Err(error("expected `]` after the quoted key"));
                    }
                    parts.push(path[start..end].to_string());
                    i = end + 2;
                    expect_key = false;
                }
                _ => {
                    let len = path[i..].chars().next().map_or(1, char::len_utf8);
                    current.push_str(&path[i..i + len]);
                    expect_key = false;
                    i += len;
                }
            }
        }
        if !current.is_empty() {
            parts.push(current);
        } else if expect_key && !parts.is_empty() {
            return Err(error("a path cannot end with `.`"));
        }
        let mut parts = parts.into_iter();
        let root = match parts.next().as_deref() {
            Some("body") => Root::Body,
            Some("attributes") => Root::Attributes,
            Some("resource") => Root::Resource,
            Some(other) => {
                return Err(error(&format!(
                    "unrecognized prefix `{other}`; a field starts with `body`, `attributes` or `resource`"
                )));
            }
            None => return Err(error("empty path")),
        };
        Ok(Field {
            root,
            keys: parts.collect(),
        })
    }

    /// Whether this is a whole root (`body`, `attributes`, `resource`).
    pub fn is_root(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether `self` is `other` or lies below it.
    pub fn starts_with(&self, other: &Field) -> bool {
        self.root == other.root && self.keys.starts_with(&other.keys)
    }

    /// The value at this path, if any.
    pub fn get<'a>(&self, entry: &'a Entry) -> Option<&'a Value> {
        let (first, rest) = match self.root {
            Root::Body => return walk(&entry.body, &self.keys),
            Root::Attributes => (&entry.attributes, &self.keys[..]),
            Root::Resource => (&entry.resource, &self.keys[..]),
        };
        let (key, rest) = rest.split_first()?;
        walk(first.get(key)?, rest)
    }

    /// Sets the value at this path, creating maps on the way (and replacing non-map
    /// values in the way, as Go does). A map set at the root of `attributes` or
    /// `resource` is merged into it.
    pub fn set(&self, entry: &mut Entry, value: Value) -> Result<(), String> {
        let (map, keys) = match self.root {
            Root::Body => {
                if self.keys.is_empty() {
                    entry.body = value;
                    return Ok(());
                }
                if !matches!(entry.body, Value::Map(_)) {
                    entry.body = Value::Map(Map::new());
                }
                let Value::Map(map) = &mut entry.body else {
                    unreachable!("just made a map")
                };
                (map, &self.keys[..])
            }
            Root::Attributes => (&mut entry.attributes, &self.keys[..]),
            Root::Resource => (&mut entry.resource, &self.keys[..]),
        };
        let Some((last, parents)) = keys.split_last() else {
            return match value {
                // Moved in whole when there is nothing to merge with (a parser writing
                // the attributes of a fresh entry): no map rebuilt.
                Value::Map(new) if map.is_empty() => {
                    *map = new;
                    Ok(())
                }
                Value::Map(new) => {
                    map.extend(new);
                    Ok(())
                }
                _ => Err(format!("cannot set a non-map value at `{self}`")),
            };
        };
        let mut map = map;
        for key in parents {
            let slot = map
                .entry(key.clone())
                .or_insert_with(|| Value::Map(Map::new()));
            if !matches!(slot, Value::Map(_)) {
                *slot = Value::Map(Map::new());
            }
            let Value::Map(inner) = slot else {
                unreachable!("just made a map")
            };
            map = inner;
        }
        map.insert(last.clone(), value);
        Ok(())
    }

    /// Removes and returns the value at this path. Deleting a root empties it.
    pub fn delete(&self, entry: &mut Entry) -> Option<Value> {
        let (map, keys) = match self.root {
            Root::Body => {
                if self.keys.is_empty() {
                    return Some(std::mem::take(&mut entry.body));
                }
                let Value::Map(map) = &mut entry.body else {
                    return None;
                };
                (map, &self.keys[..])
            }
            Root::Attributes => {
                if self.keys.is_empty() {
                    return Some(Value::Map(std::mem::take(&mut entry.attributes)));
                }
                (&mut entry.attributes, &self.keys[..])
            }
            Root::Resource => {
                if self.keys.is_empty() {
                    return Some(Value::Map(std::mem::take(&mut entry.resource)));
                }
                (&mut entry.resource, &self.keys[..])
            }
        };
        let (last, parents) = keys.split_last()?;
        let mut map = map;
        for key in parents {
            match map.get_mut(key) {
                Some(Value::Map(inner)) => map = inner,
                _ => return None,
            }
        }
        map.remove(last)
    }
}

fn walk<'a>(mut value: &'a Value, keys: &[String]) -> Option<&'a Value> {
    for key in keys {
        value = value.as_map()?.get(key)?;
    }
    Some(value)
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.root {
            Root::Body => "body",
            Root::Attributes => "attributes",
            Root::Resource => "resource",
        })?;
        for key in &self.keys {
            if key.contains(['.', '[', ']']) {
                write!(f, "[\"{key}\"]")?;
            } else {
                write!(f, ".{key}")?;
            }
        }
        Ok(())
    }
}

impl std::str::FromStr for Field {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Field::parse(s)
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Field::parse(&text).map_err(serde::de::Error::custom)
    }
}
