//! The serde access types that walk lists, maps, map keys and enums below a path.

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    Unexpected, VariantAccess, Visitor,
};

use super::deserializer::{ValueDeserializer, unexpected};
use super::error::DecodeError;
use super::recovery::Recorder;
use crate::path;
use crate::value::{Map, Value};

/// Walks a list; element `i` sits at `path::i`.
pub(crate) struct SeqDeserializer<'de, 'p> {
    items: std::slice::Iter<'de, Value>,
    index: usize,
    path: &'p str,
    recorder: &'de Recorder,
}

impl<'de, 'p> SeqDeserializer<'de, 'p> {
    pub(crate) fn new(
        items: &'de [Value],
        path: &'p str,
        recorder: &'de Recorder,
    ) -> SeqDeserializer<'de, 'p> {
        SeqDeserializer {
            items: items.iter(),
            index: 0,
            path,
            recorder,
        }
    }

    /// Runs the visitor and refuses elements it left unread (a tuple that is too long).
    pub(crate) fn visit<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, DecodeError> {
        let value = visitor.visit_seq(&mut self)?;
        let remaining = self.items.len();
        if remaining == 0 {
            Ok(value)
        } else {
            Err(de::Error::invalid_length(
                self.index + remaining,
                &"fewer elements in the list",
            ))
        }
    }
}

impl<'de> SeqAccess<'de> for SeqDeserializer<'de, '_> {
    type Error = DecodeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DecodeError> {
        let (item, item_path) = loop {
            let Some(item) = self.items.next() else {
                return Ok(None);
            };
            let item_path = path::join(self.path, &self.index.to_string());
            self.index += 1;
            if !self.recorder.leaves_out(&item_path) {
                break (item, item_path);
            }
        };
        seed.deserialize(ValueDeserializer::new(
            item,
            item_path.clone(),
            self.recorder,
        ))
        .map(Some)
        .map_err(|error| error.located_at(&item_path))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// How a field's serde name marks that a null value means present (see
/// [`MapDeserializer`]).
pub(crate) const PRESENT_SUFFIX: &str = ",present";

/// Walks a map; the value of key `k` sits at `path::k`.
///
/// When it feeds a struct (`struct_fields` is set), an entry of a known field whose value is
/// a literal null is skipped, so that field keeps its default: in YAML, `timeout:` with
/// nothing after it means "not set". A field whose serde name ends in `,present`
/// (`#[serde(rename = "batch,present")]`) is the exception, for the Go Collector's
/// `configoptional` keys: there `batch:` with no value means "on, with the defaults", so the
/// null is handed to the field (under its key without the suffix).
pub(crate) struct MapDeserializer<'de, 'p> {
    entries: Option<indexmap::map::Iter<'de, String, Value>>,
    pending: Option<(&'de Value, String)>,
    path: &'p str,
    struct_fields: Option<&'static [&'static str]>,
    recorder: &'de Recorder,
}

impl<'de, 'p> MapDeserializer<'de, 'p> {
    pub(crate) fn new(
        map: &'de Map,
        path: &'p str,
        struct_fields: Option<&'static [&'static str]>,
        recorder: &'de Recorder,
    ) -> MapDeserializer<'de, 'p> {
        MapDeserializer {
            entries: Some(map.iter()),
            pending: None,
            path,
            struct_fields,
            recorder,
        }
    }

    /// A map without entries, which is what null decodes as.
    pub(crate) fn empty(path: &'p str, recorder: &'de Recorder) -> MapDeserializer<'de, 'p> {
        MapDeserializer {
            entries: None,
            pending: None,
            path,
            struct_fields: None,
            recorder,
        }
    }

    pub(crate) fn visit<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_map(&mut self)
    }

    fn skips(&self, key: &str, value: &Value) -> bool {
        matches!(value, Value::Null)
            && self
                .struct_fields
                .is_some_and(|fields| fields.contains(&key))
    }

    /// The serde name of the `,present` field whose key is `key`, if any.
    fn present_field(&self, key: &str) -> Option<&'static str> {
        self.struct_fields?
            .iter()
            .copied()
            .find(|field| field.strip_suffix(PRESENT_SUFFIX) == Some(key))
    }
}

impl<'de> MapAccess<'de> for MapDeserializer<'de, '_> {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        loop {
            let Some((key, value)) = self.entries.as_mut().and_then(Iterator::next) else {
                return Ok(None);
            };
            let value_path = path::join(self.path, key);
            if self.skips(key, value) || self.recorder.leaves_out(&value_path) {
                continue;
            }
            self.pending = Some((value, value_path));
            let field = self.present_field(key).unwrap_or(key);
            // Errors about a key (an unknown field) name the key themselves below this map.
            return seed
                .deserialize(KeyDeserializer { key: field })
                .map(Some)
                .map_err(|error| error.located_at(self.path));
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DecodeError> {
        let Some((value, value_path)) = self.pending.take() else {
            return Err(DecodeError::new(
                self.path,
                "a map value was requested before its key",
            ));
        };
        seed.deserialize(ValueDeserializer::new(
            value,
            value_path.clone(),
            self.recorder,
        ))
        .map_err(|error| error.located_at(&value_path))
    }

