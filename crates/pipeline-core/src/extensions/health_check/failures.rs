//! `check_collector_pipeline`: how many items each exporter failed within a sliding window.
//!
//! The exporters count their failures in the collector's metrics
//! (`otelcol_exporter_send_failed_{spans,metric_points,log_records}` and
//! `otelcol_exporter_enqueue_failed_*`, labelled `exporter`). Those counters only grow, so
//! the window is a series of samples of each exporter's total: the failures within the
//! window are the latest total minus the total at the window's start.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::config::CheckCollectorPipeline;
use super::report;
use crate::component::ComponentId;
use crate::pdata::Signal;
use crate::telemetry::MetricsRegistry;

/// How often the exporters' failure counters are sampled.
pub(crate) const SAMPLE_PERIOD: Duration = Duration::from_secs(1);

/// Each exporter's failed items over the last `interval`.
pub(crate) struct ExporterFailures {
    interval: Duration,
    threshold: u64,
    /// Per exporter, (when, total failed items then), oldest first. The front is the
    /// newest sample taken at or before the window's start (or the first sample ever).
    samples: Mutex<BTreeMap<ComponentId, VecDeque<(Instant, u64)>>>,
}

impl ExporterFailures {
    pub(crate) fn new(config: &CheckCollectorPipeline) -> Self {
        ExporterFailures {
            interval: config.interval,
            threshold: config.exporter_failure_threshold,
            samples: Mutex::default(),
        }
    }

    /// Records each of `exporters`' failure totals as of `now`, and forgets exporters no
    /// longer listed.
    pub(crate) fn sample(
        &self,
        metrics: &MetricsRegistry,
        exporters: &BTreeSet<ComponentId>,
        now: Instant,
    ) {
        let window_start = now.checked_sub(self.interval);
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        samples.retain(|id, _| exporters.contains(id));
        for id in exporters {
            let series = samples.entry(id.clone()).or_default();
            series.push_back((now, failed_items(metrics, id)));
            if let Some(start) = window_start {
                while series.len() > 1 && series[1].0 <= start {
                    series.pop_front();
                }
            }
        }
    }

    /// Each exporter's failed items within the window, as of the latest sample.
    pub(crate) fn counts(&self) -> FailureCounts {
        let samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        let by_exporter = samples
            .iter()
            .filter_map(|(id, series)| {
                let (first, last) = (series.front()?.1, series.back()?.1);
                Some((id.clone(), last.saturating_sub(first)))
            })
            .collect();
        FailureCounts {
            by_exporter,
            interval: self.interval,
            threshold: self.threshold,
        }
    }
}

/// Each exporter's failed items within the window, and the limit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FailureCounts {
    /// Failed items per exporter; an exporter is listed from its first sample on.
    pub by_exporter: BTreeMap<ComponentId, u64>,
    pub interval: Duration,
    pub threshold: u64,
}

impl FailureCounts {
    /// What is wrong with `exporter`, if it failed more items than the threshold.
    pub(crate) fn excess(&self, exporter: &ComponentId) -> Option<String> {
        let failed = *self.by_exporter.get(exporter)?;
        (failed > self.threshold).then(|| {
            format!(
                "failed to export {failed} items within the last {} \
                 (check_collector_pipeline::exporter_failure_threshold is {})",
                report::duration(self.interval),
                self.threshold
            )
        })
    }
}

/// Every item `exporter` failed to send or to queue, over all signals, so far.
fn failed_items(metrics: &MetricsRegistry, exporter: &ComponentId) -> u64 {
    let id = exporter.to_string();
    let labels = [("exporter", id.as_str())];
    Signal::ALL
        .iter()
        .flat_map(|signal| {
            let item = signal.item_name();
            [
                format!("otelcol_exporter_send_failed_{item}"),
                format!("otelcol_exporter_enqueue_failed_{item}"),
            ]
        })
        .map(|name| metrics.sum(&name, &labels))
        .sum::<f64>() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::ExporterMetrics;

    fn id(s: &str) -> ComponentId {
        s.parse().unwrap()
    }

    #[test]
    fn counts_only_the_failures_within_the_window() {
        let metrics = MetricsRegistry::new();
        let otlp = ExporterMetrics::new(&metrics, &id("otlp"), Signal::Traces);
        let otlp_logs = ExporterMetrics::new(&metrics, &id("otlp"), Signal::Logs);
        let other = ExporterMetrics::new(&metrics, &id("debug"), Signal::Traces);
        let failures = ExporterFailures::new(&CheckCollectorPipeline {
            enabled: true,
            interval: Duration::from_secs(60),
            exporter_failure_threshold: 5,
        });
        let exporters: BTreeSet<ComponentId> = [id("otlp"), id("debug")].into();
        let t0 = Instant::now();

        // Failures before the first sample are history, not part of any window.
        otlp.send_failed.add(100);
        failures.sample(&metrics, &exporters, t0);
        let counts = failures.counts();
        assert_eq!(counts.by_exporter[&id("otlp")], 0);
        assert_eq!(counts.excess(&id("otlp")), None);

        otlp.send_failed.add(3);
        otlp_logs.enqueue_failed.add(3);
        other.send_failed.add(5);
        failures.sample(&metrics, &exporters, t0 + Duration::from_secs(10));
        let counts = failures.counts();
        assert_eq!(counts.by_exporter[&id("otlp")], 6);
        assert_eq!(counts.by_exporter[&id("debug")], 5);
        assert_eq!(counts.excess(&id("debug")), None, "5 is not more than 5");
        assert_eq!(
            counts.excess(&id("otlp")).unwrap(),
            "failed to export 6 items within the last 1m0s \
             (check_collector_pipeline::exporter_failure_threshold is 5)"
        );

        // A minute after those failures, they have left the window.
        failures.sample(&metrics, &exporters, t0 + Duration::from_secs(71));
        let counts = failures.counts();
        assert_eq!(counts.by_exporter[&id("otlp")], 0);
        assert_eq!(counts.excess(&id("otlp")), None);
    }

    #[test]
    fn forgets_exporters_that_are_gone() {
        let metrics = MetricsRegistry::new();
        let failures = ExporterFailures::new(&CheckCollectorPipeline::default());
        let now = Instant::now();
        failures.sample(&metrics, &[id("a"), id("b")].into(), now);
        failures.sample(&metrics, &[id("b")].into(), now);
        let samples = failures.samples.lock().unwrap();
        assert_eq!(samples.keys().collect::<Vec<_>>(), [&id("b")]);
    }
}
