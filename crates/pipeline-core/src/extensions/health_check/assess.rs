//! The rules: from the collector's [`ServiceHealth`] to a [`HealthReport`].
//!
//! The collector is healthy when its pipelines run and nothing counts against it:
//! * no pipeline is stalled (calls in flight, none completed for `stall_timeout`);
//! * no pipeline, and no component, reports `FatalError`, nor `PermanentError` (unless
//!   `component_health::include_permanent_errors` is off), nor a `RecoverableError` that
//!   has lasted `recovery_duration` (only with `include_recoverable_errors`);
//! * no exporter failed more items than `check_collector_pipeline` allows (when enabled);
//! * the last configuration reload was applied (only with `unhealthy_on_failed_reload`).
//!
//! What does not count is still listed, as a warning.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::config::{ComponentHealth, Config};
use super::failures::FailureCounts;
use super::report::{
    self, AVAILABLE, ComponentReport, ComponentReports, HealthReport, NOT_AVAILABLE,
    PipelineReport, ReloadReport,
};
use crate::component::{
    ComponentId, ComponentProgress, ComponentStatus, Kind, StatusEntry, StatusSource,
};
use crate::service::{PipelineHealth, ServiceHealth};

/// What counts against health, from the configuration.
#[derive(Clone, Debug)]
pub(crate) struct Rules {
    pub stall_timeout: Duration,
    pub component_health: ComponentHealth,
    pub unhealthy_on_failed_reload: bool,
}

impl Rules {
    pub(crate) fn new(config: &Config) -> Self {
        Rules {
            stall_timeout: config.stall_timeout,
            component_health: config.component_health.clone(),
            unhealthy_on_failed_reload: config.unhealthy_on_failed_reload,
        }
    }

    /// Whether a status counts against health (`Some(true)`), is only worth a warning
    /// (`Some(false)`), or is fine (`None`).
    fn counts(&self, entry: &StatusEntry, now: SystemTime) -> Option<bool> {
        let rules = &self.component_health;
        match &entry.status {
            ComponentStatus::FatalError(_) => Some(true),
            ComponentStatus::PermanentError(_) => Some(rules.include_permanent_errors),
            ComponentStatus::RecoverableError(_) => {
                let lasted = now.duration_since(entry.since).unwrap_or_default();
                Some(rules.include_recoverable_errors && lasted >= rules.recovery_duration)
            }
            ComponentStatus::Starting
            | ComponentStatus::Ok
            | ComponentStatus::Stopping
            | ComponentStatus::Stopped => None,
        }
    }
}

/// Problems and warnings being gathered for one subject.
#[derive(Default)]
struct Findings {
    problems: Vec<String>,
    warnings: Vec<String>,
}

impl Findings {
    fn add(&mut self, counts: bool, finding: String) {
        if counts {
            self.problems.push(finding);
        } else {
            self.warnings.push(finding);
        }
    }
}

