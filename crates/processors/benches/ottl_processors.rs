//! What the OTTL processors cost per item, beside the same data handed straight to the
//! next stage: `transform` with a typical `set(..., Concat(...)) where ...` statement on
//! spans, and `filter` dropping 97 % of log records (the shape of the otel-arrow filter
//! comparison).
//!
//! `cargo bench -p tributary-processors --bench ottl_processors`. Each run is on a
//! current-thread runtime, so the figure is CPU time per item.

use std::sync::Arc;

use divan::Bencher;
use divan::counter::ItemsCount;
use tokio::runtime::Runtime;
use tributary_pipeline_core::component::{
    ComponentConfig, CreateSettings, Kind, Processor, load_config,
};
use tributary_pipeline_core::consumer::Consumer;
use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, KeyValue, any_value};
use tributary_pipeline_core::pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use tributary_pipeline_core::pdata::{Logs, SignalData, Traces};
use tributary_pipeline_core::testing::discard;
use tributary_processors::{filter, transform};

/// Items per request.
const ITEMS: usize = 100;

const ROUTES: [&str; 4] = ["/api/users", "/api/orders", "/api/cart", "/healthz"];

fn main() {
    divan::main();
}

fn string(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

fn int(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(value)),
        }),
        ..Default::default()
    }
}

fn resource() -> Option<Resource> {
    Some(Resource {
        attributes: vec![
            string("service.name", "checkout"),
            string("host.name", "web-1"),
        ],
        ..Default::default()
    })
}

/// Spans as an instrumented HTTP server makes them: one in fifty failed. As a receiver
/// hands them over: encoded, not yet decoded.
fn spans() -> Traces {
    let built = Traces::new(ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(),
            scope_spans: vec![ScopeSpans {
                spans: (0..ITEMS)
                    .map(|i| Span {
                        name: format!("GET {}", ROUTES[i % 4]),
                        trace_id: vec![7; 16],
                        span_id: vec![9; 8],
                        attributes: vec![
                            string("http.request.method", "GET"),
                            string("http.route", ROUTES[i % 4]),
                            int(
                                "http.response.status_code",
                                if i % 50 == 0 { 500 } else { 200 },
                            ),
                            string("url.scheme", "https"),
                            int("server.port", 443),
                        ],
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    });
    Traces::decode(built.encoded()).unwrap()
}

/// Access-log records taking 0..799 ms, spread evenly (as telemetrygen's), as a receiver
/// hands them over.
fn logs() -> Logs {
    let built = Logs::new(ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(),
            scope_logs: vec![ScopeLogs {
                log_records: (0..ITEMS)
                    .map(|i| LogRecord {
                        severity_text: "INFO".into(),
                        body: Some(AnyValue {
                            value: Some(any_value::Value::StringValue(format!(
                                "GET {} 200 {}ms",
                                ROUTES[i % 4],
                                i * 8
                            ))),
                        }),
                        attributes: vec![
                            string("http.request.method", "GET"),
                            string("http.route", ROUTES[i % 4]),
                            int("http.server.duration_ms", (i * 8) as i64),
                        ],
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    });
    Logs::decode(built.encoded()).unwrap()
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

fn settings(id: &str) -> CreateSettings {
    CreateSettings::standalone(Kind::Processor, id.parse().unwrap(), None)
}

fn run<T: SignalData>(bencher: Bencher, next: Arc<dyn Consumer<T>>, data: T) {
    let rt = runtime();
    bencher
        .counter(ItemsCount::new(ITEMS))
        .with_inputs(|| data.clone())
        .bench_local_values(|data| rt.block_on(next.consume(data)).unwrap());
}

/// 100 spans straight to the next stage.
#[divan::bench]
fn spans_pass_through(bencher: Bencher) {
    run(bencher, discard(), spans());
}

/// 100 spans through `set(attributes["app.endpoint"], Concat([...], " ")) where ...`.
#[divan::bench]
fn spans_transform_concat_where(bencher: Bencher) {
    let config: transform::Config = load_config(
        r#"
error_mode: ignore
trace_statements:
  - 'set(span.attributes["app.endpoint"], Concat([span.attributes["http.request.method"], span.attributes["http.route"]], " ")) where span.attributes["http.response.status_code"] == 200'
"#,
    )
    .unwrap();
    config.validate().unwrap();
    let processor: Arc<dyn Processor<Traces>> = transform::factory()
        .create(&settings("transform"), &config, discard())
        .unwrap();
    run(bencher, processor, spans());
}

/// 100 log records straight to the next stage.
#[divan::bench]
fn logs_pass_through(bencher: Bencher) {
    run(bencher, discard(), logs());
}

/// 100 log records through a filter that drops the 97 under 776 ms.
#[divan::bench]
fn logs_filter_drop_97_percent(bencher: Bencher) {
    let config: filter::Config = load_config(
        r#"
error_mode: ignore
logs:
  log_record:
    - 'log.attributes["http.server.duration_ms"] < 776'
"#,
    )
    .unwrap();
    config.validate().unwrap();
    let processor: Arc<dyn Processor<Logs>> = filter::factory()
        .create(&settings("filter"), &config, discard())
        .unwrap();
    run(bencher, processor, logs());
}
