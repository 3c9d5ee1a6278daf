//! The receiver's behaviour: grouping keys as the Pushgateway reads them, what each method
//! forwards (samples, staleness markers, push times), the answers a client sees, the
//! record's bounds, and decoders that survive any input.

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use reqwest::StatusCode;
use tributary_confmap::Conf;
use tributary_pipeline_core::component::{Component, ComponentConfig, Host, Kind};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::proto::common::v1::{KeyValue, any_value};
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    DataPointFlags, metric::Data, number_data_point,
};
use tributary_pipeline_core::testing::{Sink, settings};
use tributary_translator_prometheus::text::Limits;

use super::receiver::PushReceiver;
use super::*;

// ------------------------------------------------------------------ grouping keys

fn key(path: &str) -> GroupingKey {
    parse_grouping_key(path, &[]).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

fn key_error(path: &str, required: &[&str]) -> String {
    let required: Vec<String> = required.iter().map(|s| s.to_string()).collect();
    parse_grouping_key(path, &required)
        .expect_err(path)
        .to_string()
}

#[test]
fn grouping_keys_put_job_first_and_sort_the_rest() {
    let k = key("/job/backup/zone/eu/instance/db1");
    let labels: Vec<(&str, &str)> = k
        .labels()
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        labels,
        [("job", "backup"), ("instance", "db1"), ("zone", "eu")]
    );
    assert_eq!(key("/job/a/b/c/"), key("/job/a/b/c"), "a trailing slash");
    assert_eq!(k.to_string(), r#"{job="backup",instance="db1",zone="eu"}"#);
}

#[test]
fn base64_values_and_percent_escapes() {
    // The prometheus_client forms: `/` in a value and the empty value.
    assert_eq!(key("/job@base64/YmFja3Vw").get("job"), Some("backup"));
    assert_eq!(
        key("/job/j/path@base64/L3Zhci90bXA").get("path"),
        Some("/var/tmp")
    );
    assert_eq!(
        key("/job/j/path@base64/L3Zhci90bXA=").get("path"),
        Some("/var/tmp")
    );
    assert_eq!(key("/job/j/empty@base64/=").get("empty"), Some(""));
    // base64url, not standard base64: `_` and `-`.
    assert_eq!(key("/job/j/v@base64/Pj4-Pw==").get("v"), Some(">>>?"));
    assert_eq!(key("/job/j/v@base64/w78_").get("v"), Some("ÿ?"));
    assert_eq!(key("/job/a%20b/x/a+b").get("job"), Some("a b"));
    assert_eq!(key("/job/a%20b/x/a+b").get("x"), Some("a+b"));
    assert!(key_error("/job/j/v@base64/***", &[]).contains("base64url"));
    assert!(key_error("/job/j/v@base64/_w", &[]).contains("UTF-8"));
    assert!(key_error("/job/j/v/%zz", &[]).contains("percent"));
    assert!(key_error("/job/j/v/%+1", &[]).contains("percent"));
}

#[test]
fn malformed_grouping_keys_are_refused_with_a_reason() {
    assert!(key_error("", &[]).contains("/job/<JOB>"));
    assert!(key_error("/", &[]).contains("odd") || key_error("/", &[]).contains("/job/"));
    assert!(key_error("/job", &[]).contains("odd"));
    assert!(key_error("/job/", &[]).contains("odd") || key_error("/job/", &[]).contains("empty"));
    assert!(key_error("/job/a/b", &[]).contains("odd"));
    assert!(key_error("/instance/a/job/b", &[]).contains("start with /job/"));
    assert!(key_error("/job//x/y", &[]).contains("empty value"));
    assert!(key_error("/job/j/x//", &[]).contains("empty value"));
    assert!(key_error("/job@base64/=", &[]).contains("job name"));
    assert!(key_error("/job/j/__name__/x", &[]).contains("improper label name"));
    assert!(key_error("/job/j/1abc/x", &[]).contains("improper label name"));
    assert!(key_error("/job/j/a/1/a/2", &[]).contains("twice"));
    assert!(key_error("/job/j/job/k", &[]).contains("twice"));
    assert!(key_error("/job/j/app/a", &["app", "step"]).contains("\"step\""));
    parse_grouping_key("/job/j/step/60/app/a", &["app".into(), "step".into()]).unwrap();
}

// ------------------------------------------------------------------ bodies

#[test]
fn grouping_labels_replace_the_samples_own() {
    let group = key("/job/batch/instance/host1");
    let body =
        b"# TYPE done gauge\ndone{job=\"other\",kind=\"x\"} 1\nuntyped_thing 2 1700000000000\n";
    let families = parse_push_body(body, None, &group, &Limits::default()).unwrap();
    let done = &families[0].samples[0];
    assert_eq!(done.label("job"), Some("batch"));
    assert_eq!(done.label("instance"), Some("host1"));
    assert_eq!(done.label("kind"), Some("x"));
    assert_eq!(done.labels.iter().filter(|(n, _)| n == "job").count(), 1);
    assert_eq!(families[1].samples[0].label("job"), Some("batch"));
    assert_eq!(families[1].samples[0].timestamp_ms, Some(1_700_000_000_000));
}

#[test]
fn content_types_choose_the_format_or_are_refused() {
    let group = key("/job/j");
    let limits = Limits::default();
    let om = b"# TYPE a counter\na_total 1 1700000000.5\n# EOF\n";
    let families = parse_push_body(
        om,
        Some("application/openmetrics-text; version=1.0.0"),
        &group,
        &limits,
    )
    .unwrap();
    assert_eq!(families[0].samples[0].timestamp_ms, Some(1_700_000_000_500));
    // curl --data-binary: a form type, read as text.
    parse_push_body(
        b"a 1\n",
        Some("application/x-www-form-urlencoded"),
        &group,
        &limits,
    )
    .unwrap();
    let truncated = parse_push_body(
        b"\x05abc",
        Some("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"),
        &group,
        &limits,
    )
    .unwrap_err();
    assert!(matches!(truncated, BodyError::Malformed(ref m) if m.contains("protobuf")));
    let text_protobuf = parse_push_body(
        b"name: \"a\"",
        Some("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=text"),
        &group,
        &limits,
    )
    .unwrap_err();
    assert!(matches!(text_protobuf, BodyError::Unsupported(ref m) if m.contains("delimited")));
    let bad = parse_push_body(b"a 1\nb{ 2\n", None, &group, &limits).unwrap_err();
    assert!(
        matches!(bad, BodyError::Malformed(ref m) if m.contains("line 2")),
        "{bad:?}"
    );
    let reserved = parse_push_body(b"push_time_seconds 1\n", None, &group, &limits).unwrap_err();
    assert!(reserved.to_string().contains("push_time_seconds"));
}

// ------------------------------------------------------------------ the receiver over HTTP

const LOCAL: &str = "endpoint: 127.0.0.1:0";

async fn start(sink: &Arc<Sink<Metrics>>, yaml: &str) -> (PushReceiver, String) {
    let config: Config = Conf::from_yaml(yaml).unwrap().decode().unwrap();
    config.validate().unwrap();
    let receiver = PushReceiver::new(
        &settings::<Metrics>(Kind::Receiver, "prometheus_push"),
        &config,
        sink.next(),
    );
    receiver.start(&Host::default()).await.unwrap();
    let base = format!("http://{}", receiver.local_addr().unwrap());
    (receiver, base)
}

/// One forwarded point: metric name, attributes, value (`None` when stale), time, and the
/// resource's `service.name`.
#[derive(Debug, Clone, PartialEq)]
struct Point {
    name: String,
    attrs: Vec<(String, String)>,
    value: Option<f64>,
    time_ns: u64,
    service: String,
}

fn text(kv: &KeyValue) -> String {
    match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        other => format!("{other:?}"),
    }
}

