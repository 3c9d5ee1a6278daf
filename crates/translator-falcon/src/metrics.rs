//! Falcon items ⇄ OTLP metrics; the mapping is in the [crate docs](crate).

use std::collections::{BTreeMap, HashMap};

use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::attributes::{AnyValueExt, key_value};
use tributary_pipeline_core::pdata::builder::{MetricsBuilder, Temporality};
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    AggregationTemporality, NumberDataPoint, metric, number_data_point,
};
use tributary_pipeline_core::pdata::value_text::as_string;

use crate::model::{CounterType, FalconItem};
use crate::tags::sanitize_tag;

/// The data point attribute that holds the item's endpoint.
pub const ENDPOINT_ATTRIBUTE: &str = "endpoint";

/// The data point attribute that holds the item's step, in seconds.
pub const STEP_ATTRIBUTE: &str = "step";

/// The resource attribute read for the endpoint when a point has no `endpoint`.
pub const HOST_NAME_ATTRIBUTE: &str = "host.name";

/// Items as one metrics batch: one resource, one scope (`scope_name`), a metric per
/// name and kind, a point per item, in the order first seen.
///
/// ```
/// use tributary_translator_falcon::{decode_push, items_to_metrics, metrics_to_items};
///
/// let push = decode_push(br#"[{"endpoint":"h","metric":"net.in","timestamp":1700000000,
///   "step":60,"value":42,"counterType":"COUNTER","tags":"iface=eth0"}]"#, 1_700_000_000)?;
/// let metrics = items_to_metrics(&push.items, "tributary/falcon");
/// assert_eq!(metrics.item_count(), 1);
/// let (items, dropped) = metrics_to_items(&metrics, 60);
/// assert_eq!((items, dropped), (push.items, 0));
/// # Ok::<(), tributary_translator_falcon::DecodeError>(())
/// ```
pub fn items_to_metrics(items: &[FalconItem], scope_name: &str) -> Metrics {
    let mut groups: Vec<(&str, bool, Vec<&FalconItem>)> = Vec::new();
    let mut index: HashMap<(&str, bool), usize> = HashMap::new();
    for item in items {
        let counter = item.counter_type != CounterType::Gauge;
        let key = (item.metric.as_str(), counter);
        let at = *index.entry(key).or_insert_with(|| {
            groups.push((key.0, counter, Vec::new()));
            groups.len() - 1
        });
        groups[at].2.push(item);
    }
    let mut builder = MetricsBuilder::new();
    builder.resource(Vec::new()).scope(scope_name, "");
    for (name, counter, items) in groups {
        if counter {
            let mut sum = builder.sum(name, "", Temporality::Cumulative, true);
            for item in items {
                sum.double(attributes(item), 0, nanos(item.timestamp), item.value);
            }
        } else {
            let mut gauge = builder.gauge(name, "");
            for item in items {
                gauge.double(attributes(item), nanos(item.timestamp), item.value);
            }
        }
    }
    builder.build()
}

fn attributes(item: &FalconItem) -> Vec<KeyValue> {
    let mut attributes: Vec<KeyValue> = item
        .tags
        .iter()
        .filter(|(k, _)| k.as_str() != ENDPOINT_ATTRIBUTE && k.as_str() != STEP_ATTRIBUTE)
        .map(|(k, v)| key_value(k.as_str(), v.as_str()))
        .collect();
    attributes.push(key_value(ENDPOINT_ATTRIBUTE, item.endpoint.as_str()));
    attributes.push(key_value(STEP_ATTRIBUTE, item.step));
    attributes
}

fn nanos(seconds: i64) -> u64 {
    u64::try_from(seconds)
        .unwrap_or(0)
        .saturating_mul(1_000_000_000)
}

