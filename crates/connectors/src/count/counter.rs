//! Counting one resource's items into count metrics.

use std::collections::BTreeMap;
use std::sync::Arc;

use tributary_pipeline_core::component::ConfigError;
use tributary_pipeline_core::pdata::proto::common::v1::AnyValue;
use tributary_pipeline_core::pdata::proto::common::v1::{KeyValue, any_value};
use tributary_pipeline_core::pdata::proto::metrics::v1::metric::Data;
use tributary_pipeline_core::pdata::proto::metrics::v1::number_data_point::Value;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    AggregationTemporality, Metric, NumberDataPoint, Sum,
};
use tributary_pipeline_core::prelude::Attributes;

use super::config::{AttributeConfig, MetricInfo};
use crate::routing::{BuiltinLanguage, Condition, ConditionLanguage, Context, EvalError, Item};
use tributary_pipeline_core::pdata::value_text::as_string;

/// The attribute a count is kept by: integers and doubles as they are, anything else as
/// a string, as Go writes it (where Go writes an empty string for booleans, bytes, arrays
/// and maps, their text is kept).
fn count_attribute(value: &AnyValue) -> AnyValue {
    match &value.value {
        Some(any_value::Value::IntValue(_) | any_value::Value::DoubleValue(_)) => value.clone(),
        _ => AnyValue {
            value: Some(any_value::Value::StringValue(as_string(Some(value)))),
        },
    }
}

/// A value's text tagged with its type: what tells combinations apart.
fn typed_text(value: &AnyValue) -> String {
    let tag = match &value.value {
        None => 'n',
        Some(any_value::Value::StringValue(_)) => 's',
        Some(any_value::Value::BoolValue(_)) => 'b',
        Some(any_value::Value::IntValue(_)) => 'i',
        Some(any_value::Value::DoubleValue(_)) => 'd',
        Some(any_value::Value::BytesValue(_)) => 'y',
        Some(any_value::Value::ArrayValue(_)) => 'a',
        Some(any_value::Value::KvlistValue(_)) => 'm',
        Some(any_value::Value::StringValueStrindex(_)) => 'x',
    };
    format!("{tag}{}", as_string(Some(value)))
}

/// One count metric, ready to count with.
#[derive(Clone, Debug)]
pub(crate) struct MetricDef {
    name: String,
    description: String,
    attributes: Vec<AttributeConfig>,
    /// ORed; none counts every item.
    conditions: Vec<Arc<dyn Condition>>,
}

