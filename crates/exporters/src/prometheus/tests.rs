use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tributary_confmap::Conf;
use tributary_pipeline_core::component::{ComponentConfig, Host};
use tributary_pipeline_core::exporterhelper::Export;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    AggregationTemporality, Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge,
    Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    exemplar, exponential_histogram_data_point::Buckets, metric::Data, number_data_point,
};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;

use super::accumulator::{Accumulator, Point};
use super::exporter::{PrometheusExporter, Registry};
use super::*;

const SEC: u64 = 1_000_000_000;

fn config(yaml: &str) -> Config {
    Conf::from_yaml(yaml).unwrap().decode().unwrap()
}

fn request(metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![
                    key_value("service.name", "api"),
                    key_value("service.namespace", "shop"),
                    key_value("service.instance.id", "pod-1"),
                    key_value("host.name", "h1"),
                ],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "io.lib".into(),
                    version: "1.0".into(),
                    ..Default::default()
                }),
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn number(start: u64, time: u64, value: f64, attributes: Vec<KeyValue>) -> NumberDataPoint {
    NumberDataPoint {
        attributes,
        start_time_unix_nano: start,
        time_unix_nano: time,
        value: Some(number_data_point::Value::AsDouble(value)),
        ..Default::default()
    }
}

fn sum(
    name: &str,
    unit: &str,
    temporality: AggregationTemporality,
    monotonic: bool,
    points: Vec<NumberDataPoint>,
) -> Metric {
    Metric {
        name: name.into(),
        unit: unit.into(),
        description: "A sum.".into(),
        data: Some(Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: temporality as i32,
            is_monotonic: monotonic,
        })),
        ..Default::default()
    }
}

fn gauge(name: &str, unit: &str, points: Vec<NumberDataPoint>) -> Metric {
    Metric {
        name: name.into(),
        unit: unit.into(),
        data: Some(Data::Gauge(Gauge {
            data_points: points,
        })),
        ..Default::default()
    }
}

