//! Decoding, with non-finite doubles handled explicitly.
//!
//! Requests decode through `opentelemetry-proto`'s serde derives, which fall short of
//! protobuf's JSON mapping in two ways that lose data:
//! - most double fields (`doubleValue`, `sum`, `min`, `max`, `explicitBounds`,
//!   `zeroThreshold`) read only JSON numbers, so a request carrying `"NaN"`, `"Infinity"`
//!   or `"-Infinity"` there (which the mapping requires for those values, and the Go
//!   Collector accepts) would be refused whole;
//! - the value of a number data point or exemplar (`asDouble`, `asInt`) sits in a
//!   flattened optional field, where serde turns a value it cannot read into "no value", so
//!   `"asDouble": "NaN"` — or any malformed value — silently became a point without one.
//!
//! - a metric's data (`gauge`, `sum`, ...) is flattened and optional too: a value serde
//!   cannot read anywhere inside it (`"sum": "NaN"`, a `"-Infinity"` attribute) turned the
//!   whole metric into one without data.
//!
//! So when the fast path fails, or yields a point without a value or a metric without
//! data, the request is read
//! again as a JSON tree: point values are checked (a malformed one is an error, as in the
//! Go Collector), string values of double fields become numbers — sentinel numbers that
//! occur nowhere in the request for the non-finite ones — and after decoding, the sentinels
//! are turned back into the non-finite values they stand for.

use serde_json::{Map, Number, Value};

use super::JsonRequest;
use crate::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use crate::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use crate::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use crate::pdata::proto::common::v1::{AnyValue, KeyValue, any_value};
use crate::pdata::proto::metrics::v1::{Exemplar, exemplar, metric};
use crate::pdata::proto::metrics::v1::{
    ExponentialHistogramDataPoint, HistogramDataPoint, NumberDataPoint, SummaryDataPoint,
    number_data_point,
};

/// JSON keys of the OTLP messages whose values are doubles.
const DOUBLE_KEYS: &[&str] = &[
    "doubleValue",
    "sum",
    "min",
    "max",
    "explicitBounds",
    "zeroThreshold",
    "quantile",
    "value",
];

/// JSON keys of a metric's data, one of which a metric with data carries.
const METRIC_DATA_KEYS: &[&str] = &[
    "gauge",
    "sum",
    "histogram",
    "exponentialHistogram",
    "summary",
];

/// The elements of the array under `key` of a JSON object (none if it is not one).
fn json_items<'a>(object: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    object
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// Stand-ins for NaN, +∞ and -∞: subnormal bit patterns no real measurement produces.
/// A request that happens to contain one of them is not rewritten at all.
const SENTINELS: [(u64, f64); 3] = [
    (0x0000_0000_7E57_0001, f64::NAN),
    (0x0000_0000_7E57_0002, f64::INFINITY),
    (0x0000_0000_7E57_0003, f64::NEG_INFINITY),
];

/// Decodes an OTLP/JSON request; the error describes what is wrong with the JSON.
pub(super) fn decode<R: JsonRequest>(bytes: &[u8]) -> Result<R, String> {
    let (fast, first_error) = match serde_json::from_slice::<R>(bytes) {
        Ok(request) if !request.lacks_point_values() => return Ok(request),
        Ok(request) => (Some(request), None),
        Err(error) => (None, Some(error.to_string())),
    };
    let fail = |error: String| first_error.clone().unwrap_or(error);
    let mut tree = serde_json::from_slice::<Value>(bytes).map_err(|e| fail(e.to_string()))?;
    if contains_sentinel(&tree) {
        return fast.ok_or_else(|| fail(String::new()));
    }
    rewrite_values(&mut tree)?;
    let mut request = R::deserialize(&tree).map_err(|e| fail(e.to_string()))?;
    if let Some(error) = request.unread_data(&tree) {
        return Err(error);
    }
    request.restore_non_finite();
    Ok(request)
}

