//! The `add_attributes` configuration.

use std::collections::BTreeMap;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};

/// An attribute value: a string, integer, float or boolean.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum AttributeValue {
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Double(f64),
    /// Text.
    String(String),
}

/// `processors::add_attributes`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Attributes set on every resource.
    pub resource: BTreeMap<String, AttributeValue>,
    /// Attributes set on every span, log record and metric data point.
    pub record: BTreeMap<String, AttributeValue>,
    /// Replace an attribute the data already has.
    pub overwrite: bool,
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.resource.is_empty() && self.record.is_empty() {
            return Err(ConfigError::new(
                "nothing to add: set `resource` or `record` attributes",
            ));
        }
        for (section, attributes) in [("resource", &self.resource), ("record", &self.record)] {
            if attributes.keys().any(String::is_empty) {
                return Err(ConfigError::at(
                    section,
                    "attribute names must not be empty",
                ));
            }
        }
        Ok(())
    }
}
