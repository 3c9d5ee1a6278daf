//! Squashing: a struct field whose own keys sit in its parent's map, as mapstructure's
//! `,squash` embeds a struct in Go.
//!
//! A struct field named `<anything>,squash` (`#[serde(rename = "helper,squash")]`) is
//! squashed. A struct with squashed fields shares its map's entries out: its own fields
//! take theirs first, then each squashed field in turn is decoded from the entries nobody
//! took yet, at the parent's path, taking those its type names (and passing the rest on
//! to its own squashed fields). An entry that no level took is an unknown key, reported
//! with the keys of every level; every such key is recorded in one pass and decoding goes
//! on (see `recovery.rs`). Values are decoded by [`ValueDeserializer`] as anywhere else,
//! so errors and secrets get their real paths.

use std::cell::RefCell;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};

use super::access::KeyDeserializer;
use super::deserializer::ValueDeserializer;
use super::error::DecodeError;
use super::recovery::Recorder;
use crate::path;
use crate::value::{Map, Value};

/// How a field's serde name marks it as squashed.
const SQUASH_SUFFIX: &str = ",squash";

/// Whether a struct field (its serde name) is squashed into its parent.
pub(crate) fn is_squashed(field: &str) -> bool {
    field.ends_with(SQUASH_SUFFIX)
}

/// One map's entries, shared out between a struct and the structs squashed into it; each
/// entry goes to the first level that asks for its key.
pub(crate) struct SharedEntries<'de> {
    entries: Vec<(&'de str, &'de Value)>,
    taken: RefCell<Vec<bool>>,
    /// The keys the levels accept, in the order they are declared: what an unknown key's
    /// error lists. A squashed field stands for its keys until it is decoded.
    accepted: RefCell<Vec<&'static str>>,
}

impl<'de> SharedEntries<'de> {
    /// The entries of `map`; none for a null value.
    pub(crate) fn new(map: Option<&'de Map>) -> SharedEntries<'de> {
        let entries: Vec<(&str, &Value)> = map
            .into_iter()
            .flatten()
            .map(|(key, value)| (key.as_str(), value))
            .collect();
        SharedEntries {
            taken: RefCell::new(vec![false; entries.len()]),
            entries,
            accepted: RefCell::new(Vec::new()),
        }
    }

    /// Takes the next entry from `start` on that nobody has taken and `wanted` accepts;
    /// returns its index.
    fn take_next(&self, start: usize, wanted: impl Fn(&str) -> bool) -> Option<usize> {
        let mut taken = self.taken.borrow_mut();
        let index = (start..self.entries.len())
            .find(|&index| !taken[index] && wanted(self.entries[index].0))?;
        taken[index] = true;
        Some(index)
    }

    /// Notes the fields of a level; those of a squashed level replace its field's name,
    /// the first one still there, since levels are decoded depth first in field order.
    fn accept(&self, fields: &'static [&'static str], squashed_as: Option<&'static str>) {
        let mut accepted = self.accepted.borrow_mut();
        let at = squashed_as
            .and_then(|name| accepted.iter().position(|field| *field == name))
            .map_or(accepted.len(), |at| {
                accepted.remove(at);
                at
            });
        accepted.splice(at..at, fields.iter().copied());
    }

    /// The keys some level accepts.
    fn accepted(&self) -> Vec<&'static str> {
        let accepted = self.accepted.borrow();
        accepted
            .iter()
            .copied()
            .filter(|field| !is_squashed(field))
            .collect()
    }

    /// The keys nobody took, in document order.
    fn left(&self) -> Vec<&'de str> {
        let taken = self.taken.borrow();
        self.entries
            .iter()
            .zip(taken.iter())
            .filter(|(_, taken)| !**taken)
            .map(|((key, _), _)| *key)
            .collect()
    }
}

/// Which entries a [`SharedMapAccess`] hands to its visitor.
#[derive(Clone, Copy)]
enum Level {
    /// The struct that owns the map: after its fields and squashed fields, an entry left
    /// over is an unknown key.
    Owner(&'static [&'static str]),
    /// A struct squashed into another: its fields, then its own squashed fields.
    Squashed(&'static [&'static str]),
    /// A map squashed into a struct: every entry left.
    Remaining,
}

