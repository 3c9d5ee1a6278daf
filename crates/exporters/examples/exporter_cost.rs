//! What each exporter costs in CPU per million spans, on this machine.
//!
//! ```sh
//! cargo run --release -p tributary-exporters --example exporter_cost 2>/dev/null
//! cargo run --release -p tributary-exporters --example exporter_cost -- otlp 2>/dev/null  # names starting with "otlp"
//! ```
//!
//! Batches of 100 spans (10 attributes each, random IDs), decoded from protobuf as a
//! receiver would hand them over, are exported by 4 concurrent tasks. The network
//! exporters send to a minimal in-process sink (an axum server that answers every request
//! with success without decoding it), so their figures include that sink's share. CPU time
//! is the process's user + system time from `/proc/self/stat`, which, unlike throughput,
//! stays stable on a busy machine.
//!
//! `loadbalancing` routes each batch's spans by trace ID over three sinks (one request per
//! sink per batch), next to `otlp (gRPC), none` to one sink: the difference is the ring's
//! cost, splitting included.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::response::Response;
use http_body_util::{BodyExt, Full};
use prost::Message;
use tributary_pipeline_core::component::{CreateSettings, Exporter, Host, Kind};
use tributary_pipeline_core::pdata::Traces;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, KeyValue, any_value};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};

const BATCHES: usize = 10_000;
const SPANS_PER_BATCH: usize = 100;
const TASKS: usize = 4;

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

fn attribute(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

/// One batch, as received: decoded from its protobuf bytes (which it keeps).
fn batch(seed: u64) -> Traces {
    let mut x = seed | 1;
    let mut random = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let spans = (0..SPANS_PER_BATCH)
        .map(|i| Span {
            trace_id: [random().to_le_bytes(), random().to_le_bytes()].concat(),
            span_id: random().to_le_bytes().to_vec(),
            name: format!("operation-{}", i % 10),
            kind: 2,
            start_time_unix_nano: 1_700_000_000_000_000_000 + random() % 1_000_000_000,
            end_time_unix_nano: 1_700_000_001_000_000_000,
            attributes: (0..10)
                .map(|a| match a % 3 {
                    0 => attribute(
                        &format!("attr.string.{a}"),
                        any_value::Value::StringValue(format!("value-{}", random() % 100)),
                    ),
                    1 => attribute(
                        &format!("attr.int.{a}"),
                        any_value::Value::IntValue((random() % 10_000) as i64),
                    ),
                    _ => attribute(
                        &format!("attr.bool.{a}"),
                        any_value::Value::BoolValue(random() % 2 == 0),
                    ),
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: (0..6)
                    .map(|a| {
                        attribute(
                            if a == 0 { "service.name" } else { "host.attr" },
                            any_value::Value::StringValue(format!("resource-{a}")),
                        )
                    })
                    .collect(),
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            schema_url: String::new(),
        }],
    };
    Traces::decode(request.encode_to_vec().into()).expect("decodes")
}

/// Answers every request with success, gRPC or HTTP alike, without decoding it.
async fn sink() -> std::net::SocketAddr {
    async fn answer(request: axum::extract::Request) -> Response {
        let grpc = request
            .headers()
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
        let _ = request.into_body().collect().await;
        if grpc {
            let mut trailers = http::HeaderMap::new();
            trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
            let body = Full::new(Bytes::from_static(&[0, 0, 0, 0, 0]))
                .with_trailers(async move { Some(Ok(trailers)) });
            Response::builder()
                .header("content-type", "application/grpc")
                .body(Body::new(body))
                .unwrap()
        } else {
            Response::new(Body::empty())
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = Router::new().fallback(answer);
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let service = hyper_util::service::TowerToHyperService::new(router.clone());
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
            });
        }
    });
    addr
}

fn settings() -> CreateSettings {
    CreateSettings::standalone(Kind::Exporter, "bench".parse().unwrap(), None)
}

