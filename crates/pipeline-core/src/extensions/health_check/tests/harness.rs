//! A collector with the health check and scripted components the tests can steer, and
//! an HTTP client to ask it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value as Json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tributary_featuregate::Registry;

use crate::component::{
    Component, ComponentConfig, ComponentError, ComponentStatus, CreateSettings, Exporter,
    ExporterFactory, Extension, ExtensionFactory, Host, Stability,
};
use crate::consumer::{ConsumeError, Consumer};
use crate::extensions::health_check::HealthCheck;
use crate::pdata::{Signal, Traces};
use crate::service::{Collector, CollectorError, ConfigSource};
use crate::telemetry::ExporterMetrics;
use crate::test_support::*;

// ---- Test components ----

/// What a `scripted` exporter does with each batch.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
enum OnConsume {
    #[default]
    Deliver,
    Panic,
    /// Waits for `Controls::calls` to release it, then delivers.
    Block,
    /// Refuses it, counting the items as failed the way the exporter helper does.
    Fail,
    /// Delivers it, and reports a recoverable error.
    ReportRecoverable,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ScriptConfig {
    on_consume: OnConsume,
    /// `start` waits for `Controls::start`.
    hold_start: bool,
    /// `shutdown` waits for `Controls::shutdown`.
    hold_shutdown: bool,
    /// `start` spawns a task (through `CreateSettings::spawn`) that panics at once.
    panic_task_at_start: bool,
    /// `start` tracks progress (as a receiver tracks requests waiting for admission) and
    /// puts one unit in flight that completes only when `Controls::calls` releases it.
    stall_progress_at_start: bool,
}
impl ComponentConfig for ScriptConfig {}

/// Levers the test pulls on its `scripted` exporters.
#[derive(Clone)]
pub(super) struct Controls {
    pub calls: Arc<Semaphore>,
    pub start: Arc<Semaphore>,
    pub shutdown: Arc<Semaphore>,
    pub delivered: Arc<AtomicUsize>,
}

impl Default for Controls {
    fn default() -> Self {
        Controls {
            calls: Arc::new(Semaphore::new(0)),
            start: Arc::new(Semaphore::new(0)),
            shutdown: Arc::new(Semaphore::new(0)),
            delivered: Arc::default(),
        }
    }
}

async fn pass(gate: &Semaphore) {
    if let Ok(permit) = gate.acquire().await {
        permit.forget();
    }
}

struct Scripted {
    on_consume: OnConsume,
    hold_start: bool,
    hold_shutdown: bool,
    panic_task_at_start: bool,
    stall_progress_at_start: bool,
    controls: Controls,
    settings: CreateSettings,
    metrics: ExporterMetrics,
}

#[async_trait]
impl Component for Scripted {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        if self.hold_start {
            pass(&self.controls.start).await;
        }
        if self.panic_task_at_start {
            // Waiting for the task makes its panic land before the start's success.
            let _ = self.settings.spawn(async { panic!("task boom") }).await;
        }
        if self.stall_progress_at_start {
            let tracker = self
                .settings
                .progress_tracker("requests waiting for admission");
            let calls = Arc::clone(&self.controls.calls);
            self.settings.spawn(async move {
                let waiting = tracker.begin();
                pass(&calls).await;
                waiting.complete();
                // Registered while the tracker lives.
                std::future::pending::<()>().await;
            });
        }
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        if self.hold_shutdown {
            pass(&self.controls.shutdown).await;
        }
        Ok(())
    }
}

