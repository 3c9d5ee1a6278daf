//! The `metricstransform` processor's configuration: Go's `transforms` list, its keys and
//! its checks.

use std::collections::BTreeMap;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};

/// Configuration of the `metricstransform` processor. See the [module docs](super).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The transforms, applied in order to every scope's metrics.
    pub transforms: Vec<Transform>,
}

/// One transform: which metrics it selects, what it does with them, and the operations
/// applied to the result.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Transform {
    /// The metric name (or regular expression) selecting the metrics; required.
    pub include: String,
    /// `strict` (the default) or `regexp`.
    pub match_type: String,
    /// Only data points whose labels match these values (exactly, or by regular
    /// expression with `match_type: regexp`) are selected; a missing label reads as "".
    pub experimental_match_labels: BTreeMap<String, String>,
    /// `update`, `insert`, `combine` or `group`; required.
    pub action: String,
    /// The new metric name; `$1` / `${name}` expand regexp captures. Required for
    /// `insert` and `combine`.
    pub new_name: String,
    /// Resource attributes added to the resource a `group` moves metrics to.
    pub group_resource_labels: Option<BTreeMap<String, String>>,
    /// How `combine` merges points: `sum`, `mean`, `min`, `max`, `median` or `count`;
    /// unset, merged points take the first point's value (as in Go).
    pub aggregation_type: String,
    /// `lower` or `upper`: the case of label values taken from regexp captures by `combine`.
    pub submatch_case: String,
    /// The operations applied to each resulting metric, in order.
    pub operations: Vec<Operation>,
}

/// One operation on a selected metric.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Operation {
    /// `add_label`, `update_label`, `delete_label_value`, `toggle_scalar_data_type`,
    /// `experimental_scale_value`, `aggregate_labels` or `aggregate_label_values`.
    pub action: String,
    /// The label operated on.
    pub label: String,
    /// The label's new name (`update_label`), or the label added (`add_label`).
    pub new_label: String,
    /// The labels kept by `aggregate_labels`.
    pub label_set: Option<Vec<String>>,
    /// How `aggregate_labels` and `aggregate_label_values` merge points.
    pub aggregation_type: String,
    /// The label values merged into `new_value` by `aggregate_label_values`.
    pub aggregated_values: Vec<String>,
    /// The value added (`add_label`) or merged into (`aggregate_label_values`);
    /// `{{version}}` is replaced by the collector's version.
    pub new_value: String,
    /// Label value renames (`update_label`).
    pub value_actions: Vec<ValueAction>,
    /// The factor `experimental_scale_value` multiplies values by.
    pub experimental_scale: f64,
    /// The label value whose points `delete_label_value` removes.
    pub label_value: String,
}

/// One label value rename of `update_label`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ValueAction {
    /// The current value.
    pub value: String,
    /// The value it becomes; `{{version}}` is replaced by the collector's version.
    pub new_value: String,
}

/// How points that fall together are merged into one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AggregationType {
    Sum,
    Mean,
    Min,
    Max,
    Median,
    Count,
}

const AGGREGATION_TYPES: &str = "sum, mean, min, max, median, count";

impl AggregationType {
    /// The aggregation named `name`; `None` for "" (not set).
    pub fn parse(name: &str, path: &str) -> Result<Option<Self>, ConfigError> {
        Ok(Some(match name {
            "" => return Ok(None),
            "sum" => AggregationType::Sum,
            "mean" => AggregationType::Mean,
            "min" => AggregationType::Min,
            "max" => AggregationType::Max,
            "median" => AggregationType::Median,
            "count" => AggregationType::Count,
            other => {
                return Err(ConfigError::at(
                    path,
                    format!("{other:?} is not an aggregation type: one of {AGGREGATION_TYPES}"),
                ));
            }
        }))
    }
}

fn required(path: String, what: &str, action: &str) -> ConfigError {
    ConfigError::at(
        path,
        format!("missing required field {what:?} while \"action\" is {action}"),
    )
}

