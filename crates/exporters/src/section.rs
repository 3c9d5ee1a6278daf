//! Optional configuration sections whose mere presence turns a feature on, as in the Go
//! Collector: `rotation:` with no keys rotates with the default settings, while leaving the
//! key out does not rotate at all.

use serde::{Deserialize, Deserializer};

/// For `#[serde(deserialize_with)]` on an `Option<T>` field of a `#[serde(default)]`
/// struct: a present section, even empty (`null`), becomes `Some` with `T`'s defaults
/// for the keys it leaves out; an absent one keeps the field's default (`None`).
pub(crate) fn present_means_default<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Some(
        Option::<T>::deserialize(deserializer)?.unwrap_or_default(),
    ))
}
