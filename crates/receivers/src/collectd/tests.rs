//! The `collectd` receiver: its JSON mapping, its configuration and its HTTP answers.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::time::Duration;

use proptest::prelude::*;
use tributary_confmap::Conf;
use tributary_pipeline_core::component::{Component, ComponentConfig, Host, Kind};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::attributes::AnyValueExt;
use tributary_pipeline_core::pdata::proto::metrics::v1::{NumberDataPoint, metric};
use tributary_pipeline_core::testing::{self, Sink};

use super::receiver::{CollectdReceiver, query_attributes};
use super::record::labels_from_name;
use super::*;

/// Each point of `metrics` as (name, is a sum, attributes, point).
fn points(metrics: &Metrics) -> Vec<(String, bool, BTreeMap<String, String>, NumberDataPoint)> {
    let mut out = Vec::new();
    for rm in &metrics.request().resource_metrics {
        for sm in &rm.scope_metrics {
            for m in &sm.metrics {
                let (is_sum, points) = match &m.data {
                    Some(metric::Data::Gauge(g)) => (false, &g.data_points),
                    Some(metric::Data::Sum(s)) => {
                        assert!(s.is_monotonic);
                        assert_eq!(s.aggregation_temporality, 2);
                        (true, &s.data_points)
                    }
                    other => panic!("unexpected {other:?}"),
                };
                for p in points {
                    let attributes = p
                        .attributes
                        .iter()
                        .map(|kv| {
                            let value = kv.value.as_ref().and_then(|v| v.as_str()).unwrap_or("");
                            (kv.key.clone(), value.to_owned())
                        })
                        .collect();
                    out.push((m.name.clone(), is_sum, attributes, p.clone()));
                }
            }
        }
    }
    out
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// What collectd 5's write_http sends for a few plugins (values taken from a real run).
const WRITE_HTTP_BODY: &str = r#"[
 {"values":[1901474177,1301474177],"dstypes":["derive","derive"],"dsnames":["rx","tx"],
  "time":1280959128.5,"interval":10.000,"host":"leeloo.octo.it","plugin":"interface",
  "plugin_instance":"eth0","type":"if_octets","type_instance":""},
 {"values":[0.42],"dstypes":["gauge"],"dsnames":["value"],"time":1280959128,"interval":10,
  "host":"h[env=prod,dc=eu]","plugin":"memory","plugin_instance":"","type":"memory",
  "type_instance":"used[kind=rss]","meta":{"network:received":true}},
 {"values":[null,7],"dstypes":["counter","absolute"],"dsnames":["a","b"],"time":5,
  "interval":1,"host":"h","plugin":"p","type":"t"},
 {"time":1280959128,"severity":"warning","message":"an event","host":"h"}
]"#;

#[test]
fn write_http_json_maps_as_go_does() {
    let metrics = decode(
        WRITE_HTTP_BODY.as_bytes(),
        &[("env".into(), "query".into())],
    )
    .unwrap();
    let points = points(&metrics);
    assert_eq!(points.len(), 4, "{points:#?}");

    let (name, is_sum, attributes, point) = &points[0];
    assert_eq!(name, "if_octets.rx");
    assert!(is_sum);
    assert_eq!(
        *attributes,
        map(&[
            ("env", "query"),
            ("host", "leeloo.octo.it"),
            ("plugin", "interface"),
            ("plugin_instance", "eth0"),
        ])
    );
    assert_eq!(point.time_unix_nano, 1_280_959_128_500_000_000);
    assert_eq!(point.start_time_unix_nano, 1_280_959_118_500_000_000);
    assert_eq!(points[1].0, "if_octets.tx");

    // One data source: its name is an attribute; `name[k=v]` gives attributes, but never
    // over one already set (the query's `env`).
    let (name, is_sum, attributes, point) = &points[2];
    assert_eq!(name, "memory.used");
    assert!(!is_sum);
    assert_eq!(
        *attributes,
        map(&[
            ("dc", "eu"),
            ("dsname", "value"),
            ("env", "query"),
            ("host", "h"),
            ("kind", "rss"),
            ("plugin", "memory"),
        ])
    );
    assert_eq!(
        point.value,
        Some(
            tributary_pipeline_core::pdata::proto::metrics::v1::number_data_point::Value::AsDouble(
                0.42
            )
        )
    );

    // A null value is skipped; `absolute` is a gauge; the event is skipped.
    let (name, is_sum, _, point) = &points[3];
    assert_eq!((name.as_str(), *is_sum), ("t.b", false));
    assert_eq!(
        point.value,
        Some(
            tributary_pipeline_core::pdata::proto::metrics::v1::number_data_point::Value::AsInt(7)
        )
    );
}

#[test]
fn names_carry_attributes_in_brackets() {
    assert_eq!(
        labels_from_name("name[k=v,f=x]-more_name"),
        ("name-more_name".into(), map(&[("k", "v"), ("f", "x")]))
    );
    for whole in ["plain", "open[k=v", "bad[k=v=w]", "bad[novalue]"] {
        assert_eq!(labels_from_name(whole), (whole.into(), BTreeMap::new()));
    }
}

#[test]
fn malformed_bodies_are_errors() {
    for body in [
        "",
        "{",
        "{}",
        "[{\"values\": \"x\"}]",
        "[{\"host\": 5}]",
        "[{\"values\": [\"1\"]}]",
        "[{\"meta\": []}]",
    ] {
        assert!(
            decode(body.as_bytes(), &[]).is_err(),
            "{body:?} was accepted"
        );
    }
    // Unknown fields are ignored, as Go's decoder ignores them.
    assert_eq!(decode(b"[{\"extra\": 1}]", &[]).unwrap().item_count(), 0);
}

