//! The load: workers that send pool bodies, each with one request in flight, over their own
//! connection or (gRPC, `connections` set) over a few shared HTTP/2 connections, paced to a
//! rate or as fast as the pipeline answers, and what they achieved.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::histogram::LatencyHistogram;
use crate::requests::RequestPool;
use crate::transport::{Connection, SendError, Target};

/// How hard to push.
#[derive(Clone, Debug)]
pub struct LoadPlan {
    pub workers: usize,
    /// Items per second over all workers; 0 sends as fast as the pipeline answers.
    pub rate: f64,
    /// How long to send; `None` sends until cancelled.
    pub duration: Option<Duration>,
    /// gRPC only: the workers share this many HTTP/2 connections, so many requests can be
    /// in flight without as many connections; `None`: one connection per worker.
    pub connections: Option<usize>,
    /// After a refusal that asks for a delay (gRPC `RetryInfo`, HTTP `Retry-After`), the
    /// worker waits that long before its next request, as OpenTelemetry SDKs do.
    pub honor_retry: bool,
}

/// HTTP/2 connections shared by workers: slot `i % len` serves worker `i`. A slot holds
/// the connection (and so its driver) with a generation, so that a worker reporting a
/// broken connection does not close a newer one another worker has opened since.
struct SharedConnections {
    slots: Vec<tokio::sync::Mutex<(u64, Option<Connection>)>>,
}

impl SharedConnections {
    fn new(count: usize) -> Self {
        SharedConnections {
            slots: (0..count.max(1))
                .map(|_| tokio::sync::Mutex::new((0, None)))
                .collect(),
        }
    }

    /// A share of worker `worker`'s connection, opened if there is none, and its generation.
    async fn share(&self, worker: usize, target: &Target) -> Result<(Connection, u64), SendError> {
        let mut slot = self.slots[worker % self.slots.len()].lock().await;
        if slot.1.is_none() {
            slot.0 += 1;
            slot.1 = Some(Connection::open(target).await?);
        }
        let shared = slot.1.as_ref().and_then(Connection::share).ok_or_else(|| {
            SendError::Protocol("only HTTP/2 (gRPC) connections can be shared".into())
        })?;
        Ok((shared, slot.0))
    }

    /// Closes worker `worker`'s connection if it is still generation `generation`.
    async fn broken(&self, worker: usize, generation: u64) {
        let mut slot = self.slots[worker % self.slots.len()].lock().await;
        if slot.0 == generation {
            slot.1 = None;
        }
    }
}

/// A pacing debt larger than this is forgiven rather than sent as a burst.
const MAX_BACKLOG: Duration = Duration::from_secs(1);
/// Pause before opening a connection again after it broke.
const RECONNECT_DELAY: Duration = Duration::from_millis(100);
/// Distinct error messages kept for the report.
const KEPT_ERRORS: usize = 5;

/// What a run achieved.
#[derive(Default)]
pub struct LoadReport {
    /// Items in requests the pipeline accepted, less those it said it rejected.
    pub sent_items: u64,
    /// Items the pipeline accepted the request of but reported rejected (partial success).
    pub rejected_items: u64,
    /// Items in requests that failed.
    pub failed_items: u64,
    pub ok_requests: u64,
    pub failed_requests: u64,
    pub elapsed: Duration,
    pub latency: LatencyHistogram,
    /// The first distinct errors, with how often each was seen.
    pub errors: Vec<(String, u64)>,
    /// Failed requests by kind (see `SendError::outcome`): refusals by status code.
    pub failures_by_outcome: BTreeMap<String, u64>,
}

impl LoadReport {
    fn merge(&mut self, other: LoadReport) {
        self.sent_items += other.sent_items;
        self.rejected_items += other.rejected_items;
        self.failed_items += other.failed_items;
        self.ok_requests += other.ok_requests;
        self.failed_requests += other.failed_requests;
        self.latency.merge(&other.latency);
        for (message, count) in other.errors {
            self.note_error(message, count);
        }
        for (outcome, count) in other.failures_by_outcome {
            *self.failures_by_outcome.entry(outcome).or_default() += count;
        }
    }

    fn note_error(&mut self, message: String, count: u64) {
        if let Some(entry) = self.errors.iter_mut().find(|(m, _)| *m == message) {
            entry.1 += count;
        } else if self.errors.len() < KEPT_ERRORS {
            self.errors.push((message, count));
        }
    }

    pub fn items_per_second(&self) -> f64 {
        self.per_second(self.sent_items)
    }

    /// Items in every request tried, accepted or not, per second: the load actually
    /// offered, which falls short of `--rate` when the workers cannot keep that many
    /// requests in flight.
    pub fn offered_items_per_second(&self) -> f64 {
        self.per_second(self.sent_items + self.rejected_items + self.failed_items)
    }

    fn per_second(&self, items: u64) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            items as f64 / seconds
        } else {
            0.0
        }
    }
}

/// Running totals every worker adds to, for progress lines.
#[derive(Default)]
pub struct Progress {
    pub sent_items: AtomicU64,
    pub failed_requests: AtomicU64,
}

