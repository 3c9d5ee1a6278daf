//! The collector's own spans: one per receive and per export, as the Go Collector's
//! obsreport records them, handed to whoever listens (the OTLP span export of
//! `service::telemetry::traces`, the zpages extension).
//!
//! Spans are finished records, not live objects: an operation measures its start and end
//! and records the span once it is over, so the hot path costs one check of an atomic
//! flag when nobody listens.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::SystemTime;

use arc_swap::ArcSwap;

/// An attribute value of a [`FinishedSpan`].
#[derive(Clone, Debug, PartialEq)]
pub enum SpanValue {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
}

/// A span that has ended.
#[derive(Clone, Debug, PartialEq)]
pub struct FinishedSpan {
    /// `receiver/otlp/TraceDataReceived`, `exporter/otlp/traces`, ...
    pub name: String,
    /// Random, 16 bytes.
    pub trace_id: [u8; 16],
    /// Random, 8 bytes.
    pub span_id: [u8; 8],
    /// When the operation started.
    pub start: SystemTime,
    /// When it ended.
    pub end: SystemTime,
    /// Attributes, in the order recorded.
    pub attributes: Vec<(String, SpanValue)>,
    /// The error message, when the operation failed (status `Error`).
    pub error: Option<String>,
}

impl FinishedSpan {
    /// A new span with fresh random IDs.
    pub fn new(name: impl Into<String>, start: SystemTime, end: SystemTime) -> FinishedSpan {
        let (a, b) = (random_u64(), random_u64());
        let mut trace_id = [0; 16];
        trace_id[..8].copy_from_slice(&a.to_be_bytes());
        trace_id[8..].copy_from_slice(&b.to_be_bytes());
        FinishedSpan {
            name: name.into(),
            trace_id,
            span_id: random_u64().max(1).to_be_bytes(),
            start,
            end,
            attributes: Vec::new(),
            error: None,
        }
    }

    /// Adds a string attribute.
    pub fn with_str(mut self, key: &str, value: impl Into<String>) -> Self {
        self.attributes
            .push((key.to_string(), SpanValue::Str(value.into())));
        self
    }

    /// Adds an integer attribute.
    pub fn with_int(mut self, key: &str, value: i64) -> Self {
        self.attributes
            .push((key.to_string(), SpanValue::Int(value)));
        self
    }

    /// How long the operation took.
    pub fn duration(&self) -> std::time::Duration {
        self.end.duration_since(self.start).unwrap_or_default()
    }
}

/// Random bits from the standard library's per-instance random hash keys, mixed with a
/// counter: enough to tell spans apart, with no further dependency.
fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}

/// Receives every span the collector records. Called on the recording task: keep it
/// short and never block (queue the span and return).
pub trait SpanSink: Send + Sync {
    /// One finished span.
    fn on_end(&self, span: &FinishedSpan);
}

type Sinks = Vec<(u64, Arc<dyn SpanSink>)>;

#[derive(Default)]
struct TracerState {
    enabled: AtomicBool,
    sinks: ArcSwap<Sinks>,
    next_id: AtomicU64,
}

/// The collector's tracer: records [`FinishedSpan`]s and hands them to the registered
/// [`SpanSink`]s. Cheap to clone; every clone is the same tracer. It records nothing until
/// [`set_enabled`](Tracer::set_enabled) (the service does that unless
/// `service::telemetry::traces::level` is `none`) and while no sink listens.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::SystemTime;
/// use tributary_pipeline_core::telemetry::{FinishedSpan, SpanSink, Tracer};
///
/// struct Names(Mutex<Vec<String>>);
/// impl SpanSink for Names {
///     fn on_end(&self, span: &FinishedSpan) {
///         self.0.lock().unwrap().push(span.name.clone());
///     }
/// }
/// let tracer = Tracer::default();
/// tracer.set_enabled(true);
/// let names = Arc::new(Names(Mutex::new(Vec::new())));
/// let registration = tracer.add_sink(names.clone());
/// let now = SystemTime::now();
/// tracer.record(|| FinishedSpan::new("exporter/otlp/traces", now, now));
/// drop(registration);
/// tracer.record(|| FinishedSpan::new("not seen", now, now));
/// assert_eq!(*names.0.lock().unwrap(), ["exporter/otlp/traces"]);
/// ```
#[derive(Clone, Default)]
pub struct Tracer {
    state: Arc<TracerState>,
}

impl std::fmt::Debug for Tracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracer")
            .field("enabled", &self.state.enabled.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Keeps a [`SpanSink`] registered; dropping it unregisters the sink.
#[must_use = "the sink is unregistered when this is dropped"]
pub struct SinkRegistration {
    tracer: Tracer,
    id: u64,
}

impl Drop for SinkRegistration {
    fn drop(&mut self) {
        let id = self.id;
        self.tracer.state.sinks.rcu(|sinks| {
            sinks
                .iter()
                .filter(|(i, _)| *i != id)
                .cloned()
                .collect::<Sinks>()
        });
    }
}

impl Tracer {
    /// Turns recording on or off.
    pub fn set_enabled(&self, enabled: bool) {
        self.state.enabled.store(enabled, Ordering::Relaxed);
    }

    /// Whether a span recorded now would reach a sink.
    pub fn is_recording(&self) -> bool {
        self.state.enabled.load(Ordering::Relaxed) && !self.state.sinks.load().is_empty()
    }

    /// Registers `sink` until the returned registration is dropped.
    pub fn add_sink(&self, sink: Arc<dyn SpanSink>) -> SinkRegistration {
        let id = self.state.next_id.fetch_add(1, Ordering::Relaxed);
        self.state.sinks.rcu(|sinks| {
            let mut sinks: Sinks = sinks.iter().cloned().collect();
            sinks.push((id, Arc::clone(&sink)));
            sinks
        });
        SinkRegistration {
            tracer: self.clone(),
            id,
        }
    }

    /// Records the span `make` builds, if anyone listens (`make` is not called otherwise).
    pub fn record(&self, make: impl FnOnce() -> FinishedSpan) {
        if !self.state.enabled.load(Ordering::Relaxed) {
            return;
        }
        let sinks = self.state.sinks.load();
        if sinks.is_empty() {
            return;
        }
        let span = make();
        for (_, sink) in sinks.iter() {
            sink.on_end(&span);
        }
    }
}
