//! Attributes: reading and editing OTLP `KeyValue` lists, and building values.
//!
//! OTLP keeps attributes as a list of [`KeyValue`]s whose keys should be unique.
//! [`Attributes`] reads such a list like a map (get by key, typed), [`AttributesMut`] edits
//! it (insert, update, upsert, remove, retain); [`AnyValueExt`] reads a value as the type
//! it holds; [`key_value`] and [`any_value`] build them from plain Rust values.
//!
//! ```
//! use tributary_pipeline_core::pdata::attributes::{Attributes, AttributesMut, key_value};
//!
//! let mut attributes = vec![key_value("http.method", "GET"), key_value("retries", 2)];
//! assert_eq!(attributes.get_str("http.method"), Some("GET"));
//! assert!(!attributes.insert_attribute("retries", 5), "present: insert leaves it");
//! assert!(attributes.update_attribute("retries", 3));
//! attributes.upsert_attribute("sampled", true);
//! attributes.remove_attribute("http.method");
//! assert_eq!(attributes.get_int("retries"), Some(3));
//! assert_eq!(attributes.get_bool("sampled"), Some(true));
//! assert_eq!(attributes.len(), 2);
//! ```

use super::proto::common::v1::any_value::Value;
use super::proto::common::v1::{AnyValue, KeyValue};

/// A plain Rust value that converts into an OTLP [`AnyValue`]: `&str`, `String`, `i64`,
/// `f64`, `bool`, or an `AnyValue` itself.
pub trait IntoAnyValue {
    /// The OTLP value.
    fn into_any_value(self) -> AnyValue;
}

impl IntoAnyValue for AnyValue {
    fn into_any_value(self) -> AnyValue {
        self
    }
}

impl IntoAnyValue for &str {
    fn into_any_value(self) -> AnyValue {
        value(Value::StringValue(self.to_owned()))
    }
}

impl IntoAnyValue for String {
    fn into_any_value(self) -> AnyValue {
        value(Value::StringValue(self))
    }
}

impl IntoAnyValue for i64 {
    fn into_any_value(self) -> AnyValue {
        value(Value::IntValue(self))
    }
}

impl IntoAnyValue for f64 {
    fn into_any_value(self) -> AnyValue {
        value(Value::DoubleValue(self))
    }
}

impl IntoAnyValue for bool {
    fn into_any_value(self) -> AnyValue {
        value(Value::BoolValue(self))
    }
}

fn value(value: Value) -> AnyValue {
    AnyValue { value: Some(value) }
}

/// An OTLP value from a plain one: `any_value("text")`, `any_value(3)`, `any_value(0.5)`,
/// `any_value(true)`.
pub fn any_value(value: impl IntoAnyValue) -> AnyValue {
    value.into_any_value()
}

/// An attribute from a key and a plain value: `key_value("service.name", "checkout")`.
pub fn key_value(key: impl Into<String>, value: impl IntoAnyValue) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(value.into_any_value()),
        ..Default::default()
    }
}

/// Reads an [`AnyValue`] as the type it holds; each method returns `None` for a value of
/// another type (no conversion: an int is not a double).
pub trait AnyValueExt {
    /// The string, if this is a string value.
    fn as_str(&self) -> Option<&str>;
    /// The integer, if this is an int value.
    fn as_int(&self) -> Option<i64>;
    /// The double, if this is a double value.
    fn as_double(&self) -> Option<f64>;
    /// The boolean, if this is a bool value.
    fn as_bool(&self) -> Option<bool>;
}

impl AnyValueExt for AnyValue {
    fn as_str(&self) -> Option<&str> {
        match &self.value {
            Some(Value::StringValue(s)) => Some(s),
            _ => None,
        }
    }

    fn as_int(&self) -> Option<i64> {
        match self.value {
            Some(Value::IntValue(i)) => Some(i),
            _ => None,
        }
    }

    fn as_double(&self) -> Option<f64> {
        match self.value {
            Some(Value::DoubleValue(d)) => Some(d),
            _ => None,
        }
    }

    fn as_bool(&self) -> Option<bool> {
        match self.value {
            Some(Value::BoolValue(b)) => Some(b),
            _ => None,
        }
    }
}

/// Reads an OTLP attribute list (`[KeyValue]`, so also `Vec<KeyValue>`) like a map.
///
/// Lookups are linear, which is what OTLP's lists of a few attributes want. Should a list
/// hold a key twice (OTLP forbids it, but a peer may send it), reads see the first
/// occurrence. An attribute whose value is missing counts as present, with no value.
pub trait Attributes {
    /// The value under `key`.
    fn get_value(&self, key: &str) -> Option<&AnyValue>;
    /// Whether an attribute named `key` is present.
    fn contains_key(&self, key: &str) -> bool;

    /// The string under `key`, if it is a string.
    fn get_str(&self, key: &str) -> Option<&str> {
        self.get_value(key)?.as_str()
    }
    /// The integer under `key`, if it is an int.
    fn get_int(&self, key: &str) -> Option<i64> {
        self.get_value(key)?.as_int()
    }
    /// The double under `key`, if it is a double.
    fn get_double(&self, key: &str) -> Option<f64> {
        self.get_value(key)?.as_double()
    }
    /// The boolean under `key`, if it is a bool.
    fn get_bool(&self, key: &str) -> Option<bool> {
        self.get_value(key)?.as_bool()
    }
}

