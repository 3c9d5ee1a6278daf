//! `verbosity: detailed`: every field of every item, in the Go Collector's debug exporter
//! layout (its `otlptext` format).
//!
//! ```text
//! ResourceSpans #0
//! Resource SchemaURL: https://opentelemetry.io/schemas/1.25.0
//! Resource attributes:
//!      -> service.name: Str(checkout)
//! ScopeSpans #0
//! ...
//! Span #0
//!     Trace ID       : abababababababababababababababab
//!     Parent ID      :
//! ```

use std::fmt::Write as _;

use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    Exemplar, ExponentialHistogramDataPoint, HistogramDataPoint, Metric, NumberDataPoint,
    SummaryDataPoint, exemplar, metric, number_data_point,
};

use super::values::{fixed, hex, severity, span_kind, status_code, temporality, timestamp, typed};

/// Appends one line.
macro_rules! line {
    ($out:expr, $($arg:tt)*) => {{
        let _ = writeln!($out, $($arg)*);
    }};
}

/// `    Name           : value` (the name padded to 15).
fn field(out: &mut String, name: &str, value: &str) {
    line!(out, "    {name:<15}: {value}");
}

/// A header and one `-> key: Type(value)` line per attribute; nothing without attributes.
/// A header like `     -> Attributes` indents its entries by its own indentation.
fn attributes(out: &mut String, header: &str, attributes: &[KeyValue]) {
    if attributes.is_empty() {
        return;
    }
    line!(out, "{header}:");
    let indent = header
        .split("->")
        .next()
        .filter(|_| header.contains("->"))
        .unwrap_or("");
    for kv in attributes {
        line!(
            out,
            "{indent}     -> {}: {}",
            kv.key,
            typed(kv.value.as_ref())
        );
    }
}

fn scope(out: &mut String, scope: Option<&InstrumentationScope>) {
    let (name, version, attrs) = scope.map_or(("", "", &[][..]), |s| {
        (s.name.as_str(), s.version.as_str(), &s.attributes[..])
    });
    line!(out, "InstrumentationScope {name} {version}");
    attributes(out, "InstrumentationScope attributes", attrs);
}

/// Every span with its events and links.
pub(crate) fn traces(request: &ExportTraceServiceRequest, out: &mut String) {
    for (i, resource_spans) in request.resource_spans.iter().enumerate() {
        line!(out, "ResourceSpans #{i}");
        line!(out, "Resource SchemaURL: {}", resource_spans.schema_url);
        if let Some(resource) = &resource_spans.resource {
            attributes(out, "Resource attributes", &resource.attributes);
        }
        for (j, scope_spans) in resource_spans.scope_spans.iter().enumerate() {
            line!(out, "ScopeSpans #{j}");
            line!(out, "ScopeSpans SchemaURL: {}", scope_spans.schema_url);
            scope(out, scope_spans.scope.as_ref());
            for (k, span) in scope_spans.spans.iter().enumerate() {
                line!(out, "Span #{k}");
                field(out, "Trace ID", &hex(&span.trace_id));
                field(out, "Parent ID", &hex(&span.parent_span_id));
                field(out, "ID", &hex(&span.span_id));
                field(out, "Name", &span.name);
                field(out, "Kind", span_kind(span.kind));
                if !span.trace_state.is_empty() {
                    field(out, "TraceState", &span.trace_state);
                }
                field(out, "Start time", &timestamp(span.start_time_unix_nano));
                field(out, "End time", &timestamp(span.end_time_unix_nano));
                let (code, message) = span
                    .status
                    .as_ref()
                    .map_or((0, ""), |s| (s.code, s.message.as_str()));
                field(out, "Status code", status_code(code));
                field(out, "Status message", message);
                field(
                    out,
                    "DroppedAttributesCount",
                    &span.dropped_attributes_count.to_string(),
                );
                field(
                    out,
                    "DroppedEventsCount",
                    &span.dropped_events_count.to_string(),
                );
                field(
                    out,
                    "DroppedLinksCount",
                    &span.dropped_links_count.to_string(),
                );
                attributes(out, "Attributes", &span.attributes);
                if !span.events.is_empty() {
                    line!(out, "Events:");
                    for (e, event) in span.events.iter().enumerate() {
                        line!(out, "SpanEvent #{e}");
                        line!(out, "     -> Name: {}", event.name);
                        line!(
                            out,
                            "     -> Timestamp: {}",
                            timestamp(event.time_unix_nano)
                        );
                        line!(
                            out,
                            "     -> DroppedAttributesCount: {}",
                            event.dropped_attributes_count
                        );
                        attributes(out, "     -> Attributes", &event.attributes);
                    }
                }
                if !span.links.is_empty() {
                    line!(out, "Links:");
                    for (l, link) in span.links.iter().enumerate() {
                        line!(out, "SpanLink #{l}");
                        line!(out, "     -> Trace ID: {}", hex(&link.trace_id));
                        line!(out, "     -> ID: {}", hex(&link.span_id));
                        line!(out, "     -> TraceState: {}", link.trace_state);
                        line!(
                            out,
                            "     -> DroppedAttributesCount: {}",
                            link.dropped_attributes_count
                        );
                        attributes(out, "     -> Attributes", &link.attributes);
                    }
                }
            }
        }
    }
}

