//! The exporter against a scripted remote-write stand-in (the end-to-end tests in
//! `tests/prometheus_remote_write.rs` write to a real Prometheus): headers and bodies,
//! sharding and splitting, and how each answer is classified.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use prost::Message;
use tributary_pipeline_core::component::{ComponentConfig, Host};
use tributary_pipeline_core::exporterhelper::Export;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::builder::{HistogramValue, MetricsBuilder, Temporality};
use tributary_pipeline_core::prelude::key_value;
use tributary_translator_prometheus::prompb::{self, Label, Sample, TimeSeries, WriteRequest};

use super::config::Config;
use super::exporter::{RemoteWriteExporter, shard_requests};
use super::factory;
use crate::testing::server::{TestServer, closed_port, serve};
use crate::testing::{load, settings};

const T: u64 = 1_700_000_000_000_000_000;

/// A scripted answer: a status and headers.
type Answer = (u16, Vec<(&'static str, &'static str)>);

#[derive(Clone, Default)]
struct StandIn {
    seen: Arc<Mutex<Vec<(HeaderMap, WriteRequest)>>>,
    script: Arc<Mutex<VecDeque<Answer>>>,
}

async fn handle(State(state): State<StandIn>, headers: HeaderMap, body: Bytes) -> Response {
    let request = prompb::decode_request(&body, 1 << 26).expect("a valid remote-write body");
    state.seen.lock().unwrap().push((headers, request));
    match state.script.lock().unwrap().pop_front() {
        None => StatusCode::NO_CONTENT.into_response(),
        Some((status, headers)) => {
            let mut response = (StatusCode::from_u16(status).unwrap(), "scripted").into_response();
            for (name, value) in headers {
                response.headers_mut().insert(name, value.parse().unwrap());
            }
            response
        }
    }
}

async fn stand_in() -> (StandIn, TestServer) {
    let state = StandIn::default();
    let router = Router::new().fallback(handle).with_state(state.clone());
    (state, serve(router, None).await)
}

impl StandIn {
    fn answer(&self, status: u16, headers: Vec<(&'static str, &'static str)>) {
        self.script.lock().unwrap().push_back((status, headers));
    }

    fn requests(&self) -> Vec<WriteRequest> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|(_, r)| r.clone())
            .collect()
    }

    fn series(&self) -> Vec<TimeSeries> {
        self.requests()
            .into_iter()
            .flat_map(|r| r.timeseries)
            .collect()
    }
}

async fn exporter(yaml: &str) -> RemoteWriteExporter {
    let config: Config = load(yaml).unwrap();
    let exporter =
        RemoteWriteExporter::new(&settings::<Metrics>("prometheusremotewrite"), &config).unwrap();
    Export::<Metrics>::start(&exporter, &Host::default())
        .await
        .unwrap();
    exporter
}

fn labels(series: &TimeSeries) -> HashMap<&str, &str> {
    series
        .labels
        .iter()
        .map(|l| (l.name.as_str(), l.value.as_str()))
        .collect()
}

/// A counter, a gauge, a histogram and a delta sum, from one resource and scope.
fn sample() -> Metrics {
    let mut b = MetricsBuilder::new();
    b.resource(vec![
        key_value("service.name", "shop"),
        key_value("service.instance.id", "i-1"),
        key_value("host.name", "box"),
    ]);
    b.scope("io.lib", "1.2");
    b.sum("http.requests", "1", Temporality::Cumulative, true)
        .int(
            vec![key_value("http.method", "GET")],
            T - 10_000_000_000,
            T,
            42,
        );
    b.gauge("temperature", "Cel").double(vec![], T, 21.5);
    b.histogram("latency", "s", Temporality::Cumulative)
        .point(
            vec![],
            T - 10_000_000_000,
            T,
            HistogramValue::new(vec![0.1, 1.0], vec![2, 3, 1]).sum(3.5),
        )
        .unwrap();
    b.sum("deltas", "", Temporality::Delta, true)
        .int(vec![], T - 1, T, 1);
    b.build()
}