#[async_trait]
impl Consumer<Traces> for Scripted {
    async fn consume(&self, data: Traces) -> Result<(), ConsumeError> {
        match self.on_consume {
            OnConsume::Deliver => {}
            OnConsume::Panic => panic!("boom"),
            OnConsume::Block => pass(&self.controls.calls).await,
            OnConsume::Fail => {
                self.metrics.send_failed.add(data.item_count() as u64);
                return Err(ConsumeError::permanent("the backend refused the data"));
            }
            OnConsume::ReportRecoverable => self
                .settings
                .status()
                .report(ComponentStatus::RecoverableError("backend slow".into())),
        }
        self.controls.delivered.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

fn scripted_factory(controls: Controls) -> ExporterFactory<ScriptConfig> {
    ExporterFactory::new("scripted").with_traces(
        move |settings: &CreateSettings, config: &ScriptConfig| {
            Ok(Arc::new(Scripted {
                on_consume: config.on_consume,
                hold_start: config.hold_start,
                hold_shutdown: config.hold_shutdown,
                panic_task_at_start: config.panic_task_at_start,
                stall_progress_at_start: config.stall_progress_at_start,
                controls: controls.clone(),
                settings: settings.clone(),
                metrics: ExporterMetrics::new(settings.metrics(), settings.id(), Signal::Traces),
            }) as Arc<dyn Exporter<Traces>>)
        },
        Stability::Beta,
    )
}

/// Where the health checks of the collector listen, as the `health_probe` extension found
/// them through its host.
#[derive(Clone, Default)]
pub(super) struct Found(Arc<Mutex<Vec<SocketAddr>>>);

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoConfig {}
impl ComponentConfig for NoConfig {}

struct Probe(Found);

#[async_trait]
impl Component for Probe {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        for (id, _) in host.extensions() {
            if let Some(address) = host
                .extension_as::<HealthCheck>(id)
                .and_then(|health_check| health_check.local_addr())
            {
                self.0.0.lock().unwrap().push(address);
            }
        }
        Ok(())
    }
}
impl Extension for Probe {}

fn probe_factory(found: Found) -> ExtensionFactory<NoConfig> {
    ExtensionFactory::new(
        "health_probe",
        move |_: &CreateSettings, _: &NoConfig| {
            Ok(Arc::new(Probe(found.clone())) as Arc<dyn Extension>)
        },
        Stability::Development,
    )
}

// ---- The collector ----

const PATIENCE: Duration = Duration::from_secs(30);

/// A collector with a `health_check` (configured by `health`), the `health_probe` after it,
/// receivers `test_in` and `test_in/b`, exporter `mem`, the `exporters` lines given, and
/// the `pipelines` lines given.
pub(super) fn config(health: &str, exporters: &str, pipelines: &str) -> String {
    format!(
        "receivers:\n  test_in: {{}}\n  test_in/b: {{}}\n\
         exporters:\n  mem: {{}}\n{exporters}\
         extensions:\n  health_check: {health}\n  health_probe: {{}}\n\
         service:\n  extensions: [health_check, health_probe]\n  \
         telemetry: {{ metrics: {{ address: 127.0.0.1:0 }} }}\n  pipelines:\n{pipelines}"
    )
}

pub(super) const ONE_PIPELINE: &str = "    traces: { receivers: [test_in], exporters: [mem] }\n";

pub(super) struct Harness {
    pub collector: Collector,
    pub run: tokio::task::JoinHandle<Result<(), CollectorError>>,
    pub inlets: Inlets,
    pub sinks: Sinks,
    pub controls: Controls,
    pub address: SocketAddr,
    pub path: PathBuf,
    _dir: tempfile::TempDir,
}

pub(super) fn builder(
    controls: &Controls,
    found: &Found,
) -> (crate::service::CollectorBuilder, Inlets, Sinks) {
    let (journal, inlets, sinks) = (Journal::default(), Inlets::default(), Sinks::default());
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    let builder = Collector::builder("health-test", "0.0.1")
        .factories(crate::extensions::factories())
        .receiver(test_receiver_factory(journal.clone(), inlets.clone()))
        .exporter(test_exporter_factory(journal, sinks.clone()))
        .exporter(scripted_factory(controls.clone()))
        .extension(probe_factory(found.clone()))
        .feature_gates(registry);
    (builder, inlets, sinks)
}

/// Runs a collector from `yaml` until its health check listens (its pipelines may not run
/// yet), or returns why it could not start.
pub(super) async fn launch(yaml: &str) -> Result<Harness, CollectorError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("collector.yaml");
    std::fs::write(&path, yaml).unwrap();
    let (controls, found) = (Controls::default(), Found::default());
    let (builder, inlets, sinks) = builder(&controls, &found);
    let collector = builder
        .build(ConfigSource::uris([path.display().to_string()]))
        .unwrap();
    let run = tokio::spawn({
        let collector = collector.clone();
        async move { collector.run().await }
    });
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let address = loop {
        if let Some(address) = found.0.lock().unwrap().first().copied() {
            break address;
        }
        if run.is_finished() {
            return Err(run.await.unwrap().expect_err("run ended before serving"));
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the health check never listened"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    Ok(Harness {
        collector,
        run,
        inlets,
        sinks,
        controls,
        address,
        path,
        _dir: dir,
    })
}

/// Runs a collector from `yaml` until its pipelines run.
pub(super) async fn start(yaml: &str) -> Harness {
    let h = launch(yaml).await.unwrap();
    let health = h.collector.health().clone();
    eventually("the pipelines to run", || health.is_running()).await;
    h
}

impl Harness {
    pub(super) async fn send(&self, receiver: &str) -> Result<(), ConsumeError> {
        self.inlets.get(receiver).consume(spans()).await
    }

    /// Sends a batch in the background (for exporters that block).
    pub(super) fn send_later(
        &self,
        receiver: &str,
    ) -> tokio::task::JoinHandle<Result<(), ConsumeError>> {
        let inlet = self.inlets.get(receiver);
        tokio::spawn(async move { inlet.consume(spans()).await })
    }

    pub(super) async fn health(&self) -> (u16, Json) {
        let (code, _, body) = get(self.address, "/").await;
        let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
        (code, json)
    }

    /// Asks until the answer is `code`, and returns that answer's body.
    pub(super) async fn health_until(&self, code: u16) -> Json {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let (answer, body) = self.health().await;
            if answer == code {
                return body;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "never answered {code}; last answer {answer}: {body:#}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub(super) fn rewrite(&self, yaml: &str) {
        std::fs::write(&self.path, yaml).unwrap();
    }

    pub(super) async fn stop(self) {
        self.collector.shutdown();
        self.run.await.unwrap().unwrap();
    }
}

/// `GET path` over a fresh connection: the status code, the head, the body.
pub(super) async fn get(address: SocketAddr, path: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: health\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let code = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (code, head.to_ascii_lowercase(), body.to_string())
}

pub(super) fn strings(value: &Json) -> Vec<&str> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}
