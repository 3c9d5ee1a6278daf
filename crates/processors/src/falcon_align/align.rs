//! Step alignment as Falcon transfer does it (seed-systems §1.5): the step is clamped to
//! `min_step`, then `ts = ts - ts % step`.

use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::attributes::AttributesMut;
use tributary_pipeline_core::pdata::data_point::{DataPointMut, DataPointRef};
use tributary_pipeline_core::pdata::proto::common::v1::{KeyValue, any_value};

use super::Config;
use crate::falcon_series::step_of;

const NANOS: u64 = 1_000_000_000;

/// The config, compiled.
#[derive(Clone, Debug)]
pub(crate) struct Alignment {
    step_attribute: String,
    default_step: u64,
    min_step: u64,
    metrics: Vec<String>,
}

/// What aligning one point does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Edit {
    time_unix_nano: u64,
    /// The clamped step, when the point's step attribute must say it.
    step: Option<u64>,
}

impl Alignment {
    pub(crate) fn new(config: &Config) -> Self {
        Alignment {
            step_attribute: config.step_attribute.clone(),
            default_step: config.default_step.as_secs(),
            min_step: config.min_step.as_secs(),
            metrics: config.metrics.clone(),
        }
    }

    /// The point's aligned time and clamped step, `None` when nothing changes.
    fn edit(&self, metric: &str, attributes: &[KeyValue], time_unix_nano: u64) -> Option<Edit> {
        if !self.metrics.is_empty() && !self.metrics.iter().any(|m| m == metric) {
            return None;
        }
        let declared = if self.step_attribute.is_empty() {
            None
        } else {
            step_of(attributes, &self.step_attribute)
        };
        let step = declared.unwrap_or(self.default_step);
        if step == 0 {
            return None;
        }
        let clamped = step.max(self.min_step);
        let step_nanos = clamped.saturating_mul(NANOS);
        let aligned = time_unix_nano - time_unix_nano % step_nanos;
        // Rewrite the attribute only where it held a smaller step: transfer hands graph
        // the clamped step, and the step names the series.
        let step = (declared.is_some() && clamped != step).then_some(clamped);
        (aligned != time_unix_nano || step.is_some()).then_some(Edit {
            time_unix_nano: aligned,
            step,
        })
    }

    /// Aligns every data point of `metrics` (of every kind); returns how many changed.
    pub(crate) fn align(&self, metrics: &mut Metrics) -> usize {
        let edit = |origin: tributary_pipeline_core::pdata::visit::Origin<'_>,
                    point: DataPointRef<'_>| {
            self.edit(
                origin.metric_name(),
                point.attributes(),
                point.time_unix_nano(),
            )
        };
        metrics.update_data_points(
            |origin, point| edit(origin, point).is_some(),
            |origin, mut point| {
                let Some(change) = edit(origin, point.as_ref()) else {
                    return;
                };
                if let Some(step) = change.step {
                    let attributes = point.attributes_mut();
                    // Keep the attribute's type: a string step stays a string.
                    let value = match attributes
                        .iter()
                        .find(|kv| kv.key == self.step_attribute)
                        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
                    {
                        Some(any_value::Value::StringValue(_)) => {
                            any_value::Value::StringValue(step.to_string())
                        }
                        Some(any_value::Value::DoubleValue(_)) => {
                            any_value::Value::DoubleValue(step as f64)
                        }
                        _ => any_value::Value::IntValue(step as i64),
                    };
                    attributes.upsert_attribute(
                        &self.step_attribute,
                        tributary_pipeline_core::pdata::proto::common::v1::AnyValue {
                            value: Some(value),
                        },
                    );
                }
                match point {
                    DataPointMut::Gauge(p) | DataPointMut::Sum(p) => {
                        p.time_unix_nano = change.time_unix_nano
                    }
                    DataPointMut::Histogram(p) => p.time_unix_nano = change.time_unix_nano,
                    DataPointMut::ExponentialHistogram(p) => {
                        p.time_unix_nano = change.time_unix_nano
                    }
                    DataPointMut::Summary(p) => p.time_unix_nano = change.time_unix_nano,
                }
            },
        )
    }
}
