//! One entry of an `actions` list, as the user writes it.

use serde::Deserialize;

/// One attribute action: Go's `attraction.ActionKeyValue`. See the [module docs](super).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActionConfig {
    /// The attribute acted on.
    pub key: String,
    /// The value `insert`/`update`/`upsert` write.
    pub value: Option<serde_json::Value>,
    /// A regular expression: keys for `delete`/`hash`, named groups for `extract`.
    pub pattern: String,
    /// The attribute whose value `insert`/`update`/`upsert` copy.
    pub from_attribute: String,
    /// The client metadata key whose value `insert`/`update`/`upsert` write.
    pub from_context: String,
    /// What `insert`/`update`/`upsert` write when `from_attribute` or `from_context`
    /// finds nothing (or, alone, the value to write).
    pub default_value: Option<serde_json::Value>,
    /// `int`, `double` or `string`, for `convert`.
    pub converted_type: String,
    /// What to do: `insert`, `update`, `upsert`, `delete`, `hash`, `extract`, `convert`.
    pub action: String,
}
