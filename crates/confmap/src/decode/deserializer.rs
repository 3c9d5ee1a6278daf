//! A serde `Deserializer` over a borrowed [`Value`] that tracks the key path it is at.

use serde::de::{self, Deserializer, Unexpected, Visitor};

use super::access::{EnumDeserializer, MapDeserializer, SeqDeserializer};
use super::error::DecodeError;
use super::recovery::Recorder;
use super::squash::{SharedEntries, SharedMapAccess, is_squashed};
use crate::secret::{SECRET_STRING_NAME, SECRET_URL_NAME, SecretKind};
use crate::value::Value;

/// Deserializes one value of the tree; `path` is where that value sits (`a::b::0`).
///
/// The rules, which mirror the Go Collector's decoder (mapstructure with
/// `WeaklyTypedInput: false` and `ErrorUnused: true`):
/// - no weak typing: a string is never read as a number or a bool;
/// - an [`Expanded`](crate::Expanded) value gives string targets its original text and every
///   other target its typed value;
/// - null is an empty map, list or struct, and `None` for an `Option`; inside a struct a null
///   entry counts as absent so the field keeps its default.
///
/// A [`SecretString`](crate::SecretString) or [`SecretUrl`](crate::SecretUrl) asks for a
/// newtype struct of a reserved name; the path it sits at goes to the `recorder`. A struct with
/// squashed fields (`#[serde(rename = "name,squash")]`) shares its map with them (see
/// `squash.rs`).
pub(crate) struct ValueDeserializer<'de> {
    value: &'de Value,
    path: String,
    recorder: &'de Recorder,
}

impl<'de> ValueDeserializer<'de> {
    pub(crate) fn new(
        value: &'de Value,
        path: String,
        recorder: &'de Recorder,
    ) -> ValueDeserializer<'de> {
        ValueDeserializer {
            value,
            path,
            recorder,
        }
    }

    /// Visits the typed value, whatever the visitor asked for; the visitor reports a type
    /// mismatch itself (`invalid type: string "x", expected u16`).
    fn visit_typed<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let path = self.path;
        let recorder = self.recorder;
        let result = match self.value.typed() {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::List(items) => SeqDeserializer::new(items, &path, recorder).visit(visitor),
            Value::Map(map) => MapDeserializer::new(map, &path, None, recorder).visit(visitor),
            // `typed()` never returns a wrapper.
            Value::Expanded(expanded) => visitor.visit_borrowed_str(expanded.original()),
        };
        result.map_err(|error| error.located_at(&path))
    }

    /// Visits text: a string, or the original text of an expanded scalar. Anything else goes
    /// to the visitor as its own type so the visitor can refuse it.
    fn visit_text<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.value {
            Value::String(s) => {
                let path = self.path;
                visitor
                    .visit_borrowed_str::<DecodeError>(s)
                    .map_err(|error| error.located_at(&path))
            }
            Value::Expanded(expanded) => {
                let path = self.path;
                visitor
                    .visit_borrowed_str::<DecodeError>(expanded.original())
                    .map_err(|error| error.located_at(&path))
            }
            _ => self.visit_scalar(visitor),
        }
    }

    /// Visits a scalar target: null is refused with a message that says `null` (serde would
    /// call it "unit value"), everything else goes to the visitor as its own type.
    fn visit_scalar<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        if self.value.is_null() {
            let error = de::Error::invalid_type(Unexpected::Other("null"), &visitor);
            return Err(DecodeError::located_at(error, &self.path));
        }
        self.visit_typed(visitor)
    }

    fn mismatch<V: Visitor<'de>, T>(&self, visitor: &V) -> Result<T, DecodeError> {
        let error: DecodeError = de::Error::invalid_type(unexpected(self.value), visitor);
        Err(error.located_at(&self.path))
    }
}