impl Transform {
    fn validate(&self, at: &str) -> Result<(), ConfigError> {
        if self.include.is_empty() {
            return Err(ConfigError::at(
                format!("{at}::include"),
                "missing required field \"include\"",
            ));
        }
        match self.match_type.as_str() {
            "" | "strict" => {}
            "regexp" => {
                regex::Regex::new(&self.include)
                    .map_err(|e| ConfigError::at(format!("{at}::include"), e.to_string()))?;
                for (label, pattern) in &self.experimental_match_labels {
                    regex::Regex::new(pattern).map_err(|e| {
                        ConfigError::at(
                            format!("{at}::experimental_match_labels::{label}"),
                            e.to_string(),
                        )
                    })?;
                }
            }
            other => {
                return Err(ConfigError::at(
                    format!("{at}::match_type"),
                    format!("{other:?} is not a match type: strict or regexp"),
                ));
            }
        }
        AggregationType::parse(&self.aggregation_type, &format!("{at}::aggregation_type"))?;
        match self.action.as_str() {
            "update" => {}
            "insert" if self.new_name.is_empty() => {
                return Err(required(format!("{at}::new_name"), "new_name", "insert"));
            }
            "insert" => {}
            // Go accepts a `combine` without `new_name` and makes a metric without a name;
            // its README says new_name is required, and so do we.
            "combine" if self.new_name.is_empty() => {
                return Err(required(format!("{at}::new_name"), "new_name", "combine"));
            }
            "combine" => {}
            "group" if self.group_resource_labels.is_none() => {
                return Err(required(
                    format!("{at}::group_resource_labels"),
                    "group_resource_labels",
                    "group",
                ));
            }
            "group" => {}
            other => {
                return Err(ConfigError::at(
                    format!("{at}::action"),
                    format!("{other:?} is not an action: update, insert, combine or group"),
                ));
            }
        }
        match self.submatch_case.as_str() {
            "" | "lower" | "upper" => {}
            other => {
                return Err(ConfigError::at(
                    format!("{at}::submatch_case"),
                    format!("{other:?} is not a submatch case: lower or upper"),
                ));
            }
        }
        for (index, operation) in self.operations.iter().enumerate() {
            operation.validate(&format!("{at}::operations::{index}"))?;
        }
        Ok(())
    }
}

impl Operation {
    fn validate(&self, at: &str) -> Result<(), ConfigError> {
        AggregationType::parse(&self.aggregation_type, &format!("{at}::aggregation_type"))?;
        let need = |missing: bool, what: &str| {
            if missing {
                Err(required(format!("{at}::{what}"), what, &self.action))
            } else {
                Ok(())
            }
        };
        match self.action.as_str() {
            "update_label" => need(self.label.is_empty(), "label"),
            "add_label" => {
                need(self.new_label.is_empty(), "new_label")?;
                need(self.new_value.is_empty(), "new_value")
            }
            "delete_label_value" => {
                need(self.label.is_empty(), "label")?;
                need(self.label_value.is_empty(), "label_value")
            }
            "toggle_scalar_data_type" => Ok(()),
            "experimental_scale_value" => {
                need(self.experimental_scale == 0.0, "experimental_scale")
            }
            "aggregate_labels" => need(self.label_set.is_none(), "label_set"),
            "aggregate_label_values" => {
                need(self.label.is_empty(), "label")?;
                need(self.aggregated_values.is_empty(), "aggregated_values")?;
                need(self.new_value.is_empty(), "new_value")
            }
            other => Err(ConfigError::at(
                format!("{at}::action"),
                format!(
                    "{other:?} is not an operation: add_label, update_label, delete_label_value, \
                     toggle_scalar_data_type, experimental_scale_value, aggregate_labels or \
                     aggregate_label_values"
                ),
            )),
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        for (index, transform) in self.transforms.iter().enumerate() {
            transform.validate(&format!("transforms::{index}"))?;
        }
        Ok(())
    }
}