/// Runs the plan until its duration is over or `cancel` fires.
pub async fn run(
    target: Arc<Target>,
    pool: Arc<RequestPool>,
    plan: &LoadPlan,
    progress: Arc<Progress>,
    cancel: CancellationToken,
) -> LoadReport {
    let started = Instant::now();
    let deadline = plan.duration.map(|d| started + d);
    let workers = plan.workers.max(1);
    // Each worker sends one request every `interval`, offset so the workers interleave.
    let interval = (plan.rate > 0.0).then(|| {
        Duration::from_secs_f64(pool.items_per_request() as f64 * workers as f64 / plan.rate)
    });
    let shared = plan
        .connections
        .map(|count| Arc::new(SharedConnections::new(count)));
    let handles: Vec<_> = (0..workers)
        .map(|worker| {
            let pacing = interval.map(|every| Pacing {
                next: started + every.mul_f64(worker as f64 / workers as f64),
                every,
            });
            let worker = Worker {
                target: Arc::clone(&target),
                pool: Arc::clone(&pool),
                progress: Arc::clone(&progress),
                cancel: cancel.clone(),
                deadline,
                pacing,
                index: worker,
                shared: shared.clone(),
                honor_retry: plan.honor_retry,
                // Spread the workers over the pool so they do not send the same bodies.
                cursor: worker * pool.size() / workers,
            };
            tokio::spawn(worker.run())
        })
        .collect();
    let mut report = LoadReport::default();
    for handle in handles {
        match handle.await {
            Ok(worker_report) => report.merge(worker_report),
            Err(e) => report.note_error(format!("worker stopped: {e}"), 1),
        }
    }
    report.elapsed = started.elapsed();
    report
}

struct Pacing {
    next: Instant,
    every: Duration,
}

struct Worker {
    target: Arc<Target>,
    pool: Arc<RequestPool>,
    progress: Arc<Progress>,
    cancel: CancellationToken,
    deadline: Option<Instant>,
    pacing: Option<Pacing>,
    index: usize,
    shared: Option<Arc<SharedConnections>>,
    honor_retry: bool,
    cursor: usize,
}

impl Worker {
    async fn run(mut self) -> LoadReport {
        let mut report = LoadReport::default();
        let mut connection: Option<Connection> = None;
        // The generation of the shared connection in use, if any.
        let mut generation = 0;
        let items = self.pool.items_per_request() as u64;
        loop {
            if self.cancel.is_cancelled() || self.deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            if let Some(pacing) = &mut self.pacing {
                let now = Instant::now();
                if pacing.next + MAX_BACKLOG < now {
                    pacing.next = now;
                }
                let wake = match self.deadline {
                    Some(deadline) if deadline < pacing.next => break,
                    _ => pacing.next,
                };
                tokio::select! {
                    () = tokio::time::sleep_until(wake) => {}
                    () = self.cancel.cancelled() => break,
                }
                pacing.next += pacing.every;
            }
            let conn = match &mut connection {
                Some(conn) => conn,
                None => match self.open().await {
                    Ok((conn, opened)) => {
                        generation = opened;
                        connection.insert(conn)
                    }
                    Err(error) => {
                        self.fail(&mut report, items, &error);
                        tokio::select! {
                            () = tokio::time::sleep(RECONNECT_DELAY) => {}
                            () = self.cancel.cancelled() => break,
                        }
                        continue;
                    }
                },
            };
            let body = self.pool.body(self.cursor);
            self.cursor = self.cursor.wrapping_add(1);
            let sent_at = Instant::now();
            match conn.send(&self.target, body).await {
                Ok(rejected) => {
                    report.latency.record(sent_at.elapsed());
                    let rejected = rejected.min(items);
                    report.ok_requests += 1;
                    report.sent_items += items - rejected;
                    report.rejected_items += rejected;
                    self.progress
                        .sent_items
                        .fetch_add(items - rejected, Ordering::Relaxed);
                }
                Err(error) => {
                    let pause = error.retry_after().filter(|_| self.honor_retry);
                    if error.breaks_connection() {
                        connection = None;
                        if let Some(shared) = &self.shared {
                            shared.broken(self.index, generation).await;
                        }
                    }
                    self.fail(&mut report, items, &error);
                    if let Some(pause) = pause {
                        tokio::select! {
                            () = tokio::time::sleep(pause) => {}
                            () = self.cancel.cancelled() => break,
                        }
                        // The slots missed while waiting are skipped, not sent in a burst.
                        if let Some(pacing) = &mut self.pacing {
                            pacing.next = pacing.next.max(Instant::now());
                        }
                    }
                }
            }
        }
        report
    }

    /// A connection of the worker's own, or a share of its slot's.
    async fn open(&self) -> Result<(Connection, u64), SendError> {
        match &self.shared {
            Some(shared) => shared.share(self.index, &self.target).await,
            None => Ok((Connection::open(&self.target).await?, 0)),
        }
    }

    fn fail(&self, report: &mut LoadReport, items: u64, error: &SendError) {
        report.failed_requests += 1;
        report.failed_items += items;
        report.note_error(error.to_string(), 1);
        *report
            .failures_by_outcome
            .entry(error.outcome())
            .or_default() += 1;
        self.progress
            .failed_requests
            .fetch_add(1, Ordering::Relaxed);
    }
}