impl Attributes for [KeyValue] {
    fn get_value(&self, key: &str) -> Option<&AnyValue> {
        self.iter().find(|kv| kv.key == key)?.value.as_ref()
    }

    fn contains_key(&self, key: &str) -> bool {
        self.iter().any(|kv| kv.key == key)
    }
}

/// Edits an OTLP attribute list (`Vec<KeyValue>`) like a map. Updates act on the first
/// occurrence of a key; [`remove_attribute`](Self::remove_attribute) removes them all.
pub trait AttributesMut {
    /// The value under `key`, for editing in place (a missing value reads as empty).
    fn get_value_mut(&mut self, key: &str) -> Option<&mut AnyValue>;
    /// Sets `key` to `value` only if it is absent; returns whether it was added.
    fn insert_attribute(&mut self, key: &str, value: impl IntoAnyValue) -> bool;
    /// Sets `key` to `value` only if it is present; returns whether it was changed.
    fn update_attribute(&mut self, key: &str, value: impl IntoAnyValue) -> bool;
    /// Sets `key` to `value`, adding it if absent.
    fn upsert_attribute(&mut self, key: &str, value: impl IntoAnyValue);
    /// Removes every attribute named `key`; returns the first one's value.
    fn remove_attribute(&mut self, key: &str) -> Option<AnyValue>;
    /// Keeps only the attributes for which `keep(key, value)` holds (a missing value reads
    /// as an empty one).
    fn retain_attributes(&mut self, keep: impl FnMut(&str, &AnyValue) -> bool);
}

/// The empty value a missing one reads as.
const EMPTY: AnyValue = AnyValue { value: None };

impl AttributesMut for Vec<KeyValue> {
    fn get_value_mut(&mut self, key: &str) -> Option<&mut AnyValue> {
        let found = self.iter_mut().find(|kv| kv.key == key)?;
        Some(found.value.get_or_insert_default())
    }

    fn insert_attribute(&mut self, key: &str, value: impl IntoAnyValue) -> bool {
        if self.contains_key(key) {
            return false;
        }
        self.push(key_value(key, value));
        true
    }

    fn update_attribute(&mut self, key: &str, value: impl IntoAnyValue) -> bool {
        match self.iter_mut().find(|kv| kv.key == key) {
            Some(found) => {
                found.value = Some(value.into_any_value());
                true
            }
            None => false,
        }
    }

    fn upsert_attribute(&mut self, key: &str, value: impl IntoAnyValue) {
        match self.iter_mut().find(|kv| kv.key == key) {
            Some(found) => found.value = Some(value.into_any_value()),
            None => self.push(key_value(key, value)),
        }
    }

    fn remove_attribute(&mut self, key: &str) -> Option<AnyValue> {
        let first = self.iter().position(|kv| kv.key == key)?;
        let removed = self.remove(first);
        self.retain(|kv| kv.key != key);
        Some(removed.value.unwrap_or_default())
    }

    fn retain_attributes(&mut self, mut keep: impl FnMut(&str, &AnyValue) -> bool) {
        self.retain(|kv| keep(&kv.key, kv.value.as_ref().unwrap_or(&EMPTY)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_reads_see_only_their_type() {
        let attributes = [
            key_value("s", "text"),
            key_value("i", 7),
            key_value("d", 0.5),
            key_value("b", false),
            KeyValue {
                key: "none".into(),
                ..Default::default()
            },
        ];
        assert_eq!(attributes.get_str("s"), Some("text"));
        assert_eq!(attributes.get_int("i"), Some(7));
        assert_eq!(attributes.get_double("d"), Some(0.5));
        assert_eq!(attributes.get_bool("b"), Some(false));
        assert_eq!(attributes.get_double("i"), None, "an int is not a double");
        assert_eq!(attributes.get_str("missing"), None);
        assert!(attributes.contains_key("none"));
        assert_eq!(attributes.get_value("none"), None);
    }

    #[test]
    fn insert_update_upsert_follow_presence() {
        let mut attributes = vec![key_value("a", 1)];
        assert!(!attributes.insert_attribute("a", 2));
        assert!(attributes.insert_attribute("b", 2));
        assert!(attributes.update_attribute("a", "one"));
        assert!(!attributes.update_attribute("c", 3));
        attributes.upsert_attribute("b", String::from("two"));
        attributes.upsert_attribute("c", 3.0);
        assert_eq!(
            attributes,
            vec![
                key_value("a", "one"),
                key_value("b", "two"),
                key_value("c", 3.0)
            ]
        );
    }

    #[test]
    fn remove_takes_every_duplicate_and_returns_the_first() {
        let mut attributes = vec![key_value("k", 1), key_value("x", 0), key_value("k", 2)];
        assert_eq!(attributes.remove_attribute("k"), Some(any_value(1)));
        assert_eq!(attributes, vec![key_value("x", 0)]);
        assert_eq!(attributes.remove_attribute("k"), None);
    }

    #[test]
    fn retain_and_edit_in_place() {
        let mut attributes = vec![key_value("keep", 1), key_value("drop", 2)];
        attributes.retain_attributes(|key, _| key != "drop");
        if let Some(value) = attributes.get_value_mut("keep") {
            *value = any_value("edited");
        }
        assert_eq!(attributes, vec![key_value("keep", "edited")]);
    }
}
