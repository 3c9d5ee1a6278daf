//! Metrics to line protocol, as InfluxData's `otel2influx` (the Go exporter's converter)
//! writes them in the Telegraf Prometheus layouts; and the attribute values every layout
//! shares.

use std::collections::BTreeMap;

use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value,
};
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    HistogramDataPoint, NumberDataPoint, SummaryDataPoint, metric::Data, number_data_point,
};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;

use super::config::MetricsSchema;
use super::lines::{FieldValue, LineBuffer};

/// The measurement of the `telegraf-prometheus-v2` layout.
const PROMETHEUS: &str = "prometheus";

/// What became of a batch's data points.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Written {
    /// Points written as lines.
    pub points: usize,
    /// Points line protocol cannot carry: without a timestamp, of a kind the schema has
    /// no layout for (exponential histograms), or with no finite value.
    pub dropped: usize,
}

/// Writes every data point of `request` as lines of `schema`.
pub(crate) fn write_metrics(
    request: &ExportMetricsServiceRequest,
    schema: MetricsSchema,
    out: &mut LineBuffer,
) -> Written {
    let mut written = Written::default();
    for resource_metrics in &request.resource_metrics {
        for scope_metrics in &resource_metrics.scope_metrics {
            let context = Context {
                resource: resource_metrics.resource.as_ref(),
                scope: scope_metrics.scope.as_ref(),
                schema,
            };
            for metric in &scope_metrics.metrics {
                match &metric.data {
                    Some(Data::Gauge(gauge)) => {
                        for point in &gauge.data_points {
                            written.add(context.number(&metric.name, "gauge", point, out));
                        }
                    }
                    Some(Data::Sum(sum)) => {
                        // Only a monotonic sum is a counter; an up-down sum reads as a gauge.
                        let key = if sum.is_monotonic { "counter" } else { "gauge" };
                        for point in &sum.data_points {
                            written.add(context.number(&metric.name, key, point, out));
                        }
                    }
                    Some(Data::Histogram(histogram)) => {
                        for point in &histogram.data_points {
                            written.add(context.histogram(&metric.name, point, out));
                        }
                    }
                    Some(Data::Summary(summary)) => {
                        for point in &summary.data_points {
                            written.add(context.summary(&metric.name, point, out));
                        }
                    }
                    Some(Data::ExponentialHistogram(histogram)) => {
                        written.dropped += histogram.data_points.len();
                    }
                    None => {}
                }
            }
        }
    }
    written
}

impl Written {
    pub(super) fn add(&mut self, ok: bool) {
        if ok {
            self.points += 1;
        } else {
            self.dropped += 1;
        }
    }
}

/// What every point of one scope shares.
struct Context<'a> {
    resource: Option<&'a Resource>,
    scope: Option<&'a InstrumentationScope>,
    schema: MetricsSchema,
}