#[test]
fn query_parameters_with_the_prefix_become_attributes() {
    assert_eq!(
        query_attributes(
            "dap_env=prod&other=x&dap_dc=eu%2D1&dap_empty=&dap_env=again&dap_sp=a+b",
            "dap_"
        ),
        [
            ("env".to_string(), "prod".to_string()),
            ("dc".into(), "eu-1".into()),
            ("sp".into(), "a b".into()),
        ]
    );
    assert!(query_attributes("dap_env=prod", "").is_empty());
    assert!(query_attributes("dap_bad=%zz", "dap_").is_empty());
}

#[test]
fn the_configuration_takes_go_keys_and_defaults() {
    let config: Config = Conf::from_yaml("").unwrap().decode().unwrap();
    config.validate().unwrap();
    assert_eq!(config, Config::default());
    assert_eq!(config.server.endpoint, "localhost:8081");
    assert_eq!(config.attributes_prefix, "");
    let config: Config = Conf::from_yaml(
        "endpoint: localhost:12345\ntimeout: 50s\nattributes_prefix: dap_\nencoding: JSON",
    )
    .unwrap()
    .decode()
    .unwrap();
    config.validate().unwrap();
    assert_eq!(config.served().read_timeout, Duration::from_secs(50));
    assert_eq!(config.served().write_timeout, Duration::from_secs(50));
    for (yaml, needle) in [
        ("encoding: command", "encoding"),
        ("include_metadata: true", "include_metadata"),
        ("cors: { allowed_origins: [\"*\"] }", "cors"),
        ("bogus: 1", "bogus"),
    ] {
        let error = Conf::from_yaml(yaml)
            .unwrap()
            .decode::<Config>()
            .map_err(|e| e.to_string())
            .and_then(|c| c.validate().map_err(|e| e.to_string()))
            .expect_err(yaml);
        assert!(error.contains(needle), "{yaml}: {error}");
    }
}

#[tokio::test]
async fn the_receiver_passes_the_conformance_suite() {
    testing::check_receiver(factory(), "endpoint: \"127.0.0.1:{port}\"").await;
}

async fn start(
    yaml: &str,
) -> (
    CollectdReceiver,
    String,
    std::sync::Arc<Sink<Metrics>>,
    tributary_pipeline_core::component::CreateSettings,
) {
    let config: Config = Conf::from_yaml(&format!("endpoint: 127.0.0.1:0\n{yaml}"))
        .unwrap()
        .decode()
        .unwrap();
    config.validate().unwrap();
    let settings = testing::settings::<Metrics>(Kind::Receiver, "collectd");
    let sink = Sink::new();
    let receiver = CollectdReceiver::new(&settings, &config, sink.next());
    receiver.start(&Host::new([])).await.unwrap();
    let url = format!("http://{}", receiver.local_addr().unwrap());
    (receiver, url, sink, settings)
}

#[tokio::test]
async fn posts_are_answered_as_collectd_expects() {
    let (receiver, url, sink, settings) = start("attributes_prefix: dap_").await;
    let client = reqwest::Client::new();

    let response = client
        .post(format!("{url}/any/path?dap_env=prod"))
        .body(WRITE_HTTP_BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "OK");
    assert_eq!(sink.accepted_items(), 4);
    assert!(
        points(&sink.accepted()[0])
            .iter()
            .all(|p| p.2.get("env").map(String::as_str) == Some("prod"))
    );

    // Compressed bodies are read.
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(WRITE_HTTP_BODY.as_bytes()).unwrap();
    let response = client
        .post(&url)
        .header("content-encoding", "gzip")
        .body(gzip.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(sink.accepted_items(), 8);

    // Malformed: 400, counted, nothing delivered.
    let response = client
        .post(&url)
        .body("[{\"values\": [1,")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("unable to decode json")
    );
    assert_eq!(
        settings
            .metrics()
            .sum("otelcol_receiver_failed_metric_points", &[]),
        1.0
    );
    assert_eq!(client.get(&url).send().await.unwrap().status(), 400);
    let response = client
        .post(&url)
        .header("content-encoding", "br")
        .body("[]")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(sink.accepted_items(), 8);

    // The pipeline's refusals keep their class.
    sink.refuse_with(Some(ConsumeError::retryable("down")));
    let response = client
        .post(&url)
        .body(WRITE_HTTP_BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    sink.refuse_with(Some(ConsumeError::throttled(
        "slow down",
        Some(Duration::from_millis(1500)),
    )));
    let response = client
        .post(&url)
        .body(WRITE_HTTP_BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "2");
    sink.refuse_with(Some(ConsumeError::permanent("no")));
    let response = client
        .post(&url)
        .body(WRITE_HTTP_BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused() {
    let (receiver, url, sink, _) = start("max_request_body_size: 100").await;
    let response = reqwest::Client::new()
        .post(&url)
        .body(WRITE_HTTP_BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(sink.calls(), 0);
    receiver.shutdown().await.unwrap();
}

proptest! {
    /// Arbitrary bytes never panic the decoder.
    #[test]
    fn arbitrary_bodies_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let _ = decode(&bytes, &[]);
    }

    /// A valid body mutated at one byte decodes or is refused, never panics, and never
    /// makes more points than the values it holds.
    #[test]
    fn mutated_bodies_decode_or_fail(at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut body = WRITE_HTTP_BODY.as_bytes().to_vec();
        let index = at.index(body.len());
        body[index] = byte;
        if let Ok(metrics) = decode(&body, &[]) {
            prop_assert!(metrics.item_count() <= 6);
        }
    }
}
