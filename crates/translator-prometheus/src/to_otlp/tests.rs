//! The translation's tests: each type, resources and scopes, start times, staleness,
//! suffixes, units and exemplars, and arbitrary expositions.

use super::*;
use crate::text::{Format, Limits, parse, stale_nan};

fn translate(
    text: &str,
    adjuster: &mut StartTimeAdjuster,
    now_ms: i64,
) -> ExportMetricsServiceRequest {
    let families = parse(text.as_bytes(), Format::Text, &Limits::default()).unwrap();
    let options = Options {
        scope_name: "prom".into(),
        scheme: Some("http".into()),
        ..Options::default()
    };
    to_metrics(&families, &options, adjuster, now_ms).unwrap()
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| match &kv.value.as_ref()?.value {
            Some(any_value::Value::StringValue(s)) => Some(s.as_str()),
            _ => None,
        })
}

const EXPOSITION: &str = concat!(
    "# HELP reqs_total Requests.\n# TYPE reqs_total counter\n",
    "reqs_total{job=\"j\",instance=\"h:9\",code=\"200\"} 10\n",
    "# TYPE temp gauge\ntemp{job=\"j\",instance=\"h:9\"} 21.5\n",
    "# TYPE lat histogram\n",
    "lat_bucket{job=\"j\",instance=\"h:9\",le=\"0.5\"} 3\n",
    "lat_bucket{job=\"j\",instance=\"h:9\",le=\"1\"} 5\n",
    "lat_bucket{job=\"j\",instance=\"h:9\",le=\"+Inf\"} 6\n",
    "lat_sum{job=\"j\",instance=\"h:9\"} 4.5\n",
    "lat_count{job=\"j\",instance=\"h:9\"} 6\n",
    "# TYPE rpc summary\n",
    "rpc{job=\"j\",instance=\"h:9\",quantile=\"0.9\"} 2\n",
    "rpc{job=\"j\",instance=\"h:9\",quantile=\"0.5\"} 1\n",
    "rpc_count{job=\"j\",instance=\"h:9\"} 7\n",
    "target_info{job=\"j\",instance=\"h:9\",region=\"eu\"} 1\n",
    "scoped{job=\"j\",instance=\"h:9\",otel_scope_name=\"lib\",otel_scope_version=\"1.2\"} 1\n",
);

#[test]
fn translates_each_type() {
    let mut adjuster = StartTimeAdjuster::new();
    let request = translate(EXPOSITION, &mut adjuster, 1_000);
    assert_eq!(request.resource_metrics.len(), 1);
    let rm = &request.resource_metrics[0];
    let attrs = &rm.resource.as_ref().unwrap().attributes;
    assert_eq!(attr(attrs, "service.name"), Some("j"));
    assert_eq!(attr(attrs, "service.instance.id"), Some("h:9"));
    assert_eq!(attr(attrs, "server.port"), Some("9"));
    assert_eq!(attr(attrs, "url.scheme"), Some("http"));
    assert_eq!(attr(attrs, "region"), Some("eu"));
    assert_eq!(rm.scope_metrics.len(), 2);
    let metrics = &rm.scope_metrics[0].metrics;
    let names: Vec<_> = metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["reqs_total", "temp", "lat", "rpc"]);
    let Some(Data::Sum(sum)) = &metrics[0].data else {
        panic!()
    };
    assert!(sum.is_monotonic);
    assert_eq!(metrics[0].description, "Requests.");
    assert_eq!(sum.data_points[0].start_time_unix_nano, 1_000_000_000);
    assert_eq!(attr(&sum.data_points[0].attributes, "code"), Some("200"));
    assert_eq!(sum.data_points[0].attributes.len(), 1);
    let Some(Data::Histogram(h)) = &metrics[2].data else {
        panic!()
    };
    let point = &h.data_points[0];
    assert_eq!(point.explicit_bounds, [0.5, 1.0]);
    assert_eq!(point.bucket_counts, [3, 2, 1]);
    assert_eq!((point.count, point.sum), (6, Some(4.5)));
    let Some(Data::Summary(s)) = &metrics[3].data else {
        panic!()
    };
    let q: Vec<_> = s.data_points[0]
        .quantile_values
        .iter()
        .map(|q| q.quantile)
        .collect();
    assert_eq!(q, [0.5, 0.9]);
    assert_eq!(s.data_points[0].sum, 0.0);
    let scope = rm.scope_metrics[1].scope.as_ref().unwrap();
    assert_eq!(
        (scope.name.as_str(), scope.version.as_str()),
        ("lib", "1.2")
    );
}

#[test]
fn start_times_follow_resets() {
    let mut adjuster = StartTimeAdjuster::new();
    let start = |text: &str, adjuster: &mut StartTimeAdjuster, now| {
        let request = translate(text, adjuster, now);
        let Some(Data::Sum(sum)) = &request.resource_metrics[0].scope_metrics[0].metrics[0].data
        else {
            panic!()
        };
        sum.data_points[0].start_time_unix_nano
    };
    let counter = |v: u32| format!("# TYPE c counter\nc{{job=\"j\"}} {v}\n");
    assert_eq!(start(&counter(5), &mut adjuster, 1_000), 1_000_000_000);
    assert_eq!(start(&counter(7), &mut adjuster, 2_000), 1_000_000_000);
    assert_eq!(
        start(&counter(2), &mut adjuster, 3_000),
        3_000_000_000,
        "reset"
    );
    assert_eq!(start(&counter(4), &mut adjuster, 4_000), 3_000_000_000);
    adjuster.forget_older_than(5_000);
    assert!(adjuster.is_empty());
    let created = "# TYPE c counter\nc_total{job=\"j\"} 1\nc_created{job=\"j\"} 12.5\n";
    let families = parse(
        format!("{created}# EOF\n").as_bytes(),
        Format::OpenMetrics,
        &Limits::default(),
    )
    .unwrap();
    let request = to_metrics(&families, &Options::default(), &mut adjuster, 20_000).unwrap();
    let metric = &request.resource_metrics[0].scope_metrics[0].metrics[0];
    assert_eq!(metric.name, "c_total");
    let Some(Data::Sum(sum)) = &metric.data else {
        panic!()
    };
    assert_eq!(sum.data_points[0].start_time_unix_nano, 12_500_000_000);
}