    fn size_hint(&self) -> Option<usize> {
        self.entries.as_ref().map(|entries| entries.len())
    }
}

/// Deserializes a map key. Keys are strings; a key type that is a number or a bool parses
/// the text, so `HashMap<u16, _>` works.
pub(crate) struct KeyDeserializer<'de> {
    key: &'de str,
}

impl<'de> KeyDeserializer<'de> {
    pub(crate) fn new(key: &'de str) -> KeyDeserializer<'de> {
        KeyDeserializer { key }
    }

    fn parse<T: std::str::FromStr>(&self, what: &'static str) -> Result<T, DecodeError> {
        self.key
            .parse()
            .map_err(|_| de::Error::invalid_value(Unexpected::Str(self.key), &what))
    }
}

macro_rules! parsed_keys {
    ($($method:ident => $ty:ty, $visit:ident, $what:literal;)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
            visitor.$visit(self.parse::<$ty>($what)?)
        })*
    };
}

impl<'de> Deserializer<'de> for KeyDeserializer<'de> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_borrowed_str(self.key)
    }

    parsed_keys! {
        deserialize_bool => bool, visit_bool, "a boolean key";
        deserialize_i8 => i8, visit_i8, "an integer key";
        deserialize_i16 => i16, visit_i16, "an integer key";
        deserialize_i32 => i32, visit_i32, "an integer key";
        deserialize_i64 => i64, visit_i64, "an integer key";
        deserialize_u8 => u8, visit_u8, "an integer key";
        deserialize_u16 => u16, visit_u16, "an integer key";
        deserialize_u32 => u32, visit_u32, "an integer key";
        deserialize_u64 => u64, visit_u64, "an integer key";
        deserialize_f32 => f32, visit_f32, "a number key";
        deserialize_f64 => f64, visit_f64, "a number key";
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

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_enum(self.key.into_deserializer())
    }

    serde::forward_to_deserialize_any! {
        i128 u128 char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map
        struct identifier ignored_any
    }
}

/// Reads an externally tagged enum: a string names a unit variant, a map with a single key
/// names a variant whose content is the key's value (at `path::variant`).
pub(crate) struct EnumDeserializer<'de> {
    variant: &'de str,
    content: Option<Content<'de>>,
    path: String,
}

/// A variant's content and the recorder of its decoding.
type Content<'de> = (&'de Value, &'de Recorder);

impl<'de> EnumDeserializer<'de> {
    pub(crate) fn unit(variant: &'de str, path: &str) -> EnumDeserializer<'de> {
        EnumDeserializer {
            variant,
            content: None,
            path: path.to_owned(),
        }
    }

    pub(crate) fn with_content(
        variant: &'de str,
        content: &'de Value,
        path: &str,
        recorder: &'de Recorder,
    ) -> EnumDeserializer<'de> {
        EnumDeserializer {
            variant,
            content: Some((content, recorder)),
            path: path::join(path, variant),
        }
    }
}

impl<'de> EnumAccess<'de> for EnumDeserializer<'de> {
    type Error = DecodeError;
    type Variant = VariantDeserializer<'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, VariantDeserializer<'de>), DecodeError> {
        let variant = seed.deserialize(KeyDeserializer { key: self.variant })?;
        Ok((
            variant,
            VariantDeserializer {
                content: self.content,
                path: self.path,
            },
        ))
    }
}

/// The content of one enum variant.
pub(crate) struct VariantDeserializer<'de> {
    content: Option<Content<'de>>,
    path: String,
}

impl<'de> VariantDeserializer<'de> {
    fn content(self, expected: &'static str) -> Result<ValueDeserializer<'de>, DecodeError> {
        match self.content {
            Some((content, recorder)) => Ok(ValueDeserializer::new(content, self.path, recorder)),
            None => Err(DecodeError::new(
                self.path,
                format!("this variant needs {expected}; write it as a map with a single key"),
            )),
        }
    }
}

impl<'de> VariantAccess<'de> for VariantDeserializer<'de> {
    type Error = DecodeError;

    fn unit_variant(self) -> Result<(), DecodeError> {
        match self.content {
            None => Ok(()),
            Some((content, _)) if content.is_null() => Ok(()),
            Some((content, _)) => Err(DecodeError::new(
                self.path,
                format!("this variant takes no value, found {}", unexpected(content)),
            )),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, DecodeError> {
        let path = self.path.clone();
        seed.deserialize(self.content("a value")?)
            .map_err(|error| error.located_at(&path))
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.content("a list")?.deserialize_seq(visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.content("a map")?
            .deserialize_struct("", fields, visitor)
    }
}