async fn measure(name: &str, exporter: Arc<dyn Exporter<Traces>>, batches: &[Traces]) {
    // An optional argument keeps only the measurements whose name starts with it.
    if std::env::args()
        .nth(1)
        .is_some_and(|only| !name.starts_with(&only))
    {
        return;
    }
    exporter.start(&Host::default()).await.unwrap();
    // Warm up: connections, buffers.
    for batch in batches.iter().take(50) {
        exporter.consume(batch.clone()).await.unwrap();
    }
    let (cpu, wall) = (cpu_seconds(), Instant::now());
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..TASKS {
        let exporter = exporter.clone();
        let mine: Vec<Traces> = batches.iter().skip(task).step_by(TASKS).cloned().collect();
        tasks.spawn(async move {
            for batch in mine {
                exporter.consume(batch).await.unwrap();
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    exporter.shutdown().await.unwrap();
    let (cpu, wall) = (cpu_seconds() - cpu, wall.elapsed().as_secs_f64());
    let spans = (batches.len() * SPANS_PER_BATCH) as f64;
    println!(
        "{name:<34} {:>7.2} CPU-s per 1M spans   {:>9.0} spans/s",
        cpu / spans * 1e6,
        spans / wall
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let batches: Vec<Traces> = (0..BATCHES as u64).map(batch).collect();
    let bytes: usize = batches.iter().map(|b| b.encoded_len()).sum();
    println!(
        "{} batches of {SPANS_PER_BATCH} spans, {} bytes of protobuf per batch on average\n",
        batches.len(),
        bytes / batches.len()
    );
    let addr = sink().await;
    let direct = "retry_on_failure: {enabled: false}\nsending_queue: {enabled: false}\n";

    // Level 0 is the default (1 for both); gzip 6 is what tonic's own compression uses.
    for (compression, level) in [
        ("none", 0),
        ("gzip", 0),
        ("gzip", 6),
        ("zstd", 0),
        ("zstd", 3),
    ] {
        let config: tributary_exporters::otlp::Config = decode(&format!(
            "endpoint: http://{addr}\ncompression: {compression}\ncompression_params: {{level: {level}}}\n{direct}"
        ));
        let exporter = tributary_exporters::otlp::factory()
            .create::<Traces>(&settings(), &config)
            .unwrap();
        let name = match level {
            0 => format!("otlp (gRPC), {compression}"),
            level => format!("otlp (gRPC), {compression} level {level}"),
        };
        measure(&name, exporter, &batches).await;
    }
    let sinks = [sink().await, sink().await, sink().await];
    let config: tributary_exporters::loadbalancing::Config = decode(&format!(
        "protocol: {{otlp: {{compression: none, tls: {{insecure: true}}}}}}\nresolver: {{static: {{hostnames: [{}, {}, {}]}}}}\n",
        sinks[0], sinks[1], sinks[2]
    ));
    let exporter = tributary_exporters::loadbalancing::factory()
        .create::<Traces>(&settings(), &config)
        .unwrap();
    measure("loadbalancing (3 backends), none", exporter, &batches).await;
    for (encoding, compression) in [("proto", "none"), ("proto", "gzip"), ("json", "none")] {
        let config: tributary_exporters::otlp_http::Config = decode(&format!(
            "endpoint: http://{addr}\nencoding: {encoding}\ncompression: {compression}\n{direct}"
        ));
        let exporter = tributary_exporters::otlp_http::factory()
            .create::<Traces>(&settings(), &config)
            .unwrap();
        measure(
            &format!("otlp_http, {encoding}, {compression}"),
            exporter,
            &batches,
        )
        .await;
    }
    let dir = std::env::temp_dir().join(format!("exporter-cost-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for format in ["json", "proto"] {
        let config: tributary_exporters::file::Config = decode(&format!(
            "path: {}\nformat: {format}\n",
            dir.join(format!("out.{format}")).display()
        ));
        let exporter = tributary_exporters::file::factory()
            .create::<Traces>(&settings(), &config)
            .unwrap();
        measure(&format!("file, {format}"), exporter, &batches).await;
    }
    std::fs::remove_dir_all(&dir).unwrap();
    for verbosity in ["basic", "normal"] {
        let config: tributary_exporters::debug::Config =
            decode(&format!("verbosity: {verbosity}\n"));
        let exporter = tributary_exporters::debug::factory()
            .create::<Traces>(&settings(), &config)
            .unwrap();
        measure(
            &format!("debug, {verbosity} (to stderr)"),
            exporter,
            &batches,
        )
        .await;
    }
}

fn decode<C: serde::de::DeserializeOwned>(yaml: &str) -> C {
    tributary_confmap::Conf::from_yaml(yaml)
        .unwrap()
        .decode()
        .unwrap()
}
