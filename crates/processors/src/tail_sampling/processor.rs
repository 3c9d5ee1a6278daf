//! The tail sampler: spans are grouped by trace ID and held until `decision_wait` after
//! a trace's first span (checked on a timer tick), then the policies decide the whole
//! trace. At most `num_traces` traces are held: a new trace beyond that decides the
//! oldest one early. Decided trace IDs are remembered (the last `num_traces`, plus the
//! `decision_cache` LRUs) so late spans follow their trace's decision.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tributary_pipeline_core::component::{Component, ComponentError, CreateSettings, Host};
use tributary_pipeline_core::consumer::{Capabilities, ConsumeError, Consumer, Next};
use tributary_pipeline_core::pdata::Traces;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans};
use tributary_pipeline_core::telemetry::{Counter, Gauge};

use super::Config;
use super::policy::{Clock, Decision, Named, TraceView, build_all, final_decision};

type TraceId = [u8; 16];

/// A trace waiting for its decision.
struct Pending {
    pieces: Vec<ResourceSpans>,
    span_count: u64,
    bytes: u64,
    arrived: Instant,
}

/// Remembered decisions, bounded: insertion order with lazy removal.
struct Remembered {
    capacity: usize,
    map: HashMap<TraceId, (bool, u64)>,
    order: VecDeque<(TraceId, u64)>,
    stamp: u64,
}

impl Remembered {
    fn new(capacity: usize) -> Self {
        Remembered {
            capacity,
            map: HashMap::new(),
            order: VecDeque::new(),
            stamp: 0,
        }
    }

    /// The decision for `id`; `touch` refreshes it (an LRU cache) or not (a ring).
    fn get(&mut self, id: &TraceId, touch: bool) -> Option<bool> {
        let (sampled, stamp) = self.map.get_mut(id)?;
        let sampled = *sampled;
        if touch {
            self.stamp += 1;
            *stamp = self.stamp;
            self.order.push_back((*id, self.stamp));
            if self.order.len() > 4 * self.capacity + 16 {
                let map = &self.map;
                self.order
                    .retain(|(id, s)| map.get(id).is_some_and(|(_, cur)| cur == s));
            }
        }
        Some(sampled)
    }

    fn put(&mut self, id: TraceId, sampled: bool) {
        if self.capacity == 0 {
            return;
        }
        self.stamp += 1;
        self.map.insert(id, (sampled, self.stamp));
        self.order.push_back((id, self.stamp));
        while self.map.len() > self.capacity {
            let Some((old, stamp)) = self.order.pop_front() else {
                break;
            };
            if self.map.get(&old).is_some_and(|(_, s)| *s == stamp) {
                self.map.remove(&old);
            }
        }
    }
}

/// Everything behind the lock.
struct State {
    pending: HashMap<TraceId, Pending>,
    /// Pending trace IDs by arrival: decision_wait is the same for all, so the front is
    /// always the next due (and the one decided early).
    order: VecDeque<TraceId>,
    /// The last `num_traces` decisions (Go keeps decided traces in its map that long).
    recent: Remembered,
    sampled_cache: Remembered,
    non_sampled_cache: Remembered,
    policies: Vec<Named>,
    closed: bool,
}

/// The processor's metrics, with the Go Collector's names where Go has them.
struct Metrics {
    sampled: Counter,
    not_sampled: Counter,
    policy: Vec<(Counter, Counter)>,
    policy_errors: Counter,
    decided_early: Counter,
    late_sampled: Counter,
    late_dropped: Counter,
    on_memory: Gauge,
}

