//! The exporter against a scripted InfluxDB stand-in (the end-to-end test in
//! `tests/influxdb.rs` writes to a real `influxd`): line layouts, request cutting, the
//! 413 halving, and how each answer is classified.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tributary_pipeline_core::component::Host;
use tributary_pipeline_core::exporterhelper::Export;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::builder::{HistogramValue, SummaryValue};
use tributary_pipeline_core::pdata::builder::{MetricsBuilder, Temporality};
use tributary_pipeline_core::prelude::key_value;

use super::config::{Config, MetricsSchema};
use super::exporter::{InfluxExporter, dropped_count};
use super::factory;
use super::lines::LineBuffer;
use super::logs::write_logs;
use super::schema::write_metrics;
use super::traces::write_traces;
use crate::testing::server::{TestServer, closed_port, serve};
use crate::testing::{load, settings};

/// Sample metrics: a gauge, a counter, an up-down sum, a histogram, a summary.
fn sample() -> Metrics {
    let mut b = MetricsBuilder::new();
    b.resource(vec![key_value("service.name", "shop")])
        .scope("meter", "1.0");
    b.gauge("cpu_temp", "")
        .double(vec![key_value("core", 1i64)], 10, 87.5);
    b.sum("requests", "", Temporality::Cumulative, true).int(
        vec![key_value("code", "200")],
        5,
        10,
        1027,
    );
    b.sum("queue", "", Temporality::Cumulative, false)
        .int(vec![], 0, 10, -3);
    let _ = b.histogram("latency", "", Temporality::Cumulative).point(
        vec![],
        0,
        10,
        HistogramValue::new(vec![0.1, 0.5], vec![3, 4, 2]).sum(2.5),
    );
    let _ = b.summary("rpc", "").point(
        vec![],
        0,
        10,
        SummaryValue::new(9, 3.5)
            .quantile(0.5, 0.2)
            .quantile(0.99, 1.5),
    );
    b.build()
}

fn lines(metrics: &Metrics, schema: MetricsSchema) -> Vec<String> {
    let mut buffer = LineBuffer::default();
    let written = write_metrics(metrics.request(), schema, &mut buffer);
    assert_eq!(written.dropped, 0);
    buffer.into_parts().0.lines().map(String::from).collect()
}

#[test]
fn telegraf_prometheus_v1() {
    let tags = "otel.library.name=meter,otel.library.version=1.0,service.name=shop";
    assert_eq!(
        lines(&sample(), MetricsSchema::TelegrafPrometheusV1),
        [
            format!("cpu_temp,core=1,{tags} gauge=87.5 10"),
            format!("requests,code=200,{tags} start_time_unix_nano=5i,counter=1027i 10"),
            format!("queue,{tags} gauge=-3i 10"),
            format!("latency,{tags} count=9,sum=2.5,0.1=3,0.5=7 10"),
            format!("rpc,{tags} count=9,sum=3.5,0.5=0.2,0.99=1.5 10"),
        ]
    );
}

#[test]
fn telegraf_prometheus_v2() {
    let scope = "otel.library.name=meter,otel.library.version=1.0";
    let tags = format!("{scope},service.name=shop");
    assert_eq!(
        lines(&sample(), MetricsSchema::TelegrafPrometheusV2),
        [
            format!("prometheus,core=1,{tags} cpu_temp=87.5 10"),
            format!("prometheus,code=200,{tags} start_time_unix_nano=5i,requests=1027i 10"),
            format!("prometheus,{tags} queue=-3i 10"),
            format!("prometheus,{tags} latency_count=9,latency_sum=2.5 10"),
            format!("prometheus,le=0.1,{tags} latency_bucket=3 10"),
            format!("prometheus,le=0.5,{tags} latency_bucket=7 10"),
            format!("prometheus,{tags} rpc_count=9,rpc_sum=3.5 10"),
            format!("prometheus,{scope},quantile=0.5,service.name=shop rpc=0.2 10"),
            format!("prometheus,{scope},quantile=0.99,service.name=shop rpc=1.5 10"),
        ]
    );
}