/// What the visitor's next value is.
enum Pending<'de> {
    Entry(&'de Value, String),
    Squashed(&'static str),
}

/// Walks the entries of a [`SharedEntries`] for one level; values sit at `path::key`, and
/// squashed fields at `path` itself.
pub(crate) struct SharedMapAccess<'a, 'de> {
    shared: &'a SharedEntries<'de>,
    path: &'a str,
    level: Level,
    next_entry: usize,
    next_field: usize,
    pending: Option<Pending<'de>>,
    recorder: &'de Recorder,
}

impl<'a, 'de> SharedMapAccess<'a, 'de> {
    /// Walks the map of a struct with squashed `fields`, reporting keys nobody took.
    pub(crate) fn owner(
        shared: &'a SharedEntries<'de>,
        path: &'a str,
        fields: &'static [&'static str],
        recorder: &'de Recorder,
    ) -> SharedMapAccess<'a, 'de> {
        shared.accept(fields, None);
        SharedMapAccess::new(shared, path, Level::Owner(fields), recorder)
    }

    fn new(
        shared: &'a SharedEntries<'de>,
        path: &'a str,
        level: Level,
        recorder: &'de Recorder,
    ) -> SharedMapAccess<'a, 'de> {
        SharedMapAccess {
            shared,
            path,
            level,
            next_entry: 0,
            next_field: 0,
            pending: None,
            recorder,
        }
    }

    pub(crate) fn visit<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_map(&mut self)
    }

    /// The next entry of this level's own keys. As for any struct, a field whose value is
    /// null is skipped so it keeps its default.
    fn next_entry(&mut self) -> Option<(&'de str, &'de Value)> {
        loop {
            let index = match self.level {
                Level::Owner(fields) | Level::Squashed(fields) => {
                    self.shared.take_next(self.next_entry, |key| {
                        !is_squashed(key) && fields.contains(&key)
                    })?
                }
                Level::Remaining => self.shared.take_next(self.next_entry, |_| true)?,
            };
            self.next_entry = index + 1;
            let (key, value) = self.shared.entries[index];
            let is_field = !matches!(self.level, Level::Remaining);
            let left_out = self.recorder.leaves_out(&path::join(self.path, key));
            if !(left_out || is_field && value.is_null()) {
                return Some((key, value));
            }
        }
    }

    /// The next squashed field of this level.
    fn next_squashed_field(&mut self) -> Option<&'static str> {
        let (Level::Owner(fields) | Level::Squashed(fields)) = self.level else {
            return None;
        };
        while let Some(field) = fields.get(self.next_field) {
            self.next_field += 1;
            if is_squashed(field) {
                return Some(field);
            }
        }
        None
    }
}

impl<'de> MapAccess<'de> for SharedMapAccess<'_, 'de> {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        let key = if let Some((key, value)) = self.next_entry() {
            self.pending = Some(Pending::Entry(value, path::join(self.path, key)));
            key
        } else if let Some(field) = self.next_squashed_field() {
            self.pending = Some(Pending::Squashed(field));
            field
        } else {
            if matches!(self.level, Level::Owner(_)) {
                // Every key left is unknown; all are recorded and the struct decodes on,
                // so its other problems are found in the same pass (see `recovery.rs`).
                let accepted = self.shared.accepted();
                for unknown in self.shared.left() {
                    let error = DecodeError::unknown_key(self.path, unknown, &accepted);
                    if !self.recorder.leaves_out(error.path()) {
                        self.recorder.recover(error);
                    }
                }
            }
            return Ok(None);
        };
        seed.deserialize(KeyDeserializer::new(key))
            .map(Some)
            .map_err(|error| error.located_at(self.path))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DecodeError> {
        match self.pending.take() {
            Some(Pending::Entry(value, value_path)) => seed
                .deserialize(ValueDeserializer::new(
                    value,
                    value_path.clone(),
                    self.recorder,
                ))
                .map_err(|error| error.located_at(&value_path)),
            Some(Pending::Squashed(field)) => seed
                .deserialize(SquashedDeserializer {
                    shared: self.shared,
                    path: self.path,
                    field,
                    recorder: self.recorder,
                })
                .map_err(|error| error.located_at(self.path)),
            None => Err(DecodeError::new(
                self.path,
                "a map value was requested before its key",
            )),
        }
    }
}

/// Deserializes a squashed field from the entries of its parent's map that are left.
///
/// A struct takes the entries its fields name; a map (`HashMap<String, Value>`) takes all
/// that are left, like mapstructure's `,remain`.
struct SquashedDeserializer<'a, 'de> {
    shared: &'a SharedEntries<'de>,
    path: &'a str,
    /// The squashed field's name in its parent.
    field: &'static str,
    recorder: &'de Recorder,
}

impl<'de> Deserializer<'de> for SquashedDeserializer<'_, 'de> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.shared.accept(&[], Some(self.field));
        SharedMapAccess::new(self.shared, self.path, Level::Remaining, self.recorder).visit(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.shared.accept(fields, Some(self.field));
        let level = Level::Squashed(fields);
        SharedMapAccess::new(self.shared, self.path, level, self.recorder).visit(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}