/// How a value describes itself in a type-mismatch message.
pub(crate) fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Other("null"),
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Int(i) => Unexpected::Signed(*i),
        Value::Float(f) => Unexpected::Float(*f),
        Value::String(s) => Unexpected::Str(s),
        Value::List(_) => Unexpected::Seq,
        Value::Map(_) => Unexpected::Map,
        Value::Expanded(expanded) => unexpected(expanded.value()),
    }
}

macro_rules! scalar_targets {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
            self.visit_scalar(visitor)
        })*
    };
}

impl<'de> Deserializer<'de> for ValueDeserializer<'de> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.visit_typed(visitor)
    }

    scalar_targets! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.visit_text(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.visit_text(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.visit_text(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.visit_text(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.visit_text(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.visit_text(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let path = self.path.clone();
        let result = if self.value.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        };
        result.map_err(|error| error.located_at(&path))
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        if self.value.is_null() {
            let path = self.path;
            visitor
                .visit_unit::<DecodeError>()
                .map_err(|error| error.located_at(&path))
        } else {
            self.mismatch(&visitor)
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        let kind = match name {
            SECRET_STRING_NAME => Some(SecretKind::Value),
            SECRET_URL_NAME => Some(SecretKind::Userinfo),
            _ => None,
        };
        if let Some(kind) = kind {
            self.recorder.secret(self.path.clone(), kind);
            // A secret is text: an expanded `0123` is the string "0123", not 83.
            return self.visit_text(visitor);
        }
        let path = self.path.clone();
        visitor
            .visit_newtype_struct(self)
            .map_err(|error| error.located_at(&path))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.value.typed() {
            Value::List(items) => {
                SeqDeserializer::new(items, &self.path, self.recorder).visit(visitor)
            }
            Value::Null => SeqDeserializer::new(&[], &self.path, self.recorder).visit(visitor),
            _ => self.mismatch(&visitor),
        }
        .map_err(|error| error.located_at(&self.path))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.value.typed() {
            Value::Map(map) => {
                MapDeserializer::new(map, &self.path, None, self.recorder).visit(visitor)
            }
            Value::Null => MapDeserializer::empty(&self.path, self.recorder).visit(visitor),
            _ => self.mismatch(&visitor),
        }
        .map_err(|error| error.located_at(&self.path))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        if fields.iter().any(|field| is_squashed(field)) {
            let map = match self.value.typed() {
                Value::Map(map) => Some(map),
                Value::Null => None,
                _ => return self.mismatch(&visitor),
            };
            let shared = SharedEntries::new(map);
            return SharedMapAccess::owner(&shared, &self.path, fields, self.recorder)
                .visit(visitor)
                .map_err(|error| error.located_at(&self.path));
        }
        match self.value.typed() {
            Value::Map(map) => {
                MapDeserializer::new(map, &self.path, Some(fields), self.recorder).visit(visitor)
            }
            Value::Null => MapDeserializer::empty(&self.path, self.recorder).visit(visitor),
            _ => self.mismatch(&visitor),
        }
        .map_err(|error| error.located_at(&self.path))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        let path = self.path;
        let access = match self.value {
            Value::String(s) => EnumDeserializer::unit(s, &path),
            Value::Expanded(expanded) => EnumDeserializer::unit(expanded.original(), &path),
            Value::Map(map) if map.len() == 1 => match map.iter().next() {
                Some((variant, content)) => {
                    EnumDeserializer::with_content(variant, content, &path, self.recorder)
                }
                None => return Err(DecodeError::new(path, "expected a variant")),
            },
            other => {
                return Err(DecodeError::new(
                    path,
                    format!(
                        "expected a string or a map with a single key, found {}",
                        describe(other)
                    ),
                ));
            }
        };
        visitor
            .visit_enum(access)
            .map_err(|error| error.located_at(&path))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }
}

/// A short description of a value for messages: `a map with 2 keys`, `the string "x"`.
fn describe(value: &Value) -> String {
    match value.typed() {
        Value::Map(map) => format!("a map with {} keys", map.len()),
        Value::List(items) => format!("a list of {} items", items.len()),
        Value::String(s) => format!("the string {s:?}"),
        other => format!("a {}", other.kind()),
    }
}