/// Falcon items for the gauges and sums of `metrics` (see [the mapping](crate#the-mapping)), and
/// how many points were left out (no endpoint, no value, or a type Falcon cannot hold).
/// `default_step` is the step of points without a `step` attribute. A point without a
/// time gets the current time.
pub fn metrics_to_items(metrics: &Metrics, default_step: i64) -> (Vec<FalconItem>, usize) {
    let now = tributary_pipeline_core::pdata::builder::now_unix_nano();
    let mut items = Vec::new();
    let mut dropped = 0;
    for rm in &metrics.request().resource_metrics {
        let host = rm.resource.as_ref().and_then(|r| {
            r.attributes
                .iter()
                .find(|kv| kv.key == HOST_NAME_ATTRIBUTE)
                .and_then(|kv| kv.value.as_ref())
                .map(|v| as_string(Some(v)))
        });
        for sm in &rm.scope_metrics {
            for m in &sm.metrics {
                let (points, counter_type): (&[NumberDataPoint], CounterType) = match &m.data {
                    Some(metric::Data::Gauge(g)) => (&g.data_points, CounterType::Gauge),
                    Some(metric::Data::Sum(s)) => {
                        let cumulative =
                            s.aggregation_temporality == AggregationTemporality::Cumulative as i32;
                        let kind = if cumulative && s.is_monotonic {
                            CounterType::Counter
                        } else {
                            CounterType::Gauge
                        };
                        (&s.data_points, kind)
                    }
                    Some(metric::Data::Histogram(h)) => {
                        dropped += h.data_points.len();
                        continue;
                    }
                    Some(metric::Data::ExponentialHistogram(h)) => {
                        dropped += h.data_points.len();
                        continue;
                    }
                    Some(metric::Data::Summary(s)) => {
                        dropped += s.data_points.len();
                        continue;
                    }
                    None => continue,
                };
                for point in points {
                    match item(
                        &m.name,
                        point,
                        counter_type,
                        host.as_deref(),
                        default_step,
                        now,
                    ) {
                        Some(item) => items.push(item),
                        None => dropped += 1,
                    }
                }
            }
        }
    }
    (items, dropped)
}

fn item(
    name: &str,
    point: &NumberDataPoint,
    counter_type: CounterType,
    host: Option<&str>,
    default_step: i64,
    now: u64,
) -> Option<FalconItem> {
    let value = match point.value? {
        number_data_point::Value::AsDouble(v) => v,
        number_data_point::Value::AsInt(v) => v as f64,
    };
    let mut endpoint = host.map(str::to_owned);
    let mut step = default_step;
    let mut tags = BTreeMap::new();
    for kv in &point.attributes {
        match kv.key.as_str() {
            ENDPOINT_ATTRIBUTE => endpoint = Some(as_string(kv.value.as_ref())),
            STEP_ATTRIBUTE => {
                let value = kv.value.as_ref();
                step = value
                    .and_then(|v| v.as_int())
                    .or_else(|| value.and_then(|v| v.as_str()).and_then(|s| s.parse().ok()))
                    .filter(|s| *s > 0)
                    .unwrap_or(default_step);
            }
            key => {
                tags.insert(
                    sanitize_tag(key, true),
                    sanitize_tag(&as_string(kv.value.as_ref()), false),
                );
            }
        }
    }
    let endpoint = endpoint.filter(|e| !e.is_empty())?;
    let time = if point.time_unix_nano == 0 {
        now
    } else {
        point.time_unix_nano
    };
    Some(FalconItem {
        endpoint,
        metric: name.to_owned(),
        tags,
        value,
        timestamp: i64::try_from(time / 1_000_000_000).unwrap_or(i64::MAX),
        step,
        counter_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_falls_back_to_host_name_and_unsupported_points_are_counted() {
        let mut builder = MetricsBuilder::new();
        builder.resource(vec![key_value("host.name", "web-1")]);
        builder
            .gauge("load", "")
            .int(vec![key_value("a b", "x,y")], 5_000_000_000, 3);
        builder.sum("req", "", Temporality::Delta, true).int(
            vec![key_value("step", "30")],
            0,
            5_000_000_000,
            1,
        );
        builder
            .histogram("lat", "", Temporality::Cumulative)
            .point(
                vec![],
                0,
                1,
                tributary_pipeline_core::pdata::builder::HistogramValue::new(vec![], vec![1]),
            )
            .unwrap();
        let (items, dropped) = metrics_to_items(&builder.build(), 60);
        assert_eq!(dropped, 1);
        assert_eq!(items[0].endpoint, "web-1");
        assert_eq!(items[0].tags["ab"], "x_y");
        assert_eq!(items[0].timestamp, 5);
        assert_eq!(
            (items[1].counter_type, items[1].step),
            (CounterType::Gauge, 30)
        );
    }
}