#[test]
fn points_line_protocol_cannot_carry_are_dropped_and_counted() {
    let mut b = MetricsBuilder::new();
    b.gauge("no_time", "").double(vec![], 0, 1.0);
    b.gauge("nan", "").double(vec![], 5, f64::NAN);
    b.gauge("ok", "").double(vec![], 5, 1.0);
    let mut buffer = LineBuffer::default();
    let written = write_metrics(
        b.build().request(),
        MetricsSchema::TelegrafPrometheusV1,
        &mut buffer,
    );
    assert_eq!((written.points, written.dropped), (1, 2));
    assert_eq!(buffer.into_parts().0, "ok gauge=1 5\n");
}

#[test]
fn config_keys_defaults_and_refusals() {
    let config: Config = load("endpoint: http://db:8086\nbucket: b").unwrap();
    assert_eq!(config.payload_max_lines, 10_000);
    assert_eq!(config.payload_max_bytes, 10_000_000);
    assert_eq!(config.timeout(), Duration::from_secs(5));
    assert_eq!(
        config.schema().unwrap(),
        MetricsSchema::TelegrafPrometheusV1
    );
    assert_eq!(config.span_dimensions, ["service.name", "span.name"]);
    assert_eq!(
        config.write_url().unwrap().as_str(),
        "http://db:8086/api/v2/write?precision=ns&org=&bucket=b"
    );
    let v1: Config = load(
        "endpoint: http://db:8086/\nv1_compatibility: { enabled: true, db: telegraf, retention_policy: week, username: u, password: p }",
    )
    .unwrap();
    assert_eq!(
        v1.write_url().unwrap().as_str(),
        "http://db:8086/write?precision=ns&db=telegraf&rp=week"
    );
    let custom: Config = load("endpoint: http://db/custom/path?x=1\nbucket: b\norg: o").unwrap();
    assert_eq!(
        custom.write_url().unwrap().as_str(),
        "http://db/custom/path?x=1&precision=ns&org=o&bucket=b"
    );

    let refused = |yaml: &str| load::<Config>(yaml).unwrap_err().to_string();
    assert!(refused("bucket: b").contains("endpoint"));
    assert!(
        refused("endpoint: http://db\nv1_compatibility: { enabled: true }")
            .contains("v1_compatibility::db")
    );
    assert!(refused("endpoint: http://db").contains("bucket"));
    assert!(
        refused("endpoint: http://db\nbucket: b\nmetrics_schema: otel-v1")
            .contains("not supported")
    );
    assert!(
        refused("endpoint: http://db\nbucket: b\nspan_dimensions: [a, a]").contains("duplicate")
    );
    assert!(refused("endpoint: http://db\nbucket: b\nprotocol: grpc").contains("protocol"));
    assert!(
        refused("endpoint: http://db\nbucket: b\npayload_max_lines: 0")
            .contains("payload_max_lines")
    );
}

#[test]
fn partial_write_messages_name_the_dropped_lines() {
    assert_eq!(
        dropped_count(
            "partial write: field type conflict: input field \"v\" is type float dropped=3"
        ),
        3
    );
    assert_eq!(
        dropped_count("partial write: points beyond retention policy dropped=12"),
        12
    );
    assert_eq!(dropped_count("partial write"), 1);
}

/// One request the stand-in saw.
#[derive(Clone, Debug)]
struct Seen {
    uri: String,
    headers: HeaderMap,
    body: String,
}

/// A scripted InfluxDB: answers each request from `script` (or `default`), recording it.
#[derive(Clone)]
struct StandIn {
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<VecDeque<Answer>>>,
    /// Bodies of more lines than this get 413.
    max_lines: Arc<Mutex<usize>>,
}

#[derive(Clone)]
struct Answer {
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: &'static str,
}

async fn handle(
    State(state): State<StandIn>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = String::from_utf8_lossy(&body).into_owned();
    let lines = body.lines().count();
    state.seen.lock().unwrap().push(Seen {
        uri: uri.to_string(),
        headers,
        body,
    });
    if lines > *state.max_lines.lock().unwrap() {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            r#"{"error":"Request Entity Too Large"}"#,
        )
            .into_response();
    }
    let answer = state.script.lock().unwrap().pop_front();
    match answer {
        None => StatusCode::NO_CONTENT.into_response(),
        Some(answer) => {
            let mut response =
                (StatusCode::from_u16(answer.status).unwrap(), answer.body).into_response();
            for (name, value) in answer.headers {
                response.headers_mut().insert(name, value.parse().unwrap());
            }
            response
        }
    }
}