/// Judges the collector's health now. `failures` are the exporters' recent failures when
/// `check_collector_pipeline` is enabled.
pub(crate) fn assess(
    health: &ServiceHealth,
    rules: &Rules,
    failures: Option<&FailureCounts>,
) -> HealthReport {
    let now = SystemTime::now();
    let running = health.is_running();
    let started_at = health.started_at();
    let mut findings = Findings::default();
    if !running {
        findings.problems.push(if started_at.is_some() {
            "the collector is shutting down".into()
        } else {
            "the collector is starting: its pipelines do not run yet".into()
        });
    }

    let pipelines = health.pipelines();
    let statuses: BTreeMap<(Kind, ComponentId), StatusEntry> = health
        .components()
        .into_iter()
        .filter_map(|(source, entry)| match source {
            StatusSource::Component(kind, id) => Some(((kind, id), entry)),
            StatusSource::Pipeline(_) => None,
        })
        .collect();

    let progress: BTreeMap<(Kind, ComponentId), ComponentProgress> = health
        .component_progress()
        .into_iter()
        .filter_map(|tracked| match &tracked.source {
            StatusSource::Component(kind, id) => Some(((*kind, id.clone()), tracked)),
            StatusSource::Pipeline(_) => None,
        })
        .collect();

    let mut pipeline_reports = BTreeMap::new();
    for (id, pipeline) in &pipelines {
        let judged = Judged {
            statuses: &statuses,
            progress: &progress,
            failures,
        };
        let report = assess_pipeline(pipeline, running, rules, &judged, now);
        for problem in &report.problems {
            findings.problems.push(format!("pipeline {id}: {problem}"));
        }
        for warning in &report.warnings {
            findings.warnings.push(format!("pipeline {id}: {warning}"));
        }
        pipeline_reports.insert(id.to_string(), report);
    }

    let mut components = ComponentReports::default();
    for ((kind, id), entry) in &statuses {
        let member_of: Vec<String> = pipelines
            .iter()
            .filter(|(_, p)| {
                members(p, *kind).contains(id)
                    // A connector is listed among a pipeline's exporters or receivers.
                    || (*kind == Kind::Connector
                        && (p.components.exporters.contains(id)
                            || p.components.receivers.contains(id)))
            })
            .map(|(pid, _)| pid.to_string())
            .collect();
        let counts = rules.counts(entry, now);
        // A pipeline's components were judged with the pipeline; the rest (extensions) here.
        if member_of.is_empty()
            && let Some(counts) = counts
        {
            findings.add(counts, format!("{kind} {id}: {}", entry.status));
        }
        let (status, error) = report::status_parts(&entry.status);
        let component = ComponentReport {
            healthy: counts != Some(true),
            status,
            error,
            since: report::timestamp(entry.since),
            pipelines: member_of,
            failed_items: match kind {
                Kind::Exporter => failures.and_then(|f| f.by_exporter.get(id).copied()),
                _ => None,
            },
        };
        let by_kind = match kind {
            Kind::Receiver => &mut components.receivers,
            Kind::Processor => &mut components.processors,
            Kind::Exporter => &mut components.exporters,
            Kind::Extension => &mut components.extensions,
            Kind::Connector => &mut components.connectors,
        };
        by_kind.insert(id.to_string(), component);
    }

    let last_reload = health.last_reload().map(|outcome| {
        if let Some(error) = &outcome.error {
            findings.add(
                rules.unhealthy_on_failed_reload,
                format!(
                    "the configuration reload at {} was refused; the running pipelines are \
                     unchanged: {error}",
                    report::timestamp(outcome.at)
                ),
            );
        }
        ReloadReport {
            at: report::timestamp(outcome.at),
            ok: outcome.error.is_none(),
            error: outcome.error,
        }
    });

    let healthy = running && findings.problems.is_empty();
    HealthReport {
        status: if healthy { AVAILABLE } else { NOT_AVAILABLE },
        up_since: started_at.map(report::timestamp),
        uptime: health.uptime().map(report::duration),
        healthy,
        running,
        problems: findings.problems,
        warnings: findings.warnings,
        pipelines: pipeline_reports,
        components,
        last_reload,
    }
}

fn members(pipeline: &PipelineHealth, kind: Kind) -> &[ComponentId] {
    match kind {
        Kind::Receiver => &pipeline.components.receivers,
        Kind::Processor => &pipeline.components.processors,
        Kind::Exporter => &pipeline.components.exporters,
        Kind::Extension | Kind::Connector => &[],
    }
}

/// What is known about the components, to judge the pipelines they are part of.
struct Judged<'a> {
    statuses: &'a BTreeMap<(Kind, ComponentId), StatusEntry>,
    progress: &'a BTreeMap<(Kind, ComponentId), ComponentProgress>,
    failures: Option<&'a FailureCounts>,
}

