//! What `/debug/tracez` shows: per span name, counts by latency bucket and of errors, and
//! a few recent samples of each.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use crate::telemetry::{FinishedSpan, SpanSink};

/// The lower bounds of the latency buckets, as in Go's zpages: 0, 10µs, 100µs, 1ms, 10ms,
/// 100ms, 1s, 10s, 100s.
pub(crate) const BUCKETS: [Duration; 9] = [
    Duration::ZERO,
    Duration::from_micros(10),
    Duration::from_micros(100),
    Duration::from_millis(1),
    Duration::from_millis(10),
    Duration::from_millis(100),
    Duration::from_secs(1),
    Duration::from_secs(10),
    Duration::from_secs(100),
];

/// Samples kept per bucket and of errors, per span name.
const SAMPLES: usize = 5;
/// Span names tracked at most; spans of further names are counted as `overflow`.
const MAX_NAMES: usize = 1024;

/// One span name's counts and samples.
#[derive(Default)]
pub(crate) struct NameSummary {
    pub latency: [u64; BUCKETS.len()],
    pub errors: u64,
    pub latency_samples: [VecDeque<FinishedSpan>; BUCKETS.len()],
    pub error_samples: VecDeque<FinishedSpan>,
}

fn bucket(duration: Duration) -> usize {
    BUCKETS
        .iter()
        .rposition(|low| duration >= *low)
        .unwrap_or(0)
}

fn keep(samples: &mut VecDeque<FinishedSpan>, span: &FinishedSpan) {
    if samples.len() == SAMPLES {
        samples.pop_front();
    }
    samples.push_back(span.clone());
}

/// The store the tracer feeds while zpages runs: bounded by [`MAX_NAMES`] and [`SAMPLES`].
#[derive(Default)]
pub(crate) struct SpanStore {
    names: Mutex<BTreeMap<String, NameSummary>>,
    overflow: std::sync::atomic::AtomicU64,
}

impl SpanStore {
    /// Runs `read` over the summaries, by name.
    pub(crate) fn read<R>(&self, read: impl FnOnce(&BTreeMap<String, NameSummary>) -> R) -> R {
        read(&self.names.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Spans not tracked because [`MAX_NAMES`] names already were.
    pub(crate) fn overflow(&self) -> u64 {
        self.overflow.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl SpanSink for SpanStore {
    fn on_end(&self, span: &FinishedSpan) {
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        if !names.contains_key(&span.name) && names.len() >= MAX_NAMES {
            self.overflow
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return;
        }
        let summary = names.entry(span.name.clone()).or_default();
        if span.error.is_some() {
            summary.errors += 1;
            keep(&mut summary.error_samples, span);
        } else {
            let b = bucket(span.duration());
            summary.latency[b] += 1;
            keep(&mut summary.latency_samples[b], span);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    fn span(name: &str, took: Duration, error: bool) -> FinishedSpan {
        let start = SystemTime::UNIX_EPOCH;
        let mut span = FinishedSpan::new(name, start, start + took);
        span.error = error.then(|| "boom".to_string());
        span
    }

    #[test]
    fn spans_fall_into_latency_buckets_or_errors_and_samples_are_bounded() {
        let store = SpanStore::default();
        store.on_end(&span("a", Duration::from_micros(5), false));
        store.on_end(&span("a", Duration::from_millis(5), false));
        store.on_end(&span("a", Duration::from_secs(200), false));
        for _ in 0..7 {
            store.on_end(&span("a", Duration::from_millis(1), true));
        }
        store.read(|names| {
            let a = &names["a"];
            assert_eq!(a.latency, [1, 0, 0, 1, 0, 0, 0, 0, 1]);
            assert_eq!(a.errors, 7);
            assert_eq!(a.error_samples.len(), SAMPLES);
        });
    }

    #[test]
    fn names_beyond_the_limit_are_counted_not_kept() {
        let store = SpanStore::default();
        for i in 0..MAX_NAMES + 3 {
            store.on_end(&span(&format!("n{i}"), Duration::ZERO, false));
        }
        assert_eq!(store.read(BTreeMap::len), MAX_NAMES);
        assert_eq!(store.overflow(), 3);
    }
}
