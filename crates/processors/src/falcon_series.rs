//! What the Falcon processors (`falcon_rate`, `falcon_align`, `falcon_nodata`) share: a
//! series' identity and its step.
//!
//! Open-Falcon names a series by `endpoint/metric/sorted tags` and keeps its step and
//! counter type in the RRD file name, so a changed step or type starts a new series
//! (seed-systems §1.5). Here a series is its resource attributes, its metric name and its
//! data point attributes; the `falcon` receiver keeps `step` (and the tags) as data point
//! attributes, so the same rule holds.

use std::fmt::Write;
use std::time::Duration;

use tributary_pipeline_core::pdata::attributes::Attributes;
use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, KeyValue, any_value};

/// A series' identity as one string: the resource attributes, the metric name and the
/// data point attributes, each attribute list sorted by key, so the order a peer sent the
/// attributes in does not matter.
pub(crate) fn series_key(resource: &[KeyValue], metric: &str, point: &[KeyValue]) -> String {
    let mut key = String::with_capacity(64);
    push_sorted(&mut key, resource);
    key.push('\u{1}');
    key.push_str(metric);
    key.push('\u{1}');
    push_sorted(&mut key, point);
    key
}

fn push_sorted(out: &mut String, attributes: &[KeyValue]) {
    let mut sorted: Vec<&KeyValue> = attributes.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    for kv in sorted {
        // Debug of the value keeps its type: the int 1 and the string "1" differ.
        let _ = write!(out, "{}\u{2}{:?}\u{3}", kv.key, kv.value);
    }
}

/// The step, in whole seconds, that the attribute `key` holds: an integer, a double or a
/// decimal string (`"60"`), as the `falcon` receiver or a Falcon agent writes it. `None`
/// when the attribute is absent or not a positive number.
pub(crate) fn step_of(attributes: &[KeyValue], key: &str) -> Option<u64> {
    let value = attributes.get_value(key)?;
    let seconds = match &value.value {
        Some(any_value::Value::IntValue(i)) => *i,
        Some(any_value::Value::DoubleValue(d)) if d.is_finite() => *d as i64,
        Some(any_value::Value::StringValue(s)) => s.trim().parse().ok()?,
        _ => return None,
    };
    (seconds > 0).then_some(seconds as u64)
}

/// Checks that a step in a config is a whole number of seconds, at least one.
pub(crate) fn whole_seconds(step: Duration) -> Result<u64, String> {
    if step.subsec_nanos() != 0 || step.as_secs() == 0 {
        return Err(format!(
            "must be a whole number of seconds, at least 1s (Falcon steps are seconds), found {step:?}"
        ));
    }
    Ok(step.as_secs())
}

/// An attribute value as the string a selector compares with: strings as they are, other
/// scalars as they print (`60`, `true`).
pub(crate) fn value_text(value: &AnyValue) -> Option<String> {
    Some(match value.value.as_ref()? {
        any_value::Value::StringValue(s) => s.clone(),
        any_value::Value::IntValue(i) => i.to_string(),
        any_value::Value::DoubleValue(d) => d.to_string(),
        any_value::Value::BoolValue(b) => b.to_string(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tributary_pipeline_core::pdata::attributes::key_value;

    #[test]
    fn the_key_ignores_attribute_order_and_keeps_types() {
        let a = series_key(
            &[key_value("host", "h1")],
            "qps",
            &[key_value("idc", "lg"), key_value("step", 60)],
        );
        let b = series_key(
            &[key_value("host", "h1")],
            "qps",
            &[key_value("step", 60), key_value("idc", "lg")],
        );
        let c = series_key(
            &[key_value("host", "h1")],
            "qps",
            &[key_value("step", "60"), key_value("idc", "lg")],
        );
        assert_eq!(a, b);
        assert_ne!(a, c, "a changed step type is another series");
    }

    #[test]
    fn steps_read_from_ints_doubles_and_strings() {
        assert_eq!(step_of(&[key_value("step", 60)], "step"), Some(60));
        assert_eq!(step_of(&[key_value("step", 30.0)], "step"), Some(30));
        assert_eq!(step_of(&[key_value("step", " 10 ")], "step"), Some(10));
        assert_eq!(step_of(&[key_value("step", 0)], "step"), None);
        assert_eq!(step_of(&[key_value("step", "x")], "step"), None);
        assert_eq!(step_of(&[], "step"), None);
    }
}