#[tokio::test]
async fn requests_carry_the_remote_write_headers_and_series() {
    let (backend, server) = stand_in().await;
    let exporter = exporter(&format!(
        "endpoint: http://{}/api/v1/write\nheaders: {{ Content-Type: text/plain, X-Scope-OrgID: t1 }}\nexternal_labels: {{ cluster: eu, job: not-this }}\nsend_metadata: true",
        server.addr
    ))
    .await;
    exporter.export(sample()).await.unwrap();
    let seen = backend.seen.lock().unwrap().clone();
    let (headers, _) = &seen[0];
    assert_eq!(headers["content-encoding"], "snappy");
    assert_eq!(
        headers["content-type"], "application/x-protobuf",
        "headers cannot override it"
    );
    assert_eq!(headers["x-prometheus-remote-write-version"], "0.1.0");
    assert_eq!(headers["x-scope-orgid"], "t1");
    assert!(headers.contains_key("user-agent"));

    let series = backend.series();
    let find = |name: &str, extra: Option<(&str, &str)>| {
        series
            .iter()
            .find(|s| s.name() == name && extra.is_none_or(|(k, v)| s.label(k) == Some(v)))
            .unwrap_or_else(|| panic!("no series {name} {extra:?} in {series:#?}"))
    };
    let counter = find("http_requests_total", None);
    let l = labels(counter);
    assert_eq!(l["http_method"], "GET");
    assert_eq!(
        l["job"], "shop",
        "the series' own job wins over the external label"
    );
    assert_eq!(l["instance"], "i-1");
    assert_eq!(l["otel_scope_name"], "io.lib");
    assert_eq!(l["cluster"], "eu");
    assert_eq!(
        counter.samples,
        vec![Sample {
            value: 42.0,
            timestamp: (T / 1_000_000) as i64
        }]
    );
    let names: Vec<&str> = counter.labels.iter().map(|l| l.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "labels are sorted by name");

    assert_eq!(find("temperature_celsius", None).samples[0].value, 21.5);
    assert_eq!(
        find("latency_seconds_bucket", Some(("le", "0.1"))).samples[0].value,
        2.0
    );
    assert_eq!(
        find("latency_seconds_bucket", Some(("le", "1"))).samples[0].value,
        5.0
    );
    assert_eq!(
        find("latency_seconds_bucket", Some(("le", "+Inf"))).samples[0].value,
        6.0
    );
    assert_eq!(find("latency_seconds_sum", None).samples[0].value, 3.5);
    assert_eq!(find("latency_seconds_count", None).samples[0].value, 6.0);
    let info = labels(find("target_info", None));
    assert_eq!(info["host_name"], "box");
    assert_eq!(
        find("deltas_total", None).samples[0].value,
        1.0,
        "a delta monotonic sum goes as cumulative"
    );

    let metadata: Vec<_> = backend
        .requests()
        .into_iter()
        .flat_map(|r| r.metadata)
        .collect();
    let counter_meta = metadata
        .iter()
        .find(|m| m.metric_family_name == "http_requests_total")
        .expect("metadata of the counter");
    assert_eq!(counter_meta.r#type, prompb::MetricType::Counter as i32);
    let latency = metadata
        .iter()
        .find(|m| m.metric_family_name == "latency_seconds")
        .unwrap();
    assert_eq!(latency.unit, "seconds");
}

#[tokio::test]
async fn no_recorded_value_becomes_the_stale_marker() {
    let (backend, server) = stand_in().await;
    let exporter = exporter(&format!("endpoint: http://{}/", server.addr)).await;
    let mut b = MetricsBuilder::new();
    b.gauge("gone", "").double(vec![], T, 1.0);
    let mut metrics = b.build();
    let point = &mut metrics.make_mut().resource_metrics[0].scope_metrics[0].metrics[0];
    if let Some(tributary_pipeline_core::pdata::proto::metrics::v1::metric::Data::Gauge(g)) =
        &mut point.data
    {
        g.data_points[0].flags = 1;
    }
    exporter.export(metrics).await.unwrap();
    assert!(prompb::is_stale_nan(backend.series()[0].samples[0].value));
}

/// One delta monotonic sum point of `value` at `t`.
fn delta(value: i64, t: u64) -> Metrics {
    let mut b = MetricsBuilder::new();
    b.resource(vec![key_value("service.name", "svc")]);
    b.sum("jobs", "", Temporality::Delta, true).int(
        vec![key_value("queue", "a")],
        t - 1_000_000_000,
        t,
        value,
    );
    b.build()
}

#[tokio::test]
async fn delta_counters_accumulate_and_a_retry_does_not_count_twice() {
    let (backend, server) = stand_in().await;
    let exporter = exporter(&format!("endpoint: http://{}/", server.addr)).await;
    exporter.export(delta(2, T)).await.unwrap();
    backend.answer(503, vec![]);
    let second = delta(3, T + 1_000_000_000);
    assert!(exporter.export(second.clone()).await.is_err());
    exporter.export(second).await.unwrap();
    exporter.export(delta(4, T + 2_000_000_000)).await.unwrap();
    let values: Vec<f64> = backend
        .series()
        .iter()
        .filter(|s| s.name() == "jobs_total")
        .flat_map(|s| s.samples.iter().map(|p| p.value))
        .collect();
    // 2, then 5 (sent twice: refused, then retried), then 9.
    assert_eq!(values, vec![2.0, 5.0, 5.0, 9.0]);
    assert_eq!(exporter.inner_deltas_len(), 1);
}

#[test]
fn shards_keep_a_series_in_one_place_and_requests_within_the_limit() {
    let series: Vec<TimeSeries> = (0..200)
        .map(|i| TimeSeries {
            labels: vec![Label::new("__name__", format!("metric_number_{i}"))],
            samples: vec![Sample {
                value: i as f64,
                timestamp: i,
            }],
            ..Default::default()
        })
        .collect();
    let shards = shard_requests(series.clone(), vec![], 4, 1000);
    assert_eq!(shards.len(), 4);
    let mut seen = 0;
    for bodies in &shards {
        for body in bodies {
            let request = prompb::decode_request(body, 1 << 20).unwrap();
            assert!(
                request.encoded_len() <= 1000,
                "{} bytes",
                request.encoded_len()
            );
            seen += request.timeseries.len();
        }
    }
    assert_eq!(seen, 200);
    // The same batch is sharded the same way (its series by a hash of their labels).
    assert_eq!(shard_requests(series.clone(), vec![], 4, 1000), shards);
    // A batch that fits one request is one request, whatever the parallelism (as in Go).
    let small = shard_requests(series[..10].to_vec(), vec![], 4, 1000);
    assert_eq!(small.len(), 1);
    assert_eq!(small[0].len(), 1);
    // Two requests' worth: two shards of one request each.
    let cut = series.iter().scan(0, |size, s| {
        *size += s.encoded_len() + 2;
        Some(*size)
    });
    let two = cut.take_while(|&size| size <= 1900).count();
    let shards = shard_requests(series[..two].to_vec(), vec![], 4, 1000);
    assert_eq!(shards.len(), 2);
    // One series larger than the limit still goes, alone.
    let big = TimeSeries {
        labels: vec![Label::new("__name__", "x".repeat(2000))],
        ..Default::default()
    };
    let shards = shard_requests(vec![big], vec![], 1, 1000);
    assert_eq!(shards[0].len(), 1);
}

#[tokio::test]
async fn batches_are_split_by_max_batch_size_bytes() {
    let (backend, server) = stand_in().await;
    let exporter = exporter(&format!(
        "endpoint: http://{}/\nmax_batch_size_bytes: 400\nremote_write_queue: {{ num_consumers: 2 }}",
        server.addr
    ))
    .await;
    let mut b = MetricsBuilder::new();
    for i in 0..50 {
        b.gauge(&format!("g{i}"), "").double(vec![], T, i as f64);
    }
    exporter.export(b.build()).await.unwrap();
    let requests = backend.requests();
    assert!(requests.len() > 2, "{} requests", requests.len());
    assert!(requests.iter().all(|r| r.encoded_len() <= 400));
    assert_eq!(backend.series().len(), 50);
}

/// A batch too large for one request goes out as one request per shard, concurrently:
/// the connections stay open for the next batch rather than being closed beyond Go's two
/// idle ones per host.
#[tokio::test]
async fn connections_are_reused_across_batches() {
    let (state, server) = stand_in().await;
    let exporter = exporter(&format!(
        "endpoint: http://{}/api/v1/write\nmax_batch_request_parallelism: 4\nmax_batch_size_bytes: 1500\n",
        server.addr
    ))
    .await;
    let batch = || {
        let mut b = MetricsBuilder::new();
        b.resource(vec![key_value("service.name", "shop")]);
        b.scope("io.lib", "1.2");
        let mut gauge = b.gauge("temperature", "Cel");
        for room in 0..64_i64 {
            gauge.double(vec![key_value("room", room)], T, 21.5);
        }
        b.build()
    };
    for _ in 0..10 {
        exporter.export(batch()).await.unwrap();
    }
    assert!(state.requests().len() >= 20, "each batch spans shards");
    let accepted = server.accepted.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        accepted <= 4,
        "{accepted} connections for 4 concurrent requests"
    );
}

