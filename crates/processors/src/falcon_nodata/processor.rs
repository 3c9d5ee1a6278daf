//! The processor: notes watched series as data passes, and a task that checks for absent
//! ones every `check_interval` and sends their nodata points on.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tributary_pipeline_core::component::{Component, ComponentError, CreateSettings, Host};
use tributary_pipeline_core::consumer::{Capabilities, ConsumeError, Consumer, Next};
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::telemetry::{Counter, Gauge};

use super::absence::Absence;

/// The `falcon_nodata` processor.
pub(crate) struct Nodata {
    absence: Arc<Absence>,
    next: Next<Metrics>,
    settings: CreateSettings,
    check_interval: Duration,
    counts: Counts,
    task: Mutex<Option<(CancellationToken, JoinHandle<()>)>>,
}

#[derive(Clone)]
struct Counts {
    emitted: Counter,
    untracked: Counter,
    failed: Counter,
    series: Gauge,
}

impl Nodata {
    pub(crate) fn new(
        settings: &CreateSettings,
        absence: Absence,
        check_interval: Duration,
        next: Next<Metrics>,
    ) -> Self {
        let id = settings.id().to_string();
        let labels = [("processor", id.as_str())];
        let registry = settings.metrics();
        Nodata {
            absence: Arc::new(absence),
            next,
            settings: settings.clone(),
            check_interval,
            counts: Counts {
                emitted: registry.counter(
                    "otelcol_processor_falcon_nodata_points",
                    "Nodata points (mock values or staleness markers) emitted for absent series.",
                    &labels,
                ),
                untracked: registry.counter(
                    "otelcol_processor_falcon_nodata_untracked_points",
                    "Points of watched metrics not tracked because max_series series are tracked.",
                    &labels,
                ),
                failed: registry.counter(
                    "otelcol_processor_falcon_nodata_send_failed_points",
                    "Nodata points the next consumer refused.",
                    &labels,
                ),
                series: registry.gauge(
                    "otelcol_processor_falcon_nodata_series",
                    "Series being watched.",
                    &labels,
                ),
            },
            task: Mutex::new(None),
        }
    }
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[async_trait]
impl Component for Nodata {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        let cancel = CancellationToken::new();
        let (absence, next, counts) =
            (self.absence.clone(), self.next.clone(), self.counts.clone());
        let interval = self.check_interval;
        let stop = cancel.clone();
        let span = self.settings.span().clone();
        let handle = self.settings.spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = ticks.tick() => {}
                }
                let verdict = absence.judge(unix_seconds());
                let Some(metrics) = verdict.metrics else {
                    continue;
                };
                counts.emitted.add(verdict.points as u64);
                if let Err(error) = next.consume(metrics).await {
                    counts.failed.add(verdict.points as u64);
                    let _entered = span.enter();
                    tracing::warn!(%error, points = verdict.points, "nodata points refused downstream");
                }
            }
        });
        let previous = self
            .task
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace((cancel, handle));
        if let Some((cancel, _)) = previous {
            cancel.cancel();
        }
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        let task = self.task.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some((cancel, handle)) = task {
            cancel.cancel();
            let _ = handle.await;
        }
        Ok(())
    }
}

#[async_trait]
impl Consumer<Metrics> for Nodata {
    async fn consume(&self, data: Metrics) -> Result<(), ConsumeError> {
        let untracked = self.absence.observe(&data);
        self.counts.untracked.add(untracked as u64);
        self.counts.series.set(self.absence.len() as i64);
        self.next.consume(data).await
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            mutates_data: false,
        }
    }
}