fn points(batch: &Metrics) -> Vec<Point> {
    let mut out = Vec::new();
    for resource in &batch.request().resource_metrics {
        let service = resource
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .find(|kv| kv.key == "service.name")
            .map(text)
            .unwrap_or_default();
        for metric in resource.scope_metrics.iter().flat_map(|s| &s.metrics) {
            let numbers = match &metric.data {
                Some(Data::Gauge(g)) => g.data_points.clone(),
                Some(Data::Sum(s)) => s.data_points.clone(),
                Some(Data::Histogram(h)) => {
                    for p in &h.data_points {
                        let stale = p.flags & DataPointFlags::NoRecordedValueMask as u32 != 0;
                        out.push(Point {
                            name: metric.name.clone(),
                            attrs: p
                                .attributes
                                .iter()
                                .map(|kv| (kv.key.clone(), text(kv)))
                                .collect(),
                            value: (!stale).then_some(p.count as f64),
                            time_ns: p.time_unix_nano,
                            service: service.clone(),
                        });
                    }
                    Vec::new()
                }
                _ => Vec::new(),
            };
            for p in numbers {
                let stale = p.flags & DataPointFlags::NoRecordedValueMask as u32 != 0;
                let value = match p.value {
                    Some(number_data_point::Value::AsDouble(v)) => Some(v),
                    Some(number_data_point::Value::AsInt(v)) => Some(v as f64),
                    None => None,
                };
                assert_eq!(stale, value.is_none(), "{metric:?}");
                out.push(Point {
                    name: metric.name.clone(),
                    attrs: p
                        .attributes
                        .iter()
                        .map(|kv| (kv.key.clone(), text(kv)))
                        .collect(),
                    value,
                    time_ns: p.time_unix_nano,
                    service: service.clone(),
                });
            }
        }
    }
    out
}