fn contains_sentinel(value: &Value) -> bool {
    match value {
        Value::Number(n) => n
            .as_f64()
            .is_some_and(|f| SENTINELS.iter().any(|(bits, _)| f.to_bits() == *bits)),
        Value::Array(items) => items.iter().any(contains_sentinel),
        Value::Object(map) => map.values().any(contains_sentinel),
        _ => false,
    }
}

/// Checks point values and rewrites string values of double fields as numbers (sentinels
/// for the non-finite ones).
fn rewrite_values(value: &mut Value) -> Result<(), String> {
    match value {
        Value::Array(items) => items.iter_mut().try_for_each(rewrite_values),
        Value::Object(map) => rewrite_object(map),
        _ => Ok(()),
    }
}

fn rewrite_object(map: &mut Map<String, Value>) -> Result<(), String> {
    for (key, value) in map.iter_mut() {
        match key.as_str() {
            "asDouble" => {
                if value.is_string() {
                    rewrite_double(value);
                }
                if !value.is_number() {
                    return Err(format!("invalid asDouble value {value}"));
                }
            }
            "asInt" => {
                let valid = match &*value {
                    Value::Number(n) => n.is_i64(),
                    Value::String(text) => text.parse::<i64>().is_ok(),
                    _ => false,
                };
                if !valid {
                    return Err(format!("invalid asInt value {value}"));
                }
            }
            key if DOUBLE_KEYS.contains(&key) => match value {
                Value::String(_) => rewrite_double(value),
                Value::Array(items) => items.iter_mut().for_each(rewrite_double),
                _ => {}
            },
            _ => {}
        }
        rewrite_values(value)?;
    }
    Ok(())
}

/// Replaces a string holding a double by the number (or the sentinel) it stands for;
/// leaves anything else as it is for the decoder to judge.
fn rewrite_double(value: &mut Value) {
    let Value::String(text) = value else {
        return;
    };
    let number = match text.as_str() {
        "NaN" => f64::from_bits(SENTINELS[0].0),
        "Infinity" => f64::from_bits(SENTINELS[1].0),
        "-Infinity" => f64::from_bits(SENTINELS[2].0),
        other => match other.parse::<f64>() {
            Ok(parsed) if parsed.is_finite() => parsed,
            _ => return,
        },
    };
    if let Some(number) = Number::from_f64(number) {
        *value = Value::Number(number);
    }
}

fn restore(value: &mut f64) {
    if let Some((_, non_finite)) = SENTINELS.iter().find(|(bits, _)| value.to_bits() == *bits) {
        *value = *non_finite;
    }
}

fn restore_option(value: &mut Option<f64>) {
    if let Some(value) = value {
        restore(value);
    }
}

fn restore_any_value(value: &mut AnyValue) {
    match &mut value.value {
        Some(any_value::Value::DoubleValue(d)) => restore(d),
        Some(any_value::Value::ArrayValue(array)) => {
            array.values.iter_mut().for_each(restore_any_value);
        }
        Some(any_value::Value::KvlistValue(list)) => restore_attributes(&mut list.values),
        _ => {}
    }
}

fn restore_attributes(attributes: &mut [KeyValue]) {
    for attribute in attributes {
        if let Some(value) = &mut attribute.value {
            restore_any_value(value);
        }
    }
}

fn restore_exemplars(exemplars: &mut [Exemplar]) {
    for exemplar in exemplars {
        if let Some(exemplar::Value::AsDouble(d)) = &mut exemplar.value {
            restore(d);
        }
        restore_attributes(&mut exemplar.filtered_attributes);
    }
}

fn restore_number_point(point: &mut NumberDataPoint) {
    if let Some(number_data_point::Value::AsDouble(d)) = &mut point.value {
        restore(d);
    }
    restore_attributes(&mut point.attributes);
    restore_exemplars(&mut point.exemplars);
}