fn histogram(
    temporality: AggregationTemporality,
    start: u64,
    time: u64,
    counts: Vec<u64>,
) -> Metric {
    let count = counts.iter().sum();
    Metric {
        name: "http.server.duration".into(),
        unit: "s".into(),
        data: Some(Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint {
                start_time_unix_nano: start,
                time_unix_nano: time,
                count,
                sum: Some(count as f64),
                bucket_counts: counts,
                explicit_bounds: vec![0.5, 1.0],
                exemplars: vec![Exemplar {
                    value: Some(exemplar::Value::AsDouble(0.7)),
                    trace_id: vec![0xab; 16],
                    span_id: vec![0xcd; 8],
                    time_unix_nano: time,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            aggregation_temporality: temporality as i32,
        })),
        ..Default::default()
    }
}

fn scrape(registry: &Registry, accept: Option<&str>) -> String {
    let mut headers = axum::http::HeaderMap::new();
    if let Some(accept) = accept {
        headers.insert(axum::http::header::ACCEPT, accept.parse().unwrap());
    }
    let (body, _, gzipped) = registry.scrape(&headers);
    assert!(!gzipped);
    String::from_utf8(body).unwrap()
}

fn registry(yaml: &str, requests: &[ExportMetricsServiceRequest]) -> Registry {
    let registry = Registry::new(&config(yaml)).unwrap();
    for request in requests {
        registry.accumulator().accumulate(request, Instant::now());
    }
    registry
}

#[test]
fn the_configuration_takes_go_keys_and_defaults() {
    let defaults = Config::default();
    assert_eq!(defaults.metric_expiration, Duration::from_secs(300));
    assert!(defaults.add_metric_suffixes);
    assert!(!defaults.send_timestamps && !defaults.enable_open_metrics);
    assert!(!defaults.sending_queue.enabled);
    assert!(defaults.validate().is_err(), "endpoint is required");

    let full = config(
        "endpoint: 127.0.0.1:8889\nnamespace: otel\nconst_labels: {cluster: eu}\nsend_timestamps: true\n\
         metric_expiration: 10m\nresource_to_telemetry_conversion: {enabled: true}\nenable_open_metrics: true\n\
         add_metric_suffixes: false\ntranslation_strategy: NoUTF8EscapingWithSuffixes\nread_header_timeout: 5s",
    );
    full.validate().unwrap();
    assert_eq!(full.metric_expiration, Duration::from_secs(600));
    assert_eq!(
        full.strategy().unwrap(),
        tributary_translator_prometheus::normalize::TranslationStrategy::NoUTF8EscapingWithSuffixes
    );

    let unknown = Conf::from_yaml("endpoint: 127.0.0.1:1\ntimeout: 5s")
        .unwrap()
        .decode::<Config>();
    assert!(
        unknown.is_err(),
        "Go's prometheus exporter has no timeout key"
    );
    let bad_strategy = config("endpoint: 127.0.0.1:1\ntranslation_strategy: underscores");
    assert!(
        bad_strategy
            .validate()
            .unwrap_err()
            .to_string()
            .contains("translation_strategy")
    );
    let bad_label = config("endpoint: 127.0.0.1:1\nconst_labels: {\"a.b\": x}");
    assert!(
        bad_label
            .validate()
            .unwrap_err()
            .to_string()
            .contains("const_labels")
    );
}

#[test]
fn counters_gauges_and_histograms_are_written_by_the_translation_rules() {
    let registry = registry(
        "endpoint: 127.0.0.1:1",
        &[request(vec![
            sum(
                "http.requests",
                "1",
                AggregationTemporality::Cumulative,
                true,
                vec![number(
                    SEC,
                    2 * SEC,
                    7.0,
                    vec![key_value("http.method", "GET")],
                )],
            ),
            gauge(
                "cpu.utilization",
                "1",
                vec![number(0, 2 * SEC, 0.25, vec![])],
            ),
            sum(
                "queue.size",
                "{item}",
                AggregationTemporality::Cumulative,
                false,
                vec![number(SEC, 2 * SEC, 3.0, vec![])],
            ),
            histogram(
                AggregationTemporality::Cumulative,
                SEC,
                2 * SEC,
                vec![1, 2, 3],
            ),
        ])],
    );
    let text = scrape(&registry, None);
    let scope =
        "instance=\"pod-1\",job=\"shop/api\",otel_scope_name=\"io.lib\",otel_scope_version=\"1.0\"";
    for line in [
        "# HELP http_requests_total A sum.".to_string(),
        "# TYPE http_requests_total counter".to_string(),
        format!("http_requests_total{{http_method=\"GET\",{scope}}} 7"),
        "# TYPE cpu_utilization_ratio gauge".to_string(),
        format!("cpu_utilization_ratio{{{scope}}} 0.25"),
        "# TYPE queue_size gauge".to_string(),
        format!("http_server_duration_seconds_bucket{{{scope},le=\"0.5\"}} 1"),
        format!("http_server_duration_seconds_bucket{{{scope},le=\"1\"}} 3"),
        format!("http_server_duration_seconds_bucket{{{scope},le=\"+Inf\"}} 6"),
        format!("http_server_duration_seconds_count{{{scope}}} 6"),
        "target_info{host_name=\"h1\",instance=\"pod-1\",job=\"shop/api\"} 1".to_string(),
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    assert!(!text.contains("# EOF"));
}

#[test]
fn gauges_marked_unknown_by_a_prometheus_receiver_stay_untyped() {
    let mut metric = gauge("scraped", "", vec![number(0, SEC, 1.0, vec![])]);
    metric.metadata = vec![key_value("prometheus.type", "unknown")];
    let text = scrape(
        &registry("endpoint: 127.0.0.1:1", &[request(vec![metric])]),
        None,
    );
    assert!(text.contains("# TYPE scraped untyped\n"), "{text}");
}

#[test]
fn a_family_keeps_one_type_and_unique_label_sets() {
    let mut other_host = request(vec![gauge("dup", "", vec![number(0, SEC, 2.0, vec![])])]);
    other_host.resource_metrics[0]
        .resource
        .as_mut()
        .unwrap()
        .attributes[3] = key_value("host.name", "h2");
    let registry = registry(
        "endpoint: 127.0.0.1:1",
        &[
            request(vec![
                gauge("dup", "", vec![number(0, SEC, 1.0, vec![])]),
                histogram(
                    AggregationTemporality::Cumulative,
                    SEC,
                    2 * SEC,
                    vec![1, 1, 1],
                ),
                gauge(
                    "http.server.duration",
                    "s",
                    vec![number(0, SEC, 1.0, vec![])],
                ),
            ]),
            other_host,
        ],
    );
    let text = scrape(&registry, None);
    // The gauge and the histogram share a name: the first kind (the gauge) stays.
    assert_eq!(
        text.matches("# TYPE http_server_duration_seconds ").count(),
        1,
        "{text}"
    );
    assert!(
        text.contains("# TYPE http_server_duration_seconds gauge"),
        "{text}"
    );
    assert!(!text.contains("_bucket"), "{text}");
    // Two resources that differ only in target_info attributes: one `dup` series.
    assert_eq!(
        text.lines().filter(|l| l.starts_with("dup{")).count(),
        1,
        "{text}"
    );
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("target_info{"))
            .count(),
        1,
        "{text}"
    );
}

