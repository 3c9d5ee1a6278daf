//! The health check's JSON answer: the Go Collector's v1 body (`status`, `upSince`,
//! `uptime`), extended with the reasons behind it.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::component::ComponentStatus;

/// The `status` text of a healthy collector, as the Go Collector writes it.
pub(crate) const AVAILABLE: &str = "Server available";
/// The `status` text of an unhealthy, starting or stopping collector.
pub(crate) const NOT_AVAILABLE: &str = "Server not available";

/// The whole answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct HealthReport {
    /// [`AVAILABLE`] or [`NOT_AVAILABLE`].
    pub status: &'static str,
    /// When the collector's pipelines first started (RFC 3339).
    #[serde(rename = "upSince", skip_serializing_if = "Option::is_none")]
    pub up_since: Option<String>,
    /// How long ago that was (Go duration syntax).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uptime: Option<String>,
    /// Whether the answer is 200.
    pub healthy: bool,
    /// Whether the pipelines run (started, not shutting down).
    pub running: bool,
    /// What makes the collector unhealthy; empty when it is healthy.
    pub problems: Vec<String>,
    /// What is wrong but does not count against health (by configuration).
    pub warnings: Vec<String>,
    /// Every running pipeline, by ID.
    pub pipelines: BTreeMap<String, PipelineReport>,
    /// Every component's latest status, by kind and ID.
    pub components: ComponentReports,
    /// The latest configuration reload, if there was one.
    pub last_reload: Option<ReloadReport>,
}

/// One pipeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct PipelineReport {
    /// Whether nothing in or about the pipeline counts against health.
    pub healthy: bool,
    /// Whether the collector runs the pipeline.
    pub running: bool,
    /// Whether calls have been in flight with none completing for `stall_timeout`.
    pub stalled: bool,
    /// Calls in flight.
    pub inflight: usize,
    /// Calls completed since the pipeline started.
    pub completed: u64,
    /// Time since a call last completed (or since the pipeline started).
    pub idle_for: String,
    /// Time for which calls have been in flight with none completing.
    pub stalled_for: String,
    /// The status reported for the pipeline as a whole: `OK` unless something inside it
    /// panicked.
    pub status: &'static str,
    /// The error of that status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When that status was reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_since: Option<String>,
    /// The pipeline's receivers.
    pub receivers: Vec<String>,
    /// Its processors, in order.
    pub processors: Vec<String>,
    /// Its exporters.
    pub exporters: Vec<String>,
    /// What makes this pipeline unhealthy.
    pub problems: Vec<String>,
    /// What is wrong in it without counting against health.
    pub warnings: Vec<String>,
}

/// Component statuses by kind, each by ID.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct ComponentReports {
    /// Receivers.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub receivers: BTreeMap<String, ComponentReport>,
    /// Processors.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub processors: BTreeMap<String, ComponentReport>,
    /// Exporters.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub exporters: BTreeMap<String, ComponentReport>,
    /// Extensions.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extensions: BTreeMap<String, ComponentReport>,
    /// Connectors.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub connectors: BTreeMap<String, ComponentReport>,
}

/// One component's latest status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct ComponentReport {
    /// Whether its status does not count against health.
    pub healthy: bool,
    /// `Starting`, `OK`, `RecoverableError`, `PermanentError`, `FatalError`, `Stopping` or
    /// `Stopped`.
    pub status: &'static str,
    /// The error of an error status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When the status was reported.
    pub since: String,
    /// The pipelines the component is part of.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pipelines: Vec<String>,
    /// For an exporter, with `check_collector_pipeline` enabled: the items it failed to
    /// export within the check's interval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_items: Option<u64>,
}

/// The outcome of the latest configuration reload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct ReloadReport {
    /// When it finished.
    pub at: String,
    /// Whether it was applied.
    pub ok: bool,
    /// Why it was refused (the running pipelines were kept).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl HealthReport {
    /// The report as JSON text.
    pub fn to_json(&self) -> String {
        // Plain data (strings, numbers, maps with string keys) always serializes.
        serde_json::to_string(self)
            .unwrap_or_else(|error| format!(r#"{{"status":"{NOT_AVAILABLE}","error":"{error}"}}"#))
    }
}

/// A status's name, and its error if it has one.
pub(crate) fn status_parts(status: &ComponentStatus) -> (&'static str, Option<String>) {
    match status {
        ComponentStatus::Starting => ("Starting", None),
        ComponentStatus::Ok => ("OK", None),
        ComponentStatus::RecoverableError(e) => ("RecoverableError", Some(e.clone())),
        ComponentStatus::PermanentError(e) => ("PermanentError", Some(e.clone())),
        ComponentStatus::FatalError(e) => ("FatalError", Some(e.clone())),
        ComponentStatus::Stopping => ("Stopping", None),
        ComponentStatus::Stopped => ("Stopped", None),
    }
}

/// A point in time as RFC 3339 in UTC, to the millisecond.
pub(crate) fn timestamp(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}

/// A duration in Go's syntax (`1m30.25s`), to the millisecond.
pub(crate) fn duration(d: Duration) -> String {
    tributary_confmap::duration::format(Duration::from_millis(d.as_millis() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_durations_read_like_the_go_collectors() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(timestamp(at), "2023-11-14T22:13:20.123Z");
        assert_eq!(duration(Duration::from_micros(90_250_700)), "1m30.25s");
        assert_eq!(duration(Duration::ZERO), "0s");
    }

    #[test]
    fn the_go_fields_come_first_and_absent_details_are_left_out() {
        let report = HealthReport {
            status: NOT_AVAILABLE,
            up_since: None,
            uptime: None,
            healthy: false,
            running: false,
            problems: vec!["the collector is starting".into()],
            warnings: vec![],
            pipelines: BTreeMap::new(),
            components: ComponentReports::default(),
            last_reload: None,
        };
        assert_eq!(
            report.to_json(),
            r#"{"status":"Server not available","healthy":false,"running":false,"problems":["the collector is starting"],"warnings":[],"pipelines":{},"components":{},"last_reload":null}"#
        );
    }
}