impl Metrics {
    fn new(settings: &CreateSettings, policies: &[Named]) -> Self {
        let registry = settings.metrics();
        let id = settings.id().to_string();
        let p = [("processor", id.as_str())];
        let global = "otelcol_processor_tail_sampling_global_count_traces_sampled";
        let global_help = "Count of traces that were sampled or not per sampling policy";
        let per = "otelcol_processor_tail_sampling_count_traces_sampled";
        Metrics {
            sampled: registry.counter(global, global_help, &[p[0], ("sampled", "true")]),
            not_sampled: registry.counter(global, global_help, &[p[0], ("sampled", "false")]),
            policy: policies
                .iter()
                .map(|n| {
                    let l = |s| [p[0], ("policy", n.name.as_str()), ("sampled", s)];
                    (
                        registry.counter(
                            per,
                            "Count of traces that were sampled or not per sampling policy",
                            &l("true"),
                        ),
                        registry.counter(
                            per,
                            "Count of traces that were sampled or not per sampling policy",
                            &l("false"),
                        ),
                    )
                })
                .collect(),
            policy_errors: registry.counter(
                "otelcol_processor_tail_sampling_sampling_policy_evaluation_error",
                "Count of sampling policy evaluation errors",
                &p,
            ),
            decided_early: registry.counter(
                "otelcol_processor_tail_sampling_sampling_traces_decided_early",
                "Count of traces decided before decision_wait because num_traces was reached",
                &p,
            ),
            late_sampled: registry.counter(
                "otelcol_processor_tail_sampling_late_spans",
                "Count of spans arriving after their trace was decided",
                &[p[0], ("sampled", "true")],
            ),
            late_dropped: registry.counter(
                "otelcol_processor_tail_sampling_late_spans",
                "Count of spans arriving after their trace was decided",
                &[p[0], ("sampled", "false")],
            ),
            on_memory: registry.gauge(
                "otelcol_processor_tail_sampling_sampling_traces_on_memory",
                "Tracks the number of traces currently on memory",
                &p,
            ),
        }
    }
}

/// State shared by the processor and its timer task.
struct Inner {
    state: Mutex<State>,
    next: Next<Traces>,
    decision_wait: Duration,
    tick: Duration,
    num_traces: usize,
    sample_on_first_match: bool,
    drop_pending_on_shutdown: bool,
    epoch: Instant,
    metrics: Metrics,
}

/// The `tail_sampling` processor for one pipeline.
pub(crate) struct TailSampler {
    inner: Arc<Inner>,
    timer: Mutex<Option<(CancellationToken, JoinHandle<()>)>>,
}

impl TailSampler {
    pub fn new(
        settings: &CreateSettings,
        config: &Config,
        next: Next<Traces>,
    ) -> Result<Self, String> {
        let policies = build_all(config).map_err(|e| e.to_string())?;
        let num_traces = usize::try_from(config.num_traces).unwrap_or(usize::MAX);
        let expected = config
            .expected_new_traces_per_sec
            .saturating_mul(config.decision_wait.as_secs().max(1));
        let capacity = usize::try_from(expected)
            .unwrap_or(usize::MAX)
            .min(num_traces);
        let metrics = Metrics::new(settings, &policies);
        Ok(TailSampler {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    pending: HashMap::with_capacity(capacity),
                    order: VecDeque::with_capacity(capacity),
                    recent: Remembered::new(num_traces),
                    sampled_cache: Remembered::new(
                        usize::try_from(config.decision_cache.sampled_cache_size)
                            .unwrap_or(usize::MAX),
                    ),
                    non_sampled_cache: Remembered::new(
                        usize::try_from(config.decision_cache.non_sampled_cache_size)
                            .unwrap_or(usize::MAX),
                    ),
                    policies,
                    closed: false,
                }),
                next,
                decision_wait: config.decision_wait,
                // Go checks once a second; a fraction of decision_wait keeps short waits honest.
                tick: (config.decision_wait / 5)
                    .clamp(Duration::from_millis(1), Duration::from_secs(1)),
                num_traces,
                sample_on_first_match: config.sample_on_first_match,
                drop_pending_on_shutdown: config.drop_pending_traces_on_shutdown,
                epoch: Instant::now(),
                metrics,
            }),
            timer: Mutex::new(None),
        })
    }
}