#[test]
fn open_metrics_when_enabled_and_asked() {
    let requests = [request(vec![histogram(
        AggregationTemporality::Cumulative,
        SEC,
        2 * SEC,
        vec![1, 2, 3],
    )])];
    let prometheus = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
    let off = registry("endpoint: 127.0.0.1:1", &requests);
    assert!(!scrape(&off, Some(prometheus)).contains("# EOF"));
    let on = registry(
        "endpoint: 127.0.0.1:1\nenable_open_metrics: true",
        &requests,
    );
    let text = scrape(&on, Some(prometheus));
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(
        text.contains("# UNIT http_server_duration_seconds seconds"),
        "{text}"
    );
    assert!(
        text.contains("le=\"1\"} 3 # {trace_id=\"abababababababababababababababab\",span_id=\"cdcdcdcdcdcdcdcd\"} 0.7 2"),
        "{text}"
    );
    assert!(
        text.contains("http_server_duration_seconds_created{"),
        "{text}"
    );
    assert!(!scrape(&on, Some("text/plain")).contains("# EOF"));
}

#[test]
fn exponential_histograms_are_served_as_go_serves_native_ones_in_text() {
    let metric = Metric {
        name: "rpc.latency".into(),
        unit: "ms".into(),
        data: Some(Data::ExponentialHistogram(ExponentialHistogram {
            data_points: vec![ExponentialHistogramDataPoint {
                start_time_unix_nano: SEC,
                time_unix_nano: 2 * SEC,
                count: 4,
                sum: Some(10.0),
                scale: 2,
                zero_count: 1,
                positive: Some(Buckets {
                    offset: 0,
                    bucket_counts: vec![1, 2],
                }),
                ..Default::default()
            }],
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
        })),
        ..Default::default()
    };
    let text = scrape(
        &registry("endpoint: 127.0.0.1:1", &[request(vec![metric])]),
        None,
    );
    let scope =
        "instance=\"pod-1\",job=\"shop/api\",otel_scope_name=\"io.lib\",otel_scope_version=\"1.0\"";
    for line in [
        "# TYPE rpc_latency_milliseconds histogram".to_string(),
        format!("rpc_latency_milliseconds_bucket{{{scope},le=\"+Inf\"}} 4"),
        format!("rpc_latency_milliseconds_sum{{{scope}}} 10"),
        format!("rpc_latency_milliseconds_count{{{scope}}} 4"),
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
}

#[test]
fn delta_sums_and_histograms_add_up_while_they_continue() {
    let delta = AggregationTemporality::Delta;
    let accumulator = Accumulator::new(Duration::from_secs(60), 100);
    let now = Instant::now();
    for (start, end, value) in [
        (SEC, 2 * SEC, 1.0),
        (2 * SEC, 3 * SEC, 2.0),
        (3 * SEC, 4 * SEC, 4.0),
    ] {
        accumulator.accumulate(
            &request(vec![sum(
                "c",
                "",
                delta,
                true,
                vec![number(start, end, value, vec![])],
            )]),
            now,
        );
    }
    let series = accumulator.snapshot(now);
    assert!(matches!(series[0].point, Point::Number { value, .. } if value == 7.0));
    assert_eq!(
        (series[0].start_unix_nano, series[0].time_unix_nano),
        (SEC, 4 * SEC)
    );

    // A gap starts afresh, as Go does.
    accumulator.accumulate(
        &request(vec![sum(
            "c",
            "",
            delta,
            true,
            vec![number(10 * SEC, 11 * SEC, 5.0, vec![])],
        )]),
        now,
    );
    assert!(
        matches!(accumulator.snapshot(now)[0].point, Point::Number { value, .. } if value == 5.0)
    );

    // Delta up-down sums cannot be made cumulative: dropped.
    let done = accumulator.accumulate(
        &request(vec![sum(
            "u",
            "",
            delta,
            false,
            vec![number(SEC, 2 * SEC, 1.0, vec![])],
        )]),
        now,
    );
    assert_eq!(done.skipped, 1);

    for (start, end) in [(SEC, 2 * SEC), (2 * SEC, 3 * SEC)] {
        accumulator.accumulate(
            &request(vec![histogram(delta, start, end, vec![1, 2, 3])]),
            now,
        );
    }
    let histogram = accumulator
        .snapshot(now)
        .into_iter()
        .find(|s| s.metric.name == "http.server.duration")
        .unwrap();
    assert!(
        matches!(&histogram.point, Point::Histogram { counts, count: 12, sum: Some(s), .. } if counts == &vec![2, 4, 6] && *s == 12.0),
        "{:?}",
        histogram.point
    );
}

#[test]
fn older_points_are_skipped_and_no_recorded_value_removes_the_series() {
    let accumulator = Accumulator::new(Duration::from_secs(60), 100);
    let now = Instant::now();
    let cumulative = AggregationTemporality::Cumulative;
    accumulator.accumulate(
        &request(vec![sum(
            "c",
            "",
            cumulative,
            true,
            vec![number(SEC, 5 * SEC, 9.0, vec![])],
        )]),
        now,
    );
    let done = accumulator.accumulate(
        &request(vec![sum(
            "c",
            "",
            cumulative,
            true,
            vec![number(SEC, 4 * SEC, 3.0, vec![])],
        )]),
        now,
    );
    assert_eq!(done.skipped, 1);
    assert!(
        matches!(accumulator.snapshot(now)[0].point, Point::Number { value, .. } if value == 9.0)
    );
    let mut gone = number(SEC, 6 * SEC, 0.0, vec![]);
    gone.flags = 1;
    accumulator.accumulate(
        &request(vec![sum("c", "", cumulative, true, vec![gone])]),
        now,
    );
    assert!(accumulator.snapshot(now).is_empty());
}

#[test]
fn series_expire_and_their_number_is_bounded() {
    let accumulator = Accumulator::new(Duration::from_secs(60), 3);
    let start = Instant::now();
    let points = (0..5)
        .map(|i| number(0, SEC, 1.0, vec![key_value("i", i as i64)]))
        .collect();
    let done = accumulator.accumulate(&request(vec![gauge("g", "", points)]), start);
    assert_eq!((done.stored, done.over_limit), (3, 2));
    assert_eq!(accumulator.len(), 3);
    // Existing series still update at the bound.
    let done = accumulator.accumulate(
        &request(vec![gauge(
            "g",
            "",
            vec![number(0, 2 * SEC, 2.0, vec![key_value("i", 0i64)])],
        )]),
        start,
    );
    assert_eq!(done.stored, 1);
    assert!(accumulator.snapshot(start + Duration::from_secs(59)).len() == 3);
    assert!(
        accumulator
            .snapshot(start + Duration::from_secs(61))
            .is_empty()
    );
}

#[test]
fn namespace_const_labels_timestamps_and_resource_labels() {
    let registry = registry(
        "endpoint: 127.0.0.1:1\nnamespace: otel\nconst_labels: {cluster: eu}\nsend_timestamps: true\n\
         resource_to_telemetry_conversion: {enabled: true}\nadd_metric_suffixes: false",
        &[request(vec![gauge(
            "mem.used",
            "By",
            vec![number(0, 2_500_000_000, 5.0, vec![])],
        )])],
    );
    let text = scrape(&registry, None);
    assert!(
        text.lines().any(|l| l == "otel_mem_used{cluster=\"eu\",host_name=\"h1\",instance=\"pod-1\",job=\"shop/api\",otel_scope_name=\"io.lib\",otel_scope_version=\"1.0\",service_instance_id=\"pod-1\",service_name=\"api\",service_namespace=\"shop\"} 5 2500"),
        "{text}"
    );
    assert!(
        text.contains("otel_target_info{cluster=\"eu\",host_name=\"h1\""),
        "{text}"
    );
}

async fn http_get(addr: std::net::SocketAddr, headers: &str) -> Vec<u8> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET /metrics HTTP/1.1\r\nHost: p\r\nConnection: close\r\n{headers}\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    answer
}

