//! The OTLP receiver against real clients: each test starts the receiver on 127.0.0.1:0
//! with recording pipelines and talks to it with tonic and reqwest.

mod admission;
mod auth;
mod config;
mod grpc;
mod http;
mod lifecycle;
mod tls;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tributary_confmap::Conf;
use tributary_pipeline_core::component::{
    ComponentConfig, ComponentId, CreateError, CreateSettings, Host, Kind, Receiver,
};
use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value,
};
use tributary_pipeline_core::pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric, number_data_point,
};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use tributary_pipeline_core::pdata::{Payload, Signal};

use super::config::Config;
use super::factory::factory;
use super::receiver::{OtlpServer, Transport};
use tributary_pipeline_core::testing::Sink;

/// A pipeline that records what it is given and answers as the test tells it to.
pub(super) type Recorder<R> = Sink<Payload<R>>;

/// Decodes and validates a receiver configuration as the collector does.
pub(super) fn config(yaml: &str) -> Config {
    try_config(yaml).unwrap_or_else(|e| panic!("invalid test config: {e}"))
}

pub(super) fn try_config(yaml: &str) -> Result<Config, String> {
    let conf = Conf::from_yaml(yaml).map_err(|e| e.to_string())?;
    let config: Config = match conf.as_value() {
        tributary_confmap::Value::Null => Config::default(),
        value => value.decode().map_err(|e| e.to_string())?,
    };
    config.validate().map_err(|e| e.to_string())?;
    Ok(config)
}

/// Both protocols on ephemeral ports.
pub(super) const BOTH: &str = "
protocols:
  grpc:
    endpoint: 127.0.0.1:0
  http:
    endpoint: 127.0.0.1:0
";

/// A running receiver with a recording pipeline per signal.
pub(super) struct Harness {
    pub settings: CreateSettings,
    pub traces: Arc<Recorder<ExportTraceServiceRequest>>,
    pub metrics: Arc<Recorder<ExportMetricsServiceRequest>>,
    pub logs: Arc<Recorder<ExportLogsServiceRequest>>,
    pub receivers: Vec<(Signal, Arc<dyn Receiver>)>,
}

impl Harness {
    /// Starts the receiver `yaml` configures for all three signals.
    pub(super) async fn start(yaml: &str) -> Harness {
        Harness::start_signals(yaml, &Signal::ALL).await
    }

    /// Starts the receiver `yaml` configures for `signals` only.
    pub(super) async fn start_signals(yaml: &str, signals: &[Signal]) -> Harness {
        Harness::start_on(yaml, signals, &Host::default()).await
    }

    /// Starts the receiver `yaml` configures for `signals` on `host` (its extensions).
    pub(super) async fn start_on(yaml: &str, signals: &[Signal], host: &Host) -> Harness {
        let harness = Harness::create(yaml, signals).expect("receivers are created");
        for (signal, receiver) in &harness.receivers {
            receiver
                .start(host)
                .await
                .unwrap_or_else(|e| panic!("{signal} receiver starts: {e}"));
        }
        harness
    }

    /// Creates (without starting) the receiver instances for `signals` through the factory,
    /// from one settings value, as the collector does.
    pub(super) fn create(yaml: &str, signals: &[Signal]) -> Result<Harness, CreateError> {
        let config = config(yaml);
        let id: ComponentId = "otlp".parse().expect("valid ID");
        let settings = CreateSettings::standalone(Kind::Receiver, id, Some(Signal::Traces));
        let factory = factory();
        let traces = Recorder::new();
        let metrics = Recorder::new();
        let logs = Recorder::new();
        let mut receivers = Vec::new();
        for signal in signals {
            let receiver = match signal {
                Signal::Traces => factory.create(&settings, &config, traces.clone())?,
                Signal::Metrics => factory.create(&settings, &config, metrics.clone())?,
                Signal::Logs => factory.create(&settings, &config, logs.clone())?,
            };
            receivers.push((*signal, receiver));
        }
        Ok(Harness {
            settings,
            traces,
            metrics,
            logs,
            receivers,
        })
    }

    /// The server the instances share.
    pub(super) fn server(&self) -> Arc<OtlpServer> {
        self.settings
            .shared::<OtlpServer>(|| Err(CreateError::new("no server was created")))
            .expect("the instances share a server")
    }