fn exemplars(out: &mut String, exemplars: &[Exemplar]) {
    if exemplars.is_empty() {
        return;
    }
    line!(out, "Exemplars:");
    for (i, exemplar) in exemplars.iter().enumerate() {
        line!(out, "Exemplar #{i}");
        line!(out, "     -> Trace ID: {}", hex(&exemplar.trace_id));
        line!(out, "     -> Span ID: {}", hex(&exemplar.span_id));
        line!(
            out,
            "     -> Timestamp: {}",
            timestamp(exemplar.time_unix_nano)
        );
        match exemplar.value {
            Some(exemplar::Value::AsInt(v)) => line!(out, "     -> Value: {v}"),
            Some(exemplar::Value::AsDouble(v)) => line!(out, "     -> Value: {}", fixed(v)),
            None => {}
        }
        attributes(
            out,
            "     -> FilteredAttributes",
            &exemplar.filtered_attributes,
        );
    }
}

fn point_header(
    out: &mut String,
    kind: &str,
    index: usize,
    attrs: &[KeyValue],
    start: u64,
    time: u64,
) {
    line!(out, "{kind} #{index}");
    attributes(out, "Data point attributes", attrs);
    line!(out, "StartTimestamp: {}", timestamp(start));
    line!(out, "Timestamp: {}", timestamp(time));
}

fn number_points(out: &mut String, points: &[NumberDataPoint]) {
    for (i, point) in points.iter().enumerate() {
        point_header(
            out,
            "NumberDataPoints",
            i,
            &point.attributes,
            point.start_time_unix_nano,
            point.time_unix_nano,
        );
        match point.value {
            Some(number_data_point::Value::AsInt(v)) => line!(out, "Value: {v}"),
            Some(number_data_point::Value::AsDouble(v)) => line!(out, "Value: {}", fixed(v)),
            None => {}
        }
        exemplars(out, &point.exemplars);
    }
}

fn optional_stats(out: &mut String, sum: Option<f64>, min: Option<f64>, max: Option<f64>) {
    for (name, value) in [("Sum", sum), ("Min", min), ("Max", max)] {
        if let Some(value) = value {
            line!(out, "{name}: {}", fixed(value));
        }
    }
}

fn histogram_points(out: &mut String, points: &[HistogramDataPoint]) {
    for (i, point) in points.iter().enumerate() {
        point_header(
            out,
            "HistogramDataPoints",
            i,
            &point.attributes,
            point.start_time_unix_nano,
            point.time_unix_nano,
        );
        line!(out, "Count: {}", point.count);
        optional_stats(out, point.sum, point.min, point.max);
        for (b, bound) in point.explicit_bounds.iter().enumerate() {
            line!(out, "ExplicitBounds #{b}: {}", fixed(*bound));
        }
        for (b, count) in point.bucket_counts.iter().enumerate() {
            line!(out, "Buckets #{b}, Count: {count}");
        }
        exemplars(out, &point.exemplars);
    }
}

fn exponential_points(out: &mut String, points: &[ExponentialHistogramDataPoint]) {
    for (i, point) in points.iter().enumerate() {
        point_header(
            out,
            "ExponentialHistogramDataPoints",
            i,
            &point.attributes,
            point.start_time_unix_nano,
            point.time_unix_nano,
        );
        line!(out, "Count: {}", point.count);
        optional_stats(out, point.sum, point.min, point.max);
        // Bucket index i covers (base^i, base^(i+1)] with base = 2^(2^-scale).
        let factor = std::f64::consts::LN_2 * 2f64.powi(-point.scale);
        if let Some(negative) = &point.negative {
            for (pos, count) in negative.bucket_counts.iter().enumerate().rev() {
                let index = f64::from(negative.offset) + pos as f64;
                let lower = (index * factor).exp();
                let upper = ((index + 1.0) * factor).exp();
                line!(
                    out,
                    "Bucket [{}, {}), Count: {count}",
                    fixed(-upper),
                    fixed(-lower)
                );
            }
        }
        if point.zero_count != 0 {
            line!(out, "Bucket [0, 0], Count: {}", point.zero_count);
        }
        if let Some(positive) = &point.positive {
            for (pos, count) in positive.bucket_counts.iter().enumerate() {
                let index = f64::from(positive.offset) + pos as f64;
                let lower = (index * factor).exp();
                let upper = ((index + 1.0) * factor).exp();
                line!(
                    out,
                    "Bucket ({}, {}], Count: {count}",
                    fixed(lower),
                    fixed(upper)
                );
            }
        }
        exemplars(out, &point.exemplars);
    }
}