#[tokio::test]
async fn the_server_negotiates_and_gzips() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = config(&format!(
        "endpoint: 127.0.0.1:{port}\nenable_open_metrics: true"
    ));
    config.validate().unwrap();
    let settings = crate::testing::settings::<Metrics>("prometheus");
    let exporter = PrometheusExporter::new(&settings, &config).unwrap();
    exporter.start(&Host::default()).await.unwrap();
    exporter
        .export(Metrics::new(request(vec![gauge(
            "g",
            "",
            vec![number(0, SEC, 1.0, vec![])],
        )])))
        .await
        .unwrap();
    let addr = format!("127.0.0.1:{port}").parse().unwrap();

    let plain = String::from_utf8(http_get(addr, "").await).unwrap();
    assert!(
        plain.contains("content-type: text/plain; version=0.0.4; charset=utf-8"),
        "{plain}"
    );
    assert!(plain.contains("\ng{instance=\"pod-1\""), "{plain}");

    let om = String::from_utf8(
        http_get(
            addr,
            "Accept: application/openmetrics-text; version=1.0.0\r\n",
        )
        .await,
    )
    .unwrap();
    assert!(
        om.contains("content-type: application/openmetrics-text; version=1.0.0; charset=utf-8"),
        "{om}"
    );
    assert!(om.ends_with("# EOF\n"), "{om}");

    let gz = http_get(addr, "Accept-Encoding: gzip\r\n").await;
    let split = gz.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&gz[..split]).to_string();
    assert!(head.contains("content-encoding: gzip"), "{head}");
    let mut body = String::new();
    use std::io::Read as _;
    flate2::read::GzDecoder::new(&gz[split + 4..])
        .read_to_string(&mut body)
        .unwrap();
    assert!(body.contains("# TYPE g gauge"), "{body}");

    let missing = String::from_utf8(http_get_path(addr, "/other").await).unwrap();
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    exporter.shutdown().await.unwrap();
}

async fn http_get_path(addr: std::net::SocketAddr, path: &str) -> Vec<u8> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: p\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    answer
}