#[tokio::test]
async fn answers_are_classified() {
    let (backend, server) = stand_in().await;
    let exporter = exporter(&format!(
        "endpoint: http://{}/\nremote_write_queue: {{ num_consumers: 1 }}",
        server.addr
    ))
    .await;
    backend.answer(400, vec![]);
    assert!(exporter.export(sample()).await.unwrap_err().is_permanent());
    backend.answer(503, vec![]);
    let error = exporter.export(sample()).await.unwrap_err();
    assert!(error.is_retryable() && !error.is_throttled());
    backend.answer(429, vec![("retry-after", "3")]);
    let error = exporter.export(sample()).await.unwrap_err();
    assert!(error.is_throttled());
    assert_eq!(error.retry_after(), Some(std::time::Duration::from_secs(3)));
    let nowhere = exporter_at(closed_port().await).await;
    assert!(nowhere.export(sample()).await.unwrap_err().is_retryable());
}

async fn exporter_at(addr: std::net::SocketAddr) -> RemoteWriteExporter {
    exporter(&format!("endpoint: http://{addr}/")).await
}

#[tokio::test]
async fn permanent_errors_are_not_retried_and_retryable_ones_are() {
    let (backend, server) = stand_in().await;
    let config: Config = load(&format!(
        "endpoint: http://{}/\nremote_write_queue: {{ enabled: false, num_consumers: 1 }}\nretry_on_failure: {{ initial_interval: 10ms, max_interval: 10ms }}",
        server.addr
    ))
    .unwrap();
    let exporter = factory()
        .create(&settings::<Metrics>("prometheusremotewrite"), &config)
        .unwrap();
    exporter.start(&Host::default()).await.unwrap();
    let mut b = MetricsBuilder::new();
    b.gauge("g", "").double(vec![], T, 1.0);
    let one = b.build();

    backend.answer(400, vec![]);
    assert!(exporter.consume(one.clone()).await.is_err());
    assert_eq!(backend.requests().len(), 1, "a 400 is sent once");

    backend.answer(503, vec![]);
    backend.answer(429, vec![("retry-after", "0")]);
    exporter.consume(one).await.unwrap();
    assert_eq!(backend.requests().len(), 4, "503 and 429 are retried");
    exporter.shutdown().await.unwrap();
}

