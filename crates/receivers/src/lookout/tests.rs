//! The receiver's behaviour: each importer's mapping, the HTTP answers a Lookout client
//! sees (every error path), enrichment, the pre-filter, and decoders that survive any input.

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use reqwest::StatusCode;
use tributary_confmap::Conf;
use tributary_pipeline_core::component::{Component, ComponentConfig, CreateSettings, Host, Kind};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::builder::now_unix_nano;
use tributary_pipeline_core::pdata::proto::common::v1::any_value;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    AggregationTemporality, Metric, NumberDataPoint, metric::Data, number_data_point,
};
use tributary_pipeline_core::testing::{Sink, settings};

use super::point::{Enrichment, pre_filter};
use super::receiver::LookoutReceiver;
use super::*;

fn now_ms() -> i64 {
    (now_unix_nano() / 1_000_000) as i64
}

/// Every metric of a batch, in order.
fn metrics(batch: &Metrics) -> Vec<Metric> {
    batch
        .request()
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| s.metrics.clone())
        .collect()
}

fn metric(batches: &[Metrics], name: &str) -> Metric {
    batches
        .iter()
        .flat_map(metrics)
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no metric {name} in {batches:?}"))
}

fn points(metric: &Metric) -> Vec<NumberDataPoint> {
    match &metric.data {
        Some(Data::Gauge(g)) => g.data_points.clone(),
        Some(Data::Sum(s)) => s.data_points.clone(),
        other => panic!("not a number metric: {other:?}"),
    }
}

fn value(point: &NumberDataPoint) -> f64 {
    match point.value {
        Some(number_data_point::Value::AsDouble(v)) => v,
        Some(number_data_point::Value::AsInt(v)) => v as f64,
        None => panic!("no value"),
    }
}

/// The point's attributes as `k=v` strings, sorted.
fn tags(point: &NumberDataPoint) -> Vec<String> {
    let mut tags: Vec<String> = point
        .attributes
        .iter()
        .map(|kv| {
            let v = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                other => format!("{other:?}"),
            };
            format!("{}={v}", kv.key)
        })
        .collect();
    tags.sort();
    tags
}

#[test]
fn standard_measurements_by_type() {
    let body = concat!(
        r#"{"time":"2018-11-29T15:57:00+08:00","tags":{"app":"demo","ip":"10.0.0.1","_type_":"c","priority":"HIGH"},"http.requests":{"count":12,"rate":0.2}}"#,
        "\t",
        r#"{"time":1543478220000,"tags":{"app":"demo","_type_":"t"},"rpc":{"count":3,"totalTime":45,"max":20,"elapPerExec":15}}"#,
        "\t",
        r#"{"time":"1543478220000","tags":{"app":"demo","_type_":"i","host-name":"a"},"build":{"version":"1.2.3","ok":true}}"#,
        "\t",
        r#"{"tags":{"app":"demo","_type_":"g"},"9jvm mem/used":1.5e8,"skip":"text"}"#,
    );
    let points = parse_standard(body.as_bytes(), 7).unwrap();
    let by_name = |name: &str| {
        points
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no {name} in {points:?}"))
    };
    let count = by_name("http.requests.count");
    assert_eq!(count.value, PointValue::Delta(12.0));
    assert_eq!(count.time_ms, 1_543_478_220_000);
    assert_eq!(
        count.tags,
        [
            ("app".into(), "demo".into()),
            ("ip".into(), "10.0.0.1".into())
        ]
    );
    assert_eq!(by_name("http.requests.rate").value, PointValue::Gauge(0.2));
    assert_eq!(by_name("rpc.count").value, PointValue::Delta(3.0));
    assert_eq!(by_name("rpc.totalTime").value, PointValue::Delta(45.0));
    assert_eq!(by_name("rpc.max").value, PointValue::Gauge(20.0));
    let info = by_name("build.version");
    assert_eq!(info.value, PointValue::Info("1.2.3".into()));
    assert_eq!(info.tags[1], ("host_name".into(), "a".into()));
    assert_eq!(by_name("build.ok").value, PointValue::Info("true".into()));
    let sanitised = by_name("m_9jvm_mem_used");
    assert_eq!(sanitised.time_ms, 7);
    assert_eq!(points.len(), 9, "{points:?}");
}