fn summary_points(out: &mut String, points: &[SummaryDataPoint]) {
    for (i, point) in points.iter().enumerate() {
        point_header(
            out,
            "SummaryDataPoints",
            i,
            &point.attributes,
            point.start_time_unix_nano,
            point.time_unix_nano,
        );
        line!(out, "Count: {}", point.count);
        line!(out, "Sum: {}", fixed(point.sum));
        for (q, quantile) in point.quantile_values.iter().enumerate() {
            line!(
                out,
                "QuantileValue #{q}: Quantile {}, Value {}",
                fixed(quantile.quantile),
                fixed(quantile.value)
            );
        }
    }
}

fn metric(out: &mut String, metric: &Metric) {
    let data_type = match &metric.data {
        None => "Empty",
        Some(metric::Data::Gauge(_)) => "Gauge",
        Some(metric::Data::Sum(_)) => "Sum",
        Some(metric::Data::Histogram(_)) => "Histogram",
        Some(metric::Data::ExponentialHistogram(_)) => "ExponentialHistogram",
        Some(metric::Data::Summary(_)) => "Summary",
    };
    line!(out, "Descriptor:");
    line!(out, "     -> Name: {}", metric.name);
    line!(out, "     -> Description: {}", metric.description);
    line!(out, "     -> Unit: {}", metric.unit);
    line!(out, "     -> DataType: {data_type}");
    match &metric.data {
        None => {}
        Some(metric::Data::Gauge(gauge)) => number_points(out, &gauge.data_points),
        Some(metric::Data::Sum(sum)) => {
            line!(out, "     -> IsMonotonic: {}", sum.is_monotonic);
            line!(
                out,
                "     -> AggregationTemporality: {}",
                temporality(sum.aggregation_temporality)
            );
            number_points(out, &sum.data_points);
        }
        Some(metric::Data::Histogram(histogram)) => {
            line!(
                out,
                "     -> AggregationTemporality: {}",
                temporality(histogram.aggregation_temporality)
            );
            histogram_points(out, &histogram.data_points);
        }
        Some(metric::Data::ExponentialHistogram(histogram)) => {
            line!(
                out,
                "     -> AggregationTemporality: {}",
                temporality(histogram.aggregation_temporality)
            );
            exponential_points(out, &histogram.data_points);
        }
        Some(metric::Data::Summary(summary)) => summary_points(out, &summary.data_points),
    }
}

/// Every metric with its descriptor and data points.
pub(crate) fn metrics(request: &ExportMetricsServiceRequest, out: &mut String) {
    for (i, resource_metrics) in request.resource_metrics.iter().enumerate() {
        line!(out, "ResourceMetrics #{i}");
        line!(out, "Resource SchemaURL: {}", resource_metrics.schema_url);
        if let Some(resource) = &resource_metrics.resource {
            attributes(out, "Resource attributes", &resource.attributes);
        }
        for (j, scope_metrics) in resource_metrics.scope_metrics.iter().enumerate() {
            line!(out, "ScopeMetrics #{j}");
            line!(out, "ScopeMetrics SchemaURL: {}", scope_metrics.schema_url);
            scope(out, scope_metrics.scope.as_ref());
            for (k, m) in scope_metrics.metrics.iter().enumerate() {
                line!(out, "Metric #{k}");
                metric(out, m);
            }
        }
    }
}

/// Every log record.
pub(crate) fn logs(request: &ExportLogsServiceRequest, out: &mut String) {
    for (i, resource_logs) in request.resource_logs.iter().enumerate() {
        line!(out, "ResourceLog #{i}");
        line!(out, "Resource SchemaURL: {}", resource_logs.schema_url);
        if let Some(resource) = &resource_logs.resource {
            attributes(out, "Resource attributes", &resource.attributes);
        }
        for (j, scope_logs) in resource_logs.scope_logs.iter().enumerate() {
            line!(out, "ScopeLogs #{j}");
            line!(out, "ScopeLogs SchemaURL: {}", scope_logs.schema_url);
            scope(out, scope_logs.scope.as_ref());
            for (k, record) in scope_logs.log_records.iter().enumerate() {
                line!(out, "LogRecord #{k}");
                line!(
                    out,
                    "ObservedTimestamp: {}",
                    timestamp(record.observed_time_unix_nano)
                );
                line!(out, "Timestamp: {}", timestamp(record.time_unix_nano));
                line!(out, "SeverityText: {}", record.severity_text);
                line!(
                    out,
                    "SeverityNumber: {}({})",
                    severity(record.severity_number),
                    record.severity_number
                );
                if !record.event_name.is_empty() {
                    line!(out, "EventName: {}", record.event_name);
                }
                line!(out, "Body: {}", typed(record.body.as_ref()));
                attributes(out, "Attributes", &record.attributes);
                line!(out, "Trace ID: {}", hex(&record.trace_id));
                line!(out, "Span ID: {}", hex(&record.span_id));
                line!(out, "Flags: {}", record.flags);
            }
        }
    }
}