impl Context<'_> {
    /// A point's tags: its attributes, then the resource's (which win), then the scope's
    /// name and version; and its fields so far (`start_time_unix_nano`).
    fn tags_and_fields(
        &self,
        attributes: &[KeyValue],
        start: u64,
    ) -> (BTreeMap<String, String>, Vec<(String, FieldValue)>) {
        let mut tags = BTreeMap::new();
        let resource = self
            .resource
            .map(|r| r.attributes.as_slice())
            .unwrap_or_default();
        for kv in attributes.iter().chain(resource) {
            if let Some(value) = kv.value.as_ref().and_then(tag_value) {
                tags.insert(kv.key.clone(), value);
            }
        }
        if let Some(scope) = self.scope {
            if !scope.name.is_empty() {
                tags.insert("otel.library.name".into(), scope.name.clone());
            }
            if !scope.version.is_empty() {
                tags.insert("otel.library.version".into(), scope.version.clone());
            }
        }
        let mut fields = Vec::new();
        if start != 0 {
            fields.push(("start_time_unix_nano".into(), FieldValue::Int(start as i64)));
        }
        (tags, fields)
    }

    fn number(&self, name: &str, key: &str, point: &NumberDataPoint, out: &mut LineBuffer) -> bool {
        if point.time_unix_nano == 0 {
            return false;
        }
        let value = match point.value {
            Some(number_data_point::Value::AsDouble(d)) => FieldValue::Float(d),
            Some(number_data_point::Value::AsInt(i)) => FieldValue::Int(i),
            None => return false,
        };
        let (tags, mut fields) =
            self.tags_and_fields(&point.attributes, point.start_time_unix_nano);
        match self.schema {
            MetricsSchema::TelegrafPrometheusV1 => {
                fields.push((key.into(), value));
                out.push(name, &tags, &fields, point.time_unix_nano)
            }
            MetricsSchema::TelegrafPrometheusV2 => {
                fields.push((name.into(), value));
                out.push(PROMETHEUS, &tags, &fields, point.time_unix_nano)
            }
        }
    }

    fn histogram(&self, name: &str, point: &HistogramDataPoint, out: &mut LineBuffer) -> bool {
        let (bounds, counts) = (&point.explicit_bounds, &point.bucket_counts);
        // The overflow bucket has no line of its own: it may be missing.
        let consistent =
            counts.is_empty() || counts.len() == bounds.len() || counts.len() == bounds.len() + 1;
        if point.time_unix_nano == 0 || !consistent {
            return false;
        }
        let (tags, base) = self.tags_and_fields(&point.attributes, point.start_time_unix_nano);
        let cumulative = counts.iter().scan(0u64, |total, count| {
            *total = total.saturating_add(*count);
            Some(*total)
        });
        let buckets: Vec<(f64, u64)> = bounds.iter().copied().zip(cumulative).collect();
        let sum = point.sum.unwrap_or_default();
        let time = point.time_unix_nano;
        match self.schema {
            MetricsSchema::TelegrafPrometheusV1 => {
                let mut fields = base;
                fields.push(("count".into(), FieldValue::Float(point.count as f64)));
                fields.push(("sum".into(), FieldValue::Float(sum)));
                if let Some(min) = point.min {
                    fields.push(("min".into(), FieldValue::Float(min)));
                }
                if let Some(max) = point.max {
                    fields.push(("max".into(), FieldValue::Float(max)));
                }
                for (bound, count) in buckets {
                    fields.push((number_key(bound), FieldValue::Float(count as f64)));
                }
                out.push(name, &tags, &fields, time)
            }
            MetricsSchema::TelegrafPrometheusV2 => {
                let mut fields = base.clone();
                fields.push((
                    format!("{name}_count"),
                    FieldValue::Float(point.count as f64),
                ));
                fields.push((format!("{name}_sum"), FieldValue::Float(sum)));
                if let Some(min) = point.min {
                    fields.push((format!("{name}_min"), FieldValue::Float(min)));
                }
                if let Some(max) = point.max {
                    fields.push((format!("{name}_max"), FieldValue::Float(max)));
                }
                let mut ok = out.push(PROMETHEUS, &tags, &fields, time);
                for (bound, count) in buckets {
                    let mut tags = tags.clone();
                    tags.insert("le".into(), number_key(bound));
                    let mut fields = base.clone();
                    fields.push((format!("{name}_bucket"), FieldValue::Float(count as f64)));
                    ok &= out.push(PROMETHEUS, &tags, &fields, time);
                }
                ok
            }
        }
    }

    fn summary(&self, name: &str, point: &SummaryDataPoint, out: &mut LineBuffer) -> bool {
        if point.time_unix_nano == 0 {
            return false;
        }
        let (tags, base) = self.tags_and_fields(&point.attributes, point.start_time_unix_nano);
        let time = point.time_unix_nano;
        match self.schema {
            MetricsSchema::TelegrafPrometheusV1 => {
                let mut fields = base;
                fields.push(("count".into(), FieldValue::Float(point.count as f64)));
                fields.push(("sum".into(), FieldValue::Float(point.sum)));
                for q in &point.quantile_values {
                    fields.push((number_key(q.quantile), FieldValue::Float(q.value)));
                }
                out.push(name, &tags, &fields, time)
            }
            MetricsSchema::TelegrafPrometheusV2 => {
                let mut fields = base.clone();
                fields.push((
                    format!("{name}_count"),
                    FieldValue::Float(point.count as f64),
                ));
                fields.push((format!("{name}_sum"), FieldValue::Float(point.sum)));
                let mut ok = out.push(PROMETHEUS, &tags, &fields, time);
                for q in &point.quantile_values {
                    let mut tags = tags.clone();
                    tags.insert("quantile".into(), number_key(q.quantile));
                    let mut fields = base.clone();
                    fields.push((name.into(), FieldValue::Float(q.value)));
                    ok &= out.push(PROMETHEUS, &tags, &fields, time);
                }
                ok
            }
        }
    }
}

/// A bound or quantile as a field key or tag value: Go's `FormatFloat(f, 'f', -1, 64)`.
fn number_key(value: f64) -> String {
    if value.is_infinite() {
        return if value > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    format!("{value}")
}

/// An attribute's value as a tag: strings as they are, numbers and booleans in text,
/// bytes in base64, arrays and maps as JSON; an empty value is no tag.
pub(super) fn tag_value(value: &AnyValue) -> Option<String> {
    match value.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(s.clone()),
        any_value::Value::IntValue(i) => Some(i.to_string()),
        any_value::Value::DoubleValue(d) => Some(number_key(*d)),
        any_value::Value::BoolValue(b) => Some(b.to_string()),
        any_value::Value::BytesValue(b) => {
            use base64::Engine as _;
            Some(base64::engine::general_purpose::STANDARD.encode(b))
        }
        other => Some(json(other).to_string()),
    }
}

pub(super) fn json(value: &any_value::Value) -> serde_json::Value {
    use base64::Engine as _;
    match value {
        any_value::Value::StringValue(s) => s.clone().into(),
        any_value::Value::IntValue(i) => (*i).into(),
        any_value::Value::DoubleValue(d) => {
            serde_json::Number::from_f64(*d).map_or(serde_json::Value::Null, Into::into)
        }
        any_value::Value::BoolValue(b) => (*b).into(),
        any_value::Value::BytesValue(b) => {
            base64::engine::general_purpose::STANDARD.encode(b).into()
        }
        any_value::Value::ArrayValue(array) => array
            .values
            .iter()
            .map(|v| v.value.as_ref().map_or(serde_json::Value::Null, json))
            .collect(),
        any_value::Value::KvlistValue(list) => list
            .values
            .iter()
            .map(|kv| {
                let value = kv.value.as_ref().and_then(|v| v.value.as_ref());
                (kv.key.clone(), value.map_or(serde_json::Value::Null, json))
            })
            .collect::<serde_json::Map<_, _>>()
            .into(),
        // A reference into a dictionary this request does not carry.
        any_value::Value::StringValueStrindex(_) => serde_json::Value::Null,
    }
}