#[test]
fn sanitising_rules() {
    assert_eq!(sanitize_name("jvm.mem:used_1"), "jvm.mem:used_1");
    assert_eq!(sanitize_name("_x"), "m__x");
    assert_eq!(sanitize_name("a b/c-d"), "a_b_c_d");
    assert_eq!(sanitize_name("é"), "m__");
    assert_eq!(sanitize_key("host.name-x"), "host_name_x");
}

#[test]
fn standard_errors_name_the_measurement() {
    let error = parse_standard(b"{\"a\":1}\tnot json", 0).unwrap_err();
    assert_eq!(error.measurement, 2);
    let error = parse_standard(br#"{"time":"yesterday","a":1}"#, 0).unwrap_err();
    assert!(error.message.contains("bad time"), "{error}");
    let error = parse_standard(br#"{"tags":[1],"a":1}"#, 0).unwrap_err();
    assert!(error.message.contains("tags"), "{error}");
    assert!(parse_standard(b"[1,2]", 0).is_err());
    assert_eq!(parse_standard(b"\t\n ", 0).unwrap(), []);
}

#[test]
fn opentsdb_points_and_failures() {
    let body = br#"[
        {"metric":"sys.cpu.nice","timestamp":1346846400,"value":18,"tags":{"host":"web01","dc":"lga"}},
        {"metric":"sys.cpu.idle","timestamp":1346846400123,"value":"3.5","tags":{"host":"web01"}},
        {"metric":"no.tags","timestamp":1346846400,"value":1},
        {"metric":"bad.value","timestamp":1346846400,"value":"x","tags":{"a":"b"}}
    ]"#;
    let (points, failed) = parse_opentsdb(body).unwrap();
    assert_eq!(points.len(), 2);
    assert_eq!(points[0].time_ms, 1_346_846_400_000);
    assert_eq!(points[1].time_ms, 1_346_846_400_123);
    assert_eq!(points[1].value, PointValue::Gauge(3.5));
    assert_eq!(failed.len(), 2);
    assert!(failed[0].starts_with("data point 2: tags"), "{failed:?}");
    assert!(failed[1].starts_with("data point 3: value"), "{failed:?}");
    let (single, _) =
        parse_opentsdb(br#"{"metric":"m","timestamp":1,"value":1,"tags":{"a":"b"}}"#).unwrap();
    assert_eq!(single.len(), 1);
    assert!(parse_opentsdb(b"42").is_err());
    assert!(parse_opentsdb(b"{").is_err());
}

/// Metricbeat 6.2.3's bulk request as Elastic documents it (libbeat's `_bulk` of a
/// `system/network` event), with a `create` and a `delete` added.
const METRICBEAT_BULK: &str = concat!(
    r#"{"index":{"_index":"metricbeat-6.2.3-2018.03.29","_type":"doc"}}"#,
    "\n",
    r#"{"@timestamp":"2018-03-29T08:27:21.200Z","metricset":{"name":"network","module":"system","rtt":3487},"system":{"network":{"name":"eth0","in":{"bytes":0,"packets":0,"errors":0,"dropped":0},"out":{"bytes":0}}},"beat":{"name":"moby","hostname":"moby","version":"6.2.3"}}"#,
    "\n",
    r#"{"create":{"_index":"metricbeat-6.2.3-2018.03.29","_type":"doc","_id":"x1"}}"#,
    "\n",
    r#"{"@timestamp":"2018-03-29T08:27:31.200Z","metricset":{"name":"cpu","module":"system"},"system":{"cpu":{"total":{"pct":0.25}}},"beat":{"name":"moby"}}"#,
    "\n",
    r#"{"index":{"_index":"metricbeat-6.2.3-2018.03.29","_type":"doc"}}"#,
    "\n",
    "[1,2]\n",
    r#"{"delete":{"_index":"metricbeat-6.2.3-2018.03.29","_id":"x1"}}"#,
    "\n",
);

#[test]
fn metricbeat_events_are_flattened_and_items_answered() {
    let bulk = parse_bulk(METRICBEAT_BULK.as_bytes(), 0).unwrap();
    let names: Vec<&str> = bulk.points.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "system.network.in.bytes",
            "system.network.in.dropped",
            "system.network.in.errors",
            "system.network.in.packets",
            "system.network.out.bytes",
            "system.cpu.total.pct",
        ]
    );
    let first = &bulk.points[0];
    assert_eq!(first.time_ms, 1_522_312_041_200);
    let mut tags: Vec<String> = first.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
    tags.sort();
    assert_eq!(
        tags,
        [
            "beat_hostname=moby",
            "beat_name=moby",
            "beat_version=6.2.3",
            "metricset_module=system",
            "metricset_name=network",
        ]
    );
    let response = bulk.response(3);
    assert_eq!(response["errors"], true);
    let items = response["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert_eq!(items[0]["index"]["status"], 201);
    assert_eq!(items[0]["index"]["_type"], "doc");
    assert_eq!(items[1]["create"]["_id"], "x1");
    assert_eq!(items[2]["index"]["status"], 400);
    assert_eq!(
        items[2]["index"]["error"]["type"],
        "mapper_parsing_exception"
    );
    assert_eq!(items[3]["delete"]["status"], 404);
}

#[test]
fn malformed_bulk_requests_fail_whole() {
    assert!(
        parse_bulk(b"not json\n{}\n", 0)
            .unwrap_err()
            .contains("line [1]")
    );
    assert!(
        parse_bulk(b"{\"index\":{}}\n", 0)
            .unwrap_err()
            .contains("no source")
    );
    assert!(
        parse_bulk(b"{\"explode\":{}}\n{}\n", 0)
            .unwrap_err()
            .contains("unknown action")
    );
    assert!(parse_bulk(b"{\"index\":{},\"create\":{}}\n{}\n", 0).is_err());
    let update = parse_bulk(b"{\"update\":{\"_id\":\"1\"}}\n{\"doc\":{\"a\":1}}\n", 0).unwrap();
    assert_eq!(update.items[0]["update"]["status"], 200);
    assert_eq!(update.points[0].name, "a");
}

#[test]
fn enrichment_never_overrides_body_tags_and_aligns() {
    let mut point = Point {
        name: "m".into(),
        tags: vec![
            ("app".into(), "body".into()),
            ("ip".into(), "1.1.1.1".into()),
        ],
        time_ms: 1_700_000_012_345,
        value: PointValue::Gauge(1.0),
    };
    let enrichment = Enrichment {
        extra_tags: vec![("app".into(), "path".into()), ("zone".into(), "z1".into())],
        client_ip: Some("9.9.9.9".into()),
        align_step_s: Some(10),
    };
    enrichment.apply(&mut point);
    assert_eq!(point.time_ms, 1_700_000_010_000);
    assert_eq!(
        point.tags,
        [
            ("app".into(), "body".into()),
            ("ip".into(), "1.1.1.1".into()),
            ("zone".into(), "z1".into())
        ]
    );
}

#[test]
fn pre_filter_limits() {
    let now = now_ms();
    let ok = |name: &str, tags: usize| Point {
        name: name.into(),
        tags: (0..tags).map(|i| (format!("k{i}"), "v".into())).collect(),
        time_ms: now,
        value: PointValue::Gauge(1.0),
    };
    assert!(pre_filter(&mut ok(&"n".repeat(200), 1), now).is_ok());
    assert_eq!(
        pre_filter(&mut ok(&"n".repeat(201), 1), now),
        Err(super::point::DropReason::NameTooLong)
    );
    assert_eq!(
        pre_filter(&mut ok("n", 0), now),
        Err(super::point::DropReason::TagCount)
    );
    assert!(pre_filter(&mut ok("n", 20), now).is_ok());
    assert_eq!(
        pre_filter(&mut ok("n", 21), now),
        Err(super::point::DropReason::TagCount)
    );
    let mut long_key = ok("n", 1);
    long_key.tags[0].0 = "k".repeat(101);
    assert_eq!(
        pre_filter(&mut long_key, now),
        Err(super::point::DropReason::TagKey)
    );
    let mut old = ok("n", 1);
    old.time_ms = now - 2 * 24 * 3600 * 1000 - 1;
    assert_eq!(
        pre_filter(&mut old, now),
        Err(super::point::DropReason::TooOld)
    );
    let mut long_value = ok("n", 1);
    long_value.tags[0].1 = "é".repeat(300);
    pre_filter(&mut long_value, now).unwrap();
    assert_eq!(long_value.tags[0].1.chars().count(), 200);
}

proptest! {
    #[test]
    fn decoders_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_standard(&body, 0);
        let _ = parse_opentsdb(&body);
        let _ = parse_bulk(&body, 0);
    }

    #[test]
    fn standard_round_trips_numbers(name in "[a-z][a-z0-9_.]{0,20}", v in -1e12f64..1e12) {
        let body = format!(r#"{{"time":1000,"tags":{{"app":"a"}},"{name}":{v}}}"#);
        let points = parse_standard(body.as_bytes(), 0).unwrap();
        prop_assert_eq!(points.len(), 1);
        prop_assert_eq!(&points[0].name, &name);
        prop_assert_eq!(points[0].value.clone(), PointValue::Gauge(v));
    }

    #[test]
    fn sanitised_names_are_lookout_names(name in ".{0,40}") {
        let out = sanitize_name(&name);
        prop_assert!(out.starts_with(|c: char| c.is_ascii_alphabetic()));
        prop_assert!(out.chars().all(|c| c.is_ascii_alphanumeric() || "_:.".contains(c)));
    }
}

struct Started {
    receiver: LookoutReceiver,
    base: String,
    settings: CreateSettings,
}

impl Started {
    fn dropped(&self, reason: &str) -> f64 {
        self.settings.metrics().sum(
            "otelcol_receiver_lookout_dropped_points",
            &[("reason", reason)],
        )
    }
}

/// A started receiver on a free port, feeding `sink`.
async fn start(sink: &Arc<Sink<Metrics>>, yaml: &str) -> Started {
    let config: Config = Conf::from_yaml(yaml).unwrap().decode().unwrap();
    config.validate().unwrap();
    let settings = settings::<Metrics>(Kind::Receiver, "lookout");
    let receiver = LookoutReceiver::new(&settings, &config, sink.next());
    receiver.start(&Host::default()).await.unwrap();
    let base = format!("http://{}", receiver.local_addr().unwrap());
    Started {
        receiver,
        base,
        settings,
    }
}

const LOCAL: &str = "endpoint: 127.0.0.1:0";

#[tokio::test]
async fn datas_probe_post_and_snappy() {
    let sink = Sink::new();
    let started = start(&sink, LOCAL).await;
    let base = &started.base;
    let client = reqwest::Client::new();
    let probe = client.get(format!("{base}/datas")).send().await.unwrap();
    assert_eq!(probe.status(), StatusCode::OK);
    assert_eq!(probe.text().await.unwrap(), "OK");

    let now = now_ms();
    let body = format!(
        "{{\"time\":{now},\"tags\":{{\"_type_\":\"c\",\"zone\":\"z\"}},\"http.requests\":{{\"count\":12,\"rate\":1.2}}}}"
    );
    let plain = client
        .post(format!("{base}/datas"))
        .header("app", "demo")
        .header("Client-Ip", "10.1.2.3")
        .header("Content-Type", "text/plain")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), StatusCode::OK);
    let compressed = snap::raw::Encoder::new()
        .compress_vec(format!("{body}\t{body}").as_bytes())
        .unwrap();
    let snappy = client
        .post(format!("{base}/datas"))
        .header("app", "demo")
        .header("Content-Type", "application/octet-stream")
        .header("Content-Encoding", "snappy")
        .body(compressed)
        .send()
        .await
        .unwrap();
    assert_eq!(snappy.status(), StatusCode::OK);
    let received = sink.accepted();
    assert_eq!(received.len(), 2);
    let count = metric(&received[..1], "http.requests.count");
    let Some(Data::Sum(sum)) = &count.data else {
        panic!("a counter's count is a sum")
    };
    assert_eq!(
        sum.aggregation_temporality,
        AggregationTemporality::Delta as i32
    );
    assert!(sum.is_monotonic);
    let point = &sum.data_points[0];
    assert_eq!(value(point), 12.0);
    // Standard times are not aligned; a delta spans one step (10 s).
    assert_eq!(point.time_unix_nano, now as u64 * 1_000_000);
    assert_eq!(
        point.start_time_unix_nano,
        (now as u64 - 10_000) * 1_000_000
    );
    assert_eq!(tags(point), ["app=demo", "ip=10.1.2.3", "zone=z"]);
    // Without Client-Ip, the peer's address.
    assert_eq!(received[1].item_count(), 4);
    let snappy_point = &points(&metric(&received[1..], "http.requests.rate"))[0];
    assert!(tags(snappy_point).contains(&"ip=127.0.0.1".to_owned()));
    started.receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn datas_refusals() {
    let sink = Sink::new();
    let started = start(&sink, "endpoint: 127.0.0.1:0\ntokens: [secret]").await;
    let base = &started.base;
    let client = reqwest::Client::new();
    let body = r#"{"tags":{"a":"b"},"m":1}"#;

    let no_app = client
        .post(format!("{base}/datas"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(no_app.status(), StatusCode::FORBIDDEN);
    assert_eq!(no_app.headers()["wait-minutes"], "5");
    assert_eq!(no_app.headers()["err"], "APP_NAME_NULL");

    let no_token = client
        .post(format!("{base}/datas"))
        .header("app", "demo")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(no_token.headers()["err"], "TOKEN_INVALID");
    for (name, token) in [
        ("X-Lookout-Token", "secret"),
        ("Authorization", "Bearer secret"),
    ] {
        let ok = client
            .post(format!("{base}/datas"))
            .header("app", "demo")
            .header(name, token)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), StatusCode::OK, "{name}");
    }

    let malformed = client
        .post(format!("{base}/datas"))
        .header("app", "demo")
        .header("X-Lookout-Token", "secret")
        .body(format!("{body}\t{{oops"))
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert!(
        malformed.headers()["err"]
            .to_str()
            .unwrap()
            .starts_with("measurement 2")
    );

    let bad_snappy = client
        .post(format!("{base}/datas"))
        .header("app", "demo")
        .header("X-Lookout-Token", "secret")
        .header("Content-Encoding", "snappy")
        .body("definitely not snappy")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_snappy.status(), StatusCode::BAD_REQUEST);

    let unknown_encoding = client
        .post(format!("{base}/datas"))
        .header("app", "demo")
        .header("X-Lookout-Token", "secret")
        .header("Content-Encoding", "brotli")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        unknown_encoding.status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );

    let put = client.put(format!("{base}/datas")).send().await.unwrap();
    assert_eq!(put.status(), StatusCode::METHOD_NOT_ALLOWED);
    let unknown = client.post(format!("{base}/nowhere")).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    // Only the two good posts arrived.
    assert_eq!(sink.accepted().len(), 2);
    started.receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn path_tagged_variant() {
    let sink = Sink::new();
    let started = start(&sink, LOCAL).await;
    let base = &started.base;
    let client = reqwest::Client::new();
    let probe = client
        .get(format!("{base}/lookout/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status(), StatusCode::OK);
    let ts = 1_700_000_007_000i64.max(now_ms() - 1000);
    let body = format!(r#"{{"time":{ts},"tags":{{"app":"body-app"}},"m":1}}"#);
    let ok = client
        .post(format!(
            "{base}/lookout/metrics/app/path-app/step/60/zone/z%201"
        ))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let point = &points(&metric(&sink.accepted(), "m"))[0];
    // Body tags win; step is consumed; times align to it.
    assert_eq!(tags(point), ["app=body-app", "ip=127.0.0.1", "zone=z 1"]);
    assert_eq!(
        point.time_unix_nano,
        (ts / 60_000 * 60_000) as u64 * 1_000_000
    );

    for path in [
        "/lookout/metrics/step/10",
        "/lookout/metrics/app/a",
        "/lookout/metrics/app/a/step/ten",
        "/lookout/metrics/app/a/step",
    ] {
        let refused = client
            .post(format!("{base}{path}"))
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{path}");
        assert!(refused.headers().contains_key("err"), "{path}");
    }
    // Alignment off with -1.
    let unaligned = client
        .post(format!("{base}/lookout/metrics/app/a/step/-1"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(unaligned.status(), StatusCode::OK);
    let last = sink.accepted().pop().unwrap();
    assert_eq!(
        points(&metrics(&last)[0])[0].time_unix_nano,
        ts as u64 * 1_000_000
    );
    started.receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn prometheus_push_route() {
    let sink = Sink::new();
    let started = start(&sink, LOCAL).await;
    let base = &started.base;
    let client = reqwest::Client::new();
    let body = "# TYPE http_requests_total counter\nhttp_requests_total{code=\"200\",app=\"mine\"} 1027\n# TYPE temp gauge\ntemp 21.5\n";
    let ok = client
        .post(format!("{base}/prom/metrics/job/batch/app/demo/step/30"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::ACCEPTED);
    let received = sink.accepted();
    let counter = metric(&received, "http_requests_total");
    let Some(Data::Sum(sum)) = &counter.data else {
        panic!("a counter is a sum")
    };
    assert_eq!(
        sum.aggregation_temporality,
        AggregationTemporality::Cumulative as i32
    );
    assert_eq!(
        tags(&sum.data_points[0]),
        ["app=mine", "code=200", "ip=127.0.0.1", "job=batch"]
    );
    let temp = &points(&metric(&received, "temp"))[0];
    assert_eq!(value(temp), 21.5);
    assert_eq!(temp.time_unix_nano % 30_000_000_000, 0);
    let put = client
        .put(format!("{base}/prom/metrics/job/batch/app/demo/step/30"))
        .body("temp 1\n")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::ACCEPTED);

    let missing = client
        .post(format!("{base}/prom/metrics/job/batch/app/demo"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert_eq!(missing.headers()["err"], "the step tag is required");
    let malformed = client
        .post(format!("{base}/prom/metrics/job/batch/app/demo/step/30"))
        .body("temp{ 1\n")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert!(
        malformed.headers()["err"]
            .to_str()
            .unwrap()
            .starts_with("line 1")
    );
    assert_eq!(sink.accepted().len(), 2);
    started.receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn opentsdb_route() {
    let sink = Sink::new();
    let started = start(&sink, LOCAL).await;
    let base = &started.base;
    let client = reqwest::Client::new();
    let now_s = now_ms() / 1000;
    let body = format!(
        r#"[{{"metric":"sys.cpu.nice","timestamp":{now_s},"value":18,"tags":{{"host":"web01"}}}}]"#
    );
    let ok = client
        .post(format!("{base}/opentsdb/api/put"))
        .header("app", "demo")
        .header("step", "60")
        .header("ip", "10.9.9.9")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::ACCEPTED);
    let point = &points(&metric(&sink.accepted(), "sys.cpu.nice"))[0];
    assert_eq!(tags(point), ["app=demo", "host=web01", "ip=10.9.9.9"]);
    assert_eq!(
        point.time_unix_nano,
        (now_s / 60 * 60) as u64 * 1_000_000_000
    );

    for (app, step) in [
        (None, Some("60")),
        (Some("demo"), None),
        (Some("demo"), Some("x")),
    ] {
        let mut request = client
            .post(format!("{base}/opentsdb/api/put"))
            .body(body.clone());
        if let Some(app) = app {
            request = request.header("app", app);
        }
        if let Some(step) = step {
            request = request.header("step", step);
        }
        let refused = request.send().await.unwrap();
        assert_eq!(
            refused.status(),
            StatusCode::BAD_REQUEST,
            "{app:?} {step:?}"
        );
    }
    // A bad point fails the request; the good one is still delivered.
    let partial = client
        .post(format!("{base}/opentsdb/api/put"))
        .header("app", "demo")
        .header("step", "10")
        .body(format!(
            r#"[{{"metric":"good","timestamp":{now_s},"value":1,"tags":{{"a":"b"}}}},{{"metric":"bad"}}]"#
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(partial.status(), StatusCode::BAD_REQUEST);
    assert!(partial.text().await.unwrap().contains("data point 1"));
    metric(&sink.accepted(), "good");
    started.receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn metricbeat_impersonation() {
    let sink = Sink::new();
    let started = start(&sink, LOCAL).await;
    let base = &started.base;
    let client = reqwest::Client::new();
    let info = client
        .get(format!("{base}/beat/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let info: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert_eq!(info["version"]["number"], "5.3.2");
    let head = client
        .head(format!("{base}/beat/_template/metricbeat-6.2.3"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    let put = client
        .put(format!("{base}/beat/_template/metricbeat-6.2.3"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);

    // Recent events, gzipped, as Metricbeat with compression_level > 0 sends them.
    let today = chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    let body = METRICBEAT_BULK.replace("2018-03-29T08:27:21.200Z", &today);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, body.as_bytes()).unwrap();
    let response = client
        .post(format!("{base}/beat/_bulk"))
        .header("Content-Type", "application/x-ndjson")
        .header("Content-Encoding", "gzip")
        .body(gz.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let answer: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(answer["errors"], true);
    assert_eq!(answer["items"].as_array().unwrap().len(), 4);
    // The 2018 cpu event is older than two days: dropped and counted.
    let received = sink.accepted();
    assert_eq!(received.iter().map(|m| m.item_count()).sum::<usize>(), 5);
    assert_eq!(started.dropped("too_old"), 1.0);
    let point = &points(&metric(&received, "system.network.in.bytes"))[0];
    assert!(tags(point).contains(&"ip=127.0.0.1".to_owned()));
    assert_eq!(
        point.time_unix_nano % 10_000_000_000,
        0,
        "aligned to the 10 s default"
    );

    let malformed = client
        .post(format!("{base}/beat/_bulk"))
        .body("{\"index\":{}}\n")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let error: serde_json::Value = serde_json::from_str(&malformed.text().await.unwrap()).unwrap();
    assert_eq!(error["error"]["type"], "illegal_argument_exception");
    let indexed = client
        .post(format!("{base}/beat/metricbeat/doc/_bulk"))
        .body(format!(
            "{{\"index\":{{}}}}\n{{\"@timestamp\":\"{today}\",\"x\":{{\"y\":1}}}}\n"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(indexed.status(), StatusCode::OK);
    started.receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn pre_filter_drops_are_counted() {
    let sink = Sink::new();
    let started = start(&sink, LOCAL).await;
    let base = &started.base;
    let client = reqwest::Client::new();
    let now = now_ms();
    let many_tags: String = (0..25).map(|i| format!("\"k{i}\":\"v\",")).collect();
    let body = [
        format!(r#"{{"time":{now},"{}":1}}"#, "n".repeat(201)),
        format!(r#"{{"time":{now},"tags":{{{many_tags}"z":"z"}},"wide":1}}"#),
        format!(
            r#"{{"time":{now},"tags":{{"{}":"v"}},"longkey":1}}"#,
            "k".repeat(101)
        ),
        format!(r#"{{"time":{},"old":1}}"#, now - 3 * 24 * 3600 * 1000),
        format!(r#"{{"time":{now},"kept":1}}"#),
    ]
    .join("\t");
    let response = client
        .post(format!("{base}/datas"))
        .header("app", "demo")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let received = sink.accepted();
    assert_eq!(received[0].item_count(), 1);
    metric(&received, "kept");
    for reason in ["name_too_long", "tag_count", "tag_key", "too_old"] {
        assert_eq!(started.dropped(reason), 1.0, "{reason}");
    }
    started.receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn pipeline_refusals_map_to_statuses() {
    let sink = Sink::new();
    let started = start(&sink, LOCAL).await;
    let base = &started.base;
    let client = reqwest::Client::new();
    let post = || {
        client
            .post(format!("{base}/datas"))
            .header("app", "demo")
            .body(r#"{"m":1}"#)
            .send()
    };
    sink.refuse_with(Some(ConsumeError::throttled(
        "slow down",
        Some(Duration::from_secs(2)),
    )));
    let throttled = post().await.unwrap();
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(throttled.headers()["retry-after"], "2");
    sink.refuse_with(Some(ConsumeError::retryable("queue full")));
    assert_eq!(
        post().await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    sink.refuse_with(Some(ConsumeError::permanent("bad")));
    assert_eq!(post().await.unwrap().status(), StatusCode::BAD_REQUEST);
    sink.refuse_with(None);
    assert_eq!(post().await.unwrap().status(), StatusCode::OK);
    started.receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let sink = Sink::new();
    let started = start(&sink, "endpoint: 127.0.0.1:0\nmax_request_body_size: 1024").await;
    let client = reqwest::Client::new();
    let big = format!(r#"{{"m":1,"pad":"{}"}}"#, "x".repeat(4096));
    let raw = client
        .post(format!("{}/datas", started.base))
        .header("app", "demo")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let compressed = snap::raw::Encoder::new()
        .compress_vec(big.as_bytes())
        .unwrap();
    assert!(compressed.len() < 1024);
    let bomb = client
        .post(format!("{}/datas", started.base))
        .header("app", "demo")
        .header("Content-Encoding", "snappy")
        .body(compressed)
        .send()
        .await
        .unwrap();
    assert_eq!(bomb.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(sink.accepted().is_empty());
    started.receiver.shutdown().await.unwrap();
}

#[test]
fn config_defaults_and_validation() {
    let config = Config::default();
    assert_eq!(config.server.endpoint, "localhost:7200");
    assert_eq!(config.step, 10);
    config.validate().unwrap();
    let error = Conf::from_yaml("endpoint: 127.0.0.1:1\nqueue_dir: /tmp")
        .unwrap()
        .decode::<Config>()
        .unwrap_err();
    assert!(error.to_string().contains("queue_dir"), "{error}");
    for yaml in [
        "step: 0",
        "step: -2",
        "tokens: ['']",
        "elasticsearch_version: x",
    ] {
        let config: Config = Conf::from_yaml(yaml).unwrap().decode().unwrap();
        assert!(config.validate().is_err(), "{yaml}");
    }
    let off: Config = Conf::from_yaml("step: -1").unwrap().decode().unwrap();
    off.validate().unwrap();
}

#[tokio::test]
async fn conformance() {
    tributary_pipeline_core::testing::check_receiver(factory(), "endpoint: 127.0.0.1:{port}").await;
}