impl MetricDef {
    /// The definitions of one section (`section`, for error paths), in name order, their
    /// conditions parsed for `context`.
    pub(crate) fn from_section(
        section: &str,
        metrics: BTreeMap<String, MetricInfo>,
        context: Context,
    ) -> Result<Vec<MetricDef>, ConfigError> {
        metrics
            .into_iter()
            .map(|(name, info)| {
                if name.is_empty() {
                    return Err(ConfigError::at(section, "metric name missing"));
                }
                let path = |key: &str| format!("{section}::{name}::{key}");
                if context == Context::Metric && !info.attributes.is_empty() {
                    return Err(ConfigError::at(
                        path("attributes"),
                        "metrics attributes not supported: a metric has no attributes of its \
                         own (count `datapoints` by attribute instead)",
                    ));
                }
                for (index, attribute) in info.attributes.iter().enumerate() {
                    if attribute.key.is_empty() {
                        return Err(ConfigError::at(
                            format!("{}::{index}::key", path("attributes")),
                            "attribute key missing",
                        ));
                    }
                }
                let conditions = info
                    .conditions
                    .iter()
                    .enumerate()
                    .map(|(index, condition)| {
                        BuiltinLanguage.parse_condition(context, condition).map_err(|error| {
                            ConfigError::at(
                                format!("{}::{index}", path("conditions")),
                                format!(
                                    "{error}; conditions are OTTL, of which Tributary evaluates \
                                     the subset the routing connector documents (attributes[\"k\"], \
                                     resource.attributes[\"k\"], name, ==, !=, and, or, not) \
                                     until OTTL arrives"
                                ),
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?;
                Ok(MetricDef {
                    name,
                    description: info.description,
                    attributes: info.attributes,
                    conditions,
                })
            })
            .collect()
    }

    /// Whether `item` meets one of the conditions (or there are none).
    fn matches(&self, item: &Item<'_>) -> Result<bool, EvalError> {
        if self.conditions.is_empty() {
            return Ok(true);
        }
        for condition in &self.conditions {
            if condition.matches(item)? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Attribute value combinations, keyed by their typed text, with their count.
type Combinations = BTreeMap<Vec<String>, (Vec<AnyValue>, u64)>;

/// The counts of one resource's items for a set of metric definitions.
pub(crate) struct Counter<'a> {
    defs: &'a [MetricDef],
    /// Per definition: each combination of attribute values (keyed by their typed text,
    /// so the integer 1 and the string "1" differ, as in Go) and its count.
    counts: Vec<Combinations>,
    /// Earliest and latest item timestamps seen (0: none).
    first: u64,
    last: u64,
}

impl<'a> Counter<'a> {
    pub(crate) fn new(defs: &'a [MetricDef]) -> Self {
        Counter {
            defs,
            counts: vec![BTreeMap::new(); defs.len()],
            first: 0,
            last: 0,
        }
    }

    /// Notes an item's timestamp: the counts cover the time from the earliest to the
    /// latest.
    pub(crate) fn saw_time(&mut self, unix_nano: u64) {
        if unix_nano == 0 {
            return;
        }
        if self.first == 0 || unix_nano < self.first {
            self.first = unix_nano;
        }
        self.last = self.last.max(unix_nano);
    }

    /// Counts `item` of a scope with `scope` attributes where it meets a metric's
    /// conditions: an attribute counted by is looked up on the item, then the scope, then
    /// the resource.
    pub(crate) fn count(&mut self, item: &Item<'_>, scope: &[KeyValue]) -> Result<(), EvalError> {
        'defs: for (def, counts) in self.defs.iter().zip(&mut self.counts) {
            let mut values = Vec::with_capacity(def.attributes.len());
            for attribute in &def.attributes {
                let default = attribute
                    .default_value
                    .as_ref()
                    .and_then(|d| d.to_any_value());
                let found = [item.attributes, scope, item.resource_attributes]
                    .into_iter()
                    .find_map(|attributes| attributes.get_value(&attribute.key));
                match found.or(default.as_ref()) {
                    Some(value) => values.push(count_attribute(value)),
                    // Without the attribute or a default the item is not counted here.
                    None => continue 'defs,
                }
            }
            if def.matches(item)? {
                let key = values.iter().map(typed_text).collect();
                counts.entry(key).or_insert_with(|| (values, 0)).1 += 1;
            }
        }
        Ok(())
    }

    /// Whether nothing was counted.
    pub(crate) fn is_empty(&self) -> bool {
        self.counts.iter().all(BTreeMap::is_empty)
    }

    /// The count metrics: monotonic delta sums, one data point per combination of
    /// attribute values, spanning the items' timestamps (`now` to `now` if they had none).
    pub(crate) fn append_metrics(&self, now: u64, out: &mut Vec<Metric>) {
        let (start, time) = if self.last == 0 {
            (now, now)
        } else {
            (self.first, self.last)
        };
        for (def, counts) in self.defs.iter().zip(&self.counts) {
            if counts.is_empty() {
                continue;
            }
            let data_points = counts
                .values()
                .map(|(values, count)| NumberDataPoint {
                    attributes: def
                        .attributes
                        .iter()
                        .zip(values)
                        .map(|(attribute, value)| KeyValue {
                            key: attribute.key.clone(),
                            value: Some(value.clone()),
                            ..KeyValue::default()
                        })
                        .collect(),
                    start_time_unix_nano: start,
                    time_unix_nano: time,
                    value: Some(Value::AsInt(i64::try_from(*count).unwrap_or(i64::MAX))),
                    ..NumberDataPoint::default()
                })
                .collect();
            out.push(Metric {
                name: def.name.clone(),
                description: def.description.clone(),
                data: Some(Data::Sum(Sum {
                    data_points,
                    aggregation_temporality: AggregationTemporality::Delta as i32,
                    is_monotonic: true,
                })),
                ..Metric::default()
            });
        }
    }
}
