//! The collector's own telemetry pushed over OTLP: `service::telemetry::metrics::readers`
//! of kind `periodic`, and the `processors` of `traces` and `logs`.
//!
//! What the Go Collector builds from the OpenTelemetry SDK, this builds from our own
//! pieces: the [`MetricsRegistry`] is read at each interval and turned into an OTLP
//! request; spans come from the registry's [`Tracer`](crate::telemetry::Tracer) and log
//! records from the log layer, each through a bounded [`RecordQueue`] drained by one task;
//! [`OtlpPush`] sends the requests over hyper. That keeps one copy of each heavy crate in
//! the tree (the SDK's OTLP exporters pull their own tonic and hyper versions) and puts
//! the collector's own telemetry under the same bounds as everything else.
//!
//! Metric names and units over OTLP are the registered ones
//! (`otelcol_receiver_accepted_spans`, counters as cumulative monotonic sums), grouped
//! under the Go Collector's instrumentation scope names; the Prometheus suffixes
//! (`_total`, units) are an exposition detail of the pull endpoint only, as in Go.

mod convert;
mod push;
mod queue;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub(crate) use convert::SelfLogRecord;
use convert::{logs_request, metrics_request, resource, spans_request};
use push::{OtlpPush, PushSignal};
use queue::RecordQueue;

use crate::telemetry::config::{ExportProcessor, MetricsLevel, PushExporter, TelemetryConfig};
use crate::telemetry::{FinishedSpan, MetricsRegistry, SinkRegistration, SpanSink};

/// The `tracing` target of this module's own events. The log layer writes them but never
/// exports them over OTLP: a failing log export must not feed itself.
pub(crate) const SELF_TARGET: &str = "tributary::self_telemetry";

/// `schedule_delay` defaults of the declarative schema.
const SPAN_DELAY: Duration = Duration::from_millis(5000);
const LOG_DELAY: Duration = Duration::from_millis(1000);

type LogQueues = Vec<Arc<RecordQueue<SelfLogRecord>>>;

/// The log processors in force, read by the log layer for every entry.
fn log_queues() -> &'static ArcSwap<LogQueues> {
    static QUEUES: OnceLock<ArcSwap<LogQueues>> = OnceLock::new();
    QUEUES.get_or_init(ArcSwap::default)
}

/// Hands a log entry to every configured log processor (none: nothing happens).
#[cfg(feature = "cli")]
pub(crate) fn export_log(record: impl FnOnce() -> SelfLogRecord) {
    let queues = log_queues().load();
    if queues.is_empty() {
        return;
    }
    let record = record();
    for queue in queues.iter() {
        queue.push(record.clone());
    }
}

/// Whether any log processor is configured (so the log layer builds records at all).
#[cfg(feature = "cli")]
pub(crate) fn exporting_logs() -> bool {
    !log_queues().load().is_empty()
}

struct SpanQueue(Arc<RecordQueue<FinishedSpan>>);

impl SpanSink for SpanQueue {
    fn on_end(&self, span: &FinishedSpan) {
        self.0.push(span.clone());
    }
}

/// What runs for one `service::telemetry`: the push tasks and the span registrations.
pub(crate) struct SelfTelemetry {
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
    spans: Vec<SinkRegistration>,
    logs: LogQueues,
}

/// What every push needs to describe the collector.
#[derive(Clone)]
pub(crate) struct SelfDescription {
    pub resource: BTreeMap<String, String>,
    pub version: String,
    pub started: SystemTime,
}

/// The pushes of one `service::telemetry`, prepared (TLS files read) before anything of
/// it starts, so that a bad file fails the start or reload with nothing changed.
pub(crate) struct Pushes {
    /// Periodic readers: interval, timeout, push.
    metrics: Vec<(Duration, Duration, OtlpPush)>,
    traces: Vec<(Arc<RecordQueue<FinishedSpan>>, OtlpPush)>,
    logs: Vec<(Arc<RecordQueue<SelfLogRecord>>, OtlpPush)>,
}

/// A push that cannot be prepared: the path of its key under `service::telemetry`, and why.
pub(crate) type PushProblem = (String, String);

impl Pushes {
    /// Prepares the pushes `config` asks for. `config` must have validated.
    pub(crate) fn prepare(config: &TelemetryConfig) -> Result<Pushes, Vec<PushProblem>> {
        let mut problems = Vec::new();
        let mut metrics = Vec::new();
        if config.metrics.level != MetricsLevel::None {
            for (i, reader) in config.metrics.readers.iter().enumerate() {
                let Some(reader) = &reader.periodic else {
                    continue;
                };
                let path = format!("metrics::readers::{i}::periodic::exporter");
                match prepare(&reader.exporter, PushSignal::Metrics, &path) {
                    Ok(Some(push)) => metrics.push((reader.interval(), reader.timeout(), push)),
                    Ok(None) => {}
                    Err(problem) => problems.push(problem),
                }
            }
        }
        let mut traces = Vec::new();
        for (i, processor) in config.traces.processors.iter().enumerate() {
            match processor_parts(processor, PushSignal::Traces, SPAN_DELAY, "traces", i) {
                Ok(Some(parts)) => traces.push(parts),
                Ok(None) => {}
                Err(problem) => problems.push(problem),
            }
        }
        let mut logs = Vec::new();
        for (i, processor) in config.logs.processors.iter().enumerate() {
            match processor_parts(processor, PushSignal::Logs, LOG_DELAY, "logs", i) {
                Ok(Some(parts)) => logs.push(parts),
                Ok(None) => {}
                Err(problem) => problems.push(problem),
            }
        }
        if problems.is_empty() {
            Ok(Pushes {
                metrics,
                traces,
                logs,
            })
        } else {
            Err(problems)
        }
    }
}