fn restore_histogram_point(point: &mut HistogramDataPoint) {
    restore_option(&mut point.sum);
    restore_option(&mut point.min);
    restore_option(&mut point.max);
    point.explicit_bounds.iter_mut().for_each(restore);
    restore_attributes(&mut point.attributes);
    restore_exemplars(&mut point.exemplars);
}

fn restore_exponential_point(point: &mut ExponentialHistogramDataPoint) {
    restore_option(&mut point.sum);
    restore_option(&mut point.min);
    restore_option(&mut point.max);
    restore(&mut point.zero_threshold);
    restore_attributes(&mut point.attributes);
    restore_exemplars(&mut point.exemplars);
}

fn restore_summary_point(point: &mut SummaryDataPoint) {
    restore(&mut point.sum);
    for quantile in &mut point.quantile_values {
        restore(&mut quantile.quantile);
        restore(&mut quantile.value);
    }
    restore_attributes(&mut point.attributes);
}

impl JsonRequest for ExportTraceServiceRequest {
    fn restore_non_finite(&mut self) {
        for resource in &mut self.resource_spans {
            if let Some(r) = &mut resource.resource {
                restore_attributes(&mut r.attributes);
            }
            for scope in &mut resource.scope_spans {
                if let Some(s) = &mut scope.scope {
                    restore_attributes(&mut s.attributes);
                }
                for span in &mut scope.spans {
                    restore_attributes(&mut span.attributes);
                    for event in &mut span.events {
                        restore_attributes(&mut event.attributes);
                    }
                    for link in &mut span.links {
                        restore_attributes(&mut link.attributes);
                    }
                }
            }
        }
    }
}

impl JsonRequest for ExportMetricsServiceRequest {
    fn lacks_point_values(&self) -> bool {
        let lacking_exemplar = |exemplars: &[Exemplar]| exemplars.iter().any(|e| e.value.is_none());
        let lacking_number = |points: &[NumberDataPoint]| {
            points
                .iter()
                .any(|p| p.value.is_none() || lacking_exemplar(&p.exemplars))
        };
        self.resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics)
            .any(|metric| match &metric.data {
                None => true,
                Some(metric::Data::Gauge(g)) => lacking_number(&g.data_points),
                Some(metric::Data::Sum(s)) => lacking_number(&s.data_points),
                Some(metric::Data::Histogram(h)) => {
                    h.data_points.iter().any(|p| lacking_exemplar(&p.exemplars))
                }
                Some(metric::Data::ExponentialHistogram(h)) => {
                    h.data_points.iter().any(|p| lacking_exemplar(&p.exemplars))
                }
                Some(metric::Data::Summary(_)) => false,
            })
    }

    fn unread_data(&self, tree: &Value) -> Option<String> {
        let metrics = self
            .resource_metrics
            .iter()
            .zip(json_items(tree, "resourceMetrics"))
            .flat_map(|(r, json)| r.scope_metrics.iter().zip(json_items(json, "scopeMetrics")))
            .flat_map(|(s, json)| s.metrics.iter().zip(json_items(json, "metrics")));
        for (metric, json) in metrics {
            let written = METRIC_DATA_KEYS
                .iter()
                .find(|key| json.get(**key).is_some());
            if let (None, Some(key)) = (&metric.data, written) {
                return Some(format!("invalid {key} of metric {:?}", metric.name));
            }
        }
        None
    }

    fn restore_non_finite(&mut self) {
        for resource in &mut self.resource_metrics {
            if let Some(r) = &mut resource.resource {
                restore_attributes(&mut r.attributes);
            }
            for scope in &mut resource.scope_metrics {
                if let Some(s) = &mut scope.scope {
                    restore_attributes(&mut s.attributes);
                }
                for metric in &mut scope.metrics {
                    restore_attributes(&mut metric.metadata);
                    match &mut metric.data {
                        Some(metric::Data::Gauge(g)) => {
                            g.data_points.iter_mut().for_each(restore_number_point);
                        }
                        Some(metric::Data::Sum(s)) => {
                            s.data_points.iter_mut().for_each(restore_number_point);
                        }
                        Some(metric::Data::Histogram(h)) => {
                            h.data_points.iter_mut().for_each(restore_histogram_point);
                        }
                        Some(metric::Data::ExponentialHistogram(h)) => {
                            h.data_points.iter_mut().for_each(restore_exponential_point);
                        }
                        Some(metric::Data::Summary(s)) => {
                            s.data_points.iter_mut().for_each(restore_summary_point);
                        }
                        None => {}
                    }
                }
            }
        }
    }
}