/// The points of the last batch the pipeline took, but the push-time gauges.
fn last(sink: &Sink<Metrics>) -> Vec<Point> {
    let batches = sink.accepted();
    let batch = batches.last().expect("a batch");
    points(batch)
        .into_iter()
        .filter(|p| !p.name.starts_with("push_"))
        .collect()
}

/// `(name, value)` of each point, sorted: stale ones have no value.
fn summary(points: &[Point]) -> Vec<(String, Option<f64>)> {
    let mut summary: Vec<(String, Option<f64>)> = points
        .iter()
        .map(|p| {
            let labels: Vec<String> = p.attrs.iter().map(|(n, v)| format!("{n}={v}")).collect();
            (format!("{}{{{}}}", p.name, labels.join(",")), p.value)
        })
        .collect();
    summary.sort_by(|a, b| a.0.cmp(&b.0));
    summary
}

fn s(name: &str, value: Option<f64>) -> (String, Option<f64>) {
    (name.to_string(), value)
}

async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: &'static str,
) -> reqwest::Response {
    client.request(method, url).body(body).send().await.unwrap()
}

#[tokio::test]
async fn put_replaces_the_group_and_marks_what_it_dropped_stale() {
    let sink = Sink::new();
    let (receiver, base) = start(&sink, LOCAL).await;
    let client = reqwest::Client::new();
    let url = format!("{base}/metrics/job/backup/instance/db1");
    let first = send(
        &client,
        reqwest::Method::PUT,
        url.clone(),
        "# TYPE rows gauge\nrows{table=\"a\"} 10\nrows{table=\"b\"} 20\n# TYPE done gauge\ndone 1\n",
    )
    .await;
    assert_eq!(first.status(), StatusCode::OK);
    let pushed = last(&sink);
    assert_eq!(
        summary(&pushed),
        [
            s("done{}", Some(1.0)),
            s("rows{table=a}", Some(10.0)),
            s("rows{table=b}", Some(20.0)),
        ]
    );
    assert!(pushed.iter().all(|p| p.service == "backup"));
    // push_time_seconds, with the grouping labels.
    let push_time = points(sink.accepted().last().unwrap())
        .into_iter()
        .find(|p| p.name == "push_time_seconds")
        .expect("push_time_seconds");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(
        (push_time.value.unwrap() - now).abs() < 60.0,
        "{push_time:?}"
    );
    assert_eq!(push_time.service, "backup");

    let second = send(
        &client,
        reqwest::Method::PUT,
        url.clone(),
        "# TYPE rows gauge\nrows{table=\"a\"} 11\n",
    )
    .await;
    assert_eq!(second.status(), StatusCode::OK);
    assert_eq!(
        summary(&last(&sink)),
        [
            s("done{}", None),
            s("rows{table=a}", Some(11.0)),
            s("rows{table=b}", None),
        ]
    );
    assert_eq!(receiver.usage().await.1, 1);
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn post_replaces_only_the_metrics_it_names() {
    let sink = Sink::new();
    let (receiver, base) = start(&sink, LOCAL).await;
    let client = reqwest::Client::new();
    let url = format!("{base}/metrics/job/j");
    send(
        &client,
        reqwest::Method::POST,
        url.clone(),
        "rows{table=\"a\"} 1\nrows{table=\"b\"} 2\ndone 1\n",
    )
    .await;
    let answer = send(
        &client,
        reqwest::Method::POST,
        url.clone(),
        "rows{table=\"b\"} 3\n",
    )
    .await;
    assert_eq!(answer.status(), StatusCode::OK);
    // `done` is untouched; rows{a} is gone.
    assert_eq!(
        summary(&last(&sink)),
        [s("rows{table=a}", None), s("rows{table=b}", Some(3.0))]
    );
    // A PUT with an empty body empties the group.
    send(&client, reqwest::Method::PUT, url.clone(), "").await;
    assert_eq!(
        summary(&last(&sink)),
        [s("done{}", None), s("rows{table=b}", None)]
    );
    assert_eq!(receiver.usage().await.1, 0);
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn delete_marks_the_whole_group_stale_and_answers_202() {
    let sink = Sink::new();
    let (receiver, base) = start(&sink, LOCAL).await;
    let client = reqwest::Client::new();
    let url = format!("{base}/metrics/job/j/zone/eu");
    send(
        &client,
        reqwest::Method::PUT,
        url.clone(),
        "# TYPE lat histogram\nlat_bucket{le=\"1\"} 1\nlat_bucket{le=\"+Inf\"} 2\nlat_count 2\nlat_sum 3\n# TYPE c counter\nc_total 5\n",
    )
    .await;
    // Another group is left alone.
    send(
        &client,
        reqwest::Method::PUT,
        format!("{base}/metrics/job/j/zone/us"),
        "c_total 1\n",
    )
    .await;
    let deleted = send(&client, reqwest::Method::DELETE, url.clone(), "").await;
    assert_eq!(deleted.status(), StatusCode::ACCEPTED);
    let all = points(sink.accepted().last().unwrap());
    let mut names: Vec<(String, Option<f64>)> = summary(&all);
    names.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        names,
        [
            s("c_total{zone=eu}", None),
            s("lat{zone=eu}", None),
            s("push_time_seconds{zone=eu}", None),
        ]
    );
    assert_eq!(receiver.usage().await.0, 1);
    // Deleting an unknown group is fine and forwards nothing.
    let calls = sink.calls();
    let again = send(&client, reqwest::Method::DELETE, url, "").await;
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    assert_eq!(sink.calls(), calls);
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn samples_keep_their_timestamps_and_counters_their_start() {
    let sink = Sink::new();
    let (receiver, base) = start(&sink, LOCAL).await;
    let client = reqwest::Client::new();
    let url = format!("{base}/metrics/job/j");
    send(
        &client,
        reqwest::Method::PUT,
        url.clone(),
        "# TYPE c counter\nc_total 1 1700000000000\n",
    )
    .await;
    send(
        &client,
        reqwest::Method::PUT,
        url.clone(),
        "# TYPE c counter\nc_total 4 1700000060000\n",
    )
    .await;
    let batch = sink.accepted().last().unwrap().clone();
    let metric = batch.request().resource_metrics[0].scope_metrics[0]
        .metrics
        .iter()
        .find(|m| m.name == "c_total")
        .unwrap()
        .clone();
    let Some(Data::Sum(sum)) = metric.data else {
        panic!("not a sum")
    };
    let point = &sum.data_points[0];
    assert_eq!(point.time_unix_nano, 1_700_000_060_000_000_000);
    assert_eq!(point.start_time_unix_nano, 1_700_000_000_000_000_000);
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_requests_get_their_status_and_reason() {
    let sink = Sink::new();
    let (receiver, base) = start(&sink, "endpoint: 127.0.0.1:0\nmax_request_body_size: 1000").await;
    let client = reqwest::Client::new();
    let get = client
        .get(format!("{base}/metrics/job/j"))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(get.headers()["allow"], "PUT, POST, DELETE");
    let other = client
        .put(format!("{base}/other/job/j"))
        .body("a 1")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    let prefix_only = client
        .put(format!("{base}/metricsx/job/j"))
        .body("a 1")
        .send()
        .await
        .unwrap();
    assert_eq!(prefix_only.status(), StatusCode::NOT_FOUND);
    let odd = client
        .put(format!("{base}/metrics/job/j/a"))
        .body("a 1")
        .send()
        .await
        .unwrap();
    assert_eq!(odd.status(), StatusCode::BAD_REQUEST);
    assert!(odd.headers()["err"].to_str().unwrap().contains("odd"));
    assert!(odd.text().await.unwrap().contains("odd"));
    let malformed = client
        .put(format!("{base}/metrics/job/j"))
        .body("a{ 1\n")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert!(malformed.text().await.unwrap().contains("line 1"));
    let protobuf = client
        .put(format!("{base}/metrics/job/j"))
        .header(
            "Content-Type",
            "application/vnd.google.protobuf; encoding=compact-text",
        )
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(protobuf.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let brotli = client
        .put(format!("{base}/metrics/job/j"))
        .header("Content-Encoding", "br-unknown")
        .body("a 1")
        .send()
        .await
        .unwrap();
    assert_eq!(brotli.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let large = client
        .put(format!("{base}/metrics/job/j"))
        .body("a 1\n".repeat(400))
        .send()
        .await
        .unwrap();
    assert_eq!(large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // A gzip bomb: small on the wire, over the limit once inflated.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&b"a 1\n".repeat(10_000)).unwrap();
    let bomb = client
        .put(format!("{base}/metrics/job/j"))
        .header("Content-Encoding", "gzip")
        .body(gz.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(bomb.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Nothing but push_failure_time_seconds reached the pipeline.
    for batch in sink.accepted() {
        for point in points(&batch) {
            assert_eq!(point.name, "push_failure_time_seconds", "{point:?}");
            assert!(point.value.is_some());
        }
    }
    assert!(
        sink.calls() >= 2,
        "malformed and text-protobuf bodies report a failure"
    );
    assert_eq!(receiver.usage().await, (0, 0, 0));
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn gzip_bodies_are_read() {
    let sink = Sink::new();
    let (receiver, base) = start(&sink, LOCAL).await;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"# TYPE g gauge\ng 7\n").unwrap();
    let answer = reqwest::Client::new()
        .put(format!("{base}/metrics/job/j"))
        .header("Content-Encoding", "gzip")
        .body(gz.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(summary(&last(&sink)), [s("g{}", Some(7.0))]);
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_lookout_form_needs_app_and_step_and_answers_202() {
    let sink = Sink::new();
    let (receiver, base) = start(
        &sink,
        "endpoint: 127.0.0.1:0\npath_prefix: /prom/metrics\nrequired_labels: [app, step]\nsuccess_status: 202",
    )
    .await;
    let client = reqwest::Client::new();
    let missing = client
        .post(format!("{base}/prom/metrics/job/j/app/shop"))
        .body("a 1\n")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert!(missing.headers()["err"].to_str().unwrap().contains("step"));
    let ok = client
        .post(format!("{base}/prom/metrics/job/j/app/shop/step/60"))
        .body("a 1\n")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::ACCEPTED);
    let pushed = last(&sink);
    assert_eq!(summary(&pushed), [s("a{app=shop,step=60}", Some(1.0))]);
    let pushgateway_path = client
        .put(format!("{base}/metrics/job/j"))
        .body("a 1")
        .send()
        .await
        .unwrap();
    assert_eq!(pushgateway_path.status(), StatusCode::NOT_FOUND);
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_record_is_bounded_and_a_refused_push_changes_nothing() {
    let sink = Sink::new();
    let (receiver, base) = start(
        &sink,
        "endpoint: 127.0.0.1:0\nmax_groups: 2\nmax_series: 3\nmax_recorded_bytes: 100000",
    )
    .await;
    let client = reqwest::Client::new();
    let put = |group: &str, body: &'static str| {
        client
            .put(format!("{base}/metrics/job/{group}"))
            .body(body)
            .send()
    };
    assert_eq!(
        put("a", "x 1\ny 1\n").await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(put("b", "x 1\n").await.unwrap().status(), StatusCode::OK);
    let third = put("c", "x 1\n").await.unwrap();
    assert_eq!(third.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(third.text().await.unwrap().contains("max_groups"));
    let more = put("b", "x 1\ny 1\n").await.unwrap();
    assert_eq!(more.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(more.text().await.unwrap().contains("max_series"));
    assert_eq!(receiver.usage().await.0, 2);
    assert_eq!(receiver.usage().await.1, 3);
    // Room made by a delete is room again.
    let deleted = client
        .delete(format!("{base}/metrics/job/a"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::ACCEPTED);
    assert_eq!(
        put("c", "x 1\ny 1\n").await.unwrap().status(),
        StatusCode::OK
    );
    // One push larger than max_series is refused by the parser's sample bound.
    let huge = put("b", "a 1\nb 1\nc 1\nd 1\n").await.unwrap();
    assert_eq!(huge.status(), StatusCode::BAD_REQUEST);
    assert_eq!(receiver.usage().await.1, 3);
    receiver.shutdown().await.unwrap();

    let sink = Sink::new();
    let (receiver, base) = start(&sink, "endpoint: 127.0.0.1:0\nmax_recorded_bytes: 200").await;
    let long = reqwest::Client::new()
        .put(format!("{base}/metrics/job/j"))
        .body(format!("m{{l=\"{}\"}} 1\n", "v".repeat(300)))
        .send()
        .await
        .unwrap();
    assert_eq!(long.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(long.text().await.unwrap().contains("max_recorded_bytes"));
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn pipeline_refusals_map_to_statuses_and_leave_the_record() {
    let sink = Sink::new();
    let (receiver, base) = start(&sink, LOCAL).await;
    let client = reqwest::Client::new();
    let url = format!("{base}/metrics/job/j");
    send(&client, reqwest::Method::PUT, url.clone(), "a 1\nb 1\n").await;

    sink.refuse_with(Some(ConsumeError::throttled(
        "slow down",
        Some(Duration::from_millis(1500)),
    )));
    let throttled = send(&client, reqwest::Method::PUT, url.clone(), "a 2\n").await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(throttled.headers()["retry-after"], "2");
    sink.refuse_with(Some(ConsumeError::retryable("queue full")));
    let busy = send(&client, reqwest::Method::PUT, url.clone(), "a 2\n").await;
    assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
    sink.refuse_with(Some(ConsumeError::permanent("bad")));
    let permanent = send(&client, reqwest::Method::PUT, url.clone(), "a 2\n").await;
    assert_eq!(permanent.status(), StatusCode::BAD_REQUEST);

    // The retry forwards the same staleness marker the refused push carried.
    sink.refuse_with(None);
    let retried = send(&client, reqwest::Method::PUT, url.clone(), "a 2\n").await;
    assert_eq!(retried.status(), StatusCode::OK);
    assert_eq!(summary(&last(&sink)), [s("a{}", Some(2.0)), s("b{}", None)]);
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn concurrent_pushes_to_a_group_are_applied_in_turn() {
    let sink = Sink::new();
    let (receiver, base) = start(&sink, "endpoint: 127.0.0.1:0\ninclude_metadata: true").await;
    let client = reqwest::Client::new();
    let url = format!("{base}/metrics/job/j");
    let gate = sink.hold();
    let first = tokio::spawn(
        client
            .put(url.clone())
            .header("X-Tenant", "blue")
            .body("a 1\nb 1\n")
            .send(),
    );
    tributary_pipeline_core::testing::eventually(
        "the first push in the pipeline",
        Duration::from_secs(10),
        || (sink.calls() == 1).then_some(()),
    )
    .await;
    let second = tokio::spawn(client.put(url.clone()).body("a 2\n").send());
    // The second waits for the first: nothing more reaches the pipeline meanwhile.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(sink.calls(), 1);
    gate.add_permits(2);
    assert_eq!(first.await.unwrap().unwrap().status(), StatusCode::OK);
    assert_eq!(second.await.unwrap().unwrap().status(), StatusCode::OK);
    let batches = sink.accepted();
    assert_eq!(batches.len(), 2);
    assert_eq!(
        batches[0].metadata().expect("metadata").get("x-tenant"),
        ["blue"]
    );
    // The second push saw the first one's series: b goes stale.
    assert_eq!(summary(&last(&sink)), [s("a{}", Some(2.0)), s("b{}", None)]);
    receiver.shutdown().await.unwrap();
}

#[test]
fn config_defaults_unknown_keys_and_validation() {
    let config = Config::default();
    assert_eq!(config.server.endpoint, "localhost:9091");
    assert_eq!(config.path_prefix, "/metrics");
    assert_eq!(config.success_status, 200);
    config.validate().unwrap();
    let unknown = Conf::from_yaml("endpoint: 127.0.0.1:1\nhonor_labels: true")
        .unwrap()
        .decode::<Config>()
        .unwrap_err();
    assert!(unknown.to_string().contains("honor_labels"), "{unknown}");
    for (yaml, key) in [
        ("path_prefix: metrics", "path_prefix"),
        ("path_prefix: /metrics/", "path_prefix"),
        ("required_labels: [\"a-b\"]", "required_labels::0"),
        ("success_status: 404", "success_status"),
        ("max_series: 0", "max_series"),
        ("cors: { allowed_origins: [\"*\"] }", "cors"),
    ] {
        let config: Config = Conf::from_yaml(yaml).unwrap().decode().unwrap();
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains(key), "{yaml}: {error}");
    }
}

#[tokio::test]
async fn conformance() {
    tributary_pipeline_core::testing::check_receiver(factory(), "endpoint: 127.0.0.1:{port}").await;
}

// ------------------------------------------------------------------ any input

fn mutated_body() -> impl Strategy<Value = Vec<u8>> {
    let seed = b"# HELP a Help.\n# TYPE a histogram\na_bucket{le=\"1\",job=\"x\"} 1\na_bucket{le=\"+Inf\"} 2\na_count 2\na_sum 1.5\nb{x=\"y\"} NaN 17\n".to_vec();
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        (proptest::collection::vec((0..seed.len(), any::<u8>()), 0..8)).prop_map(move |edits| {
            let mut body = seed.clone();
            for (at, byte) in edits {
                body[at] = byte;
            }
            body
        }),
    ]
}

proptest! {
    #[test]
    fn any_path_parses_or_is_refused(path in "(/[a-z_@0-9%=+]{0,12}){0,8}", raw in ".{0,64}") {
        for candidate in [path.as_str(), raw.as_str()] {
            if let Ok(key) = parse_grouping_key(candidate, &[]) {
                prop_assert_eq!(key.labels()[0].0.as_str(), "job");
                prop_assert!(!key.labels()[0].1.is_empty());
                prop_assert!(key.labels().len() * 2 <= candidate.split('/').count());
            }
        }
    }

    #[test]
    fn any_body_parses_within_bounds_or_is_refused(body in mutated_body(), format in 0..3usize) {
        let group = key("/job/fuzz/instance/i");
        let limits = Limits { max_samples: 50, ..Limits::default() };
        let content_type = [
            None,
            Some("application/openmetrics-text"),
            Some("application/vnd.google.protobuf; encoding=delimited"),
        ][format];
        if let Ok(families) = parse_push_body(&body, content_type, &group, &limits) {
            let samples: usize = families.iter().map(|f| f.samples.len()).sum();
            prop_assert!(samples <= 50);
            for sample in families.iter().flat_map(|f| &f.samples) {
                prop_assert_eq!(sample.label("job"), Some("fuzz"));
                prop_assert_eq!(sample.label("instance"), Some("i"));
            }
        }
    }
}