#[test]
fn start_time_metric_is_required_when_asked() {
    let families = parse(
        b"process_start_time_seconds 100\n# TYPE c counter\nc 1\n",
        Format::Text,
        &Limits::default(),
    )
    .unwrap();
    let options = Options {
        start_time_metric: Some(Regex::new("^process_start_time_seconds$").unwrap()),
        ..Options::default()
    };
    let request = to_metrics(&families, &options, &mut StartTimeAdjuster::new(), 5_000).unwrap();
    let Some(Data::Sum(sum)) = &request.resource_metrics[0].scope_metrics[0].metrics[1].data else {
        panic!()
    };
    assert_eq!(sum.data_points[0].start_time_unix_nano, 100_000_000_000);
    let error = to_metrics(
        &families[1..],
        &options,
        &mut StartTimeAdjuster::new(),
        5_000,
    )
    .unwrap_err();
    assert!(matches!(error, TranslateError::NoStartTimeMetric(_)));
}

#[test]
fn stale_markers_become_no_recorded_value() {
    let families = vec![Family {
        samples: vec![Sample {
            name: "g".into(),
            labels: vec![],
            value: stale_nan(),
            timestamp_ms: None,
            exemplar: None,
        }],
        ..Family::new("g", MetricType::Gauge)
    }];
    let request = to_metrics(
        &families,
        &Options::default(),
        &mut StartTimeAdjuster::new(),
        1,
    )
    .unwrap();
    let Some(Data::Gauge(g)) = &request.resource_metrics[0].scope_metrics[0].metrics[0].data else {
        panic!()
    };
    assert_eq!(g.data_points[0].flags, 1);
    assert_eq!(g.data_points[0].value, None);
}

#[test]
fn trims_suffixes_and_maps_units_and_exemplars() {
    let text = concat!(
        "# TYPE http_seconds counter\n# UNIT http_seconds seconds\n",
        "http_seconds_total 3 # {trace_id=\"0102030405060708090a0b0c0d0e0f10\",span_id=\"0102030405060708\",x=\"y\"} 1\n",
        "# EOF\n"
    );
    let families = parse(text.as_bytes(), Format::OpenMetrics, &Limits::default()).unwrap();
    let options = Options {
        trim_metric_suffixes: true,
        ..Options::default()
    };
    let request = to_metrics(&families, &options, &mut StartTimeAdjuster::new(), 1).unwrap();
    let metric = &request.resource_metrics[0].scope_metrics[0].metrics[0];
    assert_eq!((metric.name.as_str(), metric.unit.as_str()), ("http", "s"));
    let Some(Data::Sum(sum)) = &metric.data else {
        panic!()
    };
    let e = &sum.data_points[0].exemplars[0];
    assert_eq!(e.trace_id.len(), 16);
    assert_eq!(e.span_id, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(e.filtered_attributes.len(), 1);
    assert_eq!(unit_from_prometheus("bytes_per_second"), "By/s");
}

proptest::proptest! {
    #[test]
    fn whatever_parses_translates(
        lines in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::strategy::Just("# TYPE h histogram".to_string()),
                proptest::strategy::Just("# TYPE s summary".to_string()),
                proptest::strategy::Just("# TYPE c counter".to_string()),
                "h_(bucket|count|sum|created)\\{le=\"(0\\.5|\\+Inf|x)\",job=\"[ab]\"\\} (-?[0-9]|NaN|\\+Inf)",
                "s(_count|_sum)?\\{quantile=\"0\\.[0-9]\"\\} [0-9]",
                "c(_total|_created)?\\{otel_scope_name=\"[xy]\"\\} [0-9]",
                "target_info\\{job=\"[ab]\",k=\"v\"\\} 1",
            ],
            0..40,
        ),
        now in 0i64..2_000_000_000_000,
    ) {
        let text = lines.join("\n") + "\n";
        if let Ok(families) = parse(text.as_bytes(), Format::Text, &Limits::default()) {
            let mut adjuster = StartTimeAdjuster::new();
            let request = to_metrics(&families, &Options::default(), &mut adjuster, now).unwrap();
            let points: usize = request
                .resource_metrics
                .iter()
                .flat_map(|r| &r.scope_metrics)
                .flat_map(|s| &s.metrics)
                .map(|m| match &m.data {
                    Some(Data::Gauge(g)) => g.data_points.len(),
                    Some(Data::Sum(s)) => s.data_points.len(),
                    Some(Data::Histogram(h)) => h.data_points.len(),
                    Some(Data::Summary(s)) => s.data_points.len(),
                    _ => 0,
                })
                .sum();
            proptest::prop_assert!(points <= lines.len());
            proptest::prop_assert!(adjuster.len() <= lines.len());
        }
    }
}