impl JsonRequest for ExportLogsServiceRequest {
    fn restore_non_finite(&mut self) {
        for resource in &mut self.resource_logs {
            if let Some(r) = &mut resource.resource {
                restore_attributes(&mut r.attributes);
            }
            for scope in &mut resource.scope_logs {
                if let Some(s) = &mut scope.scope {
                    restore_attributes(&mut s.attributes);
                }
                for record in &mut scope.log_records {
                    if let Some(body) = &mut record.body {
                        restore_any_value(body);
                    }
                    restore_attributes(&mut record.attributes);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn gauge_value(request: &ExportMetricsServiceRequest, index: usize) -> f64 {
        let metric = &request.resource_metrics[0].scope_metrics[0].metrics[0];
        let Some(metric::Data::Gauge(gauge)) = &metric.data else {
            panic!("not a gauge: {metric:?}");
        };
        match gauge.data_points[index].value {
            Some(number_data_point::Value::AsDouble(d)) => d,
            ref other => panic!("not a double: {other:?}"),
        }
    }

    fn gauge(values: &str) -> String {
        let points: Vec<String> = values
            .split('|')
            .map(|v| format!(r#"{{"timeUnixNano":"1","asDouble":{v}}}"#))
            .collect();
        format!(
            r#"{{"resourceMetrics":[{{"scopeMetrics":[{{"metrics":[{{"name":"g","gauge":{{"dataPoints":[{}]}}}}]}}]}}]}}"#,
            points.join(",")
        )
    }

    #[test]
    fn plain_requests_take_the_fast_path() {
        let request: ExportMetricsServiceRequest = decode(gauge("1.5|-2").as_bytes()).unwrap();
        assert_eq!(gauge_value(&request, 0), 1.5);
        assert_eq!(gauge_value(&request, 1), -2.0);
    }

    #[test]
    fn non_finite_doubles_survive() {
        let json = gauge(r#""NaN"|"Infinity"|"-Infinity"|"2.5"|3"#);
        let request: ExportMetricsServiceRequest = decode(json.as_bytes()).unwrap();
        assert!(gauge_value(&request, 0).is_nan());
        assert_eq!(gauge_value(&request, 1), f64::INFINITY);
        assert_eq!(gauge_value(&request, 2), f64::NEG_INFINITY);
        assert_eq!(gauge_value(&request, 3), 2.5);
        assert_eq!(gauge_value(&request, 4), 3.0);
    }

    #[test]
    fn non_finite_histogram_fields_and_attributes_survive() {
        let json = r#"{"resourceMetrics":[{"resource":{"attributes":[{"key":"r","value":{"doubleValue":"-Infinity"}}]},
            "scopeMetrics":[{"metrics":[{"name":"h","histogram":{"dataPoints":[{"count":"1","sum":"NaN",
            "min":"-Infinity","max":"Infinity","bucketCounts":["1","0"],"explicitBounds":["Infinity"],
            "attributes":[{"key":"a","value":{"arrayValue":{"values":[{"doubleValue":"NaN"},{"stringValue":"NaN"}]}}}]}]}}]}]}]}"#;
        let request: ExportMetricsServiceRequest = decode(json.as_bytes()).unwrap();
        let resource = &request.resource_metrics[0];
        let attribute = resource.resource.as_ref().unwrap().attributes[0]
            .value
            .as_ref();
        assert_eq!(
            attribute.and_then(|v| v.value.clone()),
            Some(any_value::Value::DoubleValue(f64::NEG_INFINITY))
        );
        let Some(metric::Data::Histogram(h)) = &resource.scope_metrics[0].metrics[0].data else {
            panic!("not a histogram");
        };
        let point = &h.data_points[0];
        assert!(point.sum.unwrap().is_nan());
        assert_eq!(point.min, Some(f64::NEG_INFINITY));
        assert_eq!(point.max, Some(f64::INFINITY));
        assert_eq!(point.explicit_bounds, [f64::INFINITY]);
        let Some(any_value::Value::ArrayValue(array)) = point.attributes[0]
            .value
            .as_ref()
            .and_then(|v| v.value.clone())
        else {
            panic!("not an array");
        };
        assert!(
            matches!(array.values[0].value, Some(any_value::Value::DoubleValue(d)) if d.is_nan())
        );
        // A string attribute that reads "NaN" stays a string.
        assert_eq!(
            array.values[1].value,
            Some(any_value::Value::StringValue("NaN".into()))
        );
    }

    #[test]
    fn non_finite_values_inside_a_metric_do_not_cost_its_data() {
        // Only the metric's own (flattened) data holds non-finite values: serde's fast
        // path reads the metric as one without data instead of failing.
        let histogram = r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"h","histogram":
            {"dataPoints":[{"count":"1","sum":"NaN","bucketCounts":["1","0"],"explicitBounds":["Infinity"]}]}}]}]}]}"#;
        let request: ExportMetricsServiceRequest = decode(histogram.as_bytes()).unwrap();
        let Some(metric::Data::Histogram(h)) =
            &request.resource_metrics[0].scope_metrics[0].metrics[0].data
        else {
            panic!("the histogram was lost: {request:?}");
        };
        assert!(h.data_points[0].sum.unwrap().is_nan());
        assert_eq!(h.data_points[0].explicit_bounds, [f64::INFINITY]);

        let gauge = gauge("1").replace(
            r#""asDouble":1"#,
            r#""asDouble":1,"attributes":[{"key":"a","value":{"doubleValue":"-Infinity"}}]"#,
        );
        let request: ExportMetricsServiceRequest = decode(gauge.as_bytes()).unwrap();
        let Some(metric::Data::Gauge(g)) =
            &request.resource_metrics[0].scope_metrics[0].metrics[0].data
        else {
            panic!("the gauge was lost: {request:?}");
        };
        assert_eq!(
            g.data_points[0].attributes[0]
                .value
                .as_ref()
                .and_then(|v| v.value.clone()),
            Some(any_value::Value::DoubleValue(f64::NEG_INFINITY))
        );
    }

    #[test]
    fn malformed_metric_data_is_an_error_and_absent_data_is_not() {
        let json = r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m","gauge":{"dataPoints":5}}]}]}]}"#;
        let error = decode::<ExportMetricsServiceRequest>(json.as_bytes()).unwrap_err();
        assert_eq!(error, r#"invalid gauge of metric "m""#);
        let json = r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m"}]}]}]}"#;
        let request: ExportMetricsServiceRequest = decode(json.as_bytes()).unwrap();
        assert_eq!(
            request.resource_metrics[0].scope_metrics[0].metrics[0].data,
            None
        );
    }

    #[test]
    fn non_finite_log_bodies_survive() {
        let json = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"doubleValue":"Infinity"}}]}]}]}"#;
        let request: ExportLogsServiceRequest = decode(json.as_bytes()).unwrap();
        let body = &request.resource_logs[0].scope_logs[0].log_records[0].body;
        assert_eq!(
            body.as_ref().and_then(|b| b.value.clone()),
            Some(any_value::Value::DoubleValue(f64::INFINITY))
        );
    }

    #[test]
    fn malformed_json_reports_the_first_error() {
        let error = decode::<ExportTraceServiceRequest>(b"{\"resourceSpans\": [").unwrap_err();
        assert!(error.contains("EOF"), "{error}");
        let error = decode::<ExportTraceServiceRequest>(br#"{"resourceSpans": 5}"#).unwrap_err();
        assert!(error.contains("invalid type"), "{error}");
    }

    #[test]
    fn malformed_point_values_are_errors_not_missing_values() {
        let error =
            decode::<ExportMetricsServiceRequest>(gauge(r#""many""#).as_bytes()).unwrap_err();
        assert_eq!(error, r#"invalid asDouble value "many""#);
        let json = gauge("1").replace(r#""asDouble":1"#, r#""asInt":"12x""#);
        let error = decode::<ExportMetricsServiceRequest>(json.as_bytes()).unwrap_err();
        assert_eq!(error, r#"invalid asInt value "12x""#);
    }

    #[test]
    fn points_without_values_stay_without_values() {
        let json = gauge("1").replace(r#","asDouble":1"#, "");
        let request: ExportMetricsServiceRequest = decode(json.as_bytes()).unwrap();
        let Some(metric::Data::Gauge(gauge)) =
            &request.resource_metrics[0].scope_metrics[0].metrics[0].data
        else {
            panic!("a gauge");
        };
        assert_eq!(gauge.data_points[0].value, None);
    }

    #[test]
    fn a_request_holding_a_sentinel_is_not_rewritten() {
        let mut tree: Value = serde_json::from_str(&gauge(r#""NaN""#)).unwrap();
        assert!(!contains_sentinel(&tree));
        let sentinel = Number::from_f64(f64::from_bits(SENTINELS[1].0)).unwrap();
        tree["resourceMetrics"][0]["schemaUrl"] = Value::Number(sentinel);
        assert!(contains_sentinel(&tree));
    }

    /// A double as OTLP/JSON writes it.
    fn json_double(value: f64) -> String {
        if value.is_nan() {
            "\"NaN\"".into()
        } else if value == f64::INFINITY {
            "\"Infinity\"".into()
        } else if value == f64::NEG_INFINITY {
            "\"-Infinity\"".into()
        } else {
            format!("{value:?}")
        }
    }

    fn double() -> impl Strategy<Value = f64> {
        prop_oneof![
            4 => any::<f64>(),
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
            1 => Just(f64::NEG_INFINITY),
        ]
    }

    proptest! {
        #[test]
        fn every_double_survives(values in prop::collection::vec(double(), 1..20)) {
            let text: Vec<String> = values.iter().map(|v| json_double(*v)).collect();
            let request: ExportMetricsServiceRequest =
                decode(gauge(&text.join("|")).as_bytes()).unwrap();
            for (i, expected) in values.iter().enumerate() {
                let got = gauge_value(&request, i);
                // Exact: serde_json parses with `float_roundtrip`.
                prop_assert!(
                    got.to_bits() == expected.to_bits() || got.is_nan() && expected.is_nan(),
                    "{got:e} != {expected:e}"
                );
            }
        }

        #[test]
        fn junk_never_panics(text in "[\\[\\]{}\":,0-9a-zA-Z .-]{0,300}") {
            let _ = decode::<ExportTraceServiceRequest>(text.as_bytes());
            let _ = decode::<ExportMetricsServiceRequest>(text.as_bytes());
            let _ = decode::<ExportLogsServiceRequest>(text.as_bytes());
        }

        #[test]
        fn junk_point_values_never_panic(value in "[\"a-zA-Z0-9.{}\\[\\]-]{0,12}") {
            let json = gauge("1").replace("1}", &format!("{value}}}"));
            let _ = decode::<ExportMetricsServiceRequest>(json.as_bytes());
        }
    }
}