fn assess_pipeline(
    pipeline: &PipelineHealth,
    running: bool,
    rules: &Rules,
    judged: &Judged<'_>,
    now: SystemTime,
) -> PipelineReport {
    let mut findings = Findings::default();
    let progress = &pipeline.progress;
    let stalled_for = progress.stalled_for();
    let stalled = stalled_for >= rules.stall_timeout;
    if stalled {
        findings.problems.push(format!(
            "stalled: {} in flight and none completed for {} (stall_timeout is {})",
            calls(progress.inflight),
            report::duration(stalled_for),
            report::duration(rules.stall_timeout)
        ));
    }
    if let Some(entry) = &pipeline.status
        && let Some(counts) = rules.counts(entry, now)
    {
        findings.add(counts, entry.status.to_string());
    }
    for kind in [
        Kind::Receiver,
        Kind::Processor,
        Kind::Exporter,
        Kind::Connector,
    ] {
        let listed: Vec<&ComponentId> = match kind {
            // A connector is judged with every pipeline it joins.
            Kind::Connector => pipeline
                .components
                .receivers
                .iter()
                .chain(&pipeline.components.exporters)
                .collect(),
            _ => members(pipeline, kind).iter().collect(),
        };
        for id in listed {
            let key = (kind, id.clone());
            if let Some(entry) = judged.statuses.get(&key)
                && let Some(counts) = rules.counts(entry, now)
            {
                findings.add(counts, format!("{kind} {id}: {}", entry.status));
            }
            if let Some(tracked) = judged.progress.get(&key) {
                let stalled_for = tracked.progress.stalled_for();
                if stalled_for >= rules.stall_timeout {
                    findings.problems.push(format!(
                        "{kind} {id}: stalled: {} in flight ({}) and none done for {} \
                         (stall_timeout is {})",
                        tracked.progress.inflight,
                        tracked.what,
                        report::duration(stalled_for),
                        report::duration(rules.stall_timeout)
                    ));
                }
            }
            if kind == Kind::Exporter
                && let Some(excess) = judged.failures.and_then(|f| f.excess(id))
            {
                findings.problems.push(format!("exporter {id}: {excess}"));
            }
        }
    }
    let (status, error, status_since) = match &pipeline.status {
        Some(entry) => {
            let (status, error) = report::status_parts(&entry.status);
            (status, error, Some(report::timestamp(entry.since)))
        }
        None => ("OK", None, None),
    };
    let names = |ids: &[ComponentId]| ids.iter().map(ToString::to_string).collect();
    PipelineReport {
        healthy: findings.problems.is_empty(),
        running,
        stalled,
        inflight: progress.inflight,
        completed: progress.completed,
        idle_for: report::duration(progress.idle_for),
        stalled_for: report::duration(stalled_for),
        status,
        error,
        status_since,
        receivers: names(&pipeline.components.receivers),
        processors: names(&pipeline.components.processors),
        exporters: names(&pipeline.components.exporters),
        problems: findings.problems,
        warnings: findings.warnings,
    }
}

