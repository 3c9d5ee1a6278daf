//! The configuration value tree: maps with ordered keys, lists and typed scalars.

use indexmap::IndexMap;
use serde::de::DeserializeOwned;

use crate::decode::{self, DecodeError};
use crate::path;
use crate::secret::{Scrubber, SecretPaths};

mod serialization;

/// An ordered map from configuration keys to values, in document order.
pub type Map = IndexMap<String, Value>;

/// A configuration value: a typed scalar, a list or a map with ordered keys.
///
/// Values come from YAML documents (see [`Conf::from_yaml`](crate::Conf::from_yaml)) or are
/// built in code through the `From` conversions:
///
/// ```
/// use tributary_confmap::Value;
///
/// let endpoint = Value::from("127.0.0.1:4317");
/// let retries = Value::from(3);
/// let tags = Value::from(vec!["a", "b"]);
/// assert_eq!(endpoint.as_str(), Some("127.0.0.1:4317"));
/// assert_eq!(retries.as_i64(), Some(3));
/// assert_eq!(tags.as_list().map(Vec::len), Some(2));
/// ```
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    /// An absent value: a YAML key with nothing after it, `~` or `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A 64-bit signed integer.
    Int(i64),
    /// A 64-bit float.
    Float(f64),
    /// A string.
    String(String),
    /// A list of values.
    List(Vec<Value>),
    /// A map with ordered keys.
    Map(Map),
    /// A scalar produced by a `${...}` reference: it keeps its YAML type for typed fields and
    /// its original text for string fields, and its text is never shown in errors (see
    /// [`Expanded`]).
    Expanded(Box<Expanded>),
}

/// A scalar that a `${...}` reference produced, with the text it came from: the whole value
/// (`${env:PORT}`), or a string with references inside it (`Bearer ${env:TOKEN}`).
///
/// An environment variable holding `0123` parses as the integer 83, so an integer field
/// receives 83 while a string field receives the original text `"0123"`, exactly as the Go
/// Collector does.
///
/// What a reference produced may be a secret that landed in the wrong field, so decode
/// errors never show its text (see [`Scrubber`](crate::Scrubber)); they name the provider's
/// scheme instead. Maps and lists a reference produced are configuration, like an included
/// file, and are not marked.
#[derive(Clone, Debug, PartialEq)]
pub struct Expanded {
    value: Value,
    original: String,
    scheme: Option<String>,
}

impl Expanded {
    /// Creates an expanded value from its typed value and the text it was parsed from.
    pub fn new(value: Value, original: impl Into<String>) -> Expanded {
        Expanded {
            value,
            original: original.into(),
            scheme: None,
        }
    }

    /// Notes the scheme of the reference the value came from (`env`, `file`), which errors
    /// name in place of the value.
    pub fn with_scheme(mut self, scheme: impl Into<String>) -> Expanded {
        self.scheme = Some(scheme.into());
        self
    }

    /// The scheme of the reference the value came from, if known.
    pub fn scheme(&self) -> Option<&str> {
        self.scheme.as_deref()
    }

    /// The typed value, used for every non-string target.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The original text, used for string targets.
    pub fn original(&self) -> &str {
        &self.original
    }

    /// Splits into the typed value and the original text.
    pub fn into_parts(self) -> (Value, String) {
        (self.value, self.original)
    }
}

