//! Component status: what each component says about its own health.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, Weak};
use std::time::SystemTime;

use super::{ComponentId, Kind, PipelineId, Progress, ProgressTracker};

/// What a status is about: one component, or one pipeline as a whole (a panic inside it,
/// a stall).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StatusSource {
    /// A component, by kind and ID.
    Component(Kind, ComponentId),
    /// A pipeline.
    Pipeline(PipelineId),
}

impl fmt::Display for StatusSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusSource::Component(kind, id) => write!(f, "{kind} {id}"),
            StatusSource::Pipeline(id) => write!(f, "pipeline {id}"),
        }
    }
}

/// A component's (or pipeline's) health, as the Go Collector's component status model has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ComponentStatus {
    /// Being started.
    Starting,
    /// Running normally.
    Ok,
    /// A transient problem that the component expects to recover from (backend down).
    RecoverableError(String),
    /// A problem the component cannot recover from without a restart or new configuration
    /// (a task panicked, a file cannot be written).
    PermanentError(String),
    /// The component cannot go on at all.
    FatalError(String),
    /// Being shut down.
    Stopping,
    /// Shut down.
    Stopped,
}

impl ComponentStatus {
    /// Whether this status means the component is not doing its job.
    pub fn is_error(&self) -> bool {
        matches!(
            self,
            ComponentStatus::RecoverableError(_)
                | ComponentStatus::PermanentError(_)
                | ComponentStatus::FatalError(_)
        )
    }

    /// Whether this status may replace `current`. A permanent or fatal error sticks until
    /// the component stops or a new instance of it starts, as in the Go Collector's status
    /// state machine: a task that panicked while its component was starting is not hidden
    /// by the start's success.
    fn may_follow(&self, current: &ComponentStatus) -> bool {
        use ComponentStatus::*;
        match current {
            PermanentError(_) => matches!(
                self,
                PermanentError(_) | FatalError(_) | Starting | Stopping | Stopped
            ),
            FatalError(_) => matches!(self, FatalError(_) | Starting | Stopping | Stopped),
            _ => true,
        }
    }
}

impl fmt::Display for ComponentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ComponentStatus::Starting => f.write_str("Starting"),
            ComponentStatus::Ok => f.write_str("OK"),
            ComponentStatus::RecoverableError(e) => write!(f, "RecoverableError: {e}"),
            ComponentStatus::PermanentError(e) => write!(f, "PermanentError: {e}"),
            ComponentStatus::FatalError(e) => write!(f, "FatalError: {e}"),
            ComponentStatus::Stopping => f.write_str("Stopping"),
            ComponentStatus::Stopped => f.write_str("Stopped"),
        }
    }
}

/// The latest status of one component, and when it was reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusEntry {
    /// The latest status.
    pub status: ComponentStatus,
    /// When it was reported.
    pub since: SystemTime,
}

/// The latest status of every component of a collector, and the progress components
/// track ([`StatusReporter::track_progress`]), read by health checks.
#[derive(Clone, Default)]
pub struct StatusRegistry {
    entries: Arc<Mutex<BTreeMap<StatusSource, StatusEntry>>>,
    progress: Arc<Mutex<BTreeMap<StatusSource, TrackedProgress>>>,
}

/// A component's tracked progress, held weakly: it goes when the component does.
struct TrackedProgress {
    what: &'static str,
    tracker: Weak<ProgressTracker>,
}

/// The progress one component tracks, at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentProgress {
    /// The component.
    pub source: StatusSource,
    /// What its units of work are: `"requests waiting for admission"`.
    pub what: &'static str,
    /// The counters.
    pub progress: Progress,
}

impl fmt::Debug for StatusRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.snapshot()).finish()
    }
}

impl StatusRegistry {
    /// A reporter for one component.
    pub fn reporter(&self, kind: Kind, id: &ComponentId) -> StatusReporter {
        StatusReporter {
            registry: self.clone(),
            source: StatusSource::Component(kind, id.clone()),
        }
    }

    /// A reporter for one pipeline as a whole.
    pub fn pipeline_reporter(&self, id: &PipelineId) -> StatusReporter {
        StatusReporter {
            registry: self.clone(),
            source: StatusSource::Pipeline(id.clone()),
        }
    }