async fn stand_in() -> (StandIn, TestServer) {
    let state = StandIn {
        seen: Arc::default(),
        script: Arc::default(),
        max_lines: Arc::new(Mutex::new(usize::MAX)),
    };
    let router = Router::new().fallback(handle).with_state(state.clone());
    (state, serve(router, None).await)
}

impl StandIn {
    fn answer(&self, status: u16, headers: Vec<(&'static str, &'static str)>, body: &'static str) {
        self.script.lock().unwrap().push_back(Answer {
            status,
            headers,
            body,
        });
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Every line received, in order.
    fn lines(&self) -> Vec<String> {
        self.seen()
            .iter()
            .flat_map(|s| s.body.lines().map(String::from).collect::<Vec<_>>())
            .collect()
    }
}

async fn exporter(yaml: &str) -> InfluxExporter {
    let config: Config = load(yaml).unwrap();
    let exporter = InfluxExporter::new(&settings::<Metrics>("influxdb"), &config).unwrap();
    Export::<Metrics>::start(&exporter, &Host::default())
        .await
        .unwrap();
    exporter
}

/// `n` gauge points, one line each.
fn gauges(n: usize) -> Metrics {
    let mut b = MetricsBuilder::new();
    for i in 0..n {
        b.gauge(&format!("g{i}"), "")
            .int(vec![], 1 + i as u64, i as i64);
    }
    b.build()
}

#[tokio::test]
async fn v2_and_v1_requests_carry_their_credentials() {
    let (influx, server) = stand_in().await;
    let v2 = exporter(&format!(
        "endpoint: http://{}\norg: o\nbucket: b\ntoken: secret",
        server.addr
    ))
    .await;
    v2.export(gauges(1)).await.unwrap();
    let v1 = exporter(&format!(
        "endpoint: http://{}\nv1_compatibility: {{ enabled: true, db: d, username: u, password: p }}\ncompression: gzip",
        server.addr
    ))
    .await;
    v1.export(gauges(1)).await.unwrap();
    let seen = influx.seen();
    assert_eq!(seen[0].uri, "/api/v2/write?precision=ns&org=o&bucket=b");
    assert_eq!(seen[0].headers["authorization"], "Token secret");
    assert_eq!(seen[0].headers["user-agent"], "OpenTelemetry -> Influx");
    assert_eq!(seen[0].headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(seen[0].body, "g0 gauge=0i 1\n");
    assert_eq!(seen[1].uri, "/write?precision=ns&db=d");
    assert_eq!(seen[1].headers["authorization"], "Basic dTpw");
    assert_eq!(seen[1].headers["content-encoding"], "gzip");
}

#[tokio::test]
async fn batches_are_cut_by_lines_and_bytes() {
    let (influx, server) = stand_in().await;
    let by_lines = exporter(&format!(
        "endpoint: http://{}\nbucket: b\npayload_max_lines: 2",
        server.addr
    ))
    .await;
    by_lines.export(gauges(5)).await.unwrap();
    let sizes: Vec<usize> = influx
        .seen()
        .iter()
        .map(|s| s.body.lines().count())
        .collect();
    assert_eq!(sizes, [2, 2, 1]);

    let (influx, server) = stand_in().await;
    // "gN gauge=Ni N+1\n" is 14 bytes: two fit in 30.
    let by_bytes = exporter(&format!(
        "endpoint: http://{}\nbucket: b\npayload_max_bytes: 30",
        server.addr
    ))
    .await;
    by_bytes.export(gauges(5)).await.unwrap();
    let sizes: Vec<usize> = influx
        .seen()
        .iter()
        .map(|s| s.body.lines().count())
        .collect();
    assert_eq!(sizes, [2, 2, 1]);
    assert_eq!(influx.lines().len(), 5);
}

#[tokio::test]
async fn too_large_requests_are_sent_in_halves() {
    let (influx, server) = stand_in().await;
    *influx.max_lines.lock().unwrap() = 2;
    let exporter = exporter(&format!("endpoint: http://{}\nbucket: b", server.addr)).await;
    exporter.export(gauges(7)).await.unwrap();
    let accepted: Vec<usize> = influx
        .seen()
        .iter()
        .map(|s| s.body.lines().count())
        .filter(|n| *n <= 2)
        .collect();
    assert_eq!(
        accepted.iter().sum::<usize>(),
        7,
        "every line arrived once in accepted requests"
    );
    let mut delivered: Vec<String> = influx
        .seen()
        .iter()
        .filter(|s| s.body.lines().count() <= 2)
        .flat_map(|s| s.body.lines().map(String::from).collect::<Vec<_>>())
        .collect();
    delivered.sort();
    let mut expected: Vec<String> = lines(&gauges(7), MetricsSchema::TelegrafPrometheusV1);
    expected.sort();
    assert_eq!(delivered, expected);

    // A single line too large is permanent.
    *influx.max_lines.lock().unwrap() = 0;
    let error = exporter.export(gauges(1)).await.unwrap_err();
    assert!(error.is_permanent(), "{error}");
}

#[tokio::test]
async fn answers_are_classified() {
    let (influx, server) = stand_in().await;
    let exporter = exporter(&format!("endpoint: http://{}\nbucket: b", server.addr)).await;

    influx.answer(
        429,
        vec![("retry-after", "7")],
        r#"{"code":"too many requests","message":"slow down"}"#,
    );
    let throttled = exporter.export(gauges(1)).await.unwrap_err();
    assert!(throttled.is_throttled(), "{throttled}");
    assert_eq!(throttled.retry_after(), Some(Duration::from_secs(7)));
    assert!(throttled.message().contains("slow down"));

    influx.answer(503, vec![("retry-after", "3")], "");
    let unavailable = exporter.export(gauges(1)).await.unwrap_err();
    assert!(
        unavailable.is_retryable() && !unavailable.is_throttled(),
        "{unavailable}"
    );
    assert_eq!(unavailable.retry_after(), Some(Duration::from_secs(3)));

    influx.answer(500, vec![], r#"{"error":"timeout"}"#);
    assert!(exporter.export(gauges(1)).await.unwrap_err().is_retryable());

    for status in [400, 401, 403, 404] {
        influx.answer(status, vec![], r#"{"error":"database not found: \"x\""}"#);
        let error = exporter.export(gauges(1)).await.unwrap_err();
        assert!(error.is_permanent(), "{status}: {error}");
        assert!(error.message().contains("database not found"), "{error}");
    }

    influx.answer(400, vec![], r#"{"error":"partial write: field type conflict: input field \"gauge\" on measurement \"g0\" is type integer, already exists as type float dropped=1"}"#);
    exporter.export(gauges(2)).await.unwrap();

    let nowhere = self::exporter(&format!(
        "endpoint: http://{}\nbucket: b",
        closed_port().await
    ))
    .await;
    assert!(nowhere.export(gauges(1)).await.unwrap_err().is_retryable());
}

#[tokio::test]
async fn permanent_errors_are_not_retried_and_retryable_ones_are() {
    let (influx, server) = stand_in().await;
    let config: Config = load(&format!(
        "endpoint: http://{}\nbucket: b\nsending_queue: {{ enabled: false }}\nretry_on_failure: {{ initial_interval: 10ms, max_interval: 10ms }}",
        server.addr
    ))
    .unwrap();
    let exporter = factory()
        .create(&settings::<Metrics>("influxdb"), &config)
        .unwrap();
    exporter.start(&Host::default()).await.unwrap();

    influx.answer(
        404,
        vec![],
        r#"{"code":"not found","message":"bucket \"b\" not found"}"#,
    );
    assert!(exporter.consume(gauges(1)).await.is_err());
    assert_eq!(influx.seen().len(), 1, "a 404 is sent once");

    influx.answer(503, vec![], "");
    influx.answer(429, vec![("retry-after", "0")], "");
    exporter.consume(gauges(1)).await.unwrap();
    assert_eq!(influx.seen().len(), 4, "503 and 429 are retried");
    exporter.shutdown().await.unwrap();
}

#[tokio::test]
async fn conformance() {
    tributary_pipeline_core::testing::check_exporter(
        factory(),
        "endpoint: http://127.0.0.1:{port}\nbucket: b",
    )
    .await;
}

#[test]
fn logs_layout() {
    use tributary_pipeline_core::pdata::builder::LogsBuilder;
    use tributary_pipeline_core::pdata::proto::logs::v1::SeverityNumber;

    let mut b = LogsBuilder::new();
    b.resource(vec![
        key_value("service.name", "shop"),
        key_value("host.name", "h"),
    ])
    .scope("lib", "1");
    b.record("hello \"world\"")
        .severity(SeverityNumber::Warn, "WARN")
        .time(10)
        .observed_time(11)
        .attribute("user", 7i64)
        .trace_context([1; 16], [2; 8], 1);
    b.record("no time");
    let mut buffer = LineBuffer::default();
    let written = write_logs(
        b.build().request(),
        &["service.name".into()],
        99,
        &mut buffer,
    );
    assert_eq!((written.points, written.dropped), (2, 0));
    let (text, _) = buffer.into_parts();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "logs,service.name=shop,span_id=0202020202020202,trace_id=01010101010101010101010101010101 \
             observed_time_unix_nano=11i,severity_number=13i,severity_text=\"WARN\",body=\"hello \\\"world\\\"\",\
             attributes=\"{\\\"host.name\\\":\\\"h\\\",\\\"user\\\":7}\" 10",
            "logs,service.name=shop body=\"no time\",attributes=\"{\\\"host.name\\\":\\\"h\\\"}\" 99",
        ]
    );
}

#[tokio::test]
async fn logs_are_written_to_the_logs_measurement() {
    use tributary_pipeline_core::pdata::Logs;
    use tributary_pipeline_core::pdata::builder::LogsBuilder;

    let (influx, server) = stand_in().await;
    let config: Config = load(&format!("endpoint: http://{}\nbucket: b", server.addr)).unwrap();
    let exporter = InfluxExporter::new(&settings::<Logs>("influxdb"), &config).unwrap();
    Export::<Logs>::start(&exporter, &Host::default())
        .await
        .unwrap();
    let mut b = LogsBuilder::new();
    b.record("started").time(5);
    exporter.export(b.build()).await.unwrap();
    assert_eq!(influx.lines(), ["logs body=\"started\" 5"]);
}

#[test]
fn traces_layout() {
    use tributary_pipeline_core::pdata::builder::TracesBuilder;
    use tributary_pipeline_core::pdata::proto::trace::v1::{span::SpanKind, status::StatusCode};

    let mut b = TracesBuilder::new();
    b.resource(vec![key_value("service.name", "shop")])
        .scope("lib", "1");
    b.span("GET /", [1; 16], [2; 8])
        .parent([3; 8])
        .kind(SpanKind::Server)
        .times(100, 150)
        .attribute("http.status", 200i64)
        .event("retry", 120, vec![key_value("n", 1i64)])
        .status(StatusCode::Error, "boom");
    b.span("no ids", [0; 16], [0; 8]).times(1, 2);
    let mut buffer = LineBuffer::default();
    let dimensions = ["service.name".to_string(), "span.name".to_string()];
    let written = write_traces(b.build().request(), &dimensions, &mut buffer);
    assert_eq!((written.points, written.dropped), (1, 1));
    let (text, _) = buffer.into_parts();
    let ids = "span_id=0202020202020202,trace_id=01010101010101010101010101010101";
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            format!(
                "spans,service.name=shop,span.name=GET\\ /,{ids} parent_span_id=\"0303030303030303\",\
                 span.kind=\"Server\",end_time_unix_nano=150i,duration_nano=50i,\
                 attributes=\"{{\\\"http.status\\\":200}}\",otel.status_code=\"Error\",\
                 otel.status_description=\"boom\" 100"
            ),
            format!("logs,{ids} event.name=\"retry\",attributes=\"{{\\\"n\\\":1}}\" 120"),
        ]
    );
}