    pub(super) async fn grpc_addr(&self) -> SocketAddr {
        self.server()
            .local_addr(Transport::Grpc)
            .await
            .expect("gRPC is listening")
    }

    pub(super) async fn http_addr(&self) -> SocketAddr {
        self.server()
            .local_addr(Transport::Http)
            .await
            .expect("HTTP is listening")
    }

    pub(super) async fn grpc_url(&self) -> String {
        format!("http://{}", self.grpc_addr().await)
    }

    pub(super) async fn http_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http_addr().await)
    }

    /// Shuts the instance of `signal` down.
    pub(super) async fn stop(&self, signal: Signal) {
        for (s, receiver) in &self.receivers {
            if *s == signal {
                receiver.shutdown().await.expect("shutdown succeeds");
            }
        }
    }

    /// Shuts every instance down.
    pub(super) async fn shutdown(&self) {
        for (_, receiver) in &self.receivers {
            receiver.shutdown().await.expect("shutdown succeeds");
        }
    }

    /// The value of a receiver counter (`otelcol_receiver_accepted_spans`) for a transport.
    pub(super) fn counter(&self, name: &str, transport: &str) -> u64 {
        let text = self.settings.metrics().render_prometheus();
        let series = format!(r#"{name}{{receiver="otlp",transport="{transport}"}} "#);
        text.lines()
            .find_map(|line| line.strip_prefix(&series))
            .map(|value| value.trim().parse().expect("a counter value"))
            .unwrap_or(0)
    }
}

/// Waits up to five seconds for `condition`.
pub(super) async fn eventually(what: &str, condition: impl Fn() -> bool) {
    for _ in 0..500 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting until {what}");
}

fn string_attribute(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

fn resource() -> Option<Resource> {
    Some(Resource {
        attributes: vec![string_attribute("service.name", "checkout")],
        ..Default::default()
    })
}

fn scope() -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: "test".into(),
        ..Default::default()
    })
}

/// A traces request of `spans` spans.
pub(super) fn traces(spans: usize) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(),
            scope_spans: vec![ScopeSpans {
                scope: scope(),
                spans: (0..spans)
                    .map(|i| Span {
                        trace_id: vec![1; 16],
                        span_id: (i as u64 + 1).to_be_bytes().to_vec(),
                        name: format!("span {i}"),
                        start_time_unix_nano: 1_700_000_000_000_000_000,
                        end_time_unix_nano: 1_700_000_000_100_000_000,
                        attributes: vec![string_attribute("http.route", "/cart")],
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// A metrics request of one gauge with `points` data points.
pub(super) fn metrics(points: usize) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource(),
            scope_metrics: vec![ScopeMetrics {
                scope: scope(),
                metrics: vec![Metric {
                    name: "queue.depth".into(),
                    data: Some(metric::Data::Gauge(Gauge {
                        data_points: (0..points)
                            .map(|i| NumberDataPoint {
                                time_unix_nano: 1_700_000_000_000_000_000 + i as u64,
                                value: Some(number_data_point::Value::AsDouble(i as f64 + 0.5)),
                                ..Default::default()
                            })
                            .collect(),
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// A logs request of `records` log records.
pub(super) fn logs(records: usize) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(),
            scope_logs: vec![ScopeLogs {
                scope: scope(),
                log_records: (0..records)
                    .map(|i| LogRecord {
                        time_unix_nano: 1_700_000_000_000_000_000 + i as u64,
                        severity_text: "INFO".into(),
                        body: Some(AnyValue {
                            value: Some(any_value::Value::StringValue(format!("line {i}"))),
                        }),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

pub(super) fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).expect("in memory");
    encoder.finish().expect("in memory")
}

pub(super) fn zlib(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).expect("in memory");
    encoder.finish().expect("in memory")
}

pub(super) fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut encoder =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).expect("in memory");
    encoder.finish().expect("in memory")
}

pub(super) fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).expect("in memory")
}

/// The path of a test file under `testdata/`.
pub(super) fn testdata(name: &str) -> String {
    format!("{}/src/otlp/testdata/{name}", env!("CARGO_MANIFEST_DIR"))
}