    /// The progress of every component that tracks one and still runs.
    pub fn progress(&self) -> Vec<ComponentProgress> {
        let tracked = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        tracked
            .iter()
            .filter_map(|(source, tracked)| {
                Some(ComponentProgress {
                    source: source.clone(),
                    what: tracked.what,
                    progress: tracked.tracker.upgrade()?.snapshot(),
                })
            })
            .collect()
    }

    /// Every component's latest status.
    pub fn snapshot(&self) -> Vec<(StatusSource, StatusEntry)> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Forgets a component or pipeline (it was removed by a reload).
    pub fn remove(&self, source: &StatusSource) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(source);
    }

    /// The latest status of one component or pipeline.
    pub(crate) fn get(&self, source: &StatusSource) -> Option<StatusEntry> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(source).cloned()
    }

    /// Puts back an entry as [`get`](Self::get) returned it (`None`: no entry), undoing
    /// what a configuration that was not applied reported under the same name.
    pub(crate) fn restore(&self, source: &StatusSource, entry: Option<StatusEntry>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entry {
            Some(entry) => entries.insert(source.clone(), entry),
            None => entries.remove(source),
        };
    }

    fn set(&self, key: &StatusSource, status: ComponentStatus) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = entries.get(key)
            && !status.may_follow(&entry.status)
        {
            return;
        }
        let changed = entries.get(key).is_none_or(|entry| entry.status != status);
        if changed {
            entries.insert(
                key.clone(),
                StatusEntry {
                    status,
                    since: SystemTime::now(),
                },
            );
        }
    }
}

/// Where one component reports its [`ComponentStatus`]. Cheap to clone.
#[derive(Clone)]
pub struct StatusReporter {
    registry: StatusRegistry,
    source: StatusSource,
}

impl fmt::Debug for StatusReporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StatusReporter").field(&self.source).finish()
    }
}

impl StatusReporter {
    /// Records the component's current status. Errors are also logged.
    pub fn report(&self, status: ComponentStatus) {
        if status.is_error() {
            tracing::warn!(source = %self.source, status = %status, "status changed");
        }
        self.registry.set(&self.source, status);
    }

    /// What this reporter reports on.
    pub fn source(&self) -> &StatusSource {
        &self.source
    }

    /// A new tracker of the component's progress, registered for health checks (replacing
    /// one the component registered before): the component counts a unit of `what` (a
    /// request waiting for admission) in flight until it completes. Work in flight with
    /// none completing for the health check's `stall_timeout` makes the collector
    /// unhealthy, naming the component. The registration ends when the tracker is dropped.
    pub fn track_progress(&self, what: &'static str) -> Arc<ProgressTracker> {
        let tracker = Arc::new(ProgressTracker::new());
        let mut tracked = self
            .registry
            .progress
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        tracked.retain(|_, t| t.tracker.strong_count() > 0);
        tracked.insert(
            self.source.clone(),
            TrackedProgress {
                what,
                tracker: Arc::downgrade(&tracker),
            },
        );
        tracker
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_sticks_until_the_component_stops_or_starts_anew() {
        let registry = StatusRegistry::default();
        let id: ComponentId = "otlp".parse().unwrap();
        let reporter = registry.reporter(Kind::Receiver, &id);
        let latest = || registry.snapshot()[0].1.status.clone();

        reporter.report(ComponentStatus::Starting);
        reporter.report(ComponentStatus::PermanentError("task panicked".into()));
        reporter.report(ComponentStatus::Ok);
        reporter.report(ComponentStatus::RecoverableError("retrying".into()));
        assert_eq!(
            latest(),
            ComponentStatus::PermanentError("task panicked".into())
        );
        reporter.report(ComponentStatus::FatalError("gave up".into()));
        reporter.report(ComponentStatus::PermanentError("again".into()));
        assert_eq!(latest(), ComponentStatus::FatalError("gave up".into()));
        reporter.report(ComponentStatus::Starting);
        reporter.report(ComponentStatus::Ok);
        assert_eq!(latest(), ComponentStatus::Ok);
        reporter.report(ComponentStatus::RecoverableError("retrying".into()));
        reporter.report(ComponentStatus::Ok);
        assert_eq!(latest(), ComponentStatus::Ok);
    }
}
