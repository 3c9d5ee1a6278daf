//! `ServiceHealth`: what a health check needs to know about the running collector.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::component::Progress;
use crate::component::{ComponentProgress, PipelineId, StatusEntry, StatusRegistry, StatusSource};
use crate::config::PipelineConfig;

/// Reads a pipeline's progress (its entry's counters).
pub(crate) type ProgressSource = Arc<dyn Fn() -> Progress + Send + Sync>;

/// One running pipeline as the service's health sees it: what it is made of, and where
/// to read its progress.
#[derive(Clone)]
pub(crate) struct PipelineProbe {
    pub id: PipelineId,
    pub components: PipelineConfig,
    pub progress: ProgressSource,
}

/// The outcome of the latest configuration reload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReloadOutcome {
    /// When it finished.
    pub at: SystemTime,
    /// Why it failed; `None` if it was applied.
    pub error: Option<String>,
}

#[derive(Default)]
struct State {
    running: bool,
    started_at: Option<SystemTime>,
    pipelines: Vec<PipelineProbe>,
    last_reload: Option<ReloadOutcome>,
}

/// The collector's health, as a health check reports it: whether the service runs,
/// every component's and pipeline's latest status, each pipeline's progress, and the
/// outcome of the last configuration reload. Cheap to clone; every clone sees the same
/// state. Extensions reach it through [`Host::service`](crate::component::Host::service).
#[derive(Clone, Default)]
pub struct ServiceHealth {
    status: StatusRegistry,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for ServiceHealth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceHealth")
            .field("running", &self.is_running())
            .finish_non_exhaustive()
    }
}

/// A pipeline's health at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipelineHealth {
    /// Its progress counters.
    pub progress: Progress,
    /// The latest status reported for the pipeline as a whole (a panic inside it), if any.
    pub status: Option<StatusEntry>,
    /// Its receivers, processors and exporters, as configured.
    pub components: PipelineConfig,
}

impl ServiceHealth {
    pub(crate) fn new(status: StatusRegistry) -> Self {
        ServiceHealth {
            status,
            state: Arc::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn set_running(&self, running: bool) {
        let mut state = self.state();
        state.running = running;
        if running && state.started_at.is_none() {
            state.started_at = Some(SystemTime::now());
        }
    }

    pub(crate) fn set_pipelines(&self, pipelines: Vec<PipelineProbe>) {
        self.state().pipelines = pipelines;
    }

    pub(crate) fn record_reload(&self, error: Option<String>) {
        self.state().last_reload = Some(ReloadOutcome {
            at: SystemTime::now(),
            error,
        });
    }

    /// Whether the pipelines are running (started and not shutting down).
    pub fn is_running(&self) -> bool {
        self.state().running
    }

    /// How long the service has been running.
    pub fn uptime(&self) -> Option<Duration> {
        self.state()
            .started_at
            .and_then(|t| SystemTime::now().duration_since(t).ok())
    }

    /// When the service started.
    pub fn started_at(&self) -> Option<SystemTime> {
        self.state().started_at
    }

    /// The latest reload's outcome, if there was a reload.
    pub fn last_reload(&self) -> Option<ReloadOutcome> {
        self.state().last_reload.clone()
    }

    /// Every component's latest status.
    pub fn components(&self) -> Vec<(StatusSource, StatusEntry)> {
        self.status
            .snapshot()
            .into_iter()
            .filter(|(source, _)| matches!(source, StatusSource::Component(..)))
            .collect()
    }

    /// The progress components track (receivers' requests waiting for admission).
    pub fn component_progress(&self) -> Vec<ComponentProgress> {
        self.status.progress()
    }

    /// Every running pipeline's progress and status.
    pub fn pipelines(&self) -> BTreeMap<PipelineId, PipelineHealth> {
        let statuses: BTreeMap<PipelineId, StatusEntry> = self
            .status
            .snapshot()
            .into_iter()
            .filter_map(|(source, entry)| match source {
                StatusSource::Pipeline(id) => Some((id, entry)),
                StatusSource::Component(..) => None,
            })
            .collect();
        let probes: Vec<PipelineProbe> = self.state().pipelines.clone();
        probes
            .into_iter()
            .map(|probe| {
                let status = statuses.get(&probe.id).cloned();
                (
                    probe.id,
                    PipelineHealth {
                        progress: (probe.progress)(),
                        status,
                        components: probe.components,
                    },
                )
            })
            .collect()
    }
}
