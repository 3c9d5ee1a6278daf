//! Metrics as flat samples — a name, string tags, a time and one number — the model of
//! SOFALookout's stores, which the `lookout` exporter and the `elasticsearch` exporter's
//! `lookout` layout write.

use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    AggregationTemporality, DataPointFlags, metric::Data, number_data_point,
};
use tributary_pipeline_core::pdata::value_text::as_string;

/// One flat sample.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FlatSample {
    /// The metric name, with a histogram's or summary's `.count`, `.sum`, `.min`, `.max`.
    pub(crate) name: String,
    /// Resource attributes then point attributes (a point's wins), as text.
    pub(crate) tags: Vec<(String, String)>,
    /// Milliseconds since the Unix epoch.
    pub(crate) time_ms: i64,
    /// The value; always finite.
    pub(crate) value: f64,
    /// Whether it is what a delta monotonic sum counted over its interval (Lookout's
    /// counter `count`).
    pub(crate) delta: bool,
}

/// The flat samples of a batch, and how many points had nothing to write (no recorded
/// value, or not a finite number).
pub(crate) fn flat_samples(metrics: &Metrics) -> (Vec<FlatSample>, usize) {
    let mut out = Vec::new();
    let mut skipped = 0;
    for resource in &metrics.request().resource_metrics {
        let resource_attrs = resource
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or_default();
        for scope in &resource.scope_metrics {
            for metric in &scope.metrics {
                let mut push = |suffix: &str,
                                attrs: &[KeyValue],
                                time: u64,
                                flags: u32,
                                value: f64,
                                delta: bool| {
                    if flags & DataPointFlags::NoRecordedValueMask as u32 != 0 || !value.is_finite()
                    {
                        skipped += 1;
                        return;
                    }
                    out.push(FlatSample {
                        name: format!("{}{suffix}", metric.name),
                        tags: tags(resource_attrs, attrs),
                        time_ms: (time / 1_000_000) as i64,
                        value,
                        delta,
                    });
                };
                match &metric.data {
                    Some(Data::Gauge(gauge)) => {
                        for p in &gauge.data_points {
                            push(
                                "",
                                &p.attributes,
                                p.time_unix_nano,
                                p.flags,
                                number(&p.value),
                                false,
                            );
                        }
                    }
                    Some(Data::Sum(sum)) => {
                        let delta = sum.is_monotonic
                            && sum.aggregation_temporality == AggregationTemporality::Delta as i32;
                        for p in &sum.data_points {
                            push(
                                "",
                                &p.attributes,
                                p.time_unix_nano,
                                p.flags,
                                number(&p.value),
                                delta,
                            );
                        }
                    }
                    Some(Data::Histogram(histogram)) => {
                        let delta = histogram.aggregation_temporality
                            == AggregationTemporality::Delta as i32;
                        for p in &histogram.data_points {
                            let (a, t, f) = (&p.attributes, p.time_unix_nano, p.flags);
                            push(".count", a, t, f, p.count as f64, delta);
                            if let Some(sum) = p.sum {
                                push(".sum", a, t, f, sum, delta);
                            }
                            if let Some(min) = p.min {
                                push(".min", a, t, f, min, false);
                            }
                            if let Some(max) = p.max {
                                push(".max", a, t, f, max, false);
                            }
                        }
                    }
                    Some(Data::ExponentialHistogram(histogram)) => {
                        let delta = histogram.aggregation_temporality
                            == AggregationTemporality::Delta as i32;
                        for p in &histogram.data_points {
                            let (a, t, f) = (&p.attributes, p.time_unix_nano, p.flags);
                            push(".count", a, t, f, p.count as f64, delta);
                            if let Some(sum) = p.sum {
                                push(".sum", a, t, f, sum, delta);
                            }
                        }
                    }
                    Some(Data::Summary(summary)) => {
                        for p in &summary.data_points {
                            let (a, t, f) = (&p.attributes, p.time_unix_nano, p.flags);
                            push(".count", a, t, f, p.count as f64, false);
                            push(".sum", a, t, f, p.sum, false);
                        }
                    }
                    None => {}
                }
            }
        }
    }
    (out, skipped)
}

fn number(value: &Option<number_data_point::Value>) -> f64 {
    match value {
        Some(number_data_point::Value::AsDouble(v)) => *v,
        Some(number_data_point::Value::AsInt(v)) => *v as f64,
        None => f64::NAN,
    }
}

fn tags(resource: &[KeyValue], point: &[KeyValue]) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = Vec::with_capacity(resource.len() + point.len());
    for kv in resource.iter().chain(point) {
        let value = as_string(kv.value.as_ref());
        match tags.iter_mut().find(|(k, _)| *k == kv.key) {
            Some(slot) => slot.1 = value,
            None => tags.push((kv.key.clone(), value)),
        }
    }
    tags
}