impl Value {
    /// The name of this value's type for messages: `null`, `bool`, `int`, `float`, `string`,
    /// `list` or `map`. An [`Expanded`] value reports its typed value's kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Expanded(expanded) => expanded.value.kind(),
        }
    }

    /// The value with any [`Expanded`] wrapper removed.
    pub fn typed(&self) -> &Value {
        match self {
            Value::Expanded(expanded) => expanded.value.typed(),
            other => other,
        }
    }

    /// The kind with its article, for messages: `a map`, `an int`.
    pub(crate) fn kind_with_article(&self) -> &'static str {
        match self.kind() {
            "null" => "null",
            "bool" => "a bool",
            "int" => "an int",
            "float" => "a float",
            "string" => "a string",
            "list" => "a list",
            _ => "a map",
        }
    }

    /// The value with any [`Expanded`] wrapper removed, by value.
    pub fn into_typed(self) -> Value {
        match self {
            Value::Expanded(expanded) => expanded.value.into_typed(),
            other => other,
        }
    }

    /// Whether this value is null (an expanded null counts).
    pub fn is_null(&self) -> bool {
        matches!(self.typed(), Value::Null)
    }

    /// The boolean, if this is a bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self.typed() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The integer, if this is an int.
    pub fn as_i64(&self) -> Option<i64> {
        match self.typed() {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The number as a float, if this is a float or an int.
    pub fn as_f64(&self) -> Option<f64> {
        match self.typed() {
            Value::Float(f) => Some(*f),
            // Config numbers are small; the conversion is exact for |i| < 2^53.
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// The text, if this is a string. For an [`Expanded`] scalar this is its original text,
    /// which is what a string field receives when decoding.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            Value::Expanded(expanded) => Some(&expanded.original),
            _ => None,
        }
    }

    /// The items, if this is a list.
    pub fn as_list(&self) -> Option<&Vec<Value>> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// The items for editing, if this is a list.
    pub fn as_list_mut(&mut self) -> Option<&mut Vec<Value>> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// The entries, if this is a map.
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(map) => Some(map),
            _ => None,
        }
    }

    /// The entries for editing, if this is a map.
    pub fn as_map_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Map(map) => Some(map),
            _ => None,
        }
    }

    /// Looks up a `a::b::c` path below this value. A segment that is a number indexes a list
    /// (`exporters::0`), matching the paths that decode errors report.
    pub fn get(&self, path: &str) -> Option<&Value> {
        path::segments(path).try_fold(self, |value, segment| match value {
            Value::Map(map) => map.get(segment),
            Value::List(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
    }

    /// The value at a `a::b::c` path below this value, for editing; see [`Value::get`].
    pub fn get_mut(&mut self, path: &str) -> Option<&mut Value> {
        path::segments(path).try_fold(self, |value, segment| match value {
            Value::Map(map) => map.get_mut(segment),
            Value::List(items) => segment.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
            _ => None,
        })
    }

    /// Decodes this value into a typed configuration, strictly: unknown keys are rejected by
    /// types that use `#[serde(deny_unknown_fields)]`, there is no weak typing (the string
    /// `"true"` is not a bool), and every error names the key path where it happened. The
    /// error holds every problem found, not just the first (see [Every problem at
    /// once](crate#every-problem-at-once)).
    ///
    /// A map entry whose value is null counts as absent when decoding a struct, so the field
    /// takes its `#[serde(default)]`, as a key with no value does in the Go Collector.
    ///
    /// Errors never show a secret ([`SecretString`](crate::SecretString),
    /// [`SecretUrl`](crate::SecretUrl)) or the text of a value a `${...}` reference produced:
    /// `timeout: invalid duration (value from a ${file:...} reference not shown)`.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, DecodeError> {
        self.decode_at("")
    }

    /// Decodes like [`Value::decode`], prefixing every error path with `path`: decoding the
    /// value found at `receivers::otlp` with `decode_at("receivers::otlp")` reports
    /// `receivers::otlp::protocols::grpc::endpoint: ...`.
    pub fn decode_at<T: DeserializeOwned>(&self, path: &str) -> Result<T, DecodeError> {
        self.decode_recording(path).map(|(decoded, _)| decoded)
    }

    /// Decodes like [`Value::decode`] and also returns where the decoded type holds secrets
    /// ([`SecretString`](crate::SecretString) and [`SecretUrl`](crate::SecretUrl) values, at
    /// any depth), so a printed configuration can hide exactly those (see
    /// [`SecretPaths::redact`]). Secrets inside squashed fields are seen (see
    /// [Squashing](crate#squashing)); those inside `#[serde(flatten)]` fields and untagged
    /// enums are not: serde buffers those without telling the decoder their types.
    pub fn decode_with_secrets<T: DeserializeOwned>(
        &self,
    ) -> Result<(T, SecretPaths), DecodeError> {
        self.decode_recording("")
    }

    fn decode_recording<T: DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<(T, SecretPaths), DecodeError> {
        let (decoded, secrets) = decode::decode(self, path);
        let secrets = secrets.relative_to(path);
        match decoded {
            Ok(decoded) => Ok((decoded, secrets)),
            Err(error) => Err(error.scrubbed(&Scrubber::new(self, &secrets))),
        }
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Value {
        Value::Bool(value)
    }
}

macro_rules! from_integer {
    ($($ty:ty),*) => {
        $(impl From<$ty> for Value {
            fn from(value: $ty) -> Value {
                Value::Int(i64::from(value))
            }
        })*
    };
}

from_integer!(i8, i16, i32, i64, u8, u16, u32);

impl From<f64> for Value {
    fn from(value: f64) -> Value {
        Value::Float(value)
    }
}

impl From<f32> for Value {
    fn from(value: f32) -> Value {
        Value::Float(f64::from(value))
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Value {
        Value::String(value.to_owned())
    }
}

impl From<String> for Value {
    fn from(value: String) -> Value {
        Value::String(value)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(items: Vec<T>) -> Value {
        Value::List(items.into_iter().map(Into::into).collect())
    }
}

impl From<Map> for Value {
    fn from(map: Map) -> Value {
        Value::Map(map)
    }
}

impl From<Expanded> for Value {
    fn from(expanded: Expanded) -> Value {
        Value::Expanded(Box::new(expanded))
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Value {
        value.map_or(Value::Null, Into::into)
    }
}

impl<K: Into<String>, V: Into<Value>> FromIterator<(K, V)> for Value {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(entries: I) -> Value {
        Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expanded_values_read_as_their_type_and_as_their_text() {
        let value = Value::from(Expanded::new(Value::Int(83), "0123"));
        assert_eq!(value.as_i64(), Some(83));
        assert_eq!(value.as_str(), Some("0123"));
        assert_eq!(value.kind(), "int");
        assert!(!value.is_null());
        assert!(Value::from(Expanded::new(Value::Null, "")).is_null());
    }

    #[test]
    fn get_walks_maps_and_list_indices() {
        let value: Value = [(
            "exporters",
            Value::from(vec![Value::from_iter([("name", "otlp")])]),
        )]
        .into_iter()
        .collect();
        assert_eq!(
            value.get("exporters::0::name").and_then(Value::as_str),
            Some("otlp")
        );
        assert_eq!(value.get("exporters::1::name"), None);
        assert_eq!(value.get("exporters::x"), None);
        assert_eq!(value.get("missing"), None);
    }

    #[test]
    fn conversions_build_the_expected_variants() {
        assert_eq!(Value::from(7u16), Value::Int(7));
        assert_eq!(Value::from(1.5f32), Value::Float(1.5));
        assert_eq!(Value::from(None::<i64>), Value::Null);
        assert_eq!(Value::from(Some("x")), Value::String("x".into()));
        assert_eq!(Value::Int(2).as_f64(), Some(2.0));
        assert_eq!(Value::String("true".into()).as_bool(), None);
    }
}
