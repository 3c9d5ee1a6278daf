//! Telemetry to line protocol, as InfluxData's `otel2influx` (the Go exporter's
//! converter) writes it: metrics in the Telegraf Prometheus layouts, logs as `logs`,
//! spans as `spans` (their events as `logs`, their links as `span-links`).

use std::collections::BTreeMap;

use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value,
};
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    HistogramDataPoint, NumberDataPoint, SummaryDataPoint, metric::Data, number_data_point,
};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::proto::trace::v1::Span;

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
    fn add(&mut self, ok: bool) {
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
fn tag_value(value: &AnyValue) -> Option<String> {
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

fn json(value: &any_value::Value) -> serde_json::Value {
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

/// Writes every log record of `request` as a line of measurement `logs`, as
/// `otel2influx` does: attributes named in `dimensions` (from the resource, the scope or
/// the record) are tags, the others one JSON field `attributes`; the trace and span IDs
/// are tags; body, severity and observed time are fields. A record without a time gets
/// `now`.
pub(crate) fn write_logs(
    request: &ExportLogsServiceRequest,
    dimensions: &[String],
    now_unix_nano: u64,
    out: &mut LineBuffer,
) -> Written {
    let mut written = Written::default();
    for resource_logs in &request.resource_logs {
        let resource = resource_logs
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or_default();
        for scope_logs in &resource_logs.scope_logs {
            let scope = scope_logs
                .scope
                .as_ref()
                .map(|s| s.attributes.as_slice())
                .unwrap_or_default();
            for record in &scope_logs.log_records {
                let mut tags = BTreeMap::new();
                let mut fields = Vec::new();
                if record.observed_time_unix_nano != 0 {
                    fields.push((
                        "observed_time_unix_nano".into(),
                        FieldValue::Int(record.observed_time_unix_nano as i64),
                    ));
                }
                if is_set(&record.trace_id) && is_set(&record.span_id) {
                    tags.insert("trace_id".into(), hex(&record.trace_id));
                    tags.insert("span_id".into(), hex(&record.span_id));
                }
                if record.severity_number != 0 {
                    fields.push((
                        "severity_number".into(),
                        FieldValue::Int(record.severity_number.into()),
                    ));
                }
                if !record.severity_text.is_empty() {
                    fields.push((
                        "severity_text".into(),
                        FieldValue::Str(record.severity_text.clone()),
                    ));
                }
                let body = record.body.as_ref().and_then(tag_value).unwrap_or_default();
                fields.push(("body".into(), FieldValue::Str(body)));
                let mut dropped = u64::from(record.dropped_attributes_count);
                let mut others = serde_json::Map::new();
                for kv in resource.iter().chain(scope).chain(&record.attributes) {
                    if kv.key.is_empty() {
                        continue;
                    }
                    let value = kv.value.as_ref().and_then(|v| v.value.as_ref());
                    if dimensions.contains(&kv.key) {
                        let text = kv.value.as_ref().and_then(tag_value).unwrap_or_default();
                        tags.insert(kv.key.clone(), text);
                    } else {
                        others.insert(kv.key.clone(), value.map_or(serde_json::Value::Null, json));
                    }
                }
                if !others.is_empty() {
                    fields.push((
                        "attributes".into(),
                        FieldValue::Str(serde_json::Value::Object(others).to_string()),
                    ));
                }
                // A field named as a tag would be ambiguous: the tag wins, as in Go.
                fields.retain(|(key, _)| {
                    let clash = tags.contains_key(key);
                    dropped += u64::from(clash);
                    !clash
                });
                if dropped > 0 {
                    fields.push((
                        "dropped_attributes_count".into(),
                        FieldValue::Int(dropped as i64),
                    ));
                }
                let time = if record.time_unix_nano != 0 {
                    record.time_unix_nano
                } else {
                    now_unix_nano
                };
                written.add(out.push("logs", &tags, &fields, time));
            }
        }
    }
    written
}

fn is_set(id: &[u8]) -> bool {
    id.iter().any(|b| *b != 0)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes every span of `request` as a line of measurement `spans`, its events as `logs`
/// lines and its links as `span-links` lines, as `otel2influx` does: `trace_id`,
/// `span_id` and the `span_dimensions` (attributes of the resource, scope or span, and
/// `span.name`/`span.kind`) are tags; the other attributes one JSON field `attributes`.
/// A span without IDs or a start time cannot be written: counted as dropped.
pub(crate) fn write_traces(
    request: &ExportTraceServiceRequest,
    dimensions: &[String],
    out: &mut LineBuffer,
) -> Written {
    let mut written = Written::default();
    for resource_spans in &request.resource_spans {
        let resource = resource_spans
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or_default();
        for scope_spans in &resource_spans.scope_spans {
            let scope = scope_spans
                .scope
                .as_ref()
                .map(|s| s.attributes.as_slice())
                .unwrap_or_default();
            for span in &scope_spans.spans {
                written.add(write_span(span, resource, scope, dimensions, out));
            }
        }
    }
    written
}

fn write_span(
    span: &Span,
    resource: &[KeyValue],
    scope: &[KeyValue],
    dimensions: &[String],
    out: &mut LineBuffer,
) -> bool {
    if !is_set(&span.trace_id) || !is_set(&span.span_id) || span.start_time_unix_nano == 0 {
        return false;
    }
    let ids = || {
        BTreeMap::from([
            ("trace_id".to_string(), hex(&span.trace_id)),
            ("span_id".to_string(), hex(&span.span_id)),
        ])
    };
    let mut tags = ids();
    let mut fields = Vec::new();
    if !span.trace_state.is_empty() {
        fields.push((
            "trace_state".into(),
            FieldValue::Str(span.trace_state.clone()),
        ));
    }
    if is_set(&span.parent_span_id) {
        fields.push((
            "parent_span_id".into(),
            FieldValue::Str(hex(&span.parent_span_id)),
        ));
    }
    if !span.name.is_empty() {
        fields.push(("span.name".into(), FieldValue::Str(span.name.clone())));
    }
    if let Some(kind) = span_kind(span.kind) {
        fields.push(("span.kind".into(), FieldValue::Str(kind.into())));
    }
    if span.end_time_unix_nano != 0 {
        fields.push((
            "end_time_unix_nano".into(),
            FieldValue::Int(span.end_time_unix_nano as i64),
        ));
        let duration = span.end_time_unix_nano as i64 - span.start_time_unix_nano as i64;
        fields.push(("duration_nano".into(), FieldValue::Int(duration)));
    }
    let mut others = serde_json::Map::new();
    for kv in resource.iter().chain(scope).chain(&span.attributes) {
        if kv.key.is_empty() {
            continue;
        }
        if dimensions.contains(&kv.key) {
            let text = kv.value.as_ref().and_then(tag_value).unwrap_or_default();
            tags.insert(kv.key.clone(), text);
        } else {
            let value = kv.value.as_ref().and_then(|v| v.value.as_ref());
            others.insert(kv.key.clone(), value.map_or(serde_json::Value::Null, json));
        }
    }
    if !others.is_empty() {
        fields.push((
            "attributes".into(),
            FieldValue::Str(serde_json::Value::Object(others).to_string()),
        ));
    }
    // Dimensions among the span's own fields (`span.name`, `span.kind`) are tags.
    fields.retain(|(key, value)| match value {
        FieldValue::Str(text) if dimensions.contains(key) => {
            tags.insert(key.clone(), text.clone());
            false
        }
        _ => true,
    });
    let counts = [
        ("dropped_attributes_count", span.dropped_attributes_count),
        ("dropped_events_count", span.dropped_events_count),
        ("dropped_links_count", span.dropped_links_count),
    ];
    for (key, count) in counts {
        if count > 0 {
            fields.push((key.into(), FieldValue::Int(count.into())));
        }
    }
    if let Some(status) = &span.status {
        match status.code {
            1 => fields.push(("otel.status_code".into(), FieldValue::Str("Ok".into()))),
            2 => fields.push(("otel.status_code".into(), FieldValue::Str("Error".into()))),
            _ => {}
        }
        if !status.message.is_empty() {
            fields.push((
                "otel.status_description".into(),
                FieldValue::Str(status.message.clone()),
            ));
        }
    }
    let written = out.push("spans", &tags, &fields, span.start_time_unix_nano);
    for event in &span.events {
        let mut fields = Vec::new();
        if !event.name.is_empty() {
            fields.push(("event.name".into(), FieldValue::Str(event.name.clone())));
        }
        push_attributes(
            &mut fields,
            &event.attributes,
            event.dropped_attributes_count,
        );
        let time = if event.time_unix_nano != 0 {
            event.time_unix_nano
        } else {
            span.start_time_unix_nano
        };
        out.push("logs", &ids(), &fields, time);
    }
    for link in span
        .links
        .iter()
        .filter(|l| is_set(&l.trace_id) && is_set(&l.span_id))
    {
        let mut tags = ids();
        tags.insert("linked_trace_id".into(), hex(&link.trace_id));
        tags.insert("linked_span_id".into(), hex(&link.span_id));
        let mut fields = Vec::new();
        if !link.trace_state.is_empty() {
            fields.push((
                "trace_state".into(),
                FieldValue::Str(link.trace_state.clone()),
            ));
        }
        push_attributes(&mut fields, &link.attributes, link.dropped_attributes_count);
        out.push("span-links", &tags, &fields, span.start_time_unix_nano);
    }
    written
}

/// An event's or link's attributes as one JSON field, and its dropped count.
fn push_attributes(fields: &mut Vec<(String, FieldValue)>, attributes: &[KeyValue], dropped: u32) {
    let object: serde_json::Map<String, serde_json::Value> = attributes
        .iter()
        .filter(|kv| !kv.key.is_empty())
        .map(|kv| {
            let value = kv.value.as_ref().and_then(|v| v.value.as_ref());
            (kv.key.clone(), value.map_or(serde_json::Value::Null, json))
        })
        .collect();
    if !object.is_empty() {
        fields.push((
            "attributes".into(),
            FieldValue::Str(serde_json::Value::Object(object).to_string()),
        ));
    }
    if dropped > 0 {
        fields.push((
            "dropped_attributes_count".into(),
            FieldValue::Int(dropped.into()),
        ));
    }
}

/// The span kind as pdata names it.
fn span_kind(kind: i32) -> Option<&'static str> {
    match kind {
        1 => Some("Internal"),
        2 => Some("Server"),
        3 => Some("Client"),
        4 => Some("Producer"),
        5 => Some("Consumer"),
        _ => None,
    }
}
