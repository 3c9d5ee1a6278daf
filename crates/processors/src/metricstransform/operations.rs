//! The operations a transform applies to each metric it produces, as Go's
//! `operation_*.go`.

use std::collections::{HashMap, HashSet};

use tributary_pipeline_core::component::ConfigError;
use tributary_pipeline_core::pdata::attributes::AttributesMut;
use tributary_pipeline_core::pdata::data_point::{DataPointMut, MetricExt};
use tributary_pipeline_core::pdata::proto::metrics::v1::exemplar;
use tributary_pipeline_core::pdata::proto::metrics::v1::metric::Data;
use tributary_pipeline_core::pdata::proto::metrics::v1::number_data_point::Value;
use tributary_pipeline_core::pdata::proto::metrics::v1::{Metric, NumberDataPoint};

use super::aggregate::aggregate;
use super::config::{AggregationType, Operation as OperationConfig};
use super::filter::{Filter, has_label, label_str};

/// One compiled operation.
pub(crate) enum Operation {
    AddLabel {
        label: String,
        value: String,
    },
    UpdateLabel {
        label: String,
        new_label: String,
        values: HashMap<String, String>,
    },
    DeleteLabelValue {
        label: String,
        value: String,
    },
    ToggleScalarDataType,
    ScaleValue(f64),
    AggregateLabels {
        keep: HashSet<String>,
        how: Option<AggregationType>,
    },
    AggregateLabelValues {
        label: String,
        values: HashSet<String>,
        new_value: String,
        how: Option<AggregationType>,
    },
}

impl Operation {
    /// `version` replaces `{{version}}` in new label values, as Go does.
    pub fn compile(config: &OperationConfig, version: &str) -> Result<Self, ConfigError> {
        let with_version = |value: &str| value.replace("{{version}}", version);
        let how = || AggregationType::parse(&config.aggregation_type, "aggregation_type");
        Ok(match config.action.as_str() {
            "add_label" => Operation::AddLabel {
                label: config.new_label.clone(),
                value: with_version(&config.new_value),
            },
            "update_label" => Operation::UpdateLabel {
                label: config.label.clone(),
                new_label: config.new_label.clone(),
                values: config
                    .value_actions
                    .iter()
                    .map(|a| (a.value.clone(), with_version(&a.new_value)))
                    .collect(),
            },
            "delete_label_value" => Operation::DeleteLabelValue {
                label: config.label.clone(),
                value: config.label_value.clone(),
            },
            "toggle_scalar_data_type" => Operation::ToggleScalarDataType,
            "experimental_scale_value" => Operation::ScaleValue(config.experimental_scale),
            "aggregate_labels" => Operation::AggregateLabels {
                keep: config.label_set.iter().flatten().cloned().collect(),
                how: how()?,
            },
            "aggregate_label_values" => Operation::AggregateLabelValues {
                label: config.label.clone(),
                values: config.aggregated_values.iter().cloned().collect(),
                new_value: config.new_value.clone(),
                how: how()?,
            },
            other => {
                return Err(ConfigError::at(
                    "action",
                    format!("unknown operation {other:?}"),
                ));
            }
        })
    }

    /// Applies the operation. `may_reshape` is false when an `update` selected only some
    /// of the metric's points: operations that add, drop or merge points are then
    /// skipped, as in Go; those that edit points touch the selected ones only.
    pub fn apply(&self, metric: &mut Metric, filter: &Filter, may_reshape: bool) {
        match self {
            Operation::UpdateLabel {
                label,
                new_label,
                values,
            } => {
                for mut point in metric.data_points_mut() {
                    let attributes = point.attributes_mut();
                    if !filter.matches_labels(attributes) {
                        continue;
                    }
                    let Some(old) = label_str(attributes, label).map(str::to_string) else {
                        continue;
                    };
                    let mut key = label.as_str();
                    if !new_label.is_empty() {
                        if let Some(value) = attributes.remove_attribute(label) {
                            attributes.upsert_attribute(new_label, value);
                        }
                        key = new_label;
                    }
                    if let Some(new_value) = values.get(&old) {
                        attributes.upsert_attribute(key, new_value.as_str());
                    }
                }
            }
            Operation::ToggleScalarDataType => {
                for point in numbers(metric).filter(|p| filter.matches_labels(&p.attributes)) {
                    point.value = match point.value {
                        Some(Value::AsInt(v)) => Some(Value::AsDouble(v as f64)),
                        Some(Value::AsDouble(v)) => Some(Value::AsInt(v as i64)),
                        None => None,
                    };
                }
            }
            Operation::ScaleValue(scale) => scale_values(metric, filter, *scale),
            Operation::AddLabel { label, value } if may_reshape => {
                for mut point in metric.data_points_mut() {
                    point
                        .attributes_mut()
                        .upsert_attribute(label, value.as_str());
                }
            }
            Operation::DeleteLabelValue { label, value } if may_reshape => {
                metric.retain_data_points(|p| !has_label(p.attributes(), label, value));
            }
            Operation::AggregateLabels { keep, how } if may_reshape => {
                for mut point in metric.data_points_mut() {
                    point
                        .attributes_mut()
                        .retain_attributes(|key, _| keep.contains(key));
                }
                aggregate(metric, *how);
            }
            Operation::AggregateLabelValues {
                label,
                values,
                new_value,
                how,
            } if may_reshape => {
                for mut point in metric.data_points_mut() {
                    let attributes = point.attributes_mut();
                    if label_str(attributes, label).is_some_and(|v| values.contains(v)) {
                        attributes.upsert_attribute(label, new_value.as_str());
                    }
                }
                aggregate(metric, *how);
            }
            _ => {}
        }
    }
}

/// The number points of a gauge or a sum (none for other kinds).
fn numbers(metric: &mut Metric) -> impl Iterator<Item = &mut NumberDataPoint> {
    let points = match &mut metric.data {
        Some(Data::Gauge(g)) => &mut g.data_points[..],
        Some(Data::Sum(s)) => &mut s.data_points[..],
        _ => &mut [][..],
    };
    points.iter_mut()
}

/// Go's `experimental_scale_value`: number values of gauges and sums; of histograms the
/// sum, min, max, bounds and exemplars. Other kinds are left alone.
fn scale_values(metric: &mut Metric, filter: &Filter, scale: f64) {
    let scale_int = |v: i64| (v as f64 * scale) as i64;
    if let Some(Data::Histogram(_)) = metric.data {
        for point in metric.data_points_mut() {
            let DataPointMut::Histogram(point) = point else {
                continue;
            };
            if !filter.matches_labels(&point.attributes) {
                continue;
            }
            for value in [&mut point.sum, &mut point.min, &mut point.max]
                .into_iter()
                .flatten()
            {
                *value *= scale;
            }
            for bound in &mut point.explicit_bounds {
                *bound *= scale;
            }
            for exemplar in &mut point.exemplars {
                exemplar.value = match exemplar.value {
                    Some(exemplar::Value::AsInt(v)) => Some(exemplar::Value::AsInt(scale_int(v))),
                    Some(exemplar::Value::AsDouble(v)) => {
                        Some(exemplar::Value::AsDouble(v * scale))
                    }
                    None => None,
                };
            }
        }
        return;
    }
    for point in numbers(metric).filter(|p| filter.matches_labels(&p.attributes)) {
        point.value = match point.value {
            Some(Value::AsInt(v)) => Some(Value::AsInt(scale_int(v))),
            Some(Value::AsDouble(v)) => Some(Value::AsDouble(v * scale)),
            None => None,
        };
    }
}
