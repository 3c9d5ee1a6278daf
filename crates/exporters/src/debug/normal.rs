//! `verbosity: normal`: about one line per span, data point or log record, as the Go
//! Collector's debug exporter writes them.
//!
//! ```text
//! ResourceTraces #0 [https://opentelemetry.io/schemas/1.25.0] service.name=checkout
//! ScopeTraces #0 io.tributary.test@1.2.3
//! span-0 abababababababababababababababab 0000000000000001 http.method=GET
//! ```

use std::fmt::Write as _;

use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    Metric, NumberDataPoint, metric, number_data_point,
};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;

use super::values::{hex, pairs};
use tributary_pipeline_core::pdata::value_text::{as_string, format_float};

/// ` k=v k2=v2`, or nothing without attributes.
fn attributes_suffix(attributes: &[KeyValue]) -> String {
    let mut out = String::new();
    for pair in pairs(attributes) {
        out.push(' ');
        out.push_str(&pair);
    }
    out
}

fn resource_line(
    out: &mut String,
    kind: &str,
    index: usize,
    schema: &str,
    resource: Option<&Resource>,
) {
    let _ = write!(out, "{kind} #{index}");
    if !schema.is_empty() {
        let _ = write!(out, " [{schema}]");
    }
    out.push_str(&attributes_suffix(
        resource.map_or(&[][..], |r| &r.attributes),
    ));
    out.push('\n');
}

fn scope_line(
    out: &mut String,
    kind: &str,
    index: usize,
    scope: Option<&InstrumentationScope>,
    schema: &str,
) {
    let _ = write!(out, "{kind} #{index}");
    let mut details = String::new();
    if let Some(scope) = scope {
        details.push_str(&scope.name);
        if !scope.version.is_empty() {
            let _ = write!(details, "@{}", scope.version);
        }
    }
    if !schema.is_empty() {
        if !details.is_empty() {
            details.push(' ');
        }
        let _ = write!(details, "[{schema}]");
    }
    if !details.is_empty() {
        let _ = write!(out, " {details}");
    }
    out.push_str(&attributes_suffix(scope.map_or(&[][..], |s| &s.attributes)));
    out.push('\n');
}

/// One line per span: name, trace ID, span ID, attributes.
pub(crate) fn traces(request: &ExportTraceServiceRequest, out: &mut String) {
    for (i, resource_spans) in request.resource_spans.iter().enumerate() {
        resource_line(
            out,
            "ResourceTraces",
            i,
            &resource_spans.schema_url,
            resource_spans.resource.as_ref(),
        );
        for (j, scope_spans) in resource_spans.scope_spans.iter().enumerate() {
            scope_line(
                out,
                "ScopeTraces",
                j,
                scope_spans.scope.as_ref(),
                &scope_spans.schema_url,
            );
            for span in &scope_spans.spans {
                let _ = writeln!(
                    out,
                    "{} {} {}{}",
                    span.name,
                    hex(&span.trace_id),
                    hex(&span.span_id),
                    attributes_suffix(&span.attributes)
                );
            }
        }
    }
}

fn number_value(point: &NumberDataPoint) -> String {
    match point.value {
        Some(number_data_point::Value::AsInt(i)) => i.to_string(),
        Some(number_data_point::Value::AsDouble(d)) => format_float(d),
        None => String::new(),
    }
}

fn point_line(out: &mut String, name: &str, attributes: &[KeyValue], value: &str) {
    let attributes: Vec<String> = pairs(attributes).collect();
    let _ = writeln!(out, "{name}{{{}}} {value}", attributes.join(","));
}

fn metric_lines(out: &mut String, metric: &Metric) {
    match &metric.data {
        Some(metric::Data::Gauge(gauge)) => {
            for point in &gauge.data_points {
                point_line(out, &metric.name, &point.attributes, &number_value(point));
            }
        }
        Some(metric::Data::Sum(sum)) => {
            for point in &sum.data_points {
                point_line(out, &metric.name, &point.attributes, &number_value(point));
            }
        }
        Some(metric::Data::Histogram(histogram)) => {
            for point in &histogram.data_points {
                let mut value = format!("count={}", point.count);
                for (key, v) in [("sum", point.sum), ("min", point.min), ("max", point.max)] {
                    if let Some(v) = v {
                        let _ = write!(value, " {key}={}", format_float(v));
                    }
                }
                for (index, count) in point.bucket_counts.iter().enumerate() {
                    match point.explicit_bounds.get(index) {
                        Some(bound) => {
                            let _ = write!(value, " le{}={count}", format_float(*bound));
                        }
                        None => {
                            let _ = write!(value, " {count}");
                        }
                    }
                }
                point_line(out, &metric.name, &point.attributes, &value);
            }
        }
        Some(metric::Data::ExponentialHistogram(histogram)) => {
            for point in &histogram.data_points {
                let mut value = format!("count={}", point.count);
                for (key, v) in [("sum", point.sum), ("min", point.min), ("max", point.max)] {
                    if let Some(v) = v {
                        let _ = write!(value, " {key}={}", format_float(v));
                    }
                }
                point_line(out, &metric.name, &point.attributes, &value);
            }
        }
        Some(metric::Data::Summary(summary)) => {
            for point in &summary.data_points {
                let mut value = format!("count={} sum={}", point.count, format_float(point.sum));
                for quantile in &point.quantile_values {
                    let _ = write!(
                        value,
                        " q{}={}",
                        format_float(quantile.quantile),
                        format_float(quantile.value)
                    );
                }
                point_line(out, &metric.name, &point.attributes, &value);
            }
        }
        None => {}
    }
}

/// One line per data point: `name{attributes} value`.
pub(crate) fn metrics(request: &ExportMetricsServiceRequest, out: &mut String) {
    for (i, resource_metrics) in request.resource_metrics.iter().enumerate() {
        resource_line(
            out,
            "ResourceMetrics",
            i,
            &resource_metrics.schema_url,
            resource_metrics.resource.as_ref(),
        );
        for (j, scope_metrics) in resource_metrics.scope_metrics.iter().enumerate() {
            scope_line(
                out,
                "ScopeMetrics",
                j,
                scope_metrics.scope.as_ref(),
                &scope_metrics.schema_url,
            );
            for metric in &scope_metrics.metrics {
                metric_lines(out, metric);
            }
        }
    }
}

/// One line per log record: body, then attributes.
pub(crate) fn logs(request: &ExportLogsServiceRequest, out: &mut String) {
    for (i, resource_logs) in request.resource_logs.iter().enumerate() {
        resource_line(
            out,
            "ResourceLog",
            i,
            &resource_logs.schema_url,
            resource_logs.resource.as_ref(),
        );
        for (j, scope_logs) in resource_logs.scope_logs.iter().enumerate() {
            scope_line(
                out,
                "ScopeLog",
                j,
                scope_logs.scope.as_ref(),
                &scope_logs.schema_url,
            );
            for record in &scope_logs.log_records {
                let _ = writeln!(
                    out,
                    "{}{}",
                    as_string(record.body.as_ref()),
                    attributes_suffix(&record.attributes)
                );
            }
        }
    }
}