#[test]
fn config_keys_defaults_and_refusals() {
    let config = Config::default();
    assert!(config.remote_write_queue.enabled);
    assert_eq!(config.remote_write_queue.queue_size, 10_000);
    assert_eq!(config.remote_write_queue.num_consumers, 5);
    assert_eq!(config.max_batch_size_bytes, 3_000_000);
    assert!(config.add_metric_suffixes && !config.send_metadata);
    assert!(config.target_info.enabled && !config.export_created_metric.enabled);
    assert_eq!(config.retry_on_failure.initial_interval.as_millis(), 50);
    assert_eq!(config.retry_on_failure.max_interval.as_millis(), 200);
    assert_eq!(config.retry_on_failure.max_elapsed_time.as_secs(), 60);
    assert_eq!(config.timeout().as_secs(), 5);
    assert_eq!(
        config.helper().sending_queue.num_consumers,
        1,
        "batches stay in order"
    );

    let partial: Config = load("endpoint: http://h/\nretry_on_failure: { enabled: true }").unwrap();
    assert_eq!(
        partial.retry_on_failure.max_interval.as_millis(),
        200,
        "Go's defaults, not the helper's"
    );

    let refuse = |yaml: &str, key: &str| {
        let error = load::<Config>(yaml).unwrap_err().to_string();
        assert!(error.contains(key), "{yaml}: {error}");
    };
    refuse("namespace: x", "endpoint");
    refuse("endpoint: http://h/\nsending_queue: {}", "sending_queue");
    refuse("endpoint: http://h/\nwal: { directory: /tmp }", "wal");
    refuse(
        "endpoint: http://h/\nprotobuf_message: io.prometheus.write.v2.Request",
        "protobuf_message",
    );
    refuse(
        "endpoint: http://h/\ntranslation_strategy: Fancy",
        "translation_strategy",
    );
    refuse(
        "endpoint: http://h/\nexternal_labels: { a: \"\" }",
        "external_labels",
    );
    refuse("endpoint: http://h/\ncompression: gzip", "compression");
    refuse(
        "endpoint: http://h/\nremote_write_queue: { num_consumers: 0 }",
        "num_consumers",
    );
    refuse("endpoint: ftp://h/", "endpoint");
    refuse(
        "endpoint: http://h/\nremote_write_queue: { include_metadata_keys: [x-org-id] }",
        "include_metadata_keys",
    );

    let nested: Config = load("http: { endpoint: \"http://n/api/v1/write\" }").unwrap();
    assert_eq!(nested.client().endpoint.expose(), "http://n/api/v1/write");
    let stored: Config =
        load("endpoint: http://h/\nremote_write_queue: { storage: file_storage }").unwrap();
    assert!(stored.validate().is_ok());
    assert_eq!(
        stored
            .helper()
            .sending_queue
            .storage
            .map(|s| s.to_string())
            .as_deref(),
        Some("file_storage")
    );
}

#[tokio::test]
async fn conformance() {
    tributary_pipeline_core::testing::check_exporter(
        factory(),
        "endpoint: http://127.0.0.1:{port}/api/v1/write",
    )
    .await;
}