impl SelfTelemetry {
    /// Starts `pushes`, prepared from `config`.
    /// Call [`stop`](Self::stop) to flush and end them.
    pub(crate) fn start(
        config: &TelemetryConfig,
        pushes: Pushes,
        registry: &MetricsRegistry,
        description: &SelfDescription,
    ) -> SelfTelemetry {
        let stop = CancellationToken::new();
        let mut tasks = Vec::new();
        let otlp_resource = resource(&description.resource);
        let level = config.metrics.level;
        for (interval, timeout, push) in pushes.metrics {
            let (registry, stop) = (registry.clone(), stop.clone());
            let (resource, description) = (otlp_resource.clone(), description.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let stopping = tokio::select! {
                        _ = stop.cancelled() => true,
                        _ = tokio::time::sleep(interval) => false,
                    };
                    let snapshot = registry
                        .snapshot()
                        .into_iter()
                        .filter(|m| level.shows(&m.name))
                        .collect();
                    let request = metrics_request(
                        snapshot,
                        &resource,
                        &description.version,
                        description.started,
                        SystemTime::now(),
                    );
                    match tokio::time::timeout(timeout, push.push(&request)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(error)) => {
                            tracing::warn!(target: SELF_TARGET, %error, "exporting the collector's own metrics failed")
                        }
                        Err(_) => {
                            tracing::warn!(target: SELF_TARGET, ?timeout, "exporting the collector's own metrics timed out")
                        }
                    }
                    if stopping {
                        return;
                    }
                }
            }));
        }

        let tracer = registry.tracer();
        tracer.set_enabled(config.traces.level != MetricsLevel::None);
        let mut spans = Vec::new();
        for (queue, push) in pushes.traces {
            spans.push(tracer.add_sink(Arc::new(SpanQueue(Arc::clone(&queue)))));
            tasks.push(spawn_export_loop(
                queue,
                push,
                stop.clone(),
                otlp_resource.clone(),
                description.version.clone(),
                spans_request,
                "spans",
            ));
        }

        let mut logs = Vec::new();
        for (queue, push) in pushes.logs {
            logs.push(Arc::clone(&queue));
            tasks.push(spawn_export_loop(
                queue,
                push,
                stop.clone(),
                otlp_resource.clone(),
                description.version.clone(),
                logs_request,
                "logs",
            ));
        }
        // Added, not replacing: during a reload the outgoing configuration's processors
        // stay until its `stop`, and a second collector in the process keeps its own.
        if !logs.is_empty() {
            log_queues().rcu(|current| {
                let mut queues: LogQueues = current.iter().cloned().collect();
                queues.extend(logs.iter().cloned());
                queues
            });
        }
        SelfTelemetry {
            stop,
            tasks,
            spans,
            logs,
        }
    }

    /// Stops recording into this configuration's processors, exports what they hold
    /// (each export bounded by its timeout) and ends the tasks.
    pub(crate) async fn stop(self) {
        drop(self.spans);
        let own = self.logs;
        log_queues().rcu(|current| {
            current
                .iter()
                .filter(|q| !own.iter().any(|o| Arc::ptr_eq(o, q)))
                .cloned()
                .collect::<LogQueues>()
        });
        self.stop.cancel();
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// The push of one exporter at `path`; `None` for an exporter validation refuses.
fn prepare(
    exporter: &PushExporter,
    signal: PushSignal,
    path: &str,
) -> Result<Option<OtlpPush>, PushProblem> {
    let (Some(target), Some(name)) = (exporter.target(), exporter.name()) else {
        return Ok(None);
    };
    OtlpPush::new(target, signal)
        .map(Some)
        .map_err(|(key, message)| (format!("{path}::{name}{key}"), message))
}

type ProcessorParts<T> = (Arc<RecordQueue<T>>, OtlpPush);

fn processor_parts<T: Send + 'static>(
    processor: &ExportProcessor,
    signal: PushSignal,
    default_delay: Duration,
    section: &str,
    index: usize,
) -> Result<Option<ProcessorParts<T>>, PushProblem> {
    let Some((exporter, batch)) = processor.parts() else {
        return Ok(None);
    };
    let kind = if batch.is_some() { "batch" } else { "simple" };
    let path = format!("{section}::processors::{index}::{kind}::exporter");
    Ok(prepare(exporter, signal, &path)?
        .map(|push| (Arc::new(RecordQueue::new(batch, default_delay)), push)))
}

/// Runs a span or log processor: exports `queue`'s batches through `push` until `stop`,
/// each as one request made by `request`; a failed export is logged (`what`: "spans").
fn spawn_export_loop<T, R>(
    queue: Arc<RecordQueue<T>>,
    push: OtlpPush,
    stop: CancellationToken,
    resource: crate::pdata::proto::resource::v1::Resource,
    version: String,
    request: fn(Vec<T>, &crate::pdata::proto::resource::v1::Resource, &str) -> R,
    what: &'static str,
) -> JoinHandle<()>
where
    T: Send + 'static,
    R: crate::pdata::otlp_json::JsonRequest + Send + Sync + 'static,
{
    tokio::spawn(async move {
        queue
            .run(stop, |batch| {
                let request = request(batch, &resource, &version);
                let push = push.clone();
                async move {
                    if let Err(error) = push.push(&request).await {
                        tracing::warn!(target: SELF_TARGET, %error, "exporting the collector's own {what} failed");
                    }
                }
            })
            .await
    })
}