#[cfg(test)]
impl TailSampler {
    /// Traces held undecided now.
    pub fn pending(&self) -> usize {
        lock(&self.inner.state).pending.len()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A trace ID as 16 bytes (shorter ones zero-padded, as Go's fixed-size array).
fn trace_id(bytes: &[u8]) -> TraceId {
    let mut id = [0u8; 16];
    let n = bytes.len().min(16);
    id[..n].copy_from_slice(&bytes[..n]);
    id
}

/// Splits a request into one `ResourceSpans` per (resource, trace), with span counts.
fn split(request: ExportTraceServiceRequest) -> Vec<(TraceId, ResourceSpans, u64)> {
    let mut out = Vec::new();
    for rs in request.resource_spans {
        let mut by_trace: Vec<(TraceId, ResourceSpans, u64)> = Vec::new();
        let mut index: HashMap<TraceId, usize> = HashMap::new();
        for ss in rs.scope_spans {
            let mut scopes: HashMap<TraceId, ScopeSpans> = HashMap::new();
            let mut scope_order = Vec::new();
            for span in ss.spans {
                let id = trace_id(&span.trace_id);
                scopes
                    .entry(id)
                    .or_insert_with(|| {
                        scope_order.push(id);
                        ScopeSpans {
                            scope: ss.scope.clone(),
                            spans: Vec::new(),
                            schema_url: ss.schema_url.clone(),
                        }
                    })
                    .spans
                    .push(span);
            }
            for id in scope_order {
                let scope = scopes.remove(&id).expect("grouped above");
                let n = scope.spans.len() as u64;
                let i = *index.entry(id).or_insert_with(|| {
                    by_trace.push((
                        id,
                        ResourceSpans {
                            resource: rs.resource.clone(),
                            scope_spans: Vec::new(),
                            schema_url: rs.schema_url.clone(),
                        },
                        0,
                    ));
                    by_trace.len() - 1
                });
                by_trace[i].1.scope_spans.push(scope);
                by_trace[i].2 += n;
            }
        }
        out.extend(by_trace);
    }
    out
}

fn encoded_len(piece: &ResourceSpans) -> u64 {
    // As a field of the request: tag, length and body (Go's `TracesSize`).
    prost::encoding::message::encoded_len(1, piece) as u64
}

impl Inner {
    fn clock(&self) -> Clock {
        let now = Instant::now();
        Clock {
            second: now.saturating_duration_since(self.epoch).as_secs(),
            now,
        }
    }

    /// Decides the pending trace `id`: removes it, remembers the decision, and returns
    /// its spans if sampled.
    fn decide(&self, state: &mut State, id: TraceId, clock: Clock) -> Option<Vec<ResourceSpans>> {
        let mut trace = state.pending.remove(&id)?;
        let mut verdicts = Vec::with_capacity(state.policies.len());
        let mut view = TraceView {
            trace_id: &id,
            pieces: &mut trace.pieces,
            span_count: trace.span_count,
            bytes: trace.bytes,
        };
        for (i, named) in state.policies.iter_mut().enumerate() {
            let verdict = named.policy.evaluate(&mut view, clock);
            match verdict {
                Decision::Error => self.metrics.policy_errors.inc(),
                Decision::Sampled | Decision::InvertSampled => self.metrics.policy[i].0.inc(),
                _ => self.metrics.policy[i].1.inc(),
            }
            verdicts.push(verdict);
            if self.sample_on_first_match && verdict == Decision::Sampled {
                break;
            }
        }
        let sampled = final_decision(&verdicts);
        state.recent.put(id, sampled);
        if sampled {
            self.metrics.sampled.inc();
            state.sampled_cache.put(id, true);
            Some(trace.pieces)
        } else {
            self.metrics.not_sampled.inc();
            state.non_sampled_cache.put(id, false);
            None
        }
    }

    /// A decided trace's decision, if remembered.
    fn remembered(state: &mut State, id: &TraceId) -> Option<bool> {
        if let Some(d) = state.sampled_cache.get(id, true) {
            return Some(d);
        }
        if let Some(d) = state.non_sampled_cache.get(id, true) {
            return Some(d);
        }
        state.recent.get(id, false)
    }

    /// Decides every trace whose wait is over (all of them with `everything`).
    fn due(&self, everything: bool) -> Vec<ResourceSpans> {
        let clock = self.clock();
        let mut state = lock(&self.state);
        let mut out = Vec::new();
        while let Some(id) = state.order.front().copied() {
            let arrived = state.pending.get(&id).map(|t| t.arrived);
            if !everything
                && arrived
                    .is_some_and(|a| clock.now.saturating_duration_since(a) < self.decision_wait)
            {
                break;
            }
            state.order.pop_front();
            if let Some(pieces) = self.decide(&mut state, id, clock) {
                out.extend(pieces);
            }
        }
        self.metrics.on_memory.set(state.pending.len() as i64);
        out
    }

    /// Sends decided spans on; a failure is logged, as Go does (the callers that sent
    /// these spans were answered long ago).
    async fn send(&self, pieces: Vec<ResourceSpans>) {
        if pieces.is_empty() {
            return;
        }
        let request = Traces::new(ExportTraceServiceRequest {
            resource_spans: pieces,
        });
        if let Err(e) = self.next.consume(request).await {
            tracing::warn!(error = %e, "tail_sampling: sending sampled traces failed");
        }
    }

    async fn consume(&self, data: Traces) -> Result<(), ConsumeError> {
        let clock = self.clock();
        let mut late = Vec::new();
        let mut early = Vec::new();
        {
            let mut state = lock(&self.state);
            for (id, piece, spans) in split(data.into_request()) {
                if let Some(pending) = state.pending.get_mut(&id) {
                    pending.bytes += encoded_len(&piece);
                    pending.span_count += spans;
                    pending.pieces.push(piece);
                    continue;
                }
                match Self::remembered(&mut state, &id) {
                    Some(true) => {
                        self.metrics.late_sampled.add(spans);
                        late.push(piece);
                        continue;
                    }
                    Some(false) => {
                        self.metrics.late_dropped.add(spans);
                        continue;
                    }
                    None => {}
                }
                while state.pending.len() >= self.num_traces {
                    let Some(oldest) = state.order.pop_front() else {
                        break;
                    };
                    self.metrics.decided_early.inc();
                    if let Some(pieces) = self.decide(&mut state, oldest, clock) {
                        early.extend(pieces);
                    }
                }
                state.pending.insert(
                    id,
                    Pending {
                        bytes: encoded_len(&piece),
                        pieces: vec![piece],
                        span_count: spans,
                        arrived: clock.now,
                    },
                );
                state.order.push_back(id);
            }
            self.metrics.on_memory.set(state.pending.len() as i64);
            if state.closed {
                // After shutdown there is no timer: decide at once.
                let ids: Vec<TraceId> = state.order.drain(..).collect();
                for id in ids {
                    if let Some(pieces) = self.decide(&mut state, id, clock) {
                        early.extend(pieces);
                    }
                }
            }
        }
        self.send(early).await;
        if late.is_empty() {
            return Ok(());
        }
        self.next
            .consume(Traces::new(ExportTraceServiceRequest {
                resource_spans: late,
            }))
            .await
    }
}

#[async_trait]
impl Component for TailSampler {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        let mut timer = lock(&self.timer);
        if timer.is_some() {
            return Ok(());
        }
        let cancel = CancellationToken::new();
        let inner = self.inner.clone();
        let stop = cancel.clone();
        let handle = tokio::spawn(async move {
            let mut tick = tokio::time::interval(inner.tick);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tick.tick() => {
                        let due = inner.due(false);
                        inner.send(due).await;
                    }
                }
            }
        });
        *timer = Some((cancel, handle));
        Ok(())
    }

    /// Stops the timer and decides every pending trace with what arrived (or drops them
    /// with `drop_pending_traces_on_shutdown`), sending the sampled ones on.
    async fn shutdown(&self) -> Result<(), ComponentError> {
        let timer = lock(&self.timer).take();
        if let Some((cancel, handle)) = timer {
            cancel.cancel();
            let _ = handle.await;
        }
        lock(&self.inner.state).closed = true;
        if self.inner.drop_pending_on_shutdown {
            let mut state = lock(&self.inner.state);
            state.pending.clear();
            state.order.clear();
            self.inner.metrics.on_memory.set(0);
            return Ok(());
        }
        let due = self.inner.due(true);
        self.inner.send(due).await;
        Ok(())
    }
}

#[async_trait]
impl Consumer<Traces> for TailSampler {
    async fn consume(&self, data: Traces) -> Result<(), ConsumeError> {
        self.inner.consume(data).await
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { mutates_data: true }
    }
}