fn calls(n: usize) -> String {
    if n == 1 {
        "1 call".into()
    } else {
        format!("{n} calls")
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::component::Progress;
    use crate::component::{PipelineId, StatusRegistry};
    use crate::config::PipelineConfig;
    use crate::health::PipelineProbe;

    fn id(s: &str) -> ComponentId {
        s.parse().unwrap()
    }

    fn pid(s: &str) -> PipelineId {
        s.parse().unwrap()
    }

    fn rules() -> Rules {
        Rules::new(&Config {
            stall_timeout: Duration::from_secs(30),
            ..Config::default()
        })
    }

    fn progress(inflight: usize, idle_for: u64, busy_for: u64) -> Progress {
        Progress {
            inflight,
            completed: 7,
            idle_for: Duration::from_secs(idle_for),
            busy_for: Duration::from_secs(busy_for),
        }
    }

    /// A running collector with one pipeline `traces` (receiver `otlp`, processor `batch`,
    /// exporter `otlp`) whose progress is `progress`.
    fn collector(progress: Progress) -> (ServiceHealth, StatusRegistry) {
        let status = StatusRegistry::default();
        let health = ServiceHealth::new(status.clone());
        health.set_pipelines(vec![PipelineProbe {
            id: pid("traces"),
            components: PipelineConfig {
                receivers: vec![id("otlp")],
                processors: vec![id("batch")],
                exporters: vec![id("otlp")],
            },
            progress: Arc::new(move || progress),
        }]);
        health.set_running(true);
        for (kind, name) in [
            (Kind::Receiver, "otlp"),
            (Kind::Processor, "batch"),
            (Kind::Exporter, "otlp"),
            (Kind::Extension, "health_check"),
        ] {
            status.reporter(kind, &id(name)).report(ComponentStatus::Ok);
        }
        (health, status)
    }

    fn judge(health: &ServiceHealth, rules: &Rules) -> HealthReport {
        assess(health, rules, None)
    }

    #[test]
    fn a_running_collector_making_progress_is_healthy() {
        let (health, _) = collector(progress(2, 1, 1));
        let report = judge(&health, &rules());
        assert!(report.healthy, "{report:?}");
        assert_eq!(report.status, "Server available");
        assert!(report.problems.is_empty() && report.warnings.is_empty());
        let traces = &report.pipelines["traces"];
        assert!(traces.healthy && traces.running && !traces.stalled);
        assert_eq!((traces.inflight, traces.completed), (2, 7));
        assert_eq!(traces.status, "OK");
        assert_eq!(traces.exporters, ["otlp"]);
        assert_eq!(report.components.receivers["otlp"].pipelines, ["traces"]);
        assert!(
            report.components.extensions["health_check"]
                .pipelines
                .is_empty()
        );
        assert!(report.up_since.is_some() && report.last_reload.is_none());
    }

    #[test]
    fn a_collector_that_does_not_run_is_unavailable() {
        let health = ServiceHealth::new(StatusRegistry::default());
        let report = judge(&health, &rules());
        assert!(!report.healthy && !report.running);
        assert_eq!(report.status, "Server not available");
        assert!(report.problems[0].contains("starting"), "{report:?}");
        assert!(report.up_since.is_none() && report.uptime.is_none());

        let (health, _) = collector(progress(0, 1, 0));
        health.set_running(false);
        let report = judge(&health, &rules());
        assert!(!report.healthy);
        assert!(report.problems[0].contains("shutting down"), "{report:?}");
        assert!(!report.pipelines["traces"].running);
    }

    #[test]
    fn calls_in_flight_with_none_completing_for_the_stall_timeout_are_a_stall() {
        let (health, _) = collector(progress(3, 31, 40));
        let report = judge(&health, &rules());
        assert!(!report.healthy);
        let traces = &report.pipelines["traces"];
        assert!(traces.stalled && !traces.healthy);
        assert_eq!(traces.stalled_for, "31s");
        assert_eq!(
            report.problems,
            [
                "pipeline traces: stalled: 3 calls in flight and none completed for 31s (stall_timeout is 30s)"
            ]
        );
    }

    #[test]
    fn an_idle_pipeline_or_one_that_just_got_a_batch_after_a_pause_is_not_stalled() {
        for (inflight, idle_for, busy_for) in [(0, 3600, 0), (1, 3600, 1), (1, 29, 3600)] {
            let (health, _) = collector(progress(inflight, idle_for, busy_for));
            let report = judge(&health, &rules());
            assert!(
                report.healthy,
                "{inflight} {idle_for} {busy_for}: {report:?}"
            );
        }
    }

    #[test]
    fn a_panicked_pipeline_is_unhealthy_and_named() {
        let (health, status) = collector(progress(0, 1, 0));
        status
            .pipeline_reporter(&pid("traces"))
            .report(ComponentStatus::PermanentError("panicked: boom".into()));
        let report = judge(&health, &rules());
        assert!(!report.healthy);
        assert_eq!(
            report.problems,
            ["pipeline traces: PermanentError: panicked: boom"]
        );
        let traces = &report.pipelines["traces"];
        assert_eq!(traces.status, "PermanentError");
        assert_eq!(traces.error.as_deref(), Some("panicked: boom"));
        assert!(traces.status_since.is_some());
    }

    #[test]
    fn a_failed_component_makes_each_pipeline_it_is_part_of_unhealthy() {
        let (health, status) = collector(progress(0, 1, 0));
        status
            .reporter(Kind::Exporter, &id("otlp"))
            .report(ComponentStatus::PermanentError(
                "task panicked: boom".into(),
            ));
        let report = judge(&health, &rules());
        assert_eq!(
            report.problems,
            ["pipeline traces: exporter otlp: PermanentError: task panicked: boom"]
        );
        let exporter = &report.components.exporters["otlp"];
        assert!(!exporter.healthy);
        assert_eq!(exporter.status, "PermanentError");
        assert_eq!(exporter.pipelines, ["traces"]);
        // The receiver of the same ID is a different component.
        assert!(report.components.receivers["otlp"].healthy);
    }

    #[test]
    fn a_failed_connector_makes_both_pipelines_it_joins_unhealthy() {
        let status = StatusRegistry::default();
        let health = ServiceHealth::new(status.clone());
        let pipeline = |name: &str, receivers: &str, exporters: &str| PipelineProbe {
            id: pid(name),
            components: PipelineConfig {
                receivers: vec![id(receivers)],
                processors: vec![],
                exporters: vec![id(exporters)],
            },
            progress: Arc::new(|| progress(0, 1, 0)),
        };
        health.set_pipelines(vec![
            pipeline("traces/in", "otlp", "routing"),
            pipeline("traces/out", "routing", "debug"),
        ]);
        health.set_running(true);
        status
            .reporter(Kind::Connector, &id("routing"))
            .report(ComponentStatus::PermanentError("broken".into()));
        let report = judge(&health, &rules());
        assert_eq!(
            report.problems,
            [
                "pipeline traces/in: connector routing: PermanentError: broken",
                "pipeline traces/out: connector routing: PermanentError: broken",
            ]
        );
        let connector = &report.components.connectors["routing"];
        assert_eq!(connector.pipelines, ["traces/in", "traces/out"]);
    }

    #[test]
    fn permanent_errors_can_be_made_warnings_but_fatal_errors_always_count() {
        let (health, status) = collector(progress(0, 1, 0));
        let mut lenient = rules();
        lenient.component_health.include_permanent_errors = false;
        status
            .reporter(Kind::Processor, &id("batch"))
            .report(ComponentStatus::PermanentError("gave up".into()));
        let report = judge(&health, &lenient);
        assert!(report.healthy, "{report:?}");
        assert_eq!(
            report.warnings,
            ["pipeline traces: processor batch: PermanentError: gave up"]
        );
        status
            .reporter(Kind::Extension, &id("health_check"))
            .report(ComponentStatus::FatalError("cannot serve".into()));
        let report = judge(&health, &lenient);
        assert!(!report.healthy);
        assert_eq!(
            report.problems,
            ["extension health_check: FatalError: cannot serve"]
        );
    }

    #[test]
    fn recoverable_errors_are_listed_and_count_only_when_asked_and_lasting() {
        let (health, status) = collector(progress(0, 1, 0));
        status
            .reporter(Kind::Exporter, &id("otlp"))
            .report(ComponentStatus::RecoverableError("backend down".into()));
        let report = judge(&health, &rules());
        assert!(report.healthy);
        assert_eq!(
            report.warnings,
            ["pipeline traces: exporter otlp: RecoverableError: backend down"]
        );

        let mut strict = rules();
        strict.component_health.include_recoverable_errors = true;
        assert!(
            judge(&health, &strict).healthy,
            "within recovery_duration it still counts as recovering"
        );
        strict.component_health.recovery_duration = Duration::ZERO;
        let report = judge(&health, &strict);
        assert!(!report.healthy);
        assert_eq!(
            report.problems,
            ["pipeline traces: exporter otlp: RecoverableError: backend down"]
        );
    }

    #[test]
    fn a_refused_reload_is_reported_and_counts_only_when_asked() {
        let (health, _) = collector(progress(0, 1, 0));
        health.record_reload(Some("exporters::nope: unknown exporter type".into()));
        let report = judge(&health, &rules());
        assert!(report.healthy);
        let reload = report.last_reload.as_ref().unwrap();
        assert!(!reload.ok);
        assert_eq!(
            reload.error.as_deref(),
            Some("exporters::nope: unknown exporter type")
        );
        assert!(
            report.warnings[0].contains("reload") && report.warnings[0].contains("nope"),
            "{report:?}"
        );

        let mut strict = rules();
        strict.unhealthy_on_failed_reload = true;
        assert!(!judge(&health, &strict).healthy);

        health.record_reload(None);
        let report = judge(&health, &strict);
        assert!(report.healthy);
        assert!(report.last_reload.unwrap().ok);
    }

    #[test]
    fn exporters_failing_too_much_make_their_pipelines_unhealthy() {
        let (health, _) = collector(progress(0, 1, 0));
        let mut failures = FailureCounts {
            by_exporter: [(id("otlp"), 5)].into(),
            interval: Duration::from_secs(60),
            threshold: 5,
        };
        let report = assess(&health, &rules(), Some(&failures));
        assert!(report.healthy);
        assert_eq!(report.components.exporters["otlp"].failed_items, Some(5));
        assert_eq!(report.components.receivers["otlp"].failed_items, None);

        failures.by_exporter.insert(id("otlp"), 9);
        let report = assess(&health, &rules(), Some(&failures));
        assert_eq!(
            report.problems,
            [
                "pipeline traces: exporter otlp: failed to export 9 items within the last 1m0s \
              (check_collector_pipeline::exporter_failure_threshold is 5)"
            ]
        );
    }
}
